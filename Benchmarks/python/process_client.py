"""Reference for `gascli bench process`: a minimal Python runner for the same no-op detector.

usage: process_client.py PYTHON DETECTOR SAMPLES BATCH

Starts DETECTOR --noop, reads its hello, then sends SAMPLES items in batches of BATCH as the
protocol's JSON lines (the same items gascli sends) and parses every response, matching results
to items by id. It does nothing else (no timeouts, no ledger), so it is the floor of what a Python
runner pays per sample. Prints one JSON line with samples per second.
"""
import json
import subprocess
import sys
import time

python, detector, samples, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
child = subprocess.Popen([python, detector, "--noop"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=1 << 16)
hello = json.loads(child.stdout.readline())
assert "hello" in hello, hello
ids = ["%024x" % (i * 2654435761) for i in range(samples)]
start = time.perf_counter()
answered = 0
for number, first in enumerate(range(0, samples, batch), start=1):
    items = [{"id": i, "path": "/tmp/gascli-bench/media/%s.png" % i, "modality": "image", "seed": 1234567 + n}
             for n, i in enumerate(ids[first:first + batch])]
    child.stdin.write((json.dumps({"batch": number, "items": items}, separators=(",", ":")) + "\n").encode())
    child.stdin.flush()
    response = json.loads(child.stdout.readline())
    by_id = {r["id"]: r for r in response["results"]}
    answered += sum(1 for item in items if "probs" in by_id.get(item["id"], {}))
elapsed = time.perf_counter() - start
child.stdin.close()
child.wait()
print(json.dumps({"samples_per_second": samples / elapsed, "seconds": elapsed, "answered": answered}))
