//! The values that flow between backbone blocks, with the batch operations the trainer needs
//! (select, concatenate, detach) and the pooling that turns them into head features.

use burn::tensor::{Int, Tensor};

/// What flows between blocks: `Flat [batch, features]`, `Spatial [batch, channels, h, w]`, or a
/// token `Sequence` (`hidden [batch, len, width]` with its `mask [batch, len]`).
#[derive(Clone, Debug)]
pub enum Activations {
    Flat(Tensor<2>),
    Spatial(Tensor<4>),
    Sequence { hidden: Tensor<3>, mask: Tensor<2> },
}

impl Activations {
    pub fn batch_size(&self) -> usize {
        match self {
            Self::Flat(t) => t.dims()[0],
            Self::Spatial(t) => t.dims()[0],
            Self::Sequence { mask, .. } => mask.dims()[0],
        }
    }

    /// Flat (`example_shape` `[d]`) or spatial (`[c, h, w]`) activations of `batch` examples
    /// from host values, example after example (burn's CPU device takes the buffer as it is).
    pub fn from_host(
        values: Vec<f32>,
        batch: usize,
        example_shape: &[usize],
        device: &burn::tensor::Device,
    ) -> Self {
        let data = burn::tensor::TensorData::new(values, Self::host_shape(batch, example_shape));
        Self::from_host_data(data, device)
    }

    /// The tensor shape of `batch` examples' host activations: `[batch, c, h, w]` spatial, else
    /// `[batch, d]` flat.
    pub fn host_shape(batch: usize, example_shape: &[usize]) -> Vec<usize> {
        match *example_shape {
            [c, h, w] => vec![batch, c, h, w],
            _ => vec![batch, example_shape.iter().product()],
        }
    }

    /// Activations from host tensor data of a `host_shape` (burn's CPU device keeps its storage,
    /// a memory-mapped file included).
    pub fn from_host_data(data: burn::tensor::TensorData, device: &burn::tensor::Device) -> Self {
        match data.shape().num_dims() {
            4 => Self::Spatial(Tensor::from_data(data, device)),
            _ => Self::Flat(Tensor::from_data(data, device)),
        }
    }

    /// One example's shape: `[d]` flat, `[c, h, w]` spatial, `[len, width]` a sequence (whose
    /// mask adds `len` values).
    pub fn example_shape(&self) -> Vec<usize> {
        match self {
            Self::Flat(t) => vec![t.dims()[1]],
            Self::Spatial(t) => t.dims()[1..].to_vec(),
            Self::Sequence { hidden, .. } => hidden.dims()[1..].to_vec(),
        }
    }

    /// Values held per example (a sequence's mask included).
    pub fn values_per_example(&self) -> usize {
        match self {
            Self::Flat(t) => t.dims()[1],
            Self::Spatial(t) => {
                let [_, c, h, w] = t.dims();
                c * h * w
            }
            Self::Sequence { hidden, .. } => {
                let [_, s, w] = hidden.dims();
                s * (w + 1)
            }
        }
    }

    /// Rows `indices` (a device tensor of example indices).
    pub fn select(&self, indices: Tensor<1, Int>) -> Self {
        match self {
            Self::Flat(t) => Self::Flat(t.clone().select(0, indices)),
            Self::Spatial(t) => Self::Spatial(t.clone().select(0, indices)),
            Self::Sequence { hidden, mask } => Self::Sequence {
                hidden: hidden.clone().select(0, indices.clone()),
                mask: mask.clone().select(0, indices),
            },
        }
    }

    /// A sequence's first `len` positions, for a batch drawn from a cache padded to the longest
    /// text of the whole data set: attention leaves padding out, so trimming it to the batch's
    /// own longest text changes no value and spares the work on the rest. Other kinds, and a
    /// `len` that trims nothing, are returned as they are.
    pub fn truncated(self, len: usize) -> Self {
        match self {
            Self::Sequence { hidden, mask } => {
                let [b, s, w] = hidden.dims();
                if len == 0 || len >= s {
                    return Self::Sequence { hidden, mask };
                }
                Self::Sequence {
                    hidden: hidden.slice([0..b, 0..len, 0..w]),
                    mask: mask.slice([0..b, 0..len]),
                }
            }
            other => other,
        }
    }

    /// Joins batches along the example axis (all parts of one kind, as one backbone makes them;
    /// sequences are padded to the longest).
    pub fn cat(parts: Vec<Self>) -> Self {
        let (mut flat, mut spatial, mut seq) = (Vec::new(), Vec::new(), Vec::new());
        for p in parts {
            match p {
                Self::Flat(t) => flat.push(t),
                Self::Spatial(t) => spatial.push(t),
                Self::Sequence { hidden, mask } => seq.push((hidden, mask)),
            }
        }
        if !spatial.is_empty() {
            return Self::Spatial(Tensor::cat(spatial, 0));
        }
        if seq.is_empty() {
            return Self::Flat(Tensor::cat(flat, 0));
        }
        let len = seq.iter().map(|(_, m)| m.dims()[1]).max().unwrap_or(0);
        let (hidden, mask): (Vec<_>, Vec<_>) = seq
            .into_iter()
            .map(|(h, m)| {
                let [b, s, w] = h.dims();
                if s == len {
                    return (h, m);
                }
                let device = h.device();
                (
                    Tensor::cat(vec![h, Tensor::zeros([b, len - s, w], &device)], 1),
                    Tensor::cat(vec![m, Tensor::zeros([b, len - s], &device)], 1),
                )
            })
            .unzip();
        Self::Sequence {
            hidden: Tensor::cat(hidden, 0),
            mask: Tensor::cat(mask, 0),
        }
    }

    /// Without gradient tracking.
    pub fn detach(self) -> Self {
        match self {
            Self::Flat(t) => Self::Flat(t.detach()),
            Self::Spatial(t) => Self::Spatial(t.detach()),
            Self::Sequence { hidden, mask } => Self::Sequence {
                hidden: hidden.detach(),
                mask: mask.detach(),
            },
        }
    }

    /// The same values on `device` (a shard of a batch that runs on another device).
    pub fn to_device(self, device: &burn::tensor::Device) -> Self {
        match self {
            Self::Flat(t) => Self::Flat(t.to_device(device)),
            Self::Spatial(t) => Self::Spatial(t.to_device(device)),
            Self::Sequence { hidden, mask } => Self::Sequence {
                hidden: hidden.to_device(device),
                mask: mask.to_device(device),
            },
        }
    }

    /// The same values on the device without autodiff (for a `valid()` model).
    pub fn inner(self) -> Self {
        match self {
            Self::Flat(t) => Self::Flat(t.inner()),
            Self::Spatial(t) => Self::Spatial(t.inner()),
            Self::Sequence { hidden, mask } => Self::Sequence {
                hidden: hidden.inner(),
                mask: mask.inner(),
            },
        }
    }

    /// The pooled `[batch, features]` matrix a head consumes: spatial maps averaged, sequences
    /// averaged over their mask.
    pub fn into_features(self) -> Tensor<2> {
        match self {
            Self::Flat(t) => t,
            Self::Spatial(t) => {
                let [b, c, _, _] = t.dims();
                t.mean_dim(2).mean_dim(3).reshape([b, c])
            }
            Self::Sequence { hidden, mask } => {
                let [b, s, w] = hidden.dims();
                let m = mask.reshape([b, s, 1]);
                let sum = (hidden * m.clone()).sum_dim(1).reshape([b, w]);
                sum / m.sum_dim(1).reshape([b, 1]).clamp_min(1e-9)
            }
        }
    }
}

/// Every row of `x` scaled to unit length (rows of zeros stay zeros): what cosine similarity
/// compares, and what a sentence encoder that normalises its embeddings gives.
pub fn unit_rows(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    x / norm
}
