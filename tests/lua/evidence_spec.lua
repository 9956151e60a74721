-- SPDX-License-Identifier: MIT
-- glasshouse.evidence and glasshouse.attest: file hashes (with an identity), keys, signatures,
-- base64, the PAE, products from a filesystem record, and the exe-hash seam.
local core = require "glasshouse.core"
local evidence = require "glasshouse.evidence"
local attest = require "glasshouse.attest"
local json = require "glasshouse.json"

local function tmpdir()
  local p = io.popen("mktemp -d /tmp/gh-evidence-spec-XXXXXX")
  local d = p:read("l")
  p:close()
  return d
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return (out:gsub("\n$", ""))
end

-- The identity as stat(1) reports it: {dev, ino, ctime_sec, ctime_nsec}.
local function ident(path)
  local dev, ino, sec, nsec = sh("stat -c '%d %i %.9Z' " .. path):match("^(%d+) (%d+) (%d+)%.(%d+)$")
  return { dev = math.tointeger(tonumber(dev)), ino = math.tointeger(tonumber(ino)),
    ctime_sec = math.tointeger(tonumber(sec)), ctime_nsec = math.tointeger(tonumber(nsec)) }
end

describe("evidence", function()
  local d
  before_each(function() d = tmpdir() end)
  after_each(function() os.execute("rm -rf " .. d) end)

  it("sha256_file__abc__hex_and_size", function()
    write(d .. "/f", "abc")
    local hex, size = evidence.sha256_file(d .. "/f")
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex)
    assert.are.equal(3, size)
  end)

  it("sha256_file__link_fifo_missing__refused_with_codes", function()
    write(d .. "/f", "abc")
    os.execute("ln -s f " .. d .. "/l; mkfifo " .. d .. "/p")
    local _, msg, code = evidence.sha256_file(d .. "/l")
    assert.are.same({ d .. "/l: a symbolic link (not followed)", "ELOOP" }, { msg, code })
    _, msg, code = evidence.sha256_file(d .. "/p") -- a FIFO with no writer: no hang
    assert.are.same({ d .. "/p: not a regular file", "EINVAL" }, { msg, code })
    _, msg, code = evidence.sha256_file("/proc/self/status") -- a live view, not content
    assert.are.same({ "/proc/self/status: a kernel pseudo-file (proc, sysfs, tracefs...), not a "
      .. "regular file", "EINVAL" }, { msg, code })
    _, msg, code = evidence.sha256_file(d .. "/none")
    assert.are.same({ d .. "/none: No such file or directory", "ENOENT" }, { msg, code })
  end)

  it("sha256_file__identity__hashed_only_when_it_matches", function()
    write(d .. "/f", "abc")
    local id = ident(d .. "/f")
    assert.are.equal(3, select(2, evidence.sha256_file(d .. "/f", id)))
    id.ctime_nsec = (id.ctime_nsec + 1) % 1000000000
    local _, msg, code = evidence.sha256_file(d .. "/f", id)
    assert.are.equal("ESTALE", code)
    assert.are.equal(d .. "/f: replaced or changed since it was executed (its device, inode or "
      .. "change time differ)", msg)
  end)

  it("sha256_file__as_user_and_follow__the_users_rights_and_the_file_led_to", function()
    write(d .. "/f", "abc")
    os.execute("chmod 755 " .. d .. "; chmod 600 " .. d .. "/f; ln -s f " .. d .. "/l")
    local nobody = assert(core.user("nobody"))
    local _, msg, code = evidence.sha256_file(d .. "/f", nil, { user = nobody })
    assert.are.same({ d .. "/f: Permission denied", "EACCES" }, { msg, code })
    -- the thread's own rights are back: root reads it, and follows the link when asked
    local hex, size, real = evidence.sha256_file(d .. "/l", nil, { follow = true })
    assert.are.same({ "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 3,
      d .. "/f" }, { hex, size, real })
    _, msg, code = evidence.sha256_file(d .. "/l", nil, { user = nobody, follow = true })
    assert.are.same({ d .. "/l: Permission denied", "EACCES" }, { msg, code })
    os.execute("chmod 644 " .. d .. "/f")
    assert.are.equal(d .. "/f", select(3, evidence.sha256_file(d .. "/l", nil,
      { user = nobody, follow = true })))
  end)

  it("base64__both_alphabets_padding_optional", function()
    local bytes = "\251\255\254hello?"
    local b = evidence.base64(bytes)
    assert.are.equal("+//+aGVsbG8/", b)
    assert.are.equal(bytes, evidence.unbase64(b))
    assert.are.equal(bytes, evidence.unbase64("-__-aGVsbG8_"))
    assert.are.equal("ab", evidence.unbase64("YWI"))
    assert.are.equal("ab", evidence.unbase64("YWI="))
    assert.are.equal("", evidence.unbase64(""))
    assert.are.same({ nil, "not base64", "EINVAL" }, { evidence.unbase64("YW*I") })
    assert.are.same({ nil, "not base64", "EINVAL" }, { evidence.unbase64("Y") })
  end)

  it("pae__dsse_test_vector", function()
    assert.are.equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world",
      attest.pae("http://example.com/HelloWorld", "hello world"))
  end)

  it("keygen_sign_verify__round_trip__wrong_bytes_fail", function()
    local keyid = assert(evidence.keygen(d .. "/k"))
    assert.are.equal(sh("openssl pkey -pubin -in " .. d .. "/k.pub -outform DER | sha256sum | cut -c1-64"), keyid)
    local key = assert(evidence.load_key(d .. "/k.key", 0))
    local pub = assert(evidence.load_public_key(d .. "/k.pub"))
    assert.are.equal(keyid, key:keyid())
    assert.are.equal(keyid, pub:keyid())
    local sig = key:sign("bytes")
    assert.are.equal(64, #sig)
    assert.is_true(pub:verify("bytes", sig))
    assert.is_false(pub:verify("bytes!", sig))
    assert.is_false(pub:verify("bytes", sig:sub(1, 63)))
    assert.has_error(function() pub:sign("x") end, "key:sign: a public key cannot sign")
    key:close()
    key:close()
    assert.has_error(function() key:sign("x") end, "key:sign: the key is closed")
    local _, msg, code = evidence.keygen(d .. "/k")
    assert.are.same({ "cannot write " .. d .. "/k.key: it already exists (it is never overwritten)",
      "EEXIST" }, { msg, code })
  end)

  it("products__renames_deletes_directories", function()
    write(d .. "/a", "1")
    write(d .. "/b", "22")
    os.execute("mkdir " .. d .. "/dir2 && echo x > " .. d .. "/dir2/f && mkfifo " .. d .. "/p")
    local got = attest.products({
      writes = { d .. "/tmp", d .. "/b", d .. "/gone", d .. "/dir/f" },
      created = { d .. "/tmp", d .. "/p", d .. "/dir" },
      directories = { d .. "/dir" },
      renames = { { from = d .. "/tmp", to = d .. "/a" }, { from = d .. "/dir", to = d .. "/dir2" } },
    })
    assert.are.same({
      { path = d .. "/a", sha256 = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b", size = 1 },
      { path = d .. "/b", sha256 = "785f3ec7eb32f30b90cd0fcf3657d388b5ff4297f2f9716ff66e9b69c05ddd09", size = 2 },
      { path = d .. "/dir2/f", sha256 = "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac", size = 2 },
    }, got)
  end)

  it("exe_hashes__one_hash_per_identity__replaced_is_reported", function()
    write(d .. "/bin", "#!/bin/sh\n")
    local id = ident(d .. "/bin")
    local procs = { { exe = d .. "/bin", exe_ident = id }, { exe = d .. "/bin", exe_ident = id },
      { exe = "/bin/sh" } }
    assert.are.equal(1, attest.exe_hashes(procs))
    assert.are.equal(select(1, evidence.sha256_file(d .. "/bin")), procs[1].exe_sha256)
    assert.are.equal(procs[1].exe_sha256, procs[2].exe_sha256)
    assert.is_nil(procs[3].exe_sha256)
    -- Replaced on disk after the exec: another inode at the name.
    os.execute("sleep 0.01; cp " .. d .. "/bin " .. d .. "/new && mv " .. d .. "/new " .. d .. "/bin")
    local p = { { exe = d .. "/bin", exe_ident = id } }
    attest.exe_hashes(p)
    assert.are.equal(json.null, p[1].exe_sha256)
    assert.matches("replaced or changed since it was executed", p[1].exe_hash_error, 1, true)
    os.execute("rm " .. d .. "/bin")
    attest.exe_hashes(p)
    assert.are.equal(d .. "/bin: No such file or directory", p[1].exe_hash_error)
  end)
end)

-- gh.read_receipt on attestations: the receipt named beside it (digest checked) or embedded;
-- the signature is not checked (here it is no signature at all).
describe("read_receipt", function()
  local gh = require "glasshouse"
  local d, golden
  before_each(function()
    d = tmpdir()
    local f = assert(io.open("tests/lua/golden/receipt.json", "rb"))
    golden = f:read("a"):match("^(.-\n}\n)") -- the first of the golden receipts
    f:close()
    write(d .. "/r.json", golden)
  end)
  after_each(function() os.execute("rm -rf " .. d) end)

  -- An attestation of r.json at d/name, its statement changed by patch(st) when given.
  local function attestation(name, patch, ptype)
    local st = json.decode(json.encode(attest.statement(json.decode(golden), { receipt_name =
      "r.json", receipt_sha256 = gh.sha256(golden), cwd = "/", argv = { "x" }, finished_ns = 0 })))
    if patch then patch(st) end
    local env = attest.envelope(json.encode(st, { compact = true }), "kid", "not a signature")
    if ptype then env.payloadType = ptype end
    write(d .. "/" .. name, json.encode(env, { compact = true }) .. "\n")
    return d .. "/" .. name
  end

  it("read_receipt__attestation__the_receipt_beside_it_and_where_it_came_from", function()
    local a = attestation("r.intoto.jsonl")
    local r, from = gh.read_receipt(a)
    assert.are.same(json.decode(golden), r)
    assert.are.same({ attestation = a, receipt = d .. "/r.json", sha256 = gh.sha256(golden) }, from)
    local plain, none = gh.read_receipt(d .. "/r.json")
    assert.are.same(r, plain)
    assert.is_nil(none)
  end)

  it("read_receipt__tampered_receipt__names_both_digests", function()
    local a = attestation("r.intoto.jsonl")
    write(d .. "/r.json", golden .. " ")
    local r, msg = gh.read_receipt(a)
    assert.is_nil(r)
    assert.are.equal(string.format("%s/r.json: the receipt's SHA-256 is %s, but %s records %s", d,
      gh.sha256(golden .. " "), a, gh.sha256(golden)), msg)
  end)

  it("read_receipt__bad_envelopes__one_line_each", function()
    local cases = {
      { attestation("t.jsonl", nil, "text/plain"), "t.jsonl: payloadType is 'text/plain', not "
        .. "application/vnd.in-toto+json" },
      { attestation("s.jsonl", function(st) st._type = "x" end), "s.jsonl: the payload is not an "
        .. "in-toto Statement v1 with a runtime-trace predicate" },
      { attestation("n.jsonl", function(st) st.subject[#st.subject].annotations = nil end),
        "n.jsonl: no subject is marked as the receipt" },
      { attestation("m.jsonl", function(st) st.subject[#st.subject].name = "no\nsuch" end),
        "m.jsonl: its receipt: cannot read " .. d .. "/no\\x0asuch: No such file or directory" },
    }
    write(d .. "/e.jsonl", '{"payloadType": 1}')
    cases[#cases + 1] = { d .. "/e.jsonl", "e.jsonl: not a DSSE envelope (JSON with payload, "
      .. "payloadType, signatures)" }
    for _, c in ipairs(cases) do
      local r, msg = gh.read_receipt(c[1])
      assert.is_nil(r)
      assert.are.equal(d .. "/" .. c[2], msg)
    end
  end)

  it("read_receipt__embedded_receipt__read_from_the_predicate", function()
    local a = attestation("e.jsonl", function(st)
      st.predicate.glasshouse.receipt = json.decode(golden)
      st.subject = {}
    end)
    local r, from = gh.read_receipt(a)
    assert.are.same(json.decode(golden), r)
    assert.are.same({ attestation = a, embedded = true }, from)
  end)
end)
