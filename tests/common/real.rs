//! Real weights and real images for the tests that need them: the converted pretrained weights
//! (`./build.sh setup` puts them in ~/.cache/kindling/weights, or `KINDLING_WEIGHTS`) and the
//! Fashion-MNIST images of the Debian package `dataset-fashion-mnist`.

use std::io::Read;
use std::path::PathBuf;

use burn::tensor::Device;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::data::Dataset;
use kindling::data::image::Rgba;

pub fn weights_path(file: &str) -> PathBuf {
    let dir = std::env::var_os("KINDLING_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/kindling/weights")
        });
    dir.join(file)
}

pub fn load(spec: &BackboneSpec, file: &str, device: &Device) -> Backbone {
    let path = weights_path(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run ./build.sh setup to fetch and convert the weights",
            path.display()
        )
    });
    Backbone::load(spec, &bytes, device).unwrap()
}

pub fn mobilenet(device: &Device) -> Backbone {
    load(
        &BackboneSpec::MobilenetV2,
        "mobilenet_v2.safetensors",
        device,
    )
}

/// The first `per_class` training images of each Fashion-MNIST class in `classes`, as RGBA.
pub fn fashion_mnist(classes: &[usize], per_class: usize) -> Vec<(usize, Rgba)> {
    let read = |name: &str| {
        let path = format!("/usr/share/datasets/fashion-mnist/{name}");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(
            std::fs::File::open(&path)
                .unwrap_or_else(|e| panic!("{path}: {e}; ./build.sh setup installs it")),
        )
        .read_to_end(&mut out)
        .unwrap();
        out
    };
    let (images, labels) = (
        read("train-images-idx3-ubyte.gz"),
        read("train-labels-idx1-ubyte.gz"),
    );
    let mut out = Vec::new();
    let mut counts = [0; 10];
    for (i, &label) in labels[8..].iter().enumerate() {
        let c = label as usize;
        if classes.contains(&c) && counts[c] < per_class {
            counts[c] += 1;
            let grey = &images[16 + i * 784..16 + (i + 1) * 784];
            let pixels = grey.iter().flat_map(|&g| [g, g, g, 255]).collect();
            out.push((c, Rgba::new(28, 28, pixels).unwrap()));
        }
    }
    out
}

/// Fashion-MNIST's class names, by label.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// The first `per_class` images of each class in `classes`, preprocessed for MobileNetV2: as a
/// data set (classes by name) and as the same rows in order, to predict.
pub fn fashion_for_mobilenet(classes: &[usize], per_class: usize) -> (Dataset, Vec<f32>) {
    let pre = BackboneSpec::MobilenetV2.preprocess().unwrap();
    let mut data = Dataset::new(pre.len());
    let mut rows = Vec::new();
    for (c, image) in fashion_mnist(classes, per_class) {
        let row = pre.eval(&image);
        data.add(&row, FASHION_CLASSES[c]).unwrap();
        rows.extend_from_slice(&row);
    }
    (data, rows)
}
