//! JSON Lines: one object per line, its text and label fields named.

use super::{Column, SkippedRow, TextTable, push_example, without_bom};
use crate::error::{Error, Result};

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
