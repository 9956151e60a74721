-- SPDX-License-Identifier: MIT
local json = require "glasshouse.json"

describe("glasshouse.json", function()
  it("writes ordered keys first, the rest sorted, 2-space indent", function()
    local t = json.object({ zeta = 1, alpha = 2, b = 3, a = 4 }, { "b", "zeta" })
    assert.are.equal('{\n  "b": 3,\n  "zeta": 1,\n  "a": 4,\n  "alpha": 2\n}', json.encode(t))
    assert.are.equal('{"b":3,"zeta":1,"a":4,"alpha":2}', json.encode(t, { compact = true }))
  end)

  it("writes empty marked arrays as [], empty tables as {}, nil members are left out", function()
    local t = json.object({ list = json.array(), map = {}, gone = nil, n = json.null },
      { "list", "map", "gone", "n" })
    assert.are.equal('{"list":[],"map":{},"n":null}', json.encode(t, { compact = true }))
  end)

  it("does not escape / and keeps integers and floats apart", function()
    assert.are.equal('["/usr/bin/env",3,0.5,-7,true]',
      json.encode({ "/usr/bin/env", 3, 0.5, -7, true }, { compact = true }))
  end)

  it("round-trips every byte of a non-UTF-8 path", function()
    local path = "/tmp/caf\xe9/\xff\xfe\x80.txt"
    local text = json.encode({ path }, { compact = true })
    assert.are.equal('["/tmp/caf\\udce9/\\udcff\\udcfe\\udc80.txt"]', text)
    assert.are.equal(path, json.decode(text)[1])
  end)

  it("raises naming the place of a value JSON cannot hold", function()
    assert.has_error(function() json.encode({ a = { b = print } }) end,
      "json.encode: cannot encode a function at value.a.b")
    assert.has_error(function() json.encode({ x = 0 / 0 }) end,
      "json.encode: cannot encode NaN or infinity at value.x")
    assert.has_error(function() json.encode({ 1, 2, k = 3 }) end,
      "json.encode: table mixes list items and keys at value")
    assert.has_error(function() json.encode({ a = { [true] = 1 } }) end,
      "json.encode: object key of type boolean (keys must be strings) at value.a")
  end)

  -- A chain of n tables, each the only item of the one above ({{{...}}}), the innermost empty.
  local function nest(n)
    local root = {}
    local t = root
    for _ = 2, n do
      t[1] = {}
      t = t[1]
    end
    return root
  end

  it("raises on a cycle through a key, naming where it closes", function()
    local cyc = {}
    cyc.self = cyc
    assert.has_error(function() json.encode(cyc) end, "json.encode: cycle at value.self")
    local deeper = { a = { b = {} } }
    deeper.a.b.c = deeper.a
    assert.has_error(function() json.encode(deeper) end, "json.encode: cycle at value.a.b.c")
  end)

  it("raises on a cycle through an array", function()
    local list = { "x" }
    list[2] = { list }
    assert.has_error(function() json.encode(list, { compact = true }) end,
      "json.encode: cycle at value.2.1")
    local marked = json.array()
    marked[1] = marked
    assert.has_error(function() json.encode(marked) end, "json.encode: cycle at value.1")
  end)

  it("raises on a mutual cycle", function()
    local a, b = {}, {}
    a.peer, b.peer = b, a
    assert.has_error(function() json.encode({ first = a }) end,
      "json.encode: cycle at value.first.peer.peer")
  end)

  it("writes a table shared by two places twice; that is not a cycle", function()
    local shared = { n = 1 }
    assert.are.equal('{"a":{"n":1},"b":[{"n":1},{"n":1}]}',
      json.encode({ a = shared, b = { shared, shared } }, { compact = true }))
  end)

  it("writes 40 and 64 nested tables, refuses 65 naming the limit", function()
    assert.are.equal(string.rep("[", 39) .. "{}" .. string.rep("]", 39),
      json.encode(nest(40), { compact = true }))
    assert.are.equal(string.rep("[", 63) .. "{}" .. string.rep("]", 63),
      json.encode(nest(64), { compact = true }))
    assert.has_error(function() json.encode(nest(65)) end,
      "json.encode: tables nested more than 64 deep at value" .. string.rep(".1", 64))
  end)

  it("keeps keys holding NUL bytes whole, sorted bytewise", function()
    assert.are.equal('{"a":1,"a\\u0000b":2,"ab":3}',
      json.encode({ a = 1, ["a\0b"] = 2, ab = 3 }, { compact = true }))
  end)

  it("writes a key listed twice in the order once", function()
    assert.are.equal('{"b":2,"a":1}',
      json.encode(json.object({ a = 1, b = 2 }, { "b", "b" }), { compact = true }))
  end)

  it("refuses a list with a hole and a key rather than dropping the key", function()
    local holes = { 1, 2, 3, 4 } -- #holes stays 4 once [2] is gone: counts alone cannot tell
    holes[2] = nil
    holes.k = "v"
    assert.has_error(function() json.encode(holes) end,
      "json.encode: table mixes list items and keys at value")
  end)

  it("decodes with lua-cjson and raises on malformed text", function()
    local v = json.decode('{"a":[1,2,{"b":null}]}')
    assert.are.equal(2, v.a[2])
    assert.are.equal(json.null, v.a[3].b)
    assert.has_error(function() json.decode("{") end)
    -- A surrogate pair whose low half looks like an escaped byte is still one character.
    assert.are.equal("\u{1F480}\x80", json.decode('["\\ud83d\\udc80\\udc80"]')[1])
  end)
end)
