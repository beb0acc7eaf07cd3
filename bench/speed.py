#!/usr/bin/env python3
"""Speed, side by side: deepcross against a PyTorch baseline script, same data, same threads.

Generates Criteo-shaped rows (`deepcross synth`, default 500k: 320k train / 80k valid / 100k
test, in file order), then for each cross type runs `pairs` back-to-back pairs of one-epoch
trainings (baseline, then deepcross) and reports the medians: training samples/s of both and
their ratio, prediction samples/s, ingest seconds (read + encode + transform), peak RSS,
achieved GFLOPS of deepcross's training and its fraction of the fp32 ceiling, and the test AUC
after the epoch. The CPU is named in the table. Standard library only.

usage: bench/speed.py --reference ../shared/reference/deepcross_ref.py [--deepcross build/deepcross]
       [--python /usr/bin/python3] [--rows 500000] [--threads 2] [--pairs 3]
       [--crosses matrix vector mix lowrank] [--ceiling-gflops 150] [--work DIR]
"""
import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MLP = (128, 64, 32)


def run(cmd, log):
    """Runs cmd; returns (stdout, stderr text, seconds, peak RSS in MiB)."""
    t0 = time.time()
    with open(log, "w") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        out = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"speed: {' '.join(cmd)} failed with exit {p.returncode}; see {log}")
    return out, open(log).read(), time.time() - t0, usage.ru_maxrss / 1024.0


def last_json(text):
    return json.loads([l for l in text.splitlines() if l.strip()][-1])


def train_flops_per_sample(cross, d, layers=2, rank=32, experts=4):
    """3 x the forward multiply-adds x 2 FLOP (forward, input and weight gradients)."""
    mlp = d * MLP[0] + MLP[0] * MLP[1] + MLP[1] * MLP[2] + MLP[2]
    per_layer = {"matrix": d * d, "vector": 2 * d, "lowrank": 2 * d * rank,
                 "mix": 2 * d * experts * rank + experts * rank * rank + d * experts}[cross]
    return 2 * 3 * (mlp + layers * per_layer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", required=True)
    ap.add_argument("--deepcross", default="build/deepcross")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--rows", type=int, default=500000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--crosses", nargs="+", default=["matrix", "vector", "mix", "lowrank"])
    ap.add_argument("--ceiling-gflops", type=float, default=150.0,
                    help="the machine's fp32 GEMM rate (MEASUREMENTS.md: 150 on Zen 4, 2 threads)")
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="deepcross-speed-")
    os.makedirs(work, exist_ok=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    load = os.getloadavg()[0]
    raw = os.path.join(work, "all.tsv")
    subprocess.run([a.deepcross, "synth", "--rows", str(a.rows), "--seed", "1", "--output", raw],
                   check=True, stderr=subprocess.DEVNULL)
    with open(raw) as f:
        rows = f.readlines()
    n_train, n_valid = int(a.rows * 0.64), int(a.rows * 0.16)
    files = {}
    for name, part in (("train", rows[:n_train]), ("valid", rows[n_train:n_train + n_valid]),
                       ("test", rows[n_train + n_valid:])):
        files[name] = os.path.join(work, name + ".tsv")
        with open(files[name], "w") as f:
            f.writelines(part)
    del rows
    table = []
    for cross in a.crosses:
        ref_train, dc_train, ref_pred, dc_pred = [], [], [], []
        ref_ingest, dc_ingest, ref_rss, dc_rss, ref_auc, dc_auc = [], [], [], [], [], []
        d = None
        for i in range(a.pairs):
            out, _, _, rss = run([a.python, a.reference, files["train"], "--valid", files["valid"],
                                  "--test", files["test"], "--cross", cross, "--epochs", "1",
                                  "--threads", str(a.threads)],
                                 os.path.join(work, f"{cross}.{i}.reference.log"))
            r = last_json(out)
            ref_train.append(r["epochs"][0]["train_samples_per_s"])
            ref_pred.append(r["epochs"][0]["val_predict_samples_per_s"])
            ref_ingest.append(r["load_s"] + r["prep_s"])
            ref_rss.append(rss)
            ref_auc.append(r["test_auc"])
            model = os.path.join(work, f"{cross}.dcn")
            out, err, _, rss = run([a.deepcross, "train", "--data", files["train"], "--valid",
                                    files["valid"], "--test", files["test"], "--cross", cross,
                                    "--epochs", "1", "--threads", str(a.threads), "--model", model],
                                   os.path.join(work, f"{cross}.{i}.deepcross.log"))
            j = last_json(out)
            dc_train.append(j["train_samples_per_s"])
            dc_auc.append(j["test_auc"])
            dc_rss.append(rss)
            m = re.search(r"encoded in ([0-9.]+) s", err)
            dc_ingest.append(float(m.group(1)) if m else float("nan"))
            _, perr, _, _ = run([a.deepcross, "predict", "--model", model, "--data", files["test"],
                                 "--threads", str(a.threads), "--output", os.devnull],
                                os.path.join(work, f"{cross}.{i}.predict.log"))
            m = re.search(r"\(([0-9.]+) rows/s\)", perr)
            dc_pred.append(float(m.group(1)) if m else float("nan"))
            if d is None:
                info, _, _, _ = run([a.deepcross, "info", "--model", model],
                                    os.path.join(work, f"{cross}.info.log"))
                d = sum(f["width"] for f in json.loads(info)["fields"])
            print(f"{cross} pair {i + 1}: reference {ref_train[-1]:.0f}/s, deepcross "
                  f"{dc_train[-1]:.0f}/s", flush=True)
        med = statistics.median
        gflops = med(dc_train) * train_flops_per_sample(cross, d) / 1e9
        table.append((cross, d, med(ref_train), med(dc_train), med(ref_pred), med(dc_pred),
                      med(ref_ingest), med(dc_ingest), max(ref_rss), max(dc_rss), gflops,
                      med(ref_auc), med(dc_auc)))
    # Ingest beyond the plain files: the same rows gzipped (both tools read .gz), and
    # deepcross's data cache (--cache: a second run loads the encoded rows). Once each, with the
    # vector cross (the fastest epoch: the ingest is what is timed).
    gz = {}
    for name in ("train", "valid", "test"):
        gz[name] = files[name] + ".gz"
        with open(files[name], "rb") as src, gzip.open(gz[name], "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst)
    out, _, _, _ = run([a.python, a.reference, gz["train"], "--valid", gz["valid"], "--test",
                        gz["test"], "--cross", "vector", "--epochs", "1", "--threads",
                        str(a.threads)], os.path.join(work, "gz.reference.log"))
    r = last_json(out)
    ref_gz = r["load_s"] + r["prep_s"]

    def dc_ingest_of(paths, extra, log):
        _, err, _, _ = run([a.deepcross, "train", "--data", paths["train"], "--valid",
                            paths["valid"], "--test", paths["test"], "--cross", "vector",
                            "--epochs", "1", "--threads", str(a.threads), "--history", "none",
                            "--curves", "none"] + extra, os.path.join(work, log))
        m = re.search(r" in ([0-9.]+) s\n", err)
        return float(m.group(1)) if m else float("nan")

    dc_gz = dc_ingest_of(gz, [], "gz.deepcross.log")
    cache = os.path.join(work, "cache")
    shutil.rmtree(cache, ignore_errors=True)
    dc_first = dc_ingest_of(files, ["--cache", cache], "cache1.deepcross.log")
    dc_cached = dc_ingest_of(files, ["--cache", cache], "cache2.deepcross.log")
    ref_plain = statistics.median([row[6] for row in table])
    dc_plain = statistics.median([row[7] for row in table])

    print(f"\nCPU: {cpu}; {a.threads} threads; {a.rows} rows ({n_train} train); medians of "
          f"{a.pairs} back-to-back pairs of one-epoch runs; load average at start {load:.1f}\n")
    print("| cross | D | train samples/s: reference | deepcross | ratio | predict samples/s: "
          "reference | deepcross | ratio | ingest s: reference | deepcross | ratio | peak RSS MiB: "
          "reference | deepcross | deepcross GFLOPS | of the " + f"{a.ceiling_gflops:.0f} GFLOPS ceiling"
          " | test AUC after 1 epoch: reference | deepcross |")
    print("|" + "---|" * 17)
    for (cross, d, rt, dt, rp, dp, ri, di, rr, dr, gf, ra, da) in table:
        print(f"| {cross} | {d} | {rt:,.0f} | {dt:,.0f} | {dt / rt:.2f}x | {rp:,.0f} | {dp:,.0f} | "
              f"{dp / rp:.2f}x | {ri:.2f} | {di:.2f} | {ri / di:.1f}x | {rr:.0f} | {dr:.0f} | "
              f"{gf:.1f} | {100 * gf / a.ceiling_gflops:.0f} % | {ra:.4f} | {da:.4f} |")
    print("\n| ingest of train + valid + test (read, encode, transform) | reference s | "
          "deepcross s | ratio |")
    print("|---|---|---|---|")
    print(f"| plain TSV (median of the runs above) | {ref_plain:.2f} | {dc_plain:.2f} | "
          f"{ref_plain / dc_plain:.1f}x |")
    print(f"| gzip -6 TSV | {ref_gz:.2f} | {dc_gz:.2f} | {ref_gz / dc_gz:.1f}x |")
    print(f"| deepcross --cache: first run (parse + write the cache) | {ref_plain:.2f} | "
          f"{dc_first:.2f} | {ref_plain / dc_first:.1f}x |")
    print(f"| deepcross --cache: later runs (load the encoded rows) | {ref_plain:.2f} | "
          f"{dc_cached:.2f} | {ref_plain / dc_cached:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
