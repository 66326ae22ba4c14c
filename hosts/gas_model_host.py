#!/usr/bin/env python3
"""Host for GAS model packages, speaking gascli's process-detector protocol (version 1).

    python3 hosts/gas_model_host.py PACKAGE_DIR [--config JSON]

PACKAGE_DIR holds a GAS discriminator package as miners submit it: model_config.yaml, model.py and
the safetensors weights. gascli starts this host for `adapter: package` detectors (it passes the
parsed model_config.yaml as --config JSON, so no YAML library is needed here); it can also be run
by hand against any package folder (then PyYAML must be installed).

Loading follows gasbench (reference §2.2): model.py is imported as module `custom_model`, then
`load_model(weights_path, **model_kwargs)` (on TypeError: `load_model(weights_path, num_classes=N)`).
- With PyTorch installed and a `torch.nn.Module` returned: `.to(device, dtype).eval()` (cuda when
  available), inference under `torch.no_grad()`, inputs as uint8/float32 tensors.
- Without PyTorch (or when load_model returns something else): the object must be callable (or
  have `.predict`) taking the numpy batch and returning logits. This is how the test suite runs a
  package whose model needs only numpy.

Inputs are prepared as gasbench feeds them (reference §2.3):
- image: decoded to RGB (Pillow), ResizeShortestEdge to preprocessing.resize (default 224x224:
  centre crop to the target aspect, Python rounding, then bilinear resize; cv2.INTER_LINEAR when
  OpenCV is installed, else the same half-pixel bilinear in numpy), HWC -> CHW, uint8 [B, 3, H, W].
- video: num_frames frames (default 16, at most 64; with frame_rate r every round(fps/r)-th frame),
  the last frame repeated to pad, each frame resized as above, uint8 [B, T, 3, H, W]. Frames are
  read with OpenCV when installed, else from Motion-JPEG AVI files (what gascli's synthetic video
  generator writes) with Pillow.
- audio: mono float32 at 16 kHz, centre-cropped or right zero-padded to 96,000 samples (6 s),
  [B, 96000]. WAV (PCM 8/16/24/32-bit, float 32/64) is read natively; other formats through the
  ffmpeg command when it is installed. Resampling is linear interpolation (gasbench uses ffmpeg's).

Outputs: `.logits`, or a dict's `logits`/`output`/only value, or a 1-tuple; last dimension K in
{1, 2, 3} (or num_classes). K = 1 -> sigmoid -> [p_ai]; K = 2 or 3 -> float32 softmax -> probs.
Decoding failures fail only their item; an inference failure fails the batch.
Logs go to stderr; stdout carries protocol lines only.
"""

import importlib.util
import io
import json
import math
import os
import struct
import subprocess
import sys

PROTOCOL = 1
AUDIO_RATE = 16000
AUDIO_SAMPLES = 96000
MAX_FRAMES = 64


def log(*parts):
    print("gas_model_host:", *parts, file=sys.stderr, flush=True)


try:
    import numpy as np
except ImportError:  # the protocol still works: every item fails with the reason
    np = None

try:
    import torch
except ImportError:
    torch = None

try:
    import cv2
except ImportError:
    cv2 = None

try:
    from PIL import Image
except ImportError:
    Image = None


# ----------------------------------------------------------------------------- configuration

def load_config(package, config_json):
    if config_json:
        return json.loads(config_json)
    try:
        import yaml
    except ImportError:
        raise SystemExit("gas_model_host: pass --config JSON or install PyYAML to read model_config.yaml")
    with open(os.path.join(package, "model_config.yaml")) as f:
        raw = yaml.safe_load(f) or {}
    pre = raw.get("preprocessing") or {}
    model = dict(raw.get("model") or {})
    return {
        "name": raw.get("name", "model"),
        "modality": raw.get("modality", "image"),
        "dtype": str(raw.get("dtype", "float32")).lower(),
        "resize": pre.get("resize"),
        "num_frames": pre.get("num_frames", pre.get("max_frames")),
        "frame_rate": pre.get("frame_rate"),
        "num_classes": model.pop("num_classes", 2),
        "weights_file": model.pop("weights_file", "model.safetensors"),
        "model_arguments": {k: json.dumps(v) for k, v in model.items()},
    }


# ----------------------------------------------------------------------------- image preparation

def resize_shortest_edge(img, target_h, target_w):
    """gasbench ResizeShortestEdge: centre crop to the target aspect, then bilinear resize."""
    h, w = img.shape[:2]
    s = min(h / target_h, w / target_w)
    ch = min(int(round(s * target_h)), h)
    cw = min(int(round(s * target_w)), w)
    i = (h - ch) // 2
    j = (w - cw) // 2
    crop = img[i:i + ch, j:j + cw]
    if cv2 is not None:
        return cv2.resize(np.ascontiguousarray(crop), (target_w, target_h), interpolation=cv2.INTER_LINEAR)
    return bilinear(crop, target_h, target_w)


def bilinear(img, out_h, out_w):
    """Half-pixel-centre bilinear resize without antialiasing (cv2.INTER_LINEAR's geometry)."""
    h, w = img.shape[:2]
    if (h, w) == (out_h, out_w):
        return img.copy()
    ys = (np.arange(out_h) + 0.5) * (h / out_h) - 0.5
    xs = (np.arange(out_w) + 0.5) * (w / out_w) - 0.5
    ys = np.clip(ys, 0, h - 1)
    xs = np.clip(xs, 0, w - 1)
    y0 = np.floor(ys).astype(np.int64)
    x0 = np.floor(xs).astype(np.int64)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    wy = (ys - y0)[:, None, None]
    wx = (xs - x0)[None, :, None]
    f = img.astype(np.float32)
    top = f[y0][:, x0] * (1 - wx) + f[y0][:, x1] * wx
    bottom = f[y1][:, x0] * (1 - wx) + f[y1][:, x1] * wx
    out = top * (1 - wy) + bottom * wy
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def decode_rgb(data):
    if Image is None:
        raise ValueError("Pillow is not installed: cannot decode images")
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def prepare_image(path, size):
    with open(path, "rb") as f:
        data = f.read()
    rgb = decode_rgb(data)
    return np.transpose(resize_shortest_edge(rgb, size[0], size[1]), (2, 0, 1))


# ----------------------------------------------------------------------------- video preparation

def avi_mjpeg_frames(data):
    """(fps, [jpeg bytes]) from a RIFF AVI holding Motion-JPEG frames ('00dc' chunks)."""
    if data[:4] != b"RIFF" or data[8:12] != b"AVI ":
        raise ValueError("not an AVI file (and OpenCV is not installed to read other video formats)")
    fps = 30.0
    frames = []

    def walk(start, end):
        nonlocal fps
        pos = start
        while pos + 8 <= end:
            cid = data[pos:pos + 4]
            (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
            body = pos + 8
            if body + size > len(data):
                raise ValueError("AVI chunk %r runs past the end of the file" % cid)
            if cid == b"LIST":
                walk(body + 4, body + size)
            elif cid == b"avih" and size >= 4:
                (usec,) = struct.unpack("<I", data[body:body + 4])
                if usec > 0:
                    fps = 1e6 / usec
            elif cid[2:4] in (b"dc", b"db"):
                frames.append(data[body:body + size])
            pos = body + size + (size & 1)

    walk(12, len(data))
    if not frames:
        raise ValueError("the AVI holds no video frames")
    return fps, frames


def read_video_frames(path, wanted, frame_rate):
    """RGB uint8 frames chosen as gasbench does: every round(fps/r)-th frame, or the first T."""
    if cv2 is not None:
        cap = cv2.VideoCapture(path)
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        all_frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            all_frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        cap.release()
        if not all_frames:
            raise ValueError("no frames could be decoded")
        decode = lambda x: x
    else:
        with open(path, "rb") as f:
            fps, all_frames = avi_mjpeg_frames(f.read())
        decode = decode_rgb
    step = max(1, int(round(fps / frame_rate))) if frame_rate else 1
    indices = list(range(0, len(all_frames), step))[:wanted]
    chosen = [decode(all_frames[i]) for i in indices]
    while len(chosen) < wanted:
        chosen.append(chosen[-1])
    return chosen


def prepare_video(path, size, frames, frame_rate):
    clip = [resize_shortest_edge(fr, size[0], size[1]) for fr in read_video_frames(path, frames, frame_rate)]
    return np.transpose(np.stack(clip), (0, 3, 1, 2))


# ----------------------------------------------------------------------------- audio preparation

def read_wav(data):
    """(rate, mono float32) from WAV bytes: PCM 8/16/24/32-bit or IEEE float 32/64-bit."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            (bits,) = struct.unpack("<H", body[14:16])
            if tag == 0xFFFE and len(body) >= 26:
                (tag,) = struct.unpack("<H", body[24:26])
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            payload = body
            break
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise ValueError("WAV without fmt or data chunk")
    tag, channels, rate, bits = fmt
    width = bits // 8
    usable = len(payload) - len(payload) % (width * channels)
    raw = payload[:usable]
    if tag == 1 and bits == 8:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    elif tag == 1 and bits == 16:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    elif tag == 1 and bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / (1 << 23)
    elif tag == 1 and bits == 32:
        x = (np.frombuffer(raw, "<i4").astype(np.float64) / 2**31).astype(np.float32)
    elif tag == 3 and bits == 32:
        x = np.frombuffer(raw, "<f4").astype(np.float32)
    elif tag == 3 and bits == 64:
        x = np.frombuffer(raw, "<f8").astype(np.float32)
    else:
        raise ValueError("unsupported WAV sample format (tag %d, %d bits)" % (tag, bits))
    x = np.nan_to_num(x.reshape(-1, channels).mean(axis=1))
    return rate, x.astype(np.float32)


def read_audio(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"RIFF":
        return read_wav(data)
    try:
        out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-ac", "1", "-ar", str(AUDIO_RATE), "-f", "f32le", "-"],
                             capture_output=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise ValueError("not WAV, and ffmpeg could not decode it: %s" % e)
    return AUDIO_RATE, np.frombuffer(out, "<f4").astype(np.float32)


def prepare_audio(path):
    rate, x = read_audio(path)
    if rate != AUDIO_RATE and len(x) > 1:
        n = int(round(len(x) * AUDIO_RATE / rate))
        x = np.interp(np.arange(n) * (rate / AUDIO_RATE), np.arange(len(x)), x).astype(np.float32)
    if len(x) > AUDIO_SAMPLES:
        start = (len(x) - AUDIO_SAMPLES) // 2
        x = x[start:start + AUDIO_SAMPLES]
    elif len(x) < AUDIO_SAMPLES:
        x = np.concatenate([x, np.zeros(AUDIO_SAMPLES - len(x), np.float32)])
    return x.astype(np.float32)


# ----------------------------------------------------------------------------- the model

class Model:
    def __init__(self, package, config):
        self.config = config
        self.num_classes = int(config.get("num_classes") or 2)
        sys.path.insert(0, package)
        spec = importlib.util.spec_from_file_location("custom_model", os.path.join(package, "model.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["custom_model"] = module
        spec.loader.exec_module(module)
        if not hasattr(module, "load_model"):
            raise SystemExit("gas_model_host: model.py defines no load_model(weights_path, **kwargs)")
        weights = os.path.join(package, config.get("weights_file") or "model.safetensors")
        kwargs = {k: json.loads(v) for k, v in (config.get("model_arguments") or {}).items()}
        try:
            model = module.load_model(weights, **kwargs)
        except TypeError:
            model = module.load_model(weights, num_classes=self.num_classes)
        self.torch = torch is not None and isinstance(model, torch.nn.Module)
        if self.torch:
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
            dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(config.get("dtype"), torch.float32)
            self.model = model.to(self.device, dtype).eval()
            log("loaded %s with PyTorch on %s (%s)" % (config.get("name"), self.device, dtype))
        else:
            fn = getattr(model, "predict", None) or model
            if not callable(fn):
                raise SystemExit("gas_model_host: load_model returned %r, which is neither a torch.nn.Module "
                                 "(PyTorch %s) nor callable" % (type(model).__name__, "installed" if torch else "not installed"))
            self.model = fn
            log("loaded %s as a numpy model" % config.get("name"))

    def logits(self, batch):
        if self.torch:
            with torch.no_grad():
                out = self.model(torch.from_numpy(batch).to(self.device))
                out = unwrap(out)
                return out.detach().cpu().float().numpy()
        return np.asarray(unwrap(self.model(batch)), dtype=np.float32)

    def probabilities(self, batch):
        z = self.logits(batch)
        if z.ndim == 1:
            z = z[:, None]
        if z.ndim != 2 or z.shape[0] != batch.shape[0]:
            raise ValueError("model output has shape %s for a batch of %d" % (tuple(z.shape), batch.shape[0]))
        k = z.shape[1]
        if k not in (1, 2, 3) and k != self.num_classes:
            raise ValueError("model output has %d classes; expected 1, 2, 3 or num_classes (%d)" % (k, self.num_classes))
        if k > 3:
            raise ValueError("%d-class outputs are not mapped to real/AI here; return 1 to 3 logits" % k)
        if k == 1:
            return [[float(1 / (1 + math.exp(-float(v))))] for v in z[:, 0]]
        z = z.astype(np.float32)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        return [[float(v) for v in row] for row in p]


def unwrap(out):
    if hasattr(out, "logits"):
        return out.logits
    if isinstance(out, dict):
        for key in ("logits", "output"):
            if key in out:
                return out[key]
        if len(out) == 1:
            return next(iter(out.values()))
        raise ValueError("model returned a dict without 'logits' or 'output': %s" % sorted(out))
    if isinstance(out, (tuple, list)):
        if len(out) == 1:
            return out[0]
        raise ValueError("model returned a %d-tuple; return the logits alone" % len(out))
    return out


# ----------------------------------------------------------------------------- protocol

def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    package = argv[0]
    config_json = argv[argv.index("--config") + 1] if "--config" in argv else None
    if np is None:
        raise SystemExit("gas_model_host: numpy is required")
    config = load_config(package, config_json)
    modality = config.get("modality", "image")
    size = tuple(config.get("resize") or (224, 224))
    frames = min(int(config.get("num_frames") or 16), MAX_FRAMES)
    frame_rate = config.get("frame_rate")
    model = Model(package, config)
    out = sys.stdout
    out.write(json.dumps({"hello": {"protocol": PROTOCOL, "name": config.get("name"), "modalities": [modality]}}) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError as e:
            log("ignoring a request that is not JSON: %s" % e)
            continue
        if msg.get("shutdown"):
            break
        if "batch" not in msg:
            continue
        results, ready, arrays = [], [], []
        for item in msg.get("items", []):
            sid = item.get("id")
            if item.get("modality") != modality:
                results.append({"id": sid, "error": "this %s model does not handle %s" % (modality, item.get("modality"))})
                continue
            try:
                if modality == "image":
                    x = prepare_image(item["path"], size)
                elif modality == "video":
                    x = prepare_video(item["path"], size, frames, frame_rate)
                else:
                    x = prepare_audio(item["path"])
                ready.append(sid)
                arrays.append(x)
            except Exception as e:  # one unreadable item fails alone
                results.append({"id": sid, "error": "cannot prepare %s: %s" % (item.get("path"), e)})
        if ready:
            try:
                probs = model.probabilities(np.stack(arrays))
                results += [{"id": sid, "probs": p} for sid, p in zip(ready, probs)]
            except Exception as e:
                log("inference failed: %r" % e)
                results += [{"id": sid, "error": "inference-failed: %s" % str(e)[:160]} for sid in ready]
        out.write(json.dumps({"batch": msg["batch"], "results": results}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
