#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Validate receipts against docs/receipt.schema.json; prints one line per problem."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
bad = 0
for path in sys.argv[2:]:
    receipt = json.load(open(path))
    v = jsonschema.Draft202012Validator(schema)
    for err in sorted(v.iter_errors(receipt), key=str):
        bad += 1
        print(f"{path}: {'/'.join(map(str, err.absolute_path))}: {err.message}")
sys.exit(1 if bad else 0)
