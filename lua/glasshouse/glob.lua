-- SPDX-License-Identifier: MIT
-- glasshouse.glob: path globs for policies and `diff --ignore`, over bytes (names with spaces,
-- newlines or invalid UTF-8 match like any other): `*` within one component, `**` any depth.
local M = {}

-- A component's glob as an anchored Lua pattern: every byte literal except `*`.
local function component_pattern(c)
  return "^" .. c:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
end

-- A component taken as it is (from the working directory or the home): every byte literal.
local function literal_pattern(c)
  return "^" .. c:gsub("[%^%$%(%)%%%.%[%]%+%-%?%*]", "%%%0") .. "$"
end

local function split(s)
  local out = {}
  for part in (s .. "/"):gmatch("(.-)/") do out[#out + 1] = part end
  return out
end

--[[
compile(glob [, {cwd =, home =}]) -> matcher | nil, why
A path glob: absolute ("/usr/**"), or starting with "./" (cwd), "~/" (home) or "**". `**` must
be a whole component and matches zero or more components; `*` matches within one component.
]]
--[[
expand(glob, ctx) -> the glob with ./ and ~ replaced by ctx.cwd and ctx.home, and how many of its
leading components (as split) are that directory's, | nil, why. Those are names, not globs: a
working directory called "a*" (a shared /tmp lets anyone make one) matches only itself. A base
ending in "/" (the root, a $HOME written with a slash) joins without doubling it.
]]
function M.expand(glob, ctx)
  local g, base = glob, nil
  if g == "." or g:sub(1, 2) == "./" then
    if not ctx.cwd then return nil, "'./' needs the command's working directory" end
    base = ctx.cwd
  elseif g == "~" or g:sub(1, 2) == "~/" then
    if not ctx.home then return nil, "'~' needs a home directory ($HOME is unset)" end
    base = ctx.home
  elseif g:sub(1, 1) ~= "/" and g:sub(1, 2) ~= "**" then
    return nil, "'" .. glob .. "' is relative: start it with /, ./, ~/ or **"
  end
  if not base then return g, 0 end
  base = base:gsub("/+", "/"):gsub("/$", "")
  g = base .. g:sub(2)
  return g ~= "" and g or "/", #split(base)
end

function M.compile(glob, ctx)
  ctx = ctx or {}
  if type(glob) ~= "string" or glob == "" then return nil, "a glob must be a non-empty string" end
  local g, nlit = M.expand(glob, ctx)
  if not g then return nil, nlit end
  if #g > 1 then g = g:gsub("/+$", "") end
  local parts = split(g)
  for i, c in ipairs(parts) do
    if i <= nlit then
      parts[i] = literal_pattern(c)
    elseif c ~= "**" and c:find("**", 1, true) then
      return nil, "'" .. glob .. "': ** must be a whole path component"
    else
      parts[i] = c == "**" and c or component_pattern(c)
    end
  end
  return { glob = glob, parts = parts }
end

-- Whether components p[i..] match glob parts g[j..]; memo keyed by i, j.
local function match_from(g, p, i, j, memo)
  local key = i * 65536 + j
  local m = memo[key]
  if m ~= nil then return m end
  if j > #g then
    m = i > #p
  elseif g[j] == "**" then
    m = match_from(g, p, i, j + 1, memo) or (i <= #p and match_from(g, p, i + 1, j, memo))
  else
    m = i <= #p and p[i]:find(g[j]) ~= nil and match_from(g, p, i + 1, j + 1, memo)
  end
  memo[key] = m
  return m
end

--- matches(matcher, path) -> boolean
function M.matches(m, path)
  return match_from(m.parts, split(path), 1, 1, {})
end

--[[
compile_plain(glob) -> matcher | nil, why: a glob over a word that is not a path (a network
destination such as "127.0.0.1:*", "[::1]:443", "unix:/run/**"): `*` and `**` match anything.
]]
function M.compile_plain(glob)
  if type(glob) ~= "string" or glob == "" then return nil, "a glob must be a non-empty string" end
  return { glob = glob, parts = { component_pattern((glob:gsub("%*%*+", "*"))) }, plain = true }
end

--- test(matcher, word) -> boolean, for either kind of matcher.
function M.test(m, word)
  if m.plain then return word:find(m.parts[1]) ~= nil end
  return M.matches(m, word)
end

return M
