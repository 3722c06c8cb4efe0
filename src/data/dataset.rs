//! A labelled set of examples as the engine consumes them: one flat row of numbers per example
//! (backbone inputs such as feature vectors or pixels), and a class index per example.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;

/// Labelled examples with named classes. Rows are stored contiguously (`dim` values each) and
/// shared between clones (a training run and the set it came from hold one copy of the pixels;
/// adding to one of them copies first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    classes: Vec<String>,
    dim: usize,
    values: Arc<Vec<f32>>,
    labels: Vec<usize>,
    /// Of every example's label and values, in order: tells checkpoints of other data apart.
    fingerprint: Fingerprint,
}

impl Dataset {
    /// An empty set whose examples will have `dim` values each.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            ..Self::default()
        }
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

    /// Makes room for `more` values, or says that memory is full. In a browser tab the examples
    /// share at most 4 GB of wasm memory with everything else (and a `Vec` at most 2 GB), so this
    /// is where a project that grows too large is stopped, with what it holds intact.
    fn reserve(&mut self, more: usize) -> Result<()> {
        let values = Arc::make_mut(&mut self.values);
        let full = |values: &Vec<f32>| {
            let mb = values.len().saturating_mul(4) / 1_000_000;
            Error::Data(format!(
                "memory is full: the {} examples held take {mb} MB and no more fit; \
                 remove examples or train on fewer (the native CLI has no such limit)",
                values.len() / self.dim.max(1)
            ))
        };
        if values.try_reserve(more).is_ok() {
            return Ok(());
        }
        // Growth by doubling may ask for far more than needed: try the exact amount.
        values.try_reserve_exact(more).map_err(|_| full(values))
    }

    /// Adds one example of class `class` (created if new).
    pub fn add(&mut self, values: &[f32], class: &str) -> Result<()> {
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
        let label = self.class_index(class)?;
        self.reserve(values.len())?;
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
        let mut staged = self.clone();
        for (row, &l) in labels.iter().enumerate() {
            staged.add(&values[row * self.dim..(row + 1) * self.dim], &classes[l])?;
        }
        *self = staged;
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
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// Rows `indices` gathered into one contiguous buffer.
    pub fn gather(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            out.extend_from_slice(self.row(i));
        }
        out
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
