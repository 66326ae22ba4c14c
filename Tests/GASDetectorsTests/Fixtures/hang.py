#!/usr/bin/env python3
"""Fixture: valid hello, then never answers (and never reads stdin).

It also starts a grandchild that sleeps, and reports its pid on stderr, so that tests can check
that the runner kills the whole process group.
"""
import json
import subprocess
import sys
import time

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
print("hang: grandchild pid %d" % child.pid, file=sys.stderr, flush=True)
print(json.dumps({"hello": {"protocol": 1, "name": "hang", "modalities": ["image"]}}), flush=True)
while True:
    time.sleep(3600)
