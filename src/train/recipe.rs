//! The three recipes the page offers (Quick, Balanced, Thorough), by name, so the CLI and library
//! users start from the same settings: each changes a `TrainConfig` and the image augmentation.
//! The page's Advanced panel fills the same values from its own table (`www/options.js`).

use std::str::FromStr;

use crate::config::{
    FINE_TUNE_LEARNING_RATE, HeadConfig, QUICK_LEARNING_RATE, Schedule, Strategy, TrainConfig,
};
use crate::data::image::Augment;
use crate::error::Error;

/// A named starting point for training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipe {
    /// Frozen backbone, linear head: seconds, and a strong baseline.
    Quick,
    /// The last 2 blocks fine-tune under a 128-unit MLP head with dropout 0.2.
    Balanced,
    /// Gradual unfreezing (a block every 2 epochs, up to 4), a 256-unit head with dropout 0.3,
    /// cosine schedule with warm-up, flips and random crops.
    Thorough,
}

impl FromStr for Recipe {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        match name {
            "quick" => Ok(Self::Quick),
            "balanced" => Ok(Self::Balanced),
            "thorough" => Ok(Self::Thorough),
            other => Err(Error::config(
                "recipe",
                format!("'{other}' is not one of quick, balanced, thorough"),
            )),
        }
    }
}

impl Recipe {
    /// `config` with this recipe's choices (the others kept), and its image augmentation.
    pub fn apply(self, config: TrainConfig) -> (TrainConfig, Augment) {
        let head = |hidden: Vec<usize>, dropout: f64| HeadConfig {
            hidden,
            dropout,
            ..config.head.clone()
        };
        match self {
            Self::Quick => (
                TrainConfig {
                    strategy: Strategy::FeatureExtraction,
                    learning_rate: QUICK_LEARNING_RATE,
                    head: head(Vec::new(), 0.0),
                    schedule: Schedule::Constant,
                    warmup_steps: 0,
                    ..config
                },
                Augment::default(),
            ),
            Self::Balanced => (
                TrainConfig {
                    strategy: Strategy::Partial {
                        trainable_blocks: 2,
                    },
                    learning_rate: FINE_TUNE_LEARNING_RATE,
                    head: head(vec![128], 0.2),
                    schedule: Schedule::Constant,
                    warmup_steps: 0,
                    ..config
                },
                Augment::default(),
            ),
            Self::Thorough => (
                TrainConfig {
                    strategy: Strategy::Gradual {
                        every_epochs: 2,
                        max_blocks: Some(4),
                    },
                    learning_rate: FINE_TUNE_LEARNING_RATE,
                    head: head(vec![256], 0.3),
                    schedule: Schedule::Cosine { min_fraction: 0.05 },
                    warmup_steps: 5,
                    ..config
                },
                Augment {
                    random_resized_crop: true,
                    horizontal_flip: true,
                    ..Augment::default()
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipes_by_name_validate_and_keep_other_settings() {
        let base = TrainConfig {
            epochs: 7,
            ..TrainConfig::default()
        };
        for name in ["quick", "balanced", "thorough"] {
            let (config, augment) = name.parse::<Recipe>().unwrap().apply(base.clone());
            config.validate(19).unwrap();
            assert_eq!(config.epochs, 7);
            assert_eq!(augment.any(), name == "thorough");
        }
        let err = "fast".parse::<Recipe>().unwrap_err();
        assert!(
            err.to_string().contains("quick, balanced, thorough"),
            "{err}"
        );
    }
}
