//! The convex fit (`head_fit`): a linear head on a frozen backbone is a multinomial logistic
//! regression, so instead of epochs of mini-batches it is solved to its optimum with L-BFGS on
//! the cached features — the same problem as scikit-learn's `LogisticRegression()`, so the
//! default never ends below that baseline for want of optimisation (README, Model quality).
//!
//! The objective, over the training split with sample weights s (the class weights, or 1,
//! normalised to sum 1) and targets T (one-hot, label-smoothed when asked):
//! f(W, b) = −Σ s_i Σ_c T_ic log softmax(x_i W + b)_c + λ/2 ‖W‖², λ = 1 / (C · Σ weights),
//! which is scikit-learn's C·Σ w_i CE_i + ½‖W‖² divided by C·Σ w_i. Each evaluation is one pass
//! over every cached example on the device (validation rows weigh 0, so the cache is not copied)
//! and one read-back of the value and gradient; L-BFGS itself runs on the host in f64.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData, Transaction};
use web_time::Instant;

use super::state::{EpochInProgress, EpochTotals};
use super::{TrainingRun, read_error};
use crate::config::{Balance, HeadFit};
use crate::error::{Error, Result};
use crate::train::lbfgs::{CurvaturePair, Lbfgs, LineSearch, Trial, dot};
use crate::train::loss::cross_entropy_per_example;
use crate::train::report::EpochReport;

/// L-BFGS iterations in one epoch of the convex fit (an epoch's report, checkpoint and chance
/// to stop come between them).
pub const ITERATIONS_PER_EPOCH: usize = 10;

/// Converged when no gradient component exceeds this (scikit-learn's `tol` is 1e-4 on its
/// objective scaled the same way; the device computes in f32, whose rounding is near 1e-7).
const GRADIENT_TOLERANCE: f64 = 1e-5;

/// The most examples × classes the convex fit takes: each evaluation holds a few tensors of that
/// many f32 values at once (logits, log-probabilities, targets, residuals: ~350 MB at this bound),
/// where epochs of batches hold a batch's. Beyond it, `auto` trains by epochs.
pub const MAX_CONVEX_ELEMENTS: usize = 1 << 24;

/// The solver's state between epochs.
pub(super) struct ConvexFit {
    pub(super) problem: Problem,
    /// The head's weight `[features, classes]` row-major, then its bias `[classes]`.
    pub(super) params: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
    memory: Lbfgs,
    pub iterations: usize,
    /// The last accepted step length along the quasi-Newton direction (reported in place of a
    /// learning rate).
    pub last_step: f64,
    pub converged: bool,
    /// Whether this fit is a probe before fine-tuning (`head_init: probe`), whose convergence
    /// does not end the run.
    pub probe: bool,
}

/// The problem on the device: every cached example, with targets and weights that leave the
/// validation rows out.
pub(super) struct Problem {
    device: Device,
    features: Tensor<2>,
    targets: Tensor<2>,
    weights: Tensor<2>,
    train_mask: Tensor<1>,
    labels: Tensor<1, Int>,
    pub(super) dim: usize,
    pub(super) classes: usize,
    l2: f64,
}

impl Problem {
    /// The objective and its gradient at `params`.
    async fn evaluate(&self, params: &[f64]) -> Result<(f64, Vec<f64>)> {
        let logits = self.logits(params);
        let log_p = log_softmax(logits, 1);
        let cross_entropy = (log_p.clone() * self.targets.clone()).sum_dim(1).neg();
        let value = (cross_entropy * self.weights.clone()).sum();
        let residual = (log_p.exp() - self.targets.clone()) * self.weights.clone();
        let weight_gradient = self.features.clone().transpose().matmul(residual.clone());
        let bias_gradient = residual.sum_dim(0);
        let data = Transaction::default()
            .register(value)
            .register(weight_gradient)
            .register(bias_gradient)
            .execute_async()
            .await
            .map_err(read_error)?;
        let floats = |i: usize| -> Result<Vec<f32>> {
            data[i].clone().try_into_vec_as::<f32>().map_err(read_error)
        };
        let weights = self.dim * self.classes;
        let penalty: f64 = params[..weights].iter().map(|w| w * w).sum::<f64>() * self.l2 / 2.0;
        let value = floats(0)?.first().copied().unwrap_or(f32::NAN) as f64 + penalty;
        let gradient = floats(1)?
            .into_iter()
            .zip(&params[..weights])
            .map(|(g, w)| g as f64 + self.l2 * w)
            .chain(floats(2)?.into_iter().map(f64::from))
            .collect();
        Ok((value, gradient))
    }

    fn logits(&self, params: &[f64]) -> Tensor<2> {
        let (d, k) = (self.dim, self.classes);
        let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let weight = Tensor::<2>::from_data(
            TensorData::new(to_f32(&params[..d * k]), [d, k]),
            &self.device,
        );
        let bias = Tensor::<2>::from_data(
            TensorData::new(to_f32(&params[d * k..]), [1, k]),
            &self.device,
        );
        self.features.clone().matmul(weight) + bias
    }

    /// The training split's summed cross-entropy and correct predictions at `params`, for the
    /// epoch's report (read back with the validation pass).
    pub(super) fn train_sums(&self, params: &[f64]) -> (Tensor<1>, Tensor<1, Int>) {
        let logits = self.logits(params);
        let n = self.labels.dims()[0];
        let loss = cross_entropy_per_example(logits.clone(), self.labels.clone(), 0.0);
        let loss_sum = (loss * self.train_mask.clone()).sum();
        let hits = logits
            .argmax(1)
            .reshape([n])
            .equal(self.labels.clone())
            .float();
        let correct = (hits * self.train_mask.clone()).sum().int();
        (loss_sum, correct)
    }
}

impl TrainingRun {
    /// Whether this run fits its head by the convex solve; an error when `head_fit: convex` was
    /// asked of a run that is not that problem.
    pub(super) fn fits_convex(&self) -> Result<bool> {
        let elements = self.data.len().checked_mul(self.data.num_classes());
        let not_convex = self.config.not_convex().or_else(|| {
            if self.augmenter.is_some() {
                Some("the run augments its examples")
            } else if elements.is_none_or(|e| e > MAX_CONVEX_ELEMENTS) {
                Some("its examples × classes exceed what one full-batch evaluation holds (2^24)")
            } else {
                None
            }
        });
        match (self.config.head_fit, not_convex) {
            (HeadFit::Epochs, _) => Ok(false),
            (HeadFit::Auto, why) => Ok(why.is_none()),
            (HeadFit::Convex, None) => Ok(true),
            (HeadFit::Convex, Some(why)) => Err(Error::config(
                "head_fit",
                format!(
                    "'convex' solves a linear head on a frozen backbone, but {why}; use 'epochs' or 'auto'"
                ),
            )),
        }
    }

    /// One epoch of the convex fit: up to [`ITERATIONS_PER_EPOCH`] L-BFGS iterations, then the
    /// head takes the solution so far and the epoch ends as any other (report, validation).
    pub(super) async fn convex_epoch(&mut self) -> Result<EpochReport> {
        let started = Instant::now();
        let fit = match self.convex.take() {
            Some(fit) => fit,
            None => {
                let features = self.cached_activations()?.into_features().inner();
                self.start_convex_fit(features, false).await?
            }
        };
        self.iterate_and_end_epoch(fit, ITERATIONS_PER_EPOCH, started)
            .await
    }

    /// Up to `iterations` L-BFGS iterations of `fit` (fewer once converged); then the head takes
    /// the solution so far, the fit is kept in `self.convex`, and the epoch ends as any other.
    pub(super) async fn iterate_and_end_epoch(
        &mut self,
        fit: ConvexFit,
        iterations: usize,
        started: Instant,
    ) -> Result<EpochReport> {
        let (totals, done) = self.iterate_into_head(fit, iterations).await?;
        let epoch = EpochInProgress::ended(totals, started, done.max(1));
        self.end_epoch(epoch).await
    }

    /// Up to `iterations` L-BFGS iterations of `fit` (fewer once converged); then the head takes
    /// the solution so far and the fit is kept in `self.convex`. Returns the training split's
    /// totals under that head (for the epoch's report) and the iterations done.
    pub(super) async fn iterate_into_head(
        &mut self,
        mut fit: ConvexFit,
        iterations: usize,
    ) -> Result<(EpochTotals, usize)> {
        let mut done = 0;
        while done < iterations && !fit.converged {
            fit.iterate().await?;
            done += 1;
        }
        self.set_head(&fit.params, fit.problem.dim, fit.problem.classes)?;
        let (loss_sum, correct) = fit.problem.train_sums(&fit.params);
        let mut totals = EpochTotals::default();
        totals.add(
            Tensor::from_inner(loss_sum),
            Tensor::from_inner(correct),
            self.split.train.len(),
        );
        self.convex = Some(fit);
        Ok((totals, done))
    }

    /// The solver at the head's current weights, on `features` of every example (the backbone's
    /// output, without autodiff).
    pub(super) async fn start_convex_fit(
        &mut self,
        features: Tensor<2>,
        probe: bool,
    ) -> Result<ConvexFit> {
        let [n, dim] = features.dims();
        let classes = self.data.num_classes();
        let device = self.device.clone().without_autodiff();
        let labels = self.data.labels();
        let class_weight: Vec<f64> = match self.config.balance {
            Balance::WeightedLoss => {
                let counts = self.data.class_counts();
                let total: usize = counts.iter().sum();
                counts
                    .iter()
                    .map(|&c| total as f64 / (classes as f64 * c.max(1) as f64))
                    .collect()
            }
            _ => vec![1.0; classes],
        };
        let mut weights = vec![0.0f64; n];
        for &i in &self.split.train {
            weights[i] = class_weight[labels[i]];
        }
        let weight_sum: f64 = weights.iter().sum();
        if !(weight_sum > 0.0) {
            return Err(Error::Data("no examples to train on".into()));
        }
        let smoothing = self.config.label_smoothing;
        let mut targets = vec![(smoothing / classes as f64) as f32; n * classes];
        for (row, &label) in labels.iter().enumerate() {
            targets[row * classes + label] += (1.0 - smoothing) as f32;
        }
        let mask: Vec<f32> = weights
            .iter()
            .map(|&w| if w > 0.0 { 1.0 } else { 0.0 })
            .collect();
        let normalised: Vec<f32> = weights.iter().map(|&w| (w / weight_sum) as f32).collect();
        let problem = Problem {
            targets: Tensor::from_data(TensorData::new(targets, [n, classes]), &device),
            weights: Tensor::from_data(TensorData::new(normalised, [n, 1]), &device),
            train_mask: Tensor::from_data(TensorData::new(mask, [n]), &device),
            labels: self.labels.clone().inner(),
            features,
            device,
            dim,
            classes,
            l2: 1.0 / (self.config.convex_c * weight_sum),
        };
        let params = self.head_params(dim, classes).await?;
        let (value, gradient) = problem.evaluate(&params).await?;
        Ok(ConvexFit {
            problem,
            params,
            value,
            gradient,
            memory: Lbfgs::default(),
            iterations: 0,
            last_step: 0.0,
            converged: false,
            probe,
        })
    }

    /// The linear head's weight and bias as the solver's flat parameters.
    async fn head_params(&self, dim: usize, classes: usize) -> Result<Vec<f64>> {
        let layer = self.single_layer()?;
        let mut tx = Transaction::default().register(layer.weight.val().inner());
        if let Some(bias) = &layer.bias {
            tx = tx.register(bias.val().inner());
        }
        let data = tx.execute_async().await.map_err(read_error)?;
        let mut params = Vec::with_capacity(dim * classes + classes);
        for d in data {
            params.extend(
                d.try_into_vec_as::<f32>()
                    .map_err(read_error)?
                    .into_iter()
                    .map(f64::from),
            );
        }
        params.resize(dim * classes + classes, 0.0);
        Ok(params)
    }

    /// Writes the solver's parameters into the head (on the run's device, trainable as before).
    pub(super) fn set_head(&mut self, params: &[f64], dim: usize, classes: usize) -> Result<()> {
        let device = self.device.clone();
        let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let weight = TensorData::new(to_f32(&params[..dim * classes]), [dim, classes]);
        let bias = TensorData::new(to_f32(&params[dim * classes..]), [classes]);
        self.single_layer()?;
        let layer = &mut self.model.head.layers[0];
        layer.weight = layer
            .weight
            .clone()
            .map(|old| Tensor::from_data(weight, &device).set_require_grad(old.is_require_grad()));
        layer.bias = layer.bias.take().map(|b| {
            b.map(|old| Tensor::from_data(bias, &device).set_require_grad(old.is_require_grad()))
        });
        Ok(())
    }

    fn single_layer(&self) -> Result<&burn::nn::Linear> {
        match self.model.head.layers.as_slice() {
            [layer] => Ok(layer),
            _ => Err(Error::State(
                "internal: the convex fit needs a linear head".into(),
            )),
        }
    }
}

impl ConvexFit {
    /// One L-BFGS iteration: the quasi-Newton direction, a Wolfe line search along it, and the
    /// convergence test. A search that finds no step has reached the optimum as closely as the
    /// device's f32 arithmetic allows: that counts as converged.
    pub(super) async fn iterate(&mut self) -> Result<()> {
        let mut direction = self.memory.direction(&self.gradient);
        let mut slope = dot(&self.gradient, &direction);
        if !(slope < 0.0) {
            // Not a descent direction (rounding): start again from steepest descent.
            self.memory.forget();
            direction = self.gradient.iter().map(|g| -g).collect();
            slope = -dot(&self.gradient, &self.gradient);
        }
        // The first step has no curvature to scale it: a unit step along −g is often far too
        // long for wide features, so it starts at length 1 in parameter space.
        let first = match self.iterations {
            0 => (1.0 / dot(&self.gradient, &self.gradient).sqrt()).min(1.0),
            _ => 1.0,
        };
        let mut search = LineSearch::new(self.value, slope, first);
        loop {
            let t = search.step;
            let candidate: Vec<f64> = self
                .params
                .iter()
                .zip(&direction)
                .map(|(x, d)| x + t * d)
                .collect();
            let (value, gradient) = self.problem.evaluate(&candidate).await?;
            match search.judge(value, dot(&gradient, &direction)) {
                Trial::Retry => continue,
                Trial::Exhausted => {
                    self.converged = true;
                    return Ok(());
                }
                Trial::Accept => {}
            }
            self.memory.remember(CurvaturePair {
                step: direction.iter().map(|d| t * d).collect(),
                gradient_change: gradient
                    .iter()
                    .zip(&self.gradient)
                    .map(|(a, b)| a - b)
                    .collect(),
            });
            self.params = candidate;
            self.value = value;
            self.gradient = gradient;
            self.iterations += 1;
            self.last_step = t;
            let largest = self.gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            self.converged = largest <= GRADIENT_TOLERANCE;
            return Ok(());
        }
    }
}
