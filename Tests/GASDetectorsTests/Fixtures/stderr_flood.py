#!/usr/bin/env python3
"""Fixture: writes about 2 MiB to stderr for every request, but answers correctly."""
import json
import sys

print(json.dumps({"hello": {"protocol": 1, "name": "stderr_flood", "modalities": ["image"]}}), flush=True)
noise = ("stderr_flood: " + "blah " * 200 + "\n") * 2048  # ~2 MiB of log lines
for line in sys.stdin:
    if not line.strip():
        continue
    msg = json.loads(line)
    if msg.get("shutdown"):
        break
    sys.stderr.write(noise)
    sys.stderr.write("stderr_flood: finished batch %d\n" % msg["batch"])
    sys.stderr.flush()
    results = [{"id": item["id"], "probs": [0.4, 0.6]} for item in msg["items"]]
    print(json.dumps({"batch": msg["batch"], "results": results}), flush=True)
