//! How a random sweep draws one field's value (`SweepSpec::Random`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::rng::Rng;

/// How a random sweep draws one field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Draw {
    /// One of the values, each as likely.
    Choice(Vec<Value>),
    /// Uniform in `[min, max]`.
    Uniform([f64; 2]),
    /// Log-uniform in `[min, max]` (both positive): for learning rates and weight decay.
    LogUniform([f64; 2]),
}

impl Draw {
    pub(super) fn draw(&self, field: &str, rng: &mut Rng) -> Result<Value> {
        let range = |[min, max]: [f64; 2], positive: bool| {
            let ok = min.is_finite() && max.is_finite() && min <= max && (!positive || min > 0.0);
            ok.then_some((min, max)).ok_or_else(|| {
                Error::config(
                    format!("sweep.{field}"),
                    format!(
                        "the range [{min}, {max}] must be finite, min ≤ max{}",
                        if positive { ", both above 0" } else { "" }
                    ),
                )
            })
        };
        Ok(match self {
            Self::Choice(values) if values.is_empty() => {
                return Err(Error::config(
                    format!("sweep.{field}"),
                    "list at least one value",
                ));
            }
            Self::Choice(values) => values[rng.below(values.len())].clone(),
            Self::Uniform(r) => {
                let (min, max) = range(*r, false)?;
                Value::from(min + (max - min) * rng.next_f64())
            }
            Self::LogUniform(r) => {
                let (min, max) = range(*r, true)?;
                Value::from((min.ln() + (max.ln() - min.ln()) * rng.next_f64()).exp())
            }
        })
    }
}
