//! The command line end to end on 10,000 Fashion-MNIST images (1,000 per class, written once as
//! PNG class folders under ~/.cache/kindling/data/): `kindling train` with Quick (5 epochs) and
//! Balanced (1 epoch), on one thread (`RAYON_NUM_THREADS=1`) and on every core, timed from start
//! to exit — decoding, preprocessing, the backbone's features and every epoch included. Prints
//! images/s end to end and the all-cores ÷ one-thread ratio per recipe; asserts nothing.
//! Balanced runs once more with `--disk-cache` (the frozen part's activations in a memory-mapped
//! file): its speed and peak anonymous memory against the same run in memory.
//!
//! cargo bench --bench cli --profile dev        (./build.sh bench runs it)
//! KINDLING_CLI_BENCH_PER_CLASS=100 for a quicker run (1,000 images);
//! KINDLING_CLI_BENCH_RECIPES=balanced for one recipe.

use std::path::{Path, PathBuf};
use std::process::Command;

use web_time::Instant;

#[allow(dead_code)] // the helpers the tests share; this bench reads Fashion-MNIST and the weights
#[path = "../tests/common/real.rs"]
mod real;

/// Writes `per_class` images of each Fashion-MNIST class as `dir/<class>/<n>.png` (once).
fn image_folder(per_class: usize) -> PathBuf {
    let cache =
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/kindling/data");
    let dir = cache.join(format!("fashion-cli-{per_class}"));
    let done = dir.join(".complete");
    if done.exists() {
        return dir;
    }
    let classes: Vec<usize> = (0..10).collect();
    for (n, (class, image)) in real::fashion_mnist(&classes, per_class)
        .into_iter()
        .enumerate()
    {
        let folder = dir.join(real::FASHION_CLASSES[class]);
        std::fs::create_dir_all(&folder).expect("the cache folder is writable");
        let grey: Vec<u8> = image.pixels.chunks(4).map(|p| p[0]).collect();
        image::save_buffer(
            folder.join(format!("{n:05}.png")),
            &grey,
            28,
            28,
            image::ColorType::L8,
        )
        .expect("a PNG can be written");
    }
    std::fs::write(&done, b"").expect("the cache folder is writable");
    dir
}

struct Run {
    seconds: f64,
    accuracy: f64,
    /// The process's peak resident memory (VmHWM, polled while it runs), in MB.
    peak_mb: f64,
    /// The most anonymous memory it held at a poll (RssAnon: not the pages of mapped files,
    /// which the system can drop and read again), in MB.
    anon_mb: f64,
    /// The seconds of the training epochs themselves (the convex fit, for Quick).
    training_seconds: f64,
}

/// A memory figure of process `pid` from Linux's /proc status (`VmHWM:`, `RssAnon:`), in MB.
fn status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1000.0)
}

/// `kindling train` on `data` with `recipe` and `epochs` on `threads` threads (None: every core),
/// streaming the folder, with `extra` flags (`--in-memory`: holding every image's rows).
fn train(
    data: &Path,
    recipe: &str,
    epochs: usize,
    threads: Option<usize>,
    extra: &[&str],
    scratch: &Path,
) -> Run {
    let config = scratch.join("config.json");
    let metrics = scratch.join("metrics.json");
    std::fs::write(
        &config,
        format!(r#"{{"epochs": {epochs}, "early_stopping": null, "seed": 1}}"#),
    )
    .expect("the scratch folder is writable");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kindling"));
    command.args(["train", "--backbone", "mobilenet-v2", "--recipe", recipe]);
    for (flag, path) in [
        ("--data", data.to_path_buf()),
        ("--weights", real::weights_path("mobilenet_v2.safetensors")),
        ("--config", config),
        ("--out", scratch.join("model.safetensors")),
        ("--metrics", metrics.clone()),
    ] {
        command.arg(flag).arg(path);
    }
    command.args(extra);
    match threads {
        Some(n) => command.env("RAYON_NUM_THREADS", n.to_string()),
        None => command.env_remove("RAYON_NUM_THREADS"),
    };
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn().expect("the kindling binary runs");
    let (mut peak, mut anon) = (0.0f64, 0.0f64);
    let status = loop {
        if let Some(mb) = status_mb(child.id(), "VmHWM:") {
            peak = peak.max(mb);
        }
        if let Some(mb) = status_mb(child.id(), "RssAnon:") {
            anon = anon.max(mb);
        }
        match child
            .try_wait()
            .expect("the kindling process can be waited for")
        {
            Some(status) => break status,
            None => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let out = child
        .wait_with_output()
        .expect("the kindling output can be read");
    assert!(
        status.success(),
        "kindling train failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).expect("metrics written"))
            .expect("metrics are JSON");
    let accuracy = report["evaluation"]["report"]["accuracy"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let training_seconds = report["history"].as_array().map_or(0.0, |h| {
        h.iter().filter_map(|e| e["epoch_seconds"].as_f64()).sum()
    });
    Run {
        seconds,
        accuracy,
        peak_mb: peak,
        anon_mb: anon,
        training_seconds,
    }
}

fn main() {
    let per_class = std::env::var("KINDLING_CLI_BENCH_PER_CLASS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let images = 10 * per_class;
    let data = image_folder(per_class);
    let scratch = std::env::temp_dir().join(format!("kindling-cli-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("the temp folder is writable");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "kindling CLI end to end: {images} Fashion-MNIST PNGs (10 classes), MobileNetV2, {cores} cores"
    );
    let recipes = std::env::var("KINDLING_CLI_BENCH_RECIPES").unwrap_or("quick,balanced".into());
    for (recipe, epochs) in [("quick", 5), ("balanced", 1)] {
        if !recipes.split(',').any(|r| r == recipe) {
            continue;
        }
        let mut rates = Vec::new();
        let mut all_cores = None;
        for threads in [Some(1), None] {
            let run = train(&data, recipe, epochs, threads, &[], &scratch);
            let rate = images as f64 / run.seconds;
            let label = threads.map_or(format!("{cores} threads"), |n| format!("{n} thread"));
            println!(
                "cli {recipe} ({epochs} epoch(s)), {label}: {:.0} s, {rate:.1} images/s end to end (decode + features + training), validation accuracy {:.1}%, peak memory {:.0} MB, training epochs {:.2} s",
                run.seconds,
                100.0 * run.accuracy,
                run.peak_mb,
                run.training_seconds
            );
            rates.push(rate);
            all_cores = Some(run);
        }
        println!(
            "threads cli {recipe}: {cores} threads = {:.2}x one thread",
            rates[1] / rates[0]
        );
        if recipe == "quick" {
            // The same run holding every image's rows (as before streaming), for comparison.
            let held = train(&data, recipe, epochs, None, &["--in-memory"], &scratch);
            let rate = images as f64 / held.seconds;
            println!(
                "cli quick --in-memory, {cores} threads: {:.0} s, {rate:.1} images/s, peak memory {:.0} MB; streamed = {:.2}x its speed",
                held.seconds,
                held.peak_mb,
                rates[1] / rate
            );
        }
        if let (Some(memory), "balanced") = (&all_cores, recipe) {
            // The cache of the frozen part (7×7×160 values an image) in a file instead.
            let dir = scratch.display().to_string();
            let disk = train(
                &data,
                recipe,
                epochs,
                None,
                &["--disk-cache", &dir],
                &scratch,
            );
            println!(
                "cli balanced --disk-cache, {cores} threads: {:.0} s, {:.1} images/s, validation accuracy {:.1}%, peak anonymous memory {:.0} MB (in memory: {:.0} MB), peak resident {:.0} MB; disk = {:.2}x the in-memory speed",
                disk.seconds,
                images as f64 / disk.seconds,
                100.0 * disk.accuracy,
                disk.anon_mb,
                memory.anon_mb,
                disk.peak_mb,
                memory.seconds / disk.seconds
            );
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
