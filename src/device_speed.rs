//! Choosing the device by measurement (`auto` where a WebGPU adapter could be used): the
//! project's own backbone timed on each device over a few examples, the faster kept. The adapter's
//! name says nothing about how fast these model sizes run on it, and the CPU device may beat an
//! integrated GPU (README, Devices).

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::backbone::Backbone;
use crate::error::{Error, Result};

/// Examples per timed pass: enough to fill a GPU's first kernels, few enough to take a second.
const EXAMPLES: usize = 8;
/// Timed passes after the warm-up (shader compilation, the CPU plan): the median is kept.
const PASSES: usize = 3;

/// One device's measured speed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSpeed {
    /// "webgpu" or "cpu".
    pub kind: String,
    /// Milliseconds per example of a forward pass through every block, read back.
    pub ms_per_example: f64,
}

/// A forward pass of `backbone` on `device` over [`EXAMPLES`] neutral inputs (zeros; a text is
/// 16 ordinary tokens), timed after one warm-up pass: the median milliseconds per example.
pub async fn forward_ms_per_example(backbone: &Backbone, device: &Device) -> Result<f64> {
    let rows = neutral_rows(backbone);
    let plan = backbone.cpu_plan(backbone.num_blocks(), device);
    let mut times = Vec::with_capacity(PASSES + 1);
    for _ in 0..=PASSES {
        let start = Instant::now();
        let out = match &plan {
            Some(plan) => plan.forward(&rows, EXAMPLES, device),
            None => backbone.forward_blocks(
                backbone.input(rows.clone(), EXAMPLES, device),
                0..backbone.num_blocks(),
                false,
            ),
        };
        out.into_features()
            .into_data_async()
            .await
            .map_err(|e| Error::device("reading the measurement back failed", e))?;
        times.push(start.elapsed().as_secs_f64() * 1e3 / EXAMPLES as f64);
    }
    let mut timed = times.split_off(1);
    timed.sort_by(f64::total_cmp);
    Ok(timed[timed.len() / 2])
}

fn neutral_rows(backbone: &Backbone) -> Vec<f32> {
    let dim = backbone.input_dim();
    match backbone {
        Backbone::Bert(net) => {
            let len = net.max_len();
            let tokens = len.min(16);
            (0..EXAMPLES)
                .flat_map(|_| {
                    let ids =
                        (0..len).map(move |t| if t < tokens { 1000.0 + t as f32 } else { 0.0 });
                    let mask = (0..len).map(move |t| if t < tokens { 1.0 } else { 0.0 });
                    ids.chain(mask)
                })
                .collect()
        }
        _ => vec![0.0; EXAMPLES * dim],
    }
}

/// The fastest of the measured devices (a tie goes to the first listed); `None` when none was
/// measured or a figure is negative or not a number. Zero is a figure: a tiny backbone can run
/// below the browser's timer resolution.
pub fn fastest(measured: &[DeviceSpeed]) -> Option<&DeviceSpeed> {
    if measured
        .iter()
        .any(|m| !(m.ms_per_example.is_finite() && m.ms_per_example >= 0.0))
    {
        return None;
    }
    measured.iter().reduce(|best, m| {
        if m.ms_per_example < best.ms_per_example {
            m
        } else {
            best
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speed(kind: &str, ms: f64) -> DeviceSpeed {
        DeviceSpeed {
            kind: kind.into(),
            ms_per_example: ms,
        }
    }

    #[test]
    fn a_slow_device_loses_and_nonsense_chooses_nothing() {
        let slow_gpu = [speed("webgpu", 40.0), speed("cpu", 4.0)];
        assert_eq!(fastest(&slow_gpu).unwrap().kind, "cpu");
        let slow_cpu = [speed("webgpu", 0.5), speed("cpu", 4.0)];
        assert_eq!(fastest(&slow_cpu).unwrap().kind, "webgpu");
        assert_eq!(
            fastest(&[speed("webgpu", 2.0), speed("cpu", 2.0)])
                .unwrap()
                .kind,
            "webgpu"
        );
        assert!(fastest(&[speed("webgpu", f64::NAN), speed("cpu", 2.0)]).is_none());
        assert!(fastest(&[speed("webgpu", -1.0), speed("cpu", 2.0)]).is_none());
        assert_eq!(
            fastest(&[speed("webgpu", 0.1), speed("cpu", 0.0)])
                .unwrap()
                .kind,
            "cpu"
        );
        assert!(fastest(&[]).is_none());
    }

    #[test]
    fn a_backbone_is_measured_on_the_cpu_device() {
        let device = Device::flex();
        for spec in [
            crate::backbone::BackboneSpec::ToyMlp {
                widths: vec![16, 32],
            },
            crate::backbone::BackboneSpec::Bert {
                heads: 2,
                max_len: 24,
                normalize: true,
            },
        ] {
            let net = Backbone::build(&spec, &mut crate::rng::Rng::new(1), &device).unwrap();
            let ms = pollster::block_on(forward_ms_per_example(&net, &device)).unwrap();
            assert!(ms.is_finite() && ms >= 0.0, "{ms}");
        }
    }
}
