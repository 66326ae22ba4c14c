#!/usr/bin/env python3
"""Fixture: answers with made-up ids plus one real one (twice), after a response for another batch."""
import json
import sys

print(json.dumps({"hello": {"protocol": 1, "name": "unknown_ids", "modalities": ["image"]}}), flush=True)
for line in sys.stdin:
    if not line.strip():
        continue
    msg = json.loads(line)
    if msg.get("shutdown"):
        break
    items = msg["items"]
    real = items[0]["id"]
    # A stray response for a batch that was never asked for: must be ignored with a warning.
    print(json.dumps({"batch": msg["batch"] + 1000, "results": [{"id": real, "probs": [1.0, 0.0]}]}), flush=True)
    print("", flush=True)  # empty lines are ignored
    results = [
        {"id": "made-up-1", "probs": [0.5, 0.5]},
        {"id": real, "probs": [0.3, 0.7]},
        {"id": "made-up-2", "error": "who am I"},
        {"id": real, "probs": [0.9, 0.1]},  # duplicate: the first one wins
        "not an object",
    ]
    print(json.dumps({"batch": msg["batch"], "results": results}), flush=True)
