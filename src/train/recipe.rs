//! The recipes the page offers (Quick, Balanced, Thorough, Contrastive), by name, so the CLI and
//! library users start from the same settings: each changes a `TrainConfig` and the image
//! augmentation.
//! The page's Advanced panel fills the same values from its own table (`www/options.js`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::{
    BACKBONE_LR_MULTIPLIER, EarlyStopping, FINE_TUNE_LEARNING_RATE, FineTuneLoss, HeadConfig,
    QUICK_LEARNING_RATE, Schedule, Strategy, TrainConfig,
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
    /// SetFit's recipe for few examples per class: every block learns from contrastive pairs
    /// (`FineTuneLoss::Contrastive`) at SetFit's rate for SetFit's budget, and the linear head is
    /// solved after every epoch; the last epoch is kept.
    Contrastive,
}

/// The blocks' learning rate of the Contrastive recipe: SetFit's default body rate (its
/// `body_learning_rate`, 2e-5), at which its published few-shot results were measured.
pub const CONTRASTIVE_LEARNING_RATE: f64 = 2e-5;

/// The Contrastive recipe's epochs, the probe's included (see its batch size).
pub const CONTRASTIVE_EPOCHS: usize = 20;

/// The names `FromStr` takes, for messages.
pub const RECIPE_NAMES: &str = "quick, balanced, thorough, contrastive";

impl FromStr for Recipe {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        match name {
            "quick" => Ok(Self::Quick),
            "balanced" => Ok(Self::Balanced),
            "thorough" => Ok(Self::Thorough),
            "contrastive" => Ok(Self::Contrastive),
            "auto" => Err(Error::config(
                "recipe",
                "auto is not one recipe but a comparison of them (train::recipe::auto_plan): run it as a sweep",
            )),
            other => Err(Error::config(
                "recipe",
                format!("'{other}' is not one of {RECIPE_NAMES} (or auto, which compares them)"),
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
                    backbone_lr_multiplier: BACKBONE_LR_MULTIPLIER,
                    head: head(vec![128], 0.2),
                    fine_tune_loss: FineTuneLoss::CrossEntropy,
                    // Chosen on validation (a Contrastive base turns it off).
                    early_stopping: Some(EarlyStopping::default()),
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
                    backbone_lr_multiplier: BACKBONE_LR_MULTIPLIER,
                    head: head(vec![256], 0.3),
                    fine_tune_loss: FineTuneLoss::CrossEntropy,
                    // Chosen on validation (a Contrastive base turns it off).
                    early_stopping: Some(EarlyStopping::default()),
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
            Self::Contrastive => (
                TrainConfig {
                    strategy: Strategy::Full,
                    learning_rate: CONTRASTIVE_LEARNING_RATE,
                    backbone_lr_multiplier: 1.0,
                    head: head(Vec::new(), 0.0),
                    fine_tune_loss: FineTuneLoss::Contrastive,
                    // About SetFit's budget: its batch of 16 pairs, and after the probe epoch
                    // 19 epochs of two pairs per training example (SetFit: 20 iterations of
                    // two); the last epoch is kept, as SetFit keeps its model (measured:
                    // choosing the epoch on a validation split of 9 texts gave +1.8 points over
                    // the logistic regression, the fixed budget +4.1; README, Model quality).
                    batch_size: 16,
                    epochs: CONTRASTIVE_EPOCHS,
                    early_stopping: None,
                    schedule: Schedule::Constant,
                    warmup_steps: 0,
                    ..config
                },
                Augment::default(),
            ),
        }
    }
}

/// What the recipes adapt to in a project's examples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataProfile {
    /// Examples in the smallest class.
    pub smallest_class: usize,
    /// Whether the examples are images.
    pub images: bool,
    /// Whether every image is greyscale (`Rgba::is_greyscale`).
    pub greyscale: bool,
}

/// Below this many images in its smallest class, an augmenting recipe adds colour jitter: few
/// examples gain most from variety (a rule of thumb; not measured here, README Model quality).
pub const FEW_PER_CLASS: usize = 100;

/// The fewest examples in every class for which Auto also tries fine-tuning (Balanced): with
/// fewer, a validation split of a handful of examples cannot tell the recipes apart.
pub const AUTO_FINE_TUNES_FROM: usize = 20;

impl Recipe {
    /// The recipe's augmentation adapted to `profile`, with a sentence per change saying why.
    /// Flips leave greyscale images alone (digits and documents are orientation-bearing), and
    /// colour jitter joins an augmenting recipe when the smallest class has few colour images.
    /// Only what the recipe itself turned on is changed: a person's own choice stands.
    pub fn adapt(self, mut augment: Augment, profile: &DataProfile) -> (Augment, Vec<String>) {
        let mut notes = Vec::new();
        if !profile.images {
            return (augment, notes);
        }
        let (_, own) = self.apply(TrainConfig::default());
        if own.horizontal_flip && augment.horizontal_flip && profile.greyscale {
            augment.horizontal_flip = false;
            notes.push(
                "no horizontal flips: every image is greyscale, as digits, documents and scans are, \
                 whose mirror image can be another thing (turn flips on to have them)"
                    .into(),
            );
        }
        if own.any()
            && augment.color_jitter == own.color_jitter
            && !profile.greyscale
            && profile.smallest_class < FEW_PER_CLASS
        {
            augment.color_jitter = 0.2;
            notes.push(format!(
                "colour jitter 0.2: the smallest class has {} images (fewer than {FEW_PER_CLASS}), where variety helps most",
                profile.smallest_class
            ));
        }
        (augment, notes)
    }
}

/// What the Auto recipe tries: the recipes it compares on the project's split (keeping the best
/// by validation accuracy), and why those.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutoPlan {
    pub recipes: Vec<String>,
    pub why: String,
}

/// The recipes Auto compares for `profile`: Quick always (the solved linear head, never below a
/// logistic regression on the same features), Balanced when every class has at least
/// [`AUTO_FINE_TUNES_FROM`] examples. Thorough is left out: it takes many times longer.
pub fn auto_plan(profile: &DataProfile) -> AutoPlan {
    if profile.smallest_class >= AUTO_FINE_TUNES_FROM {
        AutoPlan {
            recipes: vec!["quick".into(), "balanced".into()],
            why: format!(
                "every class has at least {AUTO_FINE_TUNES_FROM} examples (the smallest {}), enough to try fine-tuning the last blocks (balanced) against the frozen backbone (quick)",
                profile.smallest_class
            ),
        }
    } else {
        AutoPlan {
            recipes: vec!["quick".into()],
            why: format!(
                "the smallest class has {} examples, fewer than the {AUTO_FINE_TUNES_FROM} that fine-tuning needs to be judged: the frozen backbone (quick) only",
                profile.smallest_class
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
        for name in ["quick", "balanced", "thorough", "contrastive"] {
            let (config, augment) = name.parse::<Recipe>().unwrap().apply(base.clone());
            config.validate(19).unwrap();
            // Contrastive sets SetFit's budget; the others leave the epochs alone.
            let epochs = if name == "contrastive" {
                CONTRASTIVE_EPOCHS
            } else {
                7
            };
            assert_eq!(config.epochs, epochs);
            assert_eq!(augment.any(), name == "thorough");
        }
        // Recipes compared from a Contrastive base (early stopping off) choose their epoch again.
        let (contrastive, _) = Recipe::Contrastive.apply(TrainConfig::default());
        assert_eq!(contrastive.early_stopping, None);
        for recipe in [Recipe::Balanced, Recipe::Thorough] {
            let (config, _) = recipe.apply(contrastive.clone());
            assert!(config.early_stopping.is_some(), "{recipe:?}");
            assert_eq!(config.fine_tune_loss, FineTuneLoss::CrossEntropy);
            config.validate(19).unwrap();
        }
        let err = "fast".parse::<Recipe>().unwrap_err();
        assert!(err.to_string().contains("auto"), "{err}");
        assert!(err.to_string().contains(RECIPE_NAMES), "{err}");
    }

    #[test]
    fn recipes_adapt_to_the_data_and_auto_fine_tunes_only_with_enough_examples() {
        let own = Recipe::Thorough.apply(TrainConfig::default()).1;
        let digits = DataProfile {
            smallest_class: 500,
            images: true,
            greyscale: true,
        };
        let (augment, notes) = Recipe::Thorough.adapt(own.clone(), &digits);
        assert!(
            !augment.horizontal_flip && augment.random_resized_crop,
            "{augment:?}"
        );
        assert!(notes[0].contains("greyscale"), "{notes:?}");
        let few_photos = DataProfile {
            smallest_class: 12,
            images: true,
            greyscale: false,
        };
        let (augment, notes) = Recipe::Thorough.adapt(own.clone(), &few_photos);
        assert!(
            augment.horizontal_flip && augment.color_jitter == 0.2,
            "{augment:?}"
        );
        assert!(notes[0].contains("12 images"), "{notes:?}");
        // Recipes without augmentation, text, and a person's own flips stay as they are.
        let (augment, notes) = Recipe::Quick.adapt(Augment::default(), &few_photos);
        assert!(!augment.any() && notes.is_empty());
        let text = DataProfile {
            images: false,
            ..few_photos
        };
        assert_eq!(Recipe::Thorough.adapt(own.clone(), &text).0, own);
        let asked = Augment {
            horizontal_flip: true,
            ..Augment::default()
        };
        assert_eq!(Recipe::Quick.adapt(asked.clone(), &digits).0, asked);

        assert_eq!(auto_plan(&few_photos).recipes, vec!["quick"]);
        let plan = auto_plan(&digits);
        assert_eq!(plan.recipes, vec!["quick", "balanced"]);
        assert!(plan.why.contains("500"), "{}", plan.why);
    }
}
