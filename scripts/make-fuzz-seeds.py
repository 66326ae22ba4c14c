#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into Tests/FuzzCorpus/<target>/seeds.

Seeds are small valid inputs (plus a few near-misses) that the mutator starts from; they are
committed, so this script only needs to run again to change them. Needs pyarrow and Pillow
(the project's .venv has both).
"""
import io, json, os, struct, sys, tarfile, zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FuzzCorpus")


def trim_tar(data):
    """Drops the record padding past the two zero blocks that end a tar (10 KB -> a few hundred bytes)."""
    end = len(data.rstrip(b"\0"))
    end = (end + 511) // 512 * 512
    return data[:end] + bytes(1024)


def put(target, name, data):
    d = os.path.join(ROOT, target, "seeds")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def yaml_seeds(repo):
    for name in ["configs/quickstart.yaml", "configs/adversarial.yaml", "configs/metagraph.yaml",
                 "configs/generator.yaml", "datasets/catalog.yaml"]:
        put("yaml", os.path.basename(name).replace(".yaml", "") + ("-catalog" if "catalog" in name else "") + ".yaml",
            open(os.path.join(repo, name), "rb").read())
    put("yaml", "model_config.yaml", "name: tiny\nversion: '1'\nmodality: image\npreprocessing:\n  resize: [224, 224]\n"
        "  dtype: float32\nmodel:\n  weights: model.safetensors\n  num_classes: 2\n")
    put("yaml", "anchors.yaml", "defaults: &d {adapter: builtin, batch_size: 8}\nversion: 1\nround: {name: a, seed: 1}\n"
        "detectors:\n  - <<: *d\n    name: one\n    model: image-baseline\n  - <<: *d\n    name: two\n    model: image-baseline\n")
    put("yaml", "flow.yaml", "{version: 1, round: {name: f, seed: 2, modalities: [image]}, sources: [{kind: real, datasets: ['*']}], "
        "detectors: [{name: d, adapter: builtin, model: image-baseline}]}\n")


def parquet_seeds():
    import pyarrow as pa, pyarrow.parquet as pq
    tables = {
        "ints-strings.parquet": (pa.table({"id": [1, 2, None, 4], "name": ["a", None, "ccc", "dd"],
                                           "label": [0, 1, 1, 0]}), "NONE", True),
        "bytes-dict.parquet": (pa.table({"image": [b"\x89PNG" * 3, b"\xff\xd8\xff", None], "media_type": ["real", "synthetic", "real"],
                                         "score": [0.5, 1.5, None]}), "SNAPPY", True),
        "gzip-plain.parquet": (pa.table({"x": pa.array([1.0, 2.0, 3.0], pa.float32()), "flag": [True, False, None],
                                         "path": ["a/b.png", "c.jpg", "d"]}), "GZIP", False),
    }
    for name, (table, codec, dictionary) in tables.items():
        buf = io.BytesIO()
        pq.write_table(table, buf, compression=codec, use_dictionary=dictionary, row_group_size=2, write_statistics=True)
        put("parquet", name, buf.getvalue())
    buf = io.BytesIO()
    pq.write_table(pa.table({"list": [[1, 2], [3]], "v": [1, 2]}), buf)  # a nested column: refused by name
    put("parquet", "nested.parquet", buf.getvalue())


def archive_seeds():
    files = [("img/a.png", b"\x89PNG\r\n\x1a\n" + b"x" * 40), ("img/b.jpg", b"\xff\xd8\xff" + b"y" * 30), ("notes.txt", b"hello\n")]
    for name, mode in [("plain.tar", "w"), ("gz.tar.gz", "w:gz")]:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as t:
            d = tarfile.TarInfo("img"); d.type = tarfile.DIRTYPE; t.addfile(d)
            for path, data in files:
                i = tarfile.TarInfo(path); i.size = len(data); i.mtime = 1; t.addfile(i, io.BytesIO(data))
        put("archive", name, trim_tar(buf.getvalue()) if mode == "w" else buf.getvalue())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        i = tarfile.TarInfo("long/" + "n" * 120 + ".png"); i.size = 4; t.addfile(i, io.BytesIO(b"data"))
        i = tarfile.TarInfo("link.png"); i.type = tarfile.SYMTYPE; i.linkname = "img/a.png"; t.addfile(i)
    put("archive", "pax-symlink.tar", trim_tar(buf.getvalue()))
    for name, compression in [("stored.zip", zipfile.ZIP_STORED), ("deflate.zip", zipfile.ZIP_DEFLATED)]:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=compression) as z:
            for path, data in files:
                z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data * 3, compress_type=compression)
        put("archive", name, buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("zeros.bin", (2020, 1, 1, 0, 0, 0)), bytes(200_000), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo("../up.txt", (2020, 1, 1, 0, 0, 0)), b"no")
    put("archive", "ratio-and-slip.zip", buf.getvalue())


def safetensors(tensors, metadata=None, pad=True):
    header, body = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(data)]}
        body += data
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + body


def safetensors_seeds():
    put("safetensors", "f32.safetensors", safetensors({"w": ("F32", [2, 3], struct.pack("<6f", *range(6))),
                                                       "b": ("F32", [3], struct.pack("<3f", 0.5, -1, 2))}, {"format": "pt"}))
    put("safetensors", "f64-empty.safetensors", safetensors({"d": ("F64", [2], struct.pack("<2d", 1e300, -0.0)),
                                                             "e": ("I8", [0], b"")}))
    put("safetensors", "mixed.safetensors", safetensors({"h": ("F16", [2, 2], b"\0" * 8), "i": ("I64", [1], b"\1" * 8),
                                                         "z": ("BOOL", [3], b"\0\1\0")}, pad=False))


# The epistula target's seeds are signed requests made in Swift with the target's fixed key
# (FuzzTargets.epistulaSeeds), so they are not written here.


def detector_seeds():
    hello = {"hello": {"protocol": 1, "name": "example", "modalities": ["image", "video"]}}
    resp = {"batch": 1, "results": [{"id": "a", "probs": [0.1, 0.9]}, {"id": "b", "probs": [0.2, 0.3, 0.5]},
                                    {"id": "c", "error": "cannot read"}]}
    put("detector-replies", "hello-response.jsonl", json.dumps(hello) + "\n" + json.dumps(resp) + "\n")
    put("detector-replies", "python-floats.jsonl", '{"batch": 2, "results": [{"id": "a", "probs": [NaN]}, {"id": "b", "probs": 0.5}, '
        '{"id": "a", "probs": [1e-320, 1.0]}, {"id": "zz", "probs": [Infinity]}, {"probs": [0.5]}]}\r\n\n')
    put("detector-replies", "escapes.jsonl", '{"batch": 3, "results": [{"id": "\\u0061", "probs": [0.5]}, {"id": "b\\ud83d\\ude00", '
        '"probs": [-0.0]}], "extra": {"nested": [[[{}]]], "s": "\\n\\t\\"\\\\"}}\n{"hello": {"protocol": 2, "modalities": ["smell"]}}')


def delivery_seeds():
    from PIL import Image
    for name, size, mode, fmt in [("rgb.png", (16, 12), "RGB", "PNG"), ("gray.png", (9, 9), "L", "PNG"),
                                  ("palette.png", (10, 8), "P", "PNG"), ("rgba.png", (8, 8), "RGBA", "PNG"),
                                  ("rgb.jpg", (24, 16), "RGB", "JPEG"), ("gray.jpg", (16, 16), "L", "JPEG")]:
        im = Image.new(mode, size)
        im.putdata([((x * 37 + y * 11) % 256) if mode in "LP" else ((x * 37) % 256, (y * 11) % 256, (x * y) % 256) + ((200,) if mode == "RGBA" else ())
                    for y in range(size[1]) for x in range(size[0])])
        buf = io.BytesIO()
        im.save(buf, fmt, **({"quality": 80} if fmt == "JPEG" else {}))
        put("delivery", name, buf.getvalue())
    im = Image.new("RGB", (16, 16), (10, 20, 30))
    buf = io.BytesIO(); im.save(buf, "JPEG", progressive=True); put("delivery", "progressive.jpg", buf.getvalue())
    buf = io.BytesIO(); im.save(buf, "PNG", optimize=False); data = buf.getvalue()
    put("delivery", "interlaced.png", data)


if __name__ == "__main__":
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    yaml_seeds(repo)
    parquet_seeds()
    archive_seeds()
    safetensors_seeds()
    detector_seeds()
    delivery_seeds()
    print("seeds written under", os.path.normpath(ROOT))
