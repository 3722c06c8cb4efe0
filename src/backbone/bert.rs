//! A BERT-family encoder (all-MiniLM-L6-v2 by default: 6 layers, hidden 384, 12 heads, GELU,
//! LayerNorm ε 1e-12, learned positions up to 512, token types) producing sentence embeddings by
//! mean pooling over the attention mask, optionally L2-normalised. Its transformer layers are the
//! blocks the engine freezes and unfreezes; the embeddings stay frozen. Weight names are Hugging
//! Face's (`embeddings.*`, `encoder.layer.N.*`, with or without a `bert.` prefix); the sizes are
//! read from the weights, the number of heads comes from the spec (config.json).

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Device, Int, Tensor};

use super::Activations;
use super::weights::Init;
use crate::error::{Error, Result};

const LN_EPS: f64 = 1e-12;

/// Sizes of a BERT encoder.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BertSize {
    pub vocab: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub positions: usize,
    pub token_types: usize,
}

impl BertSize {
    /// all-MiniLM-L6-v2's sizes (for random builds, e.g. benchmarks).
    pub fn minilm_l6() -> Self {
        Self {
            vocab: 30522,
            hidden: 384,
            layers: 6,
            heads: 12,
            intermediate: 1536,
            positions: 512,
            token_types: 2,
        }
    }
}

#[derive(Module, Debug)]
pub struct LayerNorm {
    pub gamma: Param<Tensor<1>>,
    pub beta: Param<Tensor<1>>,
}

impl LayerNorm {
    fn new(name: &str, hidden: usize, init: &mut Init, device: &Device) -> Result<Self> {
        Ok(if matches!(init, Init::Random(_)) {
            Self {
                gamma: Param::from_tensor(Tensor::ones([hidden], device)),
                beta: Param::from_tensor(Tensor::zeros([hidden], device)),
            }
        } else {
            Self {
                gamma: init.param(&format!("{name}.weight"), [hidden], 1, device)?,
                beta: init.param(&format!("{name}.bias"), [hidden], 1, device)?,
            }
        })
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.gamma.val().dims()[0];
        let centred = x.clone() - x.mean_dim(2);
        let var = centred.clone().powi_scalar(2).mean_dim(2);
        centred / (var + LN_EPS).sqrt() * self.gamma.val().reshape([1, 1, h])
            + self.beta.val().reshape([1, 1, h])
    }
}

fn linear(
    name: &str,
    input: usize,
    output: usize,
    init: &mut Init,
    device: &Device,
) -> Result<Linear> {
    Ok(Linear {
        weight: init.linear_weight(&format!("{name}.weight"), output, input, device)?,
        bias: Some(init.param(&format!("{name}.bias"), [output], input, device)?),
    })
}

#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub words: Param<Tensor<2>>,
    pub positions: Param<Tensor<2>>,
    pub token_types: Param<Tensor<2>>,
    pub norm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct BertLayer {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub attention_out: Linear,
    pub attention_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub output_norm: LayerNorm,
    #[module(skip)]
    heads: usize,
}

impl BertLayer {
    fn new(i: usize, size: &BertSize, init: &mut Init, device: &Device) -> Result<Self> {
        let p = format!("encoder.layer.{i}");
        let h = size.hidden;
        Ok(Self {
            query: linear(&format!("{p}.attention.self.query"), h, h, init, device)?,
            key: linear(&format!("{p}.attention.self.key"), h, h, init, device)?,
            value: linear(&format!("{p}.attention.self.value"), h, h, init, device)?,
            attention_out: linear(&format!("{p}.attention.output.dense"), h, h, init, device)?,
            attention_norm: LayerNorm::new(
                &format!("{p}.attention.output.LayerNorm"),
                h,
                init,
                device,
            )?,
            intermediate: linear(
                &format!("{p}.intermediate.dense"),
                h,
                size.intermediate,
                init,
                device,
            )?,
            output: linear(
                &format!("{p}.output.dense"),
                size.intermediate,
                h,
                init,
                device,
            )?,
            output_norm: LayerNorm::new(&format!("{p}.output.LayerNorm"), h, init, device)?,
            heads: size.heads,
        })
    }

    /// Attention heads.
    pub fn heads(&self) -> usize {
        self.heads
    }

    /// `x [b, s, h]`, `mask_bias [b, 1, 1, s]` (0 for tokens, a large negative for padding).
    fn forward(&self, x: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let [b, s, h] = x.dims();
        let d = h / self.heads;
        let split = |t: Tensor<3>| t.reshape([b, s, self.heads, d]).swap_dims(1, 2);
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x.clone()));
        let scores = q.matmul(k.swap_dims(2, 3)) / (d as f64).sqrt() + mask_bias;
        let context = softmax(scores, 3)
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([b, s, h]);
        let x = self
            .attention_norm
            .forward(self.attention_out.forward(context) + x);
        let ff = self
            .output
            .forward(gelu(self.intermediate.forward(x.clone())));
        self.output_norm.forward(ff + x)
    }
}

#[derive(Module, Debug)]
pub struct Bert {
    pub embeddings: BertEmbeddings,
    pub blocks: Vec<BertLayer>,
    #[module(skip)]
    normalize: bool,
    #[module(skip)]
    max_len: usize,
    /// The features are the mean token vector after the embeddings and after every layer, each
    /// scaled to unit length, side by side (`TextFeatures::EveryLayer`); else the last layer's
    /// only. Set for a run whose encoder stays wholly frozen: every pass then starts at block 0.
    #[module(skip)]
    every_layer: bool,
}

impl Bert {
    /// Builds from `init`; with a file, the sizes are read from its tensors (`heads` from the spec).
    pub fn new(
        size: BertSize,
        normalize: bool,
        max_len: usize,
        init: &mut Init,
        device: &Device,
    ) -> Result<Self> {
        if size.heads == 0 || !size.hidden.is_multiple_of(size.heads) {
            return Err(Error::config(
                "backbone.heads",
                format!(
                    "the hidden size {} must be a multiple of the number of heads {}",
                    size.hidden, size.heads
                ),
            ));
        }
        let h = size.hidden;
        let embeddings = BertEmbeddings {
            words: init.param(
                "embeddings.word_embeddings.weight",
                [size.vocab, h],
                1,
                device,
            )?,
            positions: init.param(
                "embeddings.position_embeddings.weight",
                [size.positions, h],
                1,
                device,
            )?,
            token_types: init.param(
                "embeddings.token_type_embeddings.weight",
                [size.token_types, h],
                1,
                device,
            )?,
            norm: LayerNorm::new("embeddings.LayerNorm", h, init, device)?,
        };
        let blocks = (0..size.layers)
            .map(|i| BertLayer::new(i, &size, init, device))
            .collect::<Result<_>>()?;
        Ok(Self {
            embeddings,
            blocks,
            normalize,
            max_len,
            every_layer: false,
        })
    }

    pub fn hidden(&self) -> usize {
        self.embeddings.norm.gamma.val().dims()[0]
    }

    /// Tokens kept per text (rows hold `max_len` ids then `max_len` mask values).
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Whether the pooled embedding is L2-normalised.
    pub fn normalizes(&self) -> bool {
        self.normalize
    }

    /// Whether the features pool every layer (see the field).
    pub fn pools_every_layer(&self) -> bool {
        self.every_layer
    }

    /// The same encoder pooling every layer (`true`) or the last one only.
    pub fn with_every_layer(mut self, every_layer: bool) -> Self {
        self.every_layer = every_layer;
        self
    }

    /// Values per example of the pooled features: the hidden size, times the layers and the
    /// embeddings when every layer is pooled.
    pub fn feature_dim(&self) -> usize {
        match self.every_layer {
            true => self.hidden() * (self.blocks.len() + 1),
            false => self.hidden(),
        }
    }

    /// Rows of the token embedding: token ids must stay below this.
    pub fn vocab_size(&self) -> usize {
        self.embeddings.words.val().dims()[0]
    }

    /// Embeddings of token ids `[b, s]` with their mask `[b, s]` (1 = token, 0 = padding).
    pub fn embed(&self, ids: Tensor<2, Int>, mask: Tensor<2>) -> Activations {
        let [b, s] = ids.dims();
        let h = self.hidden();
        let words = self
            .embeddings
            .words
            .val()
            .select(0, ids.reshape([b * s]))
            .reshape([b, s, h]);
        let positions = self
            .embeddings
            .positions
            .val()
            .slice([0..s, 0..h])
            .reshape([1, s, h]);
        let token_type = self
            .embeddings
            .token_types
            .val()
            .slice([0..1, 0..h])
            .reshape([1, 1, h]);
        let hidden = self.embeddings.norm.forward(words + positions + token_type);
        Activations::Sequence { hidden, mask }
    }

    /// Runs layers `blocks`; after the last one, mean-pools over the mask (and L2-normalises).
    /// Pooling every layer needs the pass to start at the embeddings (block 0): a run sets it
    /// only when every block stays frozen, so its passes run all blocks at once. A pass that
    /// starts part-way up (`sizes.rs` measuring block by block, which then takes the width from
    /// `feature_dim`) pools the layers it ran.
    pub fn forward_blocks(&self, x: Activations, blocks: core::ops::Range<usize>) -> Activations {
        let end = blocks.end;
        let (mut hidden, mask) = match x {
            Activations::Sequence { hidden, mask } => (hidden, mask),
            other => return other,
        };
        let pool_every = self.every_layer && end >= self.blocks.len();
        let mut pooled = Vec::new();
        let pool = |hidden: &Tensor<3>| {
            super::activations::unit_rows(
                Activations::Sequence {
                    hidden: hidden.clone(),
                    mask: mask.clone(),
                }
                .into_features(),
            )
        };
        if pool_every && blocks.start == 0 {
            pooled.push(pool(&hidden));
        }
        let [b, s] = mask.dims();
        let mask_bias = (mask.clone() - 1.0).mul_scalar(1e4).reshape([b, 1, 1, s]);
        for layer in &self.blocks[blocks] {
            hidden = layer.forward(hidden, mask_bias.clone());
            if pool_every {
                pooled.push(pool(&hidden));
            }
        }
        if end < self.blocks.len() {
            return Activations::Sequence { hidden, mask };
        }
        if pool_every {
            return Activations::Flat(Tensor::cat(pooled, 1));
        }
        let pooled = Activations::Sequence { hidden, mask }.into_features();
        if self.normalize {
            Activations::Flat(super::activations::unit_rows(pooled))
        } else {
            Activations::Flat(pooled)
        }
    }
}

/// Reads a BERT checkpoint's sizes from its tensors; `heads` is not in the shapes.
pub fn size_from_file(file: &super::weights::WeightFile, heads: usize) -> Result<BertSize> {
    let shape = |name: &str| {
        file.shape(name).ok_or_else(|| {
            Error::Weights(format!(
                "tensor `{name}` is missing; this is not a BERT checkpoint"
            ))
        })
    };
    let words = shape("embeddings.word_embeddings.weight")?;
    let positions = shape("embeddings.position_embeddings.weight")?;
    let types = shape("embeddings.token_type_embeddings.weight")?;
    let inter = shape("encoder.layer.0.intermediate.dense.weight")?;
    let layers = (0..)
        .take_while(|i| file.contains(&format!("encoder.layer.{i}.attention.self.query.weight")))
        .count();
    Ok(BertSize {
        vocab: words[0],
        hidden: words[1],
        layers,
        heads,
        intermediate: inter[0],
        positions: positions[0],
        token_types: types[0],
    })
}
