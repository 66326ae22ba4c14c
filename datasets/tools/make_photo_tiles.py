#!/usr/bin/env python3
"""Rebuilds the bundled real-photo datasets from scikit-image's sample photos.

Why: the quickstart needs real photographs under an open licence that ship with
the repository. scikit-image ships a few public-domain / CC0 photos inside its
wheel; we cut them into 128x128 tiles so a handful of files become enough samples.
Tiles are lossless crops (PNG stays PNG; JPEG sources are re-encoded once at
quality 92 for the archive datasets, recorded in SOURCES.md).

Usage (needs Pillow and a scikit-image wheel, only to rebuild; gascli never runs this):
    pip download --no-deps scikit-image -d /tmp/sk && unzip -q /tmp/sk/*.whl 'skimage/data/*' -d /tmp/sk
    python3 datasets/tools/make_photo_tiles.py /tmp/sk/skimage/data datasets
"""
import io, os, sys, tarfile, zipfile
from PIL import Image

TILE = 128

def tiles(path, count, step=None):
    im = Image.open(path).convert("RGB")
    w, h = im.size
    out = []
    cols, rows = w // TILE, h // TILE
    coords = [(c * TILE, r * TILE) for r in range(rows) for c in range(cols)]
    stride = max(1, len(coords) // count)
    for (x, y) in coords[::stride][:count]:
        out.append(((x, y), im.crop((x, y, x + TILE, y + TILE))))
    return out

def png_bytes(im):
    b = io.BytesIO(); im.save(b, format="PNG", optimize=False, compress_level=9); return b.getvalue()

def jpeg_bytes(im):
    b = io.BytesIO(); im.save(b, format="JPEG", quality=92); return b.getvalue()

def fixed(info):
    info.mtime = 0; info.uid = info.gid = 0; info.uname = info.gname = "gas"; info.mode = 0o644
    return info

def main(src, dst):
    photos = os.path.join(dst, "photos")
    os.makedirs(photos, exist_ok=True)
    for name, n in [("astronaut.png", 8), ("coffee.png", 8), ("chelsea.png", 6)]:
        for (x, y), t in tiles(os.path.join(src, name), n):
            with open(os.path.join(photos, f"{name[:-4]}_{y:04d}_{x:04d}.png"), "wb") as f:
                f.write(png_bytes(t))
    archives = os.path.join(dst, "archives")
    os.makedirs(archives, exist_ok=True)
    # NASA / SpaceX public-domain photos as JPEG tiles in a tar.gz.
    tar_path = os.path.join(archives, "space-photos.tar.gz")
    with tarfile.open(tar_path, "w:gz", format=tarfile.USTAR_FORMAT) as tf:
        for name, n in [("rocket.jpg", 8), ("hubble_deep_field.jpg", 8)]:
            for (x, y), t in tiles(os.path.join(src, name), n):
                data = jpeg_bytes(t)
                info = fixed(tarfile.TarInfo(f"./space/{name.split('.')[0]}/{y:04d}_{x:04d}.jpg"))
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    # CC0 retina photo tiles as a zip.
    zip_path = os.path.join(archives, "retina-photos.zip")
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for (x, y), t in tiles(os.path.join(src, "retina.jpg"), 10):
            zi = zipfile.ZipInfo(f"retina/{y:04d}_{x:04d}.jpg", date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, jpeg_bytes(t))

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
