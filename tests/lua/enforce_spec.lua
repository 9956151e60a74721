-- SPDX-License-Identifier: MIT
-- glasshouse.enforce: which globs the kernel can decide exactly as glob.lua does, and what it
-- is given for them; each kind's mode. (The kills themselves: tests/bpf/enforce_test.sh.)
local enforce = require "glasshouse.enforce"
local glob = require "glasshouse.glob"

local ctx = { cwd = "/w", home = "/home/u" }

describe("enforce: path globs (exec, read, write) for the kernel", function()
  it("exact paths and trailing /** prefixes, with ./ and ~ expanded", function()
    assert.are.same({ path = "/usr/bin/env", prefix = false }, enforce._path_entry("/usr/bin/env", ctx))
    assert.are.same({ path = "/usr/bin", prefix = true }, enforce._path_entry("/usr/bin/**", ctx))
    assert.are.same({ path = "/usr/bin", prefix = true }, enforce._path_entry("/usr/bin/**/", ctx))
    assert.are.same({ path = "/w/tools", prefix = true }, enforce._path_entry("./tools/**", ctx))
    assert.are.same({ path = "/home/u/bin/x", prefix = false }, enforce._path_entry("~/bin/x", ctx))
    assert.are.same({ path = "", prefix = true }, enforce._path_entry("/**", ctx))
    assert.are.same({ path = "", prefix = true }, enforce._path_entry("**", ctx))
    -- a base ending in "/" (the root as cwd, a $HOME written with a slash) joins once
    assert.are.same({ path = "", prefix = true }, enforce._path_entry("./**", { cwd = "/" }))
    assert.are.same({ path = "/h/x", prefix = false }, enforce._path_entry("~/x", { home = "/h/" }))
    -- a '*' or '**' in the cwd's own name is a byte: the kernel decides the rule exactly
    assert.are.same({ path = "/tmp/a*b", prefix = true }, enforce._path_entry("./**", { cwd = "/tmp/a*b" }))
    assert.are.same({ path = "/tmp/**", prefix = false }, enforce._path_entry(".", { cwd = "/tmp/**" }))
    assert.are.same({ path = "/a b/\n\255", prefix = false }, enforce._path_entry("/a b/\n\255", ctx))
  end)
  it("leaves * within a component and ** elsewhere to user space", function()
    for _, g in ipairs({ "/usr/bin/*", "/usr/*/env", "/usr/**/env", "**/env", "/usr/bin/py*" }) do
      assert.is_nil(enforce._path_entry(g, ctx), g)
    end
  end)
  it("decides as the glob does: a prefix matches the directory itself and everything under it", function()
    local m = glob.compile("/usr/bin/**", ctx)
    assert.is_true(glob.test(m, "/usr/bin"))
    assert.is_true(glob.test(m, "/usr/bin/a/b"))
    assert.is_false(glob.test(m, "/usr/binx"))
  end)
end)

describe("enforce: connect globs for the kernel", function()
  local function per(g)
    local r = enforce._net_entries(g)
    return { inet = r.inet, inet6 = r.inet6, unix = r.unix, other = r.other }
  end
  it("ip:port with * for either, per family", function()
    assert.are.same({ inet = { { addr = "127.0.0.1" } }, inet6 = false, unix = false, other = false },
      per("127.0.0.1:*"))
    assert.are.same({ inet = { { addr = "10.0.0.1", port = 443 } }, inet6 = false, unix = false,
      other = false }, per("10.0.0.1:443"))
    assert.are.same({ inet = false, inet6 = { { addr = "::1" } }, unix = false, other = false },
      per("[::1]:*"))
    assert.are.same({ inet = false, inet6 = { { port = 53 } }, unix = false, other = false },
      per("[*]:53"))
  end)
  it("unix:* is every unix name; * and *:* everything a colon's glob can match", function()
    assert.are.same({ inet = false, inet6 = false, unix = { {} }, other = false }, per("unix:*"))
    assert.are.same({ inet = { {} }, inet6 = { {} }, unix = { {} }, other = { {} } }, per("*"))
    assert.are.same({ inet = { {} }, inet6 = { {} }, unix = { {} }, other = false }, per("*:*"))
  end)
  it("leaves to user space what it cannot say exactly for a family", function()
    assert.are.same({ inet = { { port = 80 } }, inet6 = { { port = 80 } }, other = false }, per("*:80"))
    assert.are.same({ inet = false, inet6 = false, other = false }, per("unix:/run/*"))
    assert.are.same({ inet6 = false, unix = false, other = false }, per("10.0.*.*:80"))
    assert.are.same({ inet6 = false, unix = false, other = false }, per("127.0.0.1:8*"))
    assert.are.same({}, per("loc*"))
  end)
end)

describe("enforce: modes", function()
  local function policy(spec) return { spec = spec } end
  it("kernel for the exec, read, write and connect rules it can decide, user for the rest",
    function()
      local e = enforce.new(policy({ exec = { allow = { "/usr/**" } }, read = { deny = { "/x" } },
        write = { allow = { "./**" } }, connect = { allow = { "127.0.0.1:*", "unix:*" } },
        rules = { function() end } }), ctx)
      assert.are.same({ exec = "kernel", read = "kernel", write = "kernel", connect = "kernel",
        rules = "user" }, e.modes)
    end)
  it("one glob the kernel cannot decide makes its kind user's", function()
    local e = enforce.new(policy({ exec = { allow = { "/usr/**", "/opt/*/bin/**" } },
      read = { deny = { "~/.ssh/id_*" } }, write = { allow = { "/tmp/**/x" } },
      connect = { deny = { "unix:/run/*" } } }), ctx)
    assert.are.same({ exec = "user", read = "user", write = "user", connect = "user" }, e.modes)
  end)
end)

describe("enforce: the kernel's path entries", function()
  local B = { exec = { allow = 1, deny = 2 }, read = { allow = 4, deny = 8 },
    write = { allow = 16, deny = 32 } }
  local function bits(kind, which) return B[kind][which] end
  local function e(path, prefix) return { path = path, prefix = prefix } end
  it("fold every shorter prefix's bits into the entries it covers, one entry per key", function()
    local got = enforce._entries({
      { "write", "allow", e("/w", true) },
      { "write", "deny", e("/w/secret", false) },
      { "read", "deny", e("/w/secret", false) },
      { "exec", "deny", e("", true) },
      { "read", "allow", e("/w", false) },
      { "write", "allow", e("/wx", true) },
    }, bits)
    -- in key order: "/", "/w\0", "/w/", "/w/secret\0", "/wx/"
    assert.are.same({
      { path = "", prefix = true, bits = 2 },
      { path = "/w", prefix = false, bits = 2 | 4 },
      { path = "/w", prefix = true, bits = 2 | 16 },
      { path = "/w/secret", prefix = false, bits = 2 | 16 | 32 | 8 },
      { path = "/wx", prefix = true, bits = 2 | 16 },
    }, got)
  end)
end)

describe("enforce: modes of absent kinds", function()
  local function policy(spec) return { spec = spec } end
  it("no rules of a kind: no mode", function()
    assert.are.same({}, enforce.new(policy({}), ctx).modes)
  end)
end)
