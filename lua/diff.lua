-- SPDX-License-Identifier: MIT
-- `glasshouse diff [--json] [--ignore GLOB]... [--color=WHEN] [--all] OLD NEW`: what changed
-- between two receipts (gh.diff); exits as diff(1) does: 0 the same, 1 different, 2 trouble.
local gh = require "glasshouse"
local args = require "glasshouse.args"
local diff = require "glasshouse.diff"

local opts, files = args.parse("diff", arg, {
  json = function(o) o.json = true end,
  ignore = function(o, v)
    o.ignore = o.ignore or {}
    o.ignore[#o.ignore + 1] = v
  end,
  color = function(o, v, flag, row) o.color = args.one_of(row.values, v, flag) end,
  all = function(o) o.all = true end,
}, { interleaved = true })
if #files ~= 2 then
  gh.usage_error(string.format("diff takes two receipts, OLD and NEW; got %d", #files))
end

local function trouble(msg)
  io.stderr:write("glasshouse: diff: ", msg, "\n")
  return 2
end

local receipts = {}
for i, f in ipairs(files) do
  local r, err = gh.read_receipt(f)
  if not r then return trouble(err) end
  receipts[i] = r
end
local ok, result = pcall(gh.diff, receipts[1], receipts[2],
  { all = opts.all, ignore = opts.ignore })
if not ok then return trouble(tostring(result):gsub("^glasshouse%.diff: ", "")) end

if opts.json then
  io.stdout:write(gh.json.encode(diff.to_json(result)), "\n")
elseif not result.same or #result.notes > 0 then
  local color = gh.use_color(opts.color, io.stdout)
  if not result.same then io.stdout:write("--- ", files[1], "\n+++ ", files[2], "\n") end
  io.stdout:write(diff.render(result, { color = color }))
end
return result.same and 0 or 1
