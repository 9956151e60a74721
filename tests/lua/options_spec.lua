-- SPDX-License-Identifier: MIT
local core = require "glasshouse.core"

describe("core.parse_uint", function()
  it("returns plain decimal within the bounds", function()
    assert.are.equal(4096, core.parse_uint("4096", 4, 4194304))
    assert.are.equal("integer", math.type(core.parse_uint("0", 0, 0)))
    assert.are.equal(math.maxinteger, core.parse_uint("9223372036854775807", 0, math.maxinteger))
  end)

  it("refuses what tonumber would take, and bytes after a NUL", function()
    for _, s in ipairs({ "0x1000", " 16", "16 ", "4096.0", "+16", "1e3", "010", "", "16\0junk" }) do
      assert.are.same({ nil, "not a plain decimal number", "EINVAL" },
        { core.parse_uint(s, 0, 1 << 22) })
    end
  end)

  it("names the bounds when the number lies outside them", function()
    assert.are.same({ nil, "not from 4 to 4194304", "ERANGE" },
      { core.parse_uint("4194305", 4, 4194304) })
    assert.are.same({ nil, "not from 0 to 9223372036854775807", "ERANGE" },
      { core.parse_uint("9223372036854775808", 0, math.maxinteger) })
  end)

  it("raises on misuse", function()
    assert.has_error(function() core.parse_uint("1", -1, 2) end,
      "bad argument #2 to 'parse_uint' (must not be negative)")
    assert.has_error(function() core.parse_uint("1", 3, 2) end,
      "bad argument #3 to 'parse_uint' (must not be below lo)")
    assert.has_error(function() core.parse_uint({}, 0, 2) end,
      "bad argument #1 to 'parse_uint' (string expected, got table)")
  end)
end)

describe("core.parse_kv", function()
  it("splits at the first '=' after a key of letters, digits and _", function()
    assert.are.same({ "api_socket", "/run/a=b" }, { core.parse_kv("api_socket=/run/a=b") })
    assert.are.same({ "kernel", "" }, { core.parse_kv("kernel=") })
  end)

  it("refuses other keys, a missing '=' and a NUL", function()
    for _, s in ipairs({ "=x", "kernel", "a-b=x", " k=x", "k\0=x", "k=\0x" }) do
      assert.are.same({ nil, "not KEY=VALUE with KEY of letters, digits and _", "EINVAL" },
        { core.parse_kv(s) })
    end
  end)
end)
