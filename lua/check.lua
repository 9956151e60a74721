-- SPDX-License-Identifier: MIT
-- `glasshouse check --policy FILE.lua RECEIPT...`: the verdict of a policy on saved receipts,
-- every violation one a line; exit 0 all pass, 3 one failed, 2 trouble, 125 a policy function
-- raised.
local gh = require "glasshouse"
local args = require "glasshouse.args"

local opts, files = args.parse("check", arg, {
  policy = function(o, v)
    local p, err = gh.policy.load(v)
    if not p then gh.usage_error(err) end
    o.policy = p
  end,
}, { interleaved = true })
if not opts.policy then gh.usage_error("check needs --policy FILE.lua") end
if #files == 0 then gh.usage_error("check needs at least one receipt") end

local status = 0
for _, f in ipairs(files) do
  local r, err = gh.read_receipt(f)
  if not r then
    io.stderr:write("glasshouse: check: ", err, "\n")
    return 2
  end
  local v = opts.policy:check(r)
  local lines = gh.policy_report(v)
  io.stdout:write(f, ": ", table.concat(lines, "\n"), "\n")
  if opts.policy.spec.rules and #opts.policy.spec.rules > 0 then
    io.stdout:write(f, ": rules functions skipped: a receipt holds no events\n")
  end
  if type(r.collector) ~= "table" or r.collector.complete ~= true then
    io.stdout:write(f, ": note: the collector was not complete; the verdict covers what it saw\n")
  end
  if v.verdict == "error" then
    status = 125
  elseif v.verdict == "fail" and status == 0 then
    status = 3
  end
end
return status
