-- SPDX-License-Identifier: MIT
-- `glasshouse verify ATTESTATION --key PUB [--receipt FILE] [--products DIR]`: checks, in
-- DSSE's order, the signature over the PAE, then the payloadType, then the Statement; then
-- the receipt's digest and, with DIR, every product's. Exit 0 valid, 1 not valid, 2 usage
-- error or unreadable input.
local gh = require "glasshouse"
local attest, evidence, json = require "glasshouse.attest", gh.evidence, gh.json

local opts, words = {}, {}
local i = 1
while i <= #arg do
  local w = arg[i]
  local long, inline = w:match("^%-%-([%w-]+)=(.*)$")
  long = long or w:match("^%-%-([%w-]+)$")
  if long == "key" or long == "receipt" or long == "products" then
    local v = inline
    if not v then
      i = i + 1
      v = arg[i]
    end
    if v == nil or v == "" then gh.usage_error("option --" .. long .. " needs a value") end
    opts[long] = v
  elseif w:sub(1, 1) == "-" and w ~= "-" then
    gh.usage_error("unknown option '" .. w .. "'")
  else
    words[#words + 1] = w
  end
  i = i + 1
end
if #words ~= 1 then gh.usage_error("verify takes one ATTESTATION file") end
if not opts.key then gh.usage_error("verify needs --key PUB") end
local file = words[1]

-- Unreadable input: exit 2. Not valid: exit 1, naming the check and the file.
local function unreadable(msg)
  io.stderr:write("glasshouse: verify: ", msg, "\n")
  os.exit(2)
end
local function invalid(msg)
  io.stderr:write("glasshouse: verify: NOT VALID: ", msg, "\n")
  os.exit(1)
end

local f, ferr = io.open(file, "rb")
if not f then unreadable(ferr) end
local text = f:read("a")
f:close()
local pub, perr = gh.load_public_key(opts.key)
if not pub then unreadable(perr) end

-- 1. The envelope and its signature over the PAE, before anything of the payload is read.
local ok, env = pcall(json.decode, text)
if not ok or type(env) ~= "table" or type(env.payload) ~= "string"
    or type(env.payloadType) ~= "string" or type(env.signatures) ~= "table" then
  invalid(file .. ": not a DSSE envelope (JSON with payload, payloadType, signatures)")
end
local payload = evidence.unbase64(env.payload)
if not payload then invalid(file .. ": the payload is not base64") end
local pae, good = attest.pae(env.payloadType, payload), false
for _, s in ipairs(env.signatures) do
  local sig = type(s) == "table" and type(s.sig) == "string" and evidence.unbase64(s.sig)
  if sig and gh.verify(pub, pae, sig) then good = true end
end
if not good then invalid(file .. ": no signature verifies with the key " .. opts.key) end
-- 2. The type, then 3. the Statement; the receipt is the subject marked with the annotation.
local st, serr = attest.decode(env, file)
if not st then invalid(serr) end
local rsub, products = attest.receipt_subject(st)
if not rsub then invalid(file .. ": " .. products) end -- (then products is why)
local rpath = opts.receipt or ((file:match("^(.*/)") or "") .. rsub.name)
local rhex, rerr, rcode = gh.sha256_file(rpath)
if not rhex then
  if rcode == "ENOENT" then invalid(rerr .. " (the receipt is missing)") end
  unreadable(rerr)
end
if rhex ~= rsub.digest.sha256 then
  invalid(rpath .. ": the receipt's SHA-256 is " .. rhex .. ", the attestation says "
    .. tostring(rsub.digest.sha256))
end

-- Products under DIR: each missing or changed one is listed.
local bad = 0
if opts.products then
  for _, s in ipairs(products) do
    local p = s.name:sub(1, 1) == "/" and (opts.products .. s.name) or (opts.products .. "/" .. s.name)
    local hex, herr, hcode = gh.sha256_file(p)
    if not hex then
      bad = bad + 1
      io.stderr:write("glasshouse: verify: ", hcode == "ENOENT" and ("missing: " .. p) or herr, "\n")
    elseif hex ~= s.digest.sha256 then
      bad = bad + 1
      io.stderr:write("glasshouse: verify: changed: ", p, " (SHA-256 ", hex, ", attested ",
        tostring(s.digest.sha256), ")\n")
    end
  end
  if bad > 0 then invalid(("%d of %d products missing or changed under %s"):format(bad,
    #products, opts.products)) end
end

local g = type(st.predicate) == "table" and type(st.predicate.glasshouse) == "table"
  and st.predicate.glasshouse or {}
local mp = type(st.predicate) == "table" and st.predicate.monitoredProcess or {}
local c = type(g.collector) == "table" and g.collector or {}
io.stdout:write(("valid: %s\n  command: %s\n  exit status: %s\n  products: %d%s\n"
  .. "  receipt: %s (sha256 %s)\n  collector complete: %s\n"):format(file,
  (tostring(mp.event):gsub("%c", function(ch) return ("\\x%02x"):format(ch:byte()) end)),
  tostring(math.tointeger(g.exit_code) or g.exit_code), #products, opts.products and " (all match under " .. opts.products .. ")" or "",
  rpath, rhex, c.complete == true and "yes" or ("NO (status %s, %s lost, %s truncated%s)"):format(
    tostring(c.status), tostring(math.tointeger(c.lost) or c.lost),
    tostring(math.tointeger(c.truncated) or c.truncated),
    c.filter_active == true and ", a filter dropped events" or "")))
return 0
