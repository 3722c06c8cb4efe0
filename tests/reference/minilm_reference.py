"""Independent numpy reference for kindling's BERT encoder: all-MiniLM-L6-v2 sentence embeddings
(mean pooling over the attention mask, L2-normalised), token ids from Hugging Face `tokenizers`.
Run once in a throwaway venv (numpy, safetensors, tokenizers); output committed as
tests/fixtures/minilm_reference.json.

    python minilm_reference.py MODEL_DIR OUT.json
"""
import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome!",
    "Ich habe keine Zeit, aber das Wetter ist schön.",
    "Support ticket: the export button does nothing on Safari.",
]


def layer_norm(x, g, b, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def encode(ids, w, heads=12):
    s = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:s] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]).astype(np.float64)
    h = x.shape[1]
    d = h // heads
    for i in range(6):
        p = f"encoder.layer.{i}"
        lin = lambda t, n: t @ w[f"{p}.{n}.weight"].T.astype(np.float64) + w[f"{p}.{n}.bias"]
        q = lin(x, "attention.self.query").reshape(s, heads, d).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(s, heads, d).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(s, heads, d).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(s, h)
        x = layer_norm(lin(ctx, "attention.output.dense") + x,
                       w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"])
        ff = lin(gelu(lin(x, "intermediate.dense")), "output.dense")
        x = layer_norm(ff + x, w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


if __name__ == "__main__":
    model_dir = sys.argv[1]
    w = load_file(f"{model_dir}/model.safetensors")
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(128)
    out = [{"text": t, "embedding": encode(tok.encode(t).ids, w).tolist()} for t in SENTENCES]
    e = [np.array(o["embedding"]) for o in out]
    print("cos(food, bread) =", float(e[0] @ e[1]))
    json.dump(out, open(sys.argv[2], "w"), ensure_ascii=False)
