-- SPDX-License-Identifier: MIT
-- glasshouse.receipt: builds the receipt table, in its documented key order, from what the
-- backend, collector and aggregator returned. Pure: no I/O, so it is tested with fake inputs.
local core = require "glasshouse.core"
local json = require "glasshouse.json"

local M = {}

M.VERSION = "v0.4"

local arr, fields = json.array, json.fields
local null = json.null

-- Each object of the receipt is declared once below, as an ordered field list (json.fields):
-- that list is both its keys' order and where each value comes from (docs/receipt.md).

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

--- environment(argv, user, network, uname): user is the name the command ran as; network is
--- "host", "none" or "loopback" (--network); uname (default: core.uname()) is the logged one on
--- replay.
function M.environment(argv, user, network, uname)
  local u = uname or core.uname() or { sysname = "unknown", machine = "unknown" }
  return fields {
    { "runtime", M.runtime(argv) },
    { "os", u.sysname:lower() },
    { "arch", ARCH[u.machine] or u.machine },
    { "user", orNull(user) },
    { "sandbox", fields { { "network", network or "host" } } },
  }
end

-- items mapped through entry(item) into a JSON array.
local function list_of(items, entry)
  local out = arr()
  for i, it in ipairs(items or {}) do out[i] = entry(it) end
  return out
end

local function sorted_copy(list)
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v end
  table.sort(out)
  return arr(out)
end

local function process_entry(p)
  return fields {
    { "pid", p.pid },
    { "ppid", p.ppid },
    { "exe", orNull(p.exe) },
    { "argv", arr(p.argv or {}) },
    { "working_dir", orNull(p.working_dir) },
    { "argv_truncated", p.argv_truncated or false },
    { "exit_code", orNull(p.exit_code) },
    { "signal", orNull(p.signal) },
    { "start_offset_ms", orNull(p.start_offset_ms) },
    { "state", p.state or "exited" },
    { "failed_execs", list_of(p.failed_execs, function(f)
      return fields { { "path", f.path }, { "error", f.error } }
    end) },
    { "execs", list_of(p.execs, function(e)
      return fields { { "exe", e.exe }, { "script", orNull(e.script) }, { "argv", arr(e.argv) },
        { "working_dir", orNull(e.working_dir) }, { "argv_truncated", e.argv_truncated },
        { "time_offset_ms", e.time_offset_ms } }
    end) },
    { "script", orNull(p.script) },
    { "uid", orNull(p.uid) },
    { "gid", orNull(p.gid) },
    { "euid", orNull(p.euid) },
    -- Only once the kernel's exec record carries the file's identity (attest.exe_hashes).
    { "exe_sha256", p.exe_sha256 },
    { "exe_hash_error", p.exe_hash_error },
    { "script_sha256", p.script and orNull(p.script_sha256) or nil },
    { "script_hash_error", p.script_hash_error },
  }
end

-- Processes whose effective uid differs from their real one (a setuid or setcap program: sudo,
-- ping), with what they became, in process order.
local function privilege_changes(procs)
  local out = arr()
  for _, p in ipairs(procs) do
    if p.euid and p.uid and p.euid ~= p.uid then
      out[#out + 1] = fields { { "pid", p.pid }, { "exe", orNull(p.exe) }, { "uid", p.uid },
        { "euid", p.euid }, { "gid", p.gid } }
    end
  end
  return out
end

-- A product or material: its content's hash taken at the end of the run (error: why not).
local function file_hash(e)
  return fields { { "path", e.path }, { "sha256", orNull(e.sha256) }, { "size", orNull(e.size) },
    { "error", e.error } }
end

local function filesystem(fs)
  fs = fs or {}
  return fields {
    { "read", sorted_copy(fs.reads) },
    { "written", sorted_copy(fs.writes) },
    { "reads", sorted_copy(fs.reads) },
    { "writes", sorted_copy(fs.writes) },
    { "deletes", sorted_copy(fs.deletes) },
    { "policy_violations", arr() },
    { "renames", list_of(fs.renames, function(r)
      return fields { { "from", r.from }, { "to", r.to } }
    end) },
    { "created", sorted_copy(fs.created) },
    { "directories", sorted_copy(fs.directories) },
    { "failed", list_of(fs.failed, function(f)
      return fields { { "path", f.path }, { "op", f.op }, { "error", f.error } }
    end) },
    { "products", list_of(fs.products, file_hash) },
    { "materials", fs.materials and list_of(fs.materials, file_hash) },
  }
end

local function network(net)
  net = net or {}
  return fields {
    { "connections", list_of(net.attempts, function(a)
      return fields { { "dst", a.dst }, { "protocol", a.protocol }, { "attempted", true } }
    end) },
    { "attempts", list_of(net.attempts, function(a)
      return fields {
        { "dst", a.dst },
        { "protocol", a.protocol },
        { "result", a.result },
        { "op", a.op },
        { "pid", a.pid },
        { "count", a.count },
        { "bytes_sent", a.bytes_sent },
        { "bytes_received", a.bytes_received },
      }
    end) },
    { "bytes_sent", net.bytes_sent or 0 },
    { "bytes_received", net.bytes_received or 0 },
    { "servers", list_of(net.servers, function(s)
      return fields { { "address", s.address }, { "protocol", s.protocol }, { "op", s.op },
        { "pid", s.pid } }
    end) },
    { "accepted", list_of(net.accepted, function(a)
      return fields {
        { "peer", a.peer },
        { "local", a["local"] },
        { "protocol", a.protocol },
        { "pid", a.pid },
        { "count", a.count },
        { "bytes_sent", a.bytes_sent },
        { "bytes_received", a.bytes_received },
      }
    end) },
  }
end

local function collector(c)
  c = c or { status = "unavailable", error = "no collector" }
  local probes = c.probes or {}
  return fields {
    { "status", c.status },
    { "error", orNull(c.error) },
    { "events", c.events or 0 },
    { "lost", c.lost or 0 },
    { "truncated", c.truncated or 0 },
    { "dropped_untracked", c.dropped_untracked or 0 },
    { "probes", fields { { "attached", sorted_copy(probes.attached) },
      { "missing", sorted_copy(probes.missing) } } },
    { "filter_active", c.filter_active or false },
    { "complete", c.status == "ok" and (c.lost or 0) == 0 and (c.truncated or 0) == 0
      and not c.filter_active },
  }
end

local function execution(md)
  local g = md.guest
  return fields {
    { "backend", md.backend },
    { "isolation", md.isolation },
    { "wait_all", md.wait_all or false },
    { "wait_all_timeout_ms", orNull(md.wait_all_timeout_ms) },
    { "guest", g and fields { { "mounted", arr(g.mounted) }, { "errors", arr(g.errors) },
      { "memlock_raised", g.memlock_raised } } },
  }
end

local function violation(x)
  return fields {
    { "rule", x.rule },
    { "kind", x.kind },
    { "pid", orNull(x.pid) },
    { "exe", orNull(x.exe) },
    { x.dst and "dst" or "path", orNull(x.dst or x.path) },
    { "message", x.message },
  }
end

-- How a policy was enforced: each kind's mode ("kernel" or "user", null without rules of that
-- kind), whether the tree was stopped and what stopped it: {exec, read, write, connect, rules,
-- stopped, trigger = {by, event = {kind, pid, exe, path | dst}, violation}} (as glasshouse.enforce
-- makes it, or as an event log's end line holds it, with nulls).
local function given(v)
  if v == nil or v == null then return nil end
  return v
end

local function enforcement(e)
  local t, ev = given(e.trigger), nil
  ev = t and given(t.event)
  return fields {
    { "exec", orNull(given(e.exec)) },
    { "read", orNull(given(e.read)) },
    { "write", orNull(given(e.write)) },
    { "connect", orNull(given(e.connect)) },
    { "rules", orNull(given(e.rules)) },
    { "stopped", e.stopped == true },
    { "trigger", t and fields {
      { "by", t.by },
      { "event", ev and fields {
        { "kind", ev.kind },
        { "pid", orNull(given(ev.pid)) },
        { "exe", orNull(given(ev.exe)) },
        { given(ev.dst) and "dst" or "path", orNull(given(ev.dst) or given(ev.path)) },
      } or null },
      { "violation", given(t.violation) and violation(t.violation) or null },
    } or null },
  }
end

--- policy(verdict) -> the receipt's `policy` block, from a policy's p:check (glasshouse.policy).
function M.policy(v)
  return fields {
    { "name", v.name },
    { "source", v.source },
    { "sha256", v.sha256 },
    { "verdict", v.verdict },
    { "enforced", v.enforced or false },
    { "enforcement", given(v.enforcement) and enforcement(v.enforcement) or null },
    { "error", orNull(v.error) },
    { "violations", list_of(v.violations, violation) },
  }
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
  local legacy = list_of(procs, function(p)
    return fields { { "pid", p.pid }, { "ppid", p.ppid },
      { "cmd", p.exe or (p.argv and p.argv[1]) or "" } }
  end)
  table.sort(legacy, function(a, b) return a.pid < b.pid end)

  return fields {
    { "receipt_version", M.VERSION },
    { "execution_id", M.execution_id(start_ns, r.pid, info.argv) },
    { "timestamp", M.timestamp(start_ns) },
    { "outcome", fields {
      { "exit_code", status },
      { "signal", orNull(r.signal) },
      { "error", #errors > 0 and table.concat(errors, "; ") or null },
      { "received_signal", orNull(r.received_signal) },
      { "killed_by_policy", info.killed_by_policy == true },
    } },
    { "timing", fields { { "duration_ms", duration_ms }, { "cpu_time_ms", cpu_ms } } },
    { "process_tree", list_of(procs, process_entry) },
    { "syscalls", fields { { "counts", json.object(observed.syscall_counts or {}) },
      { "denied", arr() } } },
    { "environment", M.environment(info.argv, info.user, info.network, info.uname) },
    { "execution", execution(info.metadata or {}) },
    { "artifacts", fields {
      { "stdout_hash", r.stdout_hash },
      { "stderr_hash", r.stderr_hash },
      { "stdout_bytes", r.stdout_bytes or 0 },
      { "stderr_bytes", r.stderr_bytes or 0 },
      { "stdout_reader_closed", r.stdout_reader_closed or false },
      { "stderr_reader_closed", r.stderr_reader_closed or false },
      { "stdout_more_may_follow", r.stdout_more_may_follow or false },
      { "stderr_more_may_follow", r.stderr_more_may_follow or false },
    } },
    { "exit_code", status },
    { "duration_ms", duration_ms },
    { "processes", legacy },
    { "filesystem", filesystem(observed.filesystem) },
    { "network", network(observed.network) },
    { "resources", fields { { "cpu_time_ms", cpu_ms }, { "max_rss_kb", r.max_rss_kb or 0 } } },
    { "collector", collector(info.collector) },
    { "privilege_changes", privilege_changes(procs) },
    { "policy", info.policy and M.policy(info.policy) },
  }
end

return M
