//! Examples from files people have: an image folder with one sub-folder per class (the layout
//! Keras' `image_dataset_from_directory` and torchvision's `ImageFolder` read), or a labelled
//! text file. Images are decoded and preprocessed on every core (rayon); unreadable files are
//! skipped and named, the rest load.

use std::path::{Path, PathBuf};

use clap::Args;
use kindling::backbone::BackboneSpec;
use kindling::data::image::{Preprocess, Rgba, decode_file};
use kindling::data::text_table::{Column, TextFormat, read_table};
use kindling::data::{Dataset, Tokenizer, encoder_rows};
use kindling::train::recipe::DataProfile;
use kindling::{Error, Result};
use rayon::prelude::*;

use crate::progress;

/// Which columns of a text file hold the text and the label.
#[derive(Args, Clone)]
pub struct TextColumns {
    /// The text column of a CSV/TSV/JSONL file (a name, or a position from 0).
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// The label column (a name, or a position from 0).
    #[arg(long, default_value = "label")]
    pub label_column: String,
}

fn column(value: &str) -> Column {
    value
        .parse()
        .map_or_else(|_| Column::Name(value.to_string()), Column::Index)
}

/// Labelled examples and (when augmentation needs them) the images, shrunk.
pub struct Examples {
    pub data: Dataset,
    pub images: Vec<Rgba>,
    /// What the recipes adapt to (`Recipe::adapt`, `auto_plan`).
    pub profile: DataProfile,
}

/// The profile of `data`; `greyscale` says whether every image was grey (`None` for text).
fn profile(data: &Dataset, greyscale: Option<bool>) -> DataProfile {
    DataProfile {
        smallest_class: data.class_counts().into_iter().min().unwrap_or(0),
        images: greyscale.is_some(),
        greyscale: greyscale.unwrap_or(false),
    }
}

const IMAGE_EXTENSIONS: [&str; 7] = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "jfif"];

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_lowercase().as_str()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Data(format!("cannot read the folder {}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    Ok(entries)
}

/// Every image file under `dir` (any depth), sorted.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            out.extend(image_files(&path)?);
        } else if is_image(&path) {
            out.push(path);
        }
    }
    Ok(out)
}

/// A decoded image: the backbone's input, the image shrunk when asked for, and whether it is grey.
pub struct Decoded {
    pub row: Vec<f32>,
    pub kept: Option<Rgba>,
    pub greyscale: bool,
}

/// How `spec` prepares images (an error for a backbone that takes none).
pub fn image_preprocess(spec: &BackboneSpec) -> Result<Preprocess> {
    spec.preprocess()
        .ok_or_else(|| Error::config("backbone", format!("{} does not take images", spec.name())))
}

/// Decodes and preprocesses `files` on every core into rows (keeping each image shrunk to `keep`
/// pixels on its short side when given); unreadable ones are reported and left out (`None`).
pub fn image_rows(
    files: &[PathBuf],
    preprocess: &Preprocess,
    keep: Option<usize>,
) -> Result<Vec<Option<Decoded>>> {
    let bar = progress::bar(files.len(), "decoding", "images");
    let rows = files
        .par_iter()
        .map(|path| {
            let row = match decode_file(path) {
                Ok(img) => Some(Decoded {
                    row: preprocess.eval(&img),
                    kept: keep.map(|side| img.shrunk(side)),
                    greyscale: img.is_greyscale(),
                }),
                Err(e) => {
                    bar.suspend(|| eprintln!("skipped {e}"));
                    None
                }
            };
            bar.inc(1);
            row
        })
        .collect();
    bar.finish();
    Ok(rows)
}

/// An image folder streamed from disk (`stream.rs`): labels and files, no rows.
pub struct StreamedFolder {
    pub data: Dataset,
    pub files: Vec<PathBuf>,
    pub profile: DataProfile,
}

/// The folder's images as a data set whose rows stay on disk. Every image is decoded once here,
/// on every core, to leave out (and name) the unreadable ones and to see whether all are grey;
/// nothing of it is kept.
pub fn image_folder_streamed(dir: &Path, spec: &BackboneSpec) -> Result<StreamedFolder> {
    let files = class_files(dir)?;
    let dim = spec.preprocess().map_or(0, |p| p.len());
    let bar = progress::bar(files.len(), "checking", "images");
    let checked: Vec<Option<bool>> = files
        .par_iter()
        .map(|(_, path)| {
            let grey = match decode_file(path) {
                Ok(img) => Some(img.is_greyscale()),
                Err(e) => {
                    bar.suspend(|| eprintln!("skipped {e}"));
                    None
                }
            };
            bar.inc(1);
            grey
        })
        .collect();
    bar.finish();
    let mut data = Dataset::rows_elsewhere(dim);
    let mut kept = Vec::new();
    let mut greyscale = true;
    for ((class, path), grey) in files.into_iter().zip(checked) {
        if let Some(grey) = grey {
            data.add_elsewhere(path.to_string_lossy().as_bytes(), &class)?;
            kept.push(path);
            greyscale &= grey;
        }
    }
    Ok(StreamedFolder {
        profile: profile(&data, Some(greyscale)),
        data,
        files: kept,
    })
}

/// The images of a folder of class folders, with their class, in the order examples take.
fn class_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for class_dir in sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let class = class_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.extend(
            image_files(&class_dir)?
                .into_iter()
                .map(|f| (class.clone(), f)),
        );
    }
    if files.is_empty() {
        return Err(Error::Data(format!(
            "{} has no images in sub-folders: put each class's images in a folder named after the class",
            dir.display()
        )));
    }
    Ok(files)
}

/// An image folder whose sub-folders are the classes, every image's row held in memory.
fn image_folder(dir: &Path, spec: &BackboneSpec, keep: Option<usize>) -> Result<Examples> {
    let files = class_files(dir)?;
    let paths: Vec<PathBuf> = files.iter().map(|(_, f)| f.clone()).collect();
    let rows = image_rows(&paths, &image_preprocess(spec)?, keep)?;
    let mut data = Dataset::new(spec.preprocess().map_or(0, |p| p.len()));
    let mut images = Vec::new();
    let mut greyscale = true;
    for ((class, _), decoded) in files.into_iter().zip(rows) {
        if let Some(decoded) = decoded {
            data.add(&decoded.row, &class)?;
            images.extend(decoded.kept);
            greyscale &= decoded.greyscale;
        }
    }
    let profile = profile(&data, Some(greyscale));
    Ok(Examples {
        data,
        images,
        profile,
    })
}

/// The texts of a file: CSV/TSV/JSONL by extension (`label`: the label column, or `None` for
/// unlabelled input, where every text gets the label "?"); a `.txt` file holds one text a line.
pub fn read_texts(
    path: &Path,
    columns: &TextColumns,
    labelled: bool,
) -> Result<Vec<(String, String)>> {
    let bytes = crate::setup::read(path, "text file")?;
    // A stray invalid byte (common in scraped corpora) becomes U+FFFD rather than failing the file.
    let content = String::from_utf8_lossy(&bytes);
    if !labelled && path.extension().is_some_and(|e| e == "txt") {
        return Ok(content
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| (l.to_string(), "?".to_string()))
            .collect());
    }
    let format = TextFormat::from_file_name(&path.to_string_lossy());
    let text = column(&columns.text_column);
    // Unlabelled input: the text column stands in for the label, which is then ignored.
    let label = if labelled {
        column(&columns.label_column)
    } else {
        text.clone()
    };
    let table = read_table(&content, format, &text, &label, None)?;
    for row in &table.skipped {
        eprintln!(
            "{}: line {} skipped: {}",
            path.display(),
            row.line,
            row.reason
        );
    }
    Ok(table
        .examples
        .into_iter()
        .map(|e| (e.text, if labelled { e.label } else { "?".into() }))
        .collect())
}

/// Labelled examples from `path` for `spec`: a folder of class folders (keeping the images
/// shrunk to `keep` pixels when augmentation needs them), or a text file.
pub fn load(
    path: &Path,
    spec: &BackboneSpec,
    tokenizer: Option<&Tokenizer>,
    columns: &TextColumns,
    keep: Option<usize>,
) -> Result<Examples> {
    if path.is_dir() {
        return image_folder(path, spec, keep);
    }
    let (Some(tokenizer), BackboneSpec::Bert { max_len, .. }) = (tokenizer, spec) else {
        return Err(Error::Data(format!(
            "{} is a file: {} takes a folder of class folders",
            path.display(),
            spec.name()
        )));
    };
    let texts = read_texts(path, columns, true)?;
    let refs: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
    let rows = encoder_rows(tokenizer, &refs, *max_len);
    let mut data = Dataset::new(2 * max_len);
    for (i, (_, label)) in texts.iter().enumerate() {
        data.add(&rows[i * 2 * max_len..(i + 1) * 2 * max_len], label)?;
    }
    Ok(Examples {
        profile: profile(&data, None),
        data,
        images: Vec::new(),
    })
}
