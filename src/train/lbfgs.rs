//! Limited-memory BFGS (Nocedal & Wright, algorithms 7.4 and 3.1) on host vectors, as parts a
//! caller drives: the search direction from the remembered curvature pairs, and a line search
//! for the weak Wolfe conditions. Written here rather than taken from a crate (argmin, linfa)
//! because their objective traits are synchronous, and in the browser every evaluation of the
//! objective is an asynchronous read-back from the device, spread over awaited steps.

use std::collections::VecDeque;

/// How many curvature pairs are remembered (scikit-learn's and SciPy's default is 10).
pub const MEMORY: usize = 10;

/// The sufficient-decrease constant of the Armijo test.
const ARMIJO: f64 = 1e-4;

/// One remembered pair: the step taken and the change of the gradient over it.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvaturePair {
    pub step: Vec<f64>,
    pub gradient_change: Vec<f64>,
}

/// The remembered curvature of the objective.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lbfgs {
    pairs: VecDeque<CurvaturePair>,
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Lbfgs {
    /// The pairs, oldest first (for checkpoints).
    pub fn pairs(&self) -> impl Iterator<Item = &CurvaturePair> {
        self.pairs.iter()
    }

    /// Remembers a step and the gradient's change over it, forgetting the oldest pair beyond
    /// [`MEMORY`]. A pair without positive curvature (sᵀy ≤ 0: rounding near the optimum) is
    /// skipped, which keeps the implied Hessian positive definite.
    pub fn remember(&mut self, pair: CurvaturePair) {
        let sy = dot(&pair.step, &pair.gradient_change);
        if !(sy > 1e-12 * dot(&pair.gradient_change, &pair.gradient_change)) {
            return;
        }
        if self.pairs.len() == MEMORY {
            self.pairs.pop_front();
        }
        self.pairs.push_back(pair);
    }

    pub fn forget(&mut self) {
        self.pairs.clear();
    }

    /// The quasi-Newton direction −H·g (the two-loop recursion), scaled by the newest pair's
    /// sᵀy / yᵀy; the steepest descent −g when nothing is remembered yet.
    pub fn direction(&self, gradient: &[f64]) -> Vec<f64> {
        let mut q = gradient.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for pair in self.pairs.iter().rev() {
            let rho = 1.0 / dot(&pair.step, &pair.gradient_change);
            let alpha = rho * dot(&pair.step, &q);
            for (qi, yi) in q.iter_mut().zip(&pair.gradient_change) {
                *qi -= alpha * yi;
            }
            alphas.push((alpha, rho));
        }
        if let Some(newest) = self.pairs.back() {
            let gamma = dot(&newest.step, &newest.gradient_change)
                / dot(&newest.gradient_change, &newest.gradient_change);
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for (pair, (alpha, rho)) in self.pairs.iter().zip(alphas.into_iter().rev()) {
            let beta = rho * dot(&pair.gradient_change, &q);
            for (qi, si) in q.iter_mut().zip(&pair.step) {
                *qi += (alpha - beta) * si;
            }
        }
        q.iter_mut().for_each(|v| *v = -*v);
        q
    }
}

/// A line search for the weak Wolfe conditions (or Hager & Zhang's approximate ones, where the
/// objective's rounding hides a decrease) by bracketing and bisection (Lewis & Overton):
/// a trial step that does not decrease the objective enough (Armijo) becomes the upper end, one
/// along which the objective still falls steeply becomes the lower end, and the next trial
/// doubles the lower end until an upper one is found, then bisects. Steps it accepts have
/// positive curvature (sᵀy > 0), which keeps L-BFGS's implied Hessian positive definite.
#[derive(Clone, Debug)]
pub struct LineSearch {
    value: f64,
    slope: f64,
    lower: f64,
    upper: f64,
    /// The step length to try next.
    pub step: f64,
    trials: usize,
}

/// The outcome of one trial of a [`LineSearch`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trial {
    /// The step satisfies both conditions: take it.
    Accept,
    /// Evaluate again at the new `step`.
    Retry,
    /// No acceptable step was found in [`MAX_TRIALS`] trials: at the objective's precision,
    /// nothing along this direction lowers it any more.
    Exhausted,
}

/// Trials before a line search gives up.
pub const MAX_TRIALS: usize = 40;

/// The curvature constant of the Wolfe conditions (the usual choice for quasi-Newton methods).
const WOLFE: f64 = 0.9;

/// Hager & Zhang's δ of the approximate Wolfe condition.
const APPROXIMATE_WOLFE: f64 = 0.1;

/// The relative rounding of the objective within which its value cannot tell steps apart (f32
/// sums on the device).
const ROUNDING: f64 = 1e-6;

impl LineSearch {
    /// A search from a point of objective `value` along a direction with slope `slope` (gᵀd,
    /// negative), first trying a step of length `step`.
    pub fn new(value: f64, slope: f64, step: f64) -> Self {
        Self {
            value,
            slope,
            lower: 0.0,
            upper: f64::INFINITY,
            step,
            trials: 0,
        }
    }

    /// Judges the trial at `self.step`, whose objective is `value` and whose slope along the
    /// direction is `slope`.
    pub fn judge(&mut self, value: f64, slope: f64) -> Trial {
        self.trials += 1;
        let armijo = value <= self.value + ARMIJO * self.step * self.slope;
        // Near the optimum a decrease can be smaller than the objective's rounding (the device
        // sums it in f32), so Armijo's test is blind there; Hager & Zhang's approximate Wolfe
        // condition judges by the slope instead, which stays accurate: a value within rounding
        // of the start whose slope shows the step did not overshoot far is sufficient too.
        let approximate = value <= self.value + ROUNDING * self.value.abs()
            && slope <= (2.0 * APPROXIMATE_WOLFE - 1.0) * self.slope;
        if !(value.is_finite() && (armijo || approximate)) {
            self.upper = self.step;
        } else if slope < WOLFE * self.slope {
            self.lower = self.step;
        } else {
            return Trial::Accept;
        }
        if self.trials >= MAX_TRIALS {
            return Trial::Exhausted;
        }
        self.step = if self.upper.is_finite() {
            (self.lower + self.upper) / 2.0
        } else {
            2.0 * self.lower
        };
        Trial::Retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A driver like the convex fit's, synchronous, on an objective given as a closure.
    fn minimise(
        f: impl Fn(&[f64]) -> (f64, Vec<f64>),
        mut x: Vec<f64>,
        iterations: usize,
    ) -> Vec<f64> {
        let mut memory = Lbfgs::default();
        let (mut fx, mut g) = f(&x);
        for _ in 0..iterations {
            let d = memory.direction(&g);
            let mut search = LineSearch::new(fx, dot(&g, &d), 1.0);
            let (x_new, f_new, g_new) = loop {
                let t = search.step;
                let x_new: Vec<f64> = x.iter().zip(&d).map(|(xi, di)| xi + t * di).collect();
                let (f_new, g_new) = f(&x_new);
                match search.judge(f_new, dot(&g_new, &d)) {
                    Trial::Accept => break (x_new, f_new, g_new),
                    Trial::Retry => {}
                    Trial::Exhausted => return x,
                }
            };
            memory.remember(CurvaturePair {
                step: x_new.iter().zip(&x).map(|(a, b)| a - b).collect(),
                gradient_change: g_new.iter().zip(&g).map(|(a, b)| a - b).collect(),
            });
            (x, fx, g) = (x_new, f_new, g_new);
        }
        x
    }

    #[test]
    fn an_ill_conditioned_quadratic_is_solved_in_few_iterations() {
        // f = ½ Σ a_i (x_i − c_i)²: condition number 10³, where gradient descent would crawl
        // (it needs thousands of steps; SciPy's L-BFGS-B takes about 200 here).
        let a: Vec<f64> = (0..20).map(|i| 10f64.powf(i as f64 / 19.0 * 3.0)).collect();
        let c: Vec<f64> = (0..20).map(|i| (i as f64).sin()).collect();
        let f = |x: &[f64]| {
            let g: Vec<f64> = (0..20).map(|i| a[i] * (x[i] - c[i])).collect();
            let v = (0..20).map(|i| 0.5 * a[i] * (x[i] - c[i]).powi(2)).sum();
            (v, g)
        };
        let x = minimise(f, vec![0.0; 20], 300);
        for i in 0..20 {
            assert!((x[i] - c[i]).abs() < 1e-6, "x[{i}] = {} ≠ {}", x[i], c[i]);
        }
    }

    #[test]
    fn rosenbrock_converges_and_memory_is_bounded() {
        let f = |x: &[f64]| {
            let v = (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
            let g = vec![
                -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]),
                200.0 * (x[1] - x[0] * x[0]),
            ];
            (v, g)
        };
        // SciPy's L-BFGS-B: 38 iterations.
        let x = minimise(f, vec![-1.2, 1.0], 60);
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5,
            "{x:?}"
        );
        let mut memory = Lbfgs::default();
        for i in 0..3 * MEMORY {
            memory.remember(CurvaturePair {
                step: vec![1.0, i as f64],
                gradient_change: vec![1.0, 0.5],
            });
        }
        assert_eq!(memory.pairs().count(), MEMORY);
        // A pair of negative curvature is not remembered.
        memory.forget();
        memory.remember(CurvaturePair {
            step: vec![1.0, 0.0],
            gradient_change: vec![-1.0, 0.0],
        });
        assert_eq!(memory.pairs().count(), 0);
        assert_eq!(memory.direction(&[2.0, -3.0]), vec![-2.0, 3.0]);
    }
}
