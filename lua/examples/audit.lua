-- SPDX-License-Identifier: MIT
-- audit.lua: run a command and flag what a careful reviewer would ask about:
--   * files written, created, deleted or renamed outside the working directory and /tmp
--   * network attempts to anything but loopback (unix sockets are local: not flagged)
--   * programs executed from a writable directory: one that is group- or world-writable, or
--     under /tmp, /var/tmp or /dev/shm, or (when not root) one the user can write to
-- usage: glasshouse script audit.lua [-o RECEIPT] -- CMD [ARGS...]
-- Exits 3 when anything was flagged (findings on stderr), else with the command's status.
local gh = require "glasshouse"

local out = "receipt.json"
local i = 1
while arg[i] do
  if arg[i] == "-o" and arg[i + 1] then out, i = arg[i + 1], i + 2
  else gh.usage_error("audit.lua: unknown argument '" .. arg[i] .. "' (usage: audit.lua [-o FILE] -- CMD)") end
end
if not gh.command or #gh.command == 0 then gh.usage_error("audit.lua: no command after --") end

local cwd = gh.core.getcwd()
local function under(path, dir)
  return path == dir or path:sub(1, #dir + 1) == dir .. "/"
end
local function allowed_write(path)
  return under(path, cwd) or under(path, "/tmp") or path == "/dev/null" or under(path, "/dev/pts")
    or path == "/dev/tty"
end
local function loopback(dst)
  return dst:match("^127%.") or dst:match("^%[::1%]") or dst:match("^%[::ffff:127%.")
end

local findings, flagged = {}, {}
local function flag(kind, what)
  if flagged[kind .. "\0" .. what] then return end
  flagged[kind .. "\0" .. what] = true
  findings[#findings + 1] = { kind = kind, what = what }
end

local is_root = gh.core.getuid() == 0
local mode_cache = {}
local function writable_dir(dir)
  if under(dir, "/tmp") or under(dir, "/var/tmp") or under(dir, "/dev/shm") then return true end
  if mode_cache[dir] == nil then
    local f = io.popen("stat -L -c %a '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
    local m = f and tonumber(f:read("a"), 8) or 0
    if f then f:close() end
    mode_cache[dir] = (m & 0x12) ~= 0 -- g+w or o+w
  end
  return mode_cache[dir] or (not is_root and gh.core.access(dir, "w"))
end

local r = gh.run(gh.command, {
  output = out,
  extend = function(rc)
    local fs = rc.filesystem
    for _, list in ipairs({ fs.writes, fs.created, fs.deletes }) do
      for _, p in ipairs(list) do
        if not allowed_write(p) then flag("changed outside the working directory and /tmp", p) end
      end
    end
    for _, rn in ipairs(fs.renames) do
      if not allowed_write(rn.to) then flag("changed outside the working directory and /tmp", rn.to) end
    end
    for _, a in ipairs(rc.network.attempts) do
      if a.protocol ~= "unix" and not loopback(a.dst) then
        flag("network to a non-loopback address", a.dst .. " (" .. a.protocol .. ", " .. a.result .. ")")
      end
    end
    for _, p in ipairs(rc.process_tree) do
      local dir = type(p.exe) == "string" and p.exe:match("^(.*)/[^/]*$")
      if dir and dir ~= "" and writable_dir(dir) then
        flag("program run from a writable directory", p.exe)
      end
    end
    table.sort(findings, function(a, b) return a.kind .. a.what < b.kind .. b.what end)
    rc.audit = { findings = findings, flagged = #findings }
  end,
})
for _, f in ipairs(findings) do io.stderr:write("audit: ", f.kind, ": ", f.what, "\n") end
if #findings > 0 then return 3 end
return gh.exit_status(r)
