//! Labelled text from files people have: CSV/TSV (quoted fields, header detection, a choice of
//! text and label columns), JSONL (`{"text", "label"}`), or plain lists per class. Malformed rows
//! are skipped and reported with their line numbers; the rest load. Also the seeded text
//! augmentation (token dropout, neighbour swap) for training.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::Rng;

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

/// Splits delimited text into records (RFC 4180 quoting: `"…"` with `""` for a quote, newlines
/// allowed inside quotes), each with its starting line. An unterminated quote is an error row.
fn records(input: &str, delimiter: char) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut start_line) = (1, 1);
    let mut in_quotes = false;
    let mut chars = input.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            c if c == delimiter => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                out.push((start_line, Ok(std::mem::take(&mut fields))));
                line += 1;
                start_line = line;
                any = false;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        out.push((
            start_line,
            Err("a quoted field is never closed (a missing \")".to_string()),
        ));
    } else if any {
        fields.push(field);
        out.push((start_line, Ok(fields)));
    }
    out
}

fn resolve(column: &Column, header: Option<&[String]>, what: &str) -> Result<usize> {
    match (column, header) {
        (Column::Index(i), _) => Ok(*i),
        (Column::Name(name), Some(h)) => h.iter().position(|c| c.trim() == name).ok_or_else(|| {
            Error::Data(format!(
                "there is no {what} column named '{name}'; the columns are: {}",
                h.join(", ")
            ))
        }),
        (Column::Name(name), None) => Err(Error::Data(format!(
            "the {what} column is given by name ('{name}') but the file has no header row; give its position instead"
        ))),
    }
}

/// Whether the first record looks like a header: the named columns appear in it, or (for
/// positions) its label cell never appears again as a label.
fn looks_like_header(first: &[String], rest: &[&[String]], text: &Column, label: &Column) -> bool {
    if let Column::Name(n) = label {
        return first.iter().any(|c| c.trim() == n);
    }
    if let Column::Name(n) = text {
        return first.iter().any(|c| c.trim() == n);
    }
    let Column::Index(li) = label else {
        return false;
    };
    let Some(cell) = first.get(*li) else {
        return false;
    };
    !rest.iter().take(1000).any(|r| r.get(*li) == Some(cell))
}

/// Parses CSV (`delimiter` ','), TSV ('\t') or any delimited text. `header`: `Some(true/false)`
/// to say, `None` to detect.
pub fn parse_delimited(
    input: &str,
    delimiter: char,
    text: &Column,
    label: &Column,
    header: Option<bool>,
) -> Result<TextTable> {
    let mut rows = records(input, delimiter);
    rows.retain(|(_, r)| !matches!(r, Ok(f) if f.len() == 1 && f[0].trim().is_empty()));
    let mut table = TextTable::default();
    let Some((_, first)) = rows.first() else {
        return Err(Error::Data("the file is empty".into()));
    };
    let has_header = match (header, first) {
        (Some(h), _) => h,
        (None, Ok(first)) => {
            let rest: Vec<&[String]> = rows
                .iter()
                .skip(1)
                .filter_map(|(_, r)| r.as_ref().ok().map(Vec::as_slice))
                .collect();
            looks_like_header(first, &rest, text, label)
        }
        (None, Err(_)) => false,
    };
    let header_row = if has_header {
        match rows.remove(0) {
            (_, Ok(h)) => Some(
                h.into_iter()
                    .map(|c| c.trim().to_string())
                    .collect::<Vec<_>>(),
            ),
            (line, Err(e)) => {
                return Err(Error::Data(format!(
                    "line {line}: the header row is malformed: {e}"
                )));
            }
        }
    } else {
        None
    };
    let ti = resolve(text, header_row.as_deref(), "text")?;
    let li = resolve(label, header_row.as_deref(), "label")?;
    table.columns = header_row.unwrap_or_default();
    for (line, row) in rows {
        let fields = match row {
            Ok(f) => f,
            Err(reason) => {
                table.skipped.push(SkippedRow { line, reason });
                continue;
            }
        };
        let need = ti.max(li) + 1;
        if fields.len() < need {
            table.skipped.push(SkippedRow {
                line,
                reason: format!("has {} field(s), needs at least {need}", fields.len()),
            });
            continue;
        }
        push_example(&mut table, line, &fields[ti], &fields[li]);
    }
    Ok(table)
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

/// Parses JSON Lines with `{"text": "…", "label": "…"}` per line (numbers allowed as labels).
pub fn parse_jsonl(input: &str) -> TextTable {
    let mut table = TextTable::default();
    for (i, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                table.skipped.push(SkippedRow {
                    line: i + 1,
                    reason: format!("not valid JSON ({e})"),
                });
                continue;
            }
        };
        let text = value.get("text").and_then(|t| t.as_str());
        let label = match value.get("label") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        match (text, label) {
            (Some(t), Some(l)) => push_example(&mut table, i + 1, t, &l),
            _ => table.skipped.push(SkippedRow {
                line: i + 1,
                reason: "needs a string \"text\" and a \"label\"".into(),
            }),
        }
    }
    table
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

/// Token-level augmentation of encoder rows (`max_len` ids then `max_len` mask values):
/// each inner token is dropped with probability `dropout`, and neighbouring inner tokens swap
/// with probability `swap`. `[CLS]` and `[SEP]` stay in place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextAugment {
    pub dropout: f32,
    pub swap: f32,
}

impl TextAugment {
    pub fn apply(&self, row: &[f32], max_len: usize, rng: &mut Rng) -> Vec<f32> {
        let len = row[max_len..].iter().filter(|&&m| m > 0.5).count();
        if len <= 2 {
            return row.to_vec();
        }
        let mut inner: Vec<f32> = row[1..len - 1]
            .iter()
            .copied()
            .filter(|_| rng.next_f32() >= self.dropout)
            .collect();
        if inner.is_empty() {
            inner.push(row[1]);
        }
        for i in 1..inner.len() {
            if rng.next_f32() < self.swap {
                inner.swap(i - 1, i);
            }
        }
        let mut ids = vec![row[0]];
        ids.extend(inner);
        ids.push(row[len - 1]);
        let mut out: Vec<f32> = (0..max_len)
            .map(|i| ids.get(i).copied().unwrap_or(0.0))
            .collect();
        out.extend((0..max_len).map(|i| if i < ids.len() { 1.0 } else { 0.0 }));
        out
    }
}

/// Augmented training inputs from the encoder rows of a text data set.
pub struct TextAugmenter {
    pub rows: crate::data::Dataset,
    pub max_len: usize,
    pub augment: TextAugment,
}

impl crate::train::trainer::Augmenter for TextAugmenter {
    fn augment(&self, index: usize, rng: &mut Rng) -> Vec<f32> {
        self.augment.apply(self.rows.row(index), self.max_len, rng)
    }
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
        );
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
    fn augmentation_keeps_special_tokens_and_is_seeded() {
        let max_len = 8;
        let mut row = vec![101.0, 5.0, 6.0, 7.0, 102.0, 0.0, 0.0, 0.0];
        row.extend([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        let aug = TextAugment {
            dropout: 0.3,
            swap: 0.3,
        };
        let a = aug.apply(&row, max_len, &mut Rng::new(1));
        assert_eq!(a, aug.apply(&row, max_len, &mut Rng::new(1)));
        let len = a[max_len..].iter().filter(|&&m| m > 0.5).count();
        assert_eq!((a[0], a[len - 1]), (101.0, 102.0));
        assert!(len >= 3 && len <= 5);
    }
}
