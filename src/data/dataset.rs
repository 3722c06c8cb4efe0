//! A labelled set of examples as the engine consumes them: one flat row of numbers per example
//! (backbone inputs such as feature vectors or pixels), and a class index per example. A set may
//! keep its rows elsewhere (`Dataset::rows_elsewhere`): a browser's images stay encoded outside
//! wasm memory and a run asks for the rows it needs (`TrainingRun::input_request`).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;

/// The most bytes of example rows one data set keeps. In a browser tab everything shares at most
/// 4 GB of wasm memory, one `Vec` holds at most 2 GB, and a run may copy the rows once more
/// (its activation cache, when the first block trains): past 1 GiB of rows (≈ 1,780 MobileNetV2
/// images) a project is refused more, with what it holds intact, instead of trapping later.
/// Natively the machine's memory is the limit.
#[cfg(target_arch = "wasm32")]
pub const MAX_BYTES: usize = 1 << 30;
#[cfg(not(target_arch = "wasm32"))]
pub const MAX_BYTES: usize = usize::MAX;

/// Labelled examples with named classes. Rows are stored contiguously (`dim` values each) and
/// shared between clones (a training run and the set it came from hold one copy of the pixels;
/// adding to one of them copies first).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    classes: Vec<String>,
    dim: usize,
    values: Arc<Vec<f32>>,
    labels: Vec<usize>,
    /// Of every example's label and values, in order: tells checkpoints of other data apart.
    fingerprint: Fingerprint,
    /// The most bytes of rows kept (`MAX_BYTES` unless a caller sets less).
    max_bytes: usize,
    /// Whether `values` holds the rows; if not, only labels are kept and whoever built the set
    /// supplies rows when a run asks for them.
    rows_held: bool,
}

impl Dataset {
    /// An empty set whose examples will have `dim` values each.
    pub fn new(dim: usize) -> Self {
        Self::with_budget(dim, MAX_BYTES)
    }

    /// An empty set that keeps at most `max_bytes` of rows.
    pub fn with_budget(dim: usize, max_bytes: usize) -> Self {
        Self {
            classes: Vec::new(),
            dim,
            values: Arc::default(),
            labels: Vec::new(),
            fingerprint: Fingerprint::default(),
            max_bytes,
            rows_held: true,
        }
    }

    /// An empty set of examples of `dim` values each whose rows are kept elsewhere: it holds
    /// labels (added with [`Dataset::add_elsewhere`]), and a training run asks for rows as it
    /// needs them, a batch at a time, so the set's size does not grow with `dim`.
    pub fn rows_elsewhere(dim: usize) -> Self {
        Self {
            rows_held: false,
            ..Self::with_budget(dim, 0)
        }
    }

    /// Whether the rows are held here (else a run must be given them: see `rows_elsewhere`).
    pub fn rows_held(&self) -> bool {
        self.rows_held
    }

    /// Adds one example of class `class` whose row is kept elsewhere; `identity` is what tells
    /// it apart (its file's bytes, say), for the set's fingerprint.
    pub fn add_elsewhere(&mut self, identity: &[u8], class: &str) -> Result<()> {
        if self.rows_held {
            return Err(Error::State(
                "this data set holds its rows: add examples with their values".into(),
            ));
        }
        let label = self.class_index(class)?;
        self.labels.push(label);
        self.fingerprint.update(class.trim().as_bytes());
        self.fingerprint.update(identity);
        Ok(())
    }

    /// Declares a class (even before it has examples); returns its index.
    pub fn class_index(&mut self, name: &str) -> Result<usize> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Data(
                "a class name is empty; give every class a name".into(),
            ));
        }
        Ok(match self.classes.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                self.classes.push(name.to_string());
                self.classes.len() - 1
            }
        })
    }

    /// The fingerprint of the examples (labels and values, in order).
    pub fn fingerprint(&self) -> String {
        self.fingerprint.hex()
    }

    /// Makes room for `more` values, or says that memory is full: before the budget is passed,
    /// or when the allocator has no more (the data set is left as it was either way).
    fn reserve(&mut self, more: usize) -> Result<()> {
        let (held, dim, max_bytes) = (self.values.len(), self.dim.max(1), self.max_bytes);
        let full = || {
            Error::Data(format!(
                "memory is full: the {} examples held take {} MB and this project keeps at most {} MB of examples; \
                 remove examples, or train this data set with the command line (kindling train), which has no such limit",
                held / dim,
                held.saturating_mul(4) / 1_000_000,
                max_bytes / 1_000_000
            ))
        };
        let after = held.checked_add(more).and_then(|n| n.checked_mul(4));
        if after.is_none_or(|bytes| bytes > max_bytes) {
            return Err(full());
        }
        let values = Arc::make_mut(&mut self.values);
        if values.capacity() - values.len() >= more {
            return Ok(());
        }
        // Grow by doubling while that stays within the budget, then by a quarter, so neither
        // many small additions (each a copy) nor one doubling past the budget (twice the memory
        // for a moment) happen near the end; the exact amount if even that does not fit.
        let budget = max_bytes / 4;
        let room = budget.saturating_sub(held);
        let growth = if held.saturating_mul(2) <= budget {
            held
        } else {
            (held / 4).min(room)
        };
        if values.try_reserve_exact(more.max(growth)).is_ok() {
            return Ok(());
        }
        values.try_reserve_exact(more).map_err(|_| full())
    }

    fn check_rows_held(&self) -> Result<()> {
        if self.rows_held {
            return Ok(());
        }
        Err(Error::State(
            "this data set keeps its rows elsewhere: add examples with add_elsewhere".into(),
        ))
    }

    /// Adds one example of class `class` (created if new).
    pub fn add(&mut self, values: &[f32], class: &str) -> Result<()> {
        self.check_rows_held()?;
        if values.len() != self.dim {
            return Err(Error::Data(format!(
                "an example of class '{class}' has {} values but this data set expects {} per example",
                values.len(),
                self.dim
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "an example of class '{class}' has a non-finite value at position {i}"
            )));
        }
        self.reserve(values.len())?;
        let label = self.class_index(class)?;
        Arc::make_mut(&mut self.values).extend_from_slice(values);
        self.labels.push(label);
        self.fingerprint.update(class.trim().as_bytes());
        for v in values {
            self.fingerprint.update(&v.to_le_bytes());
        }
        Ok(())
    }

    /// Adds many examples at once: `values` holds `labels.len()` rows; `labels` index `classes`.
    pub fn add_batch(
        &mut self,
        values: &[f32],
        labels: &[usize],
        classes: &[String],
    ) -> Result<()> {
        self.check_rows_held()?;
        if self.dim == 0 || labels.len().checked_mul(self.dim) != Some(values.len()) {
            return Err(Error::Data(format!(
                "{} values do not make {} examples of {} values each",
                values.len(),
                labels.len(),
                self.dim
            )));
        }
        if let Some((row, &l)) = labels
            .iter()
            .enumerate()
            .find(|(_, l)| **l >= classes.len())
        {
            return Err(Error::Data(format!(
                "example {row} has label {l}, but only {} class names were given (labels are 0 to {})",
                classes.len(),
                classes.len().saturating_sub(1)
            )));
        }
        // All or nothing, without copying what is held: room for the whole batch first, then
        // the rows; a row refused on the way (a non-finite value, a blank class) undoes the batch.
        self.reserve(values.len())?;
        let before = (
            self.values.len(),
            self.labels.len(),
            self.classes.len(),
            self.fingerprint,
        );
        for (row, &l) in labels.iter().enumerate() {
            if let Err(e) = self.add(&values[row * self.dim..(row + 1) * self.dim], &classes[l]) {
                let (values_len, labels_len, classes_len, fingerprint) = before;
                Arc::make_mut(&mut self.values).truncate(values_len);
                self.labels.truncate(labels_len);
                self.classes.truncate(classes_len);
                self.fingerprint = fingerprint;
                return Err(e);
            }
        }
        Ok(())
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }
    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }
    /// Row `i`; empty when `i` is past the end or the rows are kept elsewhere.
    pub fn row(&self, i: usize) -> &[f32] {
        let start = i.saturating_mul(self.dim);
        self.values
            .get(start..start.saturating_add(self.dim))
            .unwrap_or(&[])
    }

    /// Rows `indices` gathered into one contiguous buffer.
    pub fn gather(&self, indices: &[usize]) -> Result<Vec<f32>> {
        self.check_rows_held()?;
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::Data(format!(
                "example {bad} was asked for, but there are only {}",
                self.len()
            )));
        }
        let mut out = Vec::with_capacity(indices.len().saturating_mul(self.dim));
        for &i in indices {
            out.extend_from_slice(self.row(i));
        }
        Ok(out)
    }

    /// Examples per class, in class order.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &l in &self.labels {
            counts[l] += 1;
        }
        counts
    }

    /// Checks that the set can train a classifier: two or more classes, each with examples.
    pub fn check_trainable(&self) -> Result<()> {
        if self.classes.len() < 2 {
            return Err(Error::Data(format!(
                "training needs at least 2 classes, found {}; add examples of another class",
                self.classes.len()
            )));
        }
        let counts = self.class_counts();
        let empty: Vec<&str> = self
            .classes
            .iter()
            .zip(&counts)
            .filter(|(_, n)| **n == 0)
            .map(|(c, _)| c.as_str())
            .collect();
        if !empty.is_empty() {
            return Err(Error::Data(format!(
                "class(es) without examples: {}; add examples or delete the class",
                empty.join(", ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_its_budget_a_set_refuses_more_and_keeps_what_it_holds() {
        // Room for 10 rows of 4 values.
        let mut d = Dataset::with_budget(4, 10 * 4 * 4);
        for i in 0..10 {
            d.add(&[i as f32; 4], if i % 2 == 0 { "a" } else { "b" })
                .unwrap();
        }
        let before = d.clone();
        let err = d.add(&[1.0; 4], "c").unwrap_err();
        assert!(
            err.to_string().contains("memory is full: the 10 examples"),
            "{err}"
        );
        assert_eq!(d, before, "nothing added, not even the class");
        let mut small = Dataset::with_budget(4, 10 * 4 * 4);
        small
            .add_batch(&[0.0; 36], &[0; 9], &["a".to_string()])
            .unwrap();
        let before = small.clone();
        assert!(
            small
                .add_batch(&[0.0; 8], &[0, 1], &["a".into(), "b".into()])
                .is_err()
        );
        assert_eq!(small, before);
        // A batch refused half-way (a non-finite value in its second row) is undone whole.
        let mut d = Dataset::new(2);
        d.add(&[1.0, 2.0], "a").unwrap();
        let before = d.clone();
        let bad = d.add_batch(
            &[1.0, 1.0, f32::NAN, 0.0],
            &[1, 2],
            &["a".into(), "b".into(), "c".into()],
        );
        assert!(bad.is_err());
        assert_eq!(d, before);
    }

    #[test]
    fn bad_rows_are_rejected_and_nothing_is_lost() {
        let mut d = Dataset::new(2);
        d.add(&[1.0, 2.0], "a").unwrap();
        assert!(
            d.add(&[1.0], "a")
                .unwrap_err()
                .to_string()
                .contains("expects 2")
        );
        assert!(d.add(&[f32::NAN, 1.0], "a").is_err());
        let classes = vec!["a".to_string(), "b".to_string()];
        let err = d.add_batch(&[0.0; 4], &[0, 5], &classes).unwrap_err();
        assert!(err.to_string().contains("label 5"), "{err}");
        assert_eq!(d.len(), 1);
        assert!(
            d.check_trainable()
                .unwrap_err()
                .to_string()
                .contains("at least 2 classes")
        );
        d.class_index("b").unwrap();
        assert!(d.check_trainable().unwrap_err().to_string().contains("b"));
    }
}
