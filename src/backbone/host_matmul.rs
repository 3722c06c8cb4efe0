//! The matrix product of the host-memory paths (`cpu_convnet`, `cpu_encoder`) on row-major `f32`
//! slices, with the bias and an optional ReLU6 applied as each output tile is stored.
//!
//! Written as plain Rust over fixed-size register tiles so that LLVM vectorises it: with wasm
//! `simd128` (see .cargo/config.toml) each `[f32; 8]` row becomes two 128-bit vectors, natively
//! SSE/AVX. Our own rather than a crate's: burn flex's `gemm` makes the bias and activation
//! separate passes, and these tiles are what let the CPU device keep up with TF.js's XNNPACK
//! backend in a tab (README, Performance).

use burn::tensor::Tensor;

/// Output channels per weight panel: the register tile's width.
pub const PANEL: usize = 8;
/// Rows (pixels, tokens) per register tile (4 rows × 8 channels = 8 vector accumulators, within the 16
/// registers of x86-64 that V8 maps wasm SIMD onto).
const ROWS: usize = 4;
/// Rows per cache tile: a tile of the input (≤ 64 × 1,280 floats) stays in L2 while every
/// weight panel passes over it.
const PIXEL_TILE: usize = 64;

/// A tensor's values, read without waiting: on burn's CPU device they are already there
/// (`None` on a device where reading would have to wait, such as WebGPU).
pub fn host_values<const D: usize>(t: Tensor<D>) -> Option<Vec<f32>> {
    burn::tensor::try_read_sync(t.into_data_async())?
        .ok()?
        .try_into_vec::<f32>()
        .ok()
}

#[inline(always)]
pub fn finish(v: f32, relu6: bool) -> f32 {
    if relu6 { v.clamp(0.0, 6.0) } else { v }
}

/// Packs a `[cout][k]` weight matrix into panels of `PANEL` output channels: `panel p` holds
/// `k` rows of `PANEL` weights, channels past `cout` zero.
pub fn pack_panels(weight: &[f32], cout: usize, k: usize) -> Vec<f32> {
    let panels = cout.div_ceil(PANEL);
    let mut packed = vec![0.0; panels * k * PANEL];
    for co in 0..cout {
        let (p, lane) = (co / PANEL, co % PANEL);
        for i in 0..k {
            packed[(p * k + i) * PANEL + lane] = weight[co * k + i];
        }
    }
    packed
}

/// `out[p][co] = act(bias[co] + Σ_i x[p][i] · w[co][i])` for `pixels` rows of `k` inputs, with
/// `w` packed by [`pack_panels`]. A 1×1 convolution, or any convolution after [`im2col`].
#[allow(clippy::too_many_arguments)]
pub fn matmul_bias_act(
    x: &[f32],
    pixels: usize,
    k: usize,
    packed: &[f32],
    bias: &[f32],
    cout: usize,
    relu6: bool,
    out: &mut [f32],
) {
    let panels = cout.div_ceil(PANEL);
    for tile in (0..pixels).step_by(PIXEL_TILE) {
        let tile_end = (tile + PIXEL_TILE).min(pixels);
        for p in 0..panels {
            let (w, _) = packed[p * k * PANEL..(p + 1) * k * PANEL].as_chunks::<PANEL>();
            let c0 = p * PANEL;
            let width = PANEL.min(cout - c0);
            let mut b = [0.0f32; PANEL];
            b[..width].copy_from_slice(&bias[c0..c0 + width]);
            let mut px = tile;
            while px + ROWS <= tile_end {
                let mut acc = [b; ROWS];
                let [r0, r1, r2, r3]: [&[f32]; ROWS] =
                    core::array::from_fn(|r| &x[(px + r) * k..][..k]);
                // Zipped iterators, not indices: no bounds checks in the innermost loop.
                let inputs = r0.iter().zip(r1).zip(r2).zip(r3);
                for ((((&a0, &a1), &a2), &a3), wi) in inputs.zip(w) {
                    for (acc, a) in acc.iter_mut().zip([a0, a1, a2, a3]) {
                        for l in 0..PANEL {
                            acc[l] += a * wi[l];
                        }
                    }
                }
                for (r, acc) in acc.iter().enumerate() {
                    let dst = &mut out[(px + r) * cout + c0..][..width];
                    for (d, &v) in dst.iter_mut().zip(acc) {
                        *d = finish(v, relu6);
                    }
                }
                px += ROWS;
            }
            for px in px..tile_end {
                let mut acc = b;
                let row = &x[px * k..][..k];
                for (&a, wi) in row.iter().zip(w) {
                    for l in 0..PANEL {
                        acc[l] += a * wi[l];
                    }
                }
                let dst = &mut out[px * cout + c0..][..width];
                for (d, &v) in dst.iter_mut().zip(&acc) {
                    *d = finish(v, relu6);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn matmul_adds_the_bias_and_clamps_at_zero_and_six() {
        let (k, cout, pixels) = (5, 9, 6);
        let x = values(pixels * k, 3);
        let w: Vec<f32> = values(cout * k, 4).iter().map(|v| v * 8.0).collect();
        let bias = values(cout, 5);
        let mut out = vec![0.0; pixels * cout];
        matmul_bias_act(
            &x,
            pixels,
            k,
            &pack_panels(&w, cout, k),
            &bias,
            cout,
            true,
            &mut out,
        );
        let mut clamped = 0;
        for p in 0..pixels {
            for co in 0..cout {
                let s: f32 = bias[co] + (0..k).map(|i| x[p * k + i] * w[co * k + i]).sum::<f32>();
                let want = s.clamp(0.0, 6.0);
                clamped += usize::from(want != s);
                assert!((out[p * cout + co] - want).abs() < 1e-5);
            }
        }
        assert!(clamped > 0, "the test values should reach the clamp");
    }
}
