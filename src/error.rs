//! The crate's one error type. Every message says what is wrong and what to do about it,
//! because it is shown to the person using the page (the web boundary turns it into a JS `Error`).

/// Everything that can go wrong in kindling, by where it comes from.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A training or model setting is out of range or unknown.
    #[error("setting `{field}`: {message}")]
    Config { field: String, message: String },
    /// The examples or labels cannot be used as given.
    #[error("data: {0}")]
    Data(String),
    /// No compute device could be opened, or it failed while running.
    #[error("device: {0}")]
    Device(String),
    /// A weight or model file does not fit what was expected.
    #[error("weights: {0}")]
    Weights(String),
    /// An operation was asked for at a moment it cannot run (e.g. predict before training).
    #[error("{0}")]
    State(String),
    /// Training stopped because it could not go on (e.g. the loss diverged).
    #[error("training: {0}")]
    Training(String),
}

impl Error {
    /// A setting error naming the field and what is allowed.
    pub fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A device error from a backend failure, kept with its original text.
    pub fn device(context: &str, err: impl core::fmt::Debug) -> Self {
        Self::Device(format!("{context}: {err:?}"))
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
