-- SPDX-License-Identifier: MIT
-- glasshouse.diff: what changed between two receipts, by what the command did, not by the
-- incidental details of each run (pids, times, the working directory, temporary names).
local json = require "glasshouse.json"
local glob = require "glasshouse.glob"

local M = {}

--- The sections, in the order they are shown; syscalls only with {all = true}.
M.SECTIONS = { "processes", "read", "written", "created", "deleted", "renamed", "failures",
  "network", "outcome", "products", "syscalls" }

local TITLES = { read = "files read", written = "files written", created = "files created",
  deleted = "files deleted", renamed = "files renamed", syscalls = "syscall counts" }

local str, list = json.str, json.list

-- A value as text; JSON numbers (floats after decoding) without ".0".
local function text(v)
  if v == nil or v == json.null then return "none" end
  return tostring(type(v) == "number" and math.tointeger(v) or v)
end

-- The rest of p after dir ("" for dir itself, "/x" below it), or nil when p is not under dir.
local function under(p, dir)
  if not dir or dir == "" or dir == "/" then return nil end
  if p == dir then return "" end
  if p:sub(1, #dir + 1) == dir .. "/" then return p:sub(#dir + 1) end
  return nil
end

-- A name mkstemp/mkdtemp/mktemp(1) made: its random tail (6 or more letters, digits or _, with
-- a digit or a capital among them) becomes XXXXXX; a short extension (gcc's cc*.s) stays.
local function temp_name(c)
  local stem, ext = c:match("^(.-)(%.%a%a?%a?%a?)$")
  if not stem or stem == "" then stem, ext = c, "" end
  local prefix, run = stem:match("^(.-)([%w_]+)$")
  if run and #run >= 6 and run:find("[%d%u]") then return prefix .. "XXXXXX" .. ext end
  return c
end

--- normalize(path, ctx) -> the path as diff compares it: "./x" under ctx.cwd, "~/x" under
--- ctx.home, "$TMP/x" under ctx.tmp with temporary names as patterns; others unchanged.
function M.normalize(p, ctx)
  local rest = under(p, ctx.cwd)
  if rest then return "." .. rest end
  rest = under(p, ctx.home)
  if rest then return "~" .. rest end
  rest = under(p, ctx.tmp)
  if rest then return "$TMP" .. rest:gsub("[^/]+", temp_name) end
  return p
end

local function replace_plain(s, from, to)
  if not from or from == "" or from == "/" then return s end
  local out, i = {}, 1
  while true do
    local a, b = s:find(from, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1) .. to
    i = b + 1
  end
  out[#out + 1] = s:sub(i)
  return table.concat(out)
end

-- An argument: a whole path normalised, else the directories replaced where they appear
-- (-I/home/u/src/include).
local function normalize_word(a, ctx)
  if a:sub(1, 1) == "/" then return M.normalize(a, ctx) end
  a = replace_plain(a, ctx.cwd, ".")
  a = replace_plain(a, ctx.home, "~")
  return replace_plain(a, ctx.tmp, "$TMP")
end

local shell_word = require("glasshouse.show").shell_word

local function basename(p)
  return (p:match("([^/]*)$"))
end

-- The receipt's context: its command's working directory, and the home and temp dir.
local function context(r, opts)
  local root = list(r.process_tree)[1] or {}
  return { cwd = str(root.working_dir), home = opts.home, tmp = opts.tmp }
end

-- Whether path (absolute) or its normalised form is ignored.
local function ignored(ctx, path)
  for _, m in ipairs(ctx.ignore) do
    if glob.test(m, path) then return true end
  end
  return false
end

-- processes: identity -> sorted list of states; display of each identity.
local function processes(r, ctx, out, shown)
  local by_pid, ident = {}, {}
  for _, p in ipairs(list(r.process_tree)) do by_pid[p.pid] = p end
  -- {key = the ancestors' programs, this one's and its argv; exes = the programs down to this
  -- one; show = argv [in ancestors]; chain = their names}
  local function identity(p, depth)
    local id = ident[p]
    if id then return id end
    local argv = {}
    for i, a in ipairs(list(p.argv)) do argv[i] = shell_word(normalize_word(a, ctx)) end
    local exe = str(p.exe) and M.normalize(p.exe, ctx) or "?"
    id = { key = exe .. " " .. table.concat(argv, " "), show = table.concat(argv, " "),
      chain = basename(exe), exe = exe }
    local parent = by_pid[p.ppid]
    if parent and parent ~= p and depth < 64 then
      local up = identity(parent, depth + 1)
      id.key = up.exes .. "\n" .. id.key
      id.exes = up.exes .. "\n" .. exe
      id.show = id.show .. "  [in " .. up.chain .. "]"
      id.chain = up.chain .. " > " .. id.chain
    end
    id.exes = id.exes or exe
    ident[p] = id
    return id
  end
  for _, p in ipairs(list(r.process_tree)) do
    if not (str(p.exe) and ignored(ctx, p.exe)) then
      local id = identity(p, 0)
      local key = id.key
      local state = str(p.signal) and ("killed by " .. p.signal) or
        ("exit " .. text(p.exit_code))
      local wd = str(p.working_dir)
      if wd then state = state .. ", in " .. M.normalize(wd, ctx) end
      if str(p.exe_sha256) then state = state .. ", exe " .. p.exe_sha256:sub(1, 12) end
      out[key] = out[key] or {}
      table.insert(out[key], state)
      shown[key] = id.show
    end
  end
  for _, states in pairs(out) do table.sort(states) end
end

local function add(map, key, value)
  map[key] = map[key] or {}
  map[key][value] = true
end

-- A map key -> set of values as key -> "v1, v2" (sorted).
local function joined(map)
  local out = {}
  for k, set in pairs(map) do
    local vs = {}
    for v in pairs(set) do vs[#vs + 1] = v end
    table.sort(vs)
    out[k] = table.concat(vs, ", ")
  end
  return out
end

local FILE_SECTIONS = { read = "reads", written = "writes", created = "created",
  deleted = "deletes" }

local function files(r, ctx, maps)
  local fs = type(r.filesystem) == "table" and r.filesystem or {}
  for section, key in pairs(FILE_SECTIONS) do
    for _, p in ipairs(list(fs[key])) do
      if type(p) == "string" and not ignored(ctx, p) then
        maps[section][M.normalize(p, ctx)] = ""
      end
    end
  end
  for _, rn in ipairs(list(fs.renames)) do
    if str(rn.from) and str(rn.to) and not (ignored(ctx, rn.from) and ignored(ctx, rn.to)) then
      maps.renamed[M.normalize(rn.from, ctx) .. " -> " .. M.normalize(rn.to, ctx)] = ""
    end
  end
  local failures = {}
  for _, f in ipairs(list(fs.failed)) do
    if str(f.path) and not ignored(ctx, f.path) then
      add(failures, tostring(f.op) .. " " .. M.normalize(f.path, ctx), tostring(f.error))
    end
  end
  for _, p in ipairs(list(r.process_tree)) do
    for _, f in ipairs(list(p.failed_execs)) do
      if str(f.path) and not ignored(ctx, f.path) then
        add(failures, "exec " .. M.normalize(f.path, ctx), tostring(f.error))
      end
    end
  end
  maps.failures = joined(failures)
  -- products: [{path, sha256, size}] (evidence issue), or an object path -> digest
  local products = fs.products
  if type(products) == "table" then
    for k, v in pairs(products) do
      local path, digest = k, v
      if type(v) == "table" then path, digest = v.path, v.sha256 or v.digest end
      if str(path) and not ignored(ctx, path) then
        maps.products[M.normalize(path, ctx)] = tostring(digest)
      end
    end
  end
end

local function network(r, ctx, all)
  local net = type(r.network) == "table" and r.network or {}
  local results, sums = {}, {}
  local function dst_of(d)
    d = tostring(d)
    return d:sub(1, 1) == "/" and ("unix:" .. M.normalize(d, ctx)) or d
  end
  local function count(key, a)
    local s = sums[key] or { 0, 0, 0 }
    s[1] = s[1] + (tonumber(a.count) or 1)
    s[2] = s[2] + (tonumber(a.bytes_sent) or 0)
    s[3] = s[3] + (tonumber(a.bytes_received) or 0)
    sums[key] = s
  end
  for _, a in ipairs(list(net.attempts)) do
    local key = string.format("%s %s %s", tostring(a.op), tostring(a.protocol), dst_of(a.dst))
    add(results, key, tostring(a.result))
    count(key, a)
  end
  for _, s in ipairs(list(net.servers)) do
    add(results, string.format("%s %s %s", tostring(s.op), tostring(s.protocol),
      dst_of(s.address)), "ok")
  end
  for _, a in ipairs(list(net.accepted)) do
    local key = string.format("accept %s from %s on %s", tostring(a.protocol), tostring(a.peer),
      dst_of(a["local"]))
    add(results, key, "accepted")
    count(key, a)
  end
  local out = joined(results)
  if all then
    for key, s in pairs(sums) do
      out[key] = string.format("%s; %d times, %d bytes sent, %d received", out[key], s[1], s[2],
        s[3])
    end
  end
  return out
end

local function outcome(r, ctx, all)
  local o = type(r.outcome) == "table" and r.outcome or {}
  local art = type(r.artifacts) == "table" and r.artifacts or {}
  local out = {
    ["exit status"] = text(o.exit_code),
    ["signal"] = str(o.signal) or "none",
    ["error"] = str(o.error) and normalize_word(o.error, ctx) or "none",
    ["stdout sha256"] = tostring(art.stdout_hash),
    ["stderr sha256"] = tostring(art.stderr_hash),
  }
  if all then
    out["stdout bytes"] = text(art.stdout_bytes)
    out["stderr bytes"] = text(art.stderr_bytes)
  end
  return out
end

local function syscalls(r)
  local out = {}
  local counts = type(r.syscalls) == "table" and type(r.syscalls.counts) == "table" and
    r.syscalls.counts or {}
  for name, n in pairs(counts) do out[name] = text(n) end
  return out
end

-- Every section of one receipt as key -> value maps (processes: key -> sorted states).
local function sections(r, ctx, opts)
  local maps = { read = {}, written = {}, created = {}, deleted = {}, renamed = {},
    products = {}, procs = {}, shown = {} }
  processes(r, ctx, maps.procs, maps.shown)
  files(r, ctx, maps)
  maps.network = network(r, ctx, opts.all)
  maps.outcome = outcome(r, ctx, opts.all)
  maps.syscalls = opts.all and syscalls(r) or {}
  return maps
end

local function sorted_keys(...)
  local seen, keys = {}, {}
  for _, m in ipairs({ ... }) do
    for k in pairs(m) do
      if not seen[k] then
        seen[k] = true
        keys[#keys + 1] = k
      end
    end
  end
  table.sort(keys)
  return keys
end

-- Changes between two key -> value maps: + only in b, - only in a, ~ both with other values.
local function compare(a, b)
  local changes = {}
  for _, k in ipairs(sorted_keys(a, b)) do
    local va, vb = a[k], b[k]
    if va == nil then
      changes[#changes + 1] = { op = "+", item = k, new = vb ~= "" and vb or nil }
    elseif vb == nil then
      changes[#changes + 1] = { op = "-", item = k, old = va ~= "" and va or nil }
    elseif va ~= vb then
      changes[#changes + 1] = { op = "~", item = k, old = va, new = vb }
    end
  end
  return changes
end

-- Processes: the same identity may run more than once; equal states cancel, the rest pair up
-- as changes, and what is left over was added or removed.
local function compare_processes(a, b)
  local changes = {}
  for _, k in ipairs(sorted_keys(a.procs, b.procs)) do
    local sa, sb = {}, {}
    local count = {}
    for _, s in ipairs(a.procs[k] or {}) do count[s] = (count[s] or 0) + 1 end
    for _, s in ipairs(b.procs[k] or {}) do
      if (count[s] or 0) > 0 then count[s] = count[s] - 1 else sb[#sb + 1] = s end
    end
    for _, s in ipairs(a.procs[k] or {}) do
      if (count[s] or 0) > 0 then
        count[s] = count[s] - 1
        sa[#sa + 1] = s
      end
    end
    local item = b.shown[k] or a.shown[k]
    for i = 1, math.max(#sa, #sb) do
      local op = not sa[i] and "+" or not sb[i] and "-" or "~"
      changes[#changes + 1] = { op = op, item = item, old = sa[i], new = sb[i] }
    end
  end
  return changes
end

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("glasshouse.diff: opts must be a table", 3) end
  for _, g in ipairs(opts.ignore or {}) do
    if type(g) ~= "string" then error("glasshouse.diff: ignore must be a list of globs", 3) end
  end
  return opts
end

-- The ignore globs for one receipt's context; a bad one raises.
local function ignore_matchers(globs, ctx)
  local out = {}
  for _, g in ipairs(globs or {}) do
    local m, why = glob.compile(g, ctx)
    if not m then error("glasshouse.diff: bad ignore glob: " .. why, 0) end
    out[#out + 1] = m
  end
  return out
end

--[[
diff(a, b [, opts]) -> {same = bool, sections = {{name, title, changes = {{op, item, old, new}}}},
notes = {...}}
a and b are receipt tables (gh.read_receipt). opts: all (compare byte and syscall counts too),
ignore (list of path globs), home and tmp (the directories shown as ~ and $TMP; default $HOME and
$TMPDIR or /tmp).
]]
function M.diff(a, b, opts)
  if type(a) ~= "table" or type(b) ~= "table" then
    error("glasshouse.diff: a and b must be receipt tables", 2)
  end
  opts = check_opts(opts)
  local o = { all = opts.all, home = opts.home or os.getenv("HOME"),
    tmp = opts.tmp or os.getenv("TMPDIR") or "/tmp" }
  o.tmp = o.tmp:gsub("(.)/+$", "%1")
  local ca, cb = context(a, o), context(b, o)
  ca.ignore, cb.ignore = ignore_matchers(opts.ignore, ca), ignore_matchers(opts.ignore, cb)
  local ma, mb = sections(a, ca, o), sections(b, cb, o)
  local result = { same = true, sections = {}, notes = {} }
  for _, name in ipairs(M.SECTIONS) do
    local changes = name == "processes" and compare_processes(ma, mb) or compare(ma[name], mb[name])
    if #changes > 0 then result.same = false end
    result.sections[#result.sections + 1] = { name = name, title = TITLES[name] or name,
      changes = changes }
  end
  for which, r in pairs({ old = a, new = b }) do
    local c = type(r.collector) == "table" and r.collector or {}
    if c.complete ~= true then
      result.notes[#result.notes + 1] = string.format("the %s receipt's collector was not "
        .. "complete (%s): changes may be missing", which, str(c.error) or str(c.status) or "?")
    end
  end
  table.sort(result.notes)
  return result
end

local COLORS = { ["+"] = "\27[32m", ["-"] = "\27[31m", ["~"] = "\27[33m" }

local function short(v)
  if type(v) == "string" and #v == 64 and not v:find("[^0-9a-f]") then return v:sub(1, 12) end
  return v
end

--- render(result [, {color = bool}]) -> text: a titled block per section that changed.
function M.render(result, opts)
  local color = opts and opts.color
  local out = {}
  for _, s in ipairs(result.sections) do
    if #s.changes > 0 then
      out[#out + 1] = color and ("\27[1m" .. s.title .. "\27[0m") or s.title
      for _, c in ipairs(s.changes) do
        local line = c.op .. " " .. c.item:gsub("\n", "\\n")
        if c.op == "~" then
          line = line .. ": " .. short(c.old) .. " -> " .. short(c.new)
        elseif c.old or c.new then
          line = line .. ": " .. short(c.old or c.new)
        end
        out[#out + 1] = "  " .. (color and (COLORS[c.op] .. line .. "\27[0m") or line)
      end
    end
  end
  for _, n in ipairs(result.notes) do out[#out + 1] = "note: " .. n end
  return table.concat(out, "\n") .. (#out > 0 and "\n" or "")
end

--- to_json(result) -> an ordered table for gh.json.encode: {same, sections = {name = [...]},
--- notes}.
function M.to_json(result)
  local secs = {}
  for i, s in ipairs(result.sections) do
    secs[i] = { s.name, json.array((function()
      local out = {}
      for j, c in ipairs(s.changes) do
        out[j] = json.fields { { "change", c.op }, { "item", c.item }, { "old", c.old },
          { "new", c.new } }
      end
      return out
    end)()) }
  end
  return json.fields { { "same", result.same }, { "sections", json.fields(secs) },
    { "notes", json.array(result.notes) } }
end

return M
