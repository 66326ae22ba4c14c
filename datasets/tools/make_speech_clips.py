#!/usr/bin/env python3
"""Makes datasets/speech/*.wav from the spoken channel-test clips of Debian's alsa-utils package.

    apt-get download alsa-utils && dpkg-deb -x alsa-utils_*.deb alsa
    python3 datasets/tools/make_speech_clips.py alsa/usr/share/sounds/alsa datasets/speech

The originals are 48 kHz 16-bit mono recordings of a human voice saying "Front left", "Rear
center" and so on. They are resampled once to 16 kHz (scipy.signal.resample_poly, factor 1/3; the
rate gasbench feeds audio models) and written as 16-bit PCM WAV, which keeps the repository small.
Noise.wav (not speech) is left out. gascli never runs this script. Needs numpy and scipy.
"""
import os
import sys
import wave

import numpy as np
from scipy.signal import resample_poly

source, target = sys.argv[1], sys.argv[2]
os.makedirs(target, exist_ok=True)
for name in sorted(os.listdir(source)):
    if not name.endswith(".wav") or name == "Noise.wav":
        continue
    with wave.open(os.path.join(source, name)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 48000, name
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    y = resample_poly(x, 1, 3)
    pcm = np.clip(np.rint(y * 32767), -32768, 32767).astype("<i2")
    out = os.path.join(target, name.lower().replace("_", "-"))
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    print(out, len(pcm) / 16000, "s")
