//! Labelled text from files people have: CSV/TSV (quoted fields, header detection, a choice of
//! text and label columns), JSONL (`{"text", "label"}`), or plain lists per class. Malformed rows
//! are skipped and reported with their line numbers; the rest load.

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

/// Splits delimited text into records with the `csv` crate (RFC 4180 quoting, `""` for a quote,
/// newlines inside quotes; `\n`, `\r\n` or a lone `\r` end a row; rows may differ in length),
/// each with the line it starts on. Blank lines are dropped. A quoted field still open at the
/// end of the input becomes an error row: the csv crate would silently take the rest of the file
/// as that one field.
fn records(input: &str, delimiter: char) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(u8::try_from(delimiter).unwrap_or(b','))
        .from_reader(input.as_bytes());
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = usize::try_from(reader.position().line()).unwrap_or(usize::MAX);
        let start = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                // The record's own starting line: the reader's position before it may still be on
                // a blank line that it skips.
                let line = record
                    .position()
                    .and_then(|p| usize::try_from(p.line()).ok())
                    .unwrap_or(line);
                let start = record
                    .position()
                    .and_then(|p| usize::try_from(p.byte()).ok())
                    .unwrap_or(start);
                if record.len() == 1 && record[0].trim().is_empty() {
                    continue;
                }
                // Only the last record can hold an unclosed quote: it swallows the rest.
                let at_end =
                    usize::try_from(reader.position().byte()).is_ok_and(|end| end >= input.len());
                if at_end && ends_inside_quotes(input.get(start..).unwrap_or(""), delimiter) {
                    out.push((
                        line,
                        Err("a quoted field is never closed (a missing \")".to_string()),
                    ));
                } else {
                    out.push((line, Ok(record.iter().map(str::to_string).collect())));
                }
            }
            Err(e) => out.push((line, Err(e.to_string()))),
        }
    }
    out
}

/// Whether the last record (`raw`, from its start to the end of the input) opens a quoted field
/// that never closes: it has a field that starts with a quote, and an odd number of quotes (closed
/// quoted fields and doubled quotes always come in pairs).
fn ends_inside_quotes(raw: &str, delimiter: char) -> bool {
    let opens_quoted = raw.starts_with('"')
        || raw
            .as_bytes()
            .windows(2)
            .any(|w| w[0] as char == delimiter && w[1] == b'"');
    opens_quoted && raw.matches('"').count() % 2 == 1
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
            "there is no {what} column named '{name}': the first line is not a header with that name; \
             pick the {what} column by its name in the first line, or give its position (0 = first)"
        ))),
    }
}

/// Whether the first record looks like a header: a named column appears in it, or (for
/// positions) its label cell never appears again as a label.
fn looks_like_header(first: &[String], rest: &[&[String]], text: &Column, label: &Column) -> bool {
    let named: Vec<&String> = [text, label]
        .into_iter()
        .filter_map(|c| match c {
            Column::Name(n) => Some(n),
            Column::Index(_) => None,
        })
        .collect();
    if !named.is_empty() {
        // One named column found is enough: the other's absence is then reported with the
        // header's names rather than as a missing header.
        return named
            .iter()
            .any(|n| first.iter().any(|c| c.trim() == n.as_str()));
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
    let rows = records(without_bom(input), delimiter);
    let mut rows = rows;
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

/// Parses JSON Lines: one object per line, the text under `text` and the label under `label`
/// (strings; numbers and booleans are taken as labels too).
pub fn parse_jsonl(input: &str, text: &Column, label: &Column) -> Result<TextTable> {
    let key = |column: &Column, what: &str| match column {
        Column::Name(name) => Ok(name.clone()),
        Column::Index(i) => Err(Error::Data(format!(
            "JSONL fields have names, not positions: name the {what} field instead of {i}"
        ))),
    };
    let (text_key, label_key) = (key(text, "text")?, key(label, "label")?);
    let mut table = TextTable::default();
    for (i, line) in without_bom(input).lines().enumerate() {
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
        let text = value.get(&text_key).and_then(|t| t.as_str());
        let label = match value.get(&label_key) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        match (text, label) {
            (Some(t), Some(l)) => push_example(&mut table, i + 1, t, &l),
            _ => table.skipped.push(SkippedRow {
                line: i + 1,
                reason: format!("needs a string \"{text_key}\" and a \"{label_key}\""),
            }),
        }
    }
    Ok(table)
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
