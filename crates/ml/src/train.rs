//! Training: encode the table, hold out a stratified validation split (early stopping,
//! operating point, reported numbers), fit the chosen model, pick the threshold.

use crate::data::{ClassMode, Encoder, Format, Matrix, Table};
use crate::forest::{ForestParams, IsolationParams};
use crate::gbdt::GbdtParams;
use crate::linear::LogisticParams;
use crate::metrics::{self, Report};
use crate::rng::Rng;
use crate::{Body, MlError, Model, ModelKind, MAX_CLASSES};

pub use crate::forest::{
    ForestParams as RandomForestParams, IsolationParams as IsolationForestParams,
};
pub use crate::gbdt::GbdtParams as GradientBoostingParams;
pub use crate::linear::LogisticParams as LogisticRegressionParams;

/// Which model to train, with its hyper-parameters.
#[derive(Clone, Debug)]
pub enum ModelChoice {
    /// Gradient-boosted trees.
    Gbdt(GbdtParams),
    /// Random forest.
    RandomForest(ForestParams),
    /// Logistic regression.
    Logistic(LogisticParams),
    /// Isolation forest (fitted on normal rows only).
    IsolationForest(IsolationParams),
}

impl ModelChoice {
    /// Defaults for a kind.
    pub fn default_for(kind: ModelKind) -> ModelChoice {
        match kind {
            ModelKind::Gbdt => ModelChoice::Gbdt(GbdtParams::default()),
            ModelKind::RandomForest => ModelChoice::RandomForest(ForestParams::default()),
            ModelKind::Logistic => ModelChoice::Logistic(LogisticParams::default()),
            ModelKind::IsolationForest => ModelChoice::IsolationForest(IsolationParams::default()),
        }
    }

    fn kind(&self) -> ModelKind {
        match self {
            ModelChoice::Gbdt(_) => ModelKind::Gbdt,
            ModelChoice::RandomForest(_) => ModelKind::RandomForest,
            ModelChoice::Logistic(_) => ModelKind::Logistic,
            ModelChoice::IsolationForest(_) => ModelKind::IsolationForest,
        }
    }
}

/// Training options.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Model and hyper-parameters.
    pub model: ModelChoice,
    /// Seed of every random choice.
    pub seed: u64,
    /// Fraction of the training file held out (stratified) for early stopping, the
    /// operating point and the reported validation numbers.
    pub validation_fraction: f64,
    /// The threshold is the lowest score whose validation false-positive rate stays at or
    /// below this. `None`: 0.5 for classifiers.
    pub target_fpr: Option<f64>,
    /// A fixed threshold (overrides `target_fpr`).
    pub threshold: Option<f32>,
    /// Model name (default: kind and file name).
    pub name: Option<String>,
    /// Dataset format (recorded in the model).
    pub format: Option<Format>,
    /// Class mode the table was read with.
    pub classes: ClassMode,
}

/// What training did.
#[derive(Debug)]
pub struct TrainReport {
    /// Rows used to fit.
    pub train_rows: usize,
    /// Rows held out.
    pub validation_rows: usize,
    /// Boosting rounds kept (GBDT).
    pub rounds: Option<usize>,
    /// The model on the validation rows.
    pub validation: Option<Report>,
    /// Wall time of fitting, seconds.
    pub fit_seconds: f64,
}

/// Stratified split of row indices: (train, validation).
pub fn stratified_split(y: &[u32], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let k = y.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &c) in y.iter().enumerate() {
        by_class[c as usize].push(i);
    }
    let (mut tr, mut va) = (Vec::new(), Vec::new());
    for mut rows in by_class {
        rng.shuffle(&mut rows);
        let nv = if rows.len() >= 2 {
            ((rows.len() as f64 * fraction).round() as usize).min(rows.len() - 1)
        } else {
            0
        };
        va.extend_from_slice(&rows[..nv]);
        tr.extend_from_slice(&rows[nv..]);
    }
    tr.sort_unstable();
    va.sort_unstable();
    (tr, va)
}

fn take_rows(m: &Matrix, idx: &[usize]) -> Matrix {
    let d = m.n_features;
    let mut x = Vec::with_capacity(idx.len() * d);
    for &i in idx {
        x.extend_from_slice(m.row(i));
    }
    Matrix {
        x,
        n_features: d,
        y: idx.iter().map(|&i| m.y[i]).collect(),
    }
}

/// The lowest threshold on `score` with false-positive rate (normal rows at or above it)
/// at most `target`.
pub fn threshold_for_fpr(score: &[f32], y: &[u32], target: f64) -> f32 {
    let mut normal: Vec<f32> = score
        .iter()
        .zip(y)
        .filter(|(_, &c)| c == 0)
        .map(|(&s, _)| s)
        .collect();
    if normal.is_empty() {
        return 0.5;
    }
    normal.sort_unstable_by(|a, b| b.total_cmp(a));
    let allowed = (target * normal.len() as f64).floor() as usize;
    // Scores strictly above normal[allowed] flag at most `allowed` normal rows.
    match normal.get(allowed) {
        Some(&s) => next_up(s),
        None => 0.0,
    }
}

fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    let bits = x.to_bits();
    let next = if x == 0.0 {
        1
    } else if x > 0.0 {
        bits + 1
    } else {
        bits - 1
    };
    f32::from_bits(next)
}

/// Trains a model on a table.
pub fn train(table: &Table, opts: &TrainOptions) -> Result<(Model, TrainReport), MlError> {
    if table.class_names.len() > MAX_CLASSES {
        return Err(MlError::Train(format!("more than {MAX_CLASSES} classes")));
    }
    let kind = opts.model.kind();
    let encoder = Encoder::fit(table);
    let feature_names = encoder.feature_names();
    if feature_names.is_empty() {
        return Err(MlError::Train("no usable feature columns".into()));
    }
    let mut classes = table.class_names.clone();
    let mut class_mode = opts.classes;
    let mut m = encoder.encode(table, &classes)?;
    if kind == ModelKind::IsolationForest {
        // Anomaly score: normal vs anything else.
        for c in &mut m.y {
            *c = u32::from(*c != 0);
        }
        classes = vec![classes[0].clone(), "attack".into()];
        class_mode = ClassMode::Binary;
    }
    let k = classes.len();
    let present = {
        let mut seen = vec![false; k];
        for &c in &m.y {
            seen[c as usize] = true;
        }
        seen
    };
    if kind != ModelKind::IsolationForest && present.iter().filter(|&&b| b).count() < 2 {
        return Err(MlError::Train("the data has fewer than two classes".into()));
    }
    if kind == ModelKind::IsolationForest && !present[0] {
        return Err(MlError::Train(
            "no normal rows to fit an isolation forest".into(),
        ));
    }
    let (tr_idx, va_idx) = if opts.validation_fraction > 0.0 {
        stratified_split(&m.y, opts.validation_fraction, opts.seed)
    } else {
        ((0..m.rows()).collect(), Vec::new())
    };
    let tr = take_rows(&m, &tr_idx);
    let va = take_rows(&m, &va_idx);
    let d = m.n_features;
    drop(m);
    let started = std::time::Instant::now();
    let mut rounds = None;
    let valid = (!va.y.is_empty()).then_some((va.x.as_slice(), va.y.as_slice()));
    let body = match &opts.model {
        ModelChoice::Gbdt(p) => {
            let (b, r) = crate::gbdt::train(&tr.x, &tr.y, d, k, valid, p, opts.seed);
            rounds = Some(r);
            Body::Boosted(b)
        }
        ModelChoice::RandomForest(p) => Body::Forest(crate::forest::train_random_forest(
            &tr.x, &tr.y, d, k, p, opts.seed,
        )),
        ModelChoice::Logistic(p) => {
            Body::Linear(crate::linear::train(&tr.x, &tr.y, d, k, p, opts.seed))
        }
        ModelChoice::IsolationForest(p) => {
            let normal: Vec<f32> =
                tr.y.iter()
                    .enumerate()
                    .filter(|(_, &c)| c == 0)
                    .flat_map(|(i, _)| tr.row(i).iter().copied())
                    .collect();
            Body::Isolation(crate::forest::train_isolation(&normal, d, p, opts.seed))
        }
    };
    let fit_seconds = started.elapsed().as_secs_f64();
    let params = match &opts.model {
        ModelChoice::Gbdt(p) => serde_json::to_value(p),
        ModelChoice::RandomForest(p) => serde_json::to_value(p),
        ModelChoice::Logistic(p) => serde_json::to_value(p),
        ModelChoice::IsolationForest(p) => serde_json::to_value(p),
    }
    .unwrap_or_default();
    let name = opts.name.clone().unwrap_or_else(|| {
        let file = table
            .source
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{}-{file}", kind.as_str())
    });
    let mut model = Model {
        name,
        kind,
        encoder,
        feature_names,
        class_names: classes.clone(),
        class_mode,
        format: opts.format,
        threshold: 0.5,
        body,
        info: serde_json::Value::Null,
    };
    let mut validation = None;
    if !va.y.is_empty() {
        let scored = metrics::score(&model, &va);
        let t = match (opts.threshold, opts.target_fpr) {
            (Some(t), _) => t,
            (None, Some(target)) => threshold_for_fpr(&scored.score, &va.y, target),
            (None, None) => 0.5,
        };
        model.threshold = t;
        validation = Some(metrics::evaluate(&model, &va));
    } else if let Some(t) = opts.threshold {
        model.threshold = t;
    }
    model.info = serde_json::json!({
        "params": params,
        "seed": opts.seed,
        "train_rows": tr.y.len(),
        "validation_rows": va.y.len(),
        "rounds": rounds,
        "target_fpr": opts.target_fpr,
        "validation": validation.as_ref().map(|r| serde_json::json!({
            "accuracy": r.accuracy, "macro_f1": r.macro_f1, "fpr": r.fpr, "roc_auc": r.roc_auc,
        })),
    });
    Ok((
        model,
        TrainReport {
            train_rows: tr.y.len(),
            validation_rows: va.y.len(),
            rounds,
            validation,
            fit_seconds,
        },
    ))
}
