-- SPDX-License-Identifier: MIT
-- `glasshouse show [--color=WHEN] RECEIPT|ATTESTATION`: the receipt (or the one an attestation
-- names) for people (glasshouse.show), 80 columns.
local gh = require "glasshouse"
local args = require "glasshouse.args"
local show = require "glasshouse.show"

local opts, files = args.parse("show", arg, {
  color = function(o, v, flag, row) o.color = args.one_of(row.values, v, flag) end,
}, { interleaved = true })
if #files ~= 1 then
  gh.usage_error(string.format("show takes one receipt or attestation; got %d", #files))
end
local r, from = gh.read_receipt(files[1])
if not r then
  io.stderr:write("glasshouse: show: ", from, "\n")
  return 2
end
io.stdout:write(show.render(r, { color = gh.use_color(opts.color, io.stdout), from = from }))
return 0
