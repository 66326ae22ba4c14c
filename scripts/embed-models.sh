#!/usr/bin/env bash
# Re-embeds models/*.safetensors into Sources/GASDetectors/EmbeddedModels.swift.
set -euo pipefail
cd "$(dirname "$0")/.."
b64=$(base64 -w0 models/image-baseline.safetensors)
sed -i "s|^    static let imageBaseline = \".*\"|    static let imageBaseline = \"$b64\"|" Sources/GASDetectors/EmbeddedModels.swift
b64=$(base64 -w0 models/audio-baseline.safetensors)
sed -i "s|^    static let audioBaseline = \".*\"|    static let audioBaseline = \"$b64\"|" Sources/GASDetectors/EmbeddedModels.swift
echo "embedded models/audio-baseline.safetensors ($(stat -c %s models/audio-baseline.safetensors) bytes)"
echo "embedded models/image-baseline.safetensors ($(stat -c %s models/image-baseline.safetensors) bytes)"
