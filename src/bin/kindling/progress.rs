//! Progress bars (indicatif): a count with its rate and ETA. They draw on stderr only when it is
//! a terminal, so scripts and logs get the plain per-epoch lines.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `total` things of `unit`, labelled `what`.
pub fn bar(total: usize, what: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    let template = format!(
        "{{prefix:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left) {{msg}}"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what.to_string());
    bar
}
