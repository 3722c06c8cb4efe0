//! What `kindling train` is asked: its options (clap), the recipe and settings they name, and the
//! combinations refused before any work.

use std::path::PathBuf;

use clap::Args;
use kindling::config::TrainConfig;
use kindling::data::image::Augment;
use kindling::train::recipe::Recipe;
use kindling::{Error, Result};

use crate::data::TextColumns;
use crate::features;
use crate::setup::{BackboneName, WeightArgs, read};

#[derive(Args)]
pub struct TrainArgs {
    /// An image folder (one sub-folder per class) or a labelled CSV/TSV/JSONL file.
    #[arg(long)]
    pub data: PathBuf,
    /// The pretrained backbone (its weights with --weights).
    #[arg(long, value_enum)]
    pub backbone: BackboneName,
    #[command(flatten)]
    pub weights: WeightArgs,
    /// Tokens per text (text backbones).
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    /// The recipe to start from: quick, balanced, thorough or contrastive (as on the page), or
    /// auto: the recipes that suit the data compared on one split, the best by validation kept.
    #[arg(long, default_value = "quick")]
    pub recipe: String,
    /// A TrainConfig as JSON (the page's Advanced settings, same names, defaults and checks);
    /// the fields it gives replace the recipe's.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The model file to write (the page imports it).
    #[arg(long, default_value = "model.safetensors")]
    pub out: PathBuf,
    /// Also write the history, the evaluation and why training stopped as JSON.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// The checkpoint written after every epoch [default: the model file's name + .checkpoint].
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Go on with the run saved in this checkpoint (same data and settings).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Also write the frozen backbone's features of every example, their labels and the
    /// train/validation split (safetensors), for baselines computed elsewhere on the same
    /// features and split. Needs a frozen backbone (the quick recipe).
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// Held-out labelled data in the layout of --data (the same classes), scored once with the
    /// kept model when the run ends: examples neither training, early stopping nor calibration
    /// saw. With --features, their features join the file (`test_features`, `test_labels`).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Decode every image up front and hold its rows in memory (about 600 KB an image) instead
    /// of streaming the folder from disk a chunk at a time.
    #[arg(long)]
    pub in_memory: bool,
    /// Keep the cache of the frozen part's activations in a memory-mapped file in this folder
    /// instead of in memory, for data sets whose cache outgrows memory (CPU device; the frozen
    /// blocks of an image backbone or a frozen text encoder). The file goes when the run ends.
    #[arg(long, value_name = "DIR")]
    pub disk_cache: Option<PathBuf>,
    /// k-fold cross-validation (k from 2 to 10) instead of one run: each fold's and the mean ±
    /// std accuracy and macro-F1; no model is written.
    #[arg(long)]
    pub k_fold: Option<usize>,
    #[command(flatten)]
    pub columns: TextColumns,
}

/// The recipe named on the command line; `None` for auto (a comparison of recipes).
pub fn recipe(args: &TrainArgs) -> Result<Option<Recipe>> {
    match args.recipe.as_str() {
        "auto" => Ok(None),
        name => name.parse().map(Some),
    }
}

/// What a run trains with: the recipe's settings with the settings file's laid over them.
pub struct Settings {
    pub config: TrainConfig,
    pub augment: Augment,
    /// Whether the settings file gave `augment` (which only one recipe's run on images uses).
    pub augment_given: bool,
}

/// The recipe's config (the defaults for auto, whose recipes are applied per run) and image
/// augmentation, with the fields of the JSON file (if any) laid over them.
pub fn config(args: &TrainArgs, recipe: Option<Recipe>) -> Result<Settings> {
    let (config, augment) = match recipe {
        Some(recipe) => recipe.apply(TrainConfig::default()),
        None => (TrainConfig::default(), Augment::default()),
    };
    let Some(path) = &args.config else {
        return Ok(Settings {
            config,
            augment,
            augment_given: false,
        });
    };
    let text = String::from_utf8(read(path, "settings file")?)
        .map_err(|_| Error::config("config", format!("{} is not UTF-8 text", path.display())))?;
    let given: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::config("config", format!("{} is not JSON: {e}", path.display())))?;
    let serde_json::Value::Object(fields) = given else {
        return Err(Error::config(
            "config",
            "the file must hold a JSON object of settings",
        ));
    };
    let mut merged = serde_json::to_value(&config)
        .map_err(|e| Error::State(format!("internal: settings: {e}")))?;
    let (mut augment, mut augment_given) = (augment, false);
    for (name, value) in fields {
        match name.as_str() {
            "augment" => (augment, augment_given) = (laid_over(augment, value)?, true),
            _ => merged[name] = value,
        }
    }
    let config = TrainConfig::from_json(&merged.to_string())?;
    Ok(Settings {
        config,
        augment,
        augment_given,
    })
}

/// The image augmentation of the settings file's `augment` object (the page's Augmentation
/// settings: `random_resized_crop`, `horizontal_flip`, `color_jitter`) laid over the recipe's:
/// the fields it gives replace the recipe's, unknown ones are refused.
fn laid_over(recipe: Augment, given: serde_json::Value) -> Result<Augment> {
    let serde_json::Value::Object(given) = given else {
        return Err(Error::config(
            "augment",
            "give an object, e.g. {\"horizontal_flip\": true, \"color_jitter\": 0.2}",
        ));
    };
    let mut merged = serde_json::to_value(&recipe)
        .map_err(|e| Error::State(format!("internal: augmentation: {e}")))?;
    for (name, value) in given {
        merged[name] = value;
    }
    let augment: Augment = serde_json::from_value(merged).map_err(|e| {
        Error::config(
            "augment",
            format!("{e} (the fields are random_resized_crop, horizontal_flip and color_jitter)"),
        )
    })?;
    augment.validate()?;
    Ok(augment)
}

/// Refuses the combinations of options that cannot work together, and a disk cache folder that
/// does not exist, before any work.
pub fn check_combinations(
    args: &TrainArgs,
    recipe: Option<Recipe>,
    settings: &Settings,
) -> Result<()> {
    let config = &settings.config;
    if settings.augment_given && (matches!(args.backbone, BackboneName::Minilm) || recipe.is_none())
    {
        return Err(Error::config(
            "augment",
            "the settings file's augment is image augmentation for one recipe's runs: it does not \
             apply to text or to auto (each recipe brings its own); leave it out for those",
        ));
    }
    if recipe.is_none()
        && (args.features.is_some() || args.resume.is_some() || args.k_fold.is_some())
    {
        return Err(Error::config(
            "recipe",
            "auto compares recipes and keeps one model: it does not combine with --features, --resume or --k-fold; name a recipe for those",
        ));
    }
    if args.features.is_some() {
        features::check(config)?;
        // The features written are the cached ones, and a run that augments caches none.
        if settings.augment.any() {
            return Err(Error::config(
                "features",
                "--features writes the pretrained features a run caches, and a run that augments its images caches none: leave augment out of the settings",
            ));
        }
    }
    if let Some(dir) = &args.disk_cache {
        if recipe.is_none() || args.k_fold.is_some() {
            return Err(Error::config(
                "disk-cache",
                "--disk-cache applies to one run: name a recipe and leave out --k-fold",
            ));
        }
        if !dir.is_dir() {
            return Err(Error::config(
                "disk-cache",
                format!("{} is not a folder: give an existing folder", dir.display()),
            ));
        }
    }
    if args.weights.device.len() > 1 && (recipe.is_none() || args.k_fold.is_some()) {
        return Err(Error::config(
            "device",
            "several devices train one run: name a recipe and leave out --k-fold, or name one device",
        ));
    }
    if args.test.is_some() && args.k_fold.is_some() {
        return Err(Error::config(
            "test",
            "--test scores the model a run keeps, and k-fold keeps none: leave one of them out",
        ));
    }
    Ok(())
}
