-- SPDX-License-Identifier: MIT
-- The standard receipt flow: `glasshouse run [OPTIONS] [--] CMD...` is this script.
local gh = require "glasshouse"

-- What each option of run does, under its long name. The options themselves (flags, value,
-- help) are rows of the subcommand table in src/cli/commands.c, which help, the man page and
-- completion checks read too: an option is added there and handled here.
local handle = {
  output = function(opts, v, flag)
    if v == "" then gh.usage_error("option " .. flag .. " needs a file name, got ''") end
    opts.output = v
  end,
  guest = function(opts) opts.guest = true end,
  events = function(opts, v, flag)
    if v == "" then gh.usage_error("option " .. flag .. " needs a file name, got ''") end
    opts.events = v
  end,
  materials = function(opts) opts.materials = true end,
  sign = function(opts, v) opts.sign = v end,
  attestation = function(opts, v, flag)
    if v == "" then gh.usage_error("option " .. flag .. " needs a file name, got ''") end
    opts.attestation = v
  end,
  summary = function(opts) opts.summary = true end,
  policy = function(opts, v)
    local p, err = gh.policy.load(v)
    if not p then gh.refuse(err) end
    opts.policy = p
  end,
  enforce = function(opts) opts.enforce = true end,
  backend = function(opts, v) opts.backend = v end,
  user = function(opts, v) opts.user = v end,
  network = function(opts, v)
    if v ~= "host" and v ~= "none" and v ~= "loopback" then
      gh.usage_error("--network must be host, none or loopback, got '" .. v .. "'")
    end
    opts.network = v
  end,
  ["wait-all"] = function(opts, v, flag)
    opts.wait_all = true
    if v == nil then return end
    -- Plain decimal seconds: "2", "2.5", ".5"; not tonumber's "0x10", "1e3", "inf" or " 2".
    local n = (v:match("^%d+$") or v:match("^%d*%.%d+$")) and tonumber(v)
    if not n or n > 1e9 then
      gh.usage_error(string.format("option %s takes a number of seconds from 0 to 1e9 (such "
        .. "as 2.5), got '%s'", flag, v))
    end
    opts.wait_all = n
  end,
  ["backend-opt"] = function(opts, kv)
    local k, v = gh.core.parse_kv(kv)
    if not k then gh.usage_error("--backend-opt needs KEY=VALUE, got '" .. kv .. "'") end
    opts.backend_options[k] = v
  end,
}

local words = table.move(arg, 1, #arg, 1, {})
if gh.command then
  words[#words + 1] = "--"
  table.move(gh.command, 1, #gh.command, #words + 1, words)
end
local opts, cmd = require("glasshouse.args").parse("run", words, handle,
  { opts = { backend_options = {} } })
if #cmd == 0 then gh.usage_error("no command given") end
local backends -- the table's list is the list of known ones
for _, o in ipairs(require("glasshouse.cli").run.options) do
  if o.long == "backend" then backends = o.values end
end
local known = {}
for _, b in ipairs(backends) do known[b] = true end
if opts.backend and not known[opts.backend] then
  gh.usage_error("unknown backend '" .. opts.backend .. "' (known: " .. table.concat(backends, ", ") .. ")")
end
opts.backend_options.guest = opts.guest
if opts.attestation and not opts.sign then gh.usage_error("--attestation needs --sign KEY") end
-- The key is read and checked before the command starts: a bad one means it never runs.
local key
if opts.sign then
  local msg
  key, msg = gh.load_key(opts.sign, gh.invoking_uid())
  if not key then gh.usage_error("--sign: " .. msg) end
end
if opts.enforce and not opts.policy then gh.usage_error("--enforce needs --policy FILE.lua") end
if (opts.enforce or (opts.policy and opts.policy.enforce)) and (opts.backend_options.guest or
  (opts.backend and opts.backend ~= "process")) then
  gh.usage_error("enforcing a policy needs the process backend without --guest")
end

-- A policy judges the events as they come (its rules functions) and the receipt at the end;
-- enforced (--enforce or enforce = true), it stops the command at the first violation.
local judge, verdict = {}, function() end
if opts.policy then
  local ctx = { cwd = gh.core.getcwd(), home = os.getenv("HOME") }
  local cerr = opts.policy:context_error(ctx)
  if cerr then gh.refuse(cerr) end
  local enforcer = (opts.enforce or opts.policy.enforce) and
    require("glasshouse.enforce").new(opts.policy, ctx) or nil
  judge, verdict = gh.policy_hooks(opts.policy, ctx, enforcer)
end

-- An event log that cannot be opened stops the run before the command starts: one line, 125.
local function keep_traceback(e)
  if type(e) == "string" and not e:match("^cannot write ") then return debug.traceback(e, 2) end
  return e
end
local ok, receipt, werr = xpcall(gh.run, keep_traceback, cmd, {
  output = opts.output or "receipt.json",
  backend = opts.backend,
  backend_options = opts.backend_options,
  event_log = opts.events,
  user = opts.user,
  network = opts.network,
  wait_all = opts.wait_all,
  materials = opts.materials,
  sign = key,
  attestation = opts.attestation,
  on_event = judge.on_event,
  extend = judge.extend,
  enforce = judge.enforce,
})
if not ok and type(receipt) == "string" and receipt:match("^cannot write ") then
  io.stderr:write("glasshouse: ", receipt, "\n")
  return 125
elseif not ok then
  error(receipt, 0)
end
-- A command that could not start (a missing program, a backend setting) says why in one line.
if not gh.last.started then io.stderr:write("glasshouse: ", receipt.outcome.error, "\n") end
if opts.summary then
  local lines = require("glasshouse.show").header(receipt, { color = gh.use_color(nil, io.stderr) })
  io.stderr:write(table.concat(lines, "\n"), "\n")
end
if werr then
  io.stderr:write("glasshouse: ", werr, "\n")
  return 125
end
local v = verdict()
if v and not receipt.collector.complete then
  io.stderr:write("glasshouse: policy ", v.name, ": the collector was not complete (",
    tostring(receipt.collector.error), "): the verdict covers only what it saw\n")
end
return gh.policy_status(v, gh.exit_status(receipt))
