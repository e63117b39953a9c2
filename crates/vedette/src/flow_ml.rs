//! Flow features and models in the binary: the CSV export of per-flow feature vectors (an
//! [`Output`] on the output thread, so workers only copy numbers) and the engine configuration
//! that turns feature computation on.

use crate::config::Config;
use crate::outputs::Output;
use anyhow::Context as _;
use serde::Deserialize;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vedette_engine::{EngineConfig, FlowScorer, MlScoring};
use vedette_eve::EventBatch;
use vedette_flow::features::{feature_index, FeatureVector, FEATURES, FEATURE_COUNT};

/// The identifying columns that precede the features in the CSV (not model inputs; the
/// flows-csv reader of `vedette ml train` skips them).
pub use vedette_ml::FLOW_ID_COLUMNS as ID_COLUMNS;

/// Turns feature computation on in `e` when the configuration exports or scores features.
pub fn configure_engine(cfg: &Config, e: &mut EngineConfig) {
    let export = cfg.ml.features_path().is_some();
    e.flow.features = export || cfg.ml.model_path().is_some();
    e.export_features = export;
}

/// Loads the model named by `[ml]` (when scoring is on), shared by all workers. A model whose
/// inputs are not vedette flow features (by name) is refused here, before any packet is read.
pub fn load_model(cfg: &Config) -> anyhow::Result<Option<MlScoring>> {
    let Some(path) = cfg.ml.model_path() else {
        return Ok(None);
    };
    let model = vedette_ml::Model::load(path).with_context(|| {
        format!(
            "cannot load the model given by ml.model / --model ({})",
            path.display()
        )
    })?;
    let scorer = ModelScorer::new(model)
        .with_context(|| format!("model {} cannot score flows", path.display()))?;
    tracing::info!(
        model = scorer.model.name(),
        inputs = scorer.inputs.len(),
        "scoring flows"
    );
    Ok(Some(MlScoring {
        scorer: Arc::new(scorer),
        alert_threshold: cfg.ml.alert_threshold as f32,
        top_features: cfg.ml.top_features as usize,
    }))
}

/// A vedette model reading its inputs, by name, from the flow feature vector.
struct ModelScorer {
    model: vedette_ml::Model,
    /// For each model input, its index in [`FEATURES`].
    inputs: Vec<usize>,
}

impl ModelScorer {
    fn new(model: vedette_ml::Model) -> anyhow::Result<ModelScorer> {
        let mut inputs = Vec::with_capacity(model.feature_names().len());
        for name in model.feature_names() {
            let Some(i) = feature_index(name) else {
                anyhow::bail!(
                    "its input `{name}` is not a flow feature (docs/ML-FEATURES.md lists them; \
                     train on the feature columns of --flow-features, without the identifying \
                     columns)"
                );
            };
            if inputs.contains(&i) {
                anyhow::bail!("its input `{name}` appears twice");
            }
            inputs.push(i);
        }
        if inputs.is_empty() {
            anyhow::bail!("it has no inputs");
        }
        Ok(ModelScorer { model, inputs })
    }

    /// The model's inputs gathered from `x` (at most [`FEATURE_COUNT`]: names are unique).
    fn gather(&self, x: &FeatureVector) -> FeatureVector {
        let mut buf = [0.0; FEATURE_COUNT];
        for (slot, &i) in buf.iter_mut().zip(&self.inputs) {
            *slot = x.get(i).copied().unwrap_or(0.0);
        }
        buf
    }
}

impl FlowScorer for ModelScorer {
    fn name(&self) -> &str {
        self.model.name()
    }

    fn score(&self, x: &FeatureVector) -> (f32, &str) {
        let buf = self.gather(x);
        let p = self
            .model
            .predict(buf.get(..self.inputs.len()).unwrap_or(&buf));
        (p.score, self.model.class_name(p.class))
    }

    fn top_features(&self, x: &FeatureVector, out: &mut Vec<(usize, f32)>, k: usize) {
        let buf = self.gather(x);
        self.model
            .top_features(buf.get(..self.inputs.len()).unwrap_or(&buf), out, k);
        // Model input index -> flow feature index.
        for (i, _) in out.iter_mut() {
            *i = self.inputs.get(*i).copied().unwrap_or(usize::MAX);
        }
    }
}

/// What the CSV needs from a flow record (the rest of the line is skipped).
#[derive(Deserialize)]
struct FlowIds<'a> {
    flow_id: u64,
    #[serde(borrow)]
    src_ip: Cow<'a, str>,
    #[serde(default)]
    src_port: Option<u16>,
    #[serde(borrow)]
    dest_ip: Cow<'a, str>,
    #[serde(default)]
    dest_port: Option<u16>,
    #[serde(borrow)]
    proto: Cow<'a, str>,
    #[serde(default, borrow)]
    app_proto: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    community_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    flow: FlowTimes<'a>,
}

#[derive(Deserialize)]
struct FlowTimes<'a> {
    #[serde(borrow)]
    start: Cow<'a, str>,
    #[serde(borrow)]
    end: Cow<'a, str>,
}

/// `--flow-features FILE`: one CSV row per flow record, with a header row.
pub struct FlowFeaturesCsv {
    path: PathBuf,
    out: BufWriter<File>,
    line: String,
    rows: u64,
}

impl FlowFeaturesCsv {
    /// Creates (truncates) `path` and writes the header.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let f = File::create(path)
            .with_context(|| format!("cannot create flow feature file {}", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        let header: Vec<&str> = ID_COLUMNS
            .iter()
            .copied()
            .chain(FEATURES.iter().map(|f| f.name))
            .collect();
        writeln!(out, "{}", header.join(","))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(FlowFeaturesCsv {
            path: path.to_owned(),
            out,
            line: String::with_capacity(2048),
            rows: 0,
        })
    }

    fn row(&mut self, record: &[u8], values: &[f32]) -> anyhow::Result<()> {
        use std::fmt::Write as _;
        // Our own records: a line that does not parse is a bug, reported rather than guessed.
        let ids: FlowIds<'_> = serde_json::from_slice(record).with_context(|| {
            format!(
                "{}: flow record without its identifiers",
                self.path.display()
            )
        })?;
        let l = &mut self.line;
        l.clear();
        let _ = write!(l, "{}", ids.flow_id);
        for field in [&ids.flow.start, &ids.flow.end, &ids.src_ip] {
            l.push(',');
            push_field(l, field);
        }
        l.push(',');
        if let Some(p) = ids.src_port {
            let _ = write!(l, "{p}");
        }
        l.push(',');
        push_field(l, &ids.dest_ip);
        l.push(',');
        if let Some(p) = ids.dest_port {
            let _ = write!(l, "{p}");
        }
        l.push(',');
        push_field(l, &ids.proto);
        l.push(',');
        push_field(l, ids.app_proto.as_deref().unwrap_or(""));
        l.push(',');
        push_field(l, ids.community_id.as_deref().unwrap_or(""));
        for v in values {
            let _ = write!(l, ",{v}");
        }
        l.push('\n');
        self.out
            .write_all(l.as_bytes())
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.rows += 1;
        Ok(())
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn push_field(l: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        l.push('"');
        l.push_str(&v.replace('"', "\"\""));
        l.push('"');
    } else {
        l.push_str(v);
    }
}

impl Output for FlowFeaturesCsv {
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()> {
        for (record, values) in batch.feature_rows() {
            if let Some(line) = batch.record(record) {
                self.row(line, values)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_separators_are_quoted() {
        let mut l = String::new();
        push_field(&mut l, "a,\"b\"");
        assert_eq!(l, "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn id_columns_are_not_feature_names() {
        for c in ID_COLUMNS {
            assert!(FEATURES.iter().all(|f| f.name != c), "{c}");
        }
    }
}
