//! Native benchmarks of the core: the browser benchmark's jobs (`kindling::bench`), timed the
//! same way, on burn's `flex` CPU backend — or, with `KINDLING_BENCH_DEVICE=webgpu` and the `gpu`
//! feature, on burn's wgpu runtime (Vulkan/Metal natively; `benches/gpu.sh`), or with
//! `KINDLING_BENCH_DEVICE=cuda` and the `cuda` feature on burn's CUDA backend (device 0). Prints the figures;
//! asserts nothing. With `KINDLING_NATIVE_JSON=path` it also writes them as JSON for the browser
//! runner (job 4 compares the browser with native) and for `benches/gpu.sh`.
//!
//! cargo bench --bench native --profile dev        (./build.sh bench runs it)

use kindling::bench::{self, JobResult};
use kindling::device::{DevicePreference, acquire};

fn main() -> kindling::Result<()> {
    let (device, description) = match std::env::var("KINDLING_BENCH_DEVICE").as_deref() {
        Ok("cuda") => cuda()?,
        Ok(name) if name != "webgpu" && name != "cpu" => {
            return Err(kindling::Error::config(
                "KINDLING_BENCH_DEVICE",
                format!("'{name}' is not cpu, webgpu or cuda"),
            ));
        }
        name => {
            let preference = match name {
                Ok("webgpu") => DevicePreference::Webgpu,
                _ => DevicePreference::Cpu,
            };
            let compute = pollster::block_on(acquire(preference, None))?;
            (compute.device, compute.info.description)
        }
    };
    let ad = device.clone().autodiff();
    println!(
        "kindling native benchmarks ({}, {} cores)",
        description,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let results: Vec<(&str, JobResult)> = vec![
        (
            "1 head training 2000x1280->256->10, batch 64, 10 epochs",
            pollster::block_on(bench::head_training(&ad, 10, &mut || {}))?,
        ),
        (
            "2 MobileNetV2 features 224x224, batch 16",
            pollster::block_on(bench::feature_extraction(&device, 16, 5, &mut || {}))?,
        ),
        (
            "3 fine-tune step, last 2 IR blocks + final conv + head, batch 16",
            pollster::block_on(bench::fine_tune_step(&ad, 3, &mut || {}))?,
        ),
        (
            "4 MiniLM-L6 embedding, seq 128, batch 32",
            pollster::block_on(bench::sentence_embedding(
                &device,
                32,
                128,
                3,
                true,
                &mut || {},
            ))?,
        ),
        (
            "4b the same on burn flex alone (no host-memory encoder)",
            pollster::block_on(bench::sentence_embedding(
                &device,
                32,
                128,
                3,
                false,
                &mut || {},
            ))?,
        ),
    ];
    for (name, r) in &results {
        println!(
            "job {name}: {:.1} {} (first run {:.0} ms)",
            r.value, r.unit, r.first_ms
        );
    }
    // The sweeps' no-training baselines on a large set: the k-NN is a matrix product per chunk.
    let (n, dim, classes) = (10_000, 1280, 10);
    let mut rng = kindling::rng::Rng::new(6);
    let features: Vec<f32> = (0..n * dim).map(|_| rng.normal()).collect();
    let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
    let split = kindling::data::Split {
        train: (0..8_500).collect(),
        validation: (8_500..n).collect(),
    };
    let start = web_time::Instant::now();
    pollster::block_on(kindling::train::baseline::baselines(
        &features, dim, &labels, classes, &split,
    ))?;
    println!(
        "baselines (nearest centroid + 5-NN) on 10,000 x 1280 features, 1,500 validated: {:.2} s",
        start.elapsed().as_secs_f64()
    );
    if let Ok(path) = std::env::var("KINDLING_NATIVE_JSON") {
        let mut figures: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(_, r)| (r.job.clone(), serde_json::json!(r.value)))
            .collect();
        let first_ms: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(_, r)| (r.job.clone(), serde_json::json!(r.first_ms)))
            .collect();
        figures.insert("first_ms".into(), serde_json::Value::Object(first_ms));
        figures.insert("device".into(), serde_json::json!(description));
        let json = serde_json::Value::Object(figures).to_string();
        std::fs::write(&path, json)
            .map_err(|e| kindling::Error::Data(format!("could not write {path}: {e}")))?;
    }
    Ok(())
}

#[cfg(feature = "cuda")]
fn cuda() -> kindling::Result<(burn::tensor::Device, String)> {
    Ok((burn::tensor::Device::cuda(0), "CUDA device 0".into()))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> kindling::Result<(burn::tensor::Device, String)> {
    Err(kindling::Error::config(
        "KINDLING_BENCH_DEVICE",
        "cuda needs a bench built with --features cuda",
    ))
}
