#!/usr/bin/env python3
"""Fixture: valid hello, then answers every request with a line that is not JSON."""
import json
import sys

print(json.dumps({"hello": {"protocol": 1, "name": "garbage", "modalities": ["image"]}}), flush=True)
for line in sys.stdin:
    if not line.strip():
        continue
    print("Loading weights... 100%\t\"done\" {not json", flush=True)
