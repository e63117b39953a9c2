//! The model file: a magic line `VEDETTE-ML <version>` then one JSON object. Loading checks
//! the magic and version first, caps the file size, and validates every tree index, feature
//! index and array length before the model can be used.

use crate::data::{ClassMode, Encoder, Format, MAX_CLASSES};
use crate::tree::{Tree, TreeFile};
use crate::{Body, Boosted, Forest, Isolation, Linear, MlError, Model, ModelKind, Post};
use serde::{Deserialize, Serialize};
use std::io::Read as _;
use std::path::Path;

/// First bytes of every model file.
pub const MAGIC: &str = "VEDETTE-ML";
/// Format version written (and the only one read).
pub const VERSION: u32 = 1;
/// Largest model file read.
pub const MAX_MODEL_BYTES: u64 = 512 * 1024 * 1024;
/// Largest number of trees.
pub const MAX_TREES: usize = 100_000;
/// Largest number of features.
pub const MAX_FEATURES: usize = 100_000;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    name: String,
    kind: ModelKind,
    class_mode: ClassMode,
    format: Option<Format>,
    classes: Vec<String>,
    encoder: Encoder,
    threshold: f32,
    body: BodyFile,
    #[serde(default)]
    info: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
enum BodyFile {
    Boosted {
        base: Vec<f32>,
        #[serde(default)]
        post: Post,
        tree_output: Vec<u32>,
        trees: Vec<TreeFile>,
    },
    Forest {
        trees: Vec<TreeFile>,
    },
    Isolation {
        c_n: f32,
        trees: Vec<TreeFile>,
    },
    Linear {
        mean: Vec<f32>,
        scale: Vec<f32>,
        weights: Vec<f32>,
        bias: Vec<f32>,
        clip: f32,
    },
}

/// Serialises a model (magic line + JSON) into `out`.
pub(crate) fn write_to(m: &Model, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let body = match &m.body {
        Body::Boosted(b) => BodyFile::Boosted {
            base: b.base.clone(),
            post: b.post,
            tree_output: b.tree_output.clone(),
            trees: b.trees.iter().map(Tree::to_file).collect(),
        },
        Body::Forest(f) => BodyFile::Forest {
            trees: f.trees.iter().map(Tree::to_file).collect(),
        },
        Body::Isolation(f) => BodyFile::Isolation {
            c_n: f.c_n,
            trees: f.trees.iter().map(Tree::to_file).collect(),
        },
        Body::Linear(l) => BodyFile::Linear {
            mean: l.mean.clone(),
            scale: l.scale.clone(),
            weights: l.weights.clone(),
            bias: l.bias.clone(),
            clip: l.clip,
        },
    };
    let f = ModelFile {
        name: m.name.clone(),
        kind: m.kind,
        class_mode: m.class_mode,
        format: m.format,
        classes: m.class_names.clone(),
        encoder: m.encoder.clone(),
        threshold: m.threshold,
        body,
        info: m.info.clone(),
    };
    out.extend_from_slice(format!("{MAGIC} {VERSION}\n").as_bytes());
    serde_json::to_writer(&mut *out, &f)?;
    out.push(b'\n');
    Ok(())
}

pub(crate) fn save(m: &Model, path: &Path) -> Result<(), MlError> {
    let io = |e| MlError::Io {
        file: path.to_path_buf(),
        source: e,
    };
    let mut out = Vec::new();
    write_to(m, &mut out).map_err(|e| MlError::Model {
        file: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    // Write beside and rename, so a reader never sees half a model.
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, &out).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Reads a whole file of at most `max` bytes (`None` when it is larger; never reads more than
/// `max + 1` bytes of it).
pub(crate) fn read_capped(path: &Path, max: u64) -> Result<Option<Vec<u8>>, MlError> {
    let io = |source| MlError::Io {
        file: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

pub(crate) fn load(path: &Path) -> Result<Model, MlError> {
    let bad = |reason: String| MlError::Model {
        file: path.to_path_buf(),
        reason,
    };
    let bytes = read_capped(path, MAX_MODEL_BYTES)?
        .ok_or_else(|| bad(format!("larger than {MAX_MODEL_BYTES} bytes")))?;
    from_bytes(&bytes).map_err(bad)
}

pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Model, String> {
    let nl = bytes
        .iter()
        .take(64)
        .position(|&b| b == b'\n')
        .ok_or("no `VEDETTE-ML <version>` first line (wrong magic)")?;
    let first = std::str::from_utf8(&bytes[..nl]).map_err(|_| "wrong magic")?;
    let version = first
        .strip_prefix(MAGIC)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(|| format!("wrong magic `{}`", first.escape_default()))?;
    if version != VERSION {
        return Err(format!(
            "model format version {version}, this vedette reads version {VERSION}"
        ));
    }
    let f: ModelFile = serde_json::from_slice(&bytes[nl + 1..]).map_err(|e| e.to_string())?;
    from_file(f)
}

fn trees(v: Vec<TreeFile>, d: usize, width: usize) -> Result<Vec<Tree>, String> {
    if v.len() > MAX_TREES {
        return Err(format!("{} trees (limit {MAX_TREES})", v.len()));
    }
    v.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let t = Tree::from_file(t).map_err(|e| format!("tree {i}: {e}"))?;
            t.validate(d, width).map_err(|e| format!("tree {i}: {e}"))?;
            Ok(t)
        })
        .collect()
}

fn from_file(f: ModelFile) -> Result<Model, String> {
    let feature_names = f.encoder.feature_names();
    let d = feature_names.len();
    if d == 0 || d > MAX_FEATURES {
        return Err(format!("{d} features (must be 1..={MAX_FEATURES})"));
    }
    let k = f.classes.len();
    if !(2..=MAX_CLASSES).contains(&k) {
        return Err(format!("{k} classes (must be 2..={MAX_CLASSES})"));
    }
    if !f.threshold.is_finite() {
        return Err("non-finite threshold".into());
    }
    let finite = |v: &[f32], what: &str| {
        if v.iter().all(|x| x.is_finite()) {
            Ok(())
        } else {
            Err(format!("non-finite {what}"))
        }
    };
    let body = match (f.kind, f.body) {
        (
            ModelKind::Gbdt | ModelKind::RandomForest,
            BodyFile::Boosted {
                base,
                post,
                tree_output,
                trees: t,
            },
        ) => {
            let outputs = base.len();
            if !(outputs == k || outputs == 1 && k == 2) {
                return Err(format!("{outputs} base scores for {k} classes"));
            }
            finite(&base, "base score")?;
            if tree_output.len() != t.len() || tree_output.iter().any(|&o| o as usize >= outputs) {
                return Err("tree output indices out of range".into());
            }
            Body::Boosted(Boosted {
                trees: trees(t, d, 1)?,
                tree_output,
                base,
                post,
            })
        }
        (ModelKind::RandomForest, BodyFile::Forest { trees: t }) => Body::Forest(Forest {
            trees: trees(t, d, k)?,
        }),
        (ModelKind::IsolationForest, BodyFile::Isolation { c_n, trees: t }) => {
            if !(c_n.is_finite() && c_n > 0.0) {
                return Err("isolation forest normaliser must be positive".into());
            }
            if k != 2 {
                return Err("an isolation forest has two classes".into());
            }
            Body::Isolation(Isolation {
                trees: trees(t, d, 1)?,
                c_n,
            })
        }
        (
            ModelKind::Logistic,
            BodyFile::Linear {
                mean,
                scale,
                weights,
                bias,
                clip,
            },
        ) => {
            if !(clip.is_finite() && clip >= 0.0) {
                return Err("clip must be finite and not negative".into());
            }
            let outputs = bias.len();
            if !(outputs == 1 && k == 2 || outputs == k) {
                return Err(format!("{outputs} linear outputs for {k} classes"));
            }
            if mean.len() != d || scale.len() != d || weights.len() != outputs * d {
                return Err("linear model arrays do not match the feature count".into());
            }
            finite(&mean, "mean")?;
            finite(&weights, "weight")?;
            finite(&bias, "bias")?;
            if scale.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                return Err("scales must be positive".into());
            }
            Body::Linear(Linear {
                mean,
                scale,
                weights,
                bias,
                outputs,
                clip,
            })
        }
        (kind, _) => return Err(format!("body does not match model kind {}", kind.as_str())),
    };
    Ok(Model {
        name: f.name,
        kind: f.kind,
        encoder: f.encoder,
        feature_names,
        class_names: f.classes,
        class_mode: f.class_mode,
        format: f.format,
        threshold: f.threshold,
        body,
        info: f.info,
    })
}
