-- SPDX-License-Identifier: MIT
-- glasshouse.attest: content hashes of a run's products and materials, and the signed in-toto
-- attestation (a DSSE envelope around a Statement with a runtime-trace predicate) of a receipt.
local core = require "glasshouse.core"
local evidence = require "glasshouse.evidence"
local json = require "glasshouse.json"
local receipt = require "glasshouse.receipt"

local M = {}

M.PAYLOAD_TYPE = "application/vnd.in-toto+json"
M.STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
M.PREDICATE_TYPE = "https://in-toto.io/attestation/runtime-trace/v0.1"
-- The receipt's subject carries this annotation, so verify tells it from a product.
M.RECEIPT_ANNOTATION = "dev.glasshouse.receipt"

local arr, fields, null = json.array, json.fields, json.null

-- What sha256_file's failure codes mean for a candidate: gone or not a regular file (a
-- directory, FIFO, device) is no product; anything else is listed with its error. A candidate
-- only created, never written, that is a symbolic link is the link itself: no product either.
local NOT_A_FILE = { ENOENT = true, ENOTDIR = true, EINVAL = true }

-- evidence.sha256_file, but never for a cut path ("(cut)/a/b", longer than PATH_MAX: its
-- leading directories are not known), which would name a file relative to glasshouse's cwd.
local function sha256_file(path, id, opts)
  if path:sub(1, 1) ~= "/" then
    return nil, path .. ": not hashed: the path was cut (longer than PATH_MAX), its leading "
        .. "directories are not known", "ENAMETOOLONG"
  end
  return evidence.sha256_file(path, id, opts)
end

-- Hash each path of set (path -> true to follow a link at its end; with skip_links, a link
-- not followed is no entry) into {path, sha256, size} entries sorted by path, opened with
-- user's rights (the command's: false for glasshouse's own), so a path the command controls
-- gets nothing hashed that it could not read itself. Failures other than "not a regular file
-- any more" stay listed, with sha256 and size null and error saying why. A followed link is
-- listed under the path of the file it led to (once, whichever names led there).
local function hash_all(set, user, skip_links)
  local byp, opts = {}, { user = user or nil }
  for p, follow in pairs(set) do
    opts.follow = follow
    local hex, size, real = sha256_file(p, nil, opts)
    if hex then
      byp[real] = { path = real, sha256 = hex, size = size }
    elseif not (NOT_A_FILE[real] or (skip_links and real == "ELOOP")) then
      byp[p] = { path = p, sha256 = null, size = null, error = size }
    end
  end
  local out = {}
  for _, e in pairs(byp) do out[#out + 1] = e end
  table.sort(out, function(a, b) return a.path < b.path end)
  return out
end

--- products(fs [, user]) -> [{path, sha256, size}] sorted by path: the regular files the tree
--- wrote or created that exist now, under their names after its renames, hashed now with
--- user's rights. A name written through a symbolic link gives the file the link leads to.
function M.products(fs, user)
  local cand, dirs = {}, {}
  for _, d in ipairs(fs.directories or {}) do dirs[d] = true end
  for _, p in ipairs(fs.created or {}) do
    if not dirs[p] then cand[p] = false end
  end
  for _, p in ipairs(fs.writes or {}) do
    if not dirs[p] then cand[p] = true end
  end
  -- In order: a file renamed (or in a directory renamed) is a product under its new name.
  for _, rn in ipairs(fs.renames or {}) do
    local from, to, prefix = rn.from, rn.to, rn.from .. "/"
    local moved = {}
    for p, follow in pairs(cand) do
      if p == from then
        moved[#moved + 1] = { p, to, follow }
      elseif p:sub(1, #prefix) == prefix then
        moved[#moved + 1] = { p, to .. p:sub(#from + 1), follow }
      end
    end
    for _, m in ipairs(moved) do
      cand[m[1]] = nil
      cand[m[2]] = m[3]
    end
  end
  return hash_all(cand, user, true)
end

--- materials(fs [, user]) -> the same for every regular file the tree read (a link at a
--- name's end is not followed: the receipt names what was opened).
function M.materials(fs, user)
  local set = {}
  for _, p in ipairs(fs.reads or {}) do set[p] = false end
  return hash_all(set, user)
end

--[[
exe_hashes(processes [, user]) -> how many files were hashed (each with user's rights). The
seam for process_tree[].exe_sha256: each process whose exec record carried the executed file's
identity (p.exe_ident = {dev, ino,
ctime_sec, ctime_nsec}, device as user space numbers it) gets exe_sha256, taken only from a file
that still has that identity, or exe_hash_error saying why not (replaced, changed, deleted);
each distinct identity is hashed once per run. A process without exe_ident (no exec record
seen) is left alone. A #! script (p.script) gets script_sha256 (or script_hash_error): by path,
following no link, at the end of the run, since the kernel has already let go of the script's
file when the exec is reported, so its identity cannot be checked as the interpreter's is.
]]
function M.exe_hashes(procs, user)
  local seen, hashed, opts = {}, 0, { user = user or nil }
  for _, p in ipairs(procs or {}) do
    local id = p.exe_ident
    if id and p.exe then
      -- the file the kernel ran (a symlink's target): hashing never follows links
      local path = p.exe_real or p.exe
      local k = string.format("%d:%d:%d.%d:%s", id.dev, id.ino, id.ctime_sec, id.ctime_nsec, path)
      if not seen[k] then
        local hex, msg = sha256_file(path, id, opts)
        seen[k] = { hex = hex, err = not hex and msg or nil }
        hashed = hashed + 1
      end
      p.exe_sha256, p.exe_hash_error = seen[k].hex or null, seen[k].err
    end
    if p.script then
      local k = "script:" .. p.script
      if not seen[k] then
        local hex, msg = sha256_file(p.script, nil, opts)
        seen[k] = { hex = hex, err = not hex and msg or nil }
        hashed = hashed + 1
      end
      p.script_sha256, p.script_hash_error = seen[k].hex or null, seen[k].err
    end
  end
  return hashed
end

--- pae(type, body) -> DSSE's pre-authentication encoding, the bytes that are signed.
function M.pae(ptype, body)
  return string.format("DSSEv1 %d %s %d %s", #ptype, ptype, #body, body)
end

--- default_path(receipt_path) -> receipt.json -> receipt.intoto.jsonl
function M.default_path(receipt_path)
  return (receipt_path:gsub("%.json$", "")) .. ".intoto.jsonl"
end

-- path relative to dir when it lies under it, else as it is.
local function relative(path, dir)
  if dir and dir ~= "/" and path:sub(1, #dir + 1) == dir .. "/" then
    return path:sub(#dir + 2)
  end
  return path
end

local function descriptor(name, hex, extra)
  local f = { { "name", name }, { "digest", fields { { "sha256", hex } } } }
  for _, kv in ipairs(extra or {}) do f[#f + 1] = kv end
  return fields(f)
end

-- The predicate's process list: the tree, without glasshouse's own fields of the legacy view.
local function process_log(r)
  local out = arr()
  for i, p in ipairs(r.process_tree) do
    out[i] = fields { { "pid", p.pid }, { "ppid", p.ppid }, { "exe", p.exe }, { "argv", p.argv },
      { "working_dir", p.working_dir }, { "exit_code", p.exit_code }, { "signal", p.signal } }
  end
  return out
end

local function network_log(r)
  local out = arr()
  for i, a in ipairs(r.network.attempts) do
    out[i] = fields { { "dst", a.dst }, { "protocol", a.protocol }, { "result", a.result },
      { "op", a.op }, { "pid", a.pid } }
  end
  return out
end

local function file_access(r)
  local out = arr()
  for _, list in ipairs({ r.filesystem.products or {}, r.filesystem.materials or {} }) do
    for _, e in ipairs(list) do
      if e.sha256 ~= null then out[#out + 1] = descriptor(e.path, e.sha256) end
    end
  end
  return out
end

--[[
statement(r, info) -> the in-toto Statement v1 (a table for glasshouse.json) of receipt r.
info: receipt_name (the receipt's file name), receipt_sha256 (of its bytes), cwd (products
under it are named relative to it), argv, finished_ns.
]]
function M.statement(r, info)
  local subject = arr()
  for _, e in ipairs(r.filesystem.products or {}) do
    if e.sha256 ~= null then subject[#subject + 1] = descriptor(relative(e.path, info.cwd), e.sha256) end
  end
  subject[#subject + 1] = descriptor(info.receipt_name, info.receipt_sha256,
    { { "annotations", fields { { M.RECEIPT_ANNOTATION, true } } } })
  local host = core.uname()
  local c = r.collector
  return fields {
    { "_type", M.STATEMENT_TYPE },
    { "subject", subject },
    { "predicateType", M.PREDICATE_TYPE },
    { "predicate", fields {
      { "monitor", fields { { "type", "https://glasshouse.dev/monitor/glasshouse@" .. core.version } } },
      { "monitoredProcess", fields {
        { "hostID", host and host.nodename or "unknown" },
        { "type", "https://glasshouse.dev/monitored-process/command@v1" },
        { "event", table.concat(info.argv, " ") },
      } },
      { "monitorLog", fields {
        { "process", process_log(r) },
        { "network", network_log(r) },
        { "fileAccess", file_access(r) },
      } },
      { "metadata", fields {
        { "buildStartedOn", r.timestamp },
        { "buildFinishedOn", receipt.timestamp(info.finished_ns) },
      } },
      { "glasshouse", fields {
        { "receipt_version", r.receipt_version },
        { "execution_id", r.execution_id },
        { "exit_code", r.outcome.exit_code },
        { "collector", fields { { "status", c.status }, { "complete", c.complete },
          { "lost", c.lost }, { "truncated", c.truncated },
          { "filter_active", c.filter_active } } },
      } },
    } },
  }
end

--[[
decode(env, where) -> statement | nil, msg: the in-toto Statement inside a decoded DSSE envelope
(env, read from the file where), after its payloadType and the Statement's types are checked.
Its signature is not: that is verify's first step, and the only one that makes the rest true.
]]
function M.decode(env, where)
  if type(env) ~= "table" or type(env.payload) ~= "string" or type(env.payloadType) ~= "string" then
    return nil, where .. ": not a DSSE envelope (JSON with payload, payloadType, signatures)"
  end
  if env.payloadType ~= M.PAYLOAD_TYPE then
    return nil, string.format("%s: payloadType is '%s', not %s", where, env.payloadType,
      M.PAYLOAD_TYPE)
  end
  local payload = evidence.unbase64(env.payload)
  if not payload then return nil, where .. ": the payload is not base64" end
  local ok, st = pcall(json.decode, payload)
  if not ok or type(st) ~= "table" or st._type ~= M.STATEMENT_TYPE
      or st.predicateType ~= M.PREDICATE_TYPE or type(st.subject) ~= "table" then
    return nil, where .. ": the payload is not an in-toto Statement v1 with a runtime-trace "
      .. "predicate"
  end
  return st
end

--- receipt_subject(statement) -> the subject marked as the receipt, {the other subjects} |
--- nil, why
function M.receipt_subject(st)
  local rsub, products = nil, {}
  for _, s in ipairs(st.subject) do
    if type(s) ~= "table" or type(s.name) ~= "string" or type(s.digest) ~= "table" then
      return nil, "a subject without name and digest"
    end
    if type(s.annotations) == "table" and s.annotations[M.RECEIPT_ANNOTATION] == true then
      rsub = s
    else
      products[#products + 1] = s
    end
  end
  if not rsub then return nil, "no subject is marked as the receipt" end
  return rsub, products
end

--- envelope(payload, keyid, sig) -> the DSSE envelope (a table) of payload with the raw
--- signature sig over pae(PAYLOAD_TYPE, payload).
function M.envelope(payload, keyid, sig)
  return fields {
    { "payload", evidence.base64(payload) },
    { "payloadType", M.PAYLOAD_TYPE },
    { "signatures", arr { fields { { "keyid", keyid }, { "sig", evidence.base64(sig) } } } },
  }
end

return M
