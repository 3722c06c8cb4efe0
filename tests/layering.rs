//! The crate's layering, checked: every `crate::…` path in `src/` points to its own layer or a
//! lower one (README, Layout). web/bench/bin → train → model, device_speed → backbone → data → foundation
//! (error, fingerprint, rng, init, config, device). A violation names the file, the line and the module.

use std::path::{Path, PathBuf};

/// Each top-level module of the crate and its layer: a module may use its own layer and below.
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("fingerprint", 0),
    ("rng", 0),
    ("init", 0),
    ("config", 0),
    ("device", 0),
    ("data", 1),
    ("backbone", 2),
    ("model", 3),
    ("device_speed", 3),
    ("train", 4),
    ("bench", 5),
    ("web", 5),
];

fn layer_of(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules that `line` names after `crate::` (plain paths and `crate::{a, b::c}`
/// groups).
fn crate_modules(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Names at brace depth 0 inside the group are top-level modules.
            let (mut depth, mut name, mut at_start) = (0usize, String::new(), true);
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if depth == 0 && at_start && (c.is_alphanumeric() || c == '_') => {
                        name.push(c)
                    }
                    _ if depth == 0 && at_start && !name.is_empty() => {
                        found.push(std::mem::take(&mut name));
                        at_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.push(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

/// The layer of a source file: its top-level module (`src/<module>.rs` or `src/<module>/…`);
/// `None` for the crate root and the binaries, which may use everything.
fn file_layer(src: &Path, file: &Path) -> Option<(String, u8)> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    if module == "lib" || module == "bin" {
        return None;
    }
    let layer = layer_of(module)
        .unwrap_or_else(|| panic!("src/{module} is in no layer: add it to LAYERS and the README"));
    Some((module.to_string(), layer))
}

#[test]
fn no_module_uses_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 20,
        "found only {} files under src/",
        files.len()
    );
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let Some((module, layer)) = file_layer(&src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for used in crate_modules(line) {
                checked += 1;
                match layer_of(&used) {
                    Some(l) if l <= layer => {}
                    Some(l) => violations.push(format!(
                        "{}:{}: `{module}` (layer {layer}) uses `{used}` (layer {l})",
                        file.display(),
                        n + 1
                    )),
                    // Items of the crate root (`crate::Error`, `crate::Result`).
                    None if used.chars().next().is_some_and(char::is_uppercase) => {}
                    None => violations.push(format!(
                        "{}:{}: `crate::{used}` is in no layer",
                        file.display(),
                        n + 1
                    )),
                }
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} crate paths found: is the scan broken?"
    );
    assert!(
        violations.is_empty(),
        "upward imports:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scanner_reads_plain_and_grouped_paths() {
    assert_eq!(
        crate_modules("use crate::train::run::TrainingRun;"),
        ["train"]
    );
    assert_eq!(
        crate_modules("use crate::{backbone::{Backbone, Bert}, data::Dataset, Error};"),
        ["backbone", "data", "Error"]
    );
    assert_eq!(
        crate_modules("let x = crate::model::predict(a, crate::rng::Rng::new(1));"),
        ["model", "rng"]
    );
    assert!(crate_modules("use super::Thing;").is_empty());
}
