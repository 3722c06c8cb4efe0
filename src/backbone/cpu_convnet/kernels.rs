//! The arithmetic of the host-memory ConvNet path, on channels-last (NHWC) `f32` slices.
//!
//! Written as plain Rust over fixed-size register tiles so that LLVM vectorises it: with wasm
//! `simd128` (see .cargo/config.toml) each `[f32; 8]` row becomes two 128-bit vectors, natively
//! SSE/AVX. Bias and ReLU6 are applied as each output tile is stored, so a layer reads its input
//! once and writes its output once (burn's CPU device makes separate passes for them).

/// Output channels per weight panel: the register tile's width.
pub const PANEL: usize = 8;
/// Pixels per register tile (4 rows × 8 channels = 8 vector accumulators, within the 16
/// registers of x86-64 that V8 maps wasm SIMD onto).
const ROWS: usize = 4;
/// Pixels per cache tile: a tile of the input (≤ 64 × 1,280 floats) stays in L2 while every
/// weight panel passes over it.
const PIXEL_TILE: usize = 64;
/// Channels per depthwise register tile.
const LANES: usize = 16;

#[inline(always)]
fn finish(v: f32, relu6: bool) -> f32 {
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

/// The geometry of a square k×k convolution with padding k/2 over an NHWC image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
}

impl Window {
    pub fn out_height(&self) -> usize {
        (self.height + 2 * (self.kernel / 2) - self.kernel) / self.stride + 1
    }
    pub fn out_width(&self) -> usize {
        (self.width + 2 * (self.kernel / 2) - self.kernel) / self.stride + 1
    }
    /// The input coordinate of output `o`'s tap `t` along one axis, if inside the image.
    #[inline(always)]
    fn source(&self, o: usize, t: usize, size: usize) -> Option<usize> {
        (o * self.stride + t)
            .checked_sub(self.kernel / 2)
            .filter(|&i| i < size)
    }
}

/// The patches of one NHWC image as rows of `kernel² · channels` values ordered (ky, kx, c),
/// zeros outside the image: turns a dense convolution into [`matmul_bias_act`].
pub fn im2col(x: &[f32], channels: usize, win: Window, out: &mut Vec<f32>) {
    let (oh, ow, k) = (win.out_height(), win.out_width(), win.kernel);
    let row_len = k * k * channels;
    out.clear();
    out.resize(oh * ow * row_len, 0.0);
    for oy in 0..oh {
        for ox in 0..ow {
            let row = &mut out[(oy * ow + ox) * row_len..][..row_len];
            for ky in 0..k {
                let Some(iy) = win.source(oy, ky, win.height) else {
                    continue;
                };
                for kx in 0..k {
                    let Some(ix) = win.source(ox, kx, win.width) else {
                        continue;
                    };
                    let src = &x[(iy * win.width + ix) * channels..][..channels];
                    row[(ky * k + kx) * channels..][..channels].copy_from_slice(src);
                }
            }
        }
    }
}

/// Depthwise k×k convolution of one NHWC image: `weight[(ky·k + kx)·C + c]`, then bias and
/// optional ReLU6, `LANES` channels at a time in registers.
pub fn depthwise(
    x: &[f32],
    channels: usize,
    win: Window,
    weight: &[f32],
    bias: &[f32],
    relu6: bool,
    out: &mut [f32],
) {
    let (oh, ow, k) = (win.out_height(), win.out_width(), win.kernel);
    let full = channels - channels % LANES;
    for oy in 0..oh {
        for ox in 0..ow {
            let dst = &mut out[(oy * ow + ox) * channels..][..channels];
            for c0 in (0..full).step_by(LANES) {
                let mut acc = [0.0f32; LANES];
                acc.copy_from_slice(&bias[c0..c0 + LANES]);
                for ky in 0..k {
                    let Some(iy) = win.source(oy, ky, win.height) else {
                        continue;
                    };
                    for kx in 0..k {
                        let Some(ix) = win.source(ox, kx, win.width) else {
                            continue;
                        };
                        let src = &x[(iy * win.width + ix) * channels + c0..][..LANES];
                        let w = &weight[(ky * k + kx) * channels + c0..][..LANES];
                        for l in 0..LANES {
                            acc[l] += src[l] * w[l];
                        }
                    }
                }
                for (d, &v) in dst[c0..c0 + LANES].iter_mut().zip(&acc) {
                    *d = finish(v, relu6);
                }
            }
            for c in full..channels {
                let mut acc = bias[c];
                for ky in 0..k {
                    let Some(iy) = win.source(oy, ky, win.height) else {
                        continue;
                    };
                    for kx in 0..k {
                        if let Some(ix) = win.source(ox, kx, win.width) {
                            acc += x[(iy * win.width + ix) * channels + c]
                                * weight[(ky * k + kx) * channels + c];
                        }
                    }
                }
                dst[c] = finish(acc, relu6);
            }
        }
    }
}

/// `out += residual`, element by element.
pub fn add_in_place(out: &mut [f32], residual: &[f32]) {
    for (o, &r) in out.iter_mut().zip(residual) {
        *o += r;
    }
}

/// The mean over the pixels of one NHWC image: its `channels` pooled features.
pub fn mean_pool(x: &[f32], channels: usize, out: &mut [f32]) {
    out.fill(0.0);
    let pixels = x.len() / channels;
    for px in x.chunks_exact(channels) {
        for (o, &v) in out.iter_mut().zip(px) {
            *o += v;
        }
    }
    let scale = 1.0 / pixels.max(1) as f32;
    out.iter_mut().for_each(|o| *o *= scale);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_conv(
        x: &[f32],
        cin: usize,
        win: Window,
        w: &[f32], // [cout][cin][k][k]
        cout: usize,
    ) -> Vec<f32> {
        let (oh, ow, k) = (win.out_height(), win.out_width(), win.kernel);
        let mut out = vec![0.0; oh * ow * cout];
        for oy in 0..oh {
            for ox in 0..ow {
                for co in 0..cout {
                    let mut s = 0.0;
                    for ky in 0..k {
                        for kx in 0..k {
                            let iy = (oy * win.stride + ky) as isize - (k / 2) as isize;
                            let ix = (ox * win.stride + kx) as isize - (k / 2) as isize;
                            if iy < 0
                                || ix < 0
                                || iy >= win.height as isize
                                || ix >= win.width as isize
                            {
                                continue;
                            }
                            for ci in 0..cin {
                                s += x[((iy as usize) * win.width + ix as usize) * cin + ci]
                                    * w[((co * cin + ci) * k + ky) * k + kx];
                            }
                        }
                    }
                    out[(oy * ow + ox) * cout + co] = s;
                }
            }
        }
        out
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn dense_convolution_through_im2col_matches_the_definition() {
        // 3 → 11 channels (a partial panel), stride 2 on an odd-sized image, 7 pixels out per
        // row (not a multiple of the 4-pixel tile).
        let (cin, cout) = (3, 11);
        let win = Window {
            height: 13,
            width: 13,
            kernel: 3,
            stride: 2,
        };
        let x = values(13 * 13 * cin, 1);
        let w = values(cout * cin * 9, 2);
        // im2col orders a patch (ky, kx, c); the weights must be reordered to match.
        let mut w_khwc = vec![0.0; w.len()];
        for co in 0..cout {
            for ci in 0..cin {
                for t in 0..9 {
                    w_khwc[co * 27 + t * cin + ci] = w[(co * cin + ci) * 9 + t];
                }
            }
        }
        let mut patches = Vec::new();
        im2col(&x, cin, win, &mut patches);
        let pixels = win.out_height() * win.out_width();
        let mut out = vec![0.0; pixels * cout];
        let bias = vec![0.0; cout];
        matmul_bias_act(
            &patches,
            pixels,
            27,
            &pack_panels(&w_khwc, cout, 27),
            &bias,
            cout,
            false,
            &mut out,
        );
        let want = naive_conv(&x, cin, win, &w, cout);
        for (a, b) in out.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
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

    #[test]
    fn depthwise_matches_the_definition_on_full_and_partial_lanes() {
        // 19 channels: one 16-lane tile and 3 single channels; kernel 5, stride 2.
        let c = 19;
        let win = Window {
            height: 9,
            width: 7,
            kernel: 5,
            stride: 2,
        };
        let x = values(9 * 7 * c, 6);
        let w = values(25 * c, 7);
        let bias = values(c, 8);
        let mut out = vec![0.0; win.out_height() * win.out_width() * c];
        depthwise(&x, c, win, &w, &bias, false, &mut out);
        for oy in 0..win.out_height() {
            for ox in 0..win.out_width() {
                for ch in 0..c {
                    let mut s = bias[ch];
                    for ky in 0..5 {
                        for kx in 0..5 {
                            let iy = (oy * 2 + ky) as isize - 2;
                            let ix = (ox * 2 + kx) as isize - 2;
                            if (0..9).contains(&iy) && (0..7).contains(&ix) {
                                s += x[((iy * 7 + ix) as usize) * c + ch]
                                    * w[(ky * 5 + kx) * c + ch];
                            }
                        }
                    }
                    let got = out[(oy * win.out_width() + ox) * c + ch];
                    assert!((got - s).abs() < 1e-5, "{got} vs {s}");
                }
            }
        }
    }

    #[test]
    fn mean_pool_averages_each_channel() {
        let x = [1.0, 10.0, 3.0, 20.0, 5.0, 30.0];
        let mut out = [0.0; 2];
        mean_pool(&x, 2, &mut out);
        assert_eq!(out, [3.0, 20.0]);
    }
}
