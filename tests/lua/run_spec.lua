-- SPDX-License-Identifier: MIT
-- run.lua's flow (glasshouse.run) against a fake backend: lifecycle, errors, receipt shape.
local gh = require "glasshouse"
local core = require "glasshouse.core"
local json = require "glasshouse.json"
local receipt = require "glasshouse.receipt"

local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

-- A backend that records the calls made to it and reports what it is told to.
local function fake(opts)
  opts = opts or {}
  local calls = {}
  local b = { calls = calls }
  function b:prepare()
    calls[#calls + 1] = "prepare"
    if opts.prepare_error then return nil, opts.prepare_error, "EINVAL" end
    return true
  end
  function b:start(argv, on_pid)
    calls[#calls + 1] = "start"
    if opts.start_error then return nil, opts.start_error, "ENOENT" end
    on_pid(4242)
    return 4242
  end
  function b:wait()
    calls[#calls + 1] = "wait"
    return { exit_code = opts.exit_code or 0 }
  end
  function b:cleanup()
    calls[#calls + 1] = "cleanup"
    return {
      pid = 4242, exit_code = opts.exit_code or 0, signal = opts.signal,
      signal_number = opts.signal_number, start_ns = 1700000000123456789,
      duration_ns = 1500000000, cpu_time_us = 25999, max_rss_kb = 2048,
      stdout_hash = EMPTY, stderr_hash = EMPTY, stdout_bytes = 0, stderr_bytes = 0,
    }
  end
  function b:metadata() return { backend = "fake", isolation = "none" } end
  return b
end

local function run(argv, opts)
  local b = fake(opts)
  local r = gh.run(argv, { backend = b, output = false, collector = false })
  return r, b.calls
end

describe("glasshouse.run with a fake backend", function()
  it("calls prepare, start, wait, cleanup in that order", function()
    local _, calls = run({ "true" })
    assert.are.same({ "prepare", "start", "wait", "cleanup" }, calls)
  end)

  it("skips wait when start fails, records the error and exits 1", function()
    local r, calls = run({ "/bin/nope" }, { start_error = "/bin/nope: No such file or directory" })
    assert.are.same({ "prepare", "start", "cleanup" }, calls)
    assert.are.equal("/bin/nope: No such file or directory", r.outcome.error)
    assert.are.equal(1, r.outcome.exit_code)
    assert.are.equal(1, r.exit_code)
    assert.are.same({}, r.process_tree)
  end)

  it("records a prepare error and still runs the command", function()
    local r, calls = run({ "true" }, { prepare_error = "guest: mount failed" })
    assert.are.same({ "prepare", "start", "wait", "cleanup" }, calls)
    assert.are.equal("guest: mount failed", r.outcome.error)
    assert.are.equal(0, r.outcome.exit_code)
  end)

  it("reports death by signal as 128+N with the signal's name", function()
    local r = run({ "sleep", "9" }, { signal = "SIGKILL", signal_number = 9, exit_code = -1 })
    assert.are.equal(137, r.outcome.exit_code)
    assert.are.equal("SIGKILL", r.outcome.signal)
    assert.are.equal(137, gh.exit_status(r))
  end)

  it("writes the v0.2 keys in order, then the new blocks", function()
    local r = run({ "true" })
    local text = json.encode(r)
    local keys = {}
    for k in text:gmatch('\n  "([%w_]+)":') do keys[#keys + 1] = k end
    assert.are.same({ "receipt_version", "execution_id", "timestamp", "outcome", "timing",
      "process_tree", "syscalls", "environment", "execution", "artifacts", "exit_code",
      "duration_ms", "processes", "filesystem", "network", "resources", "collector",
      "privilege_changes" }, keys)
    assert.are.equal("v0.4", r.receipt_version)
    assert.truthy(text:find('"outcome": {\n    "exit_code": 0,\n    "signal": null,\n' ..
      '    "error": null,', 1, true))
  end)

  it("keeps the legacy copies equal to the new fields", function()
    local r = run({ "sh", "-c", "exit 3" }, { exit_code = 3 })
    assert.are.equal(r.outcome.exit_code, r.exit_code)
    assert.are.equal(3, r.exit_code)
    assert.are.equal(r.timing.duration_ms, r.duration_ms)
    assert.are.equal(1500, r.duration_ms)
    assert.are.equal(25, r.timing.cpu_time_ms)
    assert.are.equal(25, r.resources.cpu_time_ms)
    assert.are.equal(2048, r.resources.max_rss_kb)
    assert.are.same(r.filesystem.reads, r.filesystem.read)
    assert.are.same({ { pid = 4242, ppid = gh.core.getpid(), cmd = "/usr/bin/sh" } },
      r.processes)
  end)

  it("derives execution_id from start ns, pid and argv", function()
    local r = run({ "echo", "a b", "c" })
    assert.are.equal(gh.sha256("1700000000123456789:4242:echo a b c"), r.execution_id)
    assert.are.equal("2023-11-14T22:13:20.123456789Z", r.timestamp)
  end)

  it("says the collector is unavailable, and why", function()
    local r = run({ "true" })
    assert.are.equal("unavailable", r.collector.status)
    assert.are.equal("the collector was switched off (collector = false)", r.collector.error)
    assert.is_false(r.collector.complete)
  end)

  it("lets extend change the receipt, and records an extend error", function()
    local b = fake()
    local r = gh.run({ "true" }, { backend = b, output = false, collector = false, extend = function(rc)
      rc.extra = { nested = { deep = 1 } }
    end })
    assert.are.equal(1, r.extra.nested.deep)
    local ok, err = pcall(gh.run, { "true" }, { backend = fake(), output = false,
      collector = false, extend = function() error("boom", 0) end })
    assert.is_false(ok)
    assert.are.equal(1, err:find("extend hook failed: boom\nstack traceback:", 1, true))
    assert.are.equal("extend hook failed: boom", gh.last.receipt.outcome.error)
  end)

  it("writes the receipt without extend's additions when they cannot be encoded, then raises", function()
    local out = os.tmpname()
    local ok, err = pcall(gh.run, { "true" }, { backend = fake(), output = out,
      collector = false, extend = function(rc) local t = {}; t.self = t; rc.cyc = t end })
    local msg = "extend hook's additions could not be written: json.encode: cycle at value.cyc.self; "
      .. "the receipt is written without them"
    assert.are.same({ false, msg }, { ok, err })
    local f = assert(io.open(out))
    local written = json.decode(f:read("a"))
    f:close()
    os.remove(out)
    assert.are.same({ msg, false }, { written.outcome.error, written.cyc ~= nil })
  end)

  it("raises on misuse", function()
    assert.has_error(function() gh.run({}) end,
      "glasshouse.run: argv must be a non-empty list of strings")
    assert.has_error(function() gh.run({ "a", 3 }) end,
      "glasshouse.run: argv[2] must be a string, got number")
    for _, w in ipairs({ "2", -1, 0 / 0, 1e10, {} }) do
      assert.has_error(function() gh.run({ "true" }, { wait_all = w }) end,
        "glasshouse.run: option 'wait_all' must be true, false or a number of seconds from 0 "
        .. "to 1e9, got " .. tostring(w))
    end
    assert.has_error(function() gh.run({ "true" }, { backend = fake(), wait_all = true }) end,
      "glasshouse.run: wait_all is the backend's own setting when a backend object is given "
      .. "(backend.new(name, {wait_all = ...}))")
  end)
end)

describe("glasshouse.receipt.runtime", function()
  it("infers the runtime from argv[1]'s basename", function()
    assert.are.equal("python3.x", receipt.runtime({ "/usr/bin/python3.11", "x.py" }))
    assert.are.equal("python3.x", receipt.runtime({ "python3" }))
    assert.are.equal("pythonx", receipt.runtime({ "python" }))
    assert.are.equal("pythonx", receipt.runtime({ "python2.7" }))
    assert.are.equal("node", receipt.runtime({ "/usr/local/bin/node" }))
    assert.are.equal("unknown", receipt.runtime({}))
  end)
end)

describe("glasshouse.backend", function()
  it("runs a real command through the primitives", function()
    local backend = require "glasshouse.backend"
    local b = backend.new("process")
    assert.is_true(b:prepare())
    local seen
    local pid = b:start({ "sh", "-c", "exit 5" }, function(p) seen = p end)
    assert.are.equal(pid, seen)
    local res = b:wait()
    assert.are.equal(5, res.exit_code)
    local fin = b:cleanup()
    assert.are.equal(EMPTY, fin.stdout_hash)
    b:close()
    assert.has_error(function() b:prepare() end, "backend: the backend is closed")
  end)

  it("returns nil, message, code when the command cannot start", function()
    local b = require("glasshouse.backend").new("process")
    local pid, msg, code = b:start({ "/bin/does-not-exist" })
    assert.is_nil(pid)
    assert.are.equal("/bin/does-not-exist: No such file or directory", msg)
    assert.are.equal("ENOENT", code)
    b:close()
  end)

  it("raises on an unknown backend and on out-of-order calls", function()
    local backend = require "glasshouse.backend"
    assert.has_error(function() backend.new("vmware") end,
      "bad argument #1 to 'new' (unknown backend 'vmware' (known: process, firecracker))")
    local b = backend.new("process")
    assert.has_error(function() b:wait() end, "backend:wait: backend has no running command")
    b:close()
  end)

  it("wait_all: waits for the whole tree, hashes what it wrote, says when more may follow",
    function()
    local backend = require "glasshouse.backend"
    local b = backend.new("process", { wait_all = true })
    assert.are.same({ backend = "process", isolation = "none", wait_all = true }, b:metadata())
    b:start({ "sh", "-c", "(sleep 0.2; echo late) &" })
    assert.are.equal(0, b:wait().exit_code)
    local fin = b:cleanup()
    assert.are.same({ core.sha256("late\n"), 5, false, false },
      { fin.stdout_hash, fin.stdout_bytes, fin.stdout_more_may_follow, fin.stderr_more_may_follow })
    b:close()
    -- 0 s: not a moment past the command; the sleep still holds stdout (a relay takes it on).
    b = backend.new("process", { wait_all = 0 })
    assert.are.same({ backend = "process", isolation = "none", wait_all = true,
      wait_all_timeout_ms = 0 }, b:metadata())
    b:start({ "sh", "-c", "echo now; sleep 0.5 &" })
    b:wait()
    fin = b:cleanup()
    assert.are.same({ core.sha256("now\n"), true, true },
      { fin.stdout_hash, fin.stdout_more_may_follow, fin.stderr_more_may_follow })
    b:close()
  end)

  it("wait_all: misuse raises", function()
    local backend = require "glasshouse.backend"
    assert.has_error(function() backend.new("process", { wait_all = -1 }) end,
      "backend.new: option 'wait_all' must be a boolean or a number of seconds from 0 to 1e9, "
      .. "got -1")
    assert.has_error(function() backend.new("process", { wait_all = "1" }) end,
      "backend.new: option 'wait_all' must be a boolean or a number of seconds from 0 to 1e9, "
      .. "got 1")
    assert.has_error(function() backend.new("firecracker", { wait_all = true }) end,
      "backend.new: option 'wait_all' is for the process backend only")
  end)

  it("firecracker: start says it is not implemented", function()
    local b = require("glasshouse.backend").new("firecracker")
    local ok, msg = b:prepare()
    assert.is_nil(ok)
    assert.are.equal("firecracker backend: kernel is not set (--backend-opt KEY=PATH)", msg)
    local pid, smsg, code = b:start({ "true" })
    assert.is_nil(pid)
    assert.are.equal("firecracker backend: starting a microVM is not implemented", smsg)
    assert.are.equal("ENOSYS", code)
    assert.are.same({ backend = "firecracker", isolation = "vm" }, b:metadata())
    b:close()
  end)
end)
