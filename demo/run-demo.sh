#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the demo workload under glasshouse and says where the receipt is.
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/glasshouse-demo-XXXXXX)
receipt=$PWD/build/demo/receipt.json
set +e
./glasshouse run -o "$receipt" -- build/demo/workload "$work/files"
rc=$?
set -e
echo
echo "demo: the workload exited $rc; its receipt is $receipt"
jq -r '"collector: \(.collector.status)\(if .collector.error then " (" + .collector.error + ")" else "" end), events \(.collector.events), lost \(.collector.lost)",
  "processes: \(.process_tree | length)   reads: \(.filesystem.reads | length)   writes: \(.filesystem.writes | length)   deletes: \(.filesystem.deletes | length)   renames: \(.filesystem.renames | length)",
  "network attempts: \(.network.attempts | map(.dst + " " + .protocol + " " + .result) | join(", "))"' "$receipt"
rm -rf "$work"
