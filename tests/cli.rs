//! The command line end to end, as a person runs it: `kindling train` on an image folder (the
//! Fashion-MNIST PNGs of the fixtures, one sub-folder per class) and on the tweet CSV, then
//! `eval` and `predict` with the model file it wrote; and its exit codes for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kindling(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(args)
        .output()
        .unwrap()
}

/// `kindling <command> --<name> <path>… <extra>…`, paths given as `(name, path)`.
fn run(command: &str, paths: &[(&str, &Path)], extra: &[&str]) -> Output {
    let mut args = vec![command.to_string()];
    for (name, path) in paths {
        args.push(format!("--{name}"));
        args.push(path.display().to_string());
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    kindling(&refs)
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn cache(path: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
        .join(".cache/kindling")
        .join(path)
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kindling-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fixture PNGs as an image folder: bag/, trouser/, tshirt/ (9 each) and a corrupt file.
fn image_folder(root: &Path) -> PathBuf {
    let data = root.join("images");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fashion");
    for class in ["bag", "trouser", "tshirt"] {
        std::fs::create_dir_all(data.join(class)).unwrap();
        for i in 0..9 {
            let name = format!("{class}-{i}.png");
            std::fs::copy(fixtures.join(&name), data.join(class).join(&name)).unwrap();
        }
    }
    std::fs::copy(fixtures.join("corrupt.png"), data.join("bag/corrupt.png")).unwrap();
    data
}

#[test]
fn trains_evaluates_and_predicts_an_image_folder() {
    let root = scratch("images");
    let data = image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let config = root.join("config.json");
    std::fs::write(
        &config,
        r#"{"epochs": 6, "learning_rate": 0.01, "seed": 3, "head_fit": "epochs"}"#,
    )
    .unwrap();
    let model = root.join("model.safetensors");
    let metrics = root.join("metrics.json");
    let images = [("data", data.as_path()), ("weights", weights.as_path())];
    let out = run(
        "train",
        &[
            &images[..],
            &[("config", &config), ("out", &model), ("metrics", &metrics)],
        ]
        .concat(),
        &["--backbone", "mobilenet-v2", "--recipe", "quick"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("corrupt.png"),
        "the unreadable file is named: {}",
        text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("baselines (no training): nearest centroid"),
        "{}",
        text(&out)
    );
    assert!(
        stdout.contains("points over the nearest-centroid baseline"),
        "{}",
        text(&out)
    );
    assert!(
        stderr.contains("27 examples of 3 classes"),
        "{}",
        text(&out)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert_eq!(report["history"].as_array().unwrap().len(), 6, "{report}");
    let centroid = report["baselines"]["nearest_centroid"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&centroid) && report["baselines"]["k"] == 5,
        "{report}"
    );
    let accuracy = report["evaluation"]["report"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.8, "{report}");
    let checkpoint = root.join("model.safetensors.checkpoint");
    assert!(checkpoint.exists());

    // The model file is the page's: it evaluates and predicts here.
    let out = run("eval", &[&images[..], &[("model", &model)]].concat(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let accuracy: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("accuracy "))
        .and_then(|l| l.split('%').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(accuracy >= 90.0, "{stdout}");

    let predictions = root.join("predictions.csv");
    let trousers = data.join("trouser");
    let paths = [
        ("model", model.as_path()),
        ("input", &trousers),
        ("weights", &weights),
        ("out", &predictions),
    ];
    let out = run("predict", &paths, &["--top-k", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    let csv = std::fs::read_to_string(&predictions).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "input,class_1,probability_1,class_2,probability_2"
    );
    assert_eq!(lines.len(), 10, "{csv}");
    let right = lines[1..]
        .iter()
        .filter(|l| l.split(',').nth(1) == Some("trouser"))
        .count();
    assert!(right >= 8, "{csv}");

    // Resuming the finished run's checkpoint trains no more and still writes the model.
    let again = root.join("again.safetensors");
    let out = run(
        "train",
        &[
            &images[..],
            &[
                ("config", &config),
                ("out", &again),
                ("resume", &checkpoint),
            ],
        ]
        .concat(),
        &["--backbone", "mobilenet-v2"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(again.exists());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn trains_on_a_text_file_and_predicts_texts() {
    let root = scratch("text");
    let bytes =
        std::fs::read(cache("data/tweets.csv")).expect("the tweet corpus (./build.sh setup)");
    let tweets = String::from_utf8_lossy(&bytes);
    // The first 40 tweets of each sentiment (those without quotes or commas in the text).
    let mut lines = tweets.lines();
    let header = lines.next().unwrap();
    let columns: Vec<&str> = header.split(',').collect();
    let sentiment = columns.iter().position(|c| *c == "sentiment").unwrap();
    let mut counts = std::collections::HashMap::new();
    let mut csv = format!("{header}\n");
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != columns.len() || line.contains('"') {
            continue;
        }
        let n = counts.entry(fields[sentiment].to_string()).or_insert(0);
        if *n < 40 {
            *n += 1;
            csv.push_str(line);
            csv.push('\n');
        }
    }
    let data = root.join("tweets.csv");
    std::fs::write(&data, csv).unwrap();
    let weights = cache("weights/minilm/model.safetensors");
    let model = root.join("model.safetensors");
    let features = root.join("features.safetensors");
    let out = run(
        "train",
        &[
            ("data", &data),
            ("weights", &weights),
            ("out", &model),
            ("features", &features),
        ],
        &[
            "--backbone",
            "minilm",
            "--max-len",
            "48",
            "--label-column",
            "sentiment",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("120 examples of 3 classes"),
        "{}",
        text(&out)
    );
    // The frozen features, labels and split the run used, for baselines computed elsewhere:
    // with 40 texts a class (under 100), text_features auto reads the sentence embedding.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("text features: the sentence embedding")
            && stdout.contains("(384 values a text)"),
        "{}",
        text(&out)
    );
    let bytes = std::fs::read(&features).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let tensor = file.tensor("features").unwrap();
    assert_eq!(tensor.shape(), [120, 384]);
    let first: Vec<f32> = tensor.data()[..384 * 4]
        .chunks(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let norm = first.iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!(
        (norm - 1.0).abs() < 1e-4,
        "MiniLM's features are unit vectors: {norm}"
    );
    let indices = |name: &str| -> Vec<i64> {
        file.tensor(name)
            .unwrap()
            .data()
            .chunks(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    let labels = indices("labels");
    assert_eq!(labels.len(), 120);
    assert_eq!(
        (0..3)
            .map(|c| labels.iter().filter(|&&l| l == c).count())
            .collect::<Vec<_>>(),
        [40, 40, 40]
    );
    let (train, validation) = (indices("train"), indices("validation"));
    assert_eq!(validation.len(), 24, "the default validation share, 0.2");
    let mut all: Vec<i64> = train.iter().chain(&validation).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..120).collect::<Vec<i64>>(),
        "the split covers every example once"
    );
    let texts = root.join("texts.txt");
    std::fs::write(
        &texts,
        "I love this, what a great day\nthis is terrible, I hate it\n",
    )
    .unwrap();
    let out = run(
        "predict",
        &[("model", &model), ("input", &texts), ("weights", &weights)],
        &["--top-k", "1"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert!(
        rows[1].starts_with("\"I love this, what a great day\","),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn bad_input_exits_with_a_reason_and_a_meaningful_code() {
    let root = scratch("errors");
    let data = image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let config = root.join("config.json");
    std::fs::write(&config, r#"{"epoch": 3}"#).unwrap();
    let base = [("data", data.as_path()), ("weights", weights.as_path())];
    let train = |paths: &[(&str, &Path)], extra: &[&str]| {
        run(
            "train",
            paths,
            &[&["--backbone", "mobilenet-v2"], extra].concat(),
        )
    };
    // An unknown setting: named, with the accepted ones; exit code 3 (unusable input).
    let out = train(&[&base[..], &[("config", &config)]].concat(), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("epochs"),
        "{}",
        text(&out)
    );
    // Features of a backbone that trains are not the pretrained ones: refused before training.
    let features = root.join("features.safetensors");
    let out = train(
        &[&base[..], &[("features", &features)]].concat(),
        &["--recipe", "balanced"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--features needs a frozen backbone"),
        "{}",
        text(&out)
    );
    assert!(!features.exists());
    // A disk cache in a folder that does not exist: named before any work.
    let missing = root.join("no-such-folder");
    let out = train(&[&base[..], &[("disk-cache", &missing)]].concat(), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-folder is not a folder"),
        "{}",
        text(&out)
    );
    // A recipe that does not exist.
    let out = train(&base, &["--recipe", "fast"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("quick, balanced, thorough, contrastive")
    );
    // Weights of another architecture.
    let other = cache("weights/efficientnet_lite0.safetensors");
    let out = train(&[("data", &data), ("weights", &other)], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    // Devices: a name that is none is a usage error; a runtime this build lacks (or a GPU that
    // does not start) is a device error, named; several devices train one run only.
    let out = train(&base, &["--device", "gpu"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cuda:N"));
    let out = train(&base, &["--device", "cuda:1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cuda:1"),
        "{}",
        text(&out)
    );
    let out = train(&base, &["--device", "cpu,cpu", "--k-fold", "3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("several devices train one run"),
        "{}",
        text(&out)
    );
    // The settings file's image augmentation: a colour jitter out of range, a field that does
    // not exist, and augmentation where no single image run would use it, each named.
    for (settings, extra, expected) in [
        (
            r#"{"augment": {"color_jitter": 3}}"#,
            &[][..],
            "augment.color_jitter",
        ),
        (r#"{"augment": {"flip": true}}"#, &[], "horizontal_flip"),
        (r#"{"augment": true}"#, &[], "give an object"),
        (
            r#"{"augment": {"horizontal_flip": true}}"#,
            &["--recipe", "auto"],
            "does not apply",
        ),
    ] {
        std::fs::write(&config, settings).unwrap();
        let out = train(&[&base[..], &[("config", &config)]].concat(), extra);
        assert_eq!(out.status.code(), Some(3), "{settings}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expected),
            "{settings}: {}",
            text(&out)
        );
    }
    std::fs::write(&config, r#"{"augment": {"horizontal_flip": true}}"#).unwrap();
    let out = train(
        &[&base[..], &[("config", &config), ("features", &features)]].concat(),
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("caches none"),
        "{}",
        text(&out)
    );
    assert!(!features.exists());
    // A missing argument is a usage error (2).
    let out = run("train", &[("data", &data)], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(kindling(&["train", "--help"]).status.success());
    let _ = std::fs::remove_dir_all(&root);
}

/// The fixture PNGs copied three times over: 27 images a class, enough for Auto to try
/// fine-tuning (`AUTO_FINE_TUNES_FROM` = 20).
fn larger_image_folder(root: &Path) -> PathBuf {
    let data = root.join("images");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fashion");
    for class in ["bag", "trouser", "tshirt"] {
        std::fs::create_dir_all(data.join(class)).unwrap();
        for i in 0..27 {
            let name = format!("{class}-{}.png", i % 9);
            std::fs::copy(
                fixtures.join(&name),
                data.join(class).join(format!("{i}.png")),
            )
            .unwrap();
        }
    }
    data
}

#[test]
fn auto_compares_the_recipes_that_suit_the_data_and_keeps_the_best() {
    let root = scratch("auto");
    let data = larger_image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let config = root.join("config.json");
    std::fs::write(&config, r#"{"epochs": 2, "seed": 4}"#).unwrap();
    let model = root.join("model.safetensors");
    let metrics = root.join("metrics.json");
    let out = run(
        "train",
        &[
            ("data", data.as_path()),
            ("weights", weights.as_path()),
            ("config", &config),
            ("out", &model),
            ("metrics", &metrics),
        ],
        &["--backbone", "mobilenet-v2", "--recipe", "auto"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("auto: comparing quick and balanced")
            && stdout.contains("(the smallest 27)"),
        "{}",
        text(&out)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    let board = &report["leaderboard"];
    assert_eq!(board["rows"].as_array().unwrap().len(), 2, "{report}");
    let best = board["ranking"][0].as_u64().unwrap() as usize;
    let chosen = report["chosen"].as_str().unwrap();
    assert_eq!(board["rows"][best]["name"], chosen, "{report}");
    assert!(
        stdout.contains(&format!("auto chose {chosen}")),
        "{}",
        text(&out)
    );
    // The model written is the chosen one: it opens and predicts.
    let predictions = root.join("predictions.csv");
    let out = run(
        "predict",
        &[
            ("model", &model),
            ("input", &data.join("bag")),
            ("weights", weights.as_path()),
            ("out", &predictions),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    // Auto keeps one model: it does not combine with options that need one recipe.
    let out = run(
        "train",
        &[("data", data.as_path()), ("weights", weights.as_path())],
        &[
            "--backbone",
            "mobilenet-v2",
            "--recipe",
            "auto",
            "--k-fold",
            "3",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("auto compares recipes"),
        "{}",
        text(&out)
    );
}

#[test]
fn thorough_leaves_greyscale_images_unflipped() {
    let root = scratch("greyscale");
    let data = image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let config = root.join("config.json");
    let thorough = |settings: &str| {
        std::fs::write(&config, settings).unwrap();
        let out = run(
            "train",
            &[
                ("data", data.as_path()),
                ("weights", weights.as_path()),
                ("config", &config),
                ("out", &root.join("model.safetensors")),
            ],
            &["--backbone", "mobilenet-v2", "--recipe", "thorough"],
        );
        assert!(out.status.success(), "{settings}: {}", text(&out));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            text(&out),
        )
    };
    let (stdout, all) = thorough(r#"{"epochs": 1}"#);
    assert!(
        stdout.contains("thorough: no horizontal flips: every image is greyscale"),
        "{all}"
    );
    assert!(!stdout.contains("colour jitter"), "{all}");
    // Flips the settings file asks for stand, as on the page.
    let (stdout, all) = thorough(r#"{"epochs": 1, "augment": {"horizontal_flip": true}}"#);
    assert!(!stdout.contains("no horizontal flips"), "{all}");
    assert!(stdout.contains("horizontal flips"), "{all}");
    let _ = std::fs::remove_dir_all(&root);
}

/// The settings file's `augment` is laid over the recipe's: Quick, which augments nothing, trains
/// on flipped images when asked and says so; such a run has no cached features to solve its head
/// on, which `head_fit: convex` then names — in a single run and in every fold of `--k-fold`.
#[test]
fn the_settings_file_gives_the_image_augmentation() {
    let root = scratch("augment");
    let data = image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let config = root.join("config.json");
    let train_with = |settings: &str, extra: &[&str]| {
        std::fs::write(&config, settings).unwrap();
        run(
            "train",
            &[
                ("data", data.as_path()),
                ("weights", weights.as_path()),
                ("config", &config),
                ("out", &root.join("model.safetensors")),
            ],
            &[&["--backbone", "mobilenet-v2", "--recipe", "quick"], extra].concat(),
        )
    };
    let train = |settings: &str| train_with(settings, &[]);
    let out = train(r#"{"epochs": 1, "augment": {"horizontal_flip": true}}"#);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("augmentation: horizontal flips\n"),
        "{}",
        text(&out)
    );
    let flipped_convex =
        r#"{"epochs": 1, "head_fit": "convex", "augment": {"horizontal_flip": true}}"#;
    for extra in [&[][..], &["--k-fold", "2"]] {
        let out = train_with(flipped_convex, extra);
        assert_eq!(out.status.code(), Some(3), "{extra:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("the run augments its examples"),
            "{extra:?}: {}",
            text(&out)
        );
    }
    // Without augmentation the folds solve their heads.
    let out = train_with(r#"{"epochs": 1, "head_fit": "convex"}"#, &["--k-fold", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("fold 2: accuracy"),
        "{}",
        text(&out)
    );
    let out = train(r#"{"epochs": 1, "head_fit": "convex"}"#);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("augmentation"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// `predict`'s probabilities, row after row, from its CSV.
fn probabilities(csv: &str) -> Vec<f64> {
    csv.lines()
        .skip(1)
        .flat_map(|l| {
            l.split(',')
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect::<Vec<f64>>()
        })
        .collect()
}

/// `kindling predict` of `model` on the images in `input`: the CSV it wrote to `<out>.csv`.
fn predicted(model: &Path, input: &Path, weights: &Path, out: &Path) -> String {
    let csv = out.with_extension("csv");
    let out = run(
        "predict",
        &[
            ("model", model),
            ("input", input),
            ("weights", weights),
            ("out", &csv),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read_to_string(&csv).unwrap()
}

fn assert_same_probabilities(a: &str, b: &str) {
    let (a, b) = (probabilities(a), probabilities(b));
    assert!(!a.is_empty() && a.len() == b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
}

#[test]
fn a_streamed_folder_or_a_disk_cache_trains_the_same_model_as_memory() {
    let root = scratch("streamed");
    let data = image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let disk = root.display().to_string();
    // Quick caches the pooled features, Balanced the 7×7×160 map before the blocks it trains.
    let runs: [(&str, &str, &[&str]); 5] = [
        ("streamed", "quick", &[]),
        ("held", "quick", &["--in-memory"]),
        ("disk", "quick", &["--disk-cache", &disk]),
        ("balanced", "balanced", &[]),
        ("balanced-disk", "balanced", &["--disk-cache", &disk]),
    ];
    let mut predictions = Vec::new();
    for (name, recipe, extra) in runs {
        let model = root.join(format!("{name}.safetensors"));
        let flags = [&["--backbone", "mobilenet-v2", "--recipe", recipe], extra].concat();
        let out = run(
            "train",
            &[
                ("data", data.as_path()),
                ("weights", weights.as_path()),
                ("out", &model),
            ],
            &flags,
        );
        assert!(out.status.success(), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.contains("images: streamed from disk"),
            name != "held",
            "{}",
            text(&out)
        );
        assert_eq!(
            stdout.contains("in a memory-mapped file"),
            name.ends_with("disk"),
            "{}",
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("corrupt.png"),
            "{}",
            text(&out)
        );
        predictions.push(predicted(
            &model,
            &data.join("bag"),
            &weights,
            &root.join(name),
        ));
    }
    // The same rows in the same order: the same model, so the same probabilities.
    assert_same_probabilities(&predictions[0], &predictions[1]);
    assert_same_probabilities(&predictions[0], &predictions[2]);
    assert_same_probabilities(&predictions[3], &predictions[4]);
    // The cache file has no name: nothing is left in the folder but what the test put there.
    let mut left: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".safetensors") && !n.ends_with(".csv"))
        .filter(|n| !n.ends_with(".checkpoint"))
        .collect();
    left.sort();
    assert_eq!(left, ["images"]);
}

/// Data-parallel training over two devices — here the CPU device twice, the most this machine
/// offers (one CPU device, no GPU) — gives the model one device gives at the same batch: each
/// shard's replica is forked onto its device and its gradients are summed on the first. Both
/// runs are on one thread, so that the one-device run takes each batch whole (on several threads
/// it would shard by thread as well).
#[test]
fn two_devices_train_the_same_model_as_one() {
    let root = scratch("devices");
    let data = image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let mut predictions = Vec::new();
    for devices in ["cpu", "cpu,cpu"] {
        let model = root.join(format!("{devices}.safetensors"));
        let out = Command::new(env!("CARGO_BIN_EXE_kindling"))
            .env("RAYON_NUM_THREADS", "1")
            .args([
                "train",
                "--backbone",
                "mobilenet-v2",
                "--recipe",
                "balanced",
            ])
            .args(["--device", devices, "--data"])
            .arg(&data)
            .arg("--weights")
            .arg(&weights)
            .arg("--out")
            .arg(&model)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        // The two-device run says how many batches it spread: some must have been.
        let stdout = String::from_utf8_lossy(&out.stdout);
        let spread = stdout
            .lines()
            .find_map(|l| l.strip_suffix(" batches ran spread over the 2 devices"))
            .and_then(|n| n.trim().parse::<usize>().ok());
        match devices {
            "cpu" => assert_eq!(spread, None, "{}", text(&out)),
            _ => assert!(spread.is_some_and(|n| n > 0), "{}", text(&out)),
        }
        predictions.push(predicted(
            &model,
            &data.join("trouser"),
            &weights,
            &root.join(devices),
        ));
    }
    assert_same_probabilities(&predictions[0], &predictions[1]);
    // Prediction runs on one device.
    let out = run(
        "predict",
        &[
            ("model", &root.join("cpu.safetensors")),
            ("input", &data.join("bag")),
            ("weights", weights.as_path()),
        ],
        &["--device", "cpu,cpu"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let _ = std::fs::remove_dir_all(&root);
}

/// Fixture PNGs `range` of each of `classes` as an image folder `name` under `root`.
fn fixture_folder(
    root: &Path,
    name: &str,
    classes: &[&str],
    range: std::ops::Range<usize>,
) -> PathBuf {
    let folder = root.join(name);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fashion");
    for class in classes {
        std::fs::create_dir_all(folder.join(class)).unwrap();
        for i in range.clone() {
            let file = format!("{class}-{i}.png");
            std::fs::copy(fixtures.join(&file), folder.join(class).join(&file)).unwrap();
        }
    }
    folder
}

#[test]
fn a_held_out_test_set_is_scored_once_with_the_kept_model() {
    let root = scratch("held-out");
    let classes = ["bag", "trouser", "tshirt"];
    let data = fixture_folder(&root, "train", &classes, 0..6);
    let test = fixture_folder(&root, "test", &classes, 6..9);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let (model, metrics, features) = (
        root.join("model.safetensors"),
        root.join("metrics.json"),
        root.join("features.safetensors"),
    );
    let out = run(
        "train",
        &[
            ("data", data.as_path()),
            ("weights", &weights),
            ("test", &test),
            ("out", &model),
            ("metrics", &metrics),
            ("features", &features),
        ],
        &["--backbone", "mobilenet-v2", "--recipe", "quick"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert_eq!(report["test"]["examples"], 9, "{report}");
    let tested = report["test"]["report"]["accuracy"].as_f64().unwrap();
    assert!(tested >= 0.7, "{report}");
    // How sure the kept model is on the held-out images, against how often it is right there.
    let tested_ece = report["test"]["expected_calibration_error"]
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&tested_ece), "{report}");
    let trained = String::from_utf8_lossy(&out.stdout);
    assert!(
        trained.contains("calibration: error") && trained.contains("on the validation split"),
        "{}",
        text(&out)
    );
    // The model file, evaluated on the same folder, scores what the run reported.
    let out = run(
        "eval",
        &[
            ("data", test.as_path()),
            ("weights", &weights),
            ("model", &model),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "accuracy {:.1}% on 9 examples, macro-F1 {:.3}, calibration error {:.1}%",
            100.0 * tested,
            report["test"]["report"]["macro_f1"].as_f64().unwrap(),
            100.0 * tested_ece
        )),
        "{stdout} vs {report}"
    );
    // The features file carries the test set's features (MobileNetV2: 1280 each) and labels.
    let bytes = std::fs::read(&features).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(tensors.tensor("test_features").unwrap().shape(), &[9, 1280]);
    assert_eq!(tensors.tensor("test_labels").unwrap().shape(), &[9]);

    // A test folder with a class the training data lacks is refused before any training.
    let other = fixture_folder(&root, "other", &["bag"], 0..1);
    std::fs::rename(other.join("bag"), other.join("sandal")).unwrap();
    let out = run(
        "train",
        &[
            ("data", data.as_path()),
            ("weights", &weights),
            ("test", &other),
        ],
        &["--backbone", "mobilenet-v2"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("'sandal'"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// A wide cut-out: a striped animal-like band on a transparent background, 240 × 80 pixels.
/// The ImageNet crop keeps its middle 80 × 80; shown whole, the ends count too.
fn write_cut_out(path: &Path) {
    let image = image::RgbaImage::from_fn(240, 80, |x, y| {
        let inside = (8..232).contains(&x) && (8..72).contains(&y);
        let stripe = ((x / 20) % 3) as u8;
        match inside {
            true => image::Rgba([60 + 90 * stripe, 200 - 70 * stripe, (x % 256) as u8, 255]),
            false => image::Rgba([0, 0, 0, 0]),
        }
    });
    image.save(path).unwrap();
}

/// `model` rewritten as a model file from before cut-outs were shown whole: its preprocessing
/// has no `whole_cut_outs` (the field those files lack), everything else unchanged.
fn as_older_model_file(model: &Path, older: &Path) {
    let bytes = std::fs::read(model).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let meta = &mut header["__metadata__"]["kindling.model"];
    let mut info: serde_json::Value = serde_json::from_str(meta.as_str().unwrap()).unwrap();
    let preprocess = info["preprocess"].as_object_mut().unwrap();
    assert_eq!(preprocess.remove("whole_cut_outs"), Some(true.into()));
    *meta = info.to_string().into();
    let header = serde_json::to_vec(&header).unwrap();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header);
    out.extend(&bytes[8 + header_len..]);
    std::fs::write(older, out).unwrap();
}

/// A model file written before cut-outs were shown whole keeps cropping them when `kindling
/// predict` uses it (its own preprocessing, not today's default), so the model sees what it was
/// trained on; photos are prepared the same way by both.
#[test]
fn an_older_model_file_keeps_cropping_cut_outs() {
    let root = scratch("older-model");
    let data = image_folder(&root);
    let weights = cache("weights/mobilenet_v2.safetensors");
    let model = root.join("model.safetensors");
    let out = run(
        "train",
        &[
            ("data", data.as_path()),
            ("weights", weights.as_path()),
            ("out", &model),
        ],
        &["--backbone", "mobilenet-v2", "--recipe", "quick"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let older = root.join("older.safetensors");
    as_older_model_file(&model, &older);
    let cut_outs = root.join("cut-outs");
    std::fs::create_dir_all(&cut_outs).unwrap();
    write_cut_out(&cut_outs.join("wide.png"));
    let photos = data.join("trouser");
    let predict = |model: &Path, input: &Path, name: &str| {
        probabilities(&predicted(model, input, &weights, &root.join(name)))
    };
    assert_same_probabilities(
        &predicted(&model, &photos, &weights, &root.join("photos-now")),
        &predicted(&older, &photos, &weights, &root.join("photos-older")),
    );
    let (now, before) = (
        predict(&model, &cut_outs, "cut-out-now"),
        predict(&older, &cut_outs, "cut-out-older"),
    );
    let moved = now.iter().zip(&before).map(|(a, b)| (a - b).abs());
    assert!(
        moved.fold(0.0, f64::max) > 1e-3,
        "the older file's crop should see other pixels than the whole cut-out: {now:?} vs {before:?}"
    );
}
