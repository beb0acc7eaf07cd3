#!/usr/bin/env python3
"""Speed and time to accuracy, side by side: deepcross against PyTorch peers, in one run.

Systems (--systems): `deepcross` (its defaults: lazy Adam, --precision auto), `deepcross-exact`
(--optimizer-mode exact --precision fp32: the reference's computation), `reference` (the
reference script unchanged, run with --python), and the peers of bench/peers/torch_peer.py run
with --peer-python: `tuned` (a tuned PyTorch DeepCross), `deepctr` (DeepCTR-Torch's DCN and
DCNMix), `torchrec` (TorchRec's cross modules in the tuned model shell). A system that is not
installed, crashes or reaches no accuracy target is reported as such in the tables.

1. GEMM: this CPU's fp32 and bf16 matrix-multiply rates (torch.matmul, --threads threads), for
   the target "70 % of the matmul rate applied to the step's FLOPs".
2. Speed: generated rows (--rows, default 500k; 64/16/20 train/valid/test in file order);
   --pairs back-to-back rounds of one-epoch runs of every system; medians. Training samples/s
   (training rows / seconds of the epoch's training steps); forward-only prediction rows/s on
   the validation rows (deepcross: `predict`'s scoring of the already-encoded rows, timed by
   the binary; the reference and peers: their validation forward passes, timed by themselves);
   `deepcross predict` end to end (the command's wall time: loading, reading, encoding,
   scoring, writing); ingest seconds (reading + fitting + encoding; the reference's `ingest_s`).
3. Time to accuracy: the parity split of --tta-rows generated rows (seed 1), early stopping
   (patience 5, at most --tta-epochs epochs). The target is the reference's best validation
   AUC - 0.001; a system's time is the wall-clock seconds from its process start (ingest and
   start-up included) until the line reporting its first epoch at or above the target appears
   on its standard error (every system prints one such line per epoch as the epoch ends).
   Also: test AUC at convergence (best epoch restored) and peak RSS.

The load average is recorded before and after every run; --wait-load waits (at most 10
minutes) for a quiet machine before starting. Standard library only: run it with any python3.

usage: bench/speed.py --reference ../shared/reference/deepcross_ref.py
       [--python bench/.venv/bin/python] [--peer-python bench/.venv/bin/python]
       [--deepcross build/deepcross] [--rows 500000] [--tta-rows 250000] [--tta-epochs 40]
       [--threads 2] [--pairs 3] [--crosses matrix vector mix lowrank] [--systems ...]
       [--phases gemm speed tta] [--wait-load 1.0] [--work DIR] [--json results.json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

MLP = (128, 64, 32)
SYSTEMS = ["reference", "tuned", "deepctr", "torchrec", "deepcross", "deepcross-exact"]
PEERS = ["reference", "tuned", "deepctr", "torchrec"]
LABEL = {"reference": "reference (current torch)", "tuned": "tuned PyTorch",
         "deepctr": "DeepCTR-Torch", "torchrec": "TorchRec cross", "deepcross": "deepcross default",
         "deepcross-exact": "deepcross exact"}
EXACT = ["--optimizer-mode", "exact", "--precision", "fp32"]
HERE = os.path.dirname(os.path.abspath(__file__))


def loadavg():
    return round(os.getloadavg()[0], 2)


class Run:
    """One child process: stdout, stderr lines with their arrival times (seconds from start),
    wall time, peak RSS (MiB), exit status, load average before and after."""

    def __init__(self, cmd, log, timeout):
        self.cmd, self.load_before = cmd, loadavg()
        t0 = time.time()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = []  # (seconds since start, text)
        out = []

        def read_err():
            buf = b""
            for chunk in iter(lambda: p.stderr.read1(65536), b""):
                now = time.time() - t0
                buf += chunk
                *done, buf = buf.split(b"\n")
                for line in done:
                    self.lines.append((now, line.decode(errors="replace").split("\r")[-1]))
            if buf:
                self.lines.append((time.time() - t0, buf.decode(errors="replace")))

        th = [threading.Thread(target=read_err),
              threading.Thread(target=lambda: out.append(p.stdout.read()))]
        for t in th:
            t.start()
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
        for t in th:
            t.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        self.wall = time.time() - t0
        self.timed_out = self.wall >= timeout
        self.rc = p.returncode
        self.rss = usage.ru_maxrss / 1024.0
        self.stdout = out[0].decode(errors="replace") if out else ""
        self.load_after = loadavg()
        with open(log, "w") as f:
            f.write(" ".join(cmd) + "\n")
            f.write(f"exit {self.rc}, {self.wall:.1f} s, load {self.load_before} -> "
                    f"{self.load_after}\n")
            for t, line in self.lines:
                f.write(f"[{t:8.3f}] {line}\n")
            f.write("stdout:\n" + self.stdout)

    @property
    def ok(self):
        return self.rc == 0 and not self.timed_out

    def failure(self):
        if self.timed_out:
            return f"timed out after {self.wall:.0f} s"
        last = next((l for _, l in reversed(self.lines) if l.strip()), "")
        return f"crashed (exit {self.rc}: {last.strip()[:160]})"

    def json_lines(self):
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if "{" in line and line.endswith("}"):  # text a library printed may precede it
                out.append(json.loads(line[line.index("{"):]))
        return out

    def json_epochs(self):
        """(arrival seconds, record) of the JSON epoch lines on stderr (reference and peers)."""
        out = []
        for t, line in self.lines:
            if line.startswith("{") and '"val_auc"' in line:
                out.append((t, json.loads(line)))
        return out


EPOCH_ROW = re.compile(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)")


def deepcross_epochs(run, history_csv):
    """(arrival seconds, {"epoch", "val_auc"}) per epoch: the table rows' arrival on stderr,
    the validation AUC from the history CSV (full precision)."""
    times = [t for t, line in run.lines if EPOCH_ROW.match(line)]
    aucs = {}
    if os.path.exists(history_csv):
        rows = open(history_csv).read().splitlines()
        head = rows[0].split(",")
        for r in rows[1:]:
            f = dict(zip(head, r.split(",")))
            aucs[int(f["epoch"])] = float(f["val_auc"])
    return [(t, {"epoch": i + 1, "val_auc": aucs.get(i + 1, float("nan"))})
            for i, t in enumerate(times)]


def write_split(rows, work, prefix, n_train, n_valid):
    paths = {}
    for name, part in (("train", rows[:n_train]), ("valid", rows[n_train:n_train + n_valid]),
                       ("test", rows[n_train + n_valid:])):
        paths[name] = os.path.join(work, f"{prefix}.{name}.tsv")
        with open(paths[name], "w") as f:
            f.writelines(part)
    return paths


def synth(a, rows, seed, work, prefix, parity):
    raw = os.path.join(work, f"{prefix}.all.tsv")
    subprocess.run([a.deepcross, "synth", "--rows", str(rows), "--seed", str(seed), "--output",
                    raw], check=True, stderr=subprocess.DEVNULL)
    with open(raw) as f:
        lines = f.readlines()
    n = len(lines)
    if parity:  # bench/parity.py's split: scikit-learn's rounding of 20 % and 20 % of the rest
        n_test = -(-n * 2 // 10)
        n_valid = -(-(n - n_test) * 2 // 10)
        n_train = n - n_test - n_valid
    else:
        n_train, n_valid = int(n * 0.64), int(n * 0.16)
    os.remove(raw)
    return write_split(lines, work, prefix, n_train, n_valid), (n_train, n_valid,
                                                                 n - n_train - n_valid)


def train_flops_per_sample(cross, d, layers=2, rank=32, experts=4):
    """3 x the forward multiply-adds x 2 FLOP (forward, input and weight gradients)."""
    mlp = d * MLP[0] + MLP[0] * MLP[1] + MLP[1] * MLP[2] + MLP[2]
    per_layer = {"matrix": d * d, "vector": 2 * d, "lowrank": 2 * d * rank,
                 "mix": 2 * d * experts * rank + experts * rank * rank + d * experts}[cross]
    return 2 * 3 * (mlp + layers * per_layer)


GEMM_SCRIPT = r"""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
d = int(sys.argv[2])
out = {}
for dt, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
    for m, k, n in ((2048, 2048, 2048), (4096, 4096, 4096), (2048, d, d), (2048, d, 128)):
        x, w = torch.randn(m, k).to(dt), torch.randn(k, n).to(dt)
        for _ in range(3): x @ w
        reps, t0 = 0, time.time()
        while time.time() - t0 < 1.5:
            x @ w; reps += 1
        out[f"{name} {m}x{k}x{n}"] = round(2 * m * k * n * reps / (time.time() - t0) / 1e9, 1)
print(json.dumps(out))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", required=True)
    ap.add_argument("--deepcross", default="build/deepcross")
    venv_py = os.path.join(HERE, ".venv", "bin", "python")
    ap.add_argument("--python", default=venv_py, help="python for the reference script")
    ap.add_argument("--peer-python", default=venv_py, help="python for bench/peers/torch_peer.py")
    ap.add_argument("--rows", type=int, default=500000)
    ap.add_argument("--tta-rows", type=int, default=250000)
    ap.add_argument("--tta-epochs", type=int, default=40)
    ap.add_argument("--tta-timeout", type=float, default=600, help="seconds per time-to-accuracy run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--crosses", nargs="+", default=["matrix", "vector", "mix", "lowrank"])
    ap.add_argument("--systems", nargs="+", default=SYSTEMS, choices=SYSTEMS)
    ap.add_argument("--phases", nargs="+", default=["gemm", "speed", "tta"],
                    choices=["gemm", "speed", "tta"])
    ap.add_argument("--wait-load", type=float, default=None,
                    help="wait (at most 10 minutes) until the 1-minute load average is below this")
    ap.add_argument("--work", default=None)
    ap.add_argument("--json", default=None, help="also write every measurement here")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="deepcross-speed-")
    os.makedirs(work, exist_ok=True)
    if a.wait_load is not None:
        t_wait = time.time()
        while loadavg() >= a.wait_load and time.time() - t_wait < 600:
            time.sleep(10)
        print(f"waited {time.time() - t_wait:.0f} s for the load average ({loadavg()})", flush=True)
    cpuinfo = open("/proc/cpuinfo").read()
    cpu = next((l.split(":", 1)[1].strip() for l in cpuinfo.splitlines()
                if l.startswith("model name")), "?")
    flags = set(next((l.split(":", 1)[1].split() for l in cpuinfo.splitlines()
                      if l.startswith("flags")), []))
    bf16_units = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    R = {"cpu": cpu, "bf16_units": bf16_units, "threads": a.threads, "commit": commit,
         "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": loadavg(),
         "rows": a.rows, "tta_rows": a.tta_rows, "tta_epochs": a.tta_epochs, "pairs": a.pairs, "work": work,
         "installed": {}, "gemm": None, "speed": {}, "tta": {}}
    print(f"speed: {cpu}; bf16 units: {', '.join(bf16_units) or 'none'}; {a.threads} threads; "
          f"commit {commit}; work folder {work}", flush=True)

    # Which systems can run at all: the peers need their python with torch (and the library).
    probe = {"reference": (a.python, "import torch, pandas, sklearn; v = 'torch ' + torch.__version__"),
             "tuned": (a.peer_python, "import torch, pandas, sklearn; v = 'torch ' + torch.__version__"),
             "deepctr": (a.peer_python, "import deepctr_torch; v = deepctr_torch.__version__"),
             "torchrec": (a.peer_python, "import importlib.metadata as m; v = m.version('torchrec')")}
    for s in a.systems:
        if s in probe:
            py, code = probe[s]
            try:
                p = subprocess.run([py, "-c", code + "; print('version:', v)"], capture_output=True,
                                   text=True, timeout=120)
                v = next((l.split(":", 1)[1].strip() for l in p.stdout.splitlines()
                          if l.startswith("version:")), "") if p.returncode == 0 else ""
                err = (p.stderr.strip().splitlines() or ["no output"])[-1]
            except (OSError, subprocess.TimeoutExpired) as e:
                v, err = "", str(e)
            R["installed"][s] = v if v else f"not installed ({err[:160]})"
        else:
            R["installed"][s] = "built" if os.access(a.deepcross, os.X_OK) else "missing"
    status_file = os.path.join(os.path.dirname(os.path.dirname(a.peer_python)), "peers-status.txt")
    if os.path.exists(status_file):
        R["peers_status"] = open(status_file).read().strip().splitlines()
    print("installed: " + "; ".join(f"{s}: {v}" for s, v in R["installed"].items()), flush=True)
    runnable = [s for s in a.systems if not R["installed"][s].startswith(("not installed", "missing"))]

    def peer_cmd(system, paths, crosses, extra):
        base = ([a.python, a.reference] if system == "reference"
                else [a.peer_python, os.path.join(HERE, "peers", "torch_peer.py"), "--impl", system])
        return base + [paths["train"], "--valid", paths["valid"], "--test", paths["test"],
                       "--cross", ",".join(crosses), "--threads", str(a.threads)] + extra

    def dc_cmd(system, paths, cross, model, extra):
        return ([a.deepcross, "train", "--data", paths["train"], "--valid", paths["valid"],
                 "--test", paths["test"], "--cross", cross, "--threads", str(a.threads),
                 "--model", model, "--curves", "none"]
                + (EXACT if system == "deepcross-exact" else []) + extra)

    def supports(system, cross):
        return not (system == "deepctr" and cross == "lowrank")

    d_of = {}

    # ---- 1. GEMM ------------------------------------------------------------------------------
    if "gemm" in a.phases:
        py = a.peer_python if "not installed" not in R["installed"].get("tuned", "x") else a.python
        r = Run([py, "-c", GEMM_SCRIPT, str(a.threads), "185"], os.path.join(work, "gemm.log"), 300)
        R["gemm"] = r.json_lines()[-1] if r.ok and r.json_lines() else {"error": r.failure()}
        print("gemm GFLOPS: " + json.dumps(R["gemm"]), flush=True)

    # ---- 2. speed -----------------------------------------------------------------------------
    if "speed" in a.phases:
        paths, sizes = synth(a, a.rows, 1, work, "speed", parity=False)
        R["speed_sizes"] = sizes
        R["speed_bytes"] = sum(os.path.getsize(p) for p in paths.values())
        S = R["speed"]  # S[cross][system] = list of per-pair dicts or failures

        def put(cross, system, value):
            S.setdefault(cross, {}).setdefault(system, []).append(value)

        for i in range(a.pairs):
            for cross in a.crosses:
                if "reference" in runnable:
                    r = Run(peer_cmd("reference", paths, [cross], ["--epochs", "1"]),
                            os.path.join(work, f"speed.{cross}.{i}.reference.log"), 1800)
                    if r.ok:
                        j = r.json_lines()[-1]
                        e = j["epochs"][0]
                        put(cross, "reference", {"train": e["train_samples_per_s"],
                                                 "predict": e["val_predict_samples_per_s"],
                                                 "ingest": j["ingest_s"], "rss": r.rss,
                                                 "auc1": j["test_auc"], "load": [r.load_before, r.load_after]})
                    else:
                        put(cross, "reference", {"error": r.failure()})
                for system in ("deepcross", "deepcross-exact"):
                    if system not in runnable:
                        continue
                    model = os.path.join(work, f"speed.{cross}.{system}.dcn")
                    r = Run(dc_cmd(system, paths, cross, model, ["--epochs", "1", "--history", "none"]),
                            os.path.join(work, f"speed.{cross}.{i}.{system}.log"), 1800)
                    if not r.ok:
                        put(cross, system, {"error": r.failure()})
                        continue
                    j = r.json_lines()[-1]
                    ingest = next((float(m.group(1)) for _, l in r.lines
                                   for m in [re.search(r"encoded in ([0-9.]+) s", l)] if m), float("nan"))
                    rec = {"train": j["train_samples_per_s"], "ingest": ingest, "rss": r.rss,
                           "auc1": j["test_auc"], "load": [r.load_before, r.load_after]}
                    if cross not in d_of:
                        info = subprocess.run([a.deepcross, "info", "--model", model],
                                              capture_output=True, text=True)
                        d_of[cross] = sum(f["width"] for f in json.loads(info.stdout)["fields"])
                    if system == "deepcross":
                        p = Run([a.deepcross, "predict", "--model", model, "--data", paths["valid"],
                                 "--threads", str(a.threads), "--output", os.devnull],
                                os.path.join(work, f"speed.{cross}.{i}.predict.log"), 600)
                        m = next((m for _, l in p.lines
                                  for m in [re.search(r"scored (\d+) rows in [0-9.]+ s \(([0-9.]+) rows/s\)", l)]
                                  if m), None)
                        if p.ok and m:
                            rec["predict"] = float(m.group(2))
                            rec["predict_e2e"] = int(m.group(1)) / p.wall
                        else:
                            rec["predict_error"] = p.failure()
                    put(cross, system, rec)
                print(f"speed pair {i + 1}, {cross}: " + ", ".join(
                    f"{s} {S[cross][s][-1].get('train', S[cross][s][-1].get('error'))}"
                    for s in S.get(cross, {})), flush=True)
            for system in ("tuned", "deepctr", "torchrec"):
                if system not in a.systems:
                    continue
                crosses = [c for c in a.crosses if supports(system, c)]
                for c in a.crosses:
                    if not supports(system, c):
                        put(c, system, {"error": "no such model in the library"})
                if system not in runnable:
                    for c in crosses:
                        put(c, system, {"error": R["installed"][system]})
                    continue
                r = Run(peer_cmd(system, paths, crosses, ["--epochs", "1"]),
                        os.path.join(work, f"speed.{i}.{system}.log"), 3600)
                got = {j["cross"]: j for j in r.json_lines()}
                for c in crosses:
                    if c in got:
                        e = got[c]["epochs"][0]
                        put(c, system, {"train": e["train_samples_per_s"],
                                        "predict": e["val_predict_samples_per_s"],
                                        "ingest": got[c]["ingest_s"], "auc1": got[c]["test_auc"],
                                        "load": [r.load_before, r.load_after],
                                        "notes": {k: v for k, v in got[c].items()
                                                  if k in ("precision", "dense_adam", "torchrec_import",
                                                           "model", "compile")}})
                    else:
                        put(c, system, {"error": r.failure()})
                print(f"speed pair {i + 1}, {system}: " + ", ".join(
                    f"{c} {S[c][system][-1].get('train', S[c][system][-1].get('error'))}"
                    for c in crosses), flush=True)
        R["d"] = d_of

    # ---- 3. time to accuracy ------------------------------------------------------------------
    if "tta" in a.phases:
        paths, sizes = synth(a, a.tta_rows, 1, work, "tta", parity=True)
        R["tta_sizes"] = sizes
        T = R["tta"]
        cap = ["--epochs", str(a.tta_epochs), "--patience", "5", "--seed", "1"]
        for cross in a.crosses:
            T[cross] = {"systems": {}}
            for system in ["reference"] + [s for s in a.systems if s != "reference"]:
                if system not in a.systems:
                    continue
                if not supports(system, cross):
                    T[cross]["systems"][system] = {"error": "no such model in the library"}
                    continue
                if system not in runnable:
                    T[cross]["systems"][system] = {"error": R["installed"][system]}
                    continue
                log = os.path.join(work, f"tta.{cross}.{system}.log")
                if system.startswith("deepcross"):
                    hist = os.path.join(work, f"tta.{cross}.{system}.history.csv")
                    r = Run(dc_cmd(system, paths, cross, os.path.join(work, f"tta.{cross}.{system}.dcn"),
                                   cap + ["--history", hist]), log, a.tta_timeout)
                    epochs = deepcross_epochs(r, hist)
                    test_auc = r.json_lines()[-1]["test_auc"] if r.ok else None
                else:
                    r = Run(peer_cmd(system, paths, [cross], cap), log, a.tta_timeout)
                    epochs = r.json_epochs()
                    test_auc = r.json_lines()[-1]["test_auc"] if r.ok else None
                rec = {"epochs": [[round(t, 2), e["epoch"], e["val_auc"]] for t, e in epochs],
                       "wall": round(r.wall, 1), "rss": round(r.rss), "test_auc": test_auc,
                       "load": [r.load_before, r.load_after]}
                if not r.ok:
                    rec["error"] = r.failure()
                if system == "reference":
                    if epochs:
                        T[cross]["target"] = round(max(e["val_auc"] for _, e in epochs) - 0.001, 5)
                        if r.ok:
                            T[cross]["reference_best_epoch"] = r.json_lines()[-1]["best_epoch"]
                target = T[cross].get("target")
                if target is not None:
                    hit = next(((t, e["epoch"]) for t, e in epochs if e["val_auc"] >= target), None)
                    rec["tta"] = round(hit[0], 2) if hit else None
                    rec["tta_epoch"] = hit[1] if hit else None
                T[cross]["systems"][system] = rec
                print(f"tta {cross} {system}: target {target}, reached at "
                      f"{rec.get('tta')} s (epoch {rec.get('tta_epoch')}), test AUC {test_auc}, "
                      f"{rec['wall']} s" + (f"; {rec['error']}" if "error" in rec else ""), flush=True)
    R["load_end"] = loadavg()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(R, f, indent=1)
    report(R)
    return 0


def med(vals):
    vals = [v for v in vals if v is not None and v == v]
    return statistics.median(vals) if vals else None


def cell(v, fmt="{:,.0f}"):
    return "—" if v is None else fmt.format(v)


def report(R):
    """Markdown tables from the measurements R (also usable on a saved --json)."""
    print(f"\n## {R['cpu']}; bf16 units: {', '.join(R['bf16_units']) or 'none'}; "
          f"{R['threads']} threads; commit {R['commit']}; {R['date']}")
    print(f"load average: {R['load_start']} at the start, {R['load_end']} at the end; "
          f"per-run figures in the --json output")
    print("\nInstalled: " + "; ".join(f"{LABEL[s]}: {v}" for s, v in R["installed"].items()))
    for line in R.get("peers_status", []):
        print(f"  setup: {line}")
    g = R.get("gemm") or {}
    best = {p: max([v for k, v in g.items() if k.startswith(p)], default=None) for p in ("fp32", "bf16")}
    if g:
        print("\nGEMM (torch.matmul), GFLOPS: " + ", ".join(f"{k} {v}" for k, v in g.items()))
    rate_name = "bf16" if R["bf16_units"] and best.get("bf16") else "fp32"
    rate = best.get(rate_name)
    S = R.get("speed") or {}
    systems = [s for s in SYSTEMS if any(s in S.get(c, {}) for c in S)]

    def stat(cross, system, key):
        runs = S.get(cross, {}).get(system, [])
        errs = [r["error"] for r in runs if "error" in r]
        v = med([r.get(key) for r in runs if "error" not in r])
        return v, (errs[0] if errs and v is None else None)

    def fastest_peer(cross, key):
        vals = [(stat(cross, s, key)[0], s) for s in PEERS if s in systems]
        vals = [x for x in vals if x[0] is not None]
        return max(vals) if vals else (None, None)

    if S:
        sz = R["speed_sizes"]
        print(f"\n### Training samples/s: {R['rows']:,} rows ({sz[0]:,} train), one epoch, "
              f"batch 2048, median of {R['pairs']} back-to-back rounds")
        print("| cross | " + " | ".join(LABEL[s] for s in systems) + " | default ÷ fastest peer | "
              f"70 % of {rate_name} GEMM on the step's FLOPs | target | default ÷ target | "
              "exact ÷ reference |")
        print("|---" * (len(systems) + 6) + "|")
        for cross in S:
            cells = []
            for s in systems:
                v, err = stat(cross, s, "train")
                cells.append(cell(v) if err is None else err)
            dv = stat(cross, "deepcross", "train")[0]
            ev = stat(cross, "deepcross-exact", "train")[0]
            rv = stat(cross, "reference", "train")[0]
            fp, fs = fastest_peer(cross, "train")
            d = R.get("d", {}).get(cross)
            ceil = 0.7 * rate * 1e9 / train_flops_per_sample(cross, d) if rate and d else None
            target = min(x for x in (3 * fp if fp else None, ceil) if x) if (fp or ceil) else None
            print(f"| {cross} | " + " | ".join(cells) + f" | "
                  f"{cell(dv / fp if dv and fp else None, '{:.2f}x')} ({LABEL.get(fs, '—')}) | "
                  f"{cell(ceil)} | {cell(target)} | "
                  f"{cell(dv / target if dv and target else None, '{:.2f}')} "
                  f"{'met' if dv and target and dv >= target else 'NOT met'} | "
                  f"{cell(ev / rv if ev and rv else None, '{:.2f}x')} "
                  f"{'met' if ev and rv and ev >= 2 * rv else 'NOT met'} |")
        print(f"\n### Forward-only prediction rows/s: the {sz[1]:,} validation rows, median of "
              f"{R['pairs']} (deepcross: `predict`'s scoring of the encoded rows; end to end: "
              "the whole `deepcross predict` command, reading and encoding included)")
        psys = [s for s in systems if s != "deepcross-exact"]
        print("| cross | " + " | ".join(LABEL[s] for s in psys) +
              " | deepcross ÷ fastest peer | deepcross predict end to end |")
        print("|---" * (len(psys) + 3) + "|")
        for cross in S:
            cells = []
            for s in psys:
                v, err = stat(cross, s, "predict")
                cells.append(cell(v) if err is None else err)
            dv = stat(cross, "deepcross", "predict")[0]
            fp, fs = fastest_peer(cross, "predict")
            print(f"| {cross} | " + " | ".join(cells) +
                  f" | {cell(dv / fp if dv and fp else None, '{:.2f}x')} "
                  f"{'met' if dv and fp and dv >= 3 * fp else 'NOT met'} | "
                  f"{cell(stat(cross, 'deepcross', 'predict_e2e')[0])} |")
        mb = R["speed_bytes"] / 1e6
        print(f"\n### Ingest of train + valid + test ({mb:.0f} MB): reading + fitting + encoding, "
              "seconds, median over all runs")
        print("| system | seconds | MB/s | reference ÷ system |")
        print("|---|---|---|---|")
        ref_ing = med([r.get("ingest") for c in S for r in S[c].get("reference", [])])
        for s in systems:
            v = med([r.get("ingest") for c in S for r in S[c].get(s, [])])
            print(f"| {LABEL[s]} | {cell(v, '{:.2f}')} | {cell(mb / v if v else None, '{:.0f}')} | "
                  f"{cell(ref_ing / v if v and ref_ing else None, '{:.1f}x')}"
                  + (" (target 20x: " + ("met" if ref_ing / v >= 20 else "NOT met") + ")"
                     if s == "deepcross" and v and ref_ing else "") + " |")
    T = R.get("tta") or {}
    if T:
        sz = R["tta_sizes"]
        tsys = [s for s in SYSTEMS if any(s in T[c]["systems"] for c in T)]
        print(f"\n### Time to accuracy: seconds from start (ingest included) until the validation "
              f"AUC first reaches the reference's best − 0.001; {R['tta_rows']:,} rows "
              f"({sz[0]:,}/{sz[1]:,}/{sz[2]:,}), seed 1, early stopping (patience 5, at most "
              f"{R['tta_epochs']} epochs)")
        print("| cross | target AUC | " + " | ".join(LABEL[s] for s in tsys) +
              " | default: fastest peer ÷ deepcross | exact: reference ÷ deepcross exact |")
        print("|---" * (len(tsys) + 4) + "|")
        for cross, t in T.items():
            cells = []
            for s in tsys:
                r = t["systems"].get(s, {})
                if r.get("tta") is not None:
                    cells.append(f"{r['tta']:.1f} (epoch {r['tta_epoch']})")
                elif "error" in r and not r.get("epochs"):
                    cells.append(r["error"])
                else:
                    cells.append(f"not reached in {len(r.get('epochs', []))} epochs"
                                 + (f" ({r['error']})" if "error" in r else ""))
            dv = t["systems"].get("deepcross", {}).get("tta")
            ev = t["systems"].get("deepcross-exact", {}).get("tta")
            rv = t["systems"].get("reference", {}).get("tta")
            peers = [(t["systems"][s]["tta"], s) for s in PEERS
                     if t["systems"].get(s, {}).get("tta") is not None]
            fp, fs = min(peers) if peers else (None, None)
            print(f"| {cross} | {cell(t.get('target'), '{:.4f}')} | " + " | ".join(cells) +
                  f" | {cell(fp / dv if fp and dv else None, '{:.2f}x')} ({LABEL.get(fs, '—')}) "
                  f"{'met' if fp and dv and fp >= 3 * dv else 'NOT met'} | "
                  f"{cell(rv / ev if rv and ev else None, '{:.2f}x')} |")
        print("\n### At convergence (the same runs): test AUC (best epoch restored) / peak RSS MiB "
              "/ epochs run")
        print("| cross | " + " | ".join(LABEL[s] for s in tsys) + " | deepcross − best peer |")
        print("|---" * (len(tsys) + 2) + "|")
        for cross, t in T.items():
            cells = []
            for s in tsys:
                r = t["systems"].get(s, {})
                if r.get("test_auc") is None:
                    cells.append(r.get("error", "—"))
                else:
                    cells.append(f"{r['test_auc']:.4f} / {r['rss']:,} / {len(r['epochs'])}")
            peers = [t["systems"][s]["test_auc"] for s in PEERS
                     if t["systems"].get(s, {}).get("test_auc") is not None]
            dv = t["systems"].get("deepcross", {}).get("test_auc")
            diff = dv - max(peers) if dv is not None and peers else None
            print(f"| {cross} | " + " | ".join(cells) + f" | {cell(diff, '{:+.4f}')} "
                  + ("" if diff is None else ("met" if diff >= -0.003 else "NOT met")) + " |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        R = json.load(open(sys.argv[2]))
        report(R)
        sys.exit(0)
    sys.exit(main())
