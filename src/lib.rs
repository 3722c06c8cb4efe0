//! kindling: fine-tune small vision and text classifiers in the browser, on the user's own GPU.
//!
//! The core is plain Rust over burn and runs the same natively and in WebAssembly; only
//! [`web`] knows about JavaScript.

pub mod backbone;
pub mod bench;
pub mod config;
pub mod data;
pub mod device;
pub mod device_speed;
pub mod error;
pub mod fingerprint;
pub mod init;
pub mod model;
pub mod rng;
pub mod train;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
