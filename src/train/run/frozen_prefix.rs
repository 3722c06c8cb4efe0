//! The frozen prefix of the backbone: its activations for every example, cached while it stays
//! frozen, and its forward pass for augmented batches — on the host-memory plan where the
//! device is the CPU (`backbone::cpu_convnet`), through burn elsewhere.

use super::{TrainingRun, read_error};
use crate::backbone::{Activations, CpuPlan};
use crate::error::{Error, Result};
use crate::train::baseline::{Baselines, baselines};

/// Examples per forward pass when evaluating, and when a cache must be completed at once.
pub(super) const EVAL_CHUNK: usize = 256;
/// Examples cached per `step()` while a run prepares: small enough that a step of MobileNetV2
/// images stays well under a second in a browser tab, so pause and stop are seen while the cache
/// fills and its progress can be shown.
pub(super) const CACHE_CHUNK: usize = 32;

/// Backbone activations of every example after the frozen prefix, computed while that prefix
/// stays frozen (nothing random runs before it), filled chunk by chunk: into one host buffer
/// where the host-memory plan computes them (made a tensor without a copy once complete), else
/// as device tensors joined at the end (the examples held twice for that moment).
pub(super) struct ActivationCache {
    frozen_blocks: usize,
    parts: Vec<Activations>,
    host: Option<HostRows>,
    done: usize,
    all: Option<Activations>,
}

/// The host plan's activations so far, example after example.
struct HostRows {
    values: HostBuffer,
    example_shape: Vec<usize>,
}

/// Where the host plan's activations go: a buffer in memory sized once for all, or (natively,
/// when the run was given a folder) a memory-mapped file.
enum HostBuffer {
    Memory(Vec<f32>),
    #[cfg(not(target_arch = "wasm32"))]
    File(super::mapped_cache::MappedRows),
}

impl HostBuffer {
    /// A buffer for `examples` × `per_example` values: in a file in `dir` when one is given.
    fn new(examples: usize, per_example: usize, dir: Option<&std::path::Path>) -> Result<Self> {
        let len = examples.checked_mul(per_example);
        #[cfg(not(target_arch = "wasm32"))]
        if let (Some(dir), Some(len)) = (dir, len)
            && len > 0
        {
            return super::mapped_cache::MappedRows::create(dir, len).map(Self::File);
        }
        #[cfg(target_arch = "wasm32")]
        let _ = dir;
        let mut buffer = Vec::new();
        len.filter(|&len| buffer.try_reserve_exact(len).is_ok())
            .ok_or_else(|| {
                Error::Data(format!(
                    "memory is full: the cache of {examples} examples' activations ({per_example} values each) does not fit; \
                     train fewer blocks or use fewer examples (the command line can keep it on disk: --disk-cache)"
                ))
            })?;
        Ok(Self::Memory(buffer))
    }

    fn extend(&mut self, values: &[f32]) -> Result<()> {
        match self {
            Self::Memory(buffer) => {
                buffer.extend_from_slice(values);
                Ok(())
            }
            #[cfg(not(target_arch = "wasm32"))]
            Self::File(file) => file.extend(values),
        }
    }

    /// Every example's activations, on `device`.
    fn into_activations(
        self,
        examples: usize,
        example_shape: &[usize],
        device: &burn::tensor::Device,
    ) -> Result<Activations> {
        match self {
            Self::Memory(values) => Ok(Activations::from_host(
                values,
                examples,
                example_shape,
                device,
            )),
            #[cfg(not(target_arch = "wasm32"))]
            Self::File(file) => {
                let data = file.into_data(Activations::host_shape(examples, example_shape))?;
                Ok(Activations::from_host_data(data, device))
            }
        }
    }
}

impl ActivationCache {
    /// Every example's activations after `frozen_blocks` blocks, once the cache is complete.
    pub(super) fn complete_for(&self, frozen_blocks: usize) -> Option<&Activations> {
        self.all
            .as_ref()
            .filter(|_| self.frozen_blocks == frozen_blocks)
    }

    /// A cache of `frozen_blocks` holding every example's activations already.
    pub(super) fn complete(frozen_blocks: usize, all: Activations) -> Self {
        Self {
            frozen_blocks,
            done: all.batch_size(),
            parts: Vec::new(),
            host: None,
            all: Some(all),
        }
    }
}

/// The host-memory plan of the frozen prefix (`None` where none applies), for its length.
pub(super) struct CpuPlanCache {
    frozen_blocks: usize,
    plan: Option<CpuPlan>,
}

impl TrainingRun {
    /// The cache for the current frozen prefix, started afresh when the prefix changed.
    fn cache_for_prefix(&mut self) -> &mut ActivationCache {
        let frozen = self.model.frozen_prefix(self.trainable);
        let cache = self.cache.take().filter(|c| c.frozen_blocks == frozen);
        self.cache.insert(cache.unwrap_or(ActivationCache {
            frozen_blocks: frozen,
            parts: Vec::new(),
            host: None,
            done: 0,
            all: None,
        }))
    }

    /// The examples of the cache's next chunk of `chunk`, or `None` when it is complete.
    pub(super) fn next_cache_chunk(&mut self, chunk: usize) -> Option<Vec<usize>> {
        let n = self.data.len();
        let cache = self.cache_for_prefix();
        if cache.all.is_some() {
            return None;
        }
        let end = cache.done.saturating_add(chunk).min(n);
        Some((cache.done..end).collect())
    }

    /// Computes the next `chunk` examples of the cache (from the data set's rows, or from the
    /// rows supplied for them); returns false when it was complete.
    fn extend_cache(&mut self, chunk: usize) -> Result<bool> {
        let Some(indices) = self.next_cache_chunk(chunk) else {
            return Ok(false);
        };
        let rows = if self.data.rows_held() {
            self.data.gather(&indices)?
        } else {
            self.take_supplied(&indices)?
        };
        let frozen = self.model.frozen_prefix(self.trainable);
        let chunk = indices.len();
        let n = self.data.len();
        self.cache_chunks_computed = self.cache_chunks_computed.saturating_add(1);
        let device = self.device.clone();
        match self
            .cpu_plan_for(frozen)
            .map(|plan| plan.forward_host(&rows, chunk))
        {
            Some((values, example_shape)) => {
                let dir = self.disk_cache.clone();
                let cache = self.cache_for_prefix();
                let host = match &mut cache.host {
                    Some(host) => host,
                    None => {
                        let per_example = example_shape.iter().product();
                        let values = HostBuffer::new(n, per_example, dir.as_deref())?;
                        cache.host.insert(HostRows {
                            values,
                            example_shape,
                        })
                    }
                };
                host.values.extend(&values)?;
                cache.done = cache.done.saturating_add(chunk);
                if cache.done >= n
                    && let Some(host) = cache.host.take()
                {
                    let all = host
                        .values
                        .into_activations(n, &host.example_shape, &device)?;
                    cache.all = Some(all);
                }
            }
            None => {
                let part = self.frozen_forward(rows, chunk, frozen);
                let cache = self.cache_for_prefix();
                cache.parts.push(part);
                cache.done = cache.done.saturating_add(chunk);
                if cache.done >= n {
                    cache.all = Some(Activations::cat(std::mem::take(&mut cache.parts)));
                }
            }
        }
        Ok(true)
    }

    /// One chunk of the cache, while it is incomplete: `step()` calls this before an epoch so
    /// that filling the cache is paced like training. Returns whether it did any work.
    pub(super) fn prepare_step(&mut self) -> Result<bool> {
        self.extend_cache(CACHE_CHUNK)
    }

    /// `(cached, total)` examples while the cache of the frozen prefix is being filled.
    pub fn caching_progress(&self) -> Option<(usize, usize)> {
        let frozen = self.model.frozen_prefix(self.trainable);
        match &self.cache {
            Some(c) if c.frozen_blocks == frozen && c.all.is_some() => None,
            Some(c) if c.frozen_blocks == frozen => Some((c.done, self.data.len())),
            _ => Some((0, self.data.len())),
        }
    }

    /// Chunks of the frozen prefix's cache this run has computed (none when it adopted one).
    pub fn cache_chunks_computed(&self) -> usize {
        self.cache_chunks_computed
    }

    /// The complete cache of the current frozen prefix — `(frozen blocks, activations of every
    /// example)` — to hand to another run on the same examples and pretrained weights.
    pub fn complete_cache(&self) -> Option<(usize, Activations)> {
        let frozen = self.model.frozen_prefix(self.trainable);
        self.cache
            .as_ref()
            .and_then(|c| c.complete_for(frozen))
            .map(|all| (frozen, all.clone()))
    }

    /// Takes over another run's complete cache when it is of this run's current frozen prefix
    /// and of every example (the caller vouches that both runs started from the same pretrained
    /// weights and examples). Returns whether it was taken. A whole frozen backbone's features
    /// must also be of this run's width: a text encoder's runs pool every layer or the last
    /// one only (`TextFeatures`), so two runs that froze every block may not share them.
    pub fn adopt_cache(&mut self, frozen_blocks: usize, all: Activations) -> bool {
        let whole = frozen_blocks == self.model.backbone.num_blocks();
        let fits = frozen_blocks == self.model.frozen_prefix(self.trainable)
            && all.batch_size() == self.data.len()
            && (!whole || all.example_shape() == [self.model.backbone.feature_dim()])
            && self.complete_cache().is_none();
        if fits {
            self.cache = Some(ActivationCache::complete(frozen_blocks, all));
        }
        fits
    }

    /// Computes the whole cache of the current frozen prefix now (rows held by the data set, or
    /// supplied chunk by chunk before: otherwise this says what to supply).
    pub fn fill_cache(&mut self) -> Result<()> {
        self.cached_activations().map(|_| ())
    }

    /// Caches the next chunk of the frozen prefix's activations from the rows supplied for it
    /// (`input_request`), outside a training step: how a finished or restored run whose data set
    /// keeps its rows elsewhere completes its cache before it is evaluated or exported. `false`
    /// when the cache was complete already.
    pub fn cache_next_chunk(&mut self) -> Result<bool> {
        let chunk = if self.data.rows_held() {
            EVAL_CHUNK
        } else {
            CACHE_CHUNK
        };
        self.extend_cache(chunk)
    }

    /// The no-training baselines (nearest centroid, k-NN) on the frozen backbone's features,
    /// scored on the validation split — when the whole backbone is frozen, so that the cache
    /// holds those features (`None` otherwise). Completes the cache first; one read-back.
    pub async fn baselines(&mut self) -> Result<Option<Baselines>> {
        let Some((values, dim)) = self.frozen_features().await? else {
            return Ok(None);
        };
        let scored = baselines(
            &values,
            dim,
            self.data.labels(),
            self.data.num_classes(),
            &self.split,
        )
        .await?;
        Ok(Some(scored))
    }

    /// The frozen backbone's features of every example (row-major) and their size, when the
    /// whole backbone is frozen so that the cache holds them (`None` otherwise). Completes the
    /// cache first; one read-back.
    pub async fn frozen_features(&mut self) -> Result<Option<(Vec<f32>, usize)>> {
        if self.model.frozen_prefix(self.trainable) < self.model.backbone.num_blocks() {
            return Ok(None);
        }
        Ok(Some(host_features(self.cached_activations()?).await?))
    }

    /// Activations of every example after the frozen prefix, completing the cache first (where
    /// the rows are kept elsewhere, the steps before have completed it, chunk by chunk, from the
    /// supplied rows; until then this says what to supply).
    pub(super) fn cached_activations(&mut self) -> Result<Activations> {
        loop {
            if let Some(all) = &self.cache_for_prefix().all {
                return Ok(all.clone());
            }
            let chunk = if self.data.rows_held() {
                EVAL_CHUNK
            } else {
                CACHE_CHUNK
            };
            self.extend_cache(chunk)?;
        }
    }

    /// Whether the cache computed next goes to the memory-mapped file that
    /// [`TrainingRun::keep_cache_on_disk`] asked for: only where the host-memory plan computes
    /// it (else it stays in memory, on the run's device). Builds that plan (the cache needs it).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn cache_on_disk(&mut self) -> bool {
        let frozen = self.model.frozen_prefix(self.trainable);
        self.disk_cache.is_some() && self.cpu_plan_for(frozen).is_some()
    }

    /// The host-memory plan of blocks `0..frozen`, where one applies (built when the prefix
    /// changed length: the frozen blocks' weights cannot change while they stay frozen, so the
    /// copy the plan holds stays right until then).
    fn cpu_plan_for(&mut self, frozen: usize) -> Option<&CpuPlan> {
        let stale = self
            .cpu_plan
            .as_ref()
            .is_none_or(|c| c.frozen_blocks != frozen);
        if stale {
            self.cpu_plan = Some(CpuPlanCache {
                frozen_blocks: frozen,
                plan: self.model.backbone.cpu_plan(frozen, &self.device),
            });
        }
        self.cpu_plan.as_ref().and_then(|c| c.plan.as_ref())
    }

    /// Blocks `0..frozen` on `n` input rows, in inference mode and recording no gradients. When
    /// every block is frozen the output is pooled here, once: the head sees nothing else, and
    /// 1,280 pooled values per image (384 per text) are what a cache of tens of thousands of
    /// examples can hold, where MobileNetV2's last 7×7×1280 map (or a text's 128×384) is not.
    pub(super) fn frozen_forward(
        &mut self,
        rows: Vec<f32>,
        n: usize,
        frozen: usize,
    ) -> Activations {
        let device = self.device.clone();
        let out = match self.cpu_plan_for(frozen) {
            Some(plan) => plan.forward(&rows, n, &device),
            None => {
                let x = self.model.backbone.input(rows, n, &self.device);
                self.model
                    .backbone
                    .forward_blocks(x, 0..frozen, false)
                    .detach()
            }
        };
        if frozen == self.model.backbone.num_blocks() {
            return Activations::Flat(out.into_features());
        }
        out
    }
}

/// The pooled features of a whole-backbone cache, read back to the host: `(values, dim)`, one row
/// of `dim` values per example (one read-back).
pub async fn host_features(all: Activations) -> Result<(Vec<f32>, usize)> {
    let features = all.into_features().inner();
    let dim = features.dims()[1];
    let values = features
        .into_data_async()
        .await
        .map_err(read_error)?
        .try_into_vec_as::<f32>()
        .map_err(read_error)?;
    Ok((values, dim))
}
