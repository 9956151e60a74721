-- SPDX-License-Identifier: MIT
-- glasshouse.args: the option parser of the built-in subcommands, driven by their rows of the
-- subcommand table (src/cli/commands.c, require "glasshouse.cli").
local M = {}

local function usage_error(msg)
  error({ glasshouse_usage = msg }, 0)
end

--- one_of(values, v, flag): v if it is one of the row's values, else a usage error.
function M.one_of(values, v, flag)
  for _, allowed in ipairs(values) do
    if allowed == v then return v end
  end
  usage_error(string.format("option %s takes %s, got '%s'", flag, table.concat(values, ", "), v))
end

--[[
parse(command, words, handle [, {interleaved = true, opts = {...}}]) -> opts, operands
handle[long](opts, value, flag, row) does what each option of `command`'s row means (opts starts
as how.opts or {}); every option of the row must have one. An option whose value is optional
(row.optional: --wait-all[=SECONDS]) takes it only after "=" in the same word, and gets nil
without one. Options end at "--"; without
interleaved, also at the first word that is not an option (run's command); with it, operands
and options may mix (diff OLD NEW --json).
]]
function M.parse(command, words, handle, how)
  local flags = {}
  for _, o in ipairs(require("glasshouse.cli")[command].options) do
    assert(handle[o.long], command .. " does not handle its option --" .. o.long)
    flags["--" .. o.long] = o
    if o.short then flags["-" .. o.short] = o end
  end
  local interleaved = how and how.interleaved
  local opts, operands = how and how.opts or {}, {}
  local i = 1
  while i <= #words do
    local w = words[i]
    local long, inline = w:match("^(%-%-[%w-]+)=(.*)$")
    local o = flags[long or w]
    if w == "--" then
      i = i + 1
      break
    elseif w:sub(1, 1) ~= "-" or w == "-" then
      if not interleaved then break end
      operands[#operands + 1] = w
    elseif not o then
      usage_error("unknown option '" .. w .. "'")
    elseif inline and not o.value then
      usage_error("option " .. long .. " takes no value")
    else
      local v = inline
      if o.value and not v and not o.optional then
        i = i + 1
        v = words[i]
        if v == nil then usage_error("option " .. w .. " needs a value") end
      end
      handle[o.long](opts, v, long or w, o)
    end
    i = i + 1
  end
  table.move(words, i, #words, #operands + 1, operands)
  return opts, operands
end

return M
