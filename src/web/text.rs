//! The wasm API's text methods: add texts, read a file's columns, load CSV/TSV/JSONL, predict a
//! text.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::Project;
use super::state::ProjectState;
use super::{from_js, to_js};
use crate::backbone::BackboneSpec;
use crate::data::text_table::{self, Column, SkippedRow, TextFormat, TextTable};
use crate::data::{Tokenizer, encoder_rows};
use crate::error::Error;

/// How to read a text file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextFileOptions {
    /// "csv", "tsv" or "jsonl".
    format: TextFormat,
    /// Column of the text (name, or 0-based position for CSV/TSV). Default: "text".
    #[serde(default)]
    text_column: Option<Column>,
    /// Column of the label (name, or 0-based position for CSV/TSV). Default: "label".
    #[serde(default)]
    label_column: Option<Column>,
    /// Whether the first row is a header; detected when absent.
    #[serde(default)]
    header: Option<bool>,
}

/// What loading a file did.
#[derive(Serialize)]
struct TextFileReport {
    added: usize,
    skipped: Vec<SkippedRow>,
    columns: Vec<String>,
    counts: Vec<(String, usize)>,
}

impl ProjectState {
    fn text_parts(&self) -> Result<(&Tokenizer, usize), Error> {
        match (&self.tokenizer, &self.spec) {
            (Some(t), BackboneSpec::Bert { max_len, .. }) => Ok((t, *max_len)),
            _ => Err(Error::State(format!(
                "{} does not take text; choose a text backbone",
                self.spec.name()
            ))),
        }
    }

    fn add_table(&mut self, table: &TextTable) -> Result<usize, Error> {
        let (tokenizer, max_len) = self.text_parts()?;
        let texts: Vec<&str> = table.examples.iter().map(|e| e.text.as_str()).collect();
        let rows = encoder_rows(tokenizer, &texts, max_len);
        let mut staged = self.data.clone();
        for (i, e) in table.examples.iter().enumerate() {
            staged.add(&rows[i * 2 * max_len..(i + 1) * 2 * max_len], &e.label)?;
        }
        let held = self.data.len();
        self.data = staged;
        self.texts.resize(held, String::new());
        self.texts
            .extend(table.examples.iter().map(|e| e.text.clone()));
        Ok(table.examples.len())
    }
}

impl ProjectState {
    /// Adds texts of class `class`. Returns the number of examples held.
    pub fn add_texts(&mut self, texts: Vec<String>, class: String) -> Result<usize, JsError> {
        if class.trim().is_empty() {
            return Err(
                Error::Data("the class name is empty; give the class a name".into()).into(),
            );
        }
        let lists = [(class, texts.join("\n"))];
        let table = text_table::from_lists(&lists);
        self.add_table(&table)?;
        Ok(self.data.len())
    }

    /// Loads labelled texts from a file's content. Malformed rows are skipped and returned with
    /// their line numbers and reasons; the others are added.
    /// `options = { format: "csv"|"tsv"|"jsonl", text_column?, label_column?, header? }`.
    pub fn add_text_file(&mut self, content: String, options: JsValue) -> Result<JsValue, JsError> {
        let options: TextFileOptions = from_js(options, "options")?;
        let text = options.text_column.unwrap_or(Column::Name("text".into()));
        let label = options.label_column.unwrap_or(Column::Name("label".into()));
        let table =
            text_table::read_table(&content, options.format, &text, &label, options.header)?;
        let added = self.add_table(&table)?;
        let counts = self
            .data
            .classes()
            .iter()
            .cloned()
            .zip(self.data.class_counts())
            .collect();
        to_js(&TextFileReport {
            added,
            skipped: table.skipped,
            columns: table.columns,
            counts,
        })
    }

    /// The texts of the examples at `indices` (an evaluation's `hardest` carry them), in that
    /// order; an example added as a row of numbers has none (""). An index past the examples is
    /// refused.
    pub fn example_texts(&self, indices: &[u32]) -> Result<Vec<String>, JsError> {
        indices
            .iter()
            .map(|&i| {
                let i = i as usize;
                if i >= self.data.len() {
                    return Err(Error::Data(format!(
                        "there is no example {i}: the project holds {} (indices come from its evaluation)",
                        self.data.len()
                    ))
                    .into());
                }
                Ok(self.texts.get(i).cloned().unwrap_or_default())
            })
            .collect()
    }

    /// Top-k classes with probabilities for one text.
    pub async fn predict_text(&self, text: String, top_k: i32) -> Result<JsValue, JsError> {
        let (tokenizer, max_len) = self.text_parts()?;
        let rows = encoder_rows(tokenizer, &[text.as_str()], max_len);
        to_js(&self.predictions(&rows, top_k).await?[0])
    }

    /// Top-k classes with probabilities for each of `texts` (one batch through the encoder).
    pub async fn predict_texts(&self, texts: Vec<String>, top_k: i32) -> Result<JsValue, JsError> {
        let (tokenizer, max_len) = self.text_parts()?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let rows = encoder_rows(tokenizer, &refs, max_len);
        to_js(&self.predictions(&rows, top_k).await?)
    }
}

/// The column names of a text file's content (a CSV/TSV header row, or the keys of the first
/// JSONL object), so the page can offer them without parsing the file itself.
/// `format`: "csv", "tsv" or "jsonl".
#[wasm_bindgen(js_name = textColumns)]
pub fn text_columns(content: &str, format: JsValue) -> Result<Vec<String>, JsError> {
    let format: TextFormat = from_js(format, "format")?;
    Ok(text_table::columns(content, format)?)
}

/// The project's text methods (the rest of the class: `web/mod.rs`).
#[wasm_bindgen]
impl Project {
    /// Adds texts of class `class`. Returns the number of examples held.
    #[wasm_bindgen(js_name = addTexts)]
    pub fn add_texts(&self, texts: Vec<String>, class: String) -> Result<usize, JsError> {
        self.state_mut()?.add_texts(texts, class)
    }

    /// Loads labelled texts from a file's content. Malformed rows are skipped and returned with
    /// their line numbers and reasons; the others are added.
    /// `options = { format: "csv"|"tsv"|"jsonl", text_column?, label_column?, header? }`.
    #[wasm_bindgen(js_name = addTextFile)]
    pub fn add_text_file(&self, content: String, options: JsValue) -> Result<JsValue, JsError> {
        self.state_mut()?.add_text_file(content, options)
    }

    /// The texts of the examples at `indices` (e.g. an evaluation's `hardest`), in that order;
    /// "" for an example added as numbers. An index past the examples is refused.
    #[wasm_bindgen(js_name = exampleTexts)]
    pub fn example_texts(&self, indices: Vec<u32>) -> Result<Vec<String>, JsError> {
        self.state()?.example_texts(&indices)
    }

    /// Top-k classes with probabilities for one text.
    #[wasm_bindgen(js_name = predictText)]
    pub async fn predict_text(&self, text: String, top_k: i32) -> Result<JsValue, JsError> {
        self.state()?.predict_text(text, top_k).await
    }

    /// Top-k classes with probabilities for each of `texts` (one batch through the encoder).
    #[wasm_bindgen(js_name = predictTexts)]
    pub async fn predict_texts(&self, texts: Vec<String>, top_k: i32) -> Result<JsValue, JsError> {
        self.state()?.predict_texts(texts, top_k).await
    }
}
