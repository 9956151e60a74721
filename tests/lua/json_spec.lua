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
    local cyc = {}
    cyc.self = cyc
    assert.has_error(function() json.encode(cyc) end)
  end)

  it("decodes with lua-cjson and raises on malformed text", function()
    local v = json.decode('{"a":[1,2,{"b":null}]}')
    assert.are.equal(2, v.a[2])
    assert.are.equal(json.null, v.a[3].b)
    assert.has_error(function() json.decode("{") end)
  end)
end)
