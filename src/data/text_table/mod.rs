//! Labelled text from files people have: CSV/TSV (quoted fields, header detection, a choice of
//! text and label columns), JSONL (`{"text", "label"}`), or plain lists per class. Malformed rows
//! are skipped and reported with their line numbers; the rest load.

mod delimited;
mod jsonl;

pub use delimited::parse_delimited;
use delimited::records;
pub use jsonl::parse_jsonl;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One labelled text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextExample {
    pub text: String,
    pub label: String,
}

/// A row that was not loaded, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkippedRow {
    /// 1-based line where the row starts.
    pub line: usize,
    pub reason: String,
}

/// What a file gave: examples, skipped rows, and the column names when there was a header.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TextTable {
    pub examples: Vec<TextExample>,
    pub skipped: Vec<SkippedRow>,
    pub columns: Vec<String>,
}

impl TextTable {
    /// Class names in order of first appearance (the label → index mapping used for training).
    pub fn classes(&self) -> Vec<String> {
        let mut classes: Vec<String> = Vec::new();
        for e in &self.examples {
            if !classes.contains(&e.label) {
                classes.push(e.label.clone());
            }
        }
        classes
    }
}

/// A column by header name or by 0-based position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Name(String),
    Index(usize),
}

/// The formats of labelled text files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    Csv,
    Tsv,
    Jsonl,
}

impl TextFormat {
    /// The format a file name suggests (`.tsv`, `.jsonl`/`.json`, else CSV).
    pub fn from_file_name(name: &str) -> Self {
        let lower = name.to_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".json") {
            Self::Jsonl
        } else if lower.ends_with(".tsv") {
            Self::Tsv
        } else {
            Self::Csv
        }
    }

    fn delimiter(self) -> Option<char> {
        match self {
            Self::Csv => Some(','),
            Self::Tsv => Some('\t'),
            Self::Jsonl => None,
        }
    }
}

/// Reads a labelled text file of `format`: `text` and `label` name (or, for CSV/TSV, number) the
/// columns; `header` says whether CSV/TSV has a header row (`None`: detect).
pub fn read_table(
    input: &str,
    format: TextFormat,
    text: &Column,
    label: &Column,
    header: Option<bool>,
) -> Result<TextTable> {
    match format.delimiter() {
        Some(delimiter) => parse_delimited(input, delimiter, text, label, header),
        None => parse_jsonl(input, text, label),
    }
}

/// The column names of a file: a CSV/TSV file's first row, or the keys of a JSONL file's first
/// object, so a person can pick the text and label columns.
pub fn columns(input: &str, format: TextFormat) -> Result<Vec<String>> {
    let input = without_bom(input);
    let Some(delimiter) = format.delimiter() else {
        let first = input
            .lines()
            .find(|l| !l.trim().is_empty())
            .ok_or_else(|| Error::Data("the file is empty".into()))?;
        let value: serde_json::Value = serde_json::from_str(first).map_err(|e| {
            Error::Data(format!(
                "the first line is not JSON ({e}); JSONL needs one JSON object per line"
            ))
        })?;
        let object = value
            .as_object()
            .ok_or_else(|| Error::Data("the first line is not a JSON object".into()))?;
        return Ok(object.keys().cloned().collect());
    };
    let (_, first) = records(input, delimiter)
        .into_iter()
        .next()
        .ok_or_else(|| Error::Data("the file is empty".into()))?;
    let first = first.map_err(|e| Error::Data(format!("the first line is malformed: {e}")))?;
    if first.len() < 2 {
        let other = if delimiter == ',' { "tab" } else { "comma" };
        return Err(Error::Data(format!(
            "the first line has one column; a text and a label column are needed (is the file {other}-separated?)"
        )));
    }
    Ok(first.into_iter().map(|c| c.trim().to_string()).collect())
}

/// A byte-order mark at the start is not part of the first column's name.
fn without_bom(input: &str) -> &str {
    input.strip_prefix('\u{feff}').unwrap_or(input)
}

fn push_example(table: &mut TextTable, line: usize, text: &str, label: &str) {
    let (text, label) = (text.trim(), label.trim());
    let reason = if text.is_empty() {
        Some("the text is empty")
    } else if label.is_empty() {
        Some("the label is empty")
    } else {
        None
    };
    match reason {
        Some(r) => table.skipped.push(SkippedRow {
            line,
            reason: r.into(),
        }),
        None => table.examples.push(TextExample {
            text: text.into(),
            label: label.into(),
        }),
    }
}

/// Plain lists: one text per line for each class.
pub fn from_lists(lists: &[(String, String)]) -> TextTable {
    let mut table = TextTable::default();
    for (class, lines) in lists {
        for (i, line) in lines.lines().enumerate() {
            if !line.trim().is_empty() {
                push_example(&mut table, i + 1, line, class);
            }
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Column {
        Column::Name(s.into())
    }

    #[test]
    fn csv_with_header_quotes_and_bad_rows() {
        let csv = "sentiment,confidence,text\n\
                   negative,0.7,\"I don't, really\"\n\
                   positive,0.9,\"multi\nline \"\"quoted\"\"\"\n\
                   broken-row\n\
                   neutral,0.5,\n\
                   ,0.5,no label\n\
                   positive,1,fine\n";
        let t = parse_delimited(csv, ',', &name("text"), &name("sentiment"), None).unwrap();
        assert_eq!(t.columns, vec!["sentiment", "confidence", "text"]);
        assert_eq!(t.examples.len(), 3);
        assert_eq!(t.examples[0].text, "I don't, really");
        assert_eq!(t.examples[1].text, "multi\nline \"quoted\"");
        let lines: Vec<usize> = t.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![5, 6, 7], "{:?}", t.skipped);
        assert_eq!(t.classes(), vec!["negative", "positive"]);
    }

    #[test]
    fn tsv_by_position_detects_no_header_and_unclosed_quotes_are_reported() {
        let tsv = "good movie\tpos\nbad movie\tneg\nok\tpos\n";
        let t = parse_delimited(tsv, '\t', &Column::Index(0), &Column::Index(1), None).unwrap();
        assert_eq!(t.examples.len(), 3);
        let bad = "text,label\nfine,a\n\"never closed,b\nmore,c\n";
        let t = parse_delimited(bad, ',', &name("text"), &name("label"), None).unwrap();
        assert_eq!(t.examples.len(), 1);
        assert_eq!(t.skipped[0].line, 3);
        assert!(t.skipped[0].reason.contains("never closed"));
        let err = parse_delimited("a,b\n1,2\n", ',', &name("text"), &name("label"), Some(true))
            .unwrap_err();
        assert!(err.to_string().contains("columns are: a, b"), "{err}");
        assert!(parse_delimited("", ',', &Column::Index(0), &Column::Index(1), None).is_err());
    }

    #[test]
    fn jsonl_and_lists() {
        let t = parse_jsonl(
            "{\"text\": \"hi\", \"label\": \"greet\"}\nnot json\n{\"text\": \"x\"}\n{\"text\": \"n\", \"label\": 3}\n",
            &name("text"),
            &name("label"),
        )
        .unwrap();
        assert_eq!(t.examples.len(), 2);
        assert_eq!(t.examples[1].label, "3");
        assert_eq!(
            t.skipped.iter().map(|s| s.line).collect::<Vec<_>>(),
            vec![2, 3]
        );
        let l = from_lists(&[
            ("a".into(), "one\n\ntwo".into()),
            ("b".into(), "three".into()),
        ]);
        assert_eq!(l.examples.len(), 3);
        assert_eq!(l.classes(), vec!["a", "b"]);
    }

    #[test]
    fn bom_cr_only_line_ends_and_columns() {
        let csv = "\u{feff}text,label\rgood,pos\r\"two\rlines\",neg\r";
        let t = parse_delimited(csv, ',', &name("text"), &name("label"), None).unwrap();
        assert_eq!(t.columns, vec!["text", "label"]);
        assert_eq!(t.examples.len(), 2, "{:?}", t.skipped);
        assert_eq!(t.examples[1].text, "two\rlines");
        assert_eq!(
            columns(csv, TextFormat::Csv).unwrap(),
            vec!["text", "label"]
        );
        assert_eq!(
            columns("\n{\"body\": \"x\", \"y\": 1}\n", TextFormat::Jsonl).unwrap(),
            vec!["body", "y"]
        );
        let one = columns("just one column\n", TextFormat::Csv).unwrap_err();
        assert!(one.to_string().contains("tab-separated"), "{one}");
        assert!(columns("  \n", TextFormat::Jsonl).is_err());
    }

    #[test]
    fn a_missing_label_column_is_named_and_jsonl_reads_the_chosen_fields() {
        let err = parse_delimited("text,kind\na,b\n", ',', &name("text"), &name("label"), None)
            .unwrap_err();
        assert!(
            err.to_string().contains("no label column named 'label'"),
            "{err}"
        );
        let t = read_table(
            "{\"body\": \"hello\", \"y\": \"greet\"}\n{\"text\": \"no\", \"label\": \"x\"}\n",
            TextFormat::Jsonl,
            &name("body"),
            &name("y"),
            None,
        )
        .unwrap();
        assert_eq!(t.examples.len(), 1);
        assert_eq!(t.examples[0].text, "hello");
        assert!(t.skipped[0].reason.contains("\"body\""), "{:?}", t.skipped);
        assert!(parse_jsonl("{}", &Column::Index(0), &name("y")).is_err());
        assert_eq!(TextFormat::from_file_name("a.TSV"), TextFormat::Tsv);
    }
}
