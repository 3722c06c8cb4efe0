//! CSV/TSV: records split by the `csv` crate, the header row detected or named, the text and
//! label columns chosen by name or position.

use super::{Column, SkippedRow, TextTable, push_example, without_bom};
use crate::error::{Error, Result};

/// Splits delimited text into records with the `csv` crate (RFC 4180 quoting, `""` for a quote,
/// newlines inside quotes; `\n`, `\r\n` or a lone `\r` end a row; rows may differ in length),
/// each with the line it starts on. Blank lines are dropped. A quoted field still open at the
/// end of the input becomes an error row: the csv crate would silently take the rest of the file
/// as that one field.
pub(super) fn records(input: &str, delimiter: char) -> Vec<(usize, Result<Vec<String>, String>)> {
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
