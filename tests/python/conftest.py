"""Shared fixtures of the Python tests: the deepcross binary, the shipped Criteo sample, and
models trained on it by the command line (tests/python/run.sh passes --deepcross)."""
import gzip
import math
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "criteo_kaggle_head_10k.tsv.gz"
NUMERIC = [f"I{i}" for i in range(1, 14)]
CATEGORICAL = [f"C{i}" for i in range(14, 40)]


def pytest_addoption(parser):
    parser.addoption("--deepcross", required=True, help="path of the deepcross binary")


@pytest.fixture(scope="session")
def deepcross(request):
    path = Path(request.config.getoption("--deepcross"))
    assert path.is_file(), f"{path}: no deepcross binary"
    return path


def run(binary, *args, check=True, **kw):
    """Runs deepcross; a failure shows its stderr."""
    r = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"deepcross {' '.join(map(str, args))}: exit {r.returncode}\n{r.stderr}")
    return r


@pytest.fixture(scope="session")
def sample_lines():
    """The shipped Criteo sample's lines (label first), without newlines."""
    with gzip.open(SAMPLE, "rt", encoding="utf-8", newline="\n") as f:
        return [line.rstrip("\n") for line in f]


def hostile_lines():
    """Rows predict and the exported model must score alike: unseen categories, every field
    missing, numbers outside the fitted range, negative, fractional, huge."""
    rows = []
    unseen = ["zz%06d" % k for k in range(len(CATEGORICAL))]
    rows.append(["0"] + [""] * 13 + [""] * 26)                      # everything missing
    rows.append(["1"] + ["-7"] * 13 + unseen)                        # below range, unseen
    rows.append(["0"] + ["1e30"] * 13 + [""] * 26)                  # far above range
    rows.append(["1"] + ["0.5", "", "3", "", "1e-3"] * 2 + ["2", "", "9"] + unseen[:13] + [""] * 13)
    rows.append(["0"] + [str(k) for k in range(13)] + [""] * 13 + unseen[13:])
    return ["\t".join(r) for r in rows]


def parse_rows(lines):
    """TSV lines (label first) -> {field: values} for onnxruntime / tritonclient."""
    import numpy as np

    cols = [line.split("\t") for line in lines]
    feeds = {}
    for k, name in enumerate(NUMERIC):
        feeds[name] = np.array([float(c[1 + k]) if c[1 + k] else math.nan for c in cols],
                               dtype=np.float32)
    for k, name in enumerate(CATEGORICAL):
        feeds[name] = np.array([c[14 + k] for c in cols], dtype=object)
    return feeds


def predict(binary, model, lines, tmp_path):
    """`deepcross predict` on these lines: an array [rows] or [rows, classes]."""
    import numpy as np

    data = tmp_path / f"rows-{os.getpid()}-{len(lines)}.tsv"
    data.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    out = run(binary, "predict", "--model", model, "--data", data, "--threads", 1).stdout
    probs = np.array([[float(v) for v in line.split(",")] for line in out.splitlines()])
    assert probs.shape[0] == len(lines), out[:200]
    return probs[:, 0] if probs.shape[1] == 1 else probs


def train(binary, model, *extra):
    """A small model trained on the shipped sample, quickly (one epoch, narrow layers)."""
    run(binary, "train", "--data", SAMPLE, "--model", model, "--epochs", 1, "--threads", 2,
        "--mlp", "32,16", "--low-rank", 8, "--experts", 3, "--history", "none",
        "--curves", "none", *extra)
