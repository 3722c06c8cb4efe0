//! Sweep fields: a setting named by its path in the settings as JSON (`learning_rate`,
//! `head.dropout`, `augment.horizontal_flip`; `recipe` applies a recipe first), set on the
//! project's settings and checked by the same rules as a config.

use serde_json::Value;

use crate::config::TrainConfig;
use crate::data::image::Augment;
use crate::error::{Error, Result};
use crate::train::recipe::{DataProfile, Recipe};

/// The settings a field path can reach: the config, with the augmentation under `augment`.
fn settings_json(config: &TrainConfig, augment: &Augment) -> Result<Value> {
    let mut value = serde_json::to_value(config)
        .map_err(|e| Error::State(format!("internal: settings as JSON: {e}")))?;
    let augment = serde_json::to_value(augment)
        .map_err(|e| Error::State(format!("internal: augmentation as JSON: {e}")))?;
    if let Value::Object(map) = &mut value {
        map.insert("augment".into(), augment);
    }
    Ok(value)
}

/// Sets `path` (dot-separated) in `settings`; the path must exist already.
fn set_path(settings: &mut Value, path: &str, value: Value) -> Result<()> {
    let mut at = settings;
    for key in path.split('.') {
        at = at
            .as_object_mut()
            .and_then(|map| map.get_mut(key))
            .ok_or_else(|| {
                Error::config(
                    format!("sweep.{path}"),
                    "no such setting: name a field of the training settings, e.g. learning_rate, head.dropout, strategy, augment.horizontal_flip",
                )
            })?;
    }
    *at = value;
    Ok(())
}

/// `base` with `choices` (field path → value) applied, `recipe` first, its augmentation adapted
/// to the examples (`profile`) as a single run of it adapts (the sentences of what changed
/// returned too); validated.
pub(super) fn configure(
    base: &(TrainConfig, Augment),
    choices: &[(String, Value)],
    num_blocks: usize,
    profile: &DataProfile,
) -> Result<(TrainConfig, Augment, Vec<String>)> {
    let (mut config, mut augment) = base.clone();
    let mut notes = Vec::new();
    if let Some((_, recipe)) = choices.iter().find(|(field, _)| field == "recipe") {
        let name = recipe.as_str().ok_or_else(|| {
            Error::config(
                "sweep.recipe",
                format!(
                    "give recipes by name: {}",
                    crate::train::recipe::RECIPE_NAMES
                ),
            )
        })?;
        let recipe = name.parse::<Recipe>()?;
        (config, augment) = recipe.apply(config);
        // Before the listed fields: a field the sweep names (augment.horizontal_flip) stands.
        (augment, notes) = recipe.adapt(augment, profile);
    }
    let mut settings = settings_json(&config, &augment)?;
    for (field, value) in choices.iter().filter(|(field, _)| field != "recipe") {
        set_path(&mut settings, field, value.clone())?;
    }
    let augment_value = settings
        .as_object_mut()
        .and_then(|map| map.remove("augment"))
        .unwrap_or(Value::Null);
    let what = || {
        choices
            .iter()
            .map(|(f, v)| format!("{f}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let config: TrainConfig = serde_json::from_value(settings)
        .map_err(|e| Error::config("sweep", format!("{} is not a valid setting: {e}", what())))?;
    let augment: Augment = serde_json::from_value(augment_value).map_err(|e| {
        Error::config(
            "sweep",
            format!("{} is not a valid augmentation: {e}", what()),
        )
    })?;
    config.validate(num_blocks)?;
    augment.validate()?;
    Ok((config, augment, notes))
}

pub(super) fn entry_name(choices: &[(String, Value)]) -> String {
    choices
        .iter()
        .map(|(field, value)| match (field.as_str(), value) {
            ("recipe", Value::String(name)) => name.clone(),
            (_, Value::String(s)) => format!("{field}={s}"),
            _ => format!("{field}={value}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipe_adapts_to_the_images_as_a_single_run_of_it_does() {
        let greyscale = DataProfile {
            smallest_class: 30,
            images: true,
            greyscale: true,
        };
        let base = (TrainConfig::default(), Augment::default());
        let entry = |choices: &[(&str, Value)], profile: &DataProfile| {
            let choices: Vec<(String, Value)> = choices
                .iter()
                .map(|(f, v)| (f.to_string(), v.clone()))
                .collect();
            let (_, augment, notes) = configure(&base, &choices, 4, profile).unwrap();
            (augment, notes)
        };
        let thorough = ("recipe", Value::from("thorough"));
        // Greyscale images: Thorough's flips go, with the reason, as `Recipe::adapt` says.
        let (augment, notes) = entry(&[thorough.clone()], &greyscale);
        let (alone, _) =
            Recipe::Thorough.adapt(Recipe::Thorough.apply(TrainConfig::default()).1, &greyscale);
        assert_eq!(augment, alone);
        assert!(!augment.horizontal_flip);
        assert!(augment.random_resized_crop);
        assert!(notes[0].contains("greyscale"), "{notes:?}");
        let (_, notes) = entry(&[("recipe", Value::from("quick"))], &greyscale);
        assert!(notes.is_empty());
        // A flip the sweep names itself stands.
        let (augment, _) = entry(
            &[
                thorough.clone(),
                ("augment.horizontal_flip", Value::from(true)),
            ],
            &greyscale,
        );
        assert!(augment.horizontal_flip);
        // Few colour images: colour jitter joins; text (no images): nothing changes.
        let colour = DataProfile {
            greyscale: false,
            ..greyscale
        };
        let (augment, _) = entry(&[thorough.clone()], &colour);
        assert!(augment.horizontal_flip && augment.color_jitter > 0.0);
        let (augment, notes) = entry(&[thorough], &DataProfile::default());
        assert_eq!(augment.color_jitter, 0.0);
        assert!(notes.is_empty());
    }
}
