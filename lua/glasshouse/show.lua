-- SPDX-License-Identifier: MIT
-- glasshouse.show: a receipt for people to read, 80 columns wide: the process tree, the files by
-- directory, failures, network, products, the collector's completeness and a policy's verdict.
local json = require "glasshouse.json"

local M = {}

local WIDTH = 80

local str, list = json.str, json.list

local function num(v)
  return type(v) == "number" and (math.tointeger(v) or v) or 0
end

--- printable(s) -> s safe for a terminal: control bytes as \n, \t or \xNN, and every byte of
--- text that is not valid UTF-8 above 0x7f as \xNN.
function M.printable(s)
  s = tostring(s):gsub("[%c\127]", function(c)
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    return string.format("\\x%02x", c:byte())
  end)
  if not utf8.len(s) then
    s = s:gsub("[\128-\255]", function(c) return string.format("\\x%02x", c:byte()) end)
  end
  return s
end

local function width(s)
  return utf8.len(s) or #s
end

-- s cut to w columns with "…" when longer.
local function cut(s, w)
  if width(s) <= w then return s end
  return s:sub(1, utf8.offset(s, w) - 1) .. "…"
end

--- shell_word(w) -> w as a shell would need it typed (quoted when it has to be).
function M.shell_word(w)
  if w ~= "" and not w:find("[^%w%./_:=@%%+,-]") then return w end
  return "'" .. w:gsub("'", "'\\''") .. "'"
end
local shell_word = M.shell_word

local function command_line(p)
  local words = {}
  for i, a in ipairs(list(p.argv)) do words[i] = shell_word(M.printable(a)) end
  if #words == 0 then return M.printable(str(p.exe) or "?") end
  return table.concat(words, " ")
end

local function status_of(p)
  if str(p.signal) then return p.signal end
  if p.exit_code == nil or p.exit_code == json.null then return "running?" end
  return "exit " .. num(p.exit_code)
end

-- The painter: paint(kind, text) with kind "head", "bad", "good", "dim".
local function painter(color)
  local codes = { head = "\27[1m", bad = "\27[31m", good = "\27[32m", dim = "\27[2m" }
  return function(kind, s)
    if not color then return s end
    return codes[kind] .. s .. "\27[0m"
  end
end

local function plural(n, one, many)
  return string.format("%d %s", n, n == 1 and one or (many or one .. "s"))
end

--- header(receipt [, {color = bool, from = read_receipt's second value}]) -> the first lines:
--- command, result, collector, policy, and the attestation the receipt was read through.
function M.header(r, opts)
  local paint = painter(opts and opts.color)
  local root = list(r.process_tree)[1] or {}
  local o = type(r.outcome) == "table" and r.outcome or {}
  local fs = type(r.filesystem) == "table" and r.filesystem or {}
  local c = type(r.collector) == "table" and r.collector or {}
  local code = num(o.exit_code)
  local result = str(o.signal) and ("killed by " .. o.signal) or ("exit " .. code)
  local changed = #list(fs.writes) + #list(fs.created) + #list(fs.deletes)
  local ok = code == 0 and not str(o.signal)
  local lines = {
    cut("command  " .. command_line(root), WIDTH),
    paint(ok and "good" or "bad", cut(string.format(
      "result   %s, %d ms, %s, %d read, %d changed, %s", result,
      num(type(r.timing) == "table" and r.timing.duration_ms),
      plural(#list(r.process_tree), "process", "processes"), #list(fs.reads), changed,
      plural(#list(type(r.network) == "table" and r.network.attempts), "connection")), WIDTH)),
  }
  if str(o.error) then lines[#lines + 1] = cut("error    " .. M.printable(o.error), WIDTH) end
  local complete = c.complete == true
  lines[#lines + 1] = paint(complete and "good" or "bad", cut(string.format(
    "observed %s, %s: %d events, %d lost, %d truncated%s", tostring(c.status),
    complete and "complete" or "INCOMPLETE", num(c.events), num(c.lost), num(c.truncated),
    str(c.error) and (" (" .. M.printable(c.error) .. ")") or ""), WIDTH))
  local pol = type(r.policy) == "table" and r.policy or nil
  if pol then
    local n = #list(pol.violations)
    lines[#lines + 1] = paint(pol.verdict == "pass" and "good" or "bad", cut(string.format(
      "policy   %s: %s, %s", M.printable(tostring(pol.name)), tostring(pol.verdict),
      plural(n, "violation")), WIDTH))
  end
  local from = opts and opts.from
  if from then
    lines[#lines + 1] = cut(string.format("attested %s -> %s; signature not verified",
      M.printable(from.attestation), from.embedded and "the receipt it embeds" or
      (M.printable(from.receipt) .. ", digest matches")), WIDTH)
  end
  return lines
end

-- The process tree, each line "├─ argv ... exit N +Tms", the root with the run's duration.
local function tree(r, out, limit, paint)
  local procs = list(r.process_tree)
  local by_pid, kids, roots = {}, {}, {}
  for _, p in ipairs(procs) do by_pid[p.pid] = p end
  for _, p in ipairs(procs) do
    if by_pid[p.ppid] and by_pid[p.ppid] ~= p then
      kids[p.ppid] = kids[p.ppid] or {}
      table.insert(kids[p.ppid], p)
    else
      roots[#roots + 1] = p
    end
  end
  out[#out + 1] = paint("head", "processes (" .. #procs .. ")")
  local shown = 0
  local function line(p, lead, branch, depth)
    shown = shown + 1
    if shown > limit then return end
    local right = status_of(p)
    local at = num(p.start_offset_ms)
    local run_ms = num(r.timing and r.timing.duration_ms)
    right = right .. (depth == 0 and string.format(" %5d ms", run_ms)
      or string.format("  at %d ms", at))
    local left = "  " .. lead .. branch .. command_line(p)
    left = cut(left, WIDTH - width(right) - 2)
    local pad = string.rep(" ", WIDTH - width(left) - width(right))
    local bad = str(p.signal) or (p.exit_code ~= 0 and p.exit_code ~= json.null)
    out[#out + 1] = left .. pad .. (bad and paint("bad", right) or right)
    local ks = kids[p.pid] or {}
    for i, k in ipairs(ks) do
      local last = i == #ks
      line(k, lead .. (depth == 0 and "" or (branch == "└─ " and "   " or "│  ")),
        last and "└─ " or "├─ ", depth + 1)
    end
  end
  for _, p in ipairs(roots) do line(p, "", "", 0) end
  if shown > limit then out[#out + 1] = string.format("  … and %d more", shown - limit) end
end

-- names packed into lines of at most WIDTH columns after indent, max_lines of them; the rest
-- counted.
local function packed(out, names, indent, max_lines)
  local line, lines = indent, 0
  for i, n in ipairs(names) do
    local item = (line == indent and "" or "  ") .. n
    if width(line) + width(item) > WIDTH then
      lines = lines + 1
      if lines == max_lines then
        out[#out + 1] = line
        out[#out + 1] = indent .. string.format("… and %d more", #names - i + 1)
        return
      end
      out[#out + 1] = line
      line, item = indent, n
    end
    line = line .. item
  end
  if line ~= indent then out[#out + 1] = line end
end

-- Files grouped by directory: dir (count) then the names, marked by what happened to them.
local function by_directory(out, title, entries, limit, paint)
  if #entries == 0 then return end
  local dirs, order = {}, {}
  for _, e in ipairs(entries) do
    local d, n = e.path:match("^(.*/)([^/]*)$")
    d, n = d or "", n or e.path
    if not dirs[d] then
      dirs[d] = {}
      order[#order + 1] = d
    end
    table.insert(dirs[d], M.printable(n) .. (e.mark or ""))
  end
  table.sort(order)
  out[#out + 1] = paint("head", string.format("%s (%d in %s)", title, #entries,
    plural(#order, "directory", "directories")))
  for i, d in ipairs(order) do
    if i > limit then
      out[#out + 1] = string.format("  … and %d more directories", #order - limit)
      break
    end
    out[#out + 1] = cut("  " .. M.printable(d) .. " (" .. #dirs[d] .. ")", WIDTH)
    packed(out, dirs[d], "    ", 3)
  end
end

local function files(r, out, limit, paint)
  local fs = type(r.filesystem) == "table" and r.filesystem or {}
  local marks, changed = {}, {}
  local function mark(p, m)
    if type(p) ~= "string" then return end
    if not marks[p] then
      marks[p] = {}
      changed[#changed + 1] = p
    end
    marks[p][m] = true
  end
  for _, p in ipairs(list(fs.created)) do mark(p, "+") end
  for _, p in ipairs(list(fs.writes)) do mark(p, "w") end
  for _, p in ipairs(list(fs.deletes)) do mark(p, "-") end
  for _, rn in ipairs(list(fs.renames)) do
    mark(rn.from, ">")
    mark(rn.to, "<")
  end
  table.sort(changed)
  local entries = {}
  for i, p in ipairs(changed) do
    local m = marks[p]
    entries[i] = { path = p, mark = " [" .. (m["+"] and "+" or "") .. (m.w and "w" or "") ..
      (m["-"] and "-" or "") .. (m[">"] and ">" or "") .. (m["<"] and "<" or "") .. "]" }
  end
  by_directory(out, "files written, created, deleted, renamed", entries, limit, paint)
  if #entries > 0 then
    out[#out + 1] = paint("dim", "  [+ created, w written, - deleted, > renamed from, < to]")
  end
  entries = {}
  for _, p in ipairs(list(fs.reads)) do
    if type(p) == "string" and not marks[p] then entries[#entries + 1] = { path = p } end
  end
  by_directory(out, "files read", entries, limit, paint)
end

-- A titled list: "title (n)", then up to limit lines, then a count of the rest.
local function listing(out, title, lines, limit, paint)
  if #lines == 0 then return end
  out[#out + 1] = paint("head", title .. " (" .. #lines .. ")")
  for i, l in ipairs(lines) do
    if i > limit then
      out[#out + 1] = string.format("  … and %d more", #lines - limit)
      break
    end
    out[#out + 1] = type(l) == "function" and l() or cut("  " .. l, WIDTH)
  end
end

local function failures(r, out, limit, paint)
  local fs = type(r.filesystem) == "table" and r.filesystem or {}
  local lines = {}
  for _, p in ipairs(list(r.process_tree)) do
    for _, f in ipairs(list(p.failed_execs)) do
      lines[#lines + 1] = string.format("exec %s %s", tostring(f.error), M.printable(f.path))
    end
  end
  for _, f in ipairs(list(fs.failed)) do
    lines[#lines + 1] = string.format("%s %s %s", tostring(f.op), tostring(f.error),
      M.printable(f.path))
  end
  table.sort(lines)
  listing(out, "failures", lines, limit, paint)
end

local function network(r, out, limit, paint)
  local net = type(r.network) == "table" and r.network or {}
  local lines = {}
  for _, a in ipairs(list(net.attempts)) do
    lines[#lines + 1] = string.format("%s %s %s  %s ×%d  %d B out, %d B in", tostring(a.op),
      tostring(a.protocol), M.printable(a.dst), tostring(a.result), num(a.count),
      num(a.bytes_sent), num(a.bytes_received))
  end
  for _, s in ipairs(list(net.servers)) do
    lines[#lines + 1] = string.format("%s %s %s", tostring(s.op), tostring(s.protocol),
      M.printable(s.address))
  end
  for _, a in ipairs(list(net.accepted)) do
    lines[#lines + 1] = string.format("accept %s %s from %s ×%d  %d B out, %d B in",
      tostring(a.protocol), M.printable(a["local"]), M.printable(a.peer), num(a.count),
      num(a.bytes_sent), num(a.bytes_received))
  end
  listing(out, "network", lines, limit, paint)
end

local function violations(r, out, limit, paint)
  local pol = type(r.policy) == "table" and r.policy or {}
  local lines = {}
  for i, v in ipairs(list(pol.violations)) do
    lines[i] = M.printable(string.format("%s: %s", tostring(v.rule), tostring(v.message)))
  end
  listing(out, "policy violations", lines, limit, paint)
end

local function products(r, out, limit, paint)
  local fs = type(r.filesystem) == "table" and r.filesystem or {}
  local lines = {}
  for i, p in ipairs(list(fs.products)) do
    lines[i] = function()
      local right = string.format("%s  %d B", tostring(p.sha256):sub(1, 12), num(p.size))
      return cut("  " .. M.printable(p.path), WIDTH - width(right) - 2) .. "  " .. right
    end
  end
  listing(out, "products", lines, limit, paint)
end

--- render(receipt [, {color = bool, limit = n, from = ...}]) -> text of at most 80 columns;
--- each list is cut after limit entries (default 12) with a count of the rest (from: header's).
function M.render(r, opts)
  opts = opts or {}
  local limit = opts.limit or 12
  local paint = painter(opts.color)
  local out = M.header(r, opts)
  for _, section in ipairs({ tree, files, failures, network, products, violations }) do
    out[#out + 1] = ""
    local before = #out
    section(r, out, limit, paint)
    if #out == before then out[#out] = nil end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
