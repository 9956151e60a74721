-- SPDX-License-Identifier: MIT
-- gh.policy: loading (and refusing) policy files, glob rules of every kind, rules functions over
-- events, finally, and the verdict's block in the receipt.
local gh = require "glasshouse"
local json = require "glasshouse.json"
local receipt = require "glasshouse.receipt"

local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)

-- A policy file with text src; returns its path.
local function file(name, src)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(src)
  f:close()
  return path
end

local function load(src)
  return gh.policy.load(file("p.lua", src))
end

-- One receipt with one of each: exec, read, write (open, create, delete, rename), connect.
local function sample()
  return {
    process_tree = {
      { pid = 10, ppid = 1, exe = "/usr/bin/sh", argv = { "sh" }, working_dir = "/w" },
      { pid = 11, ppid = 10, exe = "/opt/evil/bin/x", argv = { "x" }, working_dir = "/w" },
    },
    filesystem = { reads = { "/etc/shadow", "/w/src/a.c" }, writes = { "/w/out.o" },
      created = { "/w/new dir" }, deletes = { "/etc/gone" },
      renames = { { from = "/w/t", to = "/etc/moved" } } },
    network = { attempts = {
      { dst = "127.0.0.1:8080", op = "connect", pid = 11, protocol = "tcp", result = "connected" },
      { dst = "10.0.0.1:53", op = "sendto", pid = 10, protocol = "udp", result = "sent" },
      { dst = "/run/x.sock", op = "connect", pid = 11, protocol = "unix", result = "refused" } } },
    outcome = { exit_code = 0 },
    collector = { complete = true },
  }
end

local function rules_of(v)
  local out = {}
  for i, x in ipairs(v.violations) do out[i] = x.rule .. " " .. (x.path or x.dst or "") end
  return out
end

describe("gh.policy.load", function()
  it("takes a policy and names it, with the file's sha256", function()
    local src = 'return { name = "ci", read = { deny = { "/etc/shadow" } } }\n'
    local p = assert(load(src))
    assert.are.equal("ci", p.name)
    assert.are.equal(gh.sha256(src), p.sha256)
    assert.are.equal(dir .. "/p.lua", p.source)
  end)

  it("refuses a syntax error, an unknown key, a bad glob and a non-table with file:line", function()
    local path = dir .. "/p.lua"
    assert.are.same({ nil, path .. ":2: unexpected symbol near '}'" }, { load("return {\n  x = }\n") })
    assert.are.same({ nil, path .. ":3: unknown key 'wrte' (known: name, exec, read, write, "
      .. "connect, rules, finally, enforce)" }, { load("return {\n  name = 'a',\n  wrte = {},\n}\n") })
    assert.are.same({ nil, path .. ":2: unknown key 'alow' in exec (allow, deny)" },
      { load("return {\n  exec = { alow = { '/x' } },\n}\n") })
    assert.are.same({ nil, path .. ":3: bad glob in write.allow: '/a**b': ** must be a whole "
      .. "path component" },
      { load("return {\n  read = { deny = { '/x' } },\n  write = { allow = { '/a**b' } },\n}\n") })
    assert.are.same({ nil, path .. ":2: bad glob in connect.allow: the receipt writes '0::1' as "
      .. "'::1'" }, { load("return {\n  connect = { allow = { '127.0.0.1:*', '[0::1]:*' } },\n}\n") })
    assert.are.same({ nil, path .. ":1: bad glob in connect.deny: '127.1' is no IPv4 address as "
      .. "the receipt writes destinations (1.2.3.4:80)" },
      { load("return { connect = { deny = { '127.1:*' } } }\n") })
    assert.is_truthy(load("return { connect = { deny = { '10.0.*.*:80', '[::ffff:127.0.0.1]:*', "
      .. "'[*]:53', '*:443', 'unix:/run/**' } } }\n"))
    assert.are.same({ nil, path .. ":1: a policy returns a table, this one returned number" },
      { load("return 1\n") })
    assert.are.same({ nil, path .. ":2: boom" }, { load("local x = 1\nerror('boom')\n") })
    assert.are.same({ nil, path .. ":1: rules[1] must be a function, got string" },
      { load("return { rules = { 'x' } }\n") })
  end)
end)

describe("p:check", function()
  it("allow: whatever matches no entry is a violation, for every kind", function()
    local p = assert(load([[return {
      exec = { allow = { "/usr/bin/**" } },
      read = { allow = { "./**" } },
      write = { allow = { "./**" } },
      connect = { allow = { "127.0.0.1:*", "unix:/run/**" } },
    }]]))
    local v = p:check(sample(), nil, { home = "/home/u" })
    assert.are.equal("fail", v.verdict)
    assert.are.same({ "exec.allow /opt/evil/bin/x", "read.allow /etc/shadow",
      "write.allow /etc/gone", "write.allow /etc/moved", "connect.allow 10.0.0.1:53" },
      rules_of(v))
    assert.are.same({ rule = "exec.allow", kind = "exec", pid = 11, exe = "/opt/evil/bin/x",
      path = "/opt/evil/bin/x", message = "exec /opt/evil/bin/x matches no allow entry" },
      v.violations[1])
    assert.are.same({ rule = "connect.allow", kind = "connect", pid = 10, exe = "/usr/bin/sh",
      dst = "10.0.0.1:53", message = "connect 10.0.0.1:53 matches no allow entry" },
      v.violations[5])
  end)

  it("deny: a match is a violation, for every kind, and deny wins over allow", function()
    local p = assert(load([[return {
      exec = { deny = { "/opt/**" } },
      read = { allow = { "/**" }, deny = { "/etc/shadow" } },
      write = { deny = { "/etc/*", "./new dir" } },
      connect = { deny = { "unix:*", "*:8080" } },
    }]]))
    local v = p:check(sample())
    assert.are.same({ "exec.deny /opt/evil/bin/x", "read.deny /etc/shadow",
      "write.deny /w/new dir", "write.deny /etc/gone", "write.deny /etc/moved",
      "connect.deny 127.0.0.1:8080", "connect.deny unix:/run/x.sock" }, rules_of(v))
    assert.are.equal("read /etc/shadow matches deny '/etc/shadow'", v.violations[2].message)
  end)

  it("passes a receipt that breaks no rule", function()
    local p = assert(load('return { read = { deny = { "~/.ssh/**" } } }'))
    local v = p:check(sample(), nil, { home = "/home/u" })
    assert.are.same({ "pass", {}, false }, { v.verdict, v.violations, v.events_checked })
  end)

  it("runs rules functions on events: a string is a violation with that message", function()
    local p = assert(load([[return { rules = {
      function(ev) if ev.kind == "exec" and ev.exe:find("curl") then return "no curl" end end,
      function(ev) if ev.kind == "connect" then return "no network" end end,
    } }]]))
    local events = { { kind = "fork", pid = 12, parent = 10 },
      { kind = "exec", pid = 12, exe = "/usr/bin/curl", argv = { "curl" } },
      { kind = "connect", pid = 12, dst = "1.1.1.1:443", protocol = "tcp", result = "connected" } }
    local v = p:check(sample(), events)
    assert.are.equal("fail", v.verdict)
    assert.is_true(v.events_checked)
    assert.are.same({ rule = "rules[1]", kind = "exec", pid = 12, exe = "/usr/bin/curl",
      message = "no curl" }, v.violations[1])
    assert.are.same({ rule = "rules[2]", kind = "connect", pid = 12, exe = "/usr/bin/curl",
      dst = "1.1.1.1:443", message = "no network" }, v.violations[2])
  end)

  it("makes a raising rules function or finally an error, never a pass", function()
    local p = assert(load("return { rules = { function(ev)\n error('boom')\n end } }"))
    local v = p:check(sample(), { { kind = "exit", pid = 10 } })
    assert.are.same({ "error", "rules[1]: " .. dir .. "/p.lua:2: boom" }, { v.verdict, v.error })
    p = assert(load("return { finally = function(r)\n  return r.nosuch.x\nend }"))
    v = p:check(sample())
    assert.are.equal("error", v.verdict)
    assert.matches("^finally: " .. dir:gsub("%p", "%%%0") .. "/p.lua:2: attempt to index",
      v.error)
    p = assert(load("return { rules = { function() return 42 end } }"))
    assert.are.equal("rules[1]: returned a number; return a message (string) for a violation, "
      .. "or nothing", p:check(sample(), { { kind = "exit", pid = 1 } }).error)
  end)

  it("gives finally the receipt: a message or a list of them", function()
    local p = assert(load([[return { finally = function(r)
      if r.outcome.exit_code == 0 then return { "one", "two" } end end }]]))
    local v = p:check(sample())
    assert.are.same({ "finally ", "finally " }, rules_of(v))
    assert.are.same({ "one", "two" }, { v.violations[1].message, v.violations[2].message })
  end)
end)

-- `env ./s.sh` in /w, s.sh a #! script for /bin/sh (dash), which forks a child that runs no
-- program: the receipt (exec chain env, then the script; the child's execs empty) and the events
-- of the same run.
local function script_run()
  local null = json.null
  local r = {
    process_tree = {
      { pid = 20, ppid = 1, exe = "/usr/bin/dash", script = "/w/s.sh",
        argv = { "/bin/sh", "./s.sh" }, working_dir = "/w", execs = {
          { exe = "/usr/bin/env", script = null, argv = { "env", "./s.sh" }, working_dir = "/w" },
          { exe = "/usr/bin/dash", script = "/w/s.sh", argv = { "/bin/sh", "./s.sh" },
            working_dir = "/w" } } },
      { pid = 21, ppid = 20, exe = "/usr/bin/dash", script = "/w/s.sh",
        argv = { "/bin/sh", "./s.sh" }, working_dir = "/w", execs = {} },
    },
    outcome = { exit_code = 0 },
  }
  local events = {
    { kind = "exec", pid = 20, exe = "/usr/bin/env", argv = { "env", "./s.sh" }, cwd = "/w" },
    { kind = "exec", pid = 20, exe = "/w/s.sh", interpreter = "/usr/bin/dash",
      argv = { "/bin/sh", "./s.sh" }, cwd = "/w" },
    { kind = "fork", pid = 21, parent = 20 },
    { kind = "exit", pid = 21 },
    { kind = "exit", pid = 20 },
  }
  return r, events
end

describe("exec rules on scripts and exec chains", function()
  -- policy src's violations on script_run() are want, offline (the receipt alone) and live
  -- (its events)
  local function judged(src, want)
    local p = assert(load(src))
    local r, events = script_run()
    assert.are.same(want, p:check(r).violations)
    assert.are.same(want, p:check(r, events).violations)
  end
  local function exec_v(rule, pid, exe, path, why)
    return { rule = rule, kind = "exec", pid = pid, exe = exe, path = path,
      message = "exec " .. path .. " " .. why }
  end

  it("a script whose interpreter is denied: the script's process, once", function()
    judged('return { exec = { deny = { "/usr/bin/dash" } } }', { exec_v("exec.deny", 20,
      "/usr/bin/dash", "/usr/bin/dash", "matches deny '/usr/bin/dash'") })
  end)

  it("a script whose own path is denied, or outside an allow list", function()
    judged('return { exec = { deny = { "./*.sh" } } }', { exec_v("exec.deny", 20,
      "/usr/bin/dash", "/w/s.sh", "matches deny './*.sh'") })
    judged('return { exec = { allow = { "/usr/bin/**" } } }', { exec_v("exec.allow", 20,
      "/usr/bin/dash", "/w/s.sh", "matches no allow entry") })
  end)

  it("an exec chain whose first program is denied: it, named as the process's then", function()
    judged('return { exec = { deny = { "/usr/bin/env" } } }', { exec_v("exec.deny", 20,
      "/usr/bin/env", "/usr/bin/env", "matches deny '/usr/bin/env'") })
  end)

  it("every program of the chain, in the order it ran", function()
    local no = "matches no allow entry"
    judged('return { exec = { allow = { "/opt/**" } } }', {
      exec_v("exec.allow", 20, "/usr/bin/env", "/usr/bin/env", no),
      exec_v("exec.allow", 20, "/usr/bin/dash", "/w/s.sh", no),
      exec_v("exec.allow", 20, "/usr/bin/dash", "/usr/bin/dash", no) })
  end)

  it("judges a process's exe when the receipt lists no execs for it", function()
    local p = assert(load('return { exec = { deny = { "/usr/bin/dash" } } }'))
    local r = script_run()
    r.process_tree[1].execs = nil
    r.process_tree[2].execs = nil
    local v = p:check(r).violations
    assert.are.same({ 20, 21 }, { v[1].pid, v[2].pid, v[3] })
    -- the command's own process with no exec seen (no collector): its program
    r = { process_tree = { { pid = 30, ppid = 1, exe = "/usr/bin/dash", execs = {} } } }
    assert.are.same({ exec_v("exec.deny", 30, "/usr/bin/dash", "/usr/bin/dash",
      "matches deny '/usr/bin/dash'") }, p:check(r).violations)
  end)
end)

describe("receipt.policy", function()
  it("is the block the receipt carries, in its key order", function()
    local p = assert(load('return { name = "n", exec = { deny = { "/opt/**" } } }'))
    local v = p:check(sample())
    assert.are.equal('{"name":"n","source":"' .. dir .. '/p.lua","sha256":"' .. p.sha256
      .. '","verdict":"fail","enforced":false,"enforcement":null,"error":null,"violations":[{"rule":"exec.deny",'
      .. '"kind":"exec","pid":11,"exe":"/opt/evil/bin/x","path":"/opt/evil/bin/x","message":'
      .. '"exec /opt/evil/bin/x matches deny \'/opt/**\'"}]}',
      json.encode(receipt.policy(v), { compact = true }))
  end)
end)

describe("p:context_error and glob.expand", function()
  it("refuses a ~ glob without a home, with file:line; joins a base ending in / once", function()
    local p = assert(load('return {\n  read = { deny = { "/x", "~/.ssh/**" } },\n}\n'))
    assert.are.equal(dir .. "/p.lua:2: bad glob in read.deny: '~' needs a home directory "
      .. "($HOME is unset)", p:context_error({ cwd = "/w" }))
    assert.is_nil(p:context_error({ cwd = "/w", home = "/h" }))
    local glob = require "glasshouse.glob"
    assert.are.equal("/**", glob.expand("./**", { cwd = "/" }))
    assert.are.equal("/", glob.expand(".", { cwd = "/" }))
    assert.are.equal("/h/.ssh/**", glob.expand("~/.ssh/**", { home = "/h/" }))
    assert.are.equal("/**", glob.expand("~/**", { home = "/" }))
    assert.is_true(glob.matches(glob.compile("./**", { cwd = "/" }), "/tmp/x"))
    assert.is_true(glob.matches(glob.compile("~/**", { home = "/h/" }), "/h/f"))
    -- the cwd's and home's own bytes are names, not globs (anyone can make /tmp/a* or /tmp/**)
    local star = glob.compile("./**", { cwd = "/tmp/a*b" })
    assert.is_false(glob.matches(star, "/tmp/aXb/f"))
    assert.is_true(glob.matches(star, "/tmp/a*b/f"))
    local dstar = glob.compile("~/x", { home = "/tmp/**" })
    assert.is_false(glob.matches(dstar, "/tmp/a/b/x"))
    assert.is_true(glob.matches(dstar, "/tmp/**/x"))
  end)
end)

describe("policy.event_subjects", function()
  local es = gh.policy.event_subjects
  it("names what the glob rules judge in each event kind", function()
    assert.are.same({ { "exec", "/bin/x", "path" } }, es({ kind = "exec", exe = "/bin/x" }))
    assert.are.same({ { "exec", "/w/s.sh", "path" }, { "exec", "/usr/bin/dash", "path" } },
      es({ kind = "exec", exe = "/w/s.sh", interpreter = "/usr/bin/dash" }))
    -- a script run through a descriptor (fexecve) is known as /dev/fd/N: its interpreter alone
    assert.are.same({ { "exec", "/usr/bin/dash", "path" } },
      es({ kind = "exec", exe = "/dev/fd/3", interpreter = "/usr/bin/dash" }))
    assert.are.same({ { "read", "/a", "path" } }, es({ kind = "open", path = "/a", flags = 0 }))
    assert.are.same({ { "write", "/a", "path" } },
      es({ kind = "open", path = "/a", flags = 1, write = true }))
    assert.are.same({ { "read", "/a", "path" }, { "write", "/a", "path" } },
      es({ kind = "open", path = "/a", flags = 2, write = true }))
    assert.are.same({}, es({ kind = "open", path = "/a", flags = 0x200000 }))
    assert.are.same({}, es({ kind = "open", path = "/d", flags = 0, directory = true }))
    assert.are.same({}, es({ kind = "open", path = "/a", flags = 0, error = "ENOENT" }))
    -- a descriptor that can read is a read, whatever else the flags ask (O_CREAT 0x40,
    -- O_TRUNC 0x200, O_APPEND 0x400); access mode 3 neither reads nor writes
    for _, f in ipairs({ 0x40, 0x200, 0x400 }) do
      assert.are.same({ { "read", "/a", "path" }, { "write", "/a", "path" } },
        es({ kind = "open", path = "/a", flags = f, write = true }), f)
    end
    assert.are.same({}, es({ kind = "open", path = "/a", flags = 3 }))
    assert.are.same({ { "write", "/x", "path" }, { "write", "/y", "path" } },
      es({ kind = "rename", from = "/x", to = "/y" }))
    -- a link writes the name it makes, not the file it links to (the receipt lists only that)
    assert.are.same({ { "write", "/y", "path" } }, es({ kind = "link", from = "/x", to = "/y" }))
    for _, k in ipairs({ "unlink", "mkdir", "mknod", "symlink" }) do
      assert.are.same({ { "write", "/p", "path" } }, es({ kind = k, path = "/p" }))
    end
    assert.are.same({ { "connect", "unix:/run/s", "dst" } }, es({ kind = "connect", dst = "/run/s" }))
    assert.are.same({ { "connect", "1.2.3.4:53", "dst" } }, es({ kind = "send", dst = "1.2.3.4:53" }))
    assert.are.same({}, es({ kind = "send" }))
    -- netlink: the kernel's own messages (glibc's getaddrinfo), no destination
    for _, x in ipairs(es({ kind = "send", dst = "family 16" })) do assert.is_nil(x[2]) end
    assert.are.same({}, es({ kind = "bind", address = "0.0.0.0:80" }))
  end)

  it("lets events name the process of a file violation, judged once", function()
    local p = assert(load('return { read = { deny = { "/etc/shadow" } } }'))
    local v = p:check(sample(), { { kind = "fork", pid = 12, parent = 10 },
      { kind = "exec", pid = 12, exe = "/usr/bin/cat" },
      { kind = "open", pid = 12, path = "/etc/shadow", flags = 0 } })
    assert.are.same({ { rule = "read.deny", kind = "read", pid = 12, exe = "/usr/bin/cat",
      path = "/etc/shadow", message = "read /etc/shadow matches deny '/etc/shadow'" } },
      v.violations)
  end)
end)
