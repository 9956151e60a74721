-- SPDX-License-Identifier: MIT
-- glasshouse: the standard flow (run) on the primitives, and the primitives themselves.
local core = require "glasshouse.core"
local backend = require "glasshouse.backend"
local collector = require "glasshouse.collector"
local aggregator = require "glasshouse.aggregator"
local json = require "glasshouse.json"
local receipt = require "glasshouse.receipt"

local M = {
  version = core.version,
  core = core,
  backend = backend,
  collector = collector,
  aggregator = aggregator,
  json = json,
  receipt = receipt,
  sha256 = core.sha256,
  command = nil, -- set by `glasshouse script` to the command after --
}

--- backend.process{guest=} / backend.firecracker{kernel=, rootfs=, binary=, api_socket=}:
--- the backends by name (backend.new(name, opts) is the same).
backend.process = backend.process or function(opts) return backend.new("process", opts) end
backend.firecracker = backend.firecracker or function(opts)
  return backend.new("firecracker", opts)
end

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

-- A hook's error for the receipt: its message without the traceback.
local function first_line(err)
  local s = tostring(err)
  return s:match("^(.-)\nstack traceback:") or s
end

local function make_backend(hooks)
  local b = hooks.backend
  if b == nil or type(b) == "string" then
    return backend.new(b or "process", hooks.backend_options)
  end
  return b
end

--- write(receipt, path) -> true | nil, msg, code: encoded and written safely (core.write_file).
function M.write(r, path)
  return core.write_file(path, json.encode(r) .. "\n")
end

-- Settings from the environment, as the old tool read them.
local function env_collector_options()
  local o = { capture_argv = os.getenv("GLASSHOUSE_CAPTURE_ARGV") ~= "0",
    bpf_dir = os.getenv("GLASSHOUSE_BPF_DIR") }
  -- Environment variable name, for collector option opt: plain decimal within the collector's
  -- own bounds (collector.limits), else a usage error naming it. Not tonumber, which takes
  -- "0x1000", " 16" and "4096.0" too.
  local function int_setting(name, opt)
    local v, lim = os.getenv(name), collector.limits[opt]
    if v == nil or v == "" then return nil end
    local n = core.parse_uint(v, lim.lo, lim.hi)
    if not n or (lim.pow2 and n & (n - 1) ~= 0) then
      M.usage_error(string.format("%s must be %s from %d to %d, got '%s'", name,
        lim.pow2 and "a power of two" or "a whole number", lim.lo, lim.hi, v))
    end
    return n
  end
  o.ring_kb = int_setting("GLASSHOUSE_RING_KB", "ring_kb")
  o.max_sockets = int_setting("GLASSHOUSE_MAX_SOCKETS", "max_sockets")
  return o
end

local function debug_on(name)
  local v = os.getenv(name)
  return v ~= nil and v ~= "" and v ~= "0"
end

-- GLASSHOUSE_DEBUG_EVENTS / _TRACKING print events to stderr as they arrive.
local TRACKING = { fork = true, exec = true, exit = true, exec_failed = true }
local function describe(ev)
  local parts = { string.format("[glasshouse] %s pid=%d", ev.kind, ev.pid) }
  for _, k in ipairs({ "ppid", "parent", "exe", "path", "from", "to", "target", "dst",
    "address", "peer", "protocol", "result", "error", "exit_code", "signal" }) do
    if ev[k] ~= nil then parts[#parts + 1] = k .. "=" .. tostring(ev[k]) end
  end
  return table.concat(parts, " ")
end

local function debug_hook(user_hook)
  local all, tracking = debug_on("GLASSHOUSE_DEBUG_EVENTS"), debug_on("GLASSHOUSE_DEBUG_TRACKING")
  if not all and not tracking then return user_hook end
  return function(ev)
    if all or TRACKING[ev.kind] then io.stderr:write(describe(ev), "\n") end
    if user_hook then return user_hook(ev) end
  end
end

--- collector_info(col, open_err, stats, probes, filter_active) -> what receipt.build takes
--- for the collector block.
local function collector_info(col, open_err, st, probes, filter_active)
  if not col then
    return { status = "unavailable", error = open_err }
  end
  local status, why = "ok", nil
  if #probes.missing > 0 then
    status, why = "partial", "probes not attached: " .. table.concat(probes.missing, ", ")
  end
  if st.started and not st.root_registered then
    status, why = "partial", "the command's process was never registered with the kernel side"
  end
  if st.sockets_full > 0 then
    status, why = "partial", string.format("%d socket sends or receives not counted: the "
      .. "socket table was full (raise GLASSHOUSE_MAX_SOCKETS)", st.sockets_full)
  end
  if st.lost > 0 then
    status = "partial"
    why = string.format("%d events lost: the ring buffer was full (raise GLASSHOUSE_RING_KB)",
      st.lost)
  end
  if st.hook_error then why = why and (why .. "; " .. st.hook_error) or st.hook_error end
  return { status = status, error = why, events = st.events, lost = st.lost,
    truncated = st.truncated, dropped_untracked = st.malformed, probes = probes,
    filter_active = filter_active, filtered = st.filtered }
end
M._collector_info = collector_info

--[[
run(argv [, hooks]) -> receipt [, write_error]
Runs argv through the standard flow. hooks (all optional):
  output          path of the receipt (default "receipt.json"); false: do not write it
  backend         "process" (default), "firecracker", or a backend object
  backend_options table for backend.new ({guest = true}, firecracker paths)
  collector       false: run without the eBPF collector; a table: options for collector.open
  filter(ev)      false drops the event before aggregation (the receipt says a filter ran)
  on_event(ev)    sees every event that passed the filter
  keep_events     keep every event table in glasshouse.last.events
  event_log       path: write every event as it comes, with a header and trailers, as JSON
                  Lines (docs/events.md); `glasshouse replay` rebuilds the receipt from it
  event_log_limit bytes held for a slow reader of the log before events are dropped from it
                  (and counted; default 64 MiB)
  extend(r)       change the receipt before it is written
]]
function M.run(argv, hooks)
  check_argv(argv)
  hooks = hooks or {}
  if type(hooks) ~= "table" then error("glasshouse.run: hooks must be a table", 2) end
  for _, k in ipairs({ "filter", "on_event", "extend" }) do
    if hooks[k] ~= nil and type(hooks[k]) ~= "function" then
      error(string.format("glasshouse.run: hook '%s' must be a function, got %s", k,
        type(hooks[k])), 2)
    end
  end
  -- From here a signal waits for the command (forwarded to it) instead of interrupting us, so
  -- a started command is always waited for and its receipt written; hooks stay interruptible.
  local _signals <close> = core.defer_signals()
  local errors = {}
  local b = make_backend(hooks)
  -- Closed on every way out of here (a backend the caller passed in stays the caller's).
  local _backend <close> = b ~= hooks.backend and b or nil
  local fallback_start = core.now()

  local col, open_err
  if hooks.collector ~= false then
    local opts = env_collector_options()
    if type(hooks.collector) == "table" then
      for k, v in pairs(hooks.collector) do opts[k] = v end
    end
    col, open_err = M.collector.open(opts)
    if not col and not hooks.quiet then
      io.stderr:write("glasshouse: ", open_err, "; running without it\n")
    end
  else
    open_err = "the collector was switched off (collector = false)"
  end
  local _collector <close> = col
  local agg = M.aggregator.new()
  local on_event = debug_hook(hooks.on_event)
  local cwd = core.getcwd()
  local evlog
  if hooks.event_log then
    local lerr
    evlog, lerr = collector.event_log(hooks.event_log, hooks.event_log_limit)
    if not evlog then error(lerr, 0) end
    evlog:write(json.encode(M._log_header(argv, cwd, fallback_start, col, open_err, b),
      { compact = true }))
  end
  local _evlog <close> = evlog
  if col then
    local keep = hooks.keep_events
    if keep == nil then keep = M.keep_events end
    col:attach(agg, (hooks.filter or on_event or keep or evlog) and
      { filter = hooks.filter, on_event = on_event, keep_events = keep, event_log = evlog }
      or nil)
  end

  local ok, err = b:prepare()
  if not ok then errors[#errors + 1] = err end

  local pid, serr = b:start(argv, function(child)
    if col then col:track(child) end
    local base = core.monotonic()
    agg:set_base(base)
    agg:root(child, core.getpid(), cwd, nil)
    if evlog then
      evlog:write(json.encode(json.fields { { "kind", "start" }, { "pid", child },
        { "ppid", core.getpid() }, { "cwd", cwd }, { "base_ns", base } }, { compact = true }))
    end
  end)
  local started = pid ~= nil
  M.last = { started = started }
  if not started then errors[#errors + 1] = serr end

  if started then
    local res, werr = b:wait(col)
    if not res then errors[#errors + 1] = werr end
    if res and res.poll_error then errors[#errors + 1] = res.poll_error end
  end
  local result = b:cleanup()
  local md = b:metadata() -- guest-mode failures stay in execution.guest.errors: not fatal

  local backend_errors = table.move(errors, 1, #errors, 1, {})
  local observed, cinfo, raise
  if col then
    -- Everything the kernel already wrote is read before the receipt is built.
    col:drain()
    col:finish()
    local st = col:stats()
    st.started = started
    if st.hook_error then errors[#errors + 1] = st.hook_error end
    raise = st.hook_raise
    observed = agg:result()
    observed.syscall_counts = col:syscall_counts()
    cinfo = collector_info(col, nil, st, col:probes(), hooks.filter ~= nil)
    M.last = { events = col:events(), stats = st, aggregate = observed, started = started }
    if debug_on("GLASSHOUSE_DEBUG_COUNTS") then
      local names = {}
      for name in pairs(observed.syscall_counts) do names[#names + 1] = name end
      table.sort(names)
      for _, name in ipairs(names) do
        io.stderr:write(string.format("[glasshouse] %s %d\n", name, observed.syscall_counts[name]))
      end
    end
  else
    cinfo = collector_info(nil, open_err)
    M.last = { events = nil, started = started }
  end

  local info = {
    argv = argv,
    started = started,
    result = result,
    errors = errors,
    metadata = md,
    ppid = core.getpid(),
    cwd = cwd,
    -- the root as the backend saw it, needed only when nothing observed the processes
    exe = started and not (observed and #observed.processes > 0) and path_search(argv[1]) or nil,
    fallback_start_ns = fallback_start,
    observed = observed,
    collector = cinfo,
  }
  local lwerr
  if evlog then
    evlog:write(json.encode(M._log_end(info, backend_errors, col, open_err, evlog),
      { compact = true }))
    lwerr = select(2, evlog:close())
  end
  return M._conclude(info, hooks, raise, lwerr)
end

--- The receipt from info, with the extend hook, written; a hook's error raised after.
function M._conclude(info, hooks, raise, log_err)
  local r = receipt.build(info)
  M.last.receipt = r
  if hooks.extend then
    local eok, eerr = core.call_user(hooks.extend, r)
    if not eok then
      local msg = "extend hook failed: " .. first_line(eerr)
      raise = raise or (core.is_control(eerr) and eerr or "extend hook failed: " .. tostring(eerr))
      r.outcome.error = r.outcome.error == json.null and msg or (r.outcome.error .. "; " .. msg)
    end
  end
  local werr
  if hooks.output ~= false then
    local _
    _, werr = M.write(r, hooks.output or "receipt.json")
  end
  werr = werr or log_err
  -- A hook's error, a signal or os.exit that stopped a hook is raised now that the receipt is
  -- written: a script that does not catch it ends with it (pcall(gh.run, ...) goes on).
  if raise then
    if werr then io.stderr:write("glasshouse: ", werr, "\n") end
    error(raise, 0)
  end
  return r, werr
end

--- The event log's header line (docs/events.md).
function M._log_header(argv, cwd, fallback_start, col, open_err, b)
  local u = core.uname() or {}
  return json.fields {
    { "kind", "header" }, { "format", "glasshouse-events" }, { "format_version", 1 },
    { "glasshouse_version", core.version }, { "host", u.nodename }, { "kernel", u.release },
    { "uname", json.fields { { "sysname", u.sysname }, { "machine", u.machine } } },
    { "time_ns", core.now() }, { "argv", json.array(table.move(argv, 1, #argv, 1, {})) },
    { "cwd", cwd }, { "ppid", core.getpid() }, { "fallback_start_ns", fallback_start },
    { "metadata", b:metadata() },
    { "collector", json.fields { { "status", col and "ok" or "unavailable" },
      { "error", open_err }, { "probes", col and col:probes() } } },
  }
end

--- The event log's end line: what the receipt takes besides the events.
function M._log_end(info, errors, col, open_err, evlog)
  local st, ls = col and col:stats(), evlog:stats()
  return json.fields {
    { "kind", "end" }, { "started", info.started }, { "result", info.result or {} },
    { "errors", json.array(errors) }, { "metadata", info.metadata }, { "exe", info.exe },
    { "collector", col and json.fields {
      { "stats", json.fields { { "events", st.events }, { "lost", st.lost },
        { "truncated", st.truncated }, { "malformed", st.malformed },
        { "sockets_full", st.sockets_full }, { "root_registered", st.root_registered } } },
      { "probes", col:probes() },
      { "syscall_counts", json.object(info.observed.syscall_counts) },
    } or json.fields { { "error", open_err } } },
    { "log", json.fields { { "events", ls.events }, { "dropped", ls.dropped } } },
  }
end

--- replay(events_file [, hooks]) -> receipt, write_error, status, message: gh.run over an
--- event log instead of a command (glasshouse.replay).
function M.replay(file, hooks)
  return require("glasshouse.replay").run(file, hooks)
end

--- exit_status(receipt) -> the status glasshouse exits with for this receipt.
function M.exit_status(r)
  return r.outcome.exit_code
end

return M
