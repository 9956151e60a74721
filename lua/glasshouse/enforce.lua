-- SPDX-License-Identifier: MIT
-- glasshouse.enforce: a policy with enforce = true stops the command's tree at its first
-- violation. The exec, read, write and connect rules the kernel can decide exactly as the globs
-- do are written into its maps (bpf/enforce.bpf.h): a violating task is killed before it runs
-- another instruction, and every task of the tree at its next syscall exit. The rest (rules
-- functions, globs and names the kernel could not decide) is judged here as each event
-- arrives, and the first violation stops the tree (docs/enforcement.md).
local glob = require "glasshouse.glob"

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
A path glob (exec, read, write) as the kernel's entry, or nil when the kernel cannot decide it
as glob.lua does: {path = "/usr/bin/env"} (exactly that path) or {path = "/usr/bin", prefix =
true} (it and everything under it: a trailing "/**"). ./ and ~ are expanded as glob.compile
does, their directory's bytes taken as they are.
]]
local function path_entry(g, ctx)
  local nlit
  g, nlit = glob.expand(g, ctx)
  if not g then return nil end
  if g == "**" then return { path = "", prefix = true } end
  if g:sub(1, 1) ~= "/" then return nil end
  if #g > 1 then g = g:gsub("/+$", "") end
  local parts, prefix = split(g), false
  if #parts > nlit and parts[#parts] == "**" then
    prefix = true
    parts[#parts] = nil
  end
  -- the cwd's or home's own components are names (a '*' in them is a byte)
  for i, c in ipairs(parts) do
    if i > nlit and c:find("*", 1, true) then return nil end
  end
  return { path = table.concat(parts, "/"), prefix = prefix }
end
M._path_entry = path_entry

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

local PATH_KINDS = { "exec", "read", "write" }

-- An entry's key as the kernel's trie holds it: "/dir/" (a prefix), "/path\0" (exact), "/"
-- (every absolute path).
local function key_of(en)
  if en.prefix then return en.path .. "/" end
  return en.path .. "\0"
end

--[[
entries(rules) -> {{path, prefix, bits}...}: the trie's entries for rules {{kind, which, entry}}.
The kernel reads only the longest entry matching a path, so each entry holds the bits of every
rule whose key is a prefix of its own (a rule "/usr/**" denies "/usr/bin/env" too, whatever
"/usr/bin/env" itself says). bits(kind, which) gives a rule's bit.
]]
local function entries(rules, bits)
  local by_key, keys, rkeys = {}, {}, {}
  for i, r in ipairs(rules) do
    local k = key_of(r[3])
    rkeys[i] = k
    if not by_key[k] then
      by_key[k] = { path = r[3].path, prefix = r[3].prefix, bits = 0 }
      keys[#keys + 1] = k
    end
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local en = by_key[k]
    for i, r in ipairs(rules) do
      local rk = rkeys[i]
      if k:sub(1, #rk) == rk then en.bits = en.bits | bits(r[1], r[2]) end
    end
    out[#out + 1] = en
  end
  return out
end
M._entries = entries

--[[
new(policy, ctx) -> enforcer: what the kernel decides for policy p (ctx: cwd, home as the
globs expand them). e.modes = {exec =, read =, write =, connect =, rules =}: "kernel" or "user"
for each kind the policy has rules of.
]]
function M.new(p, ctx)
  local spec = p.spec
  local e = setmetatable({ policy = p, ctx = ctx, modes = {}, paths = {}, path_ok = {},
    path_allow = {}, net = {}, net_decided = {}, live = {} }, E)
  for _, kind in ipairs(PATH_KINDS) do
    if spec[kind] then
      local ok = true
      for _, which in ipairs({ "allow", "deny" }) do
        for _, g in ipairs(spec[kind][which] or {}) do
          local en = path_entry(g, ctx)
          if not en then ok = false else e.paths[#e.paths + 1] = { kind, which, en } end
        end
      end
      e.path_ok[kind], e.path_allow[kind] = ok, spec[kind].allow ~= nil
      e.modes[kind] = ok and "kernel" or "user"
    end
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
  if spec.rules and #spec.rules > 0 then e.modes.rules = "user" end
  return e
end

--- e:arm(col): the kernel's rules written and its decisions turned on, before the command runs.
function E:arm(col)
  local bits = require("glasshouse.collector").enforcement
  self.col = col
  local modes = {}
  -- the kinds the kernel decides, with "/a/**" as "/a" itself too
  local rules = {}
  for _, r in ipairs(self.paths) do
    if self.path_ok[r[1]] then
      rules[#rules + 1] = r
      if r[3].prefix and r[3].path ~= "" then
        rules[#rules + 1] = { r[1], r[2], { path = r[3].path, prefix = false } }
      end
    end
  end
  local function bit(kind, which) return bits.path_bits[kind][which] end
  for _, en in ipairs(entries(rules, bit)) do
    if not col:enforce_path(en.bits, en.path, en.prefix) then
      -- it does not fit (too long for a key, or the map full): the kinds with a rule there
      -- are user space's to judge
      for _, r in ipairs(rules) do
        if r[3].path == en.path then self.path_ok[r[1]], self.modes[r[1]] = false, "user" end
      end
    end
  end
  for _, kind in ipairs(PATH_KINDS) do
    if self.path_ok[kind] then
      modes[kind] = bits.KERNEL | (self.path_allow[kind] and bits.ALLOW_LIST or 0)
    end
  end
  local net_bits = 0
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
  modes.connect = net_bits
  col:enforce(modes)
end

local function trigger_of(ev, by)
  return { by = by, kind = ev.kind, pid = ev.pid, exe = ev.exe,
    path = ev.path or ev.from or (ev.kind == "exec" and ev.exe or nil), to = ev.to,
    dst = ev.dst }
end

-- Whether violation x is the one the kernel found in trigger t: the exec's process's (a
-- script's is judged by its interpreter too), the connect's destination's, or a file event's
-- name's (either of a rename's or link's).
local function kernel_violation(t, x)
  if t.kind == "exec" then return x.kind == "exec" and x.pid == t.pid end
  if t.dst then return x.kind == "connect" and (x.dst == t.dst or x.dst == "unix:" .. t.dst) end
  return (x.kind == "read" or x.kind == "write") and x.pid == t.pid and x.path ~= nil and
    (x.path == t.path or x.path == t.to)
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
  self.stopped = true
  -- its drains deliver what the ring still holds, the kernel's flagged record among them
  self.alive = col:settle(self.live, 2000)
  -- stopped by the kernel, whose flagged record was never read (a full ring): no event to name
  if not self.trigger then self.trigger = { by = "kernel" } end
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
    for _, x in ipairs(v.violations) do
      if kernel_violation(t, x) then
        t.violation = x
        break
      end
    end
    if not t.violation then
      local rule = t.kind == "exec" and "exec" or t.dst and "connect" or
        (t.kind == "open" and "read/write" or "write")
      local x = { rule = rule, kind = t.kind, pid = t.pid, exe = t.exe,
        path = not t.dst and (t.path or "?") or nil, dst = t.dst,
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
