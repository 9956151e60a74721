-- SPDX-License-Identifier: MIT
-- glasshouse.replay: gh.run over an event log (docs/events.md) instead of a command. The log's
-- records go through the same pipeline (hooks, aggregator) as the live run's did.
local collector = require "glasshouse.collector"
local aggregator = require "glasshouse.aggregator"
local json = require "glasshouse.json"

local M = {}

M.FORMAT, M.VERSION = "glasshouse-events", 2

local function null_to_nil(v)
  if v == json.null then return nil end
  return v
end

--- header(file) -> header table | nil, message, status: the log's first line, checked.
function M.header(file)
  local col, err = collector.replay(file)
  if not col then return nil, err, 2 end
  local h = col:next_line()
  col:close()
  if type(h) ~= "table" or h.kind ~= "header" or h.format ~= M.FORMAT then
    return nil, file .. ": not a glasshouse event log", 2
  end
  if type(h.format_version) ~= "number" or h.format_version ~= M.VERSION then
    return nil, string.format("%s: event log format version %s; this glasshouse reads %d",
      file, tostring(h.format_version), M.VERSION), 2
  end
  return h
end

-- Every line after the header: events through the pipeline, the others into log.
local function read_lines(col, agg, file)
  local log = {}
  while true do
    local t, n, lineno = col:next_line()
    log.lines = n
    if t == nil then break end
    if t == false then
      log.damage = string.format("%s:%d: %s", file, lineno, n)
      break
    end
    if t.kind == "start" then
      log.start = t
      agg:set_base(t.base_ns)
      agg:root(t.pid, t.ppid, t.cwd, nil)
    elseif t.kind == "sockets" then
      for _, s in ipairs(t.sockets) do agg:sock_bytes(s[1], s[2], s[3]) end
    elseif t.kind == "end" then
      log["end"] = t
      local dropped = t.log and t.log.dropped or 0
      if dropped > 0 then
        log.damage = string.format("%s:%d: %d events were dropped from the log (its reader " ..
          "was too slow)", file, n, dropped)
      end
    end -- kinds a later format adds are passed over
  end
  if not log.damage and not log["end"] then
    log.damage = string.format("%s:%d: the log ends before its end line", file,
      log.lines + 1)
  end
  return log
end

-- The collector block of the receipt, from the log's trailer (or what a cut log holds).
local function collector_block(h, e, st, hooks, damage, observed)
  local gh = require "glasshouse"
  local hc = h.collector or {}
  if hc.status == "unavailable" then
    return gh._collector_info(nil, null_to_nil(hc.error))
  end
  local ec = e and e.collector or {}
  local stats = ec.stats or { events = st.replayed, lost = 0, truncated = 0, malformed = 0,
    sockets_full = 0, root_registered = true }
  stats.filtered, stats.hook_error, stats.started = st.filtered, st.hook_error, true
  -- still running at the end of the run, as the aggregate says (a cut log's processes whose
  -- exit it lacks were not: the log just stops, and collector.error says where)
  stats.running = e and gh._running(observed) or 0
  local c = gh._collector_info(true, nil, stats, ec.probes or hc.probes or
    { attached = {}, missing = {} }, hooks.filter ~= nil)
  if damage then
    c.status = "partial"
    c.error = c.error and (c.error .. "; " .. damage) or ("event log incomplete: " .. damage)
  end
  return c
end

-- What the run computed at its end from the files themselves (products, materials, program
-- hashes), put back from the end line: a replay does not hash today's files.
local function put_evidence(observed, ev)
  local gh = require "glasshouse"
  if not ev then return end
  observed.filesystem.products = null_to_nil(ev.products)
  observed.filesystem.materials = null_to_nil(ev.materials)
  for i, t in ipairs(ev.processes or {}) do
    local p = observed.processes[i]
    if p and p.pid == t.pid then
      for _, k in ipairs(gh._EXE_EVIDENCE) do p[k] = t[k] end
    end
  end
end

-- A cut log's outcome: the command's process's exit, if the log has it, else 1; its output is
-- not known, and the receipt's outcome.error says so (the hashes are those of nothing).
local function root_outcome(observed, start)
  local pid = start and start.pid
  local none = require("glasshouse.core").sha256("")
  local r = { pid = pid, stdout_hash = none, stderr_hash = none }
  for _, p in ipairs(observed.processes) do
    if p.pid == pid and (p.exit_code or p.signal) then
      r.exit_code, r.signal, r.signal_number = p.exit_code, p.signal, p.signal_number
    end
  end
  return r
end

--[[
run(file [, hooks]) -> receipt, write_error, status, message
The receipt of the run file logged, rebuilt; hooks as gh.run's (filter, on_event, keep_events,
extend, output). status: 0 for a whole log, 1 for a cut or damaged one (message names the file
and line), 2 when file is not an event log (receipt nil).
]]
function M.run(file, hooks)
  local gh = require "glasshouse"
  hooks = hooks or {}
  local h, herr, hstatus = M.header(file)
  if not h then return nil, nil, hstatus, herr end
  local col = assert(collector.replay(file))
  local _col <close> = col
  local agg = aggregator.new()
  local keep = hooks.keep_events
  if keep == nil then keep = gh.keep_events end
  col:attach(agg, { filter = hooks.filter, on_event = hooks.on_event, keep_events = keep })
  col:next_line() -- the header, read above
  local log = read_lines(col, agg, file)
  local e, st = log["end"], col:stats()
  local started = e and e.started or (not e and log.start ~= nil)
  local observed = agg:result()
  local result = e and e.result or root_outcome(observed, log.start)
  observed.syscall_counts = e and e.collector and e.collector.syscall_counts or {}
  put_evidence(observed, e and e.evidence)
  local info = {
    argv = h.argv,
    started = started,
    result = result,
    errors = e and e.errors or { "the event log ends before the command's outcome: " ..
      (result.exit_code and "the exit status is its process's, " or "") ..
      "timing, resources and output are not known" },
    metadata = e and e.metadata or h.metadata,
    ppid = h.ppid,
    cwd = h.cwd,
    exe = e and e.exe,
    fallback_start_ns = h.fallback_start_ns,
    observed = observed,
    collector = collector_block(h, e, st, hooks, log.damage, observed),
    uname = h.uname,
    user = h.user,
    network = h.network,
    policy = e and e.policy,
  }
  -- a run a policy stopped: its receipt said so, and the replayed one does
  local enf = e and type(e.policy) == "table" and e.policy.enforcement
  info.killed_by_policy = type(enf) == "table" and enf.stopped == true
  if not result.exit_code and not result.signal_number then result.exit_code = 1 end
  if st.hook_error then info.errors[#info.errors + 1] = st.hook_error end
  gh.last = { events = col:events(), stats = st, aggregate = observed, started = started }
  local r, werr = gh._conclude(info, hooks, st.hook_raise, {})
  return r, werr, log.damage and 1 or 0, log.damage
end

return M
