//! Flow features at flow end: the feature vector of each finished flow is attached to the event
//! batch (for the CSV export, formatted off the packet path) and/or scored by a model, which
//! adds `vedette.ml` to the flow record and raises an `alert` (gid 9001) above the threshold.
//!
//! Scoring happens here, in the worker, because the feature vector is here and the work then
//! scales with the workers; the model is immutable and shared (`Arc`), and scoring a flow
//! allocates nothing (alerts format their explanation into a reused buffer).

use std::fmt::Write as _;
use std::sync::Arc;

use vedette_eve::{EventBatch, EventType, Header, JsonWriter};
use vedette_flow::eve::{flow_community_id, has_ports, header_tuple, write_flow_counters};
use vedette_flow::features::{fill, AppFacts, FeatureVector, FEATURES, FEATURE_COUNT};
use vedette_flow::Flow;
use vedette_types::AppProto;

use crate::EveOptions;

/// Generator id of ML alerts (the behavioural detectors use 9000).
pub const ML_GID: u32 = 9001;
/// Signature id of the ML alert.
pub const ML_SID: u32 = 9_001_001;

/// A model that scores finished flows from their feature vector ([`FEATURES`] order). The
/// binary implements it over its model files; implementations must not allocate or lock.
pub trait FlowScorer: Send + Sync {
    /// The model's name, logged as `vedette.ml.model`.
    fn name(&self) -> &str;
    /// Score in [0, 1] (higher: more anomalous/malicious) and the predicted class label.
    fn score(&self, x: &FeatureVector) -> (f32, &str);
    /// The `k` features that contributed most to the score of `x`, as (index into [`FEATURES`],
    /// contribution), most important first; `out` is cleared first.
    fn top_features(&self, x: &FeatureVector, out: &mut Vec<(usize, f32)>, k: usize);
}

/// A model and how its scores are used.
#[derive(Clone)]
pub struct MlScoring {
    /// The shared model.
    pub scorer: Arc<dyn FlowScorer>,
    /// Scores at or above this raise an alert.
    pub alert_threshold: f32,
    /// Features named in an alert's explanation.
    pub top_features: usize,
}

/// ML counters of one worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MlStats {
    /// Flows whose feature vector went to the CSV export.
    pub feature_rows: u64,
    /// Flows scored by the model.
    pub flows_scored: u64,
    /// ML alerts raised.
    pub alerts: u64,
}

impl MlStats {
    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &MlStats) {
        self.feature_rows += o.feature_rows;
        self.flows_scored += o.flows_scored;
        self.alerts += o.alerts;
    }

    /// Whether anything was counted (the stats event carries `ml` only then).
    pub fn any(&self) -> bool {
        *self != MlStats::default()
    }
}

/// The per-worker feature stage: what to do with each finished flow's features.
pub(crate) struct FeatureStage {
    export: bool,
    ml: Option<MlScoring>,
    vector: FeatureVector,
    top: Vec<(usize, f32)>,
    explain: String,
    pub stats: MlStats,
}

/// Writes the flow record into a batch with `flow.alerted` and extra fields.
pub(crate) type WriteFlow<'a> =
    dyn FnMut(&mut EventBatch, bool, &mut dyn FnMut(&mut JsonWriter<'_>)) + 'a;

/// What scoring decided for one flow.
pub(crate) struct Verdict<'m> {
    score: f32,
    label: &'m str,
    model: &'m str,
}

impl FeatureStage {
    /// A stage, or `None` when features are neither exported nor scored.
    pub fn new(export: bool, ml: Option<MlScoring>) -> Option<Box<FeatureStage>> {
        (export || ml.is_some()).then(|| {
            Box::new(FeatureStage {
                export,
                ml,
                vector: [0.0; FEATURE_COUNT],
                top: Vec::with_capacity(16),
                explain: String::with_capacity(256),
                stats: MlStats::default(),
            })
        })
    }

    /// Replaces the model (e.g. on reload); export stays as configured.
    pub fn set_model(&mut self, ml: Option<MlScoring>) {
        self.ml = ml;
    }

    /// Computes the vector of `f`, scores it, writes an alert when the score crosses the
    /// threshold, then writes the flow record (with `vedette.ml`) through `write_flow` and
    /// attaches the vector to it. Returns whether an ML alert was written.
    pub fn on_flow_end(
        &mut self,
        f: &Flow,
        app: &AppFacts,
        alerted: bool,
        batch: &mut EventBatch,
        eve: &EveOptions,
        write_flow: &mut WriteFlow<'_>,
    ) {
        fill(f, app, &mut self.vector);
        let mut verdict = None;
        let mut ml_alert = false;
        if let Some(ml) = &self.ml {
            let (score, label) = ml.scorer.score(&self.vector);
            self.stats.flows_scored += 1;
            if score >= ml.alert_threshold {
                ml.scorer
                    .top_features(&self.vector, &mut self.top, ml.top_features);
                explain(&mut self.explain, score, label, &self.top, &self.vector);
                write_ml_alert(batch, eve, f, score, ml.scorer.name(), &self.explain);
                self.stats.alerts += 1;
                ml_alert = true;
            }
            verdict = Some(Verdict {
                score,
                label,
                model: ml.scorer.name(),
            });
        }
        let record = batch.len();
        write_flow(batch, alerted || ml_alert, &mut |w| {
            if let Some(v) = &verdict {
                w.object("vedette");
                w.object("ml");
                w.f64("score", rounded(v.score));
                w.str("label", v.label);
                w.str("model", v.model);
                w.close_object();
                w.close_object();
            }
        });
        if self.export && batch.len() > record {
            batch.attach_features(record, &self.vector);
            self.stats.feature_rows += 1;
        }
    }
}

/// `score 0.97 (attack) >= 0.9; top features: syn_toserver=1 (0.41), ...`
fn explain(out: &mut String, score: f32, label: &str, top: &[(usize, f32)], x: &FeatureVector) {
    out.clear();
    let _ = write!(out, "score {score:.3} ({label}); top features:");
    for (n, (i, weight)) in top.iter().enumerate() {
        let (Some(feat), Some(value)) = (FEATURES.get(*i), x.get(*i)) else {
            continue;
        };
        let sep = if n == 0 { " " } else { ", " };
        let _ = write!(out, "{sep}{}={value} ({weight:.3})", feat.name);
    }
}

fn write_ml_alert(
    batch: &mut EventBatch,
    eve: &EveOptions,
    f: &Flow,
    score: f32,
    model: &str,
    explain: &str,
) {
    let mut w = batch.begin(EventType::Alert);
    w.header(&Header {
        ts: f.last,
        flow_id: Some(f.id),
        pcap_cnt: None,
        vlan: f.vlan.get(..usize::from(f.vlan_count)).unwrap_or(&[]),
        tuple: Some(header_tuple(f)),
    });
    if let Some(seed) = eve.community_id_seed {
        let id = flow_community_id(f, seed);
        w.str("community_id", &id);
    }
    w.object("alert");
    w.str("action", "allowed");
    w.u64("gid", u64::from(ML_GID));
    w.u64("signature_id", u64::from(ML_SID));
    w.u64("rev", 1);
    w.str("signature", "VEDETTE ML flow scored as malicious");
    w.str("category", "Misc activity");
    w.u64("severity", 2);
    w.close_object();
    if let Some(name) = f.app_proto.eve_name() {
        if f.app_proto != AppProto::Unknown {
            w.str("app_proto", name);
        }
    }
    w.str("direction", "to_server");
    w.object("flow");
    write_flow_counters(&mut w, f);
    w.ip("src_ip", f.src_ip);
    w.ip("dest_ip", f.dst_ip);
    if has_ports(f.proto) {
        w.u64("src_port", u64::from(f.src_port));
        w.u64("dest_port", u64::from(f.dst_port));
    }
    w.close_object();
    w.object("vedette");
    w.str("detector", "ml");
    w.str("explain", explain);
    w.object("ml");
    w.f64("score", rounded(score));
    w.str("model", model);
    w.close_object();
    w.close_object();
    w.finish();
}

/// A score with six decimals (an `f32` widened to `f64` would print noise digits).
fn rounded(score: f32) -> f64 {
    (f64::from(score) * 1e6).round() / 1e6
}
