"""Independent reference for kindling's MobileNetV2: a numpy forward pass over the torchvision
weights, read straight from the legacy .pth (no torch, no burn). Run once in a throwaway venv
(numpy only); its output is committed as tests/fixtures/mobilenet_v2_reference.json.

    python mobilenet_v2_reference.py ~/.cache/kindling/weights/mobilenet_v2-b0353104.pth OUT.json
"""
import json
import pickle
import struct
import sys

import numpy as np


def load_legacy_pth(path):
    """torch's legacy (pre-zip) format: magic, protocol, sys info, the state dict pickle with
    persistent storage ids, the list of storage keys, then each storage as u64 count + raw data."""
    storages = {}

    class Storage:
        def __init__(self, key, dtype):
            self.key, self.dtype = key, dtype

    def rebuild(storage, offset, size, stride, *_):
        return ("tensor", storage, offset, tuple(size), tuple(stride))

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if name == "_rebuild_tensor_v2":
                return rebuild
            if name == "FloatStorage":
                return np.float32
            if name == "LongStorage":
                return np.int64
            if module == "collections" and name == "OrderedDict":
                import collections
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"unexpected {module}.{name}")

        def persistent_load(self, pid):
            _, dtype, key, _location, _numel, _view = pid
            storages.setdefault(key, Storage(key, dtype))
            return storages[key]

    with open(path, "rb") as f:
        for _ in range(3):
            pickle.load(f)
        state = Unpickler(f).load()
        keys = pickle.load(f)
        data = {}
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            dtype = storages[key].dtype
            data[key] = np.frombuffer(f.read(count * np.dtype(dtype).itemsize), dtype=dtype)
    out = {}
    for name, (_, storage, offset, size, stride) in state.items():
        flat = data[storage.key]
        itemsize = flat.dtype.itemsize
        out[name] = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * itemsize for s in stride]
        ).copy()
    return out


def conv2d(x, w, stride, groups):
    """x [C, H, W], w [O, C/groups, k, k], padding k//2."""
    c, h, wd = x.shape
    o, cg, k, _ = w.shape
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    ho, wo = (h + 2 * p - k) // stride + 1, (wd + 2 * p - k) // stride + 1
    out = np.zeros((o, ho, wo), dtype=np.float64)
    og = o // groups
    if groups == 1:
        for i in range(k):
            for j in range(k):
                patch = xp[:, i:i + stride * ho:stride, j:j + stride * wo:stride]
                out += np.einsum("oc,chw->ohw", w[:, :, i, j].astype(np.float64), patch)
    else:  # depthwise: groups == channels, one filter per channel
        assert groups == c and cg == 1 and og == 1
        for i in range(k):
            for j in range(k):
                patch = xp[:, i:i + stride * ho:stride, j:j + stride * wo:stride]
                out += w[:, 0, i, j].astype(np.float64)[:, None, None] * patch
    return out


def conv_bn(x, sd, conv, bn, stride=1, groups=1, relu6=True):
    y = conv2d(x, sd[f"{conv}.weight"], stride, groups)
    g, b = sd[f"{bn}.weight"], sd[f"{bn}.bias"]
    m, v = sd[f"{bn}.running_mean"], sd[f"{bn}.running_var"]
    y = (y - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-5) * g[:, None, None] + b[:, None, None]
    return np.clip(y, 0, 6) if relu6 else y


SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenet_v2(x, sd):
    x = conv_bn(x, sd, "features.0.0", "features.0.1", stride=2)
    cin, b = 32, 1
    for t, c, n, s in SETTINGS:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{b}.conv"
            y = x
            if t != 1:
                y = conv_bn(y, sd, f"{p}.0.0", f"{p}.0.1")
                dw, pw, bn = 1, 2, 3
            else:
                dw, pw, bn = 0, 1, 2
            y = conv_bn(y, sd, f"{p}.{dw}.0", f"{p}.{dw}.1", stride=stride, groups=y.shape[0])
            y = conv_bn(y, sd, f"{p}.{pw}", f"{p}.{bn}", relu6=False)
            x = x + y if stride == 1 and cin == c else y
            cin, b = c, b + 1
    x = conv_bn(x, sd, "features.18.0", "features.18.1")
    features = x.mean(axis=(1, 2))
    logits = sd["classifier.1.weight"].astype(np.float64) @ features + sd["classifier.1.bias"]
    return features, logits


def pattern_input():
    """The deterministic input both sides build: x[c, h, w] = 1.5 sin(0.01 (c·224² + h·224 + w))."""
    idx = np.arange(3 * 224 * 224, dtype=np.float64)
    return (1.5 * np.sin(0.01 * idx)).astype(np.float32).reshape(3, 224, 224)


if __name__ == "__main__":
    sd = load_legacy_pth(sys.argv[1])
    features, logits = mobilenet_v2(pattern_input().astype(np.float64), sd)
    json.dump({
        "input": "x[c,h,w] = 1.5*sin(0.01*(c*224*224 + h*224 + w)), f32",
        "features_first_16": features[:16].tolist(),
        "logits": logits.tolist(),
        "top5": np.argsort(-logits)[:5].tolist(),
    }, open(sys.argv[2], "w"))
    print("top5", np.argsort(-logits)[:5].tolist())
