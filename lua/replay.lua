-- SPDX-License-Identifier: MIT
-- `glasshouse replay EVENTS [-o RECEIPT] [--script FILE.lua [ARGS...]]`: the receipt of a logged
-- run, rebuilt from its event log alone, or a script whose gh.run reads the log.
local gh = require "glasshouse"
local replay = require "glasshouse.replay"

local flags = {}
for _, o in ipairs(require("glasshouse.cli").replay.options) do
  flags["--" .. o.long] = o.long
  if o.short then flags["-" .. o.short] = o.long end
end

local function parse(words)
  local opts, i = { output = "receipt.json" }, 1
  while i <= #words do
    local w = words[i]
    local long, inline = w:match("^(%-%-[%w-]+)=(.*)$")
    local o = flags[long or w]
    if w:sub(1, 1) ~= "-" or w == "-" then
      if opts.events then gh.usage_error("unexpected argument '" .. w .. "'") end
      opts.events = w
    elseif not o then
      gh.usage_error("unknown option '" .. w .. "'")
    else
      local v = inline
      if not v then
        i = i + 1
        v = words[i]
      end
      if v == nil or v == "" then gh.usage_error("option " .. (long or w) .. " needs a file name") end
      opts[o] = v
      if o == "script" then
        opts.args = table.move(words, i + 1, #words, 1, {})
        break
      end
    end
    i = i + 1
  end
  if not opts.events then gh.usage_error("no event log given") end
  return opts
end

local opts = parse(table.move(arg, 1, #arg, 1, {}))

-- A policy judges the log's events and the rebuilt receipt as run --policy judges a run.
local hooks, verdict = { output = opts.output }, function() end
if opts.policy then
  if opts.script then gh.usage_error("--policy and --script: a script loads its own policy") end
  local p, err = gh.policy.load(opts.policy)
  if not p then gh.refuse(err) end
  local h, herr, hstatus = replay.header(opts.events)
  if not h then
    io.stderr:write("glasshouse: ", herr, "\n")
    return hstatus
  end
  local judge
  local ctx = { cwd = h.cwd, home = os.getenv("HOME") }
  local cerr = p:context_error(ctx)
  if cerr then gh.refuse(cerr) end
  judge, verdict = gh.policy_hooks(p, ctx)
  hooks.on_event, hooks.extend = judge.on_event, judge.extend
end

if not opts.script then
  local r, werr, status, msg = replay.run(opts.events, hooks)
  if msg then io.stderr:write("glasshouse: ", msg, "\n") end
  if r and werr then
    io.stderr:write("glasshouse: ", werr, "\n")
    return 125
  end
  return gh.policy_status(verdict(), status)
end

-- A script: gh.command is the logged argv, and gh.run replays the log with the script's hooks.
local h, herr, hstatus = replay.header(opts.events)
if not h then
  io.stderr:write("glasshouse: ", herr, "\n")
  return hstatus
end
gh.command = h.argv
local damaged
gh.run = function(_, hooks)
  local r, werr, status, msg = replay.run(opts.events, hooks)
  if status ~= 0 then damaged = msg end
  return r, werr
end
local chunk, lerr = loadfile(opts.script)
if not chunk then error(lerr, 0) end
arg = opts.args
arg[0] = opts.script
local rv = chunk(table.unpack(opts.args))
if damaged then
  io.stderr:write("glasshouse: ", damaged, "\n")
  if math.type(rv) ~= "integer" then return 1 end
end
return math.type(rv) == "integer" and rv or 0
