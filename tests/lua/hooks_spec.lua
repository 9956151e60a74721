-- SPDX-License-Identifier: MIT
-- Hooks and primitives on real runs (root, eBPF). Outside CI they are skipped when the
-- collector cannot load; in CI (CI=true) they fail instead.
local gh = require "glasshouse"

local probe = gh.collector.open()
local available = probe ~= nil
if probe then probe:close() end
local must = os.getenv("CI") == "true"

local function real(name, fn)
  if available or must then
    it(name, fn)
  else
    pending(name .. " (no eBPF here)")
  end
end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))

local function sh(script)
  return { "sh", "-c", script }
end

local function exists_in(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

describe("hooks on real runs", function()
  real("on_event sees exec, open, exit with their fields", function()
    local seen = {}
    local r = gh.run(sh("echo x > " .. tmp .. "/a; exit 4"), {
      output = false,
      on_event = function(ev) seen[#seen + 1] = ev end,
    })
    assert.are.equal(4, r.outcome.exit_code)
    local kinds, open = {}, nil
    for _, ev in ipairs(seen) do
      kinds[ev.kind] = (kinds[ev.kind] or 0) + 1
      if ev.kind == "open" and ev.path == tmp .. "/a" then open = ev end
      assert.is_number(ev.pid)
      assert.is_number(ev.time_ns)
    end
    assert.are.equal(1, kinds.exec)
    assert.are.equal(1, kinds.exit)
    assert.is_truthy(open)
    assert.is_true(open.write)
    assert.is_true(open.created)
    assert.are.equal("openat", open.syscall)
    local exec = seen[1].kind == "exec" and seen[1] or nil
    for _, ev in ipairs(seen) do if ev.kind == "exec" then exec = ev end end
    assert.are.same({ "sh", "-c", "echo x > " .. tmp .. "/a; exit 4" }, exec.argv)
    assert.are.equal("/usr/bin/sh", exec.exe)
    assert.is_false(r.collector.filter_active)
  end)

  real("a filter drops events before aggregation and the receipt says so", function()
    local r = gh.run(sh("cat /etc/hostname > " .. tmp .. "/b"), {
      output = false,
      filter = function(ev) return not (ev.path and ev.path:sub(1, 5) == "/etc/") end,
    })
    assert.is_false(exists_in(r.filesystem.reads, "/etc/hostname"))
    assert.is_true(exists_in(r.filesystem.writes, tmp .. "/b"))
    assert.is_true(r.collector.filter_active)
    assert.is_false(r.collector.complete)
  end)

  real("a filter that drops everything leaves nothing but the root process", function()
    local r = gh.run(sh("echo hi > " .. tmp .. "/c"), { output = false,
      filter = function() return false end })
    assert.are.same({}, r.filesystem.writes)
    assert.are.equal(1, #r.process_tree)
    assert.are.equal(0, r.outcome.exit_code)
    assert.is_true(r.collector.filter_active)
  end)

  real("an error in a hook stops the hooks, the command is waited for, the receipt written", function()
    local out = tmp .. "/hook-error.json"
    local calls = 0
    local ok, err = pcall(gh.run, sh("touch " .. tmp .. "/d; exit 5"), { output = out,
      on_event = function() calls = calls + 1; error("hook went wrong", 0) end })
    -- gh.run raises the hook's error, with the hook's traceback, once the receipt is written
    assert.is_false(ok)
    assert.are.equal("on_event hook failed: hook went wrong\nstack traceback:", err:sub(1, 54))
    assert.is_truthy(err:find("tests/lua/hooks_spec.lua:84: in function", 1, true))
    local r = gh.last.receipt
    assert.are.equal(5, r.outcome.exit_code)
    assert.are.equal(1, calls)
    assert.are.equal("on_event hook failed: hook went wrong", r.outcome.error)
    assert.is_true(exists_in(r.filesystem.writes, tmp .. "/d")) -- aggregation went on
    local f = assert(io.open(out))
    local written = gh.json.decode(f:read("a"))
    f:close()
    assert.are.equal("on_event hook failed: hook went wrong", written.outcome.error)
  end)

  real("a filter error is recorded the same way", function()
    local ok, err = pcall(gh.run, { "true" }, { output = false, filter = function() error({}) end })
    assert.is_false(ok)
    assert.are.equal("filter hook failed: (error object is not a string)", err)
    assert.are.equal("filter hook failed: (error object is not a string)",
      gh.last.receipt.outcome.error)
  end)

  real("extend adds nested tables that reach the written receipt", function()
    local out = tmp .. "/extend.json"
    gh.run({ "true" }, { output = out, extend = function(r)
      r.extra = { nested = { list = gh.json.array({ 1, 2 }), deep = { x = "y" } } }
    end })
    local f = assert(io.open(out))
    local r = gh.json.decode(f:read("a"))
    f:close()
    assert.are.same({ 1, 2 }, r.extra.nested.list)
    assert.are.equal("y", r.extra.nested.deep.x)
  end)

  real("a script can drive the primitives itself", function()
    local b = gh.backend.process()
    local col = assert(gh.collector.open({ ring_kb = 1024 }))
    local agg = gh.aggregator.new()
    col:attach(agg)
    assert(b:prepare())
    local pid = assert(b:start({ "/bin/sh", "-c", "echo y > " .. tmp .. "/e" }, function(p)
      col:track(p)
      agg:set_base(gh.core.monotonic())
      agg:root(p, gh.core.getpid(), gh.core.getcwd())
    end))
    local res = assert(b:wait(col))
    b:cleanup()
    col:drain()
    col:finish()
    local st = col:stats()
    local out = agg:result()
    local counts = col:syscall_counts()
    col:close()
    assert.are.equal(0, res.exit_code)
    assert.are.equal(pid, out.processes[1].pid)
    assert.are.equal("/bin/sh", out.processes[1].exe)
    assert.is_true(exists_in(out.filesystem.writes, tmp .. "/e"))
    assert.is_true(st.root_registered)
    assert.are.equal(0, st.lost)
    assert.are.equal(1, counts.execve)
  end)

  real("misuse of the primitives raises a message that names them", function()
    assert.has_error(function() gh.collector.open({ ring_kb = 3 }) end,
      "collector.open: ring_kb must be a power of two from 4 to 4194304, got 3")
    assert.has_error(function() gh.run({ "true" }, { filter = 42 }) end,
      "glasshouse.run: hook 'filter' must be a function, got number")
    local col = assert(gh.collector.open())
    col:close()
    assert.has_error(function() col:drain() end, "collector: the collector is closed")
  end)

  real("gh.last keeps the events of the last run when asked", function()
    gh.run({ "true" }, { output = false, keep_events = true })
    assert.is_table(gh.last.events)
    local kinds = {}
    for _, ev in ipairs(gh.last.events) do kinds[#kinds + 1] = ev.kind end
    assert.is_true(exists_in(kinds, "exec"))
    assert.is_true(exists_in(kinds, "exit"))
  end)
end)

describe("the examples on real runs", function()
  local GH = os.getenv("PWD") .. "/glasshouse"
  local function run(cmd)
    local p = io.popen("cd " .. tmp .. " && " .. cmd .. " 2>&1; echo \"rc=$?\"")
    local s = p:read("a")
    p:close()
    return s
  end

  real("audit.lua flags writes outside cwd and /tmp and programs run from writable dirs", function()
    os.execute("cp /bin/true " .. tmp .. "/mytrue")
    local s = run(GH .. " script " .. os.getenv("PWD") .. "/lua/examples/audit.lua -o audit.json -- sh -c "
      .. "'echo x > /var/tmp/gh-audit-probe; ./mytrue; rm /var/tmp/gh-audit-probe; echo ok > here'")
    assert.matches("audit: changed outside the working directory and /tmp: /var/tmp/gh%-audit%-probe", s)
    assert.matches("audit: program run from a writable directory: " .. tmp:gsub("%p", "%%%0") .. "/mytrue", s)
    assert.not_matches("here\n", s)
    assert.matches("rc=3\n$", s)
    local f = assert(io.open(tmp .. "/audit.json"))
    local r = gh.json.decode(f:read("a"))
    f:close()
    assert.are.equal(2, r.audit.flagged)
  end)

  real("audit.lua passes a clean command through with its status", function()
    local s = run(GH .. " script " .. os.getenv("PWD") .. "/lua/examples/audit.lua -o a2.json -- sh -c 'echo x > in-cwd; exit 6'")
    assert.are.equal("rc=6\n", s)
  end)

  real("network.lua summarises attempts", function()
    local s = run("RECEIPT=n.json " .. GH .. " script " .. os.getenv("PWD") .. "/lua/examples/network.lua -- "
      .. "sh -c 'exec 3<>/dev/tcp/127.0.0.1/1' ")
    -- dash has no /dev/tcp; use the workload when present
    assert.matches("network: %d+ attempts", s)
  end)

  real("top-files.lua ranks files by processes", function()
    local s = run("RECEIPT=t.json " .. GH .. " script " .. os.getenv("PWD") .. "/lua/examples/top-files.lua 3 -- "
      .. "sh -c 'cat /etc/hostname >/dev/null; cat /etc/hostname > /dev/null'")
    assert.matches("\n +2  /etc/hostname\n", s)
    assert.matches("rc=0\n$", s)
  end)

  real("enrich.lua adds host and git", function()
    run("git init -q g && cd g && git -c user.email=a@b -c user.name=n commit -q --allow-empty -m x && "
      .. GH .. " script " .. os.getenv("PWD") .. "/lua/examples/enrich.lua -o e.json -- true")
    local f = assert(io.open(tmp .. "/g/e.json"))
    local r = gh.json.decode(f:read("a"))
    f:close()
    assert.are.equal(gh.core.uname().nodename, r.host.name)
    assert.matches("^%x+$", r.git.commit)
    assert.are.equal(40, #r.git.commit)
    assert.is_false(r.git.dirty == nil)
  end)
end)
