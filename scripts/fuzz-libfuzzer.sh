#!/usr/bin/env bash
# Coverage-guided fuzzing of one gascli input reader with libFuzzer and AddressSanitizer.
#
#   scripts/fuzz-libfuzzer.sh TARGET [SECONDS]        e.g. scripts/fuzz-libfuzzer.sh yaml 600
#
# Builds gas-fuzz with -sanitize=fuzzer,address into .build-libfuzzer (a separate scratch path,
# so the ordinary build is untouched; the first build takes a while), copies the committed seeds
# of TARGET into a working corpus and runs libFuzzer on it with a per-input memory cap
# (-malloc_limit_mb) and a hang timeout. Crashing inputs land in fuzz-findings/TARGET/.
# Targets: yaml, parquet, archive, safetensors, detector-replies, epistula, delivery.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz-libfuzzer.sh TARGET [SECONDS]}"
seconds="${2:-600}"
swift build -c release --scratch-path .build-libfuzzer --product gas-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
bin="$(swift build -c release --scratch-path .build-libfuzzer --show-bin-path)/gas-fuzz"
work=".build-libfuzzer/corpus/$target"
mkdir -p "$work" "fuzz-findings/$target"
cp -n Tests/FuzzCorpus/"$target"/seeds/* "$work"/ 2>/dev/null || true
cp -n Tests/FuzzCorpus/"$target"/regressions/* "$work"/ 2>/dev/null || true
exec "$bin" "$target" --libfuzzer -- -max_total_time="$seconds" -malloc_limit_mb=1024 -rss_limit_mb=3072 \
  -timeout=20 -max_len=65536 -print_final_stats=1 -artifact_prefix="fuzz-findings/$target/" "$work"
