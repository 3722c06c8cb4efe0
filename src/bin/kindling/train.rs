//! `kindling train`: a recipe and/or a TrainConfig JSON (the page's settings), data from a folder
//! or a text file, progress bars and a per-epoch table, a checkpoint after every epoch, Ctrl-C
//! that stops after the current step and keeps the model; k-fold cross-validation (`kfold.rs`)
//! and auto (`auto.rs`) are sweeps of their own.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;
use kindling::backbone::{Backbone, BackboneSpec};
use kindling::data::Augmenter;
use kindling::data::image::{Augment, ImageAugmenter};
use kindling::model::file::{ModelInfo, export};
use kindling::train::checkpoint;
use kindling::train::{TrainingRun, training_device};
use kindling::{Error, Result};

use crate::auto;
use crate::cli::Outcome;
use crate::data::{Examples, image_folder_streamed, load};
use crate::features;
use crate::held_out::held_out;
use crate::kfold;
use crate::progress;
use crate::report::{Metrics, print_epoch, print_epoch_header, write_file, write_metrics};
use crate::setup::{self, read};
use crate::stream::ImageStream;
use crate::train_args::{Settings, TrainArgs, check_combinations, config, recipe};

pub fn run(args: TrainArgs) -> Result<Outcome> {
    let recipe = recipe(&args)?;
    let settings = config(&args, recipe)?;
    check_combinations(&args, recipe, &settings)?;
    let Settings {
        config,
        augment,
        augment_given,
    } = settings;
    let spec = setup::spec(args.backbone, &args.weights.weights, args.max_len)?;
    let (weights, tokenizer) = setup::weights(&spec, &args.weights)?;
    let devices = setup::devices(&args.weights.device)?;
    let (device, more_devices) = match devices.split_first() {
        Some((first, more)) => (first.clone(), more.to_vec()),
        None => return Err(Error::config("device", "name a device")),
    };
    let preprocess = spec.preprocess();
    // Crops are drawn from a copy 1.5× the evaluation resize (as in the browser).
    let keep = match (&preprocess, augment.any()) {
        (Some(p), true) => Some(p.resize * 3 / 2),
        _ => None,
    };
    // One run without augmentation streams an image folder from disk (a chunk of rows in memory
    // at a time); augmentation, k-fold and auto hold every image's rows (Command line).
    let streamed = args.data.is_dir()
        && !args.in_memory
        && recipe.is_some()
        && !augment.any()
        && args.k_fold.is_none();
    let (examples, mut stream) = match (streamed, &preprocess) {
        (true, Some(preprocess)) => {
            let folder = image_folder_streamed(&args.data, &spec)?;
            let examples = Examples {
                data: folder.data,
                images: Vec::new(),
                profile: folder.profile,
            };
            (
                examples,
                Some(ImageStream::new(folder.files, preprocess.clone())),
            )
        }
        _ => (
            load(&args.data, &spec, tokenizer.as_ref(), &args.columns, keep)?,
            None,
        ),
    };
    if stream.is_some() {
        println!(
            "images: streamed from disk, a chunk at a time (the next decoded while the backbone runs)"
        );
    }
    let data = examples.data;
    eprintln!(
        "{} examples of {} classes: {}",
        data.len(),
        data.num_classes(),
        data.classes().join(", ")
    );
    // Read (and checked) before training, so that bad test data costs no run.
    let test = match &args.test {
        Some(path) => {
            let examples = load(path, &spec, tokenizer.as_ref(), &args.columns, None)?;
            let test = held_out(examples.data, data.classes())?;
            eprintln!("{} held-out test examples", test.data.len());
            Some(test)
        }
        None => None,
    };
    let Some(recipe) = recipe else {
        let outputs = auto::Outputs {
            model: &args.out,
            metrics: args.metrics.as_deref(),
            test: test.as_ref(),
        };
        return auto::run(
            &config,
            (data, &examples.profile),
            (&spec, &weights),
            outputs,
            &device,
        );
    };
    // A settings file that gives `augment` chose the augmentation: it stands as given, as on the
    // page once a person changes the recipe's augmentation (Recipe::adapt adapts the recipe's).
    let (augment, notes) = match augment_given {
        true => (augment, Vec::new()),
        false => recipe.adapt(augment, &examples.profile),
    };
    for note in notes {
        println!("{}: {note}", args.recipe);
    }
    if preprocess.is_some() && augment.any() {
        println!("augmentation: {augment}");
    }
    let images = Arc::new(examples.images);
    let augmenter_for = |augment: &Augment| -> Option<Box<dyn Augmenter>> {
        match (&preprocess, augment.any()) {
            (Some(preprocess), true) => Some(Box::new(ImageAugmenter {
                images: images.clone(),
                preprocess: preprocess.clone(),
                augment: augment.clone(),
            })),
            _ => None,
        }
    };
    let backbone = |device: &Device| Backbone::load(&spec, &weights, device);
    if let Some(k) = args.k_fold {
        return kfold::run(
            (&config, &augment, &augmenter_for),
            k,
            &data,
            (&spec, &weights),
            args.metrics.as_deref(),
            &device,
        );
    }
    let augmenter = augmenter_for(&augment);
    let mut run = match &args.resume {
        Some(path) => {
            let bytes = read(path, "checkpoint")?;
            let ad = training_device(&device, &checkpoint::read_config(&bytes)?);
            TrainingRun::from_checkpoint(&bytes, backbone(&ad)?, data.clone(), augmenter, &ad)?
        }
        None => {
            let ad = training_device(&device, &config);
            let mut run = TrainingRun::new(config, backbone(&ad)?, data.clone(), None, &ad)?;
            run.set_augmenter(augmenter);
            run
        }
    };
    if let Some(dir) = &args.disk_cache {
        run.keep_cache_on_disk(dir.clone());
    }
    if matches!(spec, BackboneSpec::Bert { .. }) {
        println!(
            "text features: {} ({} values a text)",
            match run.model().backbone.pools_every_layer() {
                true => "every layer's mean token vector, side by side (text_features)",
                false => "the sentence embedding (the last layer's mean token vector)",
            },
            run.model().backbone.feature_dim()
        );
    }
    if !more_devices.is_empty() {
        run.train_on_more_devices(&more_devices);
        println!(
            "data-parallel over {} devices: each fine-tuning batch in up to {} shards, the optimiser on {} (a frozen backbone's head trains there alone)",
            devices.len(),
            devices.len(),
            args.weights.device[0]
        );
    }
    let checkpoint_path = args.checkpoint.clone().unwrap_or_else(|| {
        let mut name = args.out.clone().into_os_string();
        name.push(".checkpoint");
        PathBuf::from(name)
    });
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| Error::State(format!("cannot catch Ctrl-C: {e}")))?;

    let estimate = run.memory_estimate();
    let cache_place = match &args.disk_cache {
        Some(dir) if run.cache_on_disk() => {
            format!(", in a memory-mapped file in {}", dir.display())
        }
        Some(_) => ", in memory: --disk-cache applies where the CPU device computes the frozen part (an image backbone's frozen blocks, a wholly frozen text encoder)".into(),
        None => String::new(),
    };
    println!(
        "estimated peak memory: {} MB ({} MB of it the cache of the frozen part's activations{cache_place})",
        estimate.total_bytes.div_ceil(1_000_000),
        estimate.cache_bytes.div_ceil(1_000_000)
    );
    let batches = run.split().train.len().div_ceil(run.config().batch_size);
    let epochs = run.config().epochs;
    let mut bar = None;
    let mut header_printed = false;
    let mut baselines = None;
    let mut baselines_checked = false;
    while !run.is_finished() && !interrupted.load(Ordering::SeqCst) {
        if let Some((done, total)) = run.caching_progress() {
            let caching = bar.get_or_insert_with(|| progress::bar(total, "caching", "examples"));
            caching.set_position(done as u64);
        } else if bar.is_none() {
            let epoch = run.history().len();
            let b = progress::bar(batches, &format!("epoch {}/{epochs}", epoch + 1), "batches");
            bar = Some(b);
        }
        // The baselines read every feature into memory: not for a cache kept on disk.
        if !baselines_checked && args.disk_cache.is_none() && run.caching_progress().is_none() {
            // The features are cached: the baselines cost one pass over them.
            baselines_checked = true;
            baselines = pollster::block_on(run.baselines())?;
            if let Some(b) = &baselines {
                let line = format!(
                    "baselines (no training): nearest centroid {:.1}%, {}-NN {:.1}%",
                    100.0 * b.nearest_centroid,
                    b.k,
                    100.0 * b.knn
                );
                match &bar {
                    Some(bar) => bar.suspend(|| println!("{line}")),
                    None => println!("{line}"),
                }
            }
        }
        if let Some(stream) = stream.as_mut() {
            stream.supply(&mut run)?;
        }
        let report = pollster::block_on(run.step())?;
        if run.caching_progress().is_none()
            && let Some(b) = &bar
        {
            b.inc(1);
        }
        if let Some(report) = report {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            if !header_printed {
                print_epoch_header();
                header_printed = true;
            }
            print_epoch(&report);
            let bytes = pollster::block_on(run.checkpoint())?;
            write_file(&checkpoint_path, &bytes, "checkpoint")?;
        } else if run.caching_progress().is_none()
            && bar.as_ref().is_some_and(|b| b.prefix() == "caching")
            && let Some(b) = bar.take()
        {
            b.finish_and_clear();
        }
    }
    if let Some(b) = bar.take() {
        b.finish_and_clear();
    }
    let stopped_early = interrupted.load(Ordering::SeqCst) && !run.is_finished();
    if !more_devices.is_empty() {
        println!(
            "{} batches ran spread over the {} devices",
            run.batches_spread_over_devices(),
            devices.len()
        );
    }
    // A finished run resumed from its checkpoint has no cache yet: its evaluation (and the
    // features file) are computed from it.
    if let Some(stream) = stream
        .as_mut()
        .filter(|_| run.is_finished() || args.features.is_some())
    {
        stream.complete_cache(&mut run)?;
    }
    let info = ModelInfo::new(
        spec.clone(),
        Some(&weights),
        run.classes().to_vec(),
        run.config().clone(),
    );
    let model = pollster::block_on(export(run.kept_model(), &info))?;
    write_file(&args.out, &model, "model file")?;
    let test_features = match (&args.features, &test) {
        (Some(_), Some(test)) => Some((
            test.features(run.kept_model(), run.device())?,
            &test.labels[..],
        )),
        _ => None,
    };
    if let Some(path) = &args.features {
        features::write(path, &mut run, data.labels(), test_features)?;
    }
    let test_score = match &test {
        Some(test) => {
            let score = test.score(run.kept_model(), run.device())?;
            println!("held-out test: {}", score.summary());
            Some(score)
        }
        None => None,
    };
    let evaluation = if run.is_finished() {
        Some(pollster::block_on(run.evaluate())?)
    } else {
        None
    };
    if let Some(e) = &evaluation {
        let gain = baselines.as_ref().map_or(String::new(), |b| {
            format!(
                " ({:+.1} points over the nearest-centroid baseline)",
                100.0 * (e.report.accuracy - b.nearest_centroid)
            )
        });
        println!(
            "kept model: validation accuracy {:.1}%{gain}, macro-F1 {:.3}",
            100.0 * e.report.accuracy,
            e.report.macro_f1
        );
        match &e.calibration {
            Some(c) if c.applied => println!(
                "calibration: error {:.1}% on the validation split after temperature scaling (T = {:.2}; {:.1}% before){}",
                100.0 * c.ece_after,
                c.temperature,
                100.0 * c.ece_before,
                c.reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(": {r}"))
            ),
            Some(c) => println!(
                "calibration: error {:.1}% on the validation split; no temperature scaling: {}",
                100.0 * c.ece_before,
                c.reason
                    .as_deref()
                    .unwrap_or("it did not lower the validation loss")
            ),
            None => {}
        }
    }
    let stop = run.stop_reason().and_then(|r| r.message());
    if let Some(message) = &stop {
        println!("{message}");
    }
    let metrics = Metrics {
        history: run.history(),
        baselines,
        stopped: stop,
        interrupted: stopped_early,
        evaluation,
        cross_validation: None,
        test: test_score,
        examples: data.len(),
        classes: run.classes(),
    };
    write_metrics(args.metrics.as_deref(), &metrics)?;
    println!("model: {}", args.out.display());
    if stopped_early {
        println!(
            "stopped (Ctrl-C) after {} epoch(s); the last epoch's checkpoint is {}: `--resume {}` goes on",
            run.history().len(),
            checkpoint_path.display(),
            checkpoint_path.display()
        );
        return Ok(Outcome::Interrupted);
    }
    Ok(Outcome::Done)
}
