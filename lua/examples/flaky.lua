-- SPDX-License-Identifier: MIT
-- flaky.lua: run a command N times and report what differs between the runs (nondeterminism):
-- each run after the first is compared with the first by gh.diff. Exits 0 when every run did
-- the same, 1 when some differed.
-- usage: glasshouse script flaky.lua [N] -- CMD [ARGS...]     (N defaults to 3)
local gh = require "glasshouse"
local diff = require "glasshouse.diff"

local n = math.tointeger(tonumber(arg[1] or "3"))
if not n or n < 2 then gh.usage_error("flaky.lua: N must be a whole number of 2 or more") end
if not gh.command then gh.usage_error("flaky.lua: no command given (after --)") end

local first
local differed = 0
for i = 1, n do
  local r = gh.run(gh.command, { output = false, quiet = i > 1 })
  if not first then
    first = r
  else
    local d = gh.diff(first, r)
    if not d.same then
      differed = differed + 1
      io.stdout:write(string.format("run %d differs from run 1:\n", i))
      io.stdout:write(diff.render(d, { color = gh.use_color(nil, io.stdout) }))
    end
  end
end
io.stdout:write(string.format("%d of %d runs differed from the first\n", differed, n - 1))
return differed == 0 and 0 or 1
