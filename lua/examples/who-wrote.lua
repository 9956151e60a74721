-- SPDX-License-Identifier: MIT
-- who-wrote.lua: every process that wrote PATH (opened it for writing, created, renamed or
-- linked onto it, removed it), when, and the command line it was running. Made for saved runs:
--   glasshouse run --events build.jsonl -- make
--   glasshouse replay build.jsonl --script who-wrote.lua out/app.bin
-- (it works live too: glasshouse script who-wrote.lua PATH -- CMD...). PATH is absolute, or
-- relative to the directory the command ran in. Exits 0 when something wrote it, else 1.
local gh = require "glasshouse"

local want = arg[1]
if not want or want == "" then gh.usage_error("who-wrote.lua: which file? (who-wrote.lua PATH)") end

local argv = {}  -- pid -> its command line, as its last exec (or its parent's) left it
local first      -- the first event's time: offsets count from it
local hits = {}

local function what(ev, path)
  if ev.error then return nil end
  if ev.kind == "open" and ev.write and ev.path == path then
    return ev.created and "created" or "opened for writing"
  elseif (ev.kind == "rename" or ev.kind == "link") and ev.to == path then
    return (ev.kind == "rename" and "renamed onto it from " or "linked it from ") .. ev.from
  elseif ev.kind == "rename" and ev.from == path then
    return "renamed it to " .. ev.to
  elseif (ev.kind == "mkdir" or ev.kind == "mknod" or ev.kind == "symlink") and ev.path == path then
    return ev.kind
  elseif ev.kind == "unlink" and ev.path == path then
    return "removed"
  end
end

local path
gh.run(gh.command, {
  output = false,
  on_event = function(ev)
    first = first or ev.time_ns
    if ev.kind == "fork" then
      argv[ev.pid] = argv[ev.parent] or argv[ev.ppid]
    elseif ev.kind == "exec" then
      argv[ev.pid] = table.concat(ev.argv, " ")
      if not path then -- the command's own exec: relative names are from where it ran
        path = want:sub(1, 1) == "/" and want or (ev.cwd .. "/" .. want:gsub("^%./", ""))
      end
    end
    local w = path and what(ev, path)
    if w then
      hits[#hits + 1] = string.format("+%.3f ms  pid %d  %s  (%s)", (ev.time_ns - first) / 1e6,
        ev.pid, w, argv[ev.pid] or "?")
    end
  end,
})

print(string.format("%s: %d write%s", path or want, #hits, #hits == 1 and "" or "s"))
for _, h in ipairs(hits) do print(h) end
return #hits > 0 and 0 or 1
