#!/usr/bin/env python3
"""Accuracy parity: deepcross against a PyTorch baseline script on the same generated data.

For each seed, generates Criteo-shaped rows with planted crosses (`deepcross synth`), cuts them
into train/valid/test files (64/16/20, in file order: the generator's rows are i.i.d.), and
trains each cross type with both implementations on exactly those files, with the SPEC's
defaults and early stopping (patience 5, up to 100 epochs). Prints a table of test AUCs, the
mean over seeds and the difference. Standard library only: run it with any python3.

usage: bench/parity.py --reference ../shared/reference/deepcross_ref.py \
           [--deepcross build/deepcross] [--python /usr/bin/python3] [--rows 250000] \
           [--seeds 1 2] [--crosses matrix vector mix lowrank] [--threads 2] [--work DIR] \
           [--variant exact="--optimizer-mode exact" --variant lazy="--optimizer-mode lazy"]
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time


def run_json(cmd, log):
    """Runs cmd, returns the last stdout line parsed as JSON; stderr goes to `log`."""
    t0 = time.time()
    with open(log, "w") as err:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    if out.returncode != 0:
        sys.exit(f"parity: {' '.join(cmd)} failed with exit {out.returncode}; see {log}")
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    return json.loads(lines[-1]), time.time() - t0


def split_files(src, work, seed):
    with open(src) as f:
        rows = f.readlines()
    n = len(rows)
    n_test = -(-n * 2 // 10)               # ceil(0.2 n), scikit-learn's rounding
    n_valid = -(-(n - n_test) * 2 // 10)   # ceil(0.2 (n - test))
    n_train = n - n_test - n_valid
    paths = {}
    for name, part in (("train", rows[:n_train]), ("valid", rows[n_train:n_train + n_valid]),
                       ("test", rows[n_train + n_valid:])):
        paths[name] = os.path.join(work, f"seed{seed}.{name}.tsv")
        with open(paths[name], "w") as f:
            f.writelines(part)
    return paths, (n_train, n_valid, n - n_train - n_valid)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", required=True, help="path of the PyTorch baseline script")
    ap.add_argument("--deepcross", default="build/deepcross")
    ap.add_argument("--python", default="/usr/bin/python3", help="python with torch for the baseline")
    ap.add_argument("--rows", type=int, default=250000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--crosses", nargs="+", default=["matrix", "vector", "mix", "lowrank"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default=None, help="folder for data and logs (default: a temp dir)")
    ap.add_argument("--variant", action="append", default=[],
                    help='NAME="FLAGS": a deepcross configuration to compare (repeatable); '
                         'default: one run with the default flags')
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="deepcross-parity-")
    os.makedirs(work, exist_ok=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"parity: {a.rows} generated rows per seed, seeds {a.seeds}, {a.threads} threads, CPU {cpu}")
    print(f"work folder: {work}")
    variants = []
    for v in a.variant or ["deepcross="]:
        name, _, flags = v.partition("=")
        variants.append((name, shlex.split(flags)))
    results = {}  # (cross, impl) -> [auc per seed]
    for seed in a.seeds:
        raw = os.path.join(work, f"seed{seed}.all.tsv")
        subprocess.run([a.deepcross, "synth", "--rows", str(a.rows), "--seed", str(seed),
                        "--output", raw], check=True, stderr=subprocess.DEVNULL)
        paths, sizes = split_files(raw, work, seed)
        print(f"seed {seed}: train/valid/test = {sizes[0]}/{sizes[1]}/{sizes[2]}", flush=True)
        for cross in a.crosses:
            ref, ref_s = run_json([a.python, a.reference, paths["train"], "--valid", paths["valid"],
                                   "--test", paths["test"], "--cross", cross, "--threads",
                                   str(a.threads), "--seed", str(seed)],
                                  os.path.join(work, f"seed{seed}.{cross}.reference.log"))
            results.setdefault((cross, "reference"), []).append(ref["test_auc"])
            line = (f"  {cross:8s} reference test AUC {ref['test_auc']:.4f} "
                    f"(best epoch {ref['best_epoch']}, {ref_s:.0f} s)")
            for name, flags in variants:
                model = os.path.join(work, f"seed{seed}.{cross}.{name}.dcn")
                dc, dc_s = run_json([a.deepcross, "train", "--data", paths["train"], "--valid",
                                     paths["valid"], "--test", paths["test"], "--cross", cross,
                                     "--threads", str(a.threads), "--seed", str(seed),
                                     "--model", model] + flags,
                                    os.path.join(work, f"seed{seed}.{cross}.{name}.log"))
                results.setdefault((cross, name), []).append(dc["test_auc"])
                line += (f"   {name} {dc['test_auc']:.4f} (best epoch {dc['best_epoch']}, "
                         f"{dc_s:.0f} s)")
            print(line, flush=True)
    print()
    names = [n for n, _ in variants]
    print("| cross | reference | " + " | ".join(f"deepcross {n}" for n in names) + " | "
          + " | ".join(f"{n} − reference" for n in names) + " |")
    print("|---" * (2 + 2 * len(names)) + "|")
    ok = True
    for cross in a.crosses:
        r = results[(cross, "reference")]
        mr = sum(r) / len(r)
        means = []
        for n in names:
            d = results[(cross, n)]
            means.append(sum(d) / len(d))
            ok &= means[-1] >= mr - 0.003
        print(f"| {cross} | {mr:.4f} | " + " | ".join(f"{m:.4f}" for m in means) + " | "
              + " | ".join(f"{m - mr:+.4f}" for m in means) + " |")
    print("\nper seed:")
    for cross in a.crosses:
        print(f"  {cross}: reference " + ", ".join(f"{x:.4f}" for x in results[(cross, "reference")])
              + "".join(f"; {n} " + ", ".join(f"{x:.4f}" for x in results[(cross, n)]) for n in names))
    print()
    print("parity target (every deepcross mean >= reference mean - 0.003, every cross type):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
