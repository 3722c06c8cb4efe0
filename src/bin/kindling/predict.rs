//! `kindling eval` and `kindling predict`: a model file (from this CLI or the page) on a folder of
//! images or a text file.

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use clap::Args;
use kindling::backbone::BackboneSpec;
use kindling::data::{Tokenizer, encoder_rows};
use kindling::model::file::{ModelInfo, import};
use kindling::model::{Classifier, Prediction, Predictor};
use kindling::{Error, Result};

use crate::data::{TextColumns, image_files, image_preprocess, image_rows, load, read_texts};
use crate::held_out::held_out;
use crate::setup::{self, WeightArgs, read};

/// Examples per forward pass.
const CHUNK: usize = 64;

#[derive(Args)]
pub struct EvalArgs {
    /// The model file (from `kindling train` or the page's "Download model").
    #[arg(long)]
    model: PathBuf,
    /// Labelled data: an image folder (one sub-folder per class) or a CSV/TSV/JSONL file.
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    weights: WeightArgs,
    /// Also write the evaluation as JSON.
    #[arg(long)]
    metrics: Option<PathBuf>,
    #[command(flatten)]
    columns: TextColumns,
}

#[derive(Args)]
pub struct PredictArgs {
    /// The model file (from `kindling train` or the page's "Download model").
    #[arg(long)]
    model: PathBuf,
    /// Images (a folder, searched at any depth) or texts (CSV/TSV/JSONL with --text-column, or
    /// a .txt file with one text a line).
    #[arg(long)]
    input: PathBuf,
    #[command(flatten)]
    weights: WeightArgs,
    /// How many classes to list per input.
    #[arg(long, default_value_t = 3)]
    top_k: usize,
    /// Where to write the CSV [default: standard output].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    columns: TextColumns,
}

/// The model, ready to predict, with its description and the tokenizer of a text model.
struct Loaded {
    predictor: Predictor,
    info: ModelInfo,
    tokenizer: Option<Tokenizer>,
    device: Device,
}

fn open(model: &Path, weights: &WeightArgs) -> Result<Loaded> {
    let bytes = read(model, "model file")?;
    let device = setup::device(&weights.device)?.autodiff();
    let (pretrained, tokenizer) = {
        // The spec comes from the model file itself; the weights file must be the one it was
        // trained from (checked by its fingerprint).
        let probe = kindling::model::file::describe(&bytes)?;
        setup::weights(&probe.backbone, weights)?
    };
    let (classifier, info): (Classifier, ModelInfo) =
        import(&bytes, None, Some(&pretrained), &device)?;
    Ok(Loaded {
        predictor: Predictor::new(classifier, &device),
        info,
        tokenizer,
        device,
    })
}

/// Predictions for `rows` (flat, `dim` each), a chunk at a time.
fn predictions(loaded: &Loaded, rows: &[f32], dim: usize, top_k: usize) -> Result<Vec<Prediction>> {
    let mut out = Vec::new();
    for chunk in rows.chunks(CHUNK * dim.max(1)) {
        out.extend(pollster::block_on(loaded.predictor.predict(
            chunk,
            top_k,
            &loaded.device,
        ))?);
    }
    Ok(out)
}

fn text_rows(loaded: &Loaded, texts: &[String]) -> Result<(Vec<f32>, usize)> {
    let (Some(tokenizer), BackboneSpec::Bert { max_len, .. }) =
        (&loaded.tokenizer, &loaded.info.backbone)
    else {
        return Err(Error::Data(format!(
            "this model takes images ({}); give it a folder",
            loaded.info.backbone.name()
        )));
    };
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok((encoder_rows(tokenizer, &refs, *max_len), 2 * max_len))
}

pub fn eval(args: EvalArgs) -> Result<()> {
    let loaded = open(&args.model, &args.weights)?;
    let examples = load(
        &args.data,
        &loaded.info.backbone,
        loaded.tokenizer.as_ref(),
        &args.columns,
        None,
    )?;
    let held_out = held_out(examples.data, &loaded.info.classes)?;
    let model = loaded.predictor.model();
    let score = held_out.score(model, &loaded.device)?;
    let report = &score.report;
    println!(
        "{:<20} {:>9} {:>9} {:>9} {:>8}",
        "class", "precision", "recall", "F1", "support"
    );
    for (name, m) in loaded.info.classes.iter().zip(&report.per_class) {
        println!(
            "{name:<20} {:>9.3} {:>9.3} {:>9.3} {:>8}",
            m.precision, m.recall, m.f1, m.support
        );
    }
    println!("{}", score.summary());
    if let Some(path) = &args.metrics {
        let json = serde_json::json!({ "classes": loaded.info.classes, "report": report });
        std::fs::write(path, json.to_string())
            .map_err(|e| Error::Data(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

pub fn predict(args: PredictArgs) -> Result<()> {
    if !(1..=1000).contains(&args.top_k) {
        return Err(Error::config(
            "top-k",
            format!("must be between 1 and 1000, got {}", args.top_k),
        ));
    }
    let loaded = open(&args.model, &args.weights)?;
    let (names, rows, dim) = if args.input.is_dir() {
        let files = image_files(&args.input)?;
        // As the model file says (one made before cut-outs were shown whole keeps cropping them).
        let preprocess = match &loaded.info.preprocess {
            Some(preprocess) => preprocess.clone(),
            None => image_preprocess(&loaded.info.backbone)?,
        };
        let dim = preprocess.len();
        let mut names = Vec::new();
        let mut rows = Vec::new();
        for (file, decoded) in files.iter().zip(image_rows(&files, &preprocess, None)?) {
            if let Some(decoded) = decoded {
                names.push(file.display().to_string());
                rows.extend(decoded.row);
            }
        }
        (names, rows, dim)
    } else {
        let texts: Vec<String> = read_texts(&args.input, &args.columns, false)?
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        let (rows, dim) = text_rows(&loaded, &texts)?;
        (texts, rows, dim)
    };
    if names.is_empty() {
        return Err(Error::Data(format!(
            "{} holds nothing to predict",
            args.input.display()
        )));
    }
    let predictions = predictions(&loaded, &rows, dim, args.top_k)?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| Error::Data(format!("cannot write {}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let k = args.top_k.min(loaded.info.classes.len());
    let mut header = vec!["input".to_string()];
    for i in 1..=k {
        header.push(format!("class_{i}"));
        header.push(format!("probability_{i}"));
    }
    let mut lines = vec![header.join(",")];
    for (name, p) in names.iter().zip(&predictions) {
        let mut fields = vec![csv_field(name)];
        for (&class, probability) in p.classes.iter().zip(&p.probabilities) {
            fields.push(csv_field(&loaded.info.classes[class]));
            fields.push(format!("{probability:.6}"));
        }
        lines.push(fields.join(","));
    }
    writeln!(out, "{}", lines.join("\n"))
        .map_err(|e| Error::Data(format!("cannot write the predictions: {e}")))
}
