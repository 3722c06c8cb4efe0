//! What a sweep trains: a [`SweepSpec`] (the recipes, a grid, random draws, or k folds) expanded
//! into [`SweepEntry`]s — each a complete, validated `TrainConfig` with its image augmentation and
//! the split it trains on.
//!
//! Fields are named by their path in the settings as JSON (`learning_rate`, `head.dropout`,
//! `strategy`, `augment.horizontal_flip`; `recipe` applies a recipe first), so every setting can
//! be swept and a misspelt one is refused by the same checks as a config.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::TrainConfig;
use crate::data::image::Augment;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::train::recipe::DataProfile;

use super::draw::Draw;
use super::fields::{configure, entry_name};

/// The most runs one sweep may plan (a grid multiplies quickly).
pub const MAX_RUNS: usize = 64;
/// The folds k-fold cross-validation allows.
pub const FOLDS: std::ops::RangeInclusive<usize> = 2..=10;

/// What to compare. From JS: `{recipes: ["quick", …]}`, `{grid: {learning_rate: [1e-3, 3e-3]}}`,
/// `{random: {draws: 6, seed: 1, fields: {learning_rate: {log_uniform: [1e-4, 1e-2]}}}}`,
/// `{folds: {k: 5, train_final: true}}` or `{auto: {}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SweepSpec {
    /// Named recipes on the project's settings.
    Recipes(Vec<String>),
    /// Every combination of the listed values.
    Grid(BTreeMap<String, Vec<Value>>),
    /// `draws` configurations, each field drawn independently.
    Random {
        draws: usize,
        #[serde(default)]
        seed: u64,
        fields: BTreeMap<String, Draw>,
    },
    /// The project's settings, once per stratified fold; `train_final` then trains on all.
    Folds {
        k: usize,
        #[serde(default)]
        train_final: bool,
    },
    /// The Auto recipe: the recipes that suit the examples (`recipe::auto_plan`), named when
    /// the sweep is planned on them (`Sweep::new`).
    Auto {},
}

/// Which examples an entry trains and validates on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntrySplit {
    /// The project's split (seeded by the base settings), shared by every entry.
    Holdout,
    /// Fold `index` of k-fold cross-validation.
    Fold { index: usize },
    /// Every example trains; the figures are measured on training examples.
    All,
}

/// One planned run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepEntry {
    /// Says what differs from the project's settings, e.g. `learning_rate=0.003` or `balanced`.
    pub name: String,
    pub config: TrainConfig,
    pub augment: Augment,
    pub split: EntrySplit,
    /// How a recipe's augmentation was adapted to the examples, a sentence each
    /// (`Recipe::adapt`: no flips for greyscale images, colour jitter for few colour ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn too_many(count: usize) -> Error {
    Error::config(
        "sweep",
        format!("plans {count} runs; at most {MAX_RUNS} fit in one sweep: list fewer values"),
    )
}

impl SweepSpec {
    /// The entries of this sweep on the project's `base` settings, each validated for a backbone
    /// of `num_blocks` blocks; a recipe's augmentation adapts to the examples (`profile`). Errors
    /// name the field and what to change.
    pub fn plan(
        &self,
        base: &TrainConfig,
        base_augment: &Augment,
        num_blocks: usize,
        profile: &DataProfile,
    ) -> Result<Vec<SweepEntry>> {
        let base = (base.clone(), base_augment.clone());
        let mut combinations: Vec<Vec<(String, Value)>> = Vec::new();
        match self {
            Self::Auto {} => {
                return Err(Error::State(
                    "internal: an auto sweep is planned on its examples (Sweep::new)".into(),
                ));
            }
            Self::Recipes(names) => {
                if names.is_empty() {
                    return Err(Error::config("sweep.recipes", "list at least one recipe"));
                }
                combinations.extend(
                    names
                        .iter()
                        .map(|n| vec![("recipe".to_string(), Value::from(n.as_str()))]),
                );
            }
            Self::Grid(fields) => {
                let mut count = 1usize;
                for (field, values) in fields {
                    if values.is_empty() {
                        return Err(Error::config(
                            format!("sweep.{field}"),
                            "list at least one value",
                        ));
                    }
                    count = count
                        .checked_mul(values.len())
                        .filter(|&c| c <= MAX_RUNS)
                        .ok_or_else(|| too_many(count.saturating_mul(values.len())))?;
                }
                if fields.is_empty() {
                    return Err(Error::config(
                        "sweep.grid",
                        "name at least one field to vary",
                    ));
                }
                combinations.push(Vec::new());
                for (field, values) in fields {
                    combinations = combinations
                        .into_iter()
                        .flat_map(|c| {
                            values.iter().map(move |v| {
                                let mut c = c.clone();
                                c.push((field.clone(), v.clone()));
                                c
                            })
                        })
                        .collect();
                }
            }
            Self::Random {
                draws,
                seed,
                fields,
            } => {
                if !(1..=MAX_RUNS).contains(draws) {
                    return Err(Error::config(
                        "sweep.draws",
                        format!("must be between 1 and {MAX_RUNS}, got {draws}"),
                    ));
                }
                if fields.is_empty() {
                    return Err(Error::config(
                        "sweep.fields",
                        "name at least one field to draw",
                    ));
                }
                let mut rng = Rng::new(*seed);
                for _ in 0..*draws {
                    combinations.push(
                        fields
                            .iter()
                            .map(|(f, d)| Ok((f.clone(), d.draw(f, &mut rng)?)))
                            .collect::<Result<_>>()?,
                    );
                }
            }
            Self::Folds { k, train_final } => {
                if !FOLDS.contains(k) {
                    return Err(Error::config(
                        "sweep.folds.k",
                        format!(
                            "must be between {} and {}, got {k}",
                            FOLDS.start(),
                            FOLDS.end()
                        ),
                    ));
                }
                base.0.validate(num_blocks)?;
                let mut entries: Vec<SweepEntry> = (0..*k)
                    .map(|index| SweepEntry {
                        name: format!("fold {} of {k}", index + 1),
                        config: base.0.clone(),
                        augment: base.1.clone(),
                        split: EntrySplit::Fold { index },
                        notes: Vec::new(),
                    })
                    .collect();
                if *train_final {
                    entries.push(SweepEntry {
                        name: "final model, all examples".into(),
                        // No held-out examples to stop on: every epoch runs.
                        config: TrainConfig {
                            early_stopping: None,
                            ..base.0.clone()
                        },
                        augment: base.1.clone(),
                        split: EntrySplit::All,
                        notes: Vec::new(),
                    });
                }
                return Ok(entries);
            }
        }
        if combinations.len() > MAX_RUNS {
            return Err(too_many(combinations.len()));
        }
        combinations
            .iter()
            .map(|choices| {
                let (config, augment, notes) = configure(&base, choices, num_blocks, profile)?;
                Ok(SweepEntry {
                    name: entry_name(choices),
                    config,
                    augment,
                    split: EntrySplit::Holdout,
                    notes,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Strategy;

    fn spec(json: &str) -> SweepSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_grid_is_every_combination_with_names() {
        let entries =
            spec(r#"{"grid": {"learning_rate": [0.001, 0.01], "head.dropout": [0.0, 0.2, 0.5]}}"#)
                .plan(
                    &TrainConfig::default(),
                    &Augment::default(),
                    4,
                    &DataProfile::default(),
                )
                .unwrap();
        assert_eq!(entries.len(), 6);
        assert_eq!(entries[0].name, "head.dropout=0.0, learning_rate=0.001");
        assert_eq!(entries[5].config.head.dropout, 0.5);
        assert_eq!(entries[5].config.learning_rate, 0.01);
        assert!(entries.iter().all(|e| e.split == EntrySplit::Holdout));
    }

    #[test]
    fn recipes_strategies_and_augmentation_are_fields_too() {
        let entries = spec(
            r#"{"grid": {"recipe": ["quick", "thorough"], "strategy": [{"kind": "partial", "trainable_blocks": 1}], "augment.horizontal_flip": [false]}}"#,
        )
        .plan(&TrainConfig::default(), &Augment::default(), 4, &DataProfile::default())
        .unwrap();
        assert_eq!(entries.len(), 2);
        // The recipe comes first; the listed fields override it.
        assert!(entries.iter().all(|e| e.config.strategy
            == Strategy::Partial {
                trainable_blocks: 1
            }));
        assert!(!entries[1].augment.horizontal_flip);
        assert!(
            entries[1].augment.random_resized_crop,
            "thorough's crop stays"
        );
        assert_eq!(entries[1].config.head.hidden, vec![256]);
    }

    #[test]
    fn random_draws_are_seeded_and_in_range() {
        let json = r#"{"random": {"draws": 5, "seed": 3, "fields": {"learning_rate": {"log_uniform": [0.0001, 0.01]}, "head.hidden": {"choice": [[], [64]]}}}}"#;
        let a = spec(json)
            .plan(
                &TrainConfig::default(),
                &Augment::default(),
                4,
                &DataProfile::default(),
            )
            .unwrap();
        let b = spec(json)
            .plan(
                &TrainConfig::default(),
                &Augment::default(),
                4,
                &DataProfile::default(),
            )
            .unwrap();
        assert_eq!(a, b);
        assert!(
            a.iter()
                .all(|e| (1e-4..=1e-2).contains(&e.config.learning_rate))
        );
        let rates: Vec<f64> = a.iter().map(|e| e.config.learning_rate).collect();
        assert!(rates.windows(2).any(|w| w[0] != w[1]), "{rates:?}");
    }

    #[test]
    fn folds_plan_k_runs_and_the_final_one() {
        let entries = spec(r#"{"folds": {"k": 3, "train_final": true}}"#)
            .plan(
                &TrainConfig::default(),
                &Augment::default(),
                4,
                &DataProfile::default(),
            )
            .unwrap();
        let splits: Vec<EntrySplit> = entries.iter().map(|e| e.split).collect();
        assert_eq!(
            splits,
            [
                EntrySplit::Fold { index: 0 },
                EntrySplit::Fold { index: 1 },
                EntrySplit::Fold { index: 2 },
                EntrySplit::All
            ]
        );
        assert!(entries[3].config.early_stopping.is_none());
    }

    #[test]
    fn mistakes_are_refused_with_what_to_change() {
        let base = (TrainConfig::default(), Augment::default());
        let cases = [
            (r#"{"grid": {"learning_rte": [0.1]}}"#, "no such setting"),
            (r#"{"grid": {"learning_rate": [-1.0]}}"#, "learning_rate"),
            (
                r#"{"grid": {"learning_rate": ["fast"]}}"#,
                "learning_rate=\"fast\"",
            ),
            (
                r#"{"grid": {"recipe": ["slow"]}}"#,
                "quick, balanced, thorough",
            ),
            (r#"{"grid": {"learning_rate": []}}"#, "at least one value"),
            (
                r#"{"grid": {"learning_rate": [1,2,3,4,5,6,7,8], "epochs": [1,2,3,4,5,6,7,8,9]}}"#,
                "at most 64",
            ),
            (
                r#"{"random": {"draws": 0, "fields": {"epochs": {"choice": [1]}}}}"#,
                "draws",
            ),
            (
                r#"{"random": {"draws": 2, "fields": {"learning_rate": {"log_uniform": [0, 1]}}}}"#,
                "above 0",
            ),
            (r#"{"folds": {"k": 1}}"#, "between 2 and 10"),
            (r#"{"recipes": []}"#, "at least one recipe"),
        ];
        for (json, expected) in cases {
            let err = spec(json)
                .plan(&base.0, &base.1, 4, &DataProfile::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }
}
