-- SPDX-License-Identifier: MIT
-- enrich.lua: run a command and add provenance to its receipt: `host` (name, kernel, user)
-- and `git` (commit, branch, dirty) for the working directory when it is in a git checkout.
-- usage: glasshouse script enrich.lua [-o RECEIPT] -- CMD [ARGS...]
local gh = require "glasshouse"

local out = (arg[1] == "-o" and arg[2]) or "receipt.json"

local function capture(cmd)
  local f = io.popen(cmd .. " 2>/dev/null")
  if not f then return nil end
  local s = f:read("a")
  local ok = f:close()
  s = s and s:gsub("%s+$", "")
  if not ok or s == "" then return nil end
  return s
end

local r = gh.run(gh.command, {
  output = out,
  extend = function(rc)
    local u = gh.core.uname()
    rc.host = gh.json.object({
      name = u.nodename,
      kernel = u.release,
      user = os.getenv("USER") or capture("id -un") or gh.json.null,
    }, { "name", "kernel", "user" })
    local commit = capture("git rev-parse HEAD")
    if commit then
      rc.git = gh.json.object({
        commit = commit,
        branch = capture("git rev-parse --abbrev-ref HEAD") or gh.json.null,
        dirty = capture("git status --porcelain") ~= nil,
      }, { "commit", "branch", "dirty" })
    else
      rc.git = gh.json.null
    end
  end,
})
return gh.exit_status(r)
