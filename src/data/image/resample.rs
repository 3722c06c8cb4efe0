//! Resampling RGBA pixels: a window of the source image to a square of RGB values, and a whole
//! image shrunk, both with a triangle filter widened when shrinking (as PIL's bilinear does).

use super::Rgba;

/// A rectangle of the source image, in (fractional) pixels.
pub(super) struct Window {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Window {
    /// The largest square in the middle of an `iw` × `ih` image.
    pub(super) fn centre_square(iw: f64, ih: f64) -> Self {
        let side = iw.min(ih);
        Self {
            x: (iw - side) / 2.0,
            y: (ih - side) / 2.0,
            w: side,
            h: side,
        }
    }
}

/// Filter weights of one output sample over the source axis (a triangle filter widened when
/// shrinking, so downscaling averages instead of aliasing, as PIL's bilinear does).
fn taps(start: f64, extent: f64, out: usize, src_len: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = extent / out as f64;
    let support = scale.max(1.0);
    (0..out)
        .map(|o| {
            let centre = start + (o as f64 + 0.5) * scale;
            let lo = ((centre - support).floor().max(0.0)) as usize;
            let hi = ((centre + support).ceil() as usize).min(src_len);
            let mut w: Vec<f32> = (lo..hi)
                .map(|i| (1.0 - ((i as f64 + 0.5 - centre) / support).abs()).max(0.0) as f32)
                .collect();
            let sum: f32 = w.iter().sum();
            if sum > 0.0 {
                w.iter_mut().for_each(|x| *x /= sum);
                (lo, w)
            } else {
                // The window lies outside the image: repeat the nearest edge pixel.
                let i = (centre.max(0.0) as usize).min(src_len - 1);
                (i, vec![1.0])
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
        let xs = taps(0.0, self.width as f64, w, self.width);
        let ys = taps(0.0, self.height as f64, h, self.height);
        let mut horizontal = vec![0f32; self.height * w * 3];
        for r in 0..self.height {
            let src = &self.pixels[r * self.width * 4..(r + 1) * self.width * 4];
            for (o, (lo, wts)) in xs.iter().enumerate() {
                for (k, &wk) in wts.iter().enumerate() {
                    for c in 0..3 {
                        horizontal[(r * w + o) * 3 + c] += wk * src[(lo + k) * 4 + c] as f32;
                    }
                }
            }
        }
        let mut pixels = vec![255u8; w * h * 4];
        for (oy, (lo, wts)) in ys.iter().enumerate() {
            for ox in 0..w {
                for c in 0..3 {
                    let v: f32 = wts
                        .iter()
                        .enumerate()
                        .map(|(k, &wk)| wk * horizontal[((lo + k) * w + ox) * 3 + c])
                        .sum();
                    pixels[(oy * w + ox) * 4 + c] = v.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        Rgba {
            width: w,
            height: h,
            pixels,
        }
    }
}

/// Resamples `window` of `img` to `size`×`size` RGB (HWC, 0–255), separably.
pub(super) fn resample(img: &Rgba, window: &Window, size: usize, flip: bool) -> Vec<f32> {
    let xs = taps(window.x, window.w, size, img.width);
    let ys = taps(window.y, window.h, size, img.height);
    // Horizontal pass over the needed rows only.
    let row_lo = ys.iter().map(|(lo, _)| *lo).min().unwrap_or(0);
    let row_hi = ys.iter().map(|(lo, w)| lo + w.len()).max().unwrap_or(0);
    let mut horizontal = vec![0f32; (row_hi - row_lo) * size * 3];
    for r in row_lo..row_hi {
        let src = &img.pixels[r * img.width * 4..(r + 1) * img.width * 4];
        for (o, (lo, w)) in xs.iter().enumerate() {
            let ox = if flip { size - 1 - o } else { o };
            let dst = ((r - row_lo) * size + ox) * 3;
            for (k, &wk) in w.iter().enumerate() {
                let p = (lo + k) * 4;
                for c in 0..3 {
                    horizontal[dst + c] += wk * src[p + c] as f32;
                }
            }
        }
    }
    let mut out = vec![0f32; size * size * 3];
    for (oy, (lo, w)) in ys.iter().enumerate() {
        for (k, &wk) in w.iter().enumerate() {
            let src = &horizontal[(lo + k - row_lo) * size * 3..(lo + k - row_lo + 1) * size * 3];
            let dst = &mut out[oy * size * 3..(oy + 1) * size * 3];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += wk * s;
            }
        }
    }
    out
}
