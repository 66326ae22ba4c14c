#!/usr/bin/env bash
# The adversarial loop on one machine: makes keys (once), starts the two generators of
# configs/generators.yaml on 127.0.0.1:8091 and :8092, runs configs/adversarial.yaml, stops them.
#   scripts/adversarial-demo.sh [gascli arguments after the spec, e.g. --output /tmp/runs]
set -euo pipefail
cd "$(dirname "$0")/.."
# This checkout's build first (an installed gascli may be older), then ./bin, then PATH.
if [ -z "${GASCLI:-}" ]; then
  for c in .build/release/gascli .build/debug/gascli bin/gascli; do [ -x "$c" ] && GASCLI=$c && break; done
  GASCLI=${GASCLI:-gascli}
fi
mkdir -p keys
for k in validator generator-a generator-b; do
  [ -f "keys/$k.json" ] || "$GASCLI" keys new -o "keys/$k.json" >/dev/null
done
"$GASCLI" generator start --config configs/generator.yaml > /tmp/gascli-generator-a.log 2>&1 & A=$!
"$GASCLI" generator start --config configs/generator-command.yaml > /tmp/gascli-generator-b.log 2>&1 & B=$!
trap 'kill -TERM $A $B 2>/dev/null; wait $A $B 2>/dev/null || true' EXIT
for port in 8091 8092; do
  for _ in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then break; fi
    sleep 0.1
  done
done
"$GASCLI" run configs/adversarial.yaml "$@"
