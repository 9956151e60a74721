-- SPDX-License-Identifier: MIT
-- glasshouse.args: the subcommands' option parser, on a table row of its own (the real table,
-- glasshouse.cli, lives in the binary; tests/cli/cli_test.sh drives run's options there).
local args = require "glasshouse.args"

local ROWS = { t = { options = {
  { long = "output", short = "o", value = "FILE", values = {} },
  { long = "wait-all", value = "SECONDS", values = {}, optional = true },
  { long = "quiet", values = {} },
} } }

local function parse(words)
  local seen = {}
  local function keep(name)
    return function(_, v, flag) seen[#seen + 1] = { name, v == nil and "nil" or v, flag } end
  end
  local _, operands = args.parse("t", words,
    { output = keep("output"), ["wait-all"] = keep("wait-all"), quiet = keep("quiet") })
  return seen, operands
end

describe("args.parse", function()
  local saved
  setup(function()
    saved = package.loaded["glasshouse.cli"]
    package.loaded["glasshouse.cli"] = ROWS
  end)
  teardown(function() package.loaded["glasshouse.cli"] = saved end)

  it("gives an optional value only after = in the same word, nil without one", function()
    assert.are.same({ { { "wait-all", "nil", "--wait-all" } }, { "cmd", "x" } },
      { parse({ "--wait-all", "cmd", "x" }) })
    assert.are.same({ { { "wait-all", "2.5", "--wait-all" } }, { "cmd" } },
      { parse({ "--wait-all=2.5", "cmd" }) })
    assert.are.same({ { { "wait-all", "", "--wait-all" } }, {} }, { parse({ "--wait-all=" }) })
  end)

  it("never takes the next word as an optional value", function()
    assert.are.same({ { { "wait-all", "nil", "--wait-all" } }, { "5", "--", "true" } },
      { parse({ "--wait-all", "5", "--", "true" }) })
    assert.are.same({ { { "wait-all", "nil", "--wait-all" }, { "quiet", "nil", "--quiet" } },
      { "true" } }, { parse({ "--wait-all", "--quiet", "--", "true" }) })
  end)

  it("still needs a required value and refuses one for a switch", function()
    assert.has_error(function() parse({ "-o" }) end,
      { glasshouse_usage = "option -o needs a value" })
    assert.has_error(function() parse({ "--quiet=1" }) end,
      { glasshouse_usage = "option --quiet takes no value" })
    assert.has_error(function() parse({ "--wait-al" }) end,
      { glasshouse_usage = "unknown option '--wait-al'" })
  end)
end)
