//! kindling's native command line, over the same core as the browser.
//!
//! kindling convert-weights IN.pth OUT.safetensors   torchvision .pth -> safetensors (f32)
//! kindling imagenet ARCH WEIGHTS.safetensors IMAGE...  ImageNet top-5 (ARCH: mobilenet_v2 or
//!                                                     efficientnet_lite0)

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::collections::BTreeMap;
    use std::path::Path;

    use kindling::backbone::pth::pth_to_safetensors;
    use kindling::backbone::{Backbone, BackboneSpec};
    use kindling::data::image::decode_file;
    use kindling::{Error, Result};

    const USAGE: &str = "usage:
  kindling convert-weights IN.pth OUT.safetensors
  kindling imagenet mobilenet_v2|efficientnet_lite0 WEIGHTS.safetensors IMAGE...";

    pub fn run(args: &[String]) -> Result<()> {
        match args.first().map(String::as_str) {
            Some("convert-weights") if args.len() == 3 => convert(&args[1], &args[2]),
            Some("imagenet") if args.len() >= 4 => imagenet(&args[1], &args[2], &args[3..]),
            _ => Err(Error::State(USAGE.into())),
        }
    }

    fn convert(input: &str, output: &str) -> Result<()> {
        let meta = BTreeMap::from([(
            "source".to_string(),
            Path::new(input)
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        )]);
        let bytes = pth_to_safetensors(Path::new(input), meta)?;
        std::fs::write(output, &bytes)
            .map_err(|e| Error::Weights(format!("cannot write {output}: {e}")))?;
        println!("wrote {output} ({:.1} MB)", bytes.len() as f64 / 1e6);
        Ok(())
    }

    fn imagenet(arch: &str, weights: &str, images: &[String]) -> Result<()> {
        let spec = match arch {
            "mobilenet_v2" => BackboneSpec::MobilenetV2,
            "efficientnet_lite0" => BackboneSpec::EfficientnetLite0,
            other => {
                return Err(Error::config(
                    "architecture",
                    format!("unknown '{other}'; use mobilenet_v2 or efficientnet_lite0"),
                ));
            }
        };
        let bytes = std::fs::read(weights)
            .map_err(|e| Error::Weights(format!("cannot read {weights}: {e}")))?;
        let device = burn::tensor::Device::flex();
        let backbone = Backbone::load(&spec, &bytes, &device)?;
        for path in images {
            match decode_file(Path::new(path)) {
                Ok(img) => {
                    let top = pollster::block_on(kindling::backbone::imagenet_top_k(
                        &spec, &backbone, &img, 5, &device,
                    ))?;
                    println!("{path}: {top:?}");
                }
                Err(e) => eprintln!("skipped {e}"),
            }
        }
        Ok(())
    }
}
