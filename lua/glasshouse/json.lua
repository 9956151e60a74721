-- SPDX-License-Identifier: MIT
-- glasshouse.json: ordered, lossless JSON encoding (C) and decoding (lua-cjson).
local core = require "glasshouse.core"

local M = {}

--- The JSON null; equal to cjson.null.
M.null = core.null

local ARRAY = { __jsontype = "array" }

--- Mark t (or a new table) as a JSON array, so an empty one encodes as [].
function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

--- Mark t as a JSON object whose keys in `order` come first, in that order; the rest sorted.
function M.object(t, order)
  return setmetatable(t or {}, { __jsontype = "object", __jsonorder = order })
end

--- fields{{"a", va}, {"b", vb}, ...} -> an object with these keys in this order (a nil value
--- leaves its key out). The receipt declares each of its objects once, as such a list.
function M.fields(list)
  local t, order = {}, {}
  for i, kv in ipairs(list) do
    order[i] = kv[1]
    t[kv[1]] = kv[2]
  end
  return M.object(t, order)
end

--- encode(value [, {compact = true}]) -> text; 2-space indented unless compact.
function M.encode(v, opts)
  return core.json_encode(v, opts)
end

--- str(v) -> v when it is a string, else nil (null, absent); list(v) -> v when it is a table,
--- else {}: for reading decoded receipts, where any field may be missing or null.
function M.str(v)
  return type(v) == "string" and v or nil
end

function M.list(v)
  return type(v) == "table" and v or {}
end

--- decode(text) -> value; raises on malformed text. Byte escapes (\udc80..\udcff) become bytes.
function M.decode(text)
  if type(text) ~= "string" then
    error("json.decode: expected a string, got " .. type(text), 2)
  end
  local cjson = require "cjson"
  local ok, v = pcall(cjson.decode, core.json_unescape_bytes(text))
  if not ok then
    error("json.decode: " .. tostring(v), 2)
  end
  return v
end

return M
