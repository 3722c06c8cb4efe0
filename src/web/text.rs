//! The wasm API's text methods: add texts, load CSV/TSV/JSONL, predict a text.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::{Trainer, from_js, to_js};
use crate::backbone::BackboneSpec;
use crate::data::text::{Column, SkippedRow, TextTable, parse_delimited, parse_jsonl};
use crate::error::Error;
use crate::text::{Tokenizer, encoder_rows};

/// How to read a text file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextFileOptions {
    /// "csv", "tsv" or "jsonl".
    format: String,
    /// Column of the text (name or 0-based position); CSV/TSV only. Default: "text".
    #[serde(default)]
    text_column: Option<Column>,
    /// Column of the label; CSV/TSV only. Default: "label".
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

impl Trainer {
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
        self.data = staged;
        Ok(table.examples.len())
    }
}

#[wasm_bindgen]
impl Trainer {
    /// Adds texts of class `class`. Returns the number of examples held.
    #[wasm_bindgen(js_name = addTexts)]
    pub fn add_texts(&mut self, texts: Vec<String>, class: String) -> Result<usize, JsError> {
        let lists = [(class, texts.join("\n"))];
        let table = crate::data::text::from_lists(&lists);
        self.add_table(&table)?;
        Ok(self.data.len())
    }

    /// Loads labelled texts from a file's content. Malformed rows are skipped and returned with
    /// their line numbers and reasons; the others are added.
    /// `options = { format: "csv"|"tsv"|"jsonl", text_column?, label_column?, header? }`.
    #[wasm_bindgen(js_name = addTextFile)]
    pub fn add_text_file(&mut self, content: String, options: JsValue) -> Result<JsValue, JsError> {
        let options: TextFileOptions = from_js(options, "options")?;
        let text = options.text_column.unwrap_or(Column::Name("text".into()));
        let label = options.label_column.unwrap_or(Column::Name("label".into()));
        let table = match options.format.as_str() {
            "csv" => parse_delimited(&content, ',', &text, &label, options.header)?,
            "tsv" => parse_delimited(&content, '\t', &text, &label, options.header)?,
            "jsonl" => parse_jsonl(&content),
            other => {
                return Err(Error::config(
                    "format",
                    format!("'{other}' is not one of csv, tsv, jsonl"),
                )
                .into());
            }
        };
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

    /// Top-k classes with probabilities for one text.
    #[wasm_bindgen(js_name = predictText)]
    pub async fn predict_text(&self, text: String, top_k: usize) -> Result<JsValue, JsError> {
        let (tokenizer, max_len) = self.text_parts()?;
        let rows = encoder_rows(tokenizer, &[text.as_str()], max_len);
        to_js(&self.predictions(&rows, top_k).await?[0])
    }

    /// Top-k classes with probabilities for each of `texts` (one batch through the encoder).
    #[wasm_bindgen(js_name = predictTexts)]
    pub async fn predict_texts(
        &self,
        texts: Vec<String>,
        top_k: usize,
    ) -> Result<JsValue, JsError> {
        let (tokenizer, max_len) = self.text_parts()?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let rows = encoder_rows(tokenizer, &refs, max_len);
        to_js(&self.predictions(&rows, top_k).await?)
    }
}
