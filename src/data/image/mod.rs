//! From RGBA pixels of any size (what a canvas or ImageBitmap gives) to the normalised CHW input a
//! vision backbone expects: shorter side resized, centre crop (a cut-out is shown whole instead),
//! per-channel normalisation; and the seeded training augmentations (random resized crop,
//! horizontal flip, colour jitter).

mod augment;
mod resample;
mod transparency;

pub use augment::{Augment, ImageAugmenter};
use augment::{jitter, random_crop_window};
use resample::{Window, resample};
use transparency::{border_mostly_transparent, composite_over_background};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// An RGBA image, 8 bits per channel, row-major; opaque once made (transparent pixels are laid
/// over a grey background by [`Rgba::new`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Rgba {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
    /// Most of its border was transparent: a cut-out (a sticker, clip art, a product photo
    /// with its background removed), shown whole on the background instead of centre-cropped.
    pub cut_out: bool,
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
        let cut_out = border_mostly_transparent(width, height, &pixels);
        let mut pixels = pixels;
        composite_over_background(&mut pixels);
        Ok(Self {
            width,
            height,
            pixels,
            cut_out,
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
    /// Cut-outs are shown whole on the background rather than centre-cropped (since
    /// 2026-12-02; absent in older model files, whose models were trained on crops of them).
    #[serde(default)]
    pub whole_cut_outs: bool,
}

impl Preprocess {
    /// torchvision's ImageNet evaluation transform: resize 256, centre crop 224, ImageNet mean/std.
    pub const fn imagenet() -> Self {
        Self {
            size: 224,
            resize: 256,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
            whole_cut_outs: true,
        }
    }

    /// Values per preprocessed image (3 × size × size).
    pub fn len(&self) -> usize {
        3 * self.size * self.size
    }

    /// Evaluation: shorter side to `resize`, centre crop `size`, normalise; a cut-out whole, its
    /// longer side to `size`, on the background.
    pub fn eval(&self, img: &Rgba) -> Vec<f32> {
        if img.cut_out && self.whole_cut_outs {
            let window = Window::around(img.width as f64, img.height as f64);
            return self.normalise(&resample(img, &window, self.size, false));
        }
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
        // The picture's frame: the image, or for a cut-out the square around it (its background
        // goes on past its edges).
        let cut_out = img.cut_out && self.whole_cut_outs;
        let frame = match cut_out {
            true => Window::around(iw, ih),
            false => Window::whole(iw, ih),
        };
        let window = if augment.random_resized_crop {
            let crop = random_crop_window(frame.w, frame.h, rng);
            Window {
                x: frame.x + crop.x,
                y: frame.y + crop.y,
                ..crop
            }
        } else if cut_out {
            frame
        } else {
            Window::centre_square(iw, ih)
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

#[cfg(test)]
mod tests {
    use super::transparency::BACKGROUND;
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
    fn transparent_pixels_show_the_background_and_opaque_ones_are_kept() {
        // Opaque, transparent with a hidden colour, half transparent white, half transparent black.
        let img = Rgba::new(
            4,
            1,
            vec![
                10, 200, 30, 255, 250, 0, 90, 0, 255, 255, 255, 128, 0, 0, 0, 128,
            ],
        )
        .unwrap();
        let b = BACKGROUND;
        assert_eq!(
            img.pixels,
            vec![
                10, 200, 30, 255, b, b, b, 255, 185, 185, 185, 255, 57, 57, 57, 255
            ]
        );
        // A black sketch on a transparent sheet stays greyscale (no flips for it).
        let sketch = Rgba::new(2, 1, vec![0, 0, 0, 255, 40, 90, 200, 0]).unwrap();
        assert!(sketch.is_greyscale());
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

    /// A 200×100 transparent sheet with an opaque red square at its left edge (rows 40–59,
    /// columns 0–19); with `corners`, an opaque white photo instead but for its four transparent
    /// corner pixels.
    fn sheet_with_red_square(corners: bool) -> Rgba {
        let (w, h) = (200, 100);
        let mut pixels = vec![0u8; w * h * 4];
        for y in 40..60 {
            for x in 0..20 {
                pixels[(y * w + x) * 4..][..4].copy_from_slice(&[255, 0, 0, 255]);
            }
        }
        if corners {
            // An opaque photo: every pixel opaque but its four corner pixels.
            for p in pixels.chunks_exact_mut(4) {
                if p[3] == 0 {
                    p.copy_from_slice(&[255, 255, 255, 255]);
                }
            }
            for (x, y) in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)] {
                pixels[(y * w + x) * 4 + 3] = 0;
            }
        }
        Rgba::new(w, h, pixels).unwrap()
    }

    #[test]
    fn a_cut_out_is_shown_whole_on_the_background_and_a_photo_is_centre_cropped() {
        let p = Preprocess {
            size: 100,
            resize: 114,
            mean: [0.0; 3],
            std: [1.0 / 255.0; 3],
            whole_cut_outs: true,
        };
        let n = 100 * 100;
        let red = |out: &[f32], x: usize, y: usize| (out[y * 100 + x], out[n + y * 100 + x]);
        let cut_out = sheet_with_red_square(false);
        assert!(cut_out.cut_out);
        let out = p.eval(&cut_out);
        // The 200×100 sheet fills the width of a 200×200 frame: rows 0–24 and 75–99 of the
        // input are the background beyond its edges, and the red square is at x 0–9, y 45–54.
        let background = f32::from(BACKGROUND);
        for (x, y) in [(0, 0), (99, 10), (50, 90), (99, 99)] {
            let (r, g) = red(&out, x, y);
            assert!(
                (r - background).abs() < 0.5 && (g - background).abs() < 0.5,
                "({x}, {y}): {r}, {g}"
            );
        }
        let (r, g) = red(&out, 4, 50);
        assert!(r > 250.0 && g < 5.0, "the red square is kept: {r}, {g}");
        // Random crops come from the same frame, seeded.
        let crops = Augment {
            random_resized_crop: true,
            ..Augment::default()
        };
        let (mut a, mut b) = (Rng::new(5), Rng::new(5));
        let first = p.train(&cut_out, &crops, &mut a);
        assert_eq!(first, p.train(&cut_out, &crops, &mut b));
        assert!(first.iter().all(|v| (0.0..=255.5).contains(v)));
        // A model file from before cut-outs were shown whole keeps cropping them.
        let older: Preprocess = serde_json::from_str(
            r#"{"size": 100, "resize": 114, "mean": [0, 0, 0], "std": [0.00392157, 0.00392157, 0.00392157]}"#,
        )
        .unwrap();
        assert!(!older.whole_cut_outs);
        assert!((0..100).all(|x| red(&older.eval(&cut_out), x, 50).0 < 200.0));

        // A photo whose only transparent pixels are its corners is centre-cropped: the red
        // square, 20 pixels from the left of a 200-pixel width, is outside the middle square.
        let photo = sheet_with_red_square(true);
        assert!(!photo.cut_out);
        let out = p.eval(&photo);
        assert!(
            (0..100).all(|x| red(&out, x, 50).1 > 250.0),
            "no red in the crop"
        );
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
            whole_cut_outs: true,
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
