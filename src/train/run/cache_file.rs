//! The frozen prefix's cache as a file, so that a project trained again (in a fresh worker, or
//! reopened after a reload) skips decoding every image and running it through the frozen
//! blocks: safetensors, the format of model files and checkpoints, with a description of what
//! the activations were computed from. A file of other examples, other pretrained weights or
//! another frozen prefix is refused, and the run computes its cache as usual.

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::TrainingRun;
use super::frozen_prefix::ActivationCache;
use super::state::Phase;
use crate::backbone::Activations;
use crate::error::{Error, Result};
use crate::model::param_file::{read_description, read_tensors, write_tensors};

const META_KEY: &str = "kindling.cache";
const FORMAT: u32 = 1;

/// What a cache file was computed from, and its tensors' shapes.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct CacheMeta {
    format: u32,
    /// Who computed it: names the backbone and its pretrained weights (the caller's words).
    backbone: String,
    frozen_blocks: usize,
    examples: usize,
    examples_fingerprint: String,
    /// `[examples, …]` of `values`; a sequence also has a `mask` of `[examples, len]`.
    shape: Vec<usize>,
}

impl TrainingRun {
    /// The complete cache of the current frozen prefix as a file, or `None` while it is
    /// incomplete. `backbone` names the backbone and its weights (an import must give the same).
    pub async fn export_cache(&self, backbone: &str) -> Result<Option<Vec<u8>>> {
        let frozen = self.model.frozen_prefix(self.trainable);
        let Some(all) = self
            .cache
            .as_ref()
            .and_then(|c| c.complete_for(frozen))
            .cloned()
        else {
            return Ok(None);
        };
        let flat = |dims: &[usize]| dims.iter().product::<usize>();
        let (values, mask, shape): (Tensor<1>, Option<Tensor<1>>, Vec<usize>) = match all {
            Activations::Flat(t) => {
                let dims = t.dims().to_vec();
                (t.reshape([flat(&dims)]), None, dims)
            }
            Activations::Spatial(t) => {
                let dims = t.dims().to_vec();
                (t.reshape([flat(&dims)]), None, dims)
            }
            Activations::Sequence { hidden, mask } => {
                let dims = hidden.dims().to_vec();
                let mask_len = flat(&mask.dims());
                (
                    hidden.reshape([flat(&dims)]),
                    Some(mask.reshape([mask_len])),
                    dims,
                )
            }
        };
        let meta = CacheMeta {
            format: FORMAT,
            backbone: backbone.to_string(),
            frozen_blocks: frozen,
            examples: self.data.len(),
            examples_fingerprint: self.data.fingerprint(),
            shape,
        };
        let meta = serde_json::to_string(&meta)
            .map_err(|e| Error::State(format!("internal: describing the cache: {e}")))?;
        let mut tensors = vec![("values".to_string(), values)];
        if let Some(mask) = mask {
            tensors.push(("mask".to_string(), mask));
        }
        write_tensors(META_KEY, meta, tensors).await.map(Some)
    }

    /// Takes a file from [`TrainingRun::export_cache`] as the cache of the current frozen prefix,
    /// when it was computed from these examples (same fingerprint), the same `backbone` and the
    /// same frozen prefix; else an error says which differs and nothing changes.
    pub fn import_cache(&mut self, bytes: &[u8], backbone: &str) -> Result<()> {
        // The description first: a file for something else is refused before its tensors are
        // decoded into memory that a tab never gets back.
        let meta_json = read_description(bytes, META_KEY, "feature cache")?;
        let meta: CacheMeta = serde_json::from_str(&meta_json)
            .map_err(|e| Error::Data(format!("this feature cache is damaged: {e}")))?;
        if matches!(self.phase, Phase::BetweenEpochs) {
            // A restored gradual run may be about to unfreeze: the next epoch's prefix counts.
            self.apply_unfreezing();
        }
        let frozen = self.model.frozen_prefix(self.trainable);
        let other = |what: &str| {
            Err(Error::Data(format!(
                "this feature cache was computed for {what}"
            )))
        };
        if meta.format != FORMAT {
            return other(&format!(
                "format {} (this version reads {FORMAT})",
                meta.format
            ));
        }
        if meta.backbone != backbone {
            return other(
                "another backbone, other pretrained weights or other image preprocessing",
            );
        }
        if meta.examples != self.data.len() || meta.examples_fingerprint != self.data.fingerprint()
        {
            return other("other examples");
        }
        if meta.frozen_blocks != frozen {
            return other(&format!(
                "{} frozen blocks, and this run freezes {frozen}",
                meta.frozen_blocks
            ));
        }
        // One example's shape must be what the frozen blocks make (a sequence may be shorter
        // than the longest text a row holds): anything else would fail inside a layer.
        let damaged =
            || Error::Data("this feature cache is damaged: its sizes do not agree".into());
        let mut shapes = self.model.backbone.activation_shapes(&self.device);
        let expected = if frozen < shapes.len() {
            shapes.swap_remove(frozen)
        } else {
            return Err(damaged());
        };
        let sequence = matches!(self.model.backbone, crate::backbone::Backbone::Bert(_));
        let fits = match (meta.shape.get(1..).unwrap_or_default(), expected.as_slice()) {
            (&[len, width], &[max_len, expected_width]) if sequence => {
                width == expected_width && (1..=max_len).contains(&len)
            }
            (shape, expected) => shape == expected,
        };
        if meta.shape.first() != Some(&meta.examples) || !fits {
            return Err(damaged());
        }
        let (_, mut tensors) = read_tensors(bytes, META_KEY, "feature cache")?;
        let values = tensors.remove("values").unwrap_or_default();
        let count = |shape: &[usize]| shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if count(&meta.shape) != Some(values.len()) {
            return Err(damaged());
        }
        let device = &self.device;
        let all = match *meta.shape.as_slice() {
            [n, d] => Activations::Flat(Tensor::from_data(TensorData::new(values, [n, d]), device)),
            [n, c, h, w] => Activations::Spatial(Tensor::from_data(
                TensorData::new(values, [n, c, h, w]),
                device,
            )),
            [n, len, width] => {
                let mask = tensors.remove("mask").unwrap_or_default();
                if count(&[n, len]) != Some(mask.len()) {
                    return Err(damaged());
                }
                Activations::Sequence {
                    hidden: Tensor::from_data(TensorData::new(values, [n, len, width]), device),
                    mask: Tensor::from_data(TensorData::new(mask, [n, len]), device),
                }
            }
            _ => return Err(damaged()),
        };
        self.cache = Some(ActivationCache::complete(frozen, all));
        Ok(())
    }
}
