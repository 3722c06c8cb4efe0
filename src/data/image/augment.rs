//! The seeded training augmentations of images: random resized crop, horizontal flip, colour
//! jitter ([`Preprocess::train`] applies them).

use serde::{Deserialize, Serialize};

use super::resample::Window;
use super::{Preprocess, Rgba};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Augmented training inputs from the original images (kept, shrunk, only while augmentation is
/// on; shared with the trainer that collected them rather than copied).
pub struct ImageAugmenter {
    pub images: std::sync::Arc<Vec<Rgba>>,
    pub preprocess: Preprocess,
    pub augment: Augment,
}

impl crate::data::augment::Augmenter for ImageAugmenter {
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

/// In words, for people: "horizontal flips, random resized crops, colour jitter 0.2", or "none".
impl std::fmt::Display for Augment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.horizontal_flip {
            parts.push("horizontal flips".to_string());
        }
        if self.random_resized_crop {
            parts.push("random resized crops".to_string());
        }
        if self.color_jitter > 0.0 {
            parts.push(format!("colour jitter {}", self.color_jitter));
        }
        match parts.is_empty() {
            true => f.write_str("none"),
            false => f.write_str(&parts.join(", ")),
        }
    }
}

/// The most colour jitter: factors of 1 ± j stay at or above 0 (a factor below it would invert
/// the colours rather than vary them).
pub const MAX_COLOR_JITTER: f32 = 1.0;

impl Augment {
    pub fn any(&self) -> bool {
        self.random_resized_crop || self.horizontal_flip || self.color_jitter > 0.0
    }

    /// Refuses a colour jitter outside [0, 1] (or not a number), saying what is allowed.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=MAX_COLOR_JITTER).contains(&self.color_jitter) {
            return Err(Error::config(
                "augment.color_jitter",
                format!(
                    "{} is out of range: give 0 (off) to {MAX_COLOR_JITTER}; 0.1–0.3 is usual",
                    self.color_jitter
                ),
            ));
        }
        Ok(())
    }
}

pub(super) fn random_crop_window(iw: f64, ih: f64, rng: &mut Rng) -> Window {
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
    Window::centre_square(iw, ih)
}

pub(super) fn jitter(rgb: &mut [f32], amount: f32, rng: &mut Rng) {
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
    use super::*;

    #[test]
    fn colour_jitter_outside_zero_to_one_is_refused_with_the_range() {
        for jitter in [0.0, 0.2, 1.0] {
            let augment = Augment {
                color_jitter: jitter,
                ..Augment::default()
            };
            assert!(augment.validate().is_ok(), "{jitter}");
        }
        for jitter in [-0.1, 1.5, f32::NAN, f32::INFINITY] {
            let augment = Augment {
                color_jitter: jitter,
                ..Augment::default()
            };
            let message = augment.validate().unwrap_err().to_string();
            assert!(message.contains("augment.color_jitter"), "{message}");
            assert!(message.contains("give 0 (off) to 1"), "{message}");
        }
    }

    #[test]
    fn augmentation_in_words() {
        assert_eq!(Augment::default().to_string(), "none");
        let all = Augment {
            random_resized_crop: true,
            horizontal_flip: true,
            color_jitter: 0.2,
        };
        assert_eq!(
            all.to_string(),
            "horizontal flips, random resized crops, colour jitter 0.2"
        );
    }
}
