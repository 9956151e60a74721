-- SPDX-License-Identifier: MIT
-- glasshouse.policy: a policy is a Lua file returning a table of glob rules (exec, read, write,
-- connect), event functions (rules) and a last look at the receipt (finally); p:check judges a
-- receipt (and its events) and gives the verdict the receipt carries as `policy`.
local core = require "glasshouse.core"
local json = require "glasshouse.json"
local glob = require "glasshouse.glob"

local M = {}

local KINDS = { "exec", "read", "write", "connect" }
local KEYS = { name = true, exec = true, read = true, write = true, connect = true,
  rules = true, finally = true, enforce = true }

local Policy = {}
Policy.__index = Policy

-- The first line of src where word appears as a key or a string, for messages; 1 if none.
local function line_of(src, word)
  local n = 1
  for line in (src .. "\n"):gmatch("(.-)\n") do
    local a = line:find(word, 1, true)
    if a then
      local before, after = line:sub(a - 1, a - 1), line:sub(a + #word)
      if before:find("^[\"'%[]?$") or before:find("[%s{,\"'%[]") then return n end
      if after:find("^%s*=") then return n end
    end
    n = n + 1
  end
  return 1
end

--[[
A connect glob naming an address without `*` ("127.0.0.1:80", "[::1]:*") must name it as the
receipt writes destinations (inet_ntop's form): "127.1:*" or "[0::1]:*" could never match
anything, so they are refused rather than silently match nothing. true | nil, why.
]]
local function exact_address(g)
  local fam, a = "inet6", g:match("^%[([^%]]*)%]:")
  if not a then fam, a = "inet", g:match("^(%d[^:]*):") end
  if not a or a:find("*", 1, true) then return true end
  local canon = core.inet_canonical(fam, a)
  if canon == a then return true end
  if not canon then
    return nil, string.format("'%s' is no %s address as the receipt writes destinations "
      .. "(%s)", a, fam == "inet" and "IPv4" or "IPv6", fam == "inet" and "1.2.3.4:80"
      or "[2001:db8::1]:443")
  end
  return nil, string.format("the receipt writes '%s' as '%s'", a, canon)
end

-- The rules of one kind, {allow = {glob...}, deny = {glob...}}, checked; raises "why", word.
local function check_kind(kind, spec)
  if type(spec) ~= "table" then error({ kind .. " must be a table {allow = {...}, deny = {...}}",
    kind }) end
  for k, list in pairs(spec) do
    if k ~= "allow" and k ~= "deny" then
      error({ string.format("unknown key '%s' in %s (allow, deny)", tostring(k), kind),
        tostring(k) })
    end
    if type(list) ~= "table" then error({ kind .. "." .. k .. " must be a list of globs", k }) end
    for _, g in ipairs(list) do
      local ok, why
      if kind == "connect" then
        ok, why = glob.compile_plain(g)
        if ok then ok, why = exact_address(g) end
      else
        ok, why = glob.compile(g, { cwd = "/", home = "/" })
      end
      if not ok then error({ string.format("bad glob in %s.%s: %s", kind, k, why), g }) end
    end
  end
end

local function check_table(t)
  for k in pairs(t) do
    if not KEYS[k] then
      error({ string.format("unknown key '%s' (known: name, exec, read, write, connect, rules, "
        .. "finally, enforce)", tostring(k)), tostring(k) })
    end
  end
  if t.name ~= nil and type(t.name) ~= "string" then error({ "name must be a string", "name" }) end
  for _, kind in ipairs(KINDS) do
    if t[kind] ~= nil then check_kind(kind, t[kind]) end
  end
  if t.rules ~= nil then
    if type(t.rules) ~= "table" then error({ "rules must be a list of functions", "rules" }) end
    for i, f in pairs(t.rules) do
      if type(f) ~= "function" then
        error({ string.format("rules[%s] must be a function, got %s", tostring(i), type(f)),
          "rules" })
      end
    end
  end
  if t.finally ~= nil and type(t.finally) ~= "function" then
    error({ "finally must be a function", "finally" })
  end
  if t.enforce ~= nil and type(t.enforce) ~= "boolean" then
    error({ "enforce must be true or false", "enforce" })
  end
end

--[[
load(path) -> policy | nil, "path:line: why"
The file runs in an environment of its own (reading the standard globals); a syntax error, an
error while it runs, a value that is no table, an unknown key or a bad glob is refused.
]]
function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot read policy " .. err end
  local src = f:read("a") or ""
  f:close()
  local env = setmetatable({}, { __index = _G })
  local chunk, lerr = load(src, "@" .. path, "t", env)
  if not chunk then return nil, lerr end
  local ok, t = pcall(chunk)
  if not ok then return nil, tostring(t) end
  if type(t) ~= "table" then
    return nil, string.format("%s:1: a policy returns a table, this one returned %s", path,
      type(t))
  end
  local vok, verr = pcall(check_table, t)
  if not vok then
    if type(verr) ~= "table" then error(verr, 0) end
    return nil, string.format("%s:%d: %s", path, line_of(src, verr[2]), verr[1])
  end
  local p = setmetatable({ spec = t, name = t.name or path:match("([^/]*)$"), source = path,
    sha256 = core.sha256(src), enforce = t.enforce == true, text = src }, Policy)
  return p
end

--[[
p:context_error(ctx) -> nil | "path:line: why": whether every glob can be expanded for ctx (cwd,
home): a `~` glob with no home ($HOME unset) cannot, and a run or check refuses the policy
(exit 2) rather than judge with a rule it cannot apply.
]]
function Policy:context_error(ctx)
  for _, kind in ipairs(KINDS) do
    if kind ~= "connect" then
      for _, which in ipairs({ "allow", "deny" }) do
        for _, g in ipairs((self.spec[kind] or {})[which] or {}) do
          local ok, why = glob.compile(g, ctx)
          if not ok then
            return string.format("%s:%d: bad glob in %s.%s: %s", self.source,
              line_of(self.text or "", g), kind, which, why)
          end
        end
      end
    end
  end
  return nil
end

-- Compiled matchers of kind for ctx: {allow = {m...} or nil, deny = {m...}}.
local function matchers(spec, kind, ctx)
  local s = spec[kind]
  if not s then return nil end
  local out = { deny = {} }
  for _, which in ipairs({ "allow", "deny" }) do
    if s[which] then
      out[which] = {}
      for _, g in ipairs(s[which]) do
        local m, why
        if kind == "connect" then
          m, why = glob.compile_plain(g)
        else
          m, why = glob.compile(g, ctx)
        end
        if not m then error("policy: " .. why, 0) end
        table.insert(out[which], m)
      end
    end
  end
  return out
end

--- p:judge(kind, subject, ctx) -> nil | rule, message: one exec, read, write or connect against
--- the glob rules (deny wins over allow); the piece an enforcer would call per event.
local function judge_with(m, kind, subject)
  for _, d in ipairs(m.deny) do
    if glob.test(d, subject) then
      return kind .. ".deny", string.format("%s %s matches deny '%s'", kind, subject, d.glob)
    end
  end
  if m.allow then
    for _, a in ipairs(m.allow) do
      if glob.test(a, subject) then return nil end
    end
    return kind .. ".allow", string.format("%s %s matches no allow entry", kind, subject)
  end
  return nil
end

-- Per ctx (its cwd and home): each kind's matchers and the verdict on each subject seen, so a
-- file a run reads a thousand times is matched against the globs once.
local function kind_cache(self, kind, ctx)
  self.compiled = self.compiled or {}
  local key = kind .. "\0" .. tostring(ctx.cwd) .. "\0" .. tostring(ctx.home)
  local c = self.compiled[key]
  if c == nil then
    c = { m = matchers(self.spec, kind, ctx) or false, seen = {} }
    self.compiled[key] = c
  end
  return c
end

function Policy:judge(kind, subject, ctx)
  self.by_ctx = self.by_ctx or setmetatable({}, { __mode = "k" })
  local per = self.by_ctx[ctx]
  if not per then
    per = {}
    self.by_ctx[ctx] = per
  end
  local c = per[kind]
  if not c then
    c = kind_cache(self, kind, ctx)
    per[kind] = c
  end
  if not c.m then return nil end
  local v = c.seen[subject]
  if v == nil then
    local rule, msg = judge_with(c.m, kind, subject)
    v = rule and { rule, msg } or false
    c.seen[subject] = v
  end
  if v then return v[1], v[2] end
  return nil
end

local str, list = json.str, json.list

-- A destination as connect rules see it: unix sockets as unix:/path (or unix:@name).
local function destination(dst)
  if dst and (dst:sub(1, 1) == "/" or dst:sub(1, 1) == "@") then return "unix:" .. dst end
  -- netlink (AF_NETLINK, 16) talks to the kernel (glibc's getaddrinfo asks it for addresses),
  -- not to a network destination: connect rules do not judge it (nor does the kernel side)
  if dst == "family 16" then return nil end
  return dst
end

-- A program named by the descriptor it was run through (fexecve of a script): "/dev/fd/N...".
local function fd_name(s)
  return type(s) == "string" and s:sub(1, 8) == "/dev/fd/"
end

--[[
Every exec, read, write and connect of the receipt: {kind, subject, field, pid, exe}. The execs
are every program each process executed, in order (its `execs`): for a #! script the script,
then its interpreter (the order an exec event gives them), exe the interpreter; so an exec chain
is judged by each of its programs, as the events judge it. A process without an `execs` list is
judged by its exe, and so is one with an empty list whose parent is not in the tree (the
command's, when no exec was seen); a child that only forked (an empty list, its parent in the
tree) runs an image its parent's execs gave, and is not judged again, as no event judges it.
A script run through a descriptor is judged by its interpreter alone (fd_name).
]]
local function subjects(r)
  local out, seen = {}, {}
  local exe_of, pids = {}, {}
  local function add(kind, subject, field, pid, exe)
    if type(subject) ~= "string" then return end
    local key = kind .. "\0" .. subject .. "\0" .. tostring(pid)
    if seen[key] then return end
    seen[key] = true
    out[#out + 1] = { kind = kind, subject = subject, field = field, pid = pid,
      exe = exe or (pid and exe_of[pid]) }
  end
  for _, p in ipairs(list(r.process_tree)) do
    exe_of[p.pid] = str(p.exe)
    pids[p.pid] = true
  end
  for _, p in ipairs(list(r.process_tree)) do
    local execs = p.execs
    if type(execs) == "table" and (#execs > 0 or pids[p.ppid]) then
      for _, e in ipairs(execs) do
        if not fd_name(str(e.script)) then add("exec", str(e.script), "path", p.pid, str(e.exe)) end
        add("exec", str(e.exe), "path", p.pid, str(e.exe))
      end
    else
      add("exec", str(p.exe), "path", p.pid)
    end
  end
  local fs = type(r.filesystem) == "table" and r.filesystem or {}
  for _, path in ipairs(list(fs.reads)) do add("read", path, "path") end
  for _, key in ipairs({ "writes", "created", "deletes" }) do
    for _, path in ipairs(list(fs[key])) do add("write", path, "path") end
  end
  for _, rn in ipairs(list(fs.renames)) do
    add("write", rn.from, "path")
    add("write", rn.to, "path")
  end
  local net = type(r.network) == "table" and r.network or {}
  for _, a in ipairs(list(net.attempts)) do
    if a.op == "connect" or a.op == "sendto" then
      add("connect", destination(str(a.dst)), "dst", a.pid)
    end
  end
  return out
end

local O_ACCMODE, O_RDONLY, O_RDWR, O_PATH = 3, 0, 2, 0x200000

--[[
event_subjects(ev) -> {{kind, subject, field}...}: what the glob rules judge in one event (a
successful exec, open, unlink, rename, link, mkdir, mknod, symlink; a connect, or a send that
names a destination, whatever its result), as the receipt would list it. An enforcer judges these with p:judge.
]]
function M.event_subjects(ev)
  local k = ev.kind
  -- a failed connect was an attempt all the same (the receipt lists it): judged too
  if ev.error and k ~= "connect" and k ~= "send" then return {} end
  if k == "exec" then
    -- a #! script (or binfmt_misc program): the script, and the interpreter that really runs
    local out = {}
    -- a script run through a descriptor (fexecve) is known only as /dev/fd/N: its interpreter
    -- alone is judged (as the kernel judges it)
    if not (ev.interpreter and fd_name(ev.exe)) then out[1] = { "exec", ev.exe, "path" } end
    if ev.interpreter then out[#out + 1] = { "exec", ev.interpreter, "path" } end
    return out
  end
  if k == "open" then
    local f = math.tointeger(ev.flags) or 0
    if f & O_PATH ~= 0 or ev.directory then return {} end
    local out = {}
    -- read: a descriptor that can read (as the receipt's reads), whatever else the flags ask
    local acc = f & O_ACCMODE
    if acc == O_RDONLY or acc == O_RDWR then out[#out + 1] = { "read", ev.path, "path" } end
    if ev.write or ev.created then out[#out + 1] = { "write", ev.path, "path" } end
    return out
  end
  if k == "rename" then
    return { { "write", ev.from, "path" }, { "write", ev.to, "path" } }
  end
  -- a link creates its new name; the file it links to is not written (nor listed so)
  if k == "link" then return { { "write", ev.to, "path" } } end
  if k == "unlink" or k == "mkdir" or k == "mknod" or k == "symlink" or k == "truncate" then
    return { { "write", ev.path, "path" } }
  end
  if (k == "connect" or k == "send") and ev.dst then
    return { { "connect", destination(ev.dst), "dst" } }
  end
  return {}
end

local Checker = {}
Checker.__index = Checker

--[[
p:checker(ctx) -> checker: checker:event(ev) runs the rules functions on one event (never
raises: a function that raises makes the verdict "error"), checker:finish(receipt) -> verdict.
ctx: cwd (what ./ means), home (~; default $HOME). run feeds it live events; an enforcer would
add p:judge per event here.
]]
function Policy:checker(ctx)
  return setmetatable({ policy = self, ctx = ctx, violations = {}, seen = {}, exe_of = {},
    judged = {}, events = 0 }, Checker)
end

function Checker:add(v)
  local key = table.concat({ v.rule, v.kind, tostring(v.pid), v.path or v.dst or "", v.message },
    "\0")
  if self.seen[key] then return end
  self.seen[key] = true
  self.violations[#self.violations + 1] = v
end

-- Calls f(...) as user code: true, result; or false with the error kept (the first one).
function Checker:call(what, f, ...)
  local ok, res = pcall(f, ...)
  if ok then return true, res end
  if core.is_control(res) then error(res, 0) end
  self.err = self.err or (what .. ": " .. tostring(res))
  return false
end

function Checker:event(ev)
  self.events = self.events + 1
  if ev.kind == "exec" then
    -- the process's program, as the receipt names it: a script's is its interpreter
    self.exe_of[ev.pid] = ev.interpreter or ev.exe
  elseif ev.kind == "fork" then
    self.exe_of[ev.pid] = self.exe_of[ev.parent]
  end
  if self.err then return end
  -- The glob rules on the event, so a violation names the process; finish skips what was judged.
  local jok, jerr = pcall(function()
    for _, sj in ipairs(M.event_subjects(ev)) do
      local kind, subject, field = sj[1], sj[2], sj[3]
      if type(subject) == "string" then
        self.judged[kind .. "\0" .. subject] = true
        local rule, msg = self.policy:judge(kind, subject, self.ctx)
        if rule then
          self:add({ rule = rule, kind = kind, pid = ev.pid, exe = self.exe_of[ev.pid],
            [field] = subject, message = msg })
        end
      end
    end
  end)
  if not jok then
    self.err = tostring(jerr)
    return
  end
  for i, f in ipairs(self.policy.spec.rules or {}) do
    local ok, res = self:call(string.format("rules[%d]", i), f, ev)
    if not ok then return end
    if type(res) == "string" then
      self:add({ rule = string.format("rules[%d]", i), kind = ev.kind, pid = ev.pid,
        exe = ev.exe or self.exe_of[ev.pid], path = ev.path or ev.from, dst = ev.dst,
        message = res })
    elseif res ~= nil and res ~= false then
      self.err = self.err or string.format("rules[%d]: returned a %s; return a message "
        .. "(string) for a violation, or nothing", i, type(res))
    end
  end
end

function Checker:finish(r)
  local p = self.policy
  local ok, jerr = pcall(function()
    for _, s in ipairs(subjects(r)) do
      local rule, msg
      if not self.judged[s.kind .. "\0" .. s.subject] then
        rule, msg = p:judge(s.kind, s.subject, self.ctx)
      end
      if rule then
        self:add({ rule = rule, kind = s.kind, pid = s.pid, exe = s.exe, [s.field] = s.subject,
          message = msg })
      end
    end
  end)
  if not ok then self.err = self.err or tostring(jerr) end
  if p.spec.finally and not self.err then
    local fok, res = self:call("finally", p.spec.finally, r)
    if fok then
      if type(res) == "string" then res = { res } end
      if res ~= nil and type(res) ~= "table" then
        self.err = "finally: returned a " .. type(res) .. "; return a message or a list of them"
      end
      for _, m in ipairs(res or {}) do
        self:add({ rule = "finally", kind = "receipt", message = tostring(m) })
      end
    end
  end
  return { name = p.name, source = p.source, sha256 = p.sha256,
    verdict = self.err and "error" or (#self.violations > 0 and "fail" or "pass"),
    enforced = false, violations = self.violations, error = self.err,
    events_checked = self.events > 0 or self.live == true }
end

-- p:check(receipt [, events [, {home =}] ]) -> verdict {name, source, sha256, verdict = "pass"
-- | "fail" | "error", enforced, violations = {{rule, kind, pid, exe, path | dst, message}},
-- error, events_checked}. Without events the rules functions do not run (events_checked false).
function Policy:check(r, events, opts)
  local root = list(r.process_tree)[1] or {}
  local c = self:checker({ cwd = str(root.working_dir), home = (opts and opts.home) or
    os.getenv("HOME") })
  for _, ev in ipairs(events or {}) do c:event(ev) end
  return c:finish(r)
end

--- describe(violation) -> one line: rule: message (pid N exe)
function M.describe(v)
  local who = v.pid and v.pid ~= json.null and string.format(" (pid %d %s)", math.tointeger(v.pid)
    or v.pid, tostring(v.exe ~= json.null and v.exe or "?")) or ""
  return v.rule .. ": " .. v.message .. who
end

return M
