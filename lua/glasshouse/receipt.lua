-- SPDX-License-Identifier: MIT
-- glasshouse.receipt: builds the receipt table, in its documented key order, from what the
-- backend, collector and aggregator returned. Pure: no I/O, so it is tested with fake inputs.
local core = require "glasshouse.core"
local json = require "glasshouse.json"

local M = {}

M.VERSION = "v0.4"

local obj, arr = json.object, json.array
local null = json.null

local function orNull(v)
  if v == nil then return null end
  return v
end

--- Runtime name from argv[1]'s basename, as v0.2 did: python3* -> python3.x, python* -> pythonx.
function M.runtime(argv)
  local a0 = argv and argv[1]
  if not a0 or a0 == "" then return "unknown" end
  local base = a0:match("([^/]*)$")
  if base:sub(1, 7) == "python3" then return "python3.x" end
  if base:sub(1, 6) == "python" then return "pythonx" end
  return base
end

--- Lowercase hex SHA-256 of "<start unix ns>:<root pid>:<argv joined by spaces>".
function M.execution_id(start_ns, pid, argv)
  return core.sha256(string.format("%d:%d:%s", start_ns, pid or 0, table.concat(argv, " ")))
end

--- RFC 3339 UTC with nanoseconds.
function M.timestamp(ns)
  local sec, frac = ns // 1000000000, ns % 1000000000
  return os.date("!%Y-%m-%dT%H:%M:%S", sec) .. string.format(".%09dZ", frac)
end

-- Go's GOARCH names, which v0.2 receipts carried.
local ARCH = { x86_64 = "amd64", aarch64 = "arm64", i686 = "386", i386 = "386", armv7l = "arm" }

function M.environment(argv)
  local u = core.uname() or { sysname = "unknown", machine = "unknown" }
  return obj({
    runtime = M.runtime(argv),
    os = u.sysname:lower(),
    arch = ARCH[u.machine] or u.machine,
    sandbox = obj({ network = "enabled" }, { "network" }),
  }, { "runtime", "os", "arch", "sandbox" })
end

local function list_of(items, keys)
  local out = arr()
  for i, it in ipairs(items or {}) do out[i] = obj(it, keys) end
  return out
end

local PROCESS_KEYS = { "pid", "ppid", "exe", "argv", "working_dir", "argv_truncated",
  "exit_code", "signal", "start_offset_ms", "failed_execs" }

local function process_entry(p)
  return obj({
    pid = p.pid,
    ppid = p.ppid,
    exe = orNull(p.exe),
    argv = arr(p.argv or {}),
    working_dir = orNull(p.working_dir),
    argv_truncated = p.argv_truncated or false,
    exit_code = orNull(p.exit_code),
    signal = orNull(p.signal),
    start_offset_ms = orNull(p.start_offset_ms),
    failed_execs = list_of(p.failed_execs, { "path", "error" }),
  }, PROCESS_KEYS)
end

local function sorted_copy(list)
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v end
  table.sort(out)
  return arr(out)
end

local FS_KEYS = { "read", "written", "reads", "writes", "deletes", "policy_violations",
  "renames", "created", "directories", "failed" }

local function filesystem(fs)
  fs = fs or {}
  return obj({
    read = sorted_copy(fs.reads),
    written = sorted_copy(fs.writes),
    reads = sorted_copy(fs.reads),
    writes = sorted_copy(fs.writes),
    deletes = sorted_copy(fs.deletes),
    policy_violations = arr(),
    renames = list_of(fs.renames, { "from", "to" }),
    created = sorted_copy(fs.created),
    directories = sorted_copy(fs.directories),
    failed = list_of(fs.failed, { "path", "op", "error" }),
  }, FS_KEYS)
end

local ATTEMPT_KEYS = { "dst", "protocol", "result", "op", "pid", "count", "bytes_sent",
  "bytes_received" }

local function network(net)
  net = net or {}
  local conns, attempts = arr(), arr()
  for i, a in ipairs(net.attempts or {}) do
    conns[i] = obj({ dst = a.dst, protocol = a.protocol, attempted = true },
      { "dst", "protocol", "attempted" })
    attempts[i] = obj(a, ATTEMPT_KEYS)
  end
  return obj({
    connections = conns,
    attempts = attempts,
    bytes_sent = net.bytes_sent or 0,
    bytes_received = net.bytes_received or 0,
    servers = list_of(net.servers, { "address", "protocol", "op", "pid" }),
    accepted = list_of(net.accepted, { "peer", "local", "protocol", "pid", "count", "bytes_sent",
      "bytes_received" }),
  }, { "connections", "attempts", "bytes_sent", "bytes_received", "servers", "accepted" })
end

local COLLECTOR_KEYS = { "status", "error", "events", "lost", "truncated", "dropped_untracked",
  "probes", "filter_active", "complete" }

local function collector(c)
  c = c or { status = "unavailable", error = "no collector" }
  local probes = c.probes or {}
  return obj({
    status = c.status,
    error = orNull(c.error),
    events = c.events or 0,
    lost = c.lost or 0,
    truncated = c.truncated or 0,
    dropped_untracked = c.dropped_untracked or 0,
    probes = obj({ attached = sorted_copy(probes.attached), missing = sorted_copy(probes.missing) },
      { "attached", "missing" }),
    filter_active = c.filter_active or false,
    complete = c.status == "ok" and (c.lost or 0) == 0 and (c.truncated or 0) == 0
      and not c.filter_active,
  }, COLLECTOR_KEYS)
end

-- The processes when nothing observed them: the root alone, as the backend saw it.
local function root_only(info)
  if not info.started then return {} end
  local r = info.result
  return { {
    pid = r.pid, ppid = info.ppid, exe = info.exe, argv = info.argv, working_dir = info.cwd,
    exit_code = r.signal and null or r.exit_code, signal = r.signal, start_offset_ms = 0,
  } }
end

--- The exit status glasshouse reports: the command's, 128+N for signal N, 1 if it never ran.
function M.exit_status(result, started)
  if not started then return 1 end
  if result.signal_number then return 128 + result.signal_number end
  return result.exit_code
end

local TOP_KEYS = { "receipt_version", "execution_id", "timestamp", "outcome", "timing",
  "process_tree", "syscalls", "environment", "execution", "artifacts", "exit_code",
  "duration_ms", "processes", "filesystem", "network", "resources", "collector" }

--- build(info) -> receipt table (ordered for glasshouse.json).
function M.build(info)
  local r = info.result or {}
  local observed = info.observed or {}
  local start_ns = r.start_ns and r.start_ns > 0 and r.start_ns or info.fallback_start_ns
  local status = M.exit_status(r, info.started)
  local duration_ms = (r.duration_ns or 0) // 1000000
  local cpu_ms = (r.cpu_time_us or 0) // 1000
  local errors = info.errors or {}

  local procs = observed.processes
  if not procs or #procs == 0 then procs = root_only(info) end
  local tree, legacy = arr(), arr()
  for i, p in ipairs(procs) do
    tree[i] = process_entry(p)
    legacy[i] = obj({ pid = p.pid, ppid = p.ppid, cmd = p.exe or (p.argv and p.argv[1]) or "" },
      { "pid", "ppid", "cmd" })
  end
  table.sort(legacy, function(a, b) return a.pid < b.pid end)

  local md = info.metadata or {}
  local execution = obj({ backend = md.backend, isolation = md.isolation },
    { "backend", "isolation", "guest" })
  if md.guest then
    execution.guest = obj({ mounted = arr(md.guest.mounted), errors = arr(md.guest.errors),
      memlock_raised = md.guest.memlock_raised }, { "mounted", "errors", "memlock_raised" })
  end

  local counts = obj(observed.syscall_counts or {})
  return obj({
    receipt_version = M.VERSION,
    execution_id = M.execution_id(start_ns, r.pid, info.argv),
    timestamp = M.timestamp(start_ns),
    outcome = obj({
      exit_code = status,
      signal = orNull(r.signal),
      error = #errors > 0 and table.concat(errors, "; ") or null,
      received_signal = orNull(r.received_signal),
    }, { "exit_code", "signal", "error", "received_signal" }),
    timing = obj({ duration_ms = duration_ms, cpu_time_ms = cpu_ms },
      { "duration_ms", "cpu_time_ms" }),
    process_tree = tree,
    syscalls = obj({ counts = counts, denied = arr() }, { "counts", "denied" }),
    environment = M.environment(info.argv),
    execution = execution,
    artifacts = obj({
      stdout_hash = r.stdout_hash, stderr_hash = r.stderr_hash,
      stdout_bytes = r.stdout_bytes or 0, stderr_bytes = r.stderr_bytes or 0,
      stdout_reader_closed = r.stdout_reader_closed or false,
      stderr_reader_closed = r.stderr_reader_closed or false,
    }, { "stdout_hash", "stderr_hash", "stdout_bytes", "stderr_bytes", "stdout_reader_closed",
      "stderr_reader_closed" }),
    exit_code = status,
    duration_ms = duration_ms,
    processes = legacy,
    filesystem = filesystem(observed.filesystem),
    network = network(observed.network),
    resources = obj({ cpu_time_ms = cpu_ms, max_rss_kb = r.max_rss_kb or 0 },
      { "cpu_time_ms", "max_rss_kb" }),
    collector = collector(info.collector),
  }, TOP_KEYS)
end

return M
