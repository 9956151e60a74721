-- SPDX-License-Identifier: MIT
-- top-files.lua: run a command and list on stderr the files opened by the most processes,
-- and the directories with the most distinct files touched, from the event stream.
-- usage: glasshouse script top-files.lua [N] -- CMD [ARGS...]     (N defaults to 10)
local gh = require "glasshouse"

local n = math.tointeger(tonumber(arg[1] or "10"))
if not n or n < 1 then gh.usage_error("top-files.lua: N must be a positive integer") end

local procs, dirs = {}, {}
local r = gh.run(gh.command, {
  output = os.getenv("RECEIPT") or "receipt.json",
  on_event = function(ev)
    if ev.kind == "open" and not ev.error then
      local p = procs[ev.path] or {}
      p[ev.pid] = true
      procs[ev.path] = p
      local d = ev.path:match("^(.*)/[^/]*$")
      if d == "" then d = "/" end
      local files = dirs[d] or {}
      files[ev.path] = true
      dirs[d] = files
    end
  end,
})

local function top(t, weigh)
  local list = {}
  for k, v in pairs(t) do
    local c = 0
    for _ in pairs(v) do c = c + 1 end
    list[#list + 1] = { k, c }
  end
  table.sort(list, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  return list
end
io.stderr:write("files opened by the most processes:\n")
for i, e in ipairs(top(procs)) do
  if i > n then break end
  io.stderr:write(string.format("  %4d  %s\n", e[2], e[1]))
end
io.stderr:write("directories with the most files opened:\n")
for i, e in ipairs(top(dirs)) do
  if i > n then break end
  io.stderr:write(string.format("  %4d  %s\n", e[2], e[1]))
end
return gh.exit_status(r)
