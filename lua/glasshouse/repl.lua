-- SPDX-License-Identifier: MIT
-- glasshouse.repl: how the REPL shows values. Tables are printed with their nesting, keys
-- sorted; a table longer than M.max_items is cut with a count of what was left out.
local M = { max_items = 20, max_depth = 6 }

local function key_repr(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. (type(k) == "string" and string.format("%q", k) or tostring(k)) .. "]"
end

local function repr(v, indent, depth, seen)
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if seen[v] then return "<cycle>" end
  if depth >= M.max_depth then return "{...}" end
  seen[v] = true
  local keys, n = {}, #v
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "string" or type(a) == "number") then return a < b end
    return type(a) < type(b)
  end)
  if n == 0 and #keys == 0 then seen[v] = nil; return "{}" end
  local pad, parts, shown = indent .. "  ", {}, 0
  for i = 1, n do
    if shown == M.max_items then break end
    parts[#parts + 1] = pad .. repr(v[i], pad, depth + 1, seen)
    shown = shown + 1
  end
  for _, k in ipairs(keys) do
    if shown == M.max_items then break end
    parts[#parts + 1] = pad .. key_repr(k) .. " = " .. repr(v[k], pad, depth + 1, seen)
    shown = shown + 1
  end
  local total = n + #keys
  if total > shown then parts[#parts + 1] = pad .. string.format("... (%d more)", total - shown) end
  seen[v] = nil
  return "{\n" .. table.concat(parts, ",\n") .. "\n" .. indent .. "}"
end

--- pretty(v) -> string: v as the REPL shows it.
function M.pretty(v) return repr(v, "", 0, {}) end

--- show(...): print every value, one per line.
function M.show(...)
  for i = 1, select("#", ...) do print(M.pretty((select(i, ...)))) end
end

return M
