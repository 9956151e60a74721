-- SPDX-License-Identifier: MIT
-- busted helper: load glasshouse's C modules (and built-in Lua files) into this stock lua5.4.
package.cpath = "build/lib/?.so;" .. package.cpath
require "glasshouse.native"
