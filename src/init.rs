//! Seeded parameter initialisation, so a run is determined by its seed on every device
//! (burn's initialisers draw from the device's own generator, which a checkpoint cannot restore).

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::Rng;

/// U(-1/√fan_in, 1/√fan_in): PyTorch's default for linear layers and heads.
pub fn default_bound(fan_in: usize) -> f32 {
    1.0 / (fan_in.max(1) as f32).sqrt()
}

/// U(-√(6/fan_in), √(6/fan_in)): He initialisation, which keeps the scale through ReLU layers.
pub fn he_bound(fan_in: usize) -> f32 {
    (6.0 / fan_in.max(1) as f32).sqrt()
}

/// A parameter of `shape` drawn uniformly from [-bound, bound].
pub fn uniform_param<const D: usize>(
    shape: [usize; D],
    bound: f32,
    rng: &mut Rng,
    device: &Device,
) -> Param<Tensor<D>> {
    let n: usize = shape.iter().product();
    let values: Vec<f32> = (0..n)
        .map(|_| (rng.next_f32() * 2.0 - 1.0) * bound)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}
