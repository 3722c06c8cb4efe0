//! Resampling RGBA pixels: a window of the source image to a square of RGB values, and a whole
//! image shrunk, both with a triangle filter widened when shrinking (as PIL's bilinear does).

use super::Rgba;
use super::transparency::BACKGROUND;

/// A rectangle of the source image, in (fractional) pixels.
pub(super) struct Window {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Window {
    /// The whole `iw` × `ih` image.
    pub(super) fn whole(iw: f64, ih: f64) -> Self {
        Self {
            x: 0.0,
            y: 0.0,
            w: iw,
            h: ih,
        }
    }

    /// The largest square in the middle of an `iw` × `ih` image.
    pub(super) fn centre_square(iw: f64, ih: f64) -> Self {
        Self::centred_square(iw, ih, iw.min(ih))
    }

    /// The smallest square around the whole `iw` × `ih` image, centred on it: for a cut-out,
    /// whose background reaches past its edges.
    pub(super) fn around(iw: f64, ih: f64) -> Self {
        Self::centred_square(iw, ih, iw.max(ih))
    }

    fn centred_square(iw: f64, ih: f64, side: f64) -> Self {
        Self {
            x: (iw - side) / 2.0,
            y: (ih - side) / 2.0,
            w: side,
            h: side,
        }
    }
}

/// Filter weights of one output sample: `weights[k]` for source pixel `first + k`, and `outside`
/// for the background beyond the image's edge (0 where the image's edge repeats instead).
struct Taps {
    first: usize,
    weights: Vec<f32>,
    outside: f32,
}

/// Filter weights of every output sample over the source axis (a triangle filter widened when
/// shrinking, so downscaling averages instead of aliasing, as PIL's bilinear does). Where the
/// filter reaches past the image: with `background`, that part shows the background (a cut-out
/// laid whole on it); without, the pixels inside are weighted up (PIL's edge handling), and a
/// sample wholly outside repeats the nearest edge pixel.
fn taps(start: f64, extent: f64, out: usize, src_len: usize, background: bool) -> Vec<Taps> {
    let scale = extent / out as f64;
    let support = scale.max(1.0);
    let weight = |i: f64, centre: f64| (1.0 - ((i + 0.5 - centre) / support).abs()).max(0.0);
    (0..out)
        .map(|o| {
            let centre = start + (o as f64 + 0.5) * scale;
            let (lo_f, hi_f) = ((centre - support).floor(), (centre + support).ceil());
            let lo = lo_f.max(0.0) as usize;
            let hi = (hi_f.max(0.0) as usize).min(src_len);
            let mut weights: Vec<f32> = (lo..hi.max(lo))
                .map(|i| weight(i as f64, centre) as f32)
                .collect();
            let inside: f32 = weights.iter().sum();
            let outside = if background {
                // Every position of the filter's support that is not a pixel of the image.
                let all: f64 = (lo_f as i64..hi_f as i64)
                    .map(|i| weight(i as f64, centre))
                    .sum();
                (all as f32 - inside).max(0.0)
            } else {
                0.0
            };
            let total = inside + outside;
            if total > 0.0 {
                weights.iter_mut().for_each(|x| *x /= total);
                Taps {
                    // ≤ the image's length even where the filter lies wholly past its end.
                    first: lo.min(hi),
                    weights,
                    outside: outside / total,
                }
            } else {
                // The window lies outside the image: repeat the nearest edge pixel.
                let i = (centre.max(0.0) as usize).min(src_len - 1);
                Taps {
                    first: i,
                    weights: vec![1.0],
                    outside: 0.0,
                }
            }
        })
        .collect()
}

impl Rgba {
    /// A copy whose shorter side is at most `short` pixels (the same image when already
    /// smaller), filtered as [`Preprocess`] resamples. Augmentation crops from this rather than
    /// from a full-size photo, which would hold tens of megabytes per example.
    pub fn shrunk(&self, short: usize) -> Rgba {
        let side = self.width.min(self.height);
        if side <= short {
            return self.clone();
        }
        let scale = short as f64 / side as f64;
        let w = ((self.width as f64 * scale).round() as usize).max(1);
        let h = ((self.height as f64 * scale).round() as usize).max(1);
        let xs = taps(0.0, self.width as f64, w, self.width, false);
        let ys = taps(0.0, self.height as f64, h, self.height, false);
        let mut horizontal = vec![0f32; self.height * w * 3];
        for r in 0..self.height {
            let src = &self.pixels[r * self.width * 4..(r + 1) * self.width * 4];
            for (o, t) in xs.iter().enumerate() {
                for (k, &wk) in t.weights.iter().enumerate() {
                    for c in 0..3 {
                        horizontal[(r * w + o) * 3 + c] += wk * src[(t.first + k) * 4 + c] as f32;
                    }
                }
            }
        }
        let mut pixels = vec![255u8; w * h * 4];
        for (oy, t) in ys.iter().enumerate() {
            for ox in 0..w {
                for c in 0..3 {
                    let v: f32 = t
                        .weights
                        .iter()
                        .enumerate()
                        .map(|(k, &wk)| wk * horizontal[((t.first + k) * w + ox) * 3 + c])
                        .sum();
                    pixels[(oy * w + ox) * 4 + c] = v.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        Rgba {
            width: w,
            height: h,
            pixels,
            cut_out: self.cut_out,
        }
    }
}

/// Resamples `window` of `img` to `size`×`size` RGB (HWC, 0–255), separably. Where the window
/// reaches past a cut-out's edges it shows the background.
pub(super) fn resample(img: &Rgba, window: &Window, size: usize, flip: bool) -> Vec<f32> {
    let xs = taps(window.x, window.w, size, img.width, img.cut_out);
    let ys = taps(window.y, window.h, size, img.height, img.cut_out);
    let background = f32::from(BACKGROUND);
    // Horizontal pass over the needed rows only.
    let row_lo = ys.iter().map(|t| t.first).min().unwrap_or(0);
    let row_hi = ys
        .iter()
        .map(|t| t.first + t.weights.len())
        .max()
        .unwrap_or(0)
        .max(row_lo);
    let mut horizontal = vec![0f32; (row_hi - row_lo) * size * 3];
    for r in row_lo..row_hi {
        let src = &img.pixels[r * img.width * 4..(r + 1) * img.width * 4];
        for (o, t) in xs.iter().enumerate() {
            let ox = if flip { size - 1 - o } else { o };
            let dst = ((r - row_lo) * size + ox) * 3;
            for c in 0..3 {
                horizontal[dst + c] = t.outside * background;
            }
            for (k, &wk) in t.weights.iter().enumerate() {
                let p = (t.first + k) * 4;
                for c in 0..3 {
                    horizontal[dst + c] += wk * src[p + c] as f32;
                }
            }
        }
    }
    let mut out = vec![0f32; size * size * 3];
    for (oy, t) in ys.iter().enumerate() {
        let dst = &mut out[oy * size * 3..(oy + 1) * size * 3];
        // Rows past the image's edge are the background all along.
        dst.iter_mut().for_each(|d| *d = t.outside * background);
        for (k, &wk) in t.weights.iter().enumerate() {
            let src = &horizontal
                [(t.first + k - row_lo) * size * 3..(t.first + k - row_lo + 1) * size * 3];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += wk * s;
            }
        }
    }
    out
}
