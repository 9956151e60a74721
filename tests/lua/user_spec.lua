-- SPDX-License-Identifier: MIT
-- Who the command runs as (gh.command_user, core.user) and --network, through gh.run's flow.
local gh = require "glasshouse"
local backend = require "glasshouse.backend"

local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

-- A backend that starts nothing when told its set-up failed, as the process backend does.
local function fake(setup_failed)
  local b = {}
  function b:prepare() return true end
  function b:start(_, on_pid)
    if setup_failed then
      return nil, "cannot make the command's network namespace: Operation not permitted", "EPERM"
    end
    on_pid(7)
    return 7
  end
  function b:wait() return { exit_code = 0 } end
  function b:cleanup()
    return { pid = 7, exit_code = 0, start_ns = 1, duration_ns = 0, cpu_time_us = 0,
      max_rss_kb = 0, stdout_hash = EMPTY, stderr_hash = EMPTY, setup_failed = setup_failed }
  end
  function b:metadata() return { backend = "fake", isolation = "none" } end
  return b
end

local function caught(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  return err
end

describe("gh.command_user", function()
  it("is glasshouse's own user for false, and for nil in guest mode", function()
    assert.are.equal(false, gh.command_user(false))
    assert.are.equal(false, gh.command_user(nil, true))
  end)

  it("stops with a usage error naming an unknown user", function()
    assert.are.same({ glasshouse_usage = "unknown user 'no-such-user-x'" },
      caught(gh.command_user, "no-such-user-x"))
  end)

  it("looks up UID:GID, the group overriding", function()
    local u = gh.core.user("0:5")
    assert.are.same({ name = "root", uid = 0, gid = 5, home = "/root" },
      { name = u.name, uid = u.uid, gid = u.gid, home = u.home })
    assert.are.same({ nil, "unknown user 'no-such-user-x'", "ENOENT" },
      { gh.core.user("no-such-user-x") })
  end)
end)

describe("gh.run's user and network", function()
  it("names the user and the network in the receipt", function()
    local r = gh.run({ "true" }, { backend = fake(false), output = false, collector = false,
      user = { uid = 54321, gid = 54321, name = "alice" }, network = "none" })
    assert.are.same({ "alice", "none" }, { r.environment.user, r.environment.sandbox.network })
    assert.are.equal("alice", gh.last.user.name)
  end)

  it("refuses in one line, with no receipt, when the backend could not set up", function()
    assert.are.same(
      { glasshouse_refuse = "cannot make the command's network namespace: Operation not permitted" },
      caught(gh.run, { "true" }, { backend = fake(true), output = false, collector = false }))
  end)

  it("backend.new takes host, none or loopback only", function()
    backend.new("process", { network = "loopback" }):close()
    assert.are.equal(
      "backend.new: option 'network' must be host, none or loopback, got bogus",
      caught(backend.new, "process", { network = "bogus" }))
  end)
end)
