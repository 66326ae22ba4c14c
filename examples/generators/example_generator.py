#!/usr/bin/env python3
"""An example generator for `backend: {kind: command}` in a gascli generator config.

    example_generator.py PROMPT OUTPUT RESOLUTION SEED [--side-1k N]

Writes a PNG to OUTPUT: a deterministic pattern (colour bands and rings) seeded by the prompt and
seed, a square whose side follows the requested tier (1K: 512 px by default, 2K: 2048, 4K: 3584).
Standard library only. A real miner would call a diffusion model here (for example diffusers'
StableDiffusionPipeline) and save its image to OUTPUT; gascli sends whatever file appears there.
Exit status 0 = success; anything else is reported to the validator as a failed task.
"""
import hashlib
import math
import struct
import sys
import zlib


def png(width, height, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    prompt, output, resolution, seed = argv[1], argv[2], argv[3].upper(), argv[4]
    side_1k = int(argv[argv.index("--side-1k") + 1]) if "--side-1k" in argv else 512
    side = {"1K": side_1k, "2K": 2048, "4K": 3584}.get(resolution)
    if side is None:
        print(f"unsupported resolution {resolution}: this example makes images only", file=sys.stderr)
        return 3
    digest = hashlib.sha256(f"{seed}\n{prompt}".encode()).digest()
    c1, c2, c3 = digest[0:3], digest[3:6], digest[6:9]
    fx, fy, fr = 1 + digest[9] % 7, 1 + digest[10] % 5, 2 + digest[11] % 9
    cx, cy = digest[12] / 255 * side, digest[13] / 255 * side
    rows = []
    for y in range(side):
        row = bytearray(side * 3)
        for x in range(side):
            u, v = x / side, y / side
            a = 0.5 + 0.5 * math.sin(6.283 * (fx * u + fy * v))
            r = math.hypot(x - cx, y - cy) / side
            b = 0.5 + 0.5 * math.cos(6.283 * fr * r)
            for k in range(3):
                row[3 * x + k] = int(c1[k] * a * (1 - b) + c2[k] * (1 - a) * (1 - b) + c3[k] * b) & 0xFF
        rows.append(row)
    with open(output, "wb") as f:
        f.write(png(side, side, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
