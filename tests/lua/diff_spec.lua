-- SPDX-License-Identifier: MIT
-- gh.diff on hand-made receipts: what counts as a change, how runs are normalised, the output.
local gh = require "glasshouse"
local diff = require "glasshouse.diff"
local json = require "glasshouse.json"

local A = string.rep("a", 64)
local B = string.rep("b", 64)

-- A receipt of `sh -c x` in dir, with cat under it; edit(r) changes it.
local function receipt(dir, edit)
  local r = {
    receipt_version = "v0.4", execution_id = "1", timestamp = "t",
    outcome = { exit_code = 0, signal = json.null, error = json.null },
    timing = { duration_ms = 5, cpu_time_ms = 1 },
    process_tree = {
      { pid = 10, ppid = 1, exe = "/usr/bin/sh", argv = { "sh", "-c", "x" }, working_dir = dir,
        exit_code = 0, signal = json.null, failed_execs = {} },
      { pid = 11, ppid = 10, exe = "/usr/bin/cat", argv = { "cat", dir .. "/in" },
        working_dir = dir, exit_code = 0, signal = json.null, failed_execs = {} },
    },
    syscalls = { counts = { openat = 3 } },
    artifacts = { stdout_hash = A, stderr_hash = A, stdout_bytes = 1, stderr_bytes = 0 },
    filesystem = { reads = { dir .. "/in", "/etc/passwd" }, writes = { dir .. "/out" },
      created = { dir .. "/out" }, deletes = {}, renames = {}, failed = {} },
    network = { attempts = {}, servers = {}, accepted = {} },
    resources = { cpu_time_ms = 1, max_rss_kb = 100 },
    collector = { status = "ok", events = 40, complete = true },
  }
  if edit then edit(r) end
  return r
end

-- The changes of section name as "op item[: old -> new]" lines.
local function changes(d, name)
  for _, s in ipairs(d.sections) do
    if s.name == name then
      local out = {}
      for i, c in ipairs(s.changes) do
        out[i] = c.op .. " " .. c.item .. (c.old and (" " .. c.old) or "") ..
          (c.new and (" " .. c.new) or "")
      end
      return out
    end
  end
end

describe("gh.diff", function()
  it("finds nothing between the same work in two directories, at other pids and times", function()
    local b = receipt("/home/u/b", function(r)
      r.process_tree[1].pid, r.process_tree[2].pid, r.process_tree[2].ppid = 20, 21, 20
      r.timing.duration_ms, r.execution_id, r.collector.events = 99, "2", 77
      r.resources.max_rss_kb, r.syscalls.counts.openat = 5000, 9
    end)
    local d = gh.diff(receipt("/tmp/a"), b)
    assert.is_true(d.same)
    assert.are.same({}, d.notes)
    assert.are.equal("", diff.render(d))
  end)

  it("shows an extra file as + under its section, relative to the working directory", function()
    local d = gh.diff(receipt("/w"), receipt("/w", function(r)
      table.insert(r.filesystem.writes, "/w/extra")
    end))
    assert.is_false(d.same)
    assert.are.same({ "+ ./extra" }, changes(d, "written"))
    assert.are.same({}, changes(d, "read"))
    assert.are.equal("files written\n  + ./extra\n", diff.render(d))
  end)

  it("shows an extra process, and one that went away, by identity", function()
    local d = gh.diff(receipt("/w"), receipt("/w", function(r)
      r.process_tree[2].argv = { "cat", "/w/other" }
      table.insert(r.process_tree, { pid = 12, ppid = 10, exe = "/usr/bin/true",
        argv = { "true" }, working_dir = "/w", exit_code = 0, failed_execs = {} })
    end))
    assert.are.same({ "- cat ./in  [in sh] exit 0, in .", "+ cat ./other  [in sh] exit 0, in .",
      "+ true  [in sh] exit 0, in ." }, changes(d, "processes"))
  end)

  it("counts a process that ran twice as two", function()
    local d = gh.diff(receipt("/w"), receipt("/w", function(r)
      table.insert(r.process_tree, { pid = 12, ppid = 10, exe = "/usr/bin/cat",
        argv = { "cat", "/w/in" }, working_dir = "/w", exit_code = 1, failed_execs = {} })
    end))
    assert.are.same({ "+ cat ./in  [in sh] exit 1, in ." }, changes(d, "processes"))
  end)

  it("shows a changed exit status with ~, in processes and outcome", function()
    local d = gh.diff(receipt("/w"), receipt("/w", function(r)
      r.outcome.exit_code, r.process_tree[1].exit_code = 3, 3
    end))
    assert.are.same({ "~ exit status 0 3" }, changes(d, "outcome"))
    assert.are.same({ "~ sh -c x exit 0, in . exit 3, in ." }, changes(d, "processes"))
    assert.are.equal("processes\n  ~ sh -c x: exit 0, in . -> exit 3, in .\noutcome\n"
      .. "  ~ exit status: 0 -> 3\n", diff.render(d))
  end)

  it("shows a changed product digest (filesystem.products, as the evidence issue adds it)",
    function()
      local function with(digest)
        return receipt("/w", function(r)
          r.filesystem.products = { { path = "/w/out", sha256 = digest, size = 3 } }
        end)
      end
      local d = gh.diff(with(A), with(B))
      assert.are.same({ "~ ./out " .. A .. " " .. B }, changes(d, "products"))
      assert.are.equal("products\n  ~ ./out: aaaaaaaaaaaa -> bbbbbbbbbbbb\n", diff.render(d))
      assert.is_true(gh.diff(with(A), with(A)).same)
    end)

  it("matches home and temporary names by pattern", function()
    local function at(name)
      return receipt("/w", function(r)
        r.filesystem.writes = { "/tmp/" .. name, "/home/u/.cache/x" }
      end)
    end
    local o = { home = "/home/u", tmp = "/tmp" }
    assert.is_true(gh.diff(at("tmp.vCwAZ3mbl0"), at("tmp.Q8aZZ0xyzk"), o).same)
    assert.is_true(gh.diff(at("ccAb3dEf.s"), at("cc9ZyXwV.s"), o).same)
    assert.are.same({ "+ $TMP/XXXXXX.o", "- $TMP/XXXXXX.s" },
      changes(gh.diff(at("ccAb3dEf.s"), at("cc9ZyXwV.o"), o), "written"))
    assert.are.same({ "- $TMP/fixed", "+ $TMP/other" },
      changes(gh.diff(at("fixed"), at("other"), o), "written"))
    assert.are.equal("~/.cache/x", diff.normalize("/home/u/.cache/x", o))
  end)

  it("compares byte and syscall counts only with all", function()
    local b = receipt("/w", function(r)
      r.artifacts.stdout_bytes, r.syscalls.counts.openat = 7, 4
    end)
    assert.is_true(gh.diff(receipt("/w"), b).same)
    local d = gh.diff(receipt("/w"), b, { all = true })
    assert.are.same({ "~ openat 3 4" }, changes(d, "syscalls"))
    assert.are.same({ "~ stdout bytes 1 7" }, changes(d, "outcome"))
  end)

  it("leaves out ignored paths, and raises on a bad glob", function()
    local b = receipt("/w", function(r) table.insert(r.filesystem.writes, "/w/log/a.txt") end)
    assert.is_true(gh.diff(receipt("/w"), b, { ignore = { "./log/**" } }).same)
    assert.is_false(gh.diff(receipt("/w"), b, { ignore = { "./log/*.md" } }).same)
    assert.has_error(function() gh.diff(receipt("/w"), b, { ignore = { "log" } }) end,
      "glasshouse.diff: bad ignore glob: 'log' is relative: start it with /, ./, ~/ or **")
  end)

  it("compares network attempts by destination and result, not pid", function()
    local function net(result, pid)
      return receipt("/w", function(r)
        r.network.attempts = { { dst = "127.0.0.1:80", protocol = "tcp", result = result,
          op = "connect", pid = pid, count = 1, bytes_sent = 5, bytes_received = 0 } }
      end)
    end
    assert.is_true(gh.diff(net("connected", 1), net("connected", 2)).same)
    assert.are.same({ "~ connect tcp 127.0.0.1:80 connected refused" },
      changes(gh.diff(net("connected", 1), net("refused", 1)), "network"))
  end)

  it("notes an incomplete collector", function()
    local d = gh.diff(receipt("/w"), receipt("/w", function(r)
      r.collector = { status = "partial", error = "3 events lost", complete = false }
    end))
    assert.is_true(d.same)
    assert.are.same({ "the new receipt's collector was not complete (3 events lost): changes "
      .. "may be missing" }, d.notes)
  end)

  it("gives the same content as JSON", function()
    local d = gh.diff(receipt("/w"), receipt("/w", function(r) r.outcome.exit_code = 1 end))
    local j = json.decode(json.encode(diff.to_json(d)))
    assert.is_false(j.same)
    assert.are.same({ { change = "~", item = "exit status", old = "0", new = "1" } },
      j.sections.outcome)
    assert.are.same({}, j.sections.read)
  end)

  it("raises on misuse", function()
    assert.has_error(function() gh.diff(nil, {}) end,
      "glasshouse.diff: a and b must be receipt tables")
  end)
end)

describe("glasshouse.glob", function()
  local glob = require "glasshouse.glob"
  local function m(g, p, ctx) return glob.test(assert(glob.compile(g, ctx)), p) end

  it("matches ** at the start, in the middle and at the end", function()
    assert.is_true(m("**/id_rsa", "/home/u/.ssh/id_rsa"))
    assert.is_true(m("**/id_rsa", "/id_rsa"))
    assert.is_false(m("**/id_rsa", "/home/u/id_rsa.pub"))
    assert.is_true(m("/usr/**/bin/cc", "/usr/bin/cc"))
    assert.is_true(m("/usr/**/bin/cc", "/usr/local/x/bin/cc"))
    assert.is_false(m("/usr/**/bin/cc", "/opt/bin/cc"))
    assert.is_true(m("/usr/**", "/usr/lib/gcc/x"))
    assert.is_false(m("/usr/**", "/usrx/lib"))
  end)

  it("matches * within one component only", function()
    assert.is_true(m("/tmp/*.o", "/tmp/a.o"))
    assert.is_false(m("/tmp/*.o", "/tmp/d/a.o"))
    assert.is_true(m("/tmp/*", "/tmp/a b"))
    assert.is_false(m("/a.c", "/abc"), "a dot is literal")
    assert.is_true(m("/x%y(1)", "/x%y(1)"), "Lua pattern characters are literal")
  end)

  it("expands ./ to the working directory and ~ to the home", function()
    local ctx = { cwd = "/w d", home = "/home/u" }
    assert.is_true(m("./**", "/w d/src/a.c", ctx))
    assert.is_false(m("./**", "/w/src/a.c", ctx))
    assert.is_true(m("~/.ssh/**", "/home/u/.ssh/id_rsa", ctx))
    assert.is_true(m("./", "/w d", ctx))
  end)

  it("matches names with spaces, newlines and invalid UTF-8 byte for byte", function()
    assert.is_true(m("/tmp/a\nb/*", "/tmp/a\nb/c d"))
    assert.is_true(m("/tmp/\xff*", "/tmp/\xff\xfe"))
    assert.is_false(m("/tmp/\xff*", "/tmp/\xfe\xff"))
    assert.is_true(m("/tmp/*", "/tmp/\n"))
  end)

  it("refuses bad globs with a reason", function()
    assert.are.same({ nil, "'a/b' is relative: start it with /, ./, ~/ or **" },
      { glob.compile("a/b") })
    assert.are.same({ nil, "'/a**/b': ** must be a whole path component" },
      { glob.compile("/a**/b") })
    assert.are.same({ nil, "a glob must be a non-empty string" }, { glob.compile("") })
    assert.are.same({ nil, "'./' needs the command's working directory" },
      { glob.compile("./x") })
  end)

  it("matches network destinations as plain words", function()
    local function net(g, w) return glob.test(glob.compile_plain(g), w) end
    assert.is_true(net("127.0.0.1:*", "127.0.0.1:8080"))
    assert.is_false(net("127.0.0.1:*", "127.0.0.10:80"))
    assert.is_true(net("[::1]:*", "[::1]:443"))
    assert.is_true(net("unix:*", "unix:/run/x.sock"))
  end)
end)

describe("glasshouse.show", function()
  local show = require "glasshouse.show"

  it("escapes control bytes and text that is not UTF-8 for a terminal", function()
    assert.are.equal("a\\nb\\tc\\x1b[2J", show.printable("a\nb\tc\27[2J"))
    assert.are.equal("\\xff\\xfe", show.printable("\255\254"))
    assert.are.equal("é ok", show.printable("é ok"))
  end)

  it("quotes argv words as a shell would need them", function()
    assert.are.same({ "ls", "'a b'", "'it'\\''s'", "''" },
      { show.shell_word("ls"), show.shell_word("a b"), show.shell_word("it's"), show.shell_word("") })
  end)

  it("draws a tree within 80 columns and cuts long lists with a count", function()
    local procs = { { pid = 1, ppid = 0, exe = "/bin/sh", argv = { "sh", string.rep("x", 100) },
      exit_code = 0, start_offset_ms = 0 } }
    for i = 2, 20 do
      procs[i] = { pid = i, ppid = 1, exe = "/bin/true", argv = { "true" }, exit_code = i == 2 and 1
        or 0, start_offset_ms = i }
    end
    local text = show.render({ process_tree = procs, timing = { duration_ms = 7 },
      outcome = { exit_code = 0 }, filesystem = {}, collector = { status = "ok", complete = true,
        events = 3 } }, { limit = 3 })
    local lines = {}
    for l in text:gmatch("([^\n]*)\n") do
      lines[#lines + 1] = l
      assert.is_true(utf8.len(l) <= 80, l)
    end
    assert.are.equal("processes (20)", lines[5])
    assert.are.equal("  sh " .. string.rep("x", 57) .. "…  exit 0     7 ms", lines[6])
    assert.are.equal("  ├─ true" .. string.rep(" ", 56) .. "exit 1  at 2 ms", lines[7])
    assert.are.equal("  … and 17 more", lines[9])
  end)
end)
