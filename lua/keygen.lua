-- SPDX-License-Identifier: MIT
-- `glasshouse keygen [PREFIX]`: a new Ed25519 key pair, PREFIX.key (PKCS#8 PEM, mode 0600) and
-- PREFIX.pub (SubjectPublicKeyInfo PEM), never written over anything; prints the key id.
local gh = require "glasshouse"

if #arg > 1 then gh.usage_error("keygen takes one PREFIX, got " .. #arg .. " words") end
local prefix = arg[1] or "glasshouse"
if prefix == "" or prefix:sub(1, 1) == "-" then
  gh.usage_error("keygen: PREFIX must be a file name prefix, got '" .. prefix .. "'")
end
-- Under sudo or doas the keys are the invoking user's, as the receipts are.
local keyid, msg = gh.evidence.keygen(prefix, gh.owner(gh.core.invoking_user() or nil))
if not keyid then
  io.stderr:write("glasshouse: keygen: ", msg, "\n")
  return 1
end
io.stdout:write(keyid, "\n")
io.stderr:write(("glasshouse: wrote %s.key (private, keep it secret) and %s.pub\n"):format(prefix,
  prefix))
return 0
