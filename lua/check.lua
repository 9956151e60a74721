-- SPDX-License-Identifier: MIT
-- `glasshouse check --policy FILE.lua [--events LOG] RECEIPT...`: the verdict of a policy on
-- saved receipts (or attestations), every violation one a line; with the run's event log, its
-- rules functions see the logged events (and without a receipt, the one replayed from the log
-- is judged). Exit 0 all pass, 3 one failed, 2 trouble, 125 a policy function raised.
local gh = require "glasshouse"
local args = require "glasshouse.args"

local opts, files = args.parse("check", arg, {
  policy = function(o, v)
    local p, err = gh.policy.load(v)
    if not p then gh.refuse(err) end
    o.policy = p
  end,
  events = function(o, v) o.events = v end,
}, { interleaved = true })
if not opts.policy then gh.usage_error("check needs --policy FILE.lua") end
do -- ./ is each receipt's working directory; ~ must be known now
  local cerr = opts.policy:context_error({ cwd = "/", home = os.getenv("HOME") })
  if cerr then gh.refuse(cerr) end
end
if opts.events and #files > 1 then
  gh.usage_error(string.format("check --events takes the receipt of the logged run, or none; "
    .. "got %d", #files))
end
if #files == 0 and not opts.events then gh.usage_error("check needs at least one receipt") end

local function trouble(msg)
  io.stderr:write("glasshouse: check: ", msg, "\n")
  return 2
end

local has_rules = opts.policy.spec.rules and #opts.policy.spec.rules > 0
local status = 0
-- One receipt judged: f, the file it came from (or the log) for the output; nil or trouble.
local function judge(f)
  local r, v, damage
  if f then
    local err
    r, err = gh.read_receipt(f)
    if not r then return trouble(err) end
  end
  if opts.events then
    v, r, damage = gh.policy_log(opts.policy, opts.events, r, f)
    if not v then return trouble(r) end
  else
    v = opts.policy:check(r)
  end
  f = f or opts.events
  io.stdout:write(f, ": ", table.concat(gh.policy_report(v), "\n"), "\n")
  if has_rules then
    io.stdout:write(f, not opts.events
      and ": rules functions skipped: a receipt holds no events (check --events LOG)"
      or f == opts.events and ": rules functions saw its events, the receipt is replayed from it"
      or (": rules functions saw the events of " .. opts.events), "\n")
  end
  if damage then
    io.stdout:write(f, ": note: ", damage, "; the verdict covers the events it holds\n")
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

if #files == 0 then return judge(nil) or status end
for _, f in ipairs(files) do
  local rc = judge(f)
  if rc then return rc end
end
return status
