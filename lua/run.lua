-- SPDX-License-Identifier: MIT
-- The standard receipt flow: `glasshouse run [OPTIONS] [--] CMD...` is this script.
local gh = require "glasshouse"

-- Options of run; the first word not starting with "-" starts the command.
local function parse(words)
  local opts = { backend_options = {} }
  local i = 1
  local function value(name)
    i = i + 1
    if words[i] == nil then gh.usage_error("option " .. name .. " needs a value") end
    return words[i]
  end
  while i <= #words do
    local w = words[i]
    local long, inline = w:match("^(%-%-[%w-]+)=(.*)$")
    if long then w = long end
    local function val(name)
      if inline then return inline end
      return value(name)
    end
    if w == "--" then
      i = i + 1
      break
    elseif w:sub(1, 1) ~= "-" or w == "-" then
      break
    elseif w == "--guest" then
      opts.guest = true
    elseif w == "-o" or w == "--output" then
      opts.output = val(w)
      if opts.output == "" then gh.usage_error("option " .. w .. " needs a file name, got ''") end
    elseif w == "--backend" then
      opts.backend = val(w)
    elseif w == "--backend-opt" then
      local kv = val(w)
      local k, v = gh.core.parse_kv(kv)
      if not k then gh.usage_error("--backend-opt needs KEY=VALUE, got '" .. kv .. "'") end
      opts.backend_options[k] = v
    else
      gh.usage_error("unknown option '" .. words[i] .. "'")
    end
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
if opts.backend and opts.backend ~= "process" and opts.backend ~= "firecracker" then
  gh.usage_error("unknown backend '" .. opts.backend .. "' (known: process, firecracker)")
end
opts.backend_options.guest = opts.guest

local receipt, werr = gh.run(cmd, {
  output = opts.output or "receipt.json",
  backend = opts.backend,
  backend_options = opts.backend_options,
})
-- A command that could not start (a missing program, a backend setting) says why in one line.
if not gh.last.started then io.stderr:write("glasshouse: ", receipt.outcome.error, "\n") end
if werr then
  io.stderr:write("glasshouse: ", werr, "\n")
  return 125
end
return gh.exit_status(receipt)
