//! `vedette ml`: train, evaluate and import models (the work is in `vedette-ml`).

use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use vedette_ml::data::{read_table, ColumnSpec, ReadOptions};
use vedette_ml::{ClassMode, Format, Model, ModelChoice, ModelKind, TrainOptions};

/// `vedette ml ...`.
#[derive(Subcommand)]
pub enum MlCommand {
    /// Train a model on a labelled dataset and write the model file.
    Train(TrainArgs),
    /// Evaluate a model on a labelled dataset (confusion matrix, per-class metrics, AUCs).
    Evaluate(EvaluateArgs),
    /// Convert a scikit-learn model exported to ONNX (skl2onnx) into a vedette model file.
    Import(ImportArgs),
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("unknown format `{s}` (nsl-kdd, unsw-nb15, flows-csv)"))
}

fn parse_kind(s: &str) -> Result<ModelKind, String> {
    Ok(match s {
        "gbdt" => ModelKind::Gbdt,
        "random-forest" => ModelKind::RandomForest,
        "logistic" => ModelKind::Logistic,
        "isolation-forest" => ModelKind::IsolationForest,
        _ => {
            return Err(format!(
                "unknown model `{s}` (gbdt, random-forest, logistic, isolation-forest)"
            ))
        }
    })
}

fn parse_classes(s: &str) -> Result<ClassMode, String> {
    match s {
        "binary" => Ok(ClassMode::Binary),
        "category" => Ok(ClassMode::Category),
        _ => Err(format!("unknown class mode `{s}` (binary, category)")),
    }
}

#[derive(Args)]
pub struct TrainArgs {
    /// Training data file.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Data format: nsl-kdd, unsw-nb15 or flows-csv.
    #[arg(long, value_parser = parse_format)]
    format: Format,
    /// Model: gbdt, random-forest, logistic or isolation-forest.
    #[arg(long, value_parser = parse_kind, default_value = "gbdt")]
    model: ModelKind,
    /// Classes: binary (normal/attack) or category (attack categories).
    #[arg(long, value_parser = parse_classes, default_value = "binary")]
    classes: ClassMode,
    /// Model file to write.
    #[arg(long, value_name = "MODEL")]
    out: PathBuf,
    /// Seed of every random choice (same data + seed = same model).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of the data held out for early stopping and the operating point.
    #[arg(long, default_value_t = 0.1)]
    validation_fraction: f64,
    /// Operating point: the lowest score threshold whose false-positive rate on the
    /// validation rows is at most this.
    #[arg(long, value_name = "RATE", conflicts_with = "threshold")]
    target_fpr: Option<f64>,
    /// Fixed score threshold for "not normal" (default 0.5, or from --target-fpr).
    #[arg(long)]
    threshold: Option<f32>,
    /// Model name stored in the file (shown in events).
    #[arg(long)]
    name: Option<String>,
    /// Trees (gbdt: maximum boosting rounds; forests: trees).
    #[arg(long)]
    trees: Option<usize>,
    /// Maximum tree depth (gbdt, random-forest).
    #[arg(long)]
    max_depth: Option<u32>,
    /// Learning rate (gbdt, logistic).
    #[arg(long)]
    learning_rate: Option<f32>,
    /// Maximum leaves per tree (gbdt).
    #[arg(long)]
    max_leaves: Option<usize>,
    /// Weight classes inversely to their frequency (random-forest, logistic).
    #[arg(long)]
    balanced: Option<bool>,
    /// Worker threads for training (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Stop reading past this many rows.
    #[arg(long, default_value_t = vedette_ml::data::DEFAULT_MAX_ROWS)]
    max_rows: usize,
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// Model file.
    #[arg(long, value_name = "MODEL")]
    model: PathBuf,
    /// Labelled data file.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Data format (default: the one the model was trained on).
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write roc.png and confusion.png into this directory.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Override the model's score threshold.
    #[arg(long)]
    threshold: Option<f32>,
    /// Stop reading past this many rows.
    #[arg(long, default_value_t = vedette_ml::data::DEFAULT_MAX_ROWS)]
    max_rows: usize,
}

#[derive(Args)]
pub struct ImportArgs {
    /// ONNX file (from skl2onnx).
    #[arg(value_name = "MODEL.onnx")]
    onnx: PathBuf,
    /// Model file to write (default: the ONNX file name with .vmodel).
    #[arg(long, value_name = "MODEL")]
    out: Option<PathBuf>,
    /// Names of the input features in order (default: f0, f1, ...).
    #[arg(long, num_args = 1.., value_name = "NAME")]
    features: Vec<String>,
    /// Model name stored in the file.
    #[arg(long)]
    name: Option<String>,
    /// Index of the normal class among the ONNX model's classes.
    #[arg(long, default_value_t = 0)]
    normal_class: usize,
}

/// Runs `vedette ml`.
pub fn run(cmd: MlCommand) -> anyhow::Result<()> {
    match cmd {
        MlCommand::Train(a) => train(a),
        MlCommand::Evaluate(a) => evaluate(a),
        MlCommand::Import(a) => import(a),
    }
}

fn train(a: TrainArgs) -> anyhow::Result<()> {
    if let Some(t) = a.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t.max(1))
            .build_global()
            .context("cannot size the training thread pool")?;
    }
    if !(0.0..0.9).contains(&a.validation_fraction) {
        anyhow::bail!("--validation-fraction must be in [0, 0.9)");
    }
    let started = std::time::Instant::now();
    let mut ro = ReadOptions::new(a.format, a.classes);
    ro.max_rows = a.max_rows;
    let table = read_table(&a.data, &ro)?;
    let read_s = started.elapsed().as_secs_f64();
    let mut choice = ModelChoice::default_for(a.model);
    match &mut choice {
        ModelChoice::Gbdt(p) => {
            if let Some(t) = a.trees {
                p.rounds = t;
            }
            if let Some(d) = a.max_depth {
                p.max_depth = d;
            }
            if let Some(l) = a.learning_rate {
                p.learning_rate = l;
            }
            if let Some(l) = a.max_leaves {
                p.max_leaves = l.max(2);
            }
        }
        ModelChoice::RandomForest(p) => {
            if let Some(t) = a.trees {
                p.trees = t.max(1);
            }
            if let Some(d) = a.max_depth {
                p.max_depth = d;
            }
            if let Some(b) = a.balanced {
                p.balanced = b;
            }
        }
        ModelChoice::Logistic(p) => {
            if let Some(l) = a.learning_rate {
                p.learning_rate = l;
            }
            if let Some(b) = a.balanced {
                p.balanced = b;
            }
        }
        ModelChoice::IsolationForest(p) => {
            if let Some(t) = a.trees {
                p.trees = t.max(1);
            }
        }
    }
    let opts = TrainOptions {
        model: choice,
        seed: a.seed,
        validation_fraction: a.validation_fraction,
        target_fpr: a.target_fpr,
        threshold: a.threshold,
        name: a.name.clone(),
        format: Some(a.format),
        classes: a.classes,
    };
    let (model, report) = vedette_ml::train(&table, &opts)?;
    model.save(&a.out)?;
    eprintln!(
        "vedette ml: read {} rows in {read_s:.1} s; trained {} on {} rows in {:.1} s{}; {} features, classes: {}",
        table.len(),
        model.kind().as_str(),
        report.train_rows,
        report.fit_seconds,
        report
            .rounds
            .map(|r| format!(" ({r} rounds)"))
            .unwrap_or_default(),
        model.feature_names().len(),
        model.class_names().join(", ")
    );
    if let Some(v) = &report.validation {
        eprintln!(
            "validation ({} held-out rows of the training file):\n{}",
            report.validation_rows,
            v.to_text()
        );
    }
    eprintln!("wrote {}", a.out.display());
    Ok(())
}

fn evaluate(a: EvaluateArgs) -> anyhow::Result<()> {
    let mut model = Model::load(&a.model)?;
    if let Some(t) = a.threshold {
        model.set_threshold(t);
    }
    let format = a
        .format
        .or(model.format())
        .context("the model does not record a data format (imported model): give --format")?;
    let mut ro = ReadOptions::new(format, model.class_mode());
    ro.max_rows = a.max_rows;
    if format == Format::FlowsCsv {
        ro.categorical = Some(
            model
                .encoder()
                .columns
                .iter()
                .filter_map(|c| match c {
                    ColumnSpec::OneHot { name, .. } => Some(name.clone()),
                    ColumnSpec::Numeric { .. } => None,
                })
                .collect(),
        );
    }
    let table = read_table(&a.data, &ro)?;
    let m = model.encoder().encode(&table, model.class_names())?;
    let report = vedette_ml::metrics::evaluate(&model, &m);
    if let Some(dir) = &a.plots {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        vedette_ml::plot::roc_png(&report, &dir.join("roc.png"), model.name())?;
        vedette_ml::plot::confusion_png(&report, &dir.join("confusion.png"), model.name())?;
    }
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("model".into(), model.name().into());
            o.insert("kind".into(), model.kind().as_str().into());
        }
        println!("{}", serde_json::to_string(&v)?);
    } else {
        println!("model {} ({})", model.name(), model.kind().as_str());
        print!("{}", report.to_text());
    }
    Ok(())
}

fn import(a: ImportArgs) -> anyhow::Result<()> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| a.onnx.with_extension("vmodel"));
    let model = vedette_ml::onnx::import(
        &a.onnx,
        &vedette_ml::onnx::ImportOptions {
            feature_names: a.features.clone(),
            name: a.name.clone(),
            normal_class: a.normal_class,
        },
    )?;
    model.save(&out)?;
    eprintln!(
        "vedette ml: imported {} ({}, {} features, classes: {}) to {}",
        a.onnx.display(),
        model.kind().as_str(),
        model.feature_names().len(),
        model.class_names().join(", "),
        out.display()
    );
    Ok(())
}
