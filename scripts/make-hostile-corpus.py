#!/usr/bin/env python3
"""Writes the hostile corpus: small committed files built to escape, explode, lie or nest.

Each file is tiny (the largest is a few KB) yet claims or expands to something huge. The
expected rejection of every file is listed in Tests/HostileCorpus/README.md and checked by
Tests/GASFuzzTests/HostileCorpusTests.swift (library level) and
Tests/EndToEndTests/HostileCorpusCLITests.swift (through gascli). Needs pyarrow (the .venv).
"""
import io, json, os, struct, tarfile, zipfile, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "HostileCorpus")


def put(folder, name, data):
    d = os.path.join(ROOT, folder)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


class Zeros(io.RawIOBase):
    def __init__(self, n): self.left = n
    def readable(self): return True
    def readinto(self, b):
        n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n


def trim_tar(data):
    end = (len(data.rstrip(b"\0")) + 511) // 512 * 512
    return data[:end] + bytes(1024)


# ---------------------------------------------------------------- YAML

def yaml_files():
    laughs = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        laughs.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    put("yaml", "billion-laughs.yaml", "version: 1\n" + "\n".join(laughs) + "\n")
    # The aliased node used as a mapping key: composing alone would hash 10^9 nodes.
    put("yaml", "alias-key-bomb.yaml", "\n".join(laughs) + "\nkeyed: {? *i : boom}\n")
    put("yaml", "deep-flow.yaml", "version: 1\nround: " + "[" * 5000 + "]" * 5000 + "\n")
    put("yaml", "deep-block.yaml", "version: 1\ndetectors:\n  " + "- " * 500 + "x\n")
    put("yaml", "huge-numbers.yaml", "version: " + "9" * 400 + "\nround: {name: big, seed: " + "1" * 300 + "}\n"
        "detectors:\n  - {name: d, adapter: builtin, model: image-baseline, batch_size: 1e999999}\n")
    put("yaml", "model-config-laughs.yaml", "name: tiny\nmodality: image\n" + "\n".join(laughs) + "\nmodel: {weights: *i}\n")
    put("yaml", "catalog-dev-zero.yaml", "version: 1\nround: {name: z, seed: 1, modalities: [image]}\ncatalogs: [/dev/zero]\n"
        "sources:\n  - {kind: real, datasets: ['*']}\ndetectors:\n  - {name: d, adapter: builtin, model: image-baseline}\n")


# ---------------------------------------------------------------- archives

def archive_files():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ok/a.txt", b"fine")
        z.writestr("../../escape.txt", b"pwned")
    put("archives", "zip-slip.zip", buf.getvalue())

    def tar(name, add):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            i = tarfile.TarInfo("ok/a.txt"); i.size = 4; t.addfile(i, io.BytesIO(b"fine"))
            add(t)
        put("archives", name, trim_tar(buf.getvalue()))

    def absolute(t):
        i = tarfile.TarInfo("/tmp/gas-hostile-escape.txt"); i.size = 5; t.addfile(i, io.BytesIO(b"pwned"))
    tar("absolute.tar", absolute)

    def symlink(t):
        i = tarfile.TarInfo("ok/passwd"); i.type = tarfile.SYMTYPE; i.linkname = "../../../../etc/passwd"; t.addfile(i)
    tar("symlink-out.tar", symlink)

    def hardlink(t):
        i = tarfile.TarInfo("ok/shadow"); i.type = tarfile.LNKTYPE; i.linkname = "/etc/shadow"; t.addfile(i)
    tar("hardlink-out.tar", hardlink)

    # 200 MiB of zeros in 245 bytes: under the entry limit, stopped by the ratio limit while streaming.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as t:
        i = tarfile.TarInfo("zeros.bin"); i.size = 200 << 20; t.addfile(i, io.BufferedReader(Zeros(i.size)))
    put("archives", "tar-bomb.tar.bz2", buf.getvalue())

    # A tar header declaring an 8 GiB entry: refused by its declared size before reading.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        i = tarfile.TarInfo("huge.bin"); i.size = 8 << 30
        t.addfile(i)  # header only; the data is not there
    put("archives", "declared-8gib.tar", trim_tar(buf.getvalue()))

    # 20 MiB of zeros deflated into ~20 KB: the zip bomb, stopped by the ratio limit.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("small.txt", b"hello")
        z.writestr("zeros.bin", bytes(20 << 20))
    put("archives", "zip-bomb.zip", buf.getvalue())


# ---------------------------------------------------------------- safetensors

def safetensors_files():
    def st(header, body=b"", length=None):
        h = json.dumps(header, separators=(",", ":")).encode()
        return struct.pack("<Q", len(h) if length is None else length) + h + body
    put("safetensors", "header-length-2^63.safetensors", st({}, length=1 << 63))
    put("safetensors", "header-longer-than-file.safetensors", st({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, length=4096))
    put("safetensors", "shape-2^80.safetensors", st({"w": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 4]}}, b"\0" * 4))
    put("safetensors", "offsets-outside.safetensors", st({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 1 << 62]}}, b"\0" * 4))
    put("safetensors", "overlap.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12))
    put("safetensors", "lying-size.safetensors", st({"w": {"dtype": "F64", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16))
    put("safetensors", "deep-json.safetensors", st(None, length=None)[:0] + struct.pack("<Q", 6000) + b"[" * 3000 + b"]" * 3000)
    put("safetensors", "truncated.safetensors", st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16)[:-7])


# ---------------------------------------------------------------- Parquet (hand-written Thrift compact)

def varint(n):
    out = b""
    while True:
        b = n & 0x7F; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])


def zigzag(n): return varint((n << 1) ^ (n >> 63))


class Struct:
    """Thrift compact struct writer: fields in increasing id order."""
    def __init__(self): self.out = b""; self.last = 0
    def head(self, fid, t):
        d = fid - self.last; self.last = fid
        self.out += bytes([(d << 4) | t]) if 0 < d <= 15 else bytes([t]) + zigzag(fid)
    def i32(self, fid, v): self.head(fid, 5); self.out += zigzag(v); return self
    def i64(self, fid, v): self.head(fid, 6); self.out += zigzag(v); return self
    def string(self, fid, s): self.head(fid, 8); b = s.encode(); self.out += varint(len(b)) + b; return self
    def struct(self, fid, s): self.head(fid, 12); self.out += s.end(); return self
    def list(self, fid, t, items):
        self.head(fid, 9)
        self.out += bytes([(len(items) << 4) | t]) if len(items) < 15 else bytes([0xF0 | t]) + varint(len(items))
        for x in items:
            self.out += x.end() if isinstance(x, Struct) else zigzag(x) if t in (5, 6) else varint(len(x.encode())) + x.encode()
        return self
    def end(self): return self.out + b"\0"


def parquet(rows=3, page_values=3, uncompressed=None, compressed=None, chunk=None, num_children=1, footer_len=None, values=None):
    values = values if values is not None else struct.pack("<3q", 1, 2, 3)
    data_page = Struct().i32(1, page_values).i32(2, 0).i32(3, 3).i32(4, 3)
    page = Struct().i32(1, 0).i32(2, len(values) if uncompressed is None else uncompressed) \
        .i32(3, len(values) if compressed is None else compressed).struct(5, data_page).end() + values
    meta = Struct().i32(1, 2).list(2, 5, [0]).list(3, 8, ["x"]).i32(4, 0).i64(5, rows) \
        .i64(6, len(page) if chunk is None else chunk).i64(7, len(page) if chunk is None else chunk).i64(9, 4)
    column = Struct().i64(2, 4).struct(3, meta)
    group = Struct().list(1, 12, [column]).i64(2, len(page)).i64(3, rows)
    schema = [Struct().string(4, "schema").i32(5, num_children), Struct().i32(1, 2).i32(3, 0).string(4, "x")]
    footer = Struct().i32(1, 1).list(2, 12, schema).i64(3, rows).list(4, 12, [group]).string(6, "gas hostile corpus").end()
    return b"PAR1" + page + footer + struct.pack("<I", len(footer) if footer_len is None else footer_len) + b"PAR1"


def parquet_files():
    put("parquet", "valid-3-rows.parquet", parquet())
    put("parquet", "rows-2^40.parquet", parquet(rows=1 << 40))
    put("parquet", "page-size-2^31.parquet", parquet(uncompressed=(1 << 31) - 1, compressed=(1 << 31) - 1))
    put("parquet", "chunk-size-2^40.parquet", parquet(chunk=1 << 40))
    put("parquet", "negative-chunk-size.parquet", parquet(chunk=-5))
    put("parquet", "footer-length-2^31.parquet", parquet(footer_len=(1 << 31) - 1))
    put("parquet", "schema-children-lie.parquet", parquet(num_children=1000))
    put("parquet", "page-values-lie.parquet", parquet(page_values=1 << 30))
    put("parquet", "truncated.parquet", parquet()[:-30])
    # Structs nested 100000 deep inside the footer (unknown field 15 of type struct, again and again).
    put("parquet", "thrift-nesting.parquet", b"PAR1" + b"\xfc" * 3000 + struct.pack("<I", 3000) + b"PAR1")


# ---------------------------------------------------------------- images

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, rows, color=2):
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def image_files():
    put("images", "png-100000x100000.png", png(100_000, 100_000, b"\0" * 64))
    put("images", "png-1x4000000000.png", png(1, 4_000_000_000, b"\0" * 64))
    # 7000x5000 (35 Mpx, under the pixel limit) of zeros: 105 MB of pixels in about 100 KB? no:
    # keep it under the dimension limit but claim rows that are not there (a lying IDAT).
    put("images", "png-lying-idat.png", png(4000, 4000, b"\0" * 100))
    # A real 16x16 JPEG whose frame header (SOF0) is patched to claim 60000x60000.
    from PIL import Image
    buf = io.BytesIO(); Image.new("RGB", (16, 16), (90, 120, 30)).save(buf, "JPEG", quality=50)
    jpeg = bytearray(buf.getvalue())
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    put("images", "jpeg-60000x60000.jpg", bytes(jpeg))


if __name__ == "__main__":
    yaml_files(); archive_files(); safetensors_files(); parquet_files(); image_files()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"hostile corpus written under {os.path.normpath(ROOT)}: {total} bytes")
