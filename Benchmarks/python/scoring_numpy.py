"""Reference for `gascli bench scoring`: sn34 and every breakdown metric, vectorized with numpy.

usage: scoring_numpy.py DIR REPEATS

DIR holds the columns gascli generated (labels.u8, p_ai.f64 with NaN for failed samples,
failed.u8, dataset.u8) and meta.json (dataset -> modality, media type, source; alpha, beta).
The formulas are gasbench's (reference §3) plus the analytics gascli adds, as GASCore defines
them: failures count as wrong at p = 0.5; Brier and cross-entropy on p clipped to [1e-7, 1-1e-7];
MCC 0 when a marginal is empty; sn34 = sqrt(max(1e-12, ((mcc+1)/2)^alpha * max(0, (0.25-brier)/0.25)^beta));
ROC AUC with average ranks for ties; ECE over 10 equal-width bins of p; recall per class.
Loading is untimed; the timed part starts from the loaded arrays, the slices as integer codes.
Prints one JSON line: the median time and every slice's metrics.
"""
import json
import sys
import time

import numpy as np

directory, repeats = sys.argv[1], int(sys.argv[2])
meta = json.load(open(f"{directory}/meta.json"))
alpha, beta = meta["alpha"], meta["beta"]
labels = np.fromfile(f"{directory}/labels.u8", dtype=np.uint8)
p_raw = np.fromfile(f"{directory}/p_ai.f64", dtype=np.float64)
failed = np.fromfile(f"{directory}/failed.u8", dtype=np.uint8).astype(bool)
dataset = np.fromfile(f"{directory}/dataset.u8", dtype=np.uint8)
datasets = meta["datasets"]


def codes(attribute):
    """Per-row slice codes of a scope and the slice names, names sorted as gascli sorts keys."""
    names = sorted({d[attribute] for d in datasets})
    lookup = np.array([names.index(d[attribute]) for d in datasets], dtype=np.int64)
    return lookup[dataset], names


def score():
    y = labels.astype(np.int64)
    p = np.where(failed, 0.5, p_raw)
    predicted = np.where(failed, 1 - y, (p > 0.5).astype(np.int64))
    cell = y * 2 + predicted  # 0 tn, 1 fp, 2 fn, 3 tp
    q = np.clip(p, 1e-7, 1 - 1e-7)
    yf = y.astype(np.float64)
    squared = (q - yf) ** 2
    ce = -(yf * np.log(q) + (1 - yf) * np.log(1 - q))
    bins = np.minimum(np.maximum(np.floor(p * 10).astype(np.int64), 0), 9)
    order = np.argsort(p, kind="stable")
    p_sorted = p[order]
    y_sorted = yf[order]

    scopes = [("overall", np.zeros(len(y), dtype=np.int64), ["all"])]
    names = sorted({d["name"] for d in datasets})
    lookup = np.array([names.index(d["name"]) for d in datasets], dtype=np.int64)
    scopes.append(("modality",) + codes("modality"))
    scopes.append(("dataset", lookup[dataset], names))
    scopes.append(("media_type",) + codes("media_type"))
    scopes.append(("source",) + codes("source"))

    result = []
    for scope, group, keys in scopes:
        k = len(keys)
        n = np.bincount(group, minlength=k).astype(np.float64)
        cells = np.bincount(group * 4 + cell, minlength=k * 4).reshape(k, 4).astype(np.float64)
        tn, fp, fn, tp = cells[:, 0], cells[:, 1], cells[:, 2], cells[:, 3]
        brier = np.bincount(group, weights=squared, minlength=k) / n
        cross = np.bincount(group, weights=ce, minlength=k) / n
        denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        with np.errstate(invalid="ignore", divide="ignore"):
            mcc = np.where(denominator > 0, (tp * tn - fp * fn) / denominator, 0.0)
        m = np.clip((mcc + 1) / 2, 0, 1) ** alpha
        b = np.maximum(0, (0.25 - brier) / 0.25) ** beta
        sn34 = np.clip(np.sqrt(np.maximum(1e-12, m * b)), 0, 1)
        # ROC AUC: average ranks within each slice, from the one global sort (a slice's members
        # keep ascending order in it); ties are runs of equal scores within the slice.
        g_sorted = group[order]
        rank_sum = np.zeros(k)
        for i in range(k):
            member = g_sorted == i if k > 1 else slice(None)
            ps, ys = p_sorted[member], y_sorted[member]
            if len(ps) == 0:
                continue
            new_run = np.empty(len(ps), dtype=bool)
            new_run[0] = True
            new_run[1:] = ps[1:] != ps[:-1]
            starts = np.flatnonzero(new_run)
            ends = np.append(starts[1:], len(ps)) - 1
            average = (starts + ends + 2) / 2.0
            rank_sum[i] = (average[np.cumsum(new_run) - 1] * ys).sum()
        positives, negatives = tp + fn, tn + fp
        with np.errstate(invalid="ignore", divide="ignore"):
            auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
        # ECE over 10 bins per slice.
        gb = group * 10 + bins
        bin_n = np.bincount(gb, minlength=k * 10).reshape(k, 10)
        bin_p = np.bincount(gb, weights=p, minlength=k * 10).reshape(k, 10)
        bin_y = np.bincount(gb, weights=yf, minlength=k * 10).reshape(k, 10)
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.where(bin_n > 0, np.abs(bin_p / bin_n - bin_y / bin_n), 0.0)
        ece = (bin_n / n[:, None] * gap).sum(axis=1)
        for i, key in enumerate(keys):
            if n[i] == 0:
                continue
            result.append({
                "scope": scope, "key": key, "samples": int(n[i]), "tp": int(tp[i]), "tn": int(tn[i]), "fp": int(fp[i]),
                "fn": int(fn[i]), "accuracy": float((tp[i] + tn[i]) / n[i]), "mcc": float(mcc[i]), "brier": float(brier[i]),
                "cross_entropy": float(cross[i]), "sn34": float(sn34[i]),
                "auc": float(auc[i]) if positives[i] > 0 and negatives[i] > 0 else None, "ece": float(ece[i]),
                "recall_real": float(tn[i] / (tn[i] + fp[i])) if tn[i] + fp[i] > 0 else None,
                "recall_ai": float(tp[i] / (tp[i] + fn[i])) if tp[i] + fn[i] > 0 else None,
            })
    return result


times, cpu = [], []
for _ in range(repeats):
    start, start_cpu = time.perf_counter(), time.process_time()
    slices = score()
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
times.sort()
cpu.sort()
print(json.dumps({"median_seconds": times[len(times) // 2], "median_cpu_seconds": cpu[len(cpu) // 2], "seconds": times, "slices": slices, "version": np.__version__}))
