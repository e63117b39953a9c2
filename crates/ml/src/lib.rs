//! Machine learning for vedette: reading labelled datasets, training and evaluating
//! classifiers and anomaly detectors, saving them as versioned model files, importing
//! scikit-learn models from ONNX, and scoring one feature vector at a time.
//!
//! This crate owns the models (histogram gradient-boosted trees, random forest, logistic
//! regression, isolation forest), their file format ([`Model::load`] validates every index
//! and size, so a hostile file is an error, never a panic or a loop), the dataset readers
//! ([`data`]), the metrics ([`metrics`]) and the plots ([`plot`]).
//!
//! It must not see packets or flows: callers build the feature vector (by the names in
//! [`Model::feature_names`]) and call [`Model::predict`], which neither allocates nor locks,
//! so one `Arc<Model>` serves every worker thread.

#![forbid(unsafe_code)]

pub mod data;
mod file;
mod forest;
mod gbdt;
mod linear;
pub mod metrics;
pub mod onnx;
pub mod plot;
mod rng;
mod train;
mod tree;

pub use data::{ClassMode, Format, FLOW_ID_COLUMNS, MAX_CLASSES};
pub use train::{
    stratified_split, threshold_for_fpr, train, GradientBoostingParams, IsolationForestParams,
    LogisticRegressionParams, ModelChoice, RandomForestParams, TrainOptions, TrainReport,
};

use std::path::PathBuf;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// A file could not be read or written.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A dataset row or header is wrong.
    #[error("{}:{line}: {reason}", file.display())]
    Data {
        /// The file.
        file: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A model file is not a valid vedette model.
    #[error("{}: not a valid vedette model: {reason}", file.display())]
    Model {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Training cannot proceed (e.g. one class only).
    #[error("training: {0}")]
    Train(String),
    /// An ONNX file cannot be imported.
    #[error("{}: cannot import ONNX model: {reason}", file.display())]
    Onnx {
        /// The file.
        file: PathBuf,
        /// What is wrong or unsupported.
        reason: String,
    },
}

/// What kind of model a [`Model`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Gradient-boosted trees (logistic loss, or softmax for more than two classes).
    Gbdt,
    /// Random forest (averaged class distributions).
    RandomForest,
    /// Logistic (softmax) regression on standardised features.
    Logistic,
    /// Isolation forest (anomaly score, trained on normal rows).
    IsolationForest,
}

impl ModelKind {
    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Gbdt => "gbdt",
            ModelKind::RandomForest => "random-forest",
            ModelKind::Logistic => "logistic",
            ModelKind::IsolationForest => "isolation-forest",
        }
    }
}

/// One prediction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// In \[0, 1\]: probability of "not normal" for classifiers, the anomaly score
    /// `2^(-E[h]/c(n))` for an isolation forest.
    pub score: f32,
    /// Predicted class (see [`Model::class_name`]): "not normal" exactly when
    /// `score >= threshold`, then the most probable non-normal class.
    pub class: usize,
}

/// Gradient-boosted trees: `n_outputs` margins (1 for two classes, else one per class).
#[derive(Clone, Debug)]
pub(crate) struct Boosted {
    pub trees: Vec<tree::Tree>,
    /// Output index of each tree.
    pub tree_output: Vec<u32>,
    pub base: Vec<f32>,
    /// How margins become probabilities.
    pub post: Post,
}

/// Output transform of summed tree outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Post {
    /// Sigmoid for one output, softmax for several (trained GBDT, ONNX LOGISTIC/SOFTMAX).
    #[default]
    Logistic,
    /// The sums are the probabilities (ONNX random forests, post_transform NONE).
    Identity,
}

/// A forest averaging per-leaf class distributions (`width` = classes).
#[derive(Clone, Debug)]
pub(crate) struct Forest {
    pub trees: Vec<tree::Tree>,
}

/// Isolation forest: leaves hold depth + c(leaf size).
#[derive(Clone, Debug)]
pub(crate) struct Isolation {
    pub trees: Vec<tree::Tree>,
    /// c(sample size), the normaliser.
    pub c_n: f32,
}

/// Linear model: `z_k = bias_k + sum_j w_kj * (x_j - mean_j) / scale_j`.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// `n_outputs * n_features`.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// 1 output = sigmoid (binary), else softmax over the outputs.
    pub outputs: usize,
    /// Standardised values are clipped to ±clip (0 = no clipping).
    pub clip: f32,
}

#[derive(Clone, Debug)]
pub(crate) enum Body {
    Boosted(Boosted),
    Forest(Forest),
    Isolation(Isolation),
    Linear(Linear),
}

/// A trained (or imported) model, immutable and shareable across threads.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) name: String,
    pub(crate) kind: ModelKind,
    pub(crate) encoder: data::Encoder,
    pub(crate) feature_names: Vec<String>,
    pub(crate) class_names: Vec<String>,
    pub(crate) class_mode: ClassMode,
    pub(crate) format: Option<Format>,
    /// Operating point on `score`.
    pub(crate) threshold: f32,
    pub(crate) body: Body,
    /// Free-form facts about training (parameters, validation numbers), kept in the file.
    pub(crate) info: serde_json::Value,
}

#[inline]
fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Softmax in place.
fn softmax(z: &mut [f32]) {
    let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut s = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    if s > 0.0 {
        for v in z.iter_mut() {
            *v /= s;
        }
    }
}

/// c(n): average path length of an unsuccessful BST search over n points (isolation forest).
pub(crate) fn avg_path_length(n: f64) -> f64 {
    if n <= 1.0 {
        0.0
    } else if n <= 2.0 {
        1.0
    } else {
        2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
    }
}

impl Model {
    /// Reads and validates a model file (trained by `vedette ml train` or made by
    /// `vedette ml import`).
    pub fn load(path: &std::path::Path) -> Result<Model, MlError> {
        file::load(path)
    }

    /// Writes the model file.
    pub fn save(&self, path: &std::path::Path) -> Result<(), MlError> {
        file::save(self, path)
    }

    /// Input features, by name, in the order [`Model::predict`] reads them.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Class names; index 0 is the normal class.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Name of class `class` ("?" when out of range).
    pub fn class_name(&self, class: usize) -> &str {
        self.class_names.get(class).map_or("?", String::as_str)
    }

    /// The model's name (from `--name`, else the kind and the data it was trained on).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Model kind.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The score at or above which a row is "not normal".
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Sets the operating point.
    pub fn set_threshold(&mut self, t: f32) {
        self.threshold = t;
    }

    /// Binary or category classes.
    pub fn class_mode(&self) -> ClassMode {
        self.class_mode
    }

    /// The dataset format the model was trained on, if any.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// The raw-column encoder (categories to one-hot features).
    pub fn encoder(&self) -> &data::Encoder {
        &self.encoder
    }

    /// Training facts stored with the model.
    pub fn info(&self) -> &serde_json::Value {
        &self.info
    }

    fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Class probabilities into `out[..n_classes]` (for an isolation forest: `[1-s, s]`).
    /// Returns the score. `out` must hold at least the number of classes.
    pub fn predict_proba(&self, x: &[f32], out: &mut [f32]) -> f32 {
        let k = self.n_classes().min(out.len());
        let out = &mut out[..k];
        out.fill(0.0);
        match &self.body {
            Body::Boosted(b) => {
                if b.base.len() == 1 {
                    let mut z = b.base[0];
                    for t in &b.trees {
                        z += t.output(x);
                    }
                    let p = match b.post {
                        Post::Logistic => sigmoid(z),
                        Post::Identity => z.clamp(0.0, 1.0),
                    };
                    if k >= 2 {
                        out[0] = 1.0 - p;
                        out[1] = p;
                    }
                } else {
                    for (o, &b0) in out.iter_mut().zip(&b.base) {
                        *o = b0;
                    }
                    for (t, &o) in b.trees.iter().zip(&b.tree_output) {
                        if let Some(v) = out.get_mut(o as usize) {
                            *v += t.output(x);
                        }
                    }
                    if b.post == Post::Logistic {
                        softmax(out);
                    }
                }
            }
            Body::Forest(f) => {
                for t in &f.trees {
                    for (o, v) in out.iter_mut().zip(t.outputs(x, k)) {
                        *o += v;
                    }
                }
                let n = f.trees.len().max(1) as f32;
                for o in out.iter_mut() {
                    *o /= n;
                }
            }
            Body::Isolation(f) => {
                let mut h = 0.0f32;
                for t in &f.trees {
                    h += t.output(x);
                }
                let mean = h / f.trees.len().max(1) as f32;
                let s = 2f32.powf(-mean / f.c_n.max(f32::MIN_POSITIVE));
                if k >= 2 {
                    out[0] = 1.0 - s;
                    out[1] = s;
                }
                return s;
            }
            Body::Linear(l) => {
                let d = l.mean.len();
                for (j, o) in out.iter_mut().enumerate().take(l.outputs) {
                    let w = l.weights.get(j * d..(j + 1) * d).unwrap_or(&[]);
                    let mut z = l.bias.get(j).copied().unwrap_or(0.0);
                    for ((wi, (&m, &s)), xi) in w.iter().zip(l.mean.iter().zip(&l.scale)).zip(x) {
                        let v = (xi - m) / s;
                        z += wi
                            * if l.clip > 0.0 {
                                v.clamp(-l.clip, l.clip)
                            } else {
                                v
                            };
                    }
                    *o = z;
                }
                if l.outputs == 1 {
                    let p = sigmoid(out[0]);
                    if k >= 2 {
                        out[0] = 1.0 - p;
                        out[1] = p;
                    }
                } else {
                    softmax(out);
                }
            }
        }
        1.0 - out.first().copied().unwrap_or(1.0)
    }

    /// Scores one feature vector (in [`Model::feature_names`] order; missing trailing
    /// features read as 0). No allocation.
    pub fn predict(&self, x: &[f32]) -> Prediction {
        let mut buf = [0f32; MAX_CLASSES];
        let score = self.predict_proba(x, &mut buf);
        let k = self.n_classes().min(MAX_CLASSES);
        let class = if score >= self.threshold {
            let mut best = 1;
            for c in 2..k {
                if buf[c] > buf[best] {
                    best = c;
                }
            }
            best
        } else {
            0
        };
        Prediction { score, class }
    }

    /// Per-feature contributions to the score of `x`, largest magnitude first, at most `k`
    /// into `out` as (feature index, contribution). Trees: Saabas path attribution (change
    /// of node value per split, in margin units for boosted trees, probability for forests);
    /// isolation forest: how often a feature isolates `x` early (1/depth per split);
    /// logistic: coefficient × standardised value. Reuses `out`'s capacity.
    pub fn top_features(&self, x: &[f32], out: &mut Vec<(usize, f32)>, k: usize) {
        out.clear();
        let d = self.feature_names.len();
        // Contributions accumulate in `out` itself (one slot per feature), then the top k
        // are kept: no allocation once `out` has grown to d.
        out.extend((0..d).map(|i| (i, 0.0f32)));
        let mut contrib = ContribView(out);
        let pred = self.predict(x);
        match &self.body {
            Body::Boosted(b) => {
                let n_out = b.base.len();
                for (t, &o) in b.trees.iter().zip(&b.tree_output) {
                    // Binary: the margin is the attack logit. Multiclass: push towards the
                    // predicted attack class (+) or away from normal (-).
                    let w = if n_out == 1 {
                        1.0
                    } else if o == 0 {
                        -1.0
                    } else if pred.class != 0 && o as usize == pred.class {
                        1.0
                    } else {
                        0.0
                    };
                    if w != 0.0 {
                        t.attribute(x, w, &mut |f, v| contrib.add(f, v));
                    }
                }
            }
            Body::Forest(f) => {
                let n = f.trees.len().max(1) as f32;
                for t in &f.trees {
                    t.attribute(x, 1.0 / n, &mut |f, v| contrib.add(f, v));
                }
            }
            Body::Isolation(f) => {
                let n = f.trees.len().max(1) as f32;
                for t in &f.trees {
                    let (depth, _) = t.depth_and_leaf(x);
                    t.count_splits(x, 1.0 / (n * depth.max(1) as f32), &mut |f, v| {
                        contrib.add(f, v)
                    });
                }
            }
            Body::Linear(l) => {
                let dd = l.mean.len();
                let rows: Vec<usize> = if l.outputs == 1 {
                    vec![0]
                } else {
                    vec![0, pred.class]
                };
                for (ri, &r) in rows.iter().enumerate() {
                    let sign = if l.outputs == 1 {
                        1.0
                    } else if ri == 0 {
                        -1.0
                    } else if r != 0 {
                        1.0
                    } else {
                        0.0
                    };
                    let w = l.weights.get(r * dd..(r + 1) * dd).unwrap_or(&[]);
                    for (j, wi) in w.iter().enumerate() {
                        let xi = x.get(j).copied().unwrap_or(0.0);
                        let m = l.mean.get(j).copied().unwrap_or(0.0);
                        let s = l.scale.get(j).copied().unwrap_or(1.0);
                        let v = (xi - m) / s;
                        let v = if l.clip > 0.0 {
                            v.clamp(-l.clip, l.clip)
                        } else {
                            v
                        };
                        contrib.add(j, sign * wi * v);
                    }
                }
            }
        }
        out.sort_unstable_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        out.truncate(k);
    }
}

/// `out` as a contribution array indexed by feature.
pub(crate) struct ContribView<'a>(&'a mut Vec<(usize, f32)>);

impl ContribView<'_> {
    #[inline]
    pub fn add(&mut self, f: usize, v: f32) {
        if let Some(s) = self.0.get_mut(f) {
            s.1 += v;
        }
    }
}
