//! The arithmetic of the host-memory ConvNet path, on channels-last (NHWC) `f32` slices.
//!
//! Written as plain Rust over fixed-size register tiles so that LLVM vectorises it: with wasm
//! `simd128` (see .cargo/config.toml) each `[f32; 8]` row becomes two 128-bit vectors, natively
//! SSE/AVX. Bias and ReLU6 are applied as each output is stored, so a layer reads its input
//! once and writes its output once (burn's CPU device makes separate passes for them). The
//! matrix product itself is `host_matmul`'s.

use crate::backbone::host_matmul::finish;

/// Channels per depthwise register tile.
const LANES: usize = 16;

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
    use crate::backbone::host_matmul::{matmul_bias_act, pack_panels};

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
