#!/usr/bin/env python3
"""Fixture: answers requests but ignores the shutdown message, end of stdin and SIGTERM."""
import json
import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
print(json.dumps({"hello": {"protocol": 1, "name": "stubborn", "modalities": ["image"]}}), flush=True)
for line in sys.stdin:
    if not line.strip():
        continue
    msg = json.loads(line)
    if msg.get("shutdown"):
        print("stubborn: not shutting down", file=sys.stderr, flush=True)
        continue
    results = [{"id": item["id"], "probs": [0.5]} for item in msg["items"]]
    print(json.dumps({"batch": msg["batch"], "results": results}), flush=True)
while True:
    time.sleep(3600)
