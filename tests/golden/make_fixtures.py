#!/usr/bin/python3
"""Golden fixtures for deepcross: an independent PyTorch statement of the model (SPEC.md "Model").

Writes tests/testdata/golden/<cross>_<structure>_c<classes>.bin (16 model cases), adam.bin and
adam_nowd.bin. The format and the record names are documented in tests/golden/README.md and read
by tests/golden/fixture.h. Deterministic: float32, one thread, fixed seeds; two runs give
identical bytes.

    /usr/bin/python3 tests/golden/make_fixtures.py            # write fixtures + self-checks
    /usr/bin/python3 tests/golden/make_fixtures.py --out DIR  # write somewhere else

Before writing, the script checks itself: autograd against float64 central finite differences,
the hand-written batch norm and losses against torch.nn.functional, and the xavier std of the
stacked mix tensors against torch's own fan computation.
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "testdata", "golden"))

MAGIC = b"DCFIXT1\n"
DT_F32, DT_I64, DT_F64, DT_BYTES = 0, 1, 2, 3

BN_EPS = 1e-5
BN_MOMENTUM = 0.1

BASE_CONFIG = {
    "num_numeric": 4,
    "vocab_sizes": [4, 12, 30, 100, 7],
    "embed_max": 8,
    "cross_layers": 2,
    "low_rank": 5,
    "experts": 3,
    "mlp": [16, 8],
    "dropout": 0.0,
    "batch": 64,
}
CROSSES = ["vector", "matrix", "mix", "lowrank"]
STRUCTURES = ["stacked", "parallel"]
CLASSES = [1, 3]


# ----------------------------------------------------------------------------- file writer
class FixtureWriter:
    """Collects records: u32 name_len, name, u8 dtype, u32 ndim, i64 dims[ndim], data (LE)."""

    def __init__(self):
        self.parts = [MAGIC]
        self.names = set()

    def _header(self, name, dtype, dims):
        assert name not in self.names, name
        self.names.add(name)
        raw = name.encode("utf-8")
        self.parts.append(struct.pack("<I", len(raw)) + raw)
        self.parts.append(struct.pack("<BI", dtype, len(dims)))
        self.parts.append(struct.pack("<%dq" % len(dims), *dims))

    def tensor(self, name, t, dtype=DT_F32):
        t = t.detach().cpu().contiguous()
        np_dtype = {DT_F32: "<f4", DT_I64: "<i8", DT_F64: "<f8"}[dtype]
        self._header(name, dtype, list(t.shape))
        self.parts.append(t.numpy().astype(np_dtype).tobytes())

    def raw(self, name, data):
        self._header(name, DT_BYTES, [len(data)])
        self.parts.append(data)

    def json(self, name, obj):
        self.raw(name, json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8"))

    def save(self, path):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"".join(self.parts))
        os.replace(tmp, path)


# ----------------------------------------------------------------------------- initialisation
def embed_width(c, embed_max):
    """d_j = min(max(floor(sqrt(c_j)), 2), embed_max)."""
    return min(max(math.isqrt(c), 2), embed_max)


def model_width(cfg):
    return cfg["num_numeric"] + sum(embed_width(c, cfg["embed_max"]) for c in cfg["vocab_sizes"])


def xavier_fans(shape):
    """torch's convention: dim 1 is 'in', dim 0 is 'out', further dims multiply both."""
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def xavier_std(shape):
    """xavier_normal (gain 1): std = sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = xavier_fans(shape)
    return math.sqrt(2.0 / (fan_in + fan_out))


def uniform(g, shape, bound):
    """U(-bound, bound)."""
    return (torch.rand(shape, generator=g, dtype=torch.float32) * 2.0 - 1.0) * bound


def normal(g, shape, std=1.0, mean=0.0):
    return torch.randn(shape, generator=g, dtype=torch.float32) * std + mean


def init_params(cfg, g):
    """All parameters, in record order, as float32 leaves. Constant starts get N(0, 0.1) noise."""
    D, L, r, K = model_width(cfg), cfg["cross_layers"], cfg["low_rank"], cfg["experts"]
    noise = 0.1
    p = {}
    for j, c in enumerate(cfg["vocab_sizes"]):
        p["embedding.%d" % j] = normal(g, (c, embed_width(c, cfg["embed_max"])))  # N(0, 1)
    bound = 1.0 / math.sqrt(D)
    for l in range(L):
        pre = "cross.%d." % l
        if cfg["cross"] == "vector":
            p[pre + "w"] = uniform(g, (D,), bound)
            p[pre + "b"] = normal(g, (D,), noise)  # SPEC: zeros
        elif cfg["cross"] == "matrix":
            p[pre + "W"] = uniform(g, (D, D), bound)  # [out, in], nn.Linear default
            p[pre + "b"] = uniform(g, (D,), bound)
        elif cfg["cross"] == "lowrank":
            p[pre + "U"] = normal(g, (D, r), xavier_std((D, r)))
            p[pre + "V"] = normal(g, (D, r), xavier_std((D, r)))
            p[pre + "b"] = normal(g, (D,), noise)  # SPEC: zeros
        elif cfg["cross"] == "mix":
            p[pre + "U"] = normal(g, (K, D, r), xavier_std((K, D, r)))
            p[pre + "V"] = normal(g, (K, D, r), xavier_std((K, D, r)))
            p[pre + "C"] = normal(g, (K, r, r), xavier_std((K, r, r)))
            p[pre + "b"] = normal(g, (D,), noise)  # SPEC: zeros
        else:
            raise ValueError(cfg["cross"])
    if cfg["cross"] == "mix":
        p["cross.gate"] = uniform(g, (K, D), bound)  # K gates of nn.Linear(D, 1, bias=False)
    d_in = D
    for i, h in enumerate(cfg["mlp"]):
        b = 1.0 / math.sqrt(d_in)
        p["mlp.%d.weight" % i] = uniform(g, (h, d_in), b)
        p["mlp.%d.bias" % i] = uniform(g, (h,), b)
        p["mlp.%d.bn.weight" % i] = normal(g, (h,), noise, 1.0)  # SPEC: ones
        p["mlp.%d.bn.bias" % i] = normal(g, (h,), noise)  # SPEC: zeros
        d_in = h
    last_in = cfg["mlp"][-1] + (D if cfg["structure"] == "parallel" else 0)
    n_out = 1 if cfg["classes"] == 1 else cfg["classes"]
    b = 1.0 / math.sqrt(last_in)
    p["out.weight"] = uniform(g, (n_out, last_in), b)
    p["out.bias"] = uniform(g, (n_out,), b)
    for t in p.values():
        t.requires_grad_(True)
    return p


def init_bn_state(cfg, dtype=torch.float32):
    return [{"mean": torch.zeros(h, dtype=dtype), "var": torch.ones(h, dtype=dtype)}
            for h in cfg["mlp"]]


# ----------------------------------------------------------------------------- model
def cross_network(p, cfg, x0):
    """x_{l+1} from x_l, l = 0..L-1, starting at x0. Shapes: x0, x (B, D)."""
    x = x0
    for l in range(cfg["cross_layers"]):
        pre = "cross.%d." % l
        b = p[pre + "b"]
        if cfg["cross"] == "vector":
            # x_{l+1} = x0 * (x_l . w_l) + b_l + x_l
            s = (x * p[pre + "w"]).sum(dim=1, keepdim=True)  # (B, 1)
            x = x0 * s + b + x
        elif cfg["cross"] == "matrix":
            # x_{l+1} = x0 * (x_l W_l^T + b_l) + x_l
            x = x0 * (torch.matmul(x, p[pre + "W"].t()) + b) + x
        elif cfg["cross"] == "lowrank":
            # x_{l+1} = x0 * ((x_l V_l) U_l^T + b_l) + x_l
            x = x0 * (torch.matmul(torch.matmul(x, p[pre + "V"]), p[pre + "U"].t()) + b) + x
        else:
            # mix: gate = softmax_k(x_l . G_k); a = tanh(x_l V_k); c = tanh(a C_k);
            # e_k = x0 * (c U_k^T + b); x_{l+1} = sum_k gate_k e_k + x_l
            gate = torch.softmax(torch.einsum("bd,kd->bk", x, p["cross.gate"]), dim=1)
            a = torch.tanh(torch.einsum("bd,kdr->bkr", x, p[pre + "V"]))
            c = torch.tanh(torch.einsum("bkr,krs->bks", a, p[pre + "C"]))
            e = x0.unsqueeze(1) * (torch.einsum("bks,kds->bkd", c, p[pre + "U"]) + b)
            x = torch.einsum("bk,bkd->bd", gate, e) + x
    return x


def batch_norm(h, gamma, beta, state, training):
    """Training: batch mean, biased var to normalise, running stats updated with unbiased var."""
    if training:
        n = h.shape[0]
        mean = h.mean(dim=0)
        var = ((h - mean) ** 2).mean(dim=0)
        with torch.no_grad():
            state["mean"] = (1.0 - BN_MOMENTUM) * state["mean"] + BN_MOMENTUM * mean
            state["var"] = (1.0 - BN_MOMENTUM) * state["var"] + BN_MOMENTUM * var * (n / (n - 1))
    else:
        mean, var = state["mean"], state["var"]
    return (h - mean) / torch.sqrt(var + BN_EPS) * gamma + beta


def mlp(p, cfg, x, bn_state, training):
    """Linear -> BatchNorm1d -> ReLU -> Dropout (p = 0 here, so identity)."""
    assert cfg["dropout"] == 0.0
    for i in range(len(cfg["mlp"])):
        pre = "mlp.%d." % i
        h = torch.matmul(x, p[pre + "weight"].t()) + p[pre + "bias"]
        h = batch_norm(h, p[pre + "bn.weight"], p[pre + "bn.bias"], bn_state[i], training)
        x = torch.clamp_min(h, 0.0)
    return x


def forward(p, cfg, x_num, x_cat, bn_state, training):
    parts = [x_num] + [p["embedding.%d" % j][x_cat[:, j]] for j in range(len(cfg["vocab_sizes"]))]
    x0 = torch.cat(parts, dim=1)
    xl = cross_network(p, cfg, x0)
    if cfg["structure"] == "stacked":
        top = mlp(p, cfg, xl, bn_state, training)
    else:
        top = torch.cat([mlp(p, cfg, x0, bn_state, training), xl], dim=1)  # deep first
    logits = torch.matmul(top, p["out.weight"].t()) + p["out.bias"]
    return x0, xl, logits


def loss_fn(logits, y, classes):
    if classes == 1:
        # mean BCE with logits: max(z, 0) - z y + log(1 + exp(-|z|))
        z = logits[:, 0]
        return (torch.clamp_min(z, 0.0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()
    # mean softmax cross-entropy: logsumexp(z) - z_y
    idx = y.long()
    return (torch.logsumexp(logits, dim=1) - logits.gather(1, idx[:, None])[:, 0]).mean()


# ----------------------------------------------------------------------------- cases
def case_config(cross, structure, classes):
    cfg = dict(BASE_CONFIG)
    cfg.update(cross=cross, structure=structure, classes=classes)
    return cfg


def case_inputs(cfg, g):
    B = cfg["batch"]
    x_num = torch.rand((B, cfg["num_numeric"]), generator=g, dtype=torch.float32)
    x_cat = torch.stack([torch.randint(0, c, (B,), generator=g, dtype=torch.int64)
                         for c in cfg["vocab_sizes"]], dim=1)
    if cfg["classes"] == 1:
        y = (torch.rand((B,), generator=g, dtype=torch.float32) < 0.3).to(torch.float32)
    else:
        y = torch.randint(0, cfg["classes"], (B,), generator=g, dtype=torch.int64).to(torch.float32)
    return x_num, x_cat, y


def build_case(index, cross, structure, classes):
    cfg = case_config(cross, structure, classes)
    g = torch.Generator().manual_seed(20240 + index)
    p = init_params(cfg, g)
    x_num, x_cat, y = case_inputs(cfg, g)
    return cfg, p, x_num, x_cat, y


def run_case(cfg, p, x_num, x_cat, y):
    bn = init_bn_state(cfg)
    before = [{k: v.clone() for k, v in s.items()} for s in bn]
    x0, xl, logits = forward(p, cfg, x_num, x_cat, bn, training=True)
    loss = loss_fn(logits, y, cfg["classes"])
    for t in p.values():
        t.grad = None
    loss.backward()
    with torch.no_grad():
        _, _, eval_logits = forward(p, cfg, x_num, x_cat, bn, training=False)
    return dict(before=before, after=bn, x0=x0, xl=xl, logits=logits, loss=loss,
                eval_logits=eval_logits)


def write_case(path, cfg, p, x_num, x_cat, y, r):
    w = FixtureWriter()
    w.json("config", cfg)
    w.tensor("x_num", x_num)
    w.tensor("x_cat", x_cat, DT_I64)
    w.tensor("y", y)
    for name, t in p.items():
        w.tensor("param." + name, t)
        w.tensor("grad." + name, t.grad)
    for i in range(len(cfg["mlp"])):
        w.tensor("buffer.mlp.%d.bn.running_mean" % i, r["before"][i]["mean"])
        w.tensor("buffer.mlp.%d.bn.running_var" % i, r["before"][i]["var"])
    for i in range(len(cfg["mlp"])):
        w.tensor("after.mlp.%d.bn.running_mean" % i, r["after"][i]["mean"])
        w.tensor("after.mlp.%d.bn.running_var" % i, r["after"][i]["var"])
    w.tensor("x0", r["x0"])
    w.tensor("cross_out", r["xl"])
    w.tensor("logits", r["logits"])
    w.tensor("loss", r["loss"].reshape(1))
    w.tensor("eval_logits", r["eval_logits"])
    w.save(path)


# ----------------------------------------------------------------------------- adam
def adam_fixture(path, weight_decay, seed):
    lr, beta1, beta2, eps, steps = 0.01, 0.9, 0.999, 1e-8, 3
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn((5, 3), generator=g), torch.randn((7,), generator=g)]
    params = [t.clone().requires_grad_(True) for t in params]
    w = FixtureWriter()
    w.json("config", {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
                      "weight_decay": weight_decay, "steps": steps})
    for k, t in enumerate(params):
        w.tensor("param.%d.init" % k, t)
    opt = torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps,
                           weight_decay=weight_decay, foreach=False)
    for step in range(1, steps + 1):
        grads = []
        for t in params:
            gr = torch.randn(t.shape, generator=g).flatten()
            n = gr.numel()
            perm = torch.randperm(n, generator=g)
            gr[perm[0]] = 0.0                      # exact zero
            gr[perm[1]] = 1e3                      # large
            gr[perm[2]] = -1e3
            gr[perm[3]] = 1e-6                     # tiny
            gr[perm[4]] = -1e-6
            if step == 2:
                gr[perm[5]] = 0.0                  # a zero after a non-zero moment
            grads.append(gr.reshape(t.shape))
        opt.zero_grad(set_to_none=True)
        for t, gr in zip(params, grads):
            t.grad = gr.clone()
        opt.step()
        for k, (t, gr) in enumerate(zip(params, grads)):
            w.tensor("grad.%d.step%d" % (k, step), gr)
            w.tensor("param.%d.step%d" % (k, step), t)
    w.save(path)


# ----------------------------------------------------------------------------- self-checks
def check_xavier():
    cfg = case_config("mix", "stacked", 1)
    D, r, K = model_width(cfg), cfg["low_rank"], cfg["experts"]
    for shape, want in [((K, D, r), math.sqrt(2.0 / (D * r + K * r))),
                        ((K, r, r), math.sqrt(2.0 / (r * r + K * r))),
                        ((D, r), math.sqrt(2.0 / (r + D)))]:
        torch_fans = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        got = xavier_std(shape)
        assert xavier_fans(shape) == torch_fans, (shape, xavier_fans(shape), torch_fans)
        assert abs(got - want) < 1e-15, (shape, got, want)
    # Empirical: torch's own xavier_normal_ on a large stacked tensor has the same std.
    torch.manual_seed(7)
    big = torch.nn.init.xavier_normal_(torch.empty(K, D * 50, r))
    want = xavier_std(tuple(big.shape))
    assert abs(big.std().item() / want - 1.0) < 0.02, (big.std().item(), want)
    print("self-check: mix xavier std = sqrt(2/(D*r+K*r)) = %.6f (D=%d r=%d K=%d)"
          % (xavier_std((K, D, r)), D, r, K))


def check_against_torch_functional():
    """Hand-written batch norm and losses agree with torch.nn.functional."""
    g = torch.Generator().manual_seed(11)
    h = torch.randn((64, 16), generator=g, dtype=torch.float64) * 3 + 1
    gamma = torch.randn(16, generator=g, dtype=torch.float64)
    beta = torch.randn(16, generator=g, dtype=torch.float64)
    st = {"mean": torch.zeros(16, dtype=torch.float64), "var": torch.ones(16, dtype=torch.float64)}
    rm, rv = st["mean"].clone(), st["var"].clone()
    mine = batch_norm(h, gamma, beta, st, training=True)
    ref = F.batch_norm(h, rm, rv, gamma, beta, training=True, momentum=BN_MOMENTUM, eps=BN_EPS)
    assert torch.allclose(mine, ref, atol=1e-12), "batch norm (train)"
    assert torch.allclose(st["mean"], rm, atol=1e-12) and torch.allclose(st["var"], rv, atol=1e-12)
    mine = batch_norm(h, gamma, beta, st, training=False)
    ref = F.batch_norm(h, rm, rv, gamma, beta, training=False, eps=BN_EPS)
    assert torch.allclose(mine, ref, atol=1e-12), "batch norm (eval)"
    z = torch.randn((64, 1), generator=g, dtype=torch.float64) * 20
    y = (torch.rand(64, generator=g, dtype=torch.float64) < 0.3).double()
    assert abs(loss_fn(z, y, 1) - F.binary_cross_entropy_with_logits(z[:, 0], y)) < 1e-12
    z = torch.randn((64, 3), generator=g, dtype=torch.float64) * 20
    y = torch.randint(0, 3, (64,), generator=g).double()
    assert abs(loss_fn(z, y, 3) - F.cross_entropy(z, y.long())) < 1e-12
    print("self-check: batch norm and losses match torch.nn.functional")


def check_finite_differences(cfg, p, x_num, x_cat, y, seed):
    """Central differences in float64 against autograd (float64) for a few entries per param;
    the float32 gradients must also agree with the float64 ones."""
    p64 = {k: v.detach().double().requires_grad_(True) for k, v in p.items()}
    xn64 = x_num.double()

    def f(params):
        _, _, logits = forward(params, cfg, xn64, x_cat, init_bn_state(cfg, torch.float64), True)
        return loss_fn(logits, y.double(), cfg["classes"])

    loss = f(p64)
    loss.backward()
    g = torch.Generator().manual_seed(seed)
    step = 1e-6
    worst = 0.0  # largest |fd - autograd|
    for name, t in p64.items():
        grad64 = t.grad
        flat = t.detach().view(-1)
        # Entries with a gradient: embedding rows that the batch touches, etc.
        nz = torch.nonzero(grad64.view(-1)).flatten()
        pool = nz if nz.numel() > 0 else torch.arange(flat.numel())
        picks = pool[torch.randperm(pool.numel(), generator=g)[:3]]
        for i in picks.tolist():
            with torch.no_grad():
                old = flat[i].item()
                flat[i] = old + step
                up = f(p64).item()
                flat[i] = old - step
                down = f(p64).item()
                flat[i] = old
            fd = (up - down) / (2 * step)
            an = grad64.view(-1)[i].item()
            worst = max(worst, abs(fd - an))
            assert abs(fd - an) <= 1e-8 + 1e-6 * abs(an), (name, i, fd, an)
        g32 = p[name].grad.double()
        assert torch.allclose(g32, grad64, rtol=1e-3, atol=1e-5), name
    print("self-check: %s/%s/c%d finite differences ok (worst |fd - autograd| %.1e)"
          % (cfg["cross"], cfg["structure"], cfg["classes"], worst))


# ----------------------------------------------------------------------------- main
def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default %(default)s)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)

    check_xavier()
    check_against_torch_functional()
    index = 0
    for cross in CROSSES:
        for structure in STRUCTURES:
            for classes in CLASSES:
                cfg, p, x_num, x_cat, y = build_case(index, cross, structure, classes)
                r = run_case(cfg, p, x_num, x_cat, y)
                check_finite_differences(cfg, p, x_num, x_cat, y, seed=100 + index)
                name = "%s_%s_c%d.bin" % (cross, structure, classes)
                write_case(os.path.join(args.out, name), cfg, p, x_num, x_cat, y, r)
                print("wrote %s (loss %.6f)" % (name, r["loss"].item()))
                index += 1
    adam_fixture(os.path.join(args.out, "adam.bin"), 0.1, seed=31)
    adam_fixture(os.path.join(args.out, "adam_nowd.bin"), 0.0, seed=32)
    print("wrote adam.bin, adam_nowd.bin")


if __name__ == "__main__":
    main(sys.argv[1:])
