#!/usr/bin/env python3
"""Fixture: never sends the hello line."""
import sys
import time

print("no_hello: loading a very large model...", file=sys.stderr, flush=True)
while True:
    time.sleep(3600)
