-- SPDX-License-Identifier: MIT
-- glasshouse: the standard flow (run) on the primitives, and the primitives themselves.
local core = require "glasshouse.core"
local backend = require "glasshouse.backend"
local collector = require "glasshouse.collector"
local aggregator = require "glasshouse.aggregator"
local json = require "glasshouse.json"
local receipt = require "glasshouse.receipt"
local evidence = require "glasshouse.evidence"
local attest = require "glasshouse.attest"

local list = json.list

local M = {
  version = core.version,
  core = core,
  backend = backend,
  collector = collector,
  aggregator = aggregator,
  json = json,
  receipt = receipt,
  sha256 = core.sha256,
  evidence = evidence,
  sha256_file = evidence.sha256_file,
  load_key = evidence.load_key,
  load_public_key = evidence.load_public_key,
  -- gh.policy.load(file) -> p; p:check(receipt [, events]): glasshouse/policy.lua, loaded
  -- when first used, as gh.diff is (a plain `glasshouse run` does not load them)
  policy = setmetatable({}, { __index = function(_, k) return require("glasshouse.policy")[k] end }),
  command = nil, -- set by `glasshouse script` to the command after --
}

--- backend.process{guest=} / backend.firecracker{kernel=, rootfs=, binary=, api_socket=}:
--- the backends by name (backend.new(name, opts) is the same).
backend.process = backend.process or function(opts) return backend.new("process", opts) end
backend.firecracker = backend.firecracker or function(opts)
  return backend.new("firecracker", opts)
end

--- sign(key, bytes) -> the raw Ed25519 signature of bytes by the private key (gh.load_key).
function M.sign(key, bytes)
  return key:sign(bytes)
end

--- verify(pub, bytes, sig) -> whether sig (raw) is pub's signature of bytes.
function M.verify(pub, bytes, sig)
  return pub:verify(bytes, sig)
end

--- invoking_uid() -> the user glasshouse runs for: under sudo or doas (as root) the invoking
--- user (core.invoking_user), else glasshouse's own.
function M.invoking_uid()
  local u = core.invoking_user()
  return u and u.uid or core.getuid()
end

--- owner(user) -> the write_file options that make a file user's (a core.user table), or nil.
function M.owner(user)
  return user and { uid = user.uid, gid = user.gid } or nil
end

--- attest(r, info) -> true | nil, msg, code: the signed attestation of receipt r, one DSSE
--- envelope as one JSON line at info.path. info: key (gh.load_key), receipt_name,
--- receipt_bytes (exactly as written), cwd, argv, finished_ns, owner (write_file options).
function M.attest(r, info)
  local payload = json.encode(attest.statement(r, {
    receipt_name = info.receipt_name, receipt_sha256 = core.sha256(info.receipt_bytes),
    cwd = info.cwd, argv = info.argv, finished_ns = info.finished_ns,
  }), { compact = true })
  local sig = M.sign(info.key, attest.pae(attest.PAYLOAD_TYPE, payload))
  local env = attest.envelope(payload, info.key:keyid(), sig)
  return core.write_file(info.path, json.encode(env, { compact = true }) .. "\n", info.owner)
end

--- usage_error(msg): stop the script as a usage error (glasshouse prints usage, exits 2).
function M.usage_error(msg)
  error({ glasshouse_usage = msg }, 0)
end

--- refuse(msg): stop as a usage error with one line and no usage (exit 2): nothing ran.
function M.refuse(msg)
  error({ glasshouse_refuse = msg }, 0)
end

--[[
command_user(spec [, guest]) -> user table | false
Who the command runs as: spec nil is the user who ran sudo or doas (SUDO_UID, DOAS_USER) when
glasshouse runs as root, else glasshouse's own user (false); a string is NAME, UID or UID:GID
(--user); a table is core.user's; false is glasshouse's own user. In guest mode nil means root.
An unknown user stops with exit 2 and the name in the message; nothing runs.
]]
function M.command_user(spec, guest)
  if spec == false or (spec == nil and guest) then return false end
  if type(spec) == "table" then return spec end
  if spec == nil then
    local u, msg = core.invoking_user()
    if u == nil then M.refuse(msg) end
    return u
  end
  local u, msg = core.user(spec)
  if not u then M.usage_error(msg) end
  if core.getuid() ~= 0 then
    -- Not root: only its own user, which is nothing to switch to.
    if u.uid ~= core.getuid() or (spec:find(":", 1, true) and u.gid ~= core.getgid()) then
      M.usage_error(string.format("--user %s needs glasshouse to run as root", spec))
    end
    return false
  end
  return u
end

-- The name of the user the command ran as: user's, or glasshouse's own.
local function user_name(user)
  if user then return user.name end
  local me = core.user(tostring(core.getuid()))
  return me and me.name or tostring(core.getuid())
end

local function check_argv(argv)
  if type(argv) ~= "table" or #argv == 0 then
    error("glasshouse.run: argv must be a non-empty list of strings", 3)
  end
  for i, a in ipairs(argv) do
    if type(a) ~= "string" then
      error(string.format("glasshouse.run: argv[%d] must be a string, got %s", i, type(a)), 3)
    end
  end
end

-- Where execvp would find argv[1]; used for exe only when no collector saw the exec.
local function path_search(name)
  if name:find("/", 1, true) then
    if name:sub(1, 1) == "/" then return name end
    local cwd = core.getcwd()
    return cwd and (cwd .. "/" .. name:gsub("^%./", "")) or name
  end
  for dir in (os.getenv("PATH") or "/usr/bin:/bin"):gmatch("[^:]+") do
    local cand = dir .. "/" .. name
    local f = io.open(cand, "rb")
    if f then
      f:close()
      return cand
    end
  end
  return nil
end

-- A hook's error for the receipt: its message without the traceback.
local function first_line(err)
  local s = tostring(err)
  return s:match("^(.-)\nstack traceback:") or s
end

local function make_backend(hooks, user)
  local b = hooks.backend
  if b == nil or type(b) == "string" then
    local opts = {}
    for k, v in pairs(hooks.backend_options or {}) do opts[k] = v end
    opts.user, opts.network, opts.wait_all = user or nil, hooks.network, hooks.wait_all
    return backend.new(b or "process", opts)
  end
  if hooks.wait_all ~= nil then
    error("glasshouse.run: wait_all is the backend's own setting when a backend object is "
      .. "given (backend.new(name, {wait_all = ...}))", 3)
  end
  return b
end

--- write(receipt, path [, user]) -> true | nil, msg, code: encoded and written safely
--- (core.write_file), owned by user (a core.user table) when glasshouse runs as root.
function M.write(r, path, user)
  return core.write_file(path, json.encode(r) .. "\n", M.owner(user))
end

-- The bytes of the file at path | nil, "cannot read PATH: why".
local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot read " .. err end
  local text = f:read("a")
  f:close()
  if not text then return nil, "cannot read " .. path end
  return text
end

-- t if it is a receipt, else nil and why, naming where it came from.
local function checked_receipt(t, where)
  if type(t) ~= "table" or type(t.receipt_version) ~= "string" or type(t.process_tree) ~= "table"
    or type(t.filesystem) ~= "table" then
    return nil, where .. ": not a glasshouse receipt (no receipt_version, process_tree or "
      .. "filesystem)"
  end
  return t
end

local function decode_json(text, where)
  local ok, t = pcall(json.decode, text)
  if not ok then return nil, where .. ": not JSON: " .. tostring(t):gsub("^json%.decode: ", "") end
  return t
end

-- The receipt of the attestation env (decoded from path): embedded in its predicate, or the
-- file its receipt subject names beside it, whose bytes must have the digest it records.
local function attested_receipt(path, env)
  local st, err = attest.decode(env, path)
  if not st then return nil, err end
  local g = type(st.predicate) == "table" and st.predicate.glasshouse
  if type(g) == "table" and g.receipt ~= nil then
    local r, rerr = checked_receipt(g.receipt, path .. ": predicate.glasshouse.receipt")
    return r, rerr or { attestation = path, embedded = true }
  end
  local subject, why = attest.receipt_subject(st)
  if not subject then return nil, path .. ": " .. why end
  local rpath = (path:match("^(.*/)") or "") .. subject.name
  local text, terr = read_file(rpath)
  if not text then return nil, path .. ": its receipt: " .. terr end
  local hex = core.sha256(text)
  if hex ~= subject.digest.sha256 then
    return nil, string.format("%s: the receipt's SHA-256 is %s, but %s records %s", rpath, hex,
      path, tostring(subject.digest.sha256))
  end
  local t, jerr = decode_json(text, rpath)
  if t == nil then return nil, jerr end
  local r, rerr = checked_receipt(t, rpath)
  return r, rerr or { attestation = path, receipt = rpath, sha256 = hex }
end

local function read_any(path)
  local text, err = read_file(path)
  if not text then return nil, err end
  local t, jerr = decode_json(text, path)
  if t == nil then return nil, jerr end
  if type(t) == "table" and t.payloadType ~= nil then return attested_receipt(path, t) end
  return checked_receipt(t, path)
end

--[[
read_receipt(path) -> receipt, from | nil, msg: a receipt file read and checked to be one, or
the receipt an attestation (a DSSE envelope from run --sign) stands for: the one its predicate
embeds as glasshouse.receipt, else the file its receipt subject names beside it, whose SHA-256
must be the one the statement records. The signature is not checked (glasshouse verify does).
from: nil for a receipt; for an attestation {attestation = path, receipt = the file's path,
sha256 = its digest} or {attestation = path, embedded = true}.
]]
function M.read_receipt(path)
  local r, from = read_any(path)
  if r then return r, from end
  -- one line, whatever the names in an attestation hold
  return nil, (from:gsub("%c", function(c) return string.format("\\x%02x", c:byte()) end))
end

--- diff(a, b [, opts]) -> what changed between two receipts (glasshouse/diff.lua).
function M.diff(a, b, opts)
  return require("glasshouse.diff").diff(a, b, opts)
end

--- policy_hooks(p, ctx [, enforcer]) -> hooks, verdict, finish: the on_event and extend hooks
--- by which policy p judges a run or a replayed log (events reach Lua only when p has rules
--- functions; its glob rules and finally judge the receipt), verdict() -> its verdict once the
--- receipt is built, and finish(r) -> the verdict on receipt r (what extend does, without
--- changing r). With enforcer (glasshouse.enforce, for a live run), every event is judged as it
--- comes and the first violation stops the tree; hooks.enforce is then the enforcer, for gh.run.
function M.policy_hooks(p, ctx, enforcer)
  local checker, v = p:checker(ctx), nil
  local function finish(r)
    checker.live = true
    v = checker:finish(r)
    return v
  end
  local on_event = p.spec.rules and #p.spec.rules > 0 and function(ev) checker:event(ev) end or nil
  if enforcer then on_event = function(ev) enforcer:event(checker, ev) end end
  local hooks = {
    on_event = on_event,
    enforce = enforcer,
    extend = function(r)
      finish(r)
      if enforcer then enforcer:conclude(v, r) end
      r.policy = receipt.policy(v)
    end,
  }
  return hooks, function() return v end, finish
end

-- Whether receipt r is that of the run replayed as rr (from log): the same execution_id (the
-- start time, root pid and argv); a cut log has no start time, so the root pid and argv then.
local function same_run(r, rr, damaged)
  if not damaged then return r.execution_id == rr.execution_id end
  local a, b = list(r.process_tree)[1] or {}, list(rr.process_tree)[1] or {}
  return a.pid == b.pid and json.encode(a.argv or json.null) == json.encode(b.argv or json.null)
end

--[[
policy_log(p, log [, r [, where] ]) -> verdict, receipt, damage | nil, msg: policy p's verdict on
the run whose event log (run --events) is log, as run --policy gave it: its rules functions see
the logged events (policy_hooks), and its glob rules and finally judge r, that run's receipt
(where names it in messages), or without r the receipt replayed from the log. damage: what a
cut or damaged log lacks (the verdict covers what it holds), or nil. An r of another run is an
error.
]]
function M.policy_log(p, log, r, where)
  local replay = require "glasshouse.replay"
  local h, herr = replay.header(log)
  if not h then return nil, herr end
  local hooks, _, finish = M.policy_hooks(p, { cwd = h.cwd, home = os.getenv("HOME") })
  local rr, _, _, damage = replay.run(log, { output = false, on_event = hooks.on_event })
  if r and not same_run(r, rr, damage) then
    return nil, string.format("%s is the event log of another run (execution_id %s; %s has %s)",
      log, tostring(rr.execution_id), where or "the receipt", tostring(r.execution_id))
  end
  return finish(r or rr), r or rr, damage
end

--- policy_status(verdict, status) -> the exit status a policy gives a run whose status is
--- status: a verdict other than pass lists its violations on stderr; "error" is 125, "fail" 3
--- unless the command's own status is not 0, which wins.
function M.policy_status(v, status)
  if v and v.verdict ~= "pass" then
    io.stderr:write("glasshouse: ", table.concat(M.policy_report(v, 10), "\n"), "\n")
    if v.verdict == "error" then return 125 end
    if status == 0 or (v.enforcement and v.enforcement.stopped) then return 3 end
  end
  return status
end

--- policy_report(verdict [, max]) -> lines: "policy NAME: VERDICT, N violations" and the
--- violations (up to max, then a count of the rest), for stderr or check's output.
function M.policy_report(v, max)
  local show = require "glasshouse.show"
  local n = #v.violations
  local lines = { string.format("policy %s: %s, %d violation%s", show.printable(v.name),
    v.verdict, n, n == 1 and "" or "s") }
  for i, x in ipairs(v.violations) do
    if max and i > max then
      lines[#lines + 1] = string.format("  … and %d more", n - max)
      break
    end
    lines[#lines + 1] = "  " .. show.printable(M.policy.describe(x))
  end
  if v.error then lines[#lines + 1] = "  error: " .. show.printable(v.error) end
  local t = v.enforcement and v.enforcement.stopped and v.enforcement.trigger
  if t then
    lines[#lines + 1] = "  stopped the command (by " .. (t.by == "kernel" and "the kernel" or
      "user space") .. ")" .. (t.violation and
      (" at " .. show.printable(M.policy.describe(t.violation))) or "")
  end
  return lines
end

--- use_color(when, file) -> whether to colour: when is "always", "never" or "auto"/nil (file
--- is a terminal and $NO_COLOR is unset).
function M.use_color(when, file)
  if when == "always" or when == "never" then return when == "always" end
  local nc = os.getenv("NO_COLOR")
  return (nc == nil or nc == "") and core.isatty(file == io.stderr and 2 or 1)
end

-- Settings from the environment, as the old tool read them.
local function env_collector_options()
  local o = { capture_argv = os.getenv("GLASSHOUSE_CAPTURE_ARGV") ~= "0",
    bpf_dir = os.getenv("GLASSHOUSE_BPF_DIR") }
  -- Environment variable name, for collector option opt: plain decimal within the collector's
  -- own bounds (collector.limits), else a usage error naming it. Not tonumber, which takes
  -- "0x1000", " 16" and "4096.0" too.
  local function int_setting(name, opt)
    local v, lim = os.getenv(name), collector.limits[opt]
    if v == nil or v == "" then return nil end
    local n = core.parse_uint(v, lim.lo, lim.hi)
    if not n or (lim.pow2 and n & (n - 1) ~= 0) then
      M.usage_error(string.format("%s must be %s from %d to %d, got '%s'", name,
        lim.pow2 and "a power of two" or "a whole number", lim.lo, lim.hi, v))
    end
    return n
  end
  o.ring_kb = int_setting("GLASSHOUSE_RING_KB", "ring_kb")
  o.max_sockets = int_setting("GLASSHOUSE_MAX_SOCKETS", "max_sockets")
  return o
end

local function debug_on(name)
  local v = os.getenv(name)
  return v ~= nil and v ~= "" and v ~= "0"
end

-- GLASSHOUSE_DEBUG_EVENTS / _TRACKING print events to stderr as they arrive.
local TRACKING = { fork = true, exec = true, exit = true, exec_failed = true }
local function describe(ev)
  local parts = { string.format("[glasshouse] %s pid=%d", ev.kind, ev.pid) }
  for _, k in ipairs({ "ppid", "parent", "exe", "path", "from", "to", "target", "dst",
    "address", "peer", "protocol", "result", "error", "exit_code", "signal" }) do
    if ev[k] ~= nil then parts[#parts + 1] = k .. "=" .. tostring(ev[k]) end
  end
  return table.concat(parts, " ")
end

local function debug_hook(user_hook)
  local all, tracking = debug_on("GLASSHOUSE_DEBUG_EVENTS"), debug_on("GLASSHOUSE_DEBUG_TRACKING")
  if not all and not tracking then return user_hook end
  return function(ev)
    if all or TRACKING[ev.kind] then io.stderr:write(describe(ev), "\n") end
    if user_hook then return user_hook(ev) end
  end
end

--- collector_info(col, open_err, stats, probes, filter_active) -> what receipt.build takes
--- for the collector block.
local function collector_info(col, open_err, st, probes, filter_active)
  if not col then
    return { status = "unavailable", error = open_err }
  end
  local status, why = "ok", nil
  if #probes.missing > 0 then
    status, why = "partial", "probes not attached: " .. table.concat(probes.missing, ", ")
  end
  if st.started and not st.root_registered then
    status, why = "partial", "the command's process was never registered with the kernel side"
  end
  if st.sockets_full > 0 then
    status, why = "partial", string.format("%d socket sends or receives not counted: the "
      .. "socket table was full (raise GLASSHOUSE_MAX_SOCKETS)", st.sockets_full)
  end
  if st.running > 0 then
    status, why = "partial", string.format("%d %s of the tree %s still running when the "
      .. "receipt was written: what %s did after that is not in it", st.running,
      st.running == 1 and "process" or "processes", st.running == 1 and "was" or "were",
      st.running == 1 and "it" or "they")
  end
  if st.lost > 0 then
    status = "partial"
    why = string.format("%d events lost: the ring buffer was full (raise GLASSHOUSE_RING_KB)",
      st.lost)
  end
  if st.hook_error then why = why and (why .. "; " .. st.hook_error) or st.hook_error end
  return { status = status, error = why, events = st.events, lost = st.lost,
    truncated = st.truncated, dropped_untracked = st.malformed, probes = probes,
    filter_active = filter_active, filtered = st.filtered }
end
M._collector_info = collector_info

--[[
run(argv [, hooks]) -> receipt [, write_error]
Runs argv through the standard flow. hooks (all optional):
  output          path of the receipt (default "receipt.json"); false: do not write it
  backend         "process" (default), "firecracker", or a backend object
  backend_options table for backend.new ({guest = true}, firecracker paths)
  collector       false: run without the eBPF collector; a table: options for collector.open
  filter(ev)      false drops the event before aggregation (the receipt says a filter ran)
  on_event(ev)    sees every event that passed the filter
  keep_events     keep every event table in glasshouse.last.events
  event_log       path: write every event as it comes, with a header and trailers, as JSON
                  Lines (docs/events.md); `glasshouse replay` rebuilds the receipt from it
  event_log_limit bytes held for a slow reader of the log before events are dropped from it
                  (and counted; default 64 MiB)
  extend(r)       change the receipt before it is written
  enforce         an enforcer (glasshouse.enforce, as gh.policy_hooks makes it): its kernel
                  rules are armed before the command starts, and a tree it stopped is killed
                  to the last process before the receipt is built
  user            who the command runs as (see command_user): "NAME", "UID[:GID]", a
                  core.user table, or false for glasshouse's own; default: sudo's or doas's
                  invoking user when glasshouse runs as root. The receipt is that user's too.
  network         "host" (default), "none" (a network namespace with no interface up) or
                  "loopback" (one with only lo up)
  wait_all        true: write the receipt only when every process of the tree has exited (a
                  daemon too), as strace -f waits; a number: at most that many seconds after
                  the command exits. A signal to glasshouse (Ctrl-C, SIGTERM) ends the wait.
                  Default: the receipt is written when the command exits, and processes
                  still running are marked so (state "running", collector.complete false)
  materials       true: hash every regular file the tree read (filesystem.materials)
  sign            a private key (gh.load_key): write a signed attestation after the receipt
  attestation     its path (default: the receipt's, .json -> .intoto.jsonl)
]]
function M.run(argv, hooks)
  check_argv(argv)
  hooks = hooks or {}
  if type(hooks) ~= "table" then error("glasshouse.run: hooks must be a table", 2) end
  for _, k in ipairs({ "filter", "on_event", "extend" }) do
    if hooks[k] ~= nil and type(hooks[k]) ~= "function" then
      error(string.format("glasshouse.run: hook '%s' must be a function, got %s", k,
        type(hooks[k])), 2)
    end
  end
  local w = hooks.wait_all
  if w ~= nil and type(w) ~= "boolean" and not (math.type(w) and w >= 0 and w <= 1e9) then
    error(string.format("glasshouse.run: option 'wait_all' must be true, false or a number of "
      .. "seconds from 0 to 1e9, got %s", tostring(w)), 2)
  end
  -- From here a signal waits for the command (forwarded to it) instead of interrupting us, so
  -- a started command is always waited for and its receipt written; hooks stay interruptible.
  local _signals <close> = core.defer_signals()
  local errors = {}
  local user = M.command_user(hooks.user, hooks.backend_options and hooks.backend_options.guest)
  local network = hooks.network or "host"
  local b = make_backend(hooks, user)
  -- Closed on every way out of here (a backend the caller passed in stays the caller's).
  local _backend <close> = b ~= hooks.backend and b or nil
  local fallback_start = core.now()

  local col, open_err
  if hooks.collector ~= false then
    local opts = env_collector_options()
    if type(hooks.collector) == "table" then
      for k, v in pairs(hooks.collector) do opts[k] = v end
    end
    col, open_err = M.collector.open(opts)
    if not col and hooks.enforce then
      -- A policy that stops the command needs the kernel side: without it nothing runs.
      M.refuse("enforcement needs the eBPF collector: " .. tostring(open_err))
    end
    if not col and not hooks.quiet then
      io.stderr:write("glasshouse: ", open_err, "; running without it\n")
    end
  else
    open_err = "the collector was switched off (collector = false)"
  end
  local _collector <close> = col
  local agg = M.aggregator.new()
  local on_event = debug_hook(hooks.on_event)
  local cwd = core.getcwd()
  local evlog
  if hooks.event_log then
    local lerr
    evlog, lerr = collector.event_log(hooks.event_log, hooks.event_log_limit, M.owner(user))
    if not evlog then error(lerr, 0) end
    evlog:write(json.encode(M._log_header(argv, cwd, fallback_start, col, open_err, b,
      user_name(user), network), { compact = true }))
  end
  local _evlog <close> = evlog
  if col then
    local keep = hooks.keep_events
    if keep == nil then keep = M.keep_events end
    col:attach(agg, (hooks.filter or on_event or keep or evlog) and
      { filter = hooks.filter, on_event = on_event, keep_events = keep, event_log = evlog }
      or nil)
  end
  if hooks.enforce then
    if not col then M.refuse("enforcement needs the eBPF collector: " .. tostring(open_err)) end
    hooks.enforce:arm(col)
  end

  local ok, err = b:prepare()
  if not ok then errors[#errors + 1] = err end

  local pid, serr = b:start(argv, function(child)
    if col then col:track(child) end
    local base = core.monotonic()
    agg:set_base(base)
    agg:root(child, core.getpid(), cwd, nil)
    if evlog then
      evlog:write(json.encode(json.fields { { "kind", "start" }, { "pid", child },
        { "ppid", core.getpid() }, { "cwd", cwd }, { "base_ns", base } }, { compact = true }))
    end
  end)
  local started = pid ~= nil
  M.last = { started = started }
  if not started then errors[#errors + 1] = serr end

  if started then
    local res, werr = b:wait(col)
    if not res then errors[#errors + 1] = werr end
    if res and res.poll_error then errors[#errors + 1] = res.poll_error end
    -- A tree a policy stopped is killed to its last process before the receipt is built.
    if hooks.enforce and col then hooks.enforce:settle(col) end
  end
  local result = b:cleanup()
  -- A namespace or user that could not be set up: nothing ran, and no receipt claims it did.
  if result.setup_failed then M.refuse(serr) end
  local finished_ns = core.now()
  local md = b:metadata() -- guest-mode failures stay in execution.guest.errors: not fatal

  local backend_errors = table.move(errors, 1, #errors, 1, {})
  local observed, cinfo, raise
  if col then
    -- Everything the kernel already wrote is read before the receipt is built.
    col:drain()
    col:finish()
    local st = col:stats()
    st.started = started
    if st.hook_error then errors[#errors + 1] = st.hook_error end
    raise = st.hook_raise
    observed = agg:result()
    st.running = M._running(observed)
    observed.syscall_counts = col:syscall_counts()
    -- Contents are hashed now, at the end: what the files hold after the command (not while).
    -- With the command's rights (user), so the paths it controls yield nothing it could not read.
    observed.filesystem.products = attest.products(observed.filesystem, user)
    attest.exe_hashes(observed.processes, user)
    if hooks.materials then
      observed.filesystem.materials = attest.materials(observed.filesystem, user)
    end
    cinfo = collector_info(col, nil, st, col:probes(), hooks.filter ~= nil)
    M.last = { events = col:events(), stats = st, aggregate = observed, started = started }
    if debug_on("GLASSHOUSE_DEBUG_COUNTS") then
      local names = {}
      for name in pairs(observed.syscall_counts) do names[#names + 1] = name end
      table.sort(names)
      for _, name in ipairs(names) do
        io.stderr:write(string.format("[glasshouse] %s %d\n", name, observed.syscall_counts[name]))
      end
    end
  else
    cinfo = collector_info(nil, open_err)
    M.last = { events = nil, started = started }
  end

  local info = {
    argv = argv,
    started = started,
    result = result,
    errors = errors,
    metadata = md,
    ppid = core.getpid(),
    cwd = cwd,
    -- the root as the backend saw it, needed only when nothing observed the processes
    exe = started and not (observed and #observed.processes > 0) and path_search(argv[1]) or nil,
    fallback_start_ns = fallback_start,
    observed = observed,
    collector = cinfo,
    user = user_name(user),
    network = network,
  }
  -- The log's end line follows the extend hook, so it holds the policy block it added.
  local finish_log = evlog and function(r)
    evlog:write(json.encode(M._log_end(info, backend_errors, col, open_err, evlog, r),
      { compact = true }))
    return select(2, evlog:close())
  end
  return M._conclude(info, hooks, raise,
    { user = user, finished_ns = finished_ns, finish_log = finish_log })
end

--- _running(observed) -> how many processes of the tree were still running at the end.
function M._running(observed)
  local n = 0
  for _, p in ipairs(observed.processes) do
    if p.state == "running" then n = n + 1 end
  end
  return n
end

--[[
The receipt from info, with the extend hook, written; a hook's error raised after. ctx: user
(the core.user table the command ran as: the receipt is its file), finished_ns (for the
attestation), finish_log(r) -> write error or nil: the event log's end, after the extend hook.
]]
function M._conclude(info, hooks, raise, ctx)
  local user, argv, cwd = ctx.user, info.argv, info.cwd
  local r = receipt.build(info)
  M.last.receipt = r
  M.last.user = user or nil
  if hooks.extend then
    local eok, eerr = core.call_user(hooks.extend, r)
    if not eok then
      local msg = "extend hook failed: " .. first_line(eerr)
      raise = raise or (core.is_control(eerr) and eerr or "extend hook failed: " .. tostring(eerr))
      r.outcome.error = r.outcome.error == json.null and msg or (r.outcome.error .. "; " .. msg)
    end
  end
  -- What extend added may not be encodable (a cycle, a function, nesting past the limit): the
  -- receipt is then written without it, saying why, and the error is raised after.
  local eok, bytes = pcall(json.encode, r)
  if not eok then
    local msg = "extend hook's additions could not be written: " .. first_line(bytes)
      .. "; the receipt is written without them"
    raise = raise or msg
    r = receipt.build(info)
    M.last.receipt = r
    r.outcome.error = r.outcome.error == json.null and msg or (r.outcome.error .. "; " .. msg)
    bytes = json.encode(r)
  end
  local werr
  if hooks.output ~= false then
    local path = hooks.output or "receipt.json"
    bytes = bytes .. "\n"
    werr = select(2, core.write_file(path, bytes, M.owner(user)))
    if not werr and hooks.sign then
      werr = select(2, M.attest(r, { key = hooks.sign, receipt_name = path:match("([^/]*)$"),
        receipt_bytes = bytes, cwd = cwd, argv = argv, finished_ns = ctx.finished_ns,
        path = hooks.attestation or attest.default_path(path), owner = M.owner(user) }))
    end
  end
  if ctx.finish_log then werr = werr or ctx.finish_log(r) end
  -- A hook's error, a signal or os.exit that stopped a hook is raised now that the receipt is
  -- written: a script that does not catch it ends with it (pcall(gh.run, ...) goes on).
  if raise then
    if werr then io.stderr:write("glasshouse: ", werr, "\n") end
    error(raise, 0)
  end
  return r, werr
end

--- The event log's header line (docs/events.md).
function M._log_header(argv, cwd, fallback_start, col, open_err, b, user, network)
  local u = core.uname() or {}
  return json.fields {
    { "kind", "header" }, { "format", "glasshouse-events" },
    { "format_version", require("glasshouse.replay").VERSION },
    { "glasshouse_version", core.version }, { "host", u.nodename }, { "kernel", u.release },
    { "uname", json.fields { { "sysname", u.sysname }, { "machine", u.machine } } },
    { "time_ns", core.now() }, { "argv", json.array(table.move(argv, 1, #argv, 1, {})) },
    { "cwd", cwd }, { "ppid", core.getpid() }, { "fallback_start_ns", fallback_start },
    { "metadata", b:metadata() }, { "user", user }, { "network", network },
    { "collector", json.fields { { "status", col and "ok" or "unavailable" },
      { "error", open_err }, { "probes", col and col:probes() } } },
  }
end

-- What attest.exe_hashes adds to a process: the event log's end carries it per process.
M._EXE_EVIDENCE = { "exe_sha256", "exe_hash_error", "script_sha256", "script_hash_error" }

-- The parts of the receipt computed at the end of the run from the files themselves (hashes),
-- which a replay cannot compute again: products, materials, each process's program hashes.
local function log_evidence(observed)
  if not observed then return nil end
  local procs = {}
  for i, p in ipairs(observed.processes) do
    local t = { { "pid", p.pid } }
    for _, k in ipairs(M._EXE_EVIDENCE) do t[#t + 1] = { k, p[k] } end
    procs[i] = json.fields(t)
  end
  local fs = observed.filesystem
  return json.fields { { "products", fs.products and json.array(fs.products) },
    { "materials", fs.materials and json.array(fs.materials) },
    { "processes", json.array(procs) } }
end

--- The event log's end line: what the receipt takes besides the events (r: the receipt, after
--- the extend hook; its policy block is logged as run --policy added it).
function M._log_end(info, errors, col, open_err, evlog, r)
  local st, ls = col and col:stats(), evlog:stats()
  return json.fields {
    { "kind", "end" }, { "started", info.started }, { "result", info.result or {} },
    { "errors", json.array(errors) }, { "metadata", info.metadata }, { "exe", info.exe },
    { "evidence", log_evidence(info.observed) },
    { "policy", r and r.policy },
    { "collector", col and json.fields {
      { "stats", json.fields { { "events", st.events }, { "lost", st.lost },
        { "truncated", st.truncated }, { "malformed", st.malformed },
        { "sockets_full", st.sockets_full }, { "root_registered", st.root_registered } } },
      { "probes", col:probes() },
      { "syscall_counts", json.object(info.observed.syscall_counts) },
    } or json.fields { { "error", open_err } } },
    { "log", json.fields { { "events", ls.events }, { "dropped", ls.dropped } } },
  }
end

--- replay(events_file [, hooks]) -> receipt, write_error, status, message: gh.run over an
--- event log instead of a command (glasshouse.replay).
function M.replay(file, hooks)
  return require("glasshouse.replay").run(file, hooks)
end

--- exit_status(receipt) -> the status glasshouse exits with for this receipt.
function M.exit_status(r)
  return r.outcome.exit_code
end

return M
