-- SPDX-License-Identifier: MIT
-- glasshouse.replay on event logs written here (no eBPF needed): hooks, the receipt, cut logs.
local gh = require "glasshouse"

local tmp = os.tmpname()

local HEADER = '{"kind":"header","format":"glasshouse-events","format_version":2,'
  .. '"glasshouse_version":"0","host":"h","kernel":"k","uname":{"sysname":"Linux","machine":"x86_64"},'
  .. '"time_ns":1796187021003327259,"argv":["tool","a\\udcffb"],"cwd":"/w","ppid":10,'
  .. '"fallback_start_ns":1796187020969987736,"metadata":{"backend":"process","isolation":"none"},'
  .. '"collector":{"status":"ok","probes":{"attached":["tp_btf/sys_exit"],"missing":[]}}}'
local START = '{"kind":"start","pid":100,"ppid":10,"cwd":"/w","base_ns":1000000000}'
local EVENTS = {
  '{"kind":"open","pid":100,"tid":100,"time_ns":1002000000,"syscall":"openat","path":"/etc/hosts",'
    .. '"rec":[6,257,100,100,0,0,1002000000,3,0,0,0,0,0,0,0,0,0,0,["/etc/hosts",""]]}',
  '{"kind":"open","pid":100,"tid":100,"time_ns":1003000000,"syscall":"openat","path":"/w/o\\nut",'
    .. '"rec":[6,257,100,100,0,577,1003000000,4,0,0,2,0,0,0,0,0,0,0,["o\\nut",""]]}',
  '{"kind":"exit","pid":100,"tid":100,"time_ns":1004000000,"exit_code":3,'
    .. '"rec":[4,65535,100,100,0,0,1004000000,768,0,0,0,0,0,0,0,0,0,0,[]]}',
}
local TRAILER = {
  '{"kind":"sockets","sockets":[]}',
  '{"kind":"end","started":true,"result":{"pid":100,"exit_code":3,"start_ns":1796187021005104556,'
    .. '"duration_ns":5560812,"cpu_time_us":4509,"max_rss_kb":100,"stdout_bytes":0,"stderr_bytes":0,'
    .. '"stdout_hash":"' .. gh.sha256("") .. '","stderr_hash":"' .. gh.sha256("") .. '",'
    .. '"stdout_reader_closed":false,"stderr_reader_closed":false},"errors":[],'
    .. '"metadata":{"backend":"process","isolation":"none"},'
    .. '"collector":{"stats":{"events":3,"lost":0,"truncated":0,"malformed":0,"sockets_full":0,'
    .. '"root_registered":true},"probes":{"attached":["tp_btf/sys_exit"],"missing":[]},'
    .. '"syscall_counts":{"openat":2}},"log":{"events":3,"dropped":0}}',
}

local function write_log(lines)
  local f = assert(io.open(tmp, "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end

local function whole()
  local t = { HEADER, START }
  for _, l in ipairs(EVENTS) do t[#t + 1] = l end
  for _, l in ipairs(TRAILER) do t[#t + 1] = l end
  return t
end

describe("gh.replay", function()
  after_each(function() os.remove(tmp) end)

  it("rebuilds the receipt of a whole log, the hooks seeing every event in order", function()
    write_log(whole())
    local seen = {}
    local r, werr, status, msg = gh.replay(tmp, { output = false,
      on_event = function(ev) seen[#seen + 1] = ev.kind .. " " .. (ev.path or ev.exit_code) end })
    assert.is_nil(werr)
    assert.are.equal(0, status)
    assert.is_nil(msg)
    assert.are.same({ "open /etc/hosts", "open /w/o\nut", "exit 3" }, seen)
    assert.are.equal(3, r.outcome.exit_code)
    assert.are.same({ "/etc/hosts" }, { table.unpack(r.filesystem.reads) })
    assert.are.same({ "/w/o\nut" }, { table.unpack(r.filesystem.created) })
    assert.are.same({ "tool", "a\255b" }, require("glasshouse.replay").header(tmp).argv)
    assert.are.equal("2026-12-02T04:50:21.005104556Z", r.timestamp)
    assert.are.equal(2, r.syscalls.counts.openat)
    assert.is_true(r.collector.complete)
  end)

  it("keeps the event tables in gh.last.events with keep_events (the REPL's default)", function()
    write_log(whole())
    gh.replay(tmp, { output = false, keep_events = true })
    assert.are.equal(3, #gh.last.events)
    assert.are.same({ "open", 100, 100, 1003000000, "openat", "/w/o\nut", 577, true, true, false,
      4 }, { gh.last.events[2].kind, gh.last.events[2].pid, gh.last.events[2].tid,
      gh.last.events[2].time_ns, gh.last.events[2].syscall, gh.last.events[2].path,
      gh.last.events[2].flags, gh.last.events[2].write, gh.last.events[2].created,
      gh.last.events[2].directory, gh.last.events[2].fd })
  end)

  it("says where a cut log stops, and marks the receipt incomplete", function()
    local lines = whole()
    lines[#lines] = nil
    lines[#lines] = lines[#lines]:sub(1, 10)
    local f = assert(io.open(tmp, "wb"))
    f:write(table.concat(lines, "\n"))
    f:close()
    local r, _, status, msg = gh.replay(tmp, { output = false })
    assert.are.equal(1, status)
    assert.are.equal(tmp .. ":6: the line is cut short (no newline at its end)", msg)
    assert.is_false(r.collector.complete)
    assert.are.equal("event log incomplete: " .. msg, r.collector.error)
    assert.are.equal(3, r.outcome.exit_code) -- the command's process's exit, from the log
  end)

  it("a filter that drops events is active, as live", function()
    write_log(whole())
    local r = gh.replay(tmp, { output = false, filter = function(ev) return ev.kind ~= "open" end })
    assert.are.equal(0, #r.filesystem.reads)
    assert.is_true(r.collector.filter_active)
    assert.are.equal(2, gh.last.stats.filtered)
  end)

  it("refuses what is not an event log (status 2, no receipt)", function()
    write_log({ '{"kind":"header","format":"other"}' })
    local r, _, status, msg = gh.replay(tmp, { output = false })
    assert.is_nil(r)
    assert.are.equal(2, status)
    assert.are.equal(tmp .. ": not a glasshouse event log", msg)
  end)
end)

describe("gh.policy_log", function()
  local pol = os.tmpname()
  local f = assert(io.open(pol, "wb"))
  f:write('return { name = "p", rules = { function(ev) if ev.path == "/etc/hosts" then '
    .. 'return "no hosts" end end } }\n')
  f:close()
  local p = assert(gh.policy.load(pol))
  after_each(function() os.remove(tmp) end)
  teardown(function() os.remove(pol) end)

  it("policy_log__rules_function__judges_the_logged_events", function()
    write_log(whole())
    local v, r, damage = gh.policy_log(p, tmp)
    assert.are.equal("fail", v.verdict)
    assert.are.same({ { rule = "rules[1]", kind = "open", pid = 100, path = "/etc/hosts",
      message = "no hosts" } }, v.violations)
    assert.is_true(v.events_checked)
    assert.is_nil(damage)
    local v2, r2 = gh.policy_log(p, tmp, r)
    assert.are.same(v.violations, v2.violations)
    assert.are.equal(r, r2)
  end)

  it("policy_log__receipt_of_another_run__refused_naming_both", function()
    write_log(whole())
    local other = { execution_id = "abc", process_tree = {} }
    local v, msg = gh.policy_log(p, tmp, other, "o.json")
    assert.is_nil(v)
    local id = gh.replay(tmp, { output = false }).execution_id
    assert.are.equal(tmp .. " is the event log of another run (execution_id " .. id
      .. "; o.json has abc)", msg)
  end)

  it("policy_log__cut_log__judged_with_what_it_lacks", function()
    local lines = whole()
    lines[#lines] = nil
    write_log(lines)
    local v, _, damage = gh.policy_log(p, tmp)
    assert.are.equal(1, #v.violations)
    assert.are.equal(tmp .. ":7: the log ends before its end line", damage)
  end)
end)
