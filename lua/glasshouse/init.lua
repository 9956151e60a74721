-- SPDX-License-Identifier: MIT
-- glasshouse: the standard flow (run) on the primitives, and the primitives themselves.
local core = require "glasshouse.core"
local backend = require "glasshouse.backend"
local json = require "glasshouse.json"
local receipt = require "glasshouse.receipt"

local M = {
  version = core.version,
  core = core,
  backend = backend,
  json = json,
  receipt = receipt,
  sha256 = core.sha256,
  command = nil, -- set by `glasshouse script` to the command after --
}

--- usage_error(msg): stop the script as a usage error (glasshouse prints usage, exits 2).
function M.usage_error(msg)
  error({ glasshouse_usage = msg }, 0)
end

local function check_argv(argv)
  if type(argv) ~= "table" or #argv == 0 then
    error("glasshouse.run: argv must be a non-empty list of strings", 3)
  end
  for i, a in ipairs(argv) do
    if type(a) ~= "string" then
      error(string.format("glasshouse.run: argv[%d] must be a string, got %s", i, type(a)), 3)
    end
  end
end

-- Where execvp would find argv[1]; used for exe only when no collector saw the exec.
local function path_search(name)
  if name:find("/", 1, true) then
    if name:sub(1, 1) == "/" then return name end
    local cwd = core.getcwd()
    return cwd and (cwd .. "/" .. name:gsub("^%./", "")) or name
  end
  for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    local cand = dir .. "/" .. name
    local f = io.open(cand, "rb")
    if f then
      f:close()
      return cand
    end
  end
  return nil
end

local function make_backend(hooks)
  local b = hooks.backend
  if b == nil or type(b) == "string" then
    return backend.new(b or "process", hooks.backend_options)
  end
  return b
end

--- write(receipt, path) -> true | nil, msg, code: encoded and replaced atomically.
function M.write(r, path)
  return core.write_file_atomic(path, json.encode(r) .. "\n")
end

--[[
run(argv [, hooks]) -> receipt [, write_error]
Runs argv through the standard flow. hooks (all optional):
  output          path of the receipt (default "receipt.json"); false: do not write it
  backend         "process" (default), "firecracker", or a backend object
  backend_options table for backend.new ({guest = true}, firecracker paths)
  extend(r)       change the receipt before it is written
]]
function M.run(argv, hooks)
  check_argv(argv)
  hooks = hooks or {}
  if type(hooks) ~= "table" then error("glasshouse.run: hooks must be a table", 2) end
  local errors = {}
  local b = make_backend(hooks)
  local fallback_start = core.now()

  local ok, err = b:prepare()
  if not ok then errors[#errors + 1] = err end

  local pid, serr = b:start(argv, function(_) end)
  local started = pid ~= nil
  if not started then errors[#errors + 1] = serr end

  if started then
    local res, werr = b:wait()
    if not res then errors[#errors + 1] = werr end
  end
  local result = b:cleanup()
  local md = b:metadata() -- guest-mode failures stay in execution.guest.errors: not fatal

  local info = {
    argv = argv,
    started = started,
    result = result,
    errors = errors,
    metadata = md,
    ppid = core.getpid(),
    cwd = core.getcwd(),
    exe = started and path_search(argv[1]) or nil,
    fallback_start_ns = fallback_start,
    collector = { status = "unavailable", error = "the eBPF collector is not built into this glasshouse" },
  }
  local r = receipt.build(info)
  if hooks.extend then
    local eok, eerr = pcall(hooks.extend, r)
    if not eok then
      local msg = "extend hook failed: " .. tostring(eerr)
      r.outcome.error = r.outcome.error == json.null and msg or (r.outcome.error .. "; " .. msg)
    end
  end
  if hooks.output ~= false then
    local path = hooks.output or "receipt.json"
    local wok, werr = M.write(r, path)
    if not wok then return r, werr end
  end
  return r
end

--- exit_status(receipt) -> the status glasshouse exits with for this receipt.
function M.exit_status(r)
  return r.outcome.exit_code
end

return M
