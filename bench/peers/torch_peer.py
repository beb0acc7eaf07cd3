#!/usr/bin/env python3
"""The PyTorch peers of bench/speed.py: a tuned PyTorch DeepCross, TorchRec's cross modules in
the same model shell, and DeepCTR-Torch's DCN / DCNMix. Run with the virtual environment that
bench/peers/setup.sh makes.

The same contract as the reference script (../shared/reference/deepcross_ref.py), so that
bench/speed.py runs every system alike: one JSON line per epoch on stderr (flushed as the
epoch ends: the runner stamps its arrival time), one JSON summary per cross type on stdout
with load_s, prep_s, ingest_s, per-epoch train_samples_per_s (rows / seconds of the epoch's
training loop), val_predict_samples_per_s (the validation rows' forward passes alone),
val_auc; best_epoch and test_auc (early stopping on validation AUC, best epoch restored).

--impl tuned      what a PyTorch expert would write for the SPEC's model: embeddings grouped
                  by width into a few sparse tables (SparseAdam, no weight decay on them), the
                  dense parameters on a fused Adam (weight decay 0.001), the mix experts
                  batched into three bmm per layer, bf16 autocast where the CPU has bf16
                  units (--precision auto), torch.compile of the dense part on request
                  (--compile), inference_mode for predictions; the reference's preprocessing
                  (label encoding, mean impute + quantile transform fitted on all rows) done
                  with pandas.factorize instead of LabelEncoder.
--impl torchrec   the same shell and optimizers with TorchRec's CrossNet (matrix),
                  VectorCrossNet (vector), LowRankCrossNet (lowrank) and LowRankMixtureCrossNet
                  (mix, tanh experts as the SPEC's) in place of the cross. When `import
                  torchrec` fails (its FBGEMM build does not load), the modules are loaded
                  from the installed torchrec/modules/crossnet.py file itself, which needs
                  torch alone; the summary says which ("torchrec_import").
--impl deepctr    DeepCTR-Torch's DCN (cross_parameterization vector / matrix) and DCNMix
                  (mix; low_rank 32, 4 experts), with its own fit() and predict(): the SPEC's
                  embedding widths, MLP (128, 64, 32), dropout 0.25, Adam lr 0.002; the
                  library's defaults otherwise (parallel structure with a linear part, L2
                  regularisation 1e-5). No low-rank model without experts: --cross lowrank
                  is refused.

usage: torch_peer.py --impl tuned|torchrec|deepctr TRAIN --valid V --test T
       [--cross matrix[,vector,...]] [--epochs 100] [--patience 5] [--threads 2] [--seed 42]
       [--batch 2048] [--precision auto|bf16|fp32] [--compile]
"""
import argparse
import copy
import importlib.util
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import torch
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer
from torch import nn

T_START = time.time()


def log(obj):
    print(json.dumps(obj), file=sys.stderr, flush=True)


def widths_of(cards, cap=8):
    return [min(max(int(c ** 0.5), 2), cap) for c in cards]


def load(paths, seed):
    """The reference's preprocessing, faster: (numerics, categories, labels, cardinalities, parts)."""
    t0 = time.time()
    frames = [pd.read_csv(p, sep="\t", header=None) for p in paths]
    df = pd.concat(frames, ignore_index=True)
    load_s = time.time() - t0
    t1 = time.time()
    y = df[0].to_numpy(np.float32)
    cat = np.empty((len(df), 26), dtype=np.int64)
    cards = []
    for j in range(26):
        codes, uniques = pd.factorize(df[14 + j], use_na_sentinel=True)
        codes = codes.astype(np.int64)
        codes[codes < 0] = len(uniques)  # missing: one more category, as LabelEncoder's "nan"
        cat[:, j] = codes
        cards.append(len(uniques) + 1)
    num = Pipeline([("impute", SimpleImputer()),
                    ("quantile", QuantileTransformer(random_state=seed))]).fit_transform(
        df[list(range(1, 14))].to_numpy(np.float64)).astype(np.float32)
    prep_s = time.time() - t1
    sizes = [len(f) for f in frames]
    return num, cat, y, cards, sizes, load_s, prep_s


# ---- the tuned model shell -------------------------------------------------------------------

class GroupedEmbedding(nn.Module):
    """One sparse table per distinct width; fields of a width share it at offsets."""

    def __init__(self, cards, widths):
        super().__init__()
        self.groups = []
        tables = []
        for w in sorted(set(widths)):
            cols = [j for j, x in enumerate(widths) if x == w]
            offs = np.cumsum([0] + [cards[j] for j in cols[:-1]])
            self.register_buffer(f"cols{w}", torch.tensor(cols))
            self.register_buffer(f"offs{w}", torch.tensor(offs, dtype=torch.int64))
            tables.append(nn.Embedding(int(sum(cards[j] for j in cols)), w, sparse=True))
            self.groups.append(w)
        self.tables = nn.ModuleList(tables)
        self.width = sum(widths)

    def forward(self, xc):
        out = []
        for w, t in zip(self.groups, self.tables):
            idx = xc[:, getattr(self, f"cols{w}")] + getattr(self, f"offs{w}")
            out.append(t(idx).reshape(len(xc), -1))
        return out


class VectorCross(nn.Module):
    def __init__(self, d, layers=2):
        super().__init__()
        self.w = nn.Parameter(torch.randn(layers, d) * d ** -0.5)
        self.b = nn.Parameter(torch.zeros(layers, d))

    def forward(self, x):
        x0 = xi = x
        for i in range(len(self.w)):
            xi = x0 * (xi @ self.w[i]).unsqueeze(1) + self.b[i] + xi
        return xi


class MatrixCross(nn.Module):
    def __init__(self, d, layers=2):
        super().__init__()
        self.lin = nn.ModuleList(nn.Linear(d, d) for _ in range(layers))

    def forward(self, x):
        x0 = xi = x
        for lin in self.lin:
            xi = x0 * lin(xi) + xi
        return xi


class LowRankCross(nn.Module):
    def __init__(self, d, layers=2, rank=32):
        super().__init__()
        xn = nn.init.xavier_normal_
        self.v = nn.Parameter(torch.stack([xn(torch.empty(d, rank)) for _ in range(layers)]))
        self.u = nn.Parameter(torch.stack([xn(torch.empty(rank, d)) for _ in range(layers)]))
        self.b = nn.Parameter(torch.zeros(layers, d))

    def forward(self, x):
        x0 = xi = x
        for i in range(len(self.b)):
            xi = x0 * ((xi @ self.v[i]) @ self.u[i] + self.b[i]) + xi
        return xi


class MixCross(nn.Module):
    """The reference's mixture of low-rank experts, the experts batched: per layer three bmm
    over the experts; the gate's softmax sums to one, so the bias is applied once."""

    def __init__(self, d, layers=2, rank=32, experts=4):
        super().__init__()
        xn = nn.init.xavier_normal_
        self.v = nn.Parameter(torch.stack([xn(torch.empty(experts, d, rank)) for _ in range(layers)]))
        self.c = nn.Parameter(torch.stack([xn(torch.empty(experts, rank, rank)) for _ in range(layers)]))
        self.u = nn.Parameter(torch.stack([xn(torch.empty(experts, rank, d)) for _ in range(layers)]))
        self.gate = nn.Linear(d, experts, bias=False)  # shared by the layers, as the reference's
        self.b = nn.Parameter(torch.zeros(layers, d))

    def forward(self, x):
        x0 = xi = x
        for i in range(len(self.b)):
            g = torch.softmax(self.gate(xi), dim=1)                    # B x K
            h = torch.tanh(torch.matmul(xi.unsqueeze(0), self.v[i]))   # K x B x r
            h = torch.tanh(torch.bmm(h, self.c[i]))
            uv = torch.bmm(h, self.u[i])                               # K x B x d
            m = (uv * g.t().unsqueeze(-1)).sum(0)
            xi = x0 * (m + self.b[i]) + xi
        return xi


def torchrec_crossnet():
    """TorchRec's crossnet module: from the package, or from its file when the package's
    import fails (the reason is returned)."""
    try:
        import torchrec.modules.crossnet as m  # noqa: F401
        return m, "ok"
    except Exception as e:  # noqa: BLE001 - any import failure is reported, then worked around
        reason = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        spec = importlib.util.find_spec("torchrec")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"torch_peer: torchrec is not installed ({reason})")
        path = list(spec.submodule_search_locations)[0] + "/modules/crossnet.py"
        s = importlib.util.spec_from_file_location("torchrec_crossnet", path)
        m = importlib.util.module_from_spec(s)
        s.loader.exec_module(m)
        return m, "failed (" + reason + "); its crossnet.py loaded by path"


class TorchrecCross(nn.Module):
    def __init__(self, m, cross, d, layers=2, rank=32, experts=4):
        super().__init__()
        self.net = {"matrix": lambda: m.CrossNet(d, layers),
                    "vector": lambda: m.VectorCrossNet(d, layers),
                    "lowrank": lambda: m.LowRankCrossNet(d, layers, rank),
                    "mix": lambda: m.LowRankMixtureCrossNet(d, layers, experts, rank,
                                                            activation=torch.tanh)}[cross]()

    def forward(self, x):
        return self.net(x)


class Shell(nn.Module):
    def __init__(self, n_num, cards, make_cross, mlp=(128, 64, 32), dropout=0.25):
        super().__init__()
        self.emb = GroupedEmbedding(cards, widths_of(cards))
        d = n_num + self.emb.width
        self.d = d
        layers, d_in = [], d
        for h in mlp:
            layers += [nn.Linear(d_in, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
            d_in = h
        self.dense = nn.Sequential(make_cross(d), *layers, nn.Linear(d_in, 1))

    def forward(self, xn, xc):
        return self.dense(torch.cat([xn] + self.emb(xc), dim=1)).squeeze(-1)


def cpu_has_bf16():
    flags = open("/proc/cpuinfo").read()
    return " avx512_bf16" in flags or " amx_bf16" in flags


def run_shell(a, cross, data, info):
    num, cat, y, cards, sizes = data
    n_tr, n_va = sizes[0], sizes[1]
    xn, xc, yt = (torch.from_numpy(v) for v in (num, cat, y))
    tr = slice(0, n_tr)
    va = slice(n_tr, n_tr + n_va)
    te = slice(n_tr + n_va, len(y))
    torch.manual_seed(a.seed)
    if a.impl == "torchrec":
        m, status = torchrec_crossnet()
        info["torchrec_import"] = status
        make = lambda d: TorchrecCross(m, cross, d)  # noqa: E731
    else:
        make = {"vector": VectorCross, "matrix": MatrixCross, "lowrank": LowRankCross,
                "mix": MixCross}[cross]
    net = Shell(num.shape[1], cards, make)
    sparse = list(net.emb.parameters())
    dense = list(net.dense.parameters())
    opts = [torch.optim.SparseAdam(sparse, lr=0.002)]
    try:
        opts.append(torch.optim.Adam(dense, lr=0.002, weight_decay=0.001, fused=True))
        info["dense_adam"] = "fused"
    except (RuntimeError, TypeError):
        opts.append(torch.optim.Adam(dense, lr=0.002, weight_decay=0.001, foreach=True))
        info["dense_adam"] = "foreach"
    bf16 = a.precision == "bf16" or (a.precision == "auto" and cpu_has_bf16())
    info["precision"] = "bf16 autocast" if bf16 else "fp32"
    dense_fn = net.dense
    if a.compile:
        dense_fn = torch.compile(net.dense)
        info["compile"] = "torch.compile(dense part)"
    loss_fn = nn.BCEWithLogitsLoss()

    def forward(x_num, x_cat):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = dense_fn(torch.cat([x_num] + net.emb(x_cat), dim=1))
        return out.float().squeeze(-1)

    def predict(s, bs=8192):
        net.eval()
        with torch.inference_mode():
            n, m_ = xn[s], xc[s]
            p = torch.cat([torch.sigmoid(forward(n[i:i + bs], m_[i:i + bs]))
                           for i in range(0, len(n), bs)])
        return p.numpy()

    x_num, x_cat, y_tr = xn[tr], xc[tr], yt[tr]

    def train_epoch():
        net.train()
        perm = torch.randperm(n_tr)
        for i in range(0, n_tr, a.batch):
            idx = perm[i:i + a.batch]
            if len(idx) < 2:
                continue
            loss = loss_fn(forward(x_num[idx], x_cat[idx]), y_tr[idx])
            for o in opts:
                o.zero_grad(set_to_none=True)
            loss.backward()
            for o in opts:
                o.step()

    return train_loop(a, cross, net, train_epoch, predict, n_tr, y[va], y[te], va, te, info)


def train_loop(a, cross, net, train_epoch, predict, n, yv, yte, va, te, info):
    """Epochs of train_epoch() with the reference's per-epoch record and early stopping."""
    epochs, best_auc, best_epoch, best_state = [], -1.0, 0, None
    for ep in range(a.epochs):
        t0 = time.time()
        train_epoch()
        dt = time.time() - t0
        t1 = time.time()
        pv = predict(va)
        pred_s = time.time() - t1
        auc = float(roc_auc_score(yv, pv))
        epochs.append({"epoch": ep + 1, "train_s": round(dt, 3),
                       "train_samples_per_s": round(n / dt, 1), "val_auc": round(auc, 5),
                       "val_predict_samples_per_s": round(len(yv) / pred_s, 1),
                       "t": round(time.time() - T_START, 3)})
        log(dict(cross=cross, **epochs[-1]))
        if auc > best_auc:
            best_auc, best_epoch = auc, ep + 1
            best_state = copy.deepcopy(net.state_dict())
        elif a.patience and ep + 1 - best_epoch >= a.patience:
            break
    if a.patience and best_state is not None:
        net.load_state_dict(best_state)
    test_auc = float(roc_auc_score(yte, predict(te)))
    return dict(info, epochs=epochs, best_epoch=best_epoch, test_auc=round(test_auc, 5))


def run_deepctr(a, cross, data, info):
    from deepctr_torch.inputs import DenseFeat, SparseFeat
    from deepctr_torch.models import DCN, DCNMix
    import deepctr_torch
    num, cat, y, cards, sizes = data
    info["deepctr_torch"] = deepctr_torch.__version__
    n_tr, n_va = sizes[0], sizes[1]
    widths = widths_of(cards)
    cols = ([SparseFeat(f"C{j}", cards[j], embedding_dim=widths[j]) for j in range(26)]
            + [DenseFeat(f"I{j}", 1) for j in range(num.shape[1])])

    def x_of(s):
        d = {f"C{j}": cat[s, j] for j in range(26)}
        d.update({f"I{j}": num[s, j] for j in range(num.shape[1])})
        return d

    common = dict(dnn_hidden_units=(128, 64, 32), dnn_dropout=0.25, seed=a.seed, device="cpu")
    if cross in ("vector", "matrix"):
        model = DCN(cols, cols, cross_num=2, cross_parameterization=cross, **common)
        info["model"] = f"deepctr_torch DCN(cross_parameterization={cross!r})"
    elif cross == "mix":
        model = DCNMix(cols, cols, cross_num=2, low_rank=32, num_experts=4, **common)
        info["model"] = "deepctr_torch DCNMix(low_rank=32, num_experts=4)"
    else:
        raise SystemExit("torch_peer: DeepCTR-Torch has no low-rank cross without experts")
    model.compile(torch.optim.Adam(model.parameters(), lr=0.002), "binary_crossentropy")
    tr, va, te = slice(0, n_tr), slice(n_tr, n_tr + n_va), slice(n_tr + n_va, len(y))
    xtr, xva, xte = x_of(tr), x_of(va), x_of(te)
    predict = lambda s: model.predict(xva if s == va else xte, batch_size=8192)  # noqa: E731
    return train_loop(a, cross, model,
                      lambda: model.fit(xtr, y[tr], batch_size=a.batch, epochs=1, verbose=0,
                                        shuffle=True),
                      predict, n_tr, y[va], y[te], va, te, info)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("train")
    ap.add_argument("--valid", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--impl", required=True, choices=["tuned", "torchrec", "deepctr"])
    ap.add_argument("--cross", default="matrix", help="comma-separated: vector,matrix,mix,lowrank")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    ap.add_argument("--compile", action="store_true")
    a = ap.parse_args()
    crosses = a.cross.split(",")
    for c in crosses:
        if c not in ("vector", "matrix", "mix", "lowrank"):
            ap.error(f"--cross: unknown cross type {c!r}")
    # The summaries alone go to standard output: libraries' stray prints (deepctr_torch's
    # version check prints from a thread, at any time) go to standard error.
    results, sys.stdout = sys.stdout, sys.stderr
    torch.set_num_threads(a.threads)
    t0 = time.time()
    num, cat, y, cards, sizes, load_s, prep_s = load([a.train, a.valid, a.test], a.seed)
    ingest_s = time.time() - t0
    data = (num, cat, y, cards, sizes)
    for cross in crosses:
        info = {"impl": a.impl, "torch": torch.__version__, "threads": a.threads, "cross": cross,
                "rows": len(y), "train_rows": sizes[0], "load_s": round(load_s, 2),
                "prep_s": round(prep_s, 2), "ingest_s": round(ingest_s, 2)}
        run = run_deepctr if a.impl == "deepctr" else run_shell
        out = run(a, cross, data, info)
        out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(out), file=results, flush=True)


if __name__ == "__main__":
    main()
