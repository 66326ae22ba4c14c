#!/usr/bin/env python3
"""Fixture: valid hello, then answers the first request with 20 MiB of output without a newline."""
import json
import sys
import time

print(json.dumps({"hello": {"protocol": 1, "name": "flood", "modalities": ["image"]}}), flush=True)
sys.stdin.readline()
chunk = b'{"batch": 1, "results": [' + b"x" * (1024 * 1024 - 26)
out = sys.stdout.buffer
try:
    for _ in range(20):
        out.write(chunk)
        out.flush()
except BrokenPipeError:
    sys.exit(0)
time.sleep(3600)
