"""Independent baselines on kindling's frozen features, computed outside kindling with numpy and
scipy on the same split (`kindling train --features` writes features, labels and split):

- logistic regression: multinomial, L2-regularised as scikit-learn's default (C = 1: minimise
  C·Σ cross-entropy + ½‖W‖², the bias not penalised), solved to convergence with L-BFGS;
- a Teachable-Machine-style head: Dense(100, ReLU) → Dense(classes, softmax), Adam at 0.001,
  batch 16, 50 epochs (the settings Teachable Machine's image projects train with).
"""

import json
import struct

import numpy as np
from scipy.optimize import minimize

DTYPES = {"F32": np.float32, "I64": np.int64}


def read_features(path):
    """The safetensors file `kindling train --features` writes: features, labels, train, validation."""
    data = open(path, "rb").read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = data[8 + size + start:8 + size + end]
        out[name] = np.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def scores(actual, predicted, classes):
    """Accuracy and macro-F1 (classes without examples or predictions count as F1 0, as in kindling)."""
    accuracy = float(np.mean(actual == predicted))
    f1s = []
    for c in range(classes):
        tp = np.sum((predicted == c) & (actual == c))
        fp = np.sum((predicted == c) & (actual != c))
        fn = np.sum((predicted != c) & (actual == c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return accuracy, float(np.mean(f1s))


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def logistic_regression(x, y, classes, c=1.0):
    """Weights (dim+1, classes) of the converged L2-regularised multinomial logistic regression."""
    x = x.astype(np.float64)
    n, dim = x.shape
    onehot = np.eye(classes)[y]
    xb = np.hstack([x, np.ones((n, 1))])

    def objective(flat):
        w = flat.reshape(dim + 1, classes)
        p = _softmax(xb @ w)
        loss = -c * np.sum(onehot * np.log(np.clip(p, 1e-300, None))) + 0.5 * np.sum(w[:-1] ** 2)
        grad = c * xb.T @ (p - onehot)
        grad[:-1] += w[:-1]
        return loss, grad.ravel()

    result = minimize(objective, np.zeros((dim + 1) * classes), jac=True, method="L-BFGS-B",
                      options={"maxiter": 10_000, "gtol": 1e-6})
    return result.x.reshape(dim + 1, classes), result


def predict_linear(w, x):
    return np.argmax(np.hstack([x, np.ones((len(x), 1))]) @ w, axis=1)


def dense_head(x, y, classes, seed, hidden=100, epochs=50, batch=16, lr=1e-3):
    """Teachable Machine's head, trained with Adam; returns a predict function."""
    rng = np.random.default_rng(seed)
    n, dim = x.shape
    # Keras' default init: Glorot uniform, zero biases.
    def glorot(fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out))
    params = [glorot(dim, hidden), np.zeros(hidden), glorot(hidden, classes), np.zeros(classes)]
    moments = [np.zeros_like(p) for p in params]
    velocities = [np.zeros_like(p) for p in params]
    onehot = np.eye(classes)[y]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            w1, b1, w2, b2 = params
            h = np.maximum(x[idx] @ w1 + b1, 0)
            p = _softmax(h @ w2 + b2)
            d_logits = (p - onehot[idx]) / len(idx)
            d_h = (d_logits @ w2.T) * (h > 0)
            grads = [x[idx].T @ d_h, d_h.sum(0), h.T @ d_logits, d_logits.sum(0)]
            step += 1
            for i, g in enumerate(grads):
                moments[i] = 0.9 * moments[i] + 0.1 * g
                velocities[i] = 0.999 * velocities[i] + 0.001 * g * g
                m_hat = moments[i] / (1 - 0.9 ** step)
                v_hat = velocities[i] / (1 - 0.999 ** step)
                params[i] -= lr * m_hat / (np.sqrt(v_hat) + 1e-7)
    w1, b1, w2, b2 = params
    return lambda z: np.argmax(np.maximum(z @ w1 + b1, 0) @ w2 + b2, axis=1)


def run_baselines(features_file, seed):
    """Both baselines on one features file: {name: (accuracy, macro_f1, seconds)}."""
    import time
    f = read_features(features_file)
    x, y = f["features"].astype(np.float64), f["labels"]
    train, val = f["train"], f["validation"]
    classes = int(y.max()) + 1
    # Scored on the held-out test set when the file has one (`--test`), else on validation.
    if "test_features" in f:
        x_score, y_score = f["test_features"].astype(np.float64), f["test_labels"]
    else:
        x_score, y_score = x[val], y[val]
    out = {}
    start = time.perf_counter()
    w, result = logistic_regression(x[train], y[train], classes)
    if not result.success:
        raise SystemExit(f"logistic regression did not converge: {result.message}")
    out["logistic regression (numpy, C=1)"] = (*scores(y_score, predict_linear(w, x_score), classes),
                                               time.perf_counter() - start)
    start = time.perf_counter()
    predict = dense_head(x[train], y[train], classes, seed)
    out["Dense(100) head (numpy, Teachable Machine's)"] = (*scores(y_score, predict(x_score), classes),
                                                           time.perf_counter() - start)
    return out
