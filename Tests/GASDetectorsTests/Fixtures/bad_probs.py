#!/usr/bin/env python3
"""Fixture: answers with invalid probabilities (NaN, 1.5, wrong length, ...) and a few valid ones.

The i-th item of every batch gets CASES[i % len(CASES)].
"""
import json
import sys

CASES = [
    {"probs": [float("nan")]},          # 0: NaN (json.dumps writes the bare token NaN)
    {"probs": [1.5]},                   # 1: outside [0, 1]
    {"probs": [0.1, 0.2, 0.3, 0.4]},    # 2: wrong length
    {"probs": [0.2, 0.8]},              # 3: valid
    {"probs": "0.5"},                   # 4: not a list
    {"probs": []},                      # 5: empty
    {"probs": [-0.1, 1.1]},             # 6: negative
    {"error": "could not read"},        # 7: per-item error
    {"probs": [float("inf"), 0.5]},     # 8: infinity
    {"probs": [0.1, 0.6, 0.3]},         # 9: valid, three classes
    {},                                 # 10: neither probs nor error
    {"probs": 0.7},                     # 11: bare number
]

print(json.dumps({"hello": {"protocol": 1, "name": "bad_probs", "modalities": ["image"]}}), flush=True)
for line in sys.stdin:
    if not line.strip():
        continue
    msg = json.loads(line)
    if msg.get("shutdown"):
        break
    results = []
    for i, item in enumerate(msg["items"]):
        r = dict(CASES[i % len(CASES)])
        r["id"] = item["id"]
        results.append(r)
    print(json.dumps({"batch": msg["batch"], "results": results}), flush=True)
