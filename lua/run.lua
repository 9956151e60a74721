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
  backend = function(opts, v) opts.backend = v end,
  ["backend-opt"] = function(opts, kv)
    local k, v = gh.core.parse_kv(kv)
    if not k then gh.usage_error("--backend-opt needs KEY=VALUE, got '" .. kv .. "'") end
    opts.backend_options[k] = v
  end,
}

local flags = {}
for _, o in ipairs(require("glasshouse.cli").run.options) do
  assert(handle[o.long], "run.lua does not handle its option --" .. o.long)
  flags["--" .. o.long] = o
  if o.short then flags["-" .. o.short] = o end
end

-- Options of run; the first word not starting with "-" starts the command.
local function parse(words)
  local opts = { backend_options = {} }
  local i = 1
  while i <= #words do
    local w = words[i]
    local long, inline = w:match("^(%-%-[%w-]+)=(.*)$")
    local o = flags[long or w]
    if w == "--" then
      i = i + 1
      break
    elseif w:sub(1, 1) ~= "-" or w == "-" then
      break
    elseif not o then
      gh.usage_error("unknown option '" .. w .. "'")
    elseif inline and not o.value then
      gh.usage_error("option " .. long .. " takes no value")
    end
    local v = inline
    if o.value and not v then
      i = i + 1
      v = words[i]
      if v == nil then gh.usage_error("option " .. w .. " needs a value") end
    end
    handle[o.long](opts, v, long or w)
    i = i + 1
  end
  return opts, table.move(words, i, #words, 1, {})
end

local words = table.move(arg, 1, #arg, 1, {})
if gh.command then
  words[#words + 1] = "--"
  table.move(gh.command, 1, #gh.command, #words + 1, words)
end
local opts, cmd = parse(words)
if #cmd == 0 then gh.usage_error("no command given") end
local backends = flags["--backend"].values -- the table's list is the list of known ones
local known = {}
for _, b in ipairs(backends) do known[b] = true end
if opts.backend and not known[opts.backend] then
  gh.usage_error("unknown backend '" .. opts.backend .. "' (known: " .. table.concat(backends, ", ") .. ")")
end
opts.backend_options.guest = opts.guest

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
})
if not ok and type(receipt) == "string" and receipt:match("^cannot write ") then
  io.stderr:write("glasshouse: ", receipt, "\n")
  return 125
elseif not ok then
  error(receipt, 0)
end
-- A command that could not start (a missing program, a backend setting) says why in one line.
if not gh.last.started then io.stderr:write("glasshouse: ", receipt.outcome.error, "\n") end
if werr then
  io.stderr:write("glasshouse: ", werr, "\n")
  return 125
end
return gh.exit_status(receipt)
