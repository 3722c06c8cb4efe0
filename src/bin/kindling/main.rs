//! kindling's native command line, over the same core as the browser: train, evaluate and predict
//! on image folders and labelled text files, with model files the page opens and the page's model
//! files in; and the weight conversion the build uses. `kindling --help` lists everything.
//!
//! Exit codes: 0 done; 1 the work failed (a device error, say); 2 the command line is wrong;
//! 3 an input (data, settings, weights, model file) is unusable, with the reason; 130 stopped
//! with Ctrl-C after saving the kept model.

// The binary is native only; `cargo test --target wasm32-unknown-unknown` still compiles it, as
// an empty program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod auto;
#[cfg(not(target_arch = "wasm32"))]
mod convert;
#[cfg(not(target_arch = "wasm32"))]
mod data;
#[cfg(not(target_arch = "wasm32"))]
mod features;
#[cfg(not(target_arch = "wasm32"))]
mod held_out;
#[cfg(not(target_arch = "wasm32"))]
mod kfold;
#[cfg(not(target_arch = "wasm32"))]
mod predict;
#[cfg(not(target_arch = "wasm32"))]
mod progress;
#[cfg(not(target_arch = "wasm32"))]
mod report;
#[cfg(not(target_arch = "wasm32"))]
mod setup;
#[cfg(not(target_arch = "wasm32"))]
mod stream;
#[cfg(not(target_arch = "wasm32"))]
mod train;
#[cfg(not(target_arch = "wasm32"))]
mod train_args;

/// The commands and what they return.
#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use super::{convert, predict, train};

    use std::path::PathBuf;
    use std::process::ExitCode;

    use clap::{Parser, Subcommand};

    #[derive(Parser)]
    #[command(
        name = "kindling",
        version,
        about = "Fine-tune small image and text classifiers on this machine; models open in the kindling page"
    )]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Train a classifier on an image folder (one sub-folder per class) or a labelled text file
        /// (CSV, TSV or JSONL), and write the model file.
        Train(crate::train_args::TrainArgs),
        /// Measure a model file on labelled data: accuracy, per-class precision/recall/F1, confusion.
        Eval(predict::EvalArgs),
        /// The top-k classes of every image in a folder or every text in a file, as CSV.
        Predict(predict::PredictArgs),
        /// Convert a torchvision/lukemelas .pth file to safetensors (f32).
        ConvertWeights {
            /// The .pth file.
            input: PathBuf,
            /// The safetensors file to write.
            output: PathBuf,
        },
        /// ImageNet top-5 of images, with weights that keep their ImageNet classifier.
        Imagenet {
            /// mobilenet_v2 or efficientnet_lite0.
            architecture: String,
            /// The safetensors weights.
            weights: PathBuf,
            /// Image files.
            #[arg(required = true)]
            images: Vec<PathBuf>,
        },
    }

    /// How a command ended, when it did not simply succeed.
    pub enum Outcome {
        Done,
        Interrupted,
    }

    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        let result = match cli.command {
            Command::Train(args) => train::run(args),
            Command::Eval(args) => predict::eval(args).map(|()| Outcome::Done),
            Command::Predict(args) => predict::predict(args).map(|()| Outcome::Done),
            Command::ConvertWeights { input, output } => {
                convert::convert(&input, &output).map(|()| Outcome::Done)
            }
            Command::Imagenet {
                architecture,
                weights,
                images,
            } => convert::imagenet(&architecture, &weights, &images).map(|()| Outcome::Done),
        };
        match result {
            Ok(Outcome::Done) => ExitCode::SUCCESS,
            Ok(Outcome::Interrupted) => ExitCode::from(130),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(match e {
                    kindling::Error::Device(_) | kindling::Error::Training(_) => 1,
                    _ => 3,
                })
            }
        }
    }
}
