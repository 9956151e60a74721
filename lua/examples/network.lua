-- SPDX-License-Identifier: MIT
-- network.lua: run a command and summarise its network use on stderr: one line per
-- destination (protocol, results, attempts, bytes), then servers and accepted peers.
-- usage: glasshouse script network.lua -- CMD [ARGS...]
local gh = require "glasshouse"

local r = gh.run(gh.command, { output = os.getenv("RECEIPT") or "receipt.json" })
local net = r.network
local w = function(...) io.stderr:write(string.format(...)) end
w("network: %d attempts, %d bytes sent, %d received\n", #net.attempts, net.bytes_sent,
  net.bytes_received)
for _, a in ipairs(net.attempts) do
  w("  %-7s %-4s %-28s %-11s x%-5d sent %d received %d (pid %d)\n", a.op, a.protocol, a.dst,
    a.result, a.count, a.bytes_sent, a.bytes_received, a.pid)
end
for _, s in ipairs(net.servers) do
  w("  server  %-4s %-28s %s (pid %d)\n", s.protocol, s.address, s.op, s.pid)
end
for _, a in ipairs(net.accepted) do
  w("  accept  %-4s %-28s from %s x%d sent %d received %d\n", a.protocol, a["local"], a.peer,
    a.count, a.bytes_sent, a.bytes_received)
end
return gh.exit_status(r)
