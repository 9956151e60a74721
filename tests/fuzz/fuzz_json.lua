-- SPDX-License-Identifier: MIT
-- fuzz_json's checks, run by tests/fuzz/fuzz_json.c; an error starting "fuzz: " is a finding.
local json = require "glasshouse.json"

-- Same value, comparing tables by contents (decoded values hold no cycles).
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not same(v, rawget(b, k)) then return false end
  end
  for k in pairs(b) do
    if rawget(a, k) == nil then return false end
  end
  return true
end

local function clean(err, prefix)
  return type(err) == "string" and err:sub(1, #prefix) == prefix
end

-- What the encoder refuses on purpose in a value cjson can produce.
local function by_design(err)
  return clean(err, "json.encode: cannot encode NaN or infinity at ")
    or clean(err, "json.encode: tables nested more than 64 deep at ")
end

-- Whether the part of v the encoder walks holds a cycle: a marked array's other keys are not
-- written, so a cycle through them is no cycle here.
local function cyclic(v, open)
  if type(v) ~= "table" then return false end
  if open[v] then return true end
  open[v] = true
  local mt = debug.getmetatable(v)
  if mt and rawget(mt, "__jsontype") == "array" then
    for i = 1, rawlen(v) do
      if cyclic(rawget(v, i), open) then return true end
    end
  else
    for k, x in next, v do
      if cyclic(k, open) or cyclic(x, open) then return true end
    end
  end
  open[v] = nil
  return false
end

--- round_trip(text, compact): text decodes, or fails cleanly; what decodes survives encode+decode.
function round_trip(text, compact)
  local ok, x = pcall(json.decode, text)
  if not ok then
    if not clean(x, "json.decode: ") then error("fuzz: decode raised " .. tostring(x)) end
    return
  end
  local ok2, out = pcall(json.encode, x, { compact = compact })
  if not ok2 then
    if not by_design(out) then error("fuzz: encode refused " .. tostring(out)) end
    return
  end
  local ok3, y = pcall(json.decode, out)
  if not ok3 then error("fuzz: own output did not decode: " .. tostring(y)) end
  if not same(x, y) then error("fuzz: round trip changed the value: " .. out) end
end

--- encode_built(v, compact): v encodes to text that decodes, or is refused cleanly; a value
--- holding a cycle is always refused, and only such a value is refused for a cycle.
function encode_built(v, compact)
  local ok, out = pcall(json.encode, v, { compact = compact })
  local has_cycle = cyclic(v, {})
  if has_cycle and ok then error("fuzz: a cycle was encoded: " .. out) end
  if not ok then
    if not clean(out, "json.encode: ") then error("fuzz: encode raised " .. tostring(out)) end
    if out:find(": cycle at ", 1, true) and not has_cycle then
      error("fuzz: no cycle, yet " .. out)
    end
    return
  end
  local ok2, err = pcall(json.decode, out)
  if not ok2 then error("fuzz: own output did not decode: " .. tostring(err) .. "\n" .. out) end
end
