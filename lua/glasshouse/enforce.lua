-- SPDX-License-Identifier: MIT
-- glasshouse.enforce: a policy with enforce = true stops the command's tree at its first
-- violation. The exec and connect rules the kernel can decide exactly as the globs do are
-- written into its maps (bpf/enforce.bpf.h): a violating task is killed before it runs another
-- instruction, and every task of the tree at its next syscall exit. The rest (read and write
-- rules, rules functions, what the kernel could not decide) is judged here as each event
-- arrives, and the first violation stops the tree (docs/enforcement.md).
local M = {}

local E = {}
E.__index = E

-- The components of a path: "/a/b" -> {"", "a", "b"} (as glob.lua splits them).
local function split(s)
  local out = {}
  for part in (s .. "/"):gmatch("(.-)/") do out[#out + 1] = part end
  return out
end

--[[
An exec glob as the kernel's entries, or nil when the kernel cannot decide it as glob.lua does:
{path = "/usr/bin/env"} (exactly that path) or {path = "/usr/bin", prefix = true} (it and
everything under it: a trailing "/**"). ./ and ~ are expanded as glob.compile does.
]]
local function exec_entry(g, ctx)
  if g == "." or g:sub(1, 2) == "./" then
    if not ctx.cwd then return nil end
    g = ctx.cwd .. g:sub(2)
  elseif g == "~" or g:sub(1, 2) == "~/" then
    if not ctx.home then return nil end
    g = ctx.home .. g:sub(2)
  end
  if g == "**" then return { path = "", prefix = true } end
  if g:sub(1, 1) ~= "/" then return nil end
  if #g > 1 then g = g:gsub("/+$", "") end
  local parts, prefix = split(g), false
  if parts[#parts] == "**" then
    prefix = true
    parts[#parts] = nil
  end
  for _, c in ipairs(parts) do
    if c:find("*", 1, true) then return nil end
  end
  return { path = table.concat(parts, "/"), prefix = prefix }
end
M._exec_entry = exec_entry

local FAMILIES = { "inet", "inet6", "unix", "other" }

local function all_families(v)
  return { inet = v, inet6 = v, unix = v, other = v }
end

-- A port glob: "*"... any (nil port), a decimal port as the receipt writes it, or undecidable.
local function port_of(p)
  if p:match("^%*+$") then return true, nil end
  if p:match("^0$") or p:match("^[1-9]%d?%d?%d?%d?$") then
    local n = tonumber(p)
    if n <= 65535 then return true, n end
  end
  return false
end

--[[
What a connect glob (a plain glob over destinations as the receipt writes them: 1.2.3.4:80,
[::1]:443, unix:/path, unix:@name, family N) matches, per family: a list of keys {addr, port}
(nil: any), false when it matches nothing of that family, nil when the kernel cannot tell.
]]
local function net_entries(g)
  if g:match("^%*+$") then return all_families({ {} }) end
  if g:sub(1, 5) == "unix:" then
    local r = all_families(false)
    r.unix = g:sub(6):match("^%*+$") and { {} } or nil
    return r
  end
  local r = all_families(false)
  if g:sub(1, 1) == "[" then
    local a, p = g:match("^%[([^%]]*)%]:(.*)$")
    local ok, port = port_of(p or "")
    if not a or not ok or (a:find("*", 1, true) and not a:match("^%*+$")) then
      r.inet6 = nil
    else
      r.inet6 = { { addr = not a:match("^%*+$") and a or nil, port = port } }
    end
    return r
  end
  if g:match("^%d") then
    local a, p = g:match("^([%d%.]+):(.*)$")
    local ok, port = port_of(p or "")
    if not a or not ok then r.inet = nil else r.inet = { { addr = a, port = port } } end
    return r
  end
  local p = g:match("^%*+:(.*)$")
  if p then
    local ok, port = port_of(p)
    if not ok then return all_families(nil) end
    r.inet, r.inet6 = { { port = port } }, { { port = port } }
    -- "*:*" matches whatever holds a colon (every unix: name); "*:80" unix names ending so
    if port == nil then r.unix = { {} } else r.unix = nil end
    return r
  end
  return all_families(nil)
end
M._net_entries = net_entries

--[[
new(policy, ctx) -> enforcer: what the kernel decides for policy p (ctx: cwd, home as the
globs expand them). e.modes = {exec =, read =, write =, connect =, rules =}: "kernel" or "user"
for each kind the policy has rules of.
]]
function M.new(p, ctx)
  local spec = p.spec
  local e = setmetatable({ policy = p, ctx = ctx, modes = {}, exec = {}, net = {},
    net_decided = {}, live = {} }, E)
  if spec.exec then
    local ok = true
    for _, which in ipairs({ "allow", "deny" }) do
      for _, g in ipairs(spec.exec[which] or {}) do
        local en = exec_entry(g, ctx)
        if not en then ok = false else e.exec[#e.exec + 1] = { which, en } end
      end
    end
    e.exec_ok, e.exec_allow = ok, spec.exec.allow ~= nil
    e.modes.exec = ok and "kernel" or "user"
  end
  if spec.connect then
    local decided = { inet = true, inet6 = true, unix = true, other = true }
    for _, which in ipairs({ "allow", "deny" }) do
      for _, g in ipairs(spec.connect[which] or {}) do
        local per = net_entries(g)
        for _, fam in ipairs(FAMILIES) do
          if per[fam] == nil then
            decided[fam] = false
          elseif per[fam] then
            for _, k in ipairs(per[fam]) do e.net[#e.net + 1] = { which, fam, k.addr, k.port } end
          end
        end
      end
    end
    e.net_decided, e.net_allow = decided, spec.connect.allow ~= nil
    local all = decided.inet and decided.inet6 and decided.unix and decided.other
    e.modes.connect = all and "kernel" or "user"
  end
  if spec.read then e.modes.read = "user" end
  if spec.write then e.modes.write = "user" end
  if spec.rules and #spec.rules > 0 then e.modes.rules = "user" end
  return e
end

--- e:arm(col): the kernel's rules written and its decisions turned on, before the command runs.
function E:arm(col)
  local bits = require("glasshouse.collector").enforcement
  self.col = col
  local exec_bits, net_bits = 0, 0
  if self.exec_ok then
    for _, r in ipairs(self.exec) do
      local which, en = r[1], r[2]
      local fits = col:enforce_exec(which, en.path, en.prefix)
      -- "/a/**" is "/a" itself too
      if fits and en.prefix and en.path ~= "" then fits = col:enforce_exec(which, en.path, false) end
      if not fits then self.exec_ok, self.modes.exec = false, "user" end
    end
    if self.exec_ok then
      exec_bits = bits.KERNEL | (self.exec_allow and bits.ALLOW_LIST or 0)
    end
  end
  if self.modes.connect then
    local fambit = { inet = bits.V4, inet6 = bits.V6, unix = bits.UNIX, other = bits.OTHER }
    for _, r in ipairs(self.net) do
      local which, fam, addr, port = r[1], r[2], r[3], r[4]
      if self.net_decided[fam] and not col:enforce_net(which, fam, addr, port) then
        -- not written as the receipt writes it: the glob matches no destination of the
        -- family, so it decides nothing the kernel could; user space judges that family
        self.net_decided[fam] = false
        self.modes.connect = "user"
      end
    end
    for fam, bit in pairs(fambit) do
      if self.net_decided[fam] then net_bits = net_bits | bit end
    end
    if net_bits ~= 0 then
      net_bits = net_bits | bits.KERNEL | (self.net_allow and bits.ALLOW_LIST or 0)
    end
  end
  col:enforce(exec_bits, net_bits)
end

local function trigger_of(ev, by)
  return { by = by, kind = ev.kind, pid = ev.pid, exe = ev.exe,
    path = ev.path or ev.from or (ev.kind == "exec" and ev.exe or nil),
    dst = ev.dst }
end

--[[
e:event(checker, ev): the policy's checker judges the event (glob rules and rules functions);
the kernel's own trigger (ev.enforced) is kept, and a violation found here stops the tree.
]]
function E:event(checker, ev)
  if ev.kind == "fork" then self.live[ev.pid] = true elseif ev.kind == "exit" then
    self.live[ev.pid] = nil
  end
  if ev.enforced and not self.trigger then
    self.trigger = trigger_of(ev, "kernel")
    self.trigger.exe = self.trigger.exe or checker.exe_of[ev.pid]
  end
  local before = #checker.violations
  checker:event(ev)
  -- the first violation seen here stops the tree, unless the kernel already did (its flagged
  -- record, the trigger, may come later in the ring)
  if #checker.violations > before and not self.stopped and not self.col:stopped() then
    self.stopped = true
    self.col:stop()
    if not self.trigger then
      self.trigger = trigger_of(ev, "user")
      self.trigger.exe = self.trigger.exe or checker.exe_of[ev.pid]
      self.trigger.violation = checker.violations[before + 1]
    end
  end
end

--[[
e:settle(col): after the command's wait. A stopped tree is killed to the last thread (what
makes no syscall too), each drain delivering the exits, within about two seconds; then
whether the tree was stopped.
]]
function E:settle(col)
  if not col:stopped() then return false end
  -- stopped by the kernel, whose flagged record was never read (a full ring): no event to name
  if not self.trigger then self.trigger = { by = "kernel" } end
  self.stopped = true
  self.alive = col:settle(self.live, 2000)
  return true
end

--[[
e:conclude(verdict, r): the receipt's enforcement facts, after checker:finish. The trigger's
violation is the first one matching it (a kernel trigger the globs missed is added as one).
]]
function E:conclude(v, r)
  v.enforced = true
  local t = self.trigger
  if t and t.by == "kernel" and not t.kind and #v.violations == 0 then
    v.violations[1] = { rule = "enforcement", kind = "unknown", message = "the kernel stopped "
      .. "the tree; the event it stopped it at was lost (the ring buffer was full)" }
  end
  if t and t.by == "kernel" and t.kind then
    -- its violation: the exec's process's (a script's is judged by its interpreter too), or
    -- the connect's destination's
    for _, x in ipairs(v.violations) do
      if (t.kind == "exec" and x.kind == "exec" and x.pid == t.pid) or (t.kind ~= "exec" and
        x.kind == "connect" and t.dst and (x.dst == t.dst or x.dst == "unix:" .. t.dst)) then
        t.violation = x
        break
      end
    end
    if not t.violation then
      local x = { rule = t.kind == "exec" and "exec" or "connect", kind = t.kind, pid = t.pid,
        exe = t.exe, path = t.kind == "exec" and t.exe or nil,
        dst = t.kind ~= "exec" and (t.dst or "?") or nil,
        message = "the kernel's rules denied it" }
      v.violations[#v.violations + 1] = x
      t.violation = x
    end
  end
  if t and not t.violation then t.violation = v.violations[1] end
  if t and v.verdict == "pass" then v.verdict = "fail" end
  local m = self.modes
  v.enforcement = { exec = m.exec, read = m.read, write = m.write, connect = m.connect,
    rules = m.rules, stopped = self.stopped == true, trigger = t and self.stopped and {
      by = t.by, violation = t.violation, event = t.kind and { kind = t.kind, pid = t.pid,
        exe = t.exe, path = not t.dst and t.path or nil, dst = t.dst } or nil } or nil }
  r.outcome.killed_by_policy = self.stopped == true
end

return M
