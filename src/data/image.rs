//! From RGBA pixels of any size (what a canvas or ImageBitmap gives) to the normalised CHW input a
//! vision backbone expects: shorter side resized, centre crop, per-channel normalisation; and the
//! seeded training augmentations (random resized crop, horizontal flip, colour jitter).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// An RGBA image, 8 bits per channel, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Rgba {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Rgba {
    /// Whether every pixel is grey (R = G = B, within JPEG's chroma rounding): digits,
    /// documents, scans and sketches, whose mirror image is often another thing.
    pub fn is_greyscale(&self) -> bool {
        self.pixels
            .chunks_exact(4)
            .all(|p| p[0].abs_diff(p[1]) <= GREY_TOLERANCE && p[1].abs_diff(p[2]) <= GREY_TOLERANCE)
    }
}

/// How far a grey pixel's channels may differ after lossy compression.
const GREY_TOLERANCE: u8 = 3;

/// The largest image taken, in pixels (8192 × 8192 = 256 MB of RGBA): larger ones are refused
/// rather than copied into memory that a browser tab never gets back. Callers shrink photos while
/// decoding (the page asks the browser for at most 1024 pixels a side).
pub const MAX_PIXELS: usize = 8192 * 8192;

impl Rgba {
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::Data(format!(
                "an image of {width}×{height} pixels has nothing to learn from"
            )));
        }
        let area = width.checked_mul(height).filter(|&a| a <= MAX_PIXELS);
        let Some(bytes) = area.and_then(|a| a.checked_mul(4)) else {
            return Err(Error::Data(format!(
                "an image of {width}×{height} pixels is larger than the {MAX_PIXELS} pixels kindling takes; shrink it first"
            )));
        };
        if pixels.len() != bytes {
            return Err(Error::Data(format!(
                "an RGBA image of {width}×{height} needs {bytes} bytes, got {}",
                pixels.len()
            )));
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }
}

/// Decodes an image file (PNG, JPEG, GIF, BMP, WebP) natively. The error names the file, so a
/// caller can report it and go on with the other files.
#[cfg(not(target_arch = "wasm32"))]
pub fn decode_file(path: &std::path::Path) -> Result<Rgba> {
    let img = image::open(path)
        .map_err(|e| Error::Data(format!("{}: not a readable image ({e})", path.display())))?
        .to_rgba8();
    let (w, h) = img.dimensions();
    Rgba::new(w as usize, h as usize, img.into_raw())
}

/// How a backbone wants its input: size, resize before cropping, and normalisation
/// (`(x/255 − mean) / std` per RGB channel).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    pub size: usize,
    pub resize: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Preprocess {
    /// torchvision's ImageNet evaluation transform: resize 256, centre crop 224, ImageNet mean/std.
    pub const fn imagenet() -> Self {
        Self {
            size: 224,
            resize: 256,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
        }
    }

    /// Values per preprocessed image (3 × size × size).
    pub fn len(&self) -> usize {
        3 * self.size * self.size
    }

    /// Evaluation: shorter side to `resize`, centre crop `size`, normalise.
    pub fn eval(&self, img: &Rgba) -> Vec<f32> {
        let scale = self.resize as f64 / img.width.min(img.height) as f64;
        let (w, h) = (
            (img.width as f64 * scale).round().max(1.0),
            (img.height as f64 * scale).round().max(1.0),
        );
        // torchvision: resize to (w, h), then crop size×size at round((w − size)/2); mapped back
        // to source pixels so that one resampling pass does both.
        let (sx, sy) = (w / img.width as f64, h / img.height as f64);
        let size = self.size as f64;
        let window = Window {
            x: ((w - size) / 2.0).round() / sx,
            y: ((h - size) / 2.0).round() / sy,
            w: size / sx,
            h: size / sy,
        };
        self.normalise(&resample(img, &window, self.size, false))
    }

    /// Training: `augment` decides crop, flip and colour; same seed → same image.
    pub fn train(&self, img: &Rgba, augment: &Augment, rng: &mut Rng) -> Vec<f32> {
        if !augment.any() {
            return self.eval(img);
        }
        let (iw, ih) = (img.width as f64, img.height as f64);
        let window = if augment.random_resized_crop {
            random_crop_window(iw, ih, rng)
        } else {
            let side = iw.min(ih);
            Window {
                x: (iw - side) / 2.0,
                y: (ih - side) / 2.0,
                w: side,
                h: side,
            }
        };
        let flip = augment.horizontal_flip && rng.next_f32() < 0.5;
        let mut rgb = resample(img, &window, self.size, flip);
        if augment.color_jitter > 0.0 {
            jitter(&mut rgb, augment.color_jitter, rng);
        }
        self.normalise(&rgb)
    }

    /// HWC RGB in [0, 255] → normalised CHW.
    fn normalise(&self, rgb: &[f32]) -> Vec<f32> {
        let n = self.size * self.size;
        let mut out = vec![0.0; 3 * n];
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            for c in 0..3 {
                out[c * n + i] = (px[c] / 255.0 - self.mean[c]) / self.std[c];
            }
        }
        out
    }
}

/// Augmented training inputs from the original images (kept, shrunk, only while augmentation is
/// on; shared with the trainer that collected them rather than copied).
pub struct ImageAugmenter {
    pub images: std::sync::Arc<Vec<Rgba>>,
    pub preprocess: Preprocess,
    pub augment: Augment,
}

impl super::augment::Augmenter for ImageAugmenter {
    fn augment(&self, index: usize, rng: &mut Rng) -> Vec<f32> {
        self.preprocess
            .train(&self.images[index], &self.augment, rng)
    }

    fn settings(&self) -> String {
        self.augment.settings()
    }
}

impl Augment {
    /// The settings as a checkpoint records them (the same wherever the images are augmented).
    pub fn settings(&self) -> String {
        format!("image {self:?}")
    }
}

/// Training augmentations, each switchable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Augment {
    /// Crop 35–100 % of the area at an aspect ratio of 3/4–4/3, resized to the input size.
    pub random_resized_crop: bool,
    /// Mirror half of the images left-right.
    pub horizontal_flip: bool,
    /// Brightness, contrast and saturation each scaled by a factor in [1 − j, 1 + j]; 0 = off.
    pub color_jitter: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Self {
            random_resized_crop: false,
            horizontal_flip: false,
            color_jitter: 0.0,
        }
    }
}

impl Augment {
    pub fn any(&self) -> bool {
        self.random_resized_crop || self.horizontal_flip || self.color_jitter > 0.0
    }
}

/// A rectangle of the source image, in (fractional) pixels.
struct Window {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

fn random_crop_window(iw: f64, ih: f64, rng: &mut Rng) -> Window {
    let area = iw * ih;
    for _ in 0..10 {
        let target = area * (0.35 + 0.65 * rng.next_f64());
        let log_ratio = (0.75f64).ln() + ((4.0f64 / 3.0).ln() - (0.75f64).ln()) * rng.next_f64();
        let ratio = log_ratio.exp();
        let (w, h) = ((target * ratio).sqrt(), (target / ratio).sqrt());
        if w <= iw && h <= ih {
            return Window {
                x: (iw - w) * rng.next_f64(),
                y: (ih - h) * rng.next_f64(),
                w,
                h,
            };
        }
    }
    let side = iw.min(ih);
    Window {
        x: (iw - side) / 2.0,
        y: (ih - side) / 2.0,
        w: side,
        h: side,
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
fn resample(img: &Rgba, window: &Window, size: usize, flip: bool) -> Vec<f32> {
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

fn jitter(rgb: &mut [f32], amount: f32, rng: &mut Rng) {
    let mut factor = || 1.0 + amount * (2.0 * rng.next_f32() - 1.0);
    let (brightness, contrast, saturation) = (factor(), factor(), factor());
    let n = (rgb.len() / 3) as f32;
    let grey = |p: &[f32]| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    let mean_grey = rgb.chunks_exact(3).map(grey).sum::<f32>() / n * brightness;
    for px in rgb.chunks_exact_mut(3) {
        for v in px.iter_mut() {
            *v *= brightness;
        }
        let g = grey(px);
        for v in px.iter_mut() {
            let saturated = g + (*v - g) * saturation;
            *v = (mean_grey + (saturated - mean_grey) * contrast).clamp(0.0, 255.0);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shrinking_keeps_the_aspect_and_the_colours() {
        let img = Rgba::new(1000, 500, [10u8, 200, 30, 255].repeat(500_000)).unwrap();
        let small = img.shrunk(100);
        assert_eq!((small.width, small.height), (200, 100));
        assert!(
            small
                .pixels
                .chunks_exact(4)
                .all(|p| p == [10, 200, 30, 255])
        );
        let tiny = Rgba::new(20, 30, vec![7; 20 * 30 * 4]).unwrap();
        assert_eq!(tiny.shrunk(100), tiny);
    }

    use super::*;

    fn solid(w: usize, h: usize, rgb: [u8; 3]) -> Rgba {
        let pixels = (0..w * h)
            .flat_map(|_| [rgb[0], rgb[1], rgb[2], 255])
            .collect();
        Rgba::new(w, h, pixels).unwrap()
    }

    #[test]
    fn eval_keeps_a_solid_colour_and_normalises_it() {
        let p = Preprocess::imagenet();
        let out = p.eval(&solid(300, 200, [255, 0, 128]));
        assert_eq!(out.len(), p.len());
        let n = 224 * 224;
        let expect = |c: usize, v: f32| (v / 255.0 - p.mean[c]) / p.std[c];
        for (c, v) in [(0, 255.0), (1, 0.0), (2, 128.0)] {
            assert!(
                out[c * n..(c + 1) * n]
                    .iter()
                    .all(|x| (x - expect(c, v)).abs() < 1e-3)
            );
        }
    }

    #[test]
    fn flip_mirrors_and_augmentation_is_seeded() {
        let mut img = solid(64, 64, [0, 0, 0]);
        for y in 0..64 {
            for x in 0..32 {
                img.pixels[(y * 64 + x) * 4] = 255;
            }
        }
        let p = Preprocess {
            size: 32,
            resize: 32,
            mean: [0.0; 3],
            std: [1.0; 3],
        };
        let flip = Augment {
            horizontal_flip: true,
            ..Augment::default()
        };
        let (mut a, mut b) = (Rng::new(3), Rng::new(3));
        assert_eq!(p.train(&img, &flip, &mut a), p.train(&img, &flip, &mut b));
        let plain = p.eval(&img);
        assert!(plain[0] > 0.9 && plain[31] < 0.1, "left half red");
        let mut seen_flipped = false;
        let mut rng = Rng::new(1);
        for _ in 0..8 {
            let out = p.train(&img, &flip, &mut rng);
            seen_flipped |= out[0] < 0.1 && out[31] > 0.9;
        }
        assert!(seen_flipped);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(Rgba::new(0, 5, vec![]).is_err());
        assert!(
            Rgba::new(2, 2, vec![0; 15])
                .unwrap_err()
                .to_string()
                .contains("16 bytes")
        );
    }
}
