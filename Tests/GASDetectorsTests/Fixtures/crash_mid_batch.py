#!/usr/bin/env python3
"""Fixture: answers the first batch, then exits with status 3 while handling the second."""
import json
import sys

print(json.dumps({"hello": {"protocol": 1, "name": "crash_mid_batch", "modalities": ["image"]}}), flush=True)
batches = 0
for line in sys.stdin:
    if not line.strip():
        continue
    msg = json.loads(line)
    if msg.get("shutdown"):
        break
    batches += 1
    if batches == 2:
        print("crash_mid_batch: simulated crash in batch %d" % msg["batch"], file=sys.stderr, flush=True)
        sys.exit(3)
    results = [{"id": item["id"], "probs": [0.25, 0.75]} for item in msg["items"]]
    print(json.dumps({"batch": msg["batch"], "results": results}), flush=True)
