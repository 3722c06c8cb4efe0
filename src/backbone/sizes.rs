//! How large a backbone's activations are, measured rather than tabulated: one example of the
//! largest input (a text of `max_len` tokens) goes through every block, so the figures hold for
//! every architecture the registry builds. The memory estimate of a run (`train::memory`) uses them.

use burn::tensor::Device;

use super::Backbone;

impl Backbone {
    /// One example's activation shape (`Activations::example_shape`) before block 0 (index 0)
    /// and after each block (index `i + 1` after block `i`; after the last, the pooled
    /// features `[feature_dim]`), for the largest input.
    pub fn activation_shapes(&self, device: &Device) -> Vec<Vec<usize>> {
        let dim = self.input_dim();
        let row = match self {
            // Token ids 0 under a full mask: the longest text a row can hold.
            Self::Bert(_) => [vec![0.0; dim / 2], vec![1.0; dim - dim / 2]].concat(),
            _ => vec![0.0; dim],
        };
        let mut x = self.input(row, 1, device);
        let mut shapes = vec![x.example_shape()];
        for block in 0..self.num_blocks() {
            x = self.forward_blocks(x, block..block + 1, false).detach();
            shapes.push(x.example_shape());
        }
        // After the last block a run keeps the pooled features (see `TrainingRun::frozen_forward`).
        if let Some(last) = shapes.last_mut().filter(|_| self.num_blocks() > 0) {
            *last = vec![self.feature_dim()];
        }
        shapes
    }

    /// Values per example of the activations at each point of `activation_shapes` (a
    /// sequence's mask included).
    pub fn activation_sizes(&self, device: &Device) -> Vec<usize> {
        let sequence = matches!(self, Self::Bert(_));
        self.activation_shapes(device)
            .into_iter()
            .map(|shape| match (sequence, shape.as_slice()) {
                (true, &[len, width]) => len * (width + 1),
                _ => shape.iter().product(),
            })
            .collect()
    }
}
