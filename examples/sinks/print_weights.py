#!/usr/bin/env python3
"""A command sink for `gascli validator`: reads the weight vector as JSON on stdin and prints a
one-line summary. The same data is in the environment: GAS_UIDS, GAS_WEIGHTS (comma lists),
GAS_BLOCK, GAS_OCCURRENCE, GAS_NETUID, GAS_VERSION_KEY. Exit 0 = accepted; anything else is a
failure that the validator retries with backoff and records."""
import json
import sys

payload = json.load(sys.stdin)
pairs = " ".join(f"{u}:{w}" for u, w in zip(payload["uids"], payload["weights"]))
print(f"netuid {payload['netuid']} block {payload['block']} (occurrence {payload['occurrence']}): {pairs}")
