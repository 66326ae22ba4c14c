#!/usr/bin/env python3
"""Test helper: writes smooth.png (smooth gradients, no per-channel noise), noisy.png (random pixels,
independent per channel) and broken.png (not an image) into the directory given as argv[1]."""
import os
import random
import struct
import sys
import zlib


def png(width, height, pixel):
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        for x in range(width):
            raw.extend(pixel(x, y))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def main(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "smooth.png"), "wb") as f:
        f.write(png(256, 256, lambda x, y: ((x + y) // 2,) * 3))
    rng = random.Random(42)
    with open(os.path.join(out, "noisy.png"), "wb") as f:
        f.write(png(64, 64, lambda x, y: (rng.randrange(256), rng.randrange(256), rng.randrange(256))))
    with open(os.path.join(out, "broken.png"), "wb") as f:
        f.write(b"this is not an image\n")


if __name__ == "__main__":
    main(sys.argv[1])
