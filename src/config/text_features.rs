//! What a text backbone's head reads: the sentence embedding, or every layer's mean token
//! vector side by side, and the rule `auto` follows.

use serde::{Deserialize, Serialize};

use super::Strategy;

/// What the head of a text backbone reads (images have one feature vector and ignore it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextFeatures {
    /// `every_layer` when the backbone stays frozen (feature extraction), every class has at
    /// least [`EVERY_LAYER_AUTO_MIN_PER_CLASS`] examples and the data set at most
    /// [`EVERY_LAYER_AUTO_MAX_EXAMPLES`], else `last_layer`.
    #[default]
    Auto,
    /// The sentence embedding: the mean of the last layer's token vectors, of unit length.
    LastLayer,
    /// The mean token vector after the embeddings and after every layer, each of unit length,
    /// side by side (7 × 384 values for MiniLM). Lower layers keep what the last one, trained
    /// for meaning, drops (wording, style, length): with the solved head it scored 1.8 to 2.4
    /// points above the sentence embedding on every text set of the quality benchmark at 300
    /// examples a class, −2.0 to +3.8 at 30 (README, Model quality). Needs a frozen backbone: a
    /// pass through trainable blocks starts from a cache part-way up and has no earlier layers
    /// to pool.
    EveryLayer,
}

/// The most examples for which `TextFeatures::Auto` pools every layer: 7 × 384 values a text
/// make the frozen features 7 times larger (50,000 texts: about 1.1 GB cached instead of 154 MB,
/// too much for a tab).
pub const EVERY_LAYER_AUTO_MAX_EXAMPLES: usize = 10_000;

/// The fewest examples of a class for which `TextFeatures::Auto` pools every layer. Measured on
/// the quality benchmark's held-out texts (README, Model quality): at 300 a class every layer was
/// 1.8 to 2.4 points above the sentence embedding on all three text sets, at 100 a class +0.7
/// and +0.8 on the two measured; at 30 a class it went from −2.0 (e-mails) to +3.8 points:
/// 2,688 values fitted on 25 examples a class can fit noise.
pub const EVERY_LAYER_AUTO_MIN_PER_CLASS: usize = 100;

impl TextFeatures {
    /// Whether a run with `strategy` over examples of `class_counts` pools every layer.
    pub fn every_layer(self, strategy: &Strategy, class_counts: &[usize]) -> bool {
        match self {
            Self::Auto => {
                *strategy == Strategy::FeatureExtraction
                    && class_counts.iter().sum::<usize>() <= EVERY_LAYER_AUTO_MAX_EXAMPLES
                    && class_counts
                        .iter()
                        .all(|&n| n >= EVERY_LAYER_AUTO_MIN_PER_CLASS)
            }
            Self::LastLayer => false,
            Self::EveryLayer => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainConfig;

    #[test]
    fn text_features_auto_pools_every_layer_only_for_a_frozen_encoder_and_few_examples() {
        let frozen = Strategy::FeatureExtraction;
        let tail = Strategy::Partial {
            trainable_blocks: 2,
        };
        let auto = TextFeatures::Auto;
        let min = EVERY_LAYER_AUTO_MIN_PER_CLASS;
        assert!(auto.every_layer(&frozen, &[min, 2 * min]));
        assert!(
            !auto.every_layer(&frozen, &[min - 1, 2 * min]),
            "a small class"
        );
        let max = EVERY_LAYER_AUTO_MAX_EXAMPLES;
        assert!(auto.every_layer(&frozen, &[max / 2, max / 2]));
        assert!(
            !auto.every_layer(&frozen, &[max / 2, max / 2 + 1]),
            "too many"
        );
        assert!(!auto.every_layer(&tail, &[min, min]));
        assert!(TextFeatures::EveryLayer.every_layer(&frozen, &[1, 1_000_000]));
        assert!(!TextFeatures::LastLayer.every_layer(&frozen, &[min, min]));
        let cfg = TrainConfig::from_json(r#"{"text_features": "every_layer"}"#).unwrap();
        assert_eq!(cfg.text_features, TextFeatures::EveryLayer);
        assert!(TrainConfig::from_json(r#"{"text_features": "all"}"#).is_err());
    }
}
