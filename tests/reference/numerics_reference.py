"""Independent reference for kindling's hand-written training numerics: AdamW (bias correction,
decoupled weight decay), SGD with momentum and Nesterov (coupled L2 weight decay), global-norm and
value clipping of gradients, label smoothing, class-weighted cross-entropy and gradient
accumulation. Nothing here reads or imitates kindling's code: the formulas are the textbook ones
(Kingma & Ba 2015, Loshchilov & Hutter 2019, Sutskever et al. 2013, as PyTorch implements them),
the cross-entropy gradient is derived by hand (softmax minus the target distribution; checked
against finite differences below), and everything runs in float64 with numpy only.

The problem is a linear head (logits = x @ W + b, W [features, classes] as burn stores it) on six
fixed examples. Every case runs two optimiser steps; the fixture records the losses before each
step and the parameters after each. Before writing, the script checks that the fixture is fit to
test with: the same computation in float32 stays far inside the tolerance, and each "mutant" (a
plausible mistake: no bias correction, decay on biases, per-tensor clipping, ...) lands far outside
it, so the Rust tests (tests/numerics.rs) can fail.

Regenerate (a throwaway venv with numpy is enough; commit the JSON):

    python3 -m venv /tmp/npvenv && /tmp/npvenv/bin/pip install numpy
    /tmp/npvenv/bin/python tests/reference/numerics_reference.py [OUT.json]

OUT defaults to tests/fixtures/numerics_reference.json next to this script's folder.
"""
import json
import pathlib
import sys

import numpy as np

WEIGHT = "head.layers.0.weight"
BIAS = "head.layers.0.bias"
# What the Rust tests allow per value: |kindling - numpy| <= ABS + REL * |numpy|.
ABS, REL = 1e-5, 1e-4
# A mutant must miss the reference by at least this many tolerances somewhere.
MUTANT_MARGIN = 20.0
# The float32 rerun must stay within this fraction of the tolerance.
F32_FRACTION = 0.05


def f32(a):
    """Rounds to float32 and back, so that both sides start from identical values."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def make_problem():
    rng = np.random.default_rng(20261129)
    n, features, classes = 6, 4, 3
    x = f32(rng.normal(0.0, 1.0, size=(n, features)))
    y = np.array([0, 1, 0, 2, 1, 0])  # unbalanced: 3, 2 and 1 examples
    counts = np.bincount(y, minlength=classes)
    # kindling's `balance: weighted_loss` rule: n / (classes * n_class).
    class_weights = f32(n / (classes * counts))
    w0 = f32(rng.uniform(-0.6, 0.6, size=(features, classes)))
    b0 = f32(rng.uniform(-0.3, 0.3, size=(classes,)))
    return dict(x=x, y=y, class_weights=class_weights, w0=w0, b0=b0, classes=classes)


# ---------------------------------------------------------------- loss and its gradient


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def per_example_loss(w, b, x, y, smoothing):
    """Cross-entropy against the smoothed target q = (1-e)*onehot(y) + e/K."""
    logp = log_softmax(x @ w + b)
    k = logp.shape[1]
    q = (1.0 - smoothing) * np.eye(k, dtype=x.dtype)[y] + smoothing / k
    return -(q * logp).sum(axis=1)


def example_weights(x, y, class_weights):
    if class_weights is None:
        return np.full(len(y), 1.0 / len(y), dtype=x.dtype)
    w = class_weights[y]
    return w / w.sum()


def loss_and_grads(w, b, x, y, smoothing, class_weights, mutant):
    """Batch loss sum_i c_i l_i with c_i = 1/n (plain mean) or w_{y_i} / sum_j w_{y_j}, and its
    gradient: dl_i/dz_i = softmax(z_i) - q_i, so dW = x^T G and db = sum_i G_i, G_i = c_i (p_i - q_i)."""
    k = w.shape[1]
    if mutant == "smoothing_over_other_classes":
        # The other common convention: e spread over the K-1 wrong classes only.
        q = np.full((len(y), k), smoothing / (k - 1), dtype=x.dtype)
        q[np.arange(len(y)), y] = 1.0 - smoothing
        logp = log_softmax(x @ w + b)
        per = -(q * logp).sum(axis=1)
    else:
        per = per_example_loss(w, b, x, y, smoothing)
        q = (1.0 - smoothing) * np.eye(k, dtype=x.dtype)[y] + smoothing / k
    c = example_weights(x, y, class_weights)
    if mutant == "weighted_sum_over_n" and class_weights is not None:
        c = class_weights[y] / len(y)
    p = np.exp(log_softmax(x @ w + b))
    g = c[:, None] * (p - q)
    return per, float((c * per).sum()), {WEIGHT: x.T @ g, BIAS: g.sum(axis=0)}


def check_gradient(problem):
    """Central finite differences against the analytic gradient (smoothing and weights on)."""
    x, y, cw = problem["x"], problem["y"], problem["class_weights"]
    w, b = problem["w0"], problem["b0"]
    _, _, g = loss_and_grads(w, b, x, y, 0.1, cw, None)
    h = 1e-6
    for name, p in ((WEIGHT, w), (BIAS, b)):
        for idx in np.ndindex(p.shape):
            plus, minus = p.copy(), p.copy()
            plus[idx] += h
            minus[idx] -= h
            args = lambda q: (q, b) if name == WEIGHT else (w, q)
            lp = loss_and_grads(*args(plus), x, y, 0.1, cw, None)[1]
            lm = loss_and_grads(*args(minus), x, y, 0.1, cw, None)[1]
            numeric = (lp - lm) / (2 * h)
            assert abs(numeric - g[name][idx]) < 1e-8, (name, idx, numeric, g[name][idx])


# ---------------------------------------------------------------- optimisers and clipping


def is_matrix(p):
    return p.ndim >= 2


class AdamW:
    """Loshchilov & Hutter's AdamW as PyTorch writes it: p <- p - lr*wd*p, then the Adam step
    lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)."""

    def __init__(self, beta1, beta2, epsilon, weight_decay, mutant):
        self.b1, self.b2, self.eps, self.wd, self.mutant = beta1, beta2, epsilon, weight_decay, mutant
        self.state = {}

    def step(self, params, grads, lr):
        out = {}
        for name, p in params.items():
            g = grads[name]
            decays = is_matrix(p) or self.mutant == "decay_biases_too"
            wd = self.wd if decays else 0.0
            if self.mutant == "coupled_decay":
                g = g + wd * p
            t, m, v = self.state.get(name, (0, np.zeros_like(p), np.zeros_like(p)))
            t += 1
            m = self.b1 * m + (1 - self.b1) * g
            v = self.b2 * v + (1 - self.b2) * g * g
            self.state[name] = (t, m, v)
            if self.mutant == "no_bias_correction":
                m_hat, v_hat = m, v
            else:
                m_hat, v_hat = m / (1 - self.b1**t), v / (1 - self.b2**t)
            if self.mutant == "epsilon_inside_sqrt":
                denom = np.sqrt(v_hat + self.eps)
            else:
                denom = np.sqrt(v_hat) + self.eps
            if self.mutant != "coupled_decay":
                p = p - lr * wd * p
            out[name] = p - lr * m_hat / denom
        return out


class Sgd:
    """SGD with momentum (Sutskever et al.; PyTorch, dampening 0): g <- g + wd*p (matrices only),
    buf <- g at the first step, else momentum*buf + g; direction = buf, or g + momentum*buf with
    Nesterov; p <- p - lr*direction."""

    def __init__(self, momentum, nesterov, weight_decay, mutant):
        self.mu, self.nesterov, self.wd, self.mutant = momentum, nesterov, weight_decay, mutant
        if mutant == "flip_nesterov":
            self.nesterov = not nesterov
        if mutant == "no_momentum":
            self.mu = 0.0
        self.buf = {}

    def step(self, params, grads, lr):
        out = {}
        for name, p in params.items():
            g = grads[name]
            decays = is_matrix(p) or self.mutant == "decay_biases_too"
            if decays:
                g = g + self.wd * p
            if self.mu > 0:
                if name in self.buf:
                    damp = (1 - self.mu) if self.mutant == "dampening" else 1.0
                    buf = self.mu * self.buf[name] + damp * g
                else:
                    buf = g
                self.buf[name] = buf
                d = g + self.mu * buf if self.nesterov else buf
            else:
                d = g
            out[name] = p - lr * d
        return out


def clip(grads, clip_cfg, mutant, active):
    """Global-norm clipping (all gradients together, coefficient max_norm / (norm + 1e-6) capped
    at 1, as torch.nn.utils.clip_grad_norm_) or elementwise value clipping. Appends to `active`
    whether it changed anything."""
    if clip_cfg is None or mutant == "no_clipping":
        return grads
    if clip_cfg["kind"] == "norm":
        max_norm = clip_cfg["max_norm"]
        if mutant == "per_tensor_norm":
            out = {}
            for name, g in grads.items():
                coef = min(1.0, max_norm / (np.sqrt((g * g).sum()) + 1e-6))
                out[name] = g * coef
            return out
        norm = np.sqrt(sum((g * g).sum() for g in grads.values()))
        coef = min(1.0, max_norm / (norm + 1e-6))
        active.append(dict(global_norm=float(norm), coefficient=float(coef)))
        return {name: g * coef for name, g in grads.items()}
    value = clip_cfg["value"]
    flat = np.concatenate([g.ravel() for g in grads.values()])
    clipped = int((np.abs(flat) > value).sum())
    # No gradient within 2% of the threshold, so float32 rounding cannot flip a decision.
    margin = float(np.min(np.abs(np.abs(flat) - value)) / value)
    active.append(dict(clipped=clipped, of=int(flat.size), nearest_relative=margin))
    return {name: np.clip(g, -value, value) for name, g in grads.items()}


# ---------------------------------------------------------------- the cases


def run_case(case, problem, dtype=np.float64, mutant=None):
    cast = lambda a: np.asarray(a, dtype=dtype)
    x, w0, b0 = cast(problem["x"]), cast(problem["w0"]), cast(problem["b0"])
    y = problem["y"]
    cfg = case["config"]
    balance = cfg.get("balance") == "weighted_loss" and mutant != "unweighted"
    cw = cast(problem["class_weights"]) if balance else None
    smoothing = 0.0 if mutant == "no_smoothing" else cfg.get("label_smoothing", 0.0)
    wd = 0.0 if mutant == "no_weight_decay" else cfg.get("weight_decay", 0.0)
    opt_cfg = cfg["optimizer"]
    if opt_cfg["kind"] == "adamw":
        opt = AdamW(opt_cfg["beta1"], opt_cfg["beta2"], opt_cfg["epsilon"], wd, mutant)
    else:
        opt = Sgd(opt_cfg["momentum"], opt_cfg["nesterov"], wd, mutant)
    batches = case["batches"]
    if mutant == "one_full_batch":
        batches = [sorted(i for b in batches for i in b)]
    params = {WEIGHT: w0, BIAS: b0}
    steps, clip_log = [], []
    for _ in range(case["steps"]):
        losses, total = [], None
        for batch in batches:
            per, loss, g = loss_and_grads(
                params[WEIGHT], params[BIAS], x[batch], y[batch], smoothing, cw, mutant
            )
            losses.append(dict(per_example=per.tolist(), loss=loss))
            total = g if total is None else {k: total[k] + g[k] for k in g}
        scale = 1.0 if mutant == "sum_over_batches" else 1.0 / len(batches)
        grads = {k: v * scale for k, v in total.items()}
        grads = clip(grads, cfg.get("grad_clip"), mutant, clip_log)
        params = opt.step(params, grads, case["lr"])
        steps.append(
            dict(losses=losses, params_after={k: v.ravel().tolist() for k, v in params.items()})
        )
    return steps, clip_log


ALL = [[0, 1, 2, 3, 4, 5]]

CASES = {
    "adamw": dict(
        config=dict(
            optimizer=dict(kind="adamw", beta1=0.8, beta2=0.95, epsilon=1e-3),
            weight_decay=0.2,
        ),
        lr=0.1,
        batches=ALL,
        mutants=[
            "no_bias_correction",
            "no_weight_decay",
            "decay_biases_too",
            "coupled_decay",
            "epsilon_inside_sqrt",
        ],
    ),
    "sgd_momentum": dict(
        config=dict(optimizer=dict(kind="sgd", momentum=0.9, nesterov=False), weight_decay=0.0),
        lr=0.5,
        batches=ALL,
        mutants=["no_momentum", "flip_nesterov", "dampening"],
    ),
    "sgd_nesterov": dict(
        config=dict(optimizer=dict(kind="sgd", momentum=0.9, nesterov=True), weight_decay=0.2),
        lr=0.5,
        batches=ALL,
        mutants=["flip_nesterov", "no_weight_decay", "decay_biases_too", "dampening"],
    ),
    "adamw_clip_norm": dict(
        config=dict(
            optimizer=dict(kind="adamw", beta1=0.8, beta2=0.95, epsilon=1e-2),
            weight_decay=0.2,
            grad_clip=dict(kind="norm", max_norm=0.05),
        ),
        lr=0.1,
        batches=ALL,
        mutants=["no_clipping", "per_tensor_norm"],
    ),
    "sgd_clip_value": dict(
        config=dict(
            optimizer=dict(kind="sgd", momentum=0.9, nesterov=False),
            weight_decay=0.0,
            grad_clip=dict(kind="value", value=0.06),
        ),
        lr=0.5,
        batches=ALL,
        mutants=["no_clipping"],
    ),
    "label_smoothing": dict(
        config=dict(
            optimizer=dict(kind="sgd", momentum=0.0, nesterov=False),
            weight_decay=0.0,
            label_smoothing=0.1,
        ),
        lr=0.5,
        batches=ALL,
        mutants=["no_smoothing", "smoothing_over_other_classes"],
    ),
    "class_weighted": dict(
        config=dict(
            optimizer=dict(kind="sgd", momentum=0.0, nesterov=False),
            weight_decay=0.0,
            balance="weighted_loss",
        ),
        lr=0.5,
        # Not the whole set: over all six examples the balancing weights sum to n, which would
        # hide a division by n instead of by the sum of the weights.
        batches=[[1, 2, 3, 4]],
        mutants=["unweighted", "weighted_sum_over_n"],
    ),
    # Unequal batches, so that the average of the two batch means is not the mean over examples.
    "accumulation": dict(
        config=dict(
            optimizer=dict(kind="sgd", momentum=0.0, nesterov=False),
            weight_decay=0.0,
            accumulation_steps=2,
        ),
        lr=0.5,
        batches=[[0, 3], [1, 2, 4, 5]],
        mutants=["sum_over_batches", "one_full_batch"],
    ),
}


def worst_in_tolerances(got, want):
    """Largest |got - want| / (ABS + REL |want|) over every parameter after every step."""
    worst = 0.0
    for g_step, w_step in zip(got, want):
        for name in w_step["params_after"]:
            g = np.asarray(g_step["params_after"][name], dtype=np.float64)
            w = np.asarray(w_step["params_after"][name])
            worst = max(worst, float(np.max(np.abs(g - w) / (ABS + REL * np.abs(w)))))
    return worst


def main():
    here = pathlib.Path(__file__).resolve().parent
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent / "fixtures" / "numerics_reference.json"
    problem = make_problem()
    check_gradient(problem)
    fixture = dict(
        about="Reference for tests/numerics.rs, written by tests/reference/numerics_reference.py "
        "(numpy, float64). Weight [features, classes] and x [examples, features] flattened row-major.",
        tolerance=dict(abs=ABS, rel=REL),
        problem=dict(
            examples=len(problem["y"]),
            features=problem["x"].shape[1],
            classes=problem["classes"],
            x=problem["x"].ravel().tolist(),
            y=problem["y"].tolist(),
            class_weights=problem["class_weights"].tolist(),
            initial={WEIGHT: problem["w0"].ravel().tolist(), BIAS: problem["b0"].ravel().tolist()},
        ),
        cases={},
    )
    for name, case in CASES.items():
        case = dict(case, steps=2)
        steps, clip_log = run_case(case, problem)
        # Fit to test with: float32 lands well inside the tolerance ...
        steps32, _ = run_case(case, problem, dtype=np.float32)
        f32_err = worst_in_tolerances(steps32, steps)
        assert f32_err < F32_FRACTION, f"{name}: float32 rerun at {f32_err:.3f} tolerances"
        # ... clipping is active at both steps, value clipping far from its threshold ...
        if "grad_clip" in case["config"]:
            assert len(clip_log) == 2, clip_log
            for entry in clip_log:
                if "coefficient" in entry:
                    assert entry["coefficient"] < 0.9, (name, entry)
                else:
                    assert 0 < entry["clipped"] < entry["of"], (name, entry)
                    assert entry["nearest_relative"] > 0.02, (name, entry)
        # ... and every plausible mistake lands far outside it.
        margins = {}
        for mutant in case["mutants"]:
            wrong, _ = run_case(case, problem, mutant=mutant)
            margins[mutant] = worst_in_tolerances(wrong, steps)
            assert margins[mutant] > MUTANT_MARGIN, f"{name}: mutant {mutant} only {margins[mutant]:.1f} tolerances off"
        print(
            f"{name:16s} float32 {f32_err:.4f} tol; mutants "
            + ", ".join(f"{m} {v:.0f}" for m, v in margins.items())
            + (f"; clipping {clip_log}" if clip_log else "")
        )
        fixture["cases"][name] = dict(
            config=case["config"],
            lr=case["lr"],
            batches=case["batches"],
            steps=steps,
            clipping=clip_log,
            mutants_off_by_tolerances=margins,
        )
    out.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
