-- SPDX-License-Identifier: MIT
-- The receipt's exact bytes for fixed inputs: a change of shape or order shows here first, and
-- must come with docs/receipt.md, docs/receipt.schema.json and tests/lua/golden/receipt.json.
local json = require "glasshouse.json"
local receipt = require "glasshouse.receipt"

local function info(guest)
 return {
  argv = {"sh","-c","x"}, started = true, errors = {"e1"}, ppid = 5, cwd = "/w",
  user = not guest and "alice" or nil, network = not guest and "loopback" or nil,
  result = { pid = 10, exit_code = 0, start_ns = 1700000000123456789, duration_ns = 5e9//1, cpu_time_us = 1234, max_rss_kb = 99,
    stdout_hash = "aa", stderr_hash = "bb", stdout_bytes = 3, stderr_bytes = 0, received_signal = "SIGTERM", stdout_reader_closed = true,
    stderr_more_may_follow = not guest },
  metadata = { backend = "process", isolation = "none", wait_all = not guest,
    wait_all_timeout_ms = not guest and 2500 or nil, guest = guest and { mounted = {"proc"}, errors = {}, memlock_raised = true } or nil },
  observed = {
    processes = { { pid = 10, ppid = 5, exe = "/bin/sh", argv = {"sh","-c","x"}, working_dir = "/w", argv_truncated = false, exit_code = 0, start_offset_ms = 0, failed_execs = { {path="/a", error="ENOENT"} }, uid = 1000, gid = 1000, euid = 0 },
                  { pid = 11, ppid = 10, exe = "/bin/x", argv = {"x"}, working_dir = "/w", signal = "SIGKILL", signal_number = 9, start_offset_ms = 3, failed_execs = {} } },
    filesystem = { reads = {"/b","/a"}, writes = {"/c"}, deletes = {}, created = {"/c"}, directories = {"/"}, renames = { {from="/x", to="/y"} }, failed = { {path="/q", op="open", error="ENOENT"} },
      products = { {path="/c", sha256=("c"):rep(64), size=3}, {path="/l", sha256=json.null, size=json.null, error="/l: a symbolic link (not followed)"} },
      materials = guest and { {path="/a", sha256=("a"):rep(64), size=0} } or nil },
    network = { attempts = { {dst="1.2.3.4:5", protocol="tcp", result="connected", op="connect", pid=10, count=2, bytes_sent=5, bytes_received=6} }, servers = { {address="0.0.0.0:80", protocol="tcp", op="bind", pid=10} },
      accepted = { {peer="1.1.1.1", ["local"]="2.2.2.2:3", protocol="tcp", pid=11, count=1, bytes_sent=1, bytes_received=2} }, bytes_sent = 6, bytes_received = 8 },
    syscall_counts = { openat = 3, read = 2 },
  },
  collector = { status = "ok", events = 10, lost = 0, truncated = 0, dropped_untracked = 0, probes = { attached = {"b","a"}, missing = {} }, filter_active = false },
 }
end

-- A run judged by a policy: the receipt ends with its block.
local function judged()
  local i = info(false)
  i.policy = { name = "ci", source = "ci.lua", sha256 = string.rep("c", 64), verdict = "fail",
    enforced = false, violations = {
      { rule = "exec.allow", kind = "exec", pid = 11, exe = "/bin/x", path = "/bin/x",
        message = "exec /bin/x matches no allow entry" },
      { rule = "rules[1]", kind = "connect", pid = 10, exe = "/bin/sh", dst = "1.2.3.4:5",
        message = "no network" },
      { rule = "finally", kind = "receipt", message = "m" } } }
  return i
end

-- A run a policy stopped: the kernel killed an exec it denied.
local function stopped()
  local i = judged()
  local x = i.policy.violations[1]
  i.killed_by_policy = true
  i.policy.enforced = true
  i.policy.violations = { x }
  i.policy.enforcement = { exec = "kernel", write = "user", rules = "user", stopped = true,
    trigger = { by = "kernel", event = { kind = "exec", pid = 11, exe = "/bin/x",
      path = "/bin/x" }, violation = x } }
  return i
end

local function all()
  return json.encode(receipt.build(info(false))) .. "\n" .. json.encode(receipt.build(info(true)))
    .. "\n" .. json.encode(receipt.build({ argv = { "x" }, started = false, fallback_start_ns = 1 }))
    .. "\n" .. json.encode(receipt.build(judged())) .. "\n"
    .. json.encode(receipt.build(stopped())) .. "\n"
end

describe("receipt.build", function()
  it("writes exactly the golden bytes for fixed inputs", function()
    local f = assert(io.open("tests/lua/golden/receipt.json", "rb"))
    local want = f:read("a")
    f:close()
    assert.are.equal(want, all())
  end)
end)
