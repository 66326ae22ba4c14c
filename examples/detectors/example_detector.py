#!/usr/bin/env python3
"""Example gascli process detector (protocol 1, standard library only).

It speaks the JSON-lines protocol of docs/detector-protocol.md: one hello line, then for every
request line one response line, until {"shutdown": true} or the end of stdin.

The "detector" is deliberately simple, not a real deepfake detector:

- PNG files are decoded (zlib + PNG row filters, all in the standard library) and scored on
  chroma noise: generators that add independent per-channel noise leave high-frequency energy in
  the colour differences (R-G, B-G), while camera pipelines put it mostly in brightness.

      ratio = sum |laplacian(R-G)| + |laplacian(B-G)|  /  (sum |laplacian(gray)| + 1)
      p_ai  = 1 / (1 + exp(-K * (ratio - C)))        K = 3.0, C = 2.4

- JPEG files are not decoded (the standard library has no JPEG decoder); the example answers a
  compressed-size cue instead: bpp = 8 * bytes / (width * height), p_ai = 1 / (1 + exp(-2 * (bpp - 4))),
  with width and height from the SOFn marker. Low-bit-rate JPEGs lean real. This is a *format*
  cue, exactly the kind of shortcut a real detector must not learn: replace it with a model.

The answer is [p(real), p(AI)] = [1 - p_ai, p_ai].

Options:
  --noop     answer [0.5, 0.5] for every item without touching the files (overhead benchmarks)
  --name N   name to announce in the hello line (default "example")

Logs go to stderr; stdout carries protocol lines only.
"""

import json
import math
import struct
import sys
import zlib

K = 3.0  # slope of the chroma-noise logistic
C = 2.4  # midpoint of the chroma-noise logistic (ratio of chroma to luma high-frequency energy)
JPEG_K = 2.0  # slope of the JPEG bits-per-pixel logistic, per bit per pixel
JPEG_C = 4.0  # midpoint of the JPEG bits-per-pixel logistic

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# SOFn markers that carry the frame size (C4 = DHT, C8 = JPG extension, CC = DAC are not frames).
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(data):
    """(width, height) from a PNG or JPEG header; raises ValueError otherwise."""
    if data[:8] == PNG_SIGNATURE:
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise ValueError("PNG without an IHDR chunk")
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:2] == b"\xff\xd8":
        i = 2
        n = len(data)
        while i < n:
            if data[i] != 0xFF:
                raise ValueError("corrupt JPEG: expected a marker at byte %d" % i)
            while i < n and data[i] == 0xFF:  # fill bytes
                i += 1
            if i >= n:
                break
            marker = data[i]
            i += 1
            if marker == 0xD8 or marker == 0x01 or 0xD0 <= marker <= 0xD7:
                continue  # markers without a length
            if marker == 0xD9 or marker == 0xDA:
                break  # end of image / start of scan before any frame header
            if i + 2 > n:
                break
            (length,) = struct.unpack(">H", data[i:i + 2])
            if marker in JPEG_SOF:
                if i + 7 > n:
                    break
                height, width = struct.unpack(">HH", data[i + 3:i + 7])
                return width, height
            i += length
        raise ValueError("JPEG without a frame header (SOF)")
    raise ValueError("not a PNG or JPEG file")


def logistic(x):
    """1 / (1 + exp(-x)), numerically safe."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def decode_png_rgb(data):
    """(width, height, rows of RGB bytes) for 8-bit, non-interlaced gray/RGB/RGBA PNGs."""
    width, height = image_size(data)
    pos, idat, depth, ctype, interlace = 8, [], None, None, 0
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            depth, ctype, interlace = body[8], body[9], body[12]
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    channels = {0: 1, 2: 3, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError("the example decodes 8-bit non-interlaced gray/RGB/RGBA PNGs only")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if len(line) != stride:
            raise ValueError("truncated PNG data")
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif f != 0:
                raise ValueError("unknown PNG filter %d" % f)
        prev = line
        if channels == 1:
            rows.append(bytes(v for g in line for v in (g, g, g)))
        elif channels == 4:
            rows.append(bytes(v for i in range(0, stride, 4) for v in line[i:i + 3]))
        else:
            rows.append(bytes(line))
    return width, height, rows


def chroma_noise_ratio(width, height, rows):
    chroma = luma = 0.0
    for y in range(1, height - 1):
        up, row, down = rows[y - 1], rows[y], rows[y + 1]
        for x in range(1, width - 1):
            i = 3 * x
            def lap(k):
                return 4 * row[i + k] - row[i + k - 3] - row[i + k + 3] - up[i + k] - down[i + k]
            r, g, b = lap(0), lap(1), lap(2)
            chroma += abs(r - g) + abs(b - g)
            luma += abs(0.299 * r + 0.587 * g + 0.114 * b)
    return chroma / (luma + 1.0)


def p_ai_for(path):
    with open(path, "rb") as f:
        data = f.read()
    width, height = image_size(data)
    if width < 3 or height < 3:
        raise ValueError("image is smaller than 3x3")
    if data[:8] == PNG_SIGNATURE:
        return logistic(K * (chroma_noise_ratio(*decode_png_rgb(data)) - C))
    bpp = 8.0 * len(data) / (width * height)
    return logistic(JPEG_K * (bpp - JPEG_C))


def answer(item, noop):
    sample_id = item.get("id")
    if noop:
        return {"id": sample_id, "probs": [0.5, 0.5]}
    if item.get("modality") != "image":
        return {"id": sample_id, "error": "unsupported modality %r" % item.get("modality")}
    try:
        p = p_ai_for(item["path"])
    except (OSError, ValueError, KeyError, IndexError, struct.error, zlib.error) as e:
        return {"id": sample_id, "error": "could not read %s: %s" % (item.get("path"), e)}
    return {"id": sample_id, "probs": [round(1.0 - p, 6), round(p, 6)]}


def main(argv):
    noop = "--noop" in argv
    name = "example"
    if "--name" in argv:
        idx = argv.index("--name")
        if idx + 1 < len(argv):
            name = argv[idx + 1]
    out = sys.stdout
    out.write(json.dumps({"hello": {"protocol": 1, "name": name, "modalities": ["image"]}}) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError as e:
            print("example_detector: ignoring a request that is not JSON: %s" % e, file=sys.stderr)
            continue
        if msg.get("shutdown"):
            break
        if "batch" not in msg:
            print("example_detector: ignoring unknown message %r" % list(msg), file=sys.stderr)
            continue
        results = [answer(item, noop) for item in msg.get("items", [])]
        out.write(json.dumps({"batch": msg["batch"], "results": results}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
