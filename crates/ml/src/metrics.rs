//! Evaluation metrics: confusion matrix, per-class precision/recall/F1, macro-F1, accuracy,
//! false-positive rate, ROC-AUC and PR-AUC (average precision), for binary and multiclass
//! models, computed the way scikit-learn defines them (tied scores handled as one step).

use crate::data::Matrix;
use crate::{Model, MAX_CLASSES};
use rayon::prelude::*;
use serde::Serialize;

/// Metrics of one class.
#[derive(Clone, Debug, Serialize)]
pub struct ClassMetrics {
    /// Class name.
    pub name: String,
    /// TP / (TP + FP) (0 when nothing was predicted as this class).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Rows of this class.
    pub support: u64,
}

/// An evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Rows evaluated.
    pub rows: u64,
    /// Correct / all.
    pub accuracy: f64,
    /// Binary: of the attack class. Multiclass: macro average over classes.
    pub precision: f64,
    /// Binary: attack detection rate. Multiclass: macro average.
    pub recall: f64,
    /// Binary: attack F1. Multiclass: macro-F1.
    pub f1: f64,
    /// Normal rows predicted as anything else / normal rows.
    pub fpr: f64,
    /// Binary: on the attack score. Multiclass: one-vs-rest macro average.
    pub roc_auc: f64,
    /// Average precision, same averaging as `roc_auc`.
    pub pr_auc: f64,
    /// Mean of the per-class F1.
    pub macro_f1: f64,
    /// Normal-vs-attack view of a multiclass model (equal to the top level for binary).
    pub detection: Detection,
    /// Per class, in class order.
    pub per_class: Vec<ClassMetrics>,
    /// Class names.
    pub classes: Vec<String>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
    /// Operating point used on the score.
    pub threshold: f64,
    /// ROC curve of the attack score (false-positive rate, true-positive rate), thinned.
    #[serde(skip)]
    pub roc_curve: Vec<(f64, f64)>,
}

/// Normal (class 0) vs any other class, on the score.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    /// Correct normal/attack decisions / all.
    pub accuracy: f64,
    /// Of rows flagged, attacks.
    pub precision: f64,
    /// Of attacks, flagged.
    pub recall: f64,
    /// F1 of attack detection.
    pub f1: f64,
    /// Of normal rows, flagged.
    pub fpr: f64,
    /// ROC-AUC of the score for "not normal".
    pub roc_auc: f64,
    /// Average precision of the score for "not normal".
    pub pr_auc: f64,
}

/// Predictions of a model over a matrix: score, class and class probabilities per row.
pub struct Scored {
    /// Score per row.
    pub score: Vec<f32>,
    /// Predicted class per row.
    pub class: Vec<u32>,
    /// `rows * k` probabilities.
    pub proba: Vec<f32>,
    /// Classes.
    pub k: usize,
}

/// Scores every row (in parallel).
pub fn score(model: &Model, m: &Matrix) -> Scored {
    let k = model.class_names().len();
    let n = m.rows();
    let mut score = vec![0f32; n];
    let mut class = vec![0u32; n];
    let mut proba = vec![0f32; n * k];
    score
        .par_iter_mut()
        .zip(class.par_iter_mut())
        .zip(proba.par_chunks_mut(k))
        .enumerate()
        .for_each(|(i, ((s, c), p))| {
            let mut buf = [0f32; MAX_CLASSES];
            let row = m.row(i);
            let sc = model.predict_proba(row, &mut buf);
            let pred = model.predict(row);
            *s = sc;
            *c = pred.class as u32;
            p.copy_from_slice(&buf[..k]);
        });
    Scored {
        score,
        class,
        proba,
        k,
    }
}

/// ROC-AUC of `score` for `positive` labels (0.5 when one side is empty).
pub fn roc_auc(score: &[f32], positive: &[bool]) -> f64 {
    let curve = roc_points(score, positive);
    let mut auc = 0.0;
    for w in curve.windows(2) {
        auc += (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0;
    }
    if curve.len() < 2 {
        0.5
    } else {
        auc
    }
}

/// ROC points (FPR, TPR) from the highest score down, one per distinct score.
pub fn roc_points(score: &[f32], positive: &[bool]) -> Vec<(f64, f64)> {
    let p = positive.iter().filter(|&&b| b).count() as f64;
    let nn = positive.len() as f64 - p;
    if p == 0.0 || nn == 0.0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_unstable_by(|&a, &b| score[b].total_cmp(&score[a]));
    let mut pts = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let s = score[idx[i]];
        while i < idx.len() && score[idx[i]] == s {
            if positive[idx[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        pts.push((fp / nn, tp / p));
    }
    pts
}

/// Average precision (area under the precision-recall step curve).
pub fn average_precision(score: &[f32], positive: &[bool]) -> f64 {
    let p = positive.iter().filter(|&&b| b).count() as f64;
    if p == 0.0 {
        return 0.0;
    }
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_unstable_by(|&a, &b| score[b].total_cmp(&score[a]));
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut prev_recall = 0.0;
    let mut ap = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let s = score[idx[i]];
        while i < idx.len() && score[idx[i]] == s {
            if positive[idx[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        let recall = tp / p;
        let precision = tp / (tp + fp);
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    ap
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Evaluates a model on an encoded matrix.
pub fn evaluate(model: &Model, m: &Matrix) -> Report {
    let s = score(model, m);
    report(model.class_names(), &m.y, &s, f64::from(model.threshold()))
}

/// Builds the report from true labels and predictions.
pub fn report(classes: &[String], y: &[u32], s: &Scored, threshold: f64) -> Report {
    let k = classes.len();
    let n = y.len();
    let mut confusion = vec![vec![0u64; k]; k];
    for (&t, &p) in y.iter().zip(&s.class) {
        if let Some(c) = confusion
            .get_mut(t as usize)
            .and_then(|r| r.get_mut(p as usize))
        {
            *c += 1;
        }
    }
    let correct: u64 = (0..k).map(|c| confusion[c][c]).sum();
    let per_class: Vec<ClassMetrics> = (0..k)
        .map(|c| {
            let tp = confusion[c][c];
            let support: u64 = confusion[c].iter().sum();
            let predicted: u64 = (0..k).map(|t| confusion[t][c]).sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            ClassMetrics {
                name: classes[c].clone(),
                precision,
                recall,
                f1: f1(precision, recall),
                support,
            }
        })
        .collect();
    // Macro-F1 over classes present in the truth or the predictions (as scikit-learn's
    // labels = union of both).
    let present: Vec<&ClassMetrics> = per_class
        .iter()
        .enumerate()
        .filter(|(c, m)| m.support > 0 || (0..k).any(|t| confusion[t][*c] > 0))
        .map(|(_, m)| m)
        .collect();
    let mean = |f: &dyn Fn(&ClassMetrics) -> f64| {
        if present.is_empty() {
            0.0
        } else {
            present.iter().map(|m| f(m)).sum::<f64>() / present.len() as f64
        }
    };
    let macro_f1 = mean(&|m| m.f1);

    // Normal vs not normal.
    let attack: Vec<bool> = y.iter().map(|&c| c != 0).collect();
    let flagged: Vec<bool> = s.class.iter().map(|&c| c != 0).collect();
    let (mut tp, mut fp, mut tn, mut fnn) = (0u64, 0u64, 0u64, 0u64);
    for (&a, &f) in attack.iter().zip(&flagged) {
        match (a, f) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (false, false) => tn += 1,
            (true, false) => fnn += 1,
        }
    }
    let dp = ratio(tp, tp + fp);
    let dr = ratio(tp, tp + fnn);
    let detection = Detection {
        accuracy: ratio(tp + tn, n as u64),
        precision: dp,
        recall: dr,
        f1: f1(dp, dr),
        fpr: ratio(fp, fp + tn),
        roc_auc: roc_auc(&s.score, &attack),
        pr_auc: average_precision(&s.score, &attack),
    };
    let mut roc_curve = roc_points(&s.score, &attack);
    if roc_curve.len() > 2000 {
        let step = roc_curve.len() / 1000;
        let last = roc_curve.last().copied();
        roc_curve = roc_curve.into_iter().step_by(step).collect();
        roc_curve.extend(last);
    }
    let (precision, recall, f1v, roc, pr) = if k == 2 {
        (
            per_class[1].precision,
            per_class[1].recall,
            per_class[1].f1,
            detection.roc_auc,
            detection.pr_auc,
        )
    } else {
        // One-vs-rest macro over classes with both positives and negatives.
        let per: Vec<(f64, f64)> = (0..k)
            .into_par_iter()
            .filter_map(|c| {
                let pos: Vec<bool> = y.iter().map(|&t| t as usize == c).collect();
                let np = pos.iter().filter(|&&b| b).count();
                if np == 0 || np == n {
                    return None;
                }
                let sc: Vec<f32> = (0..n).map(|i| s.proba[i * s.k + c]).collect();
                Some((roc_auc(&sc, &pos), average_precision(&sc, &pos)))
            })
            .collect();
        let m = per.len().max(1) as f64;
        (
            mean(&|m| m.precision),
            mean(&|m| m.recall),
            macro_f1,
            per.iter().map(|p| p.0).sum::<f64>() / m,
            per.iter().map(|p| p.1).sum::<f64>() / m,
        )
    };
    Report {
        rows: n as u64,
        accuracy: ratio(correct, n as u64),
        precision,
        recall,
        f1: f1v,
        fpr: detection.fpr,
        roc_auc: roc,
        pr_auc: pr,
        macro_f1,
        detection,
        per_class,
        classes: classes.to_vec(),
        confusion,
        threshold,
        roc_curve,
    }
}

impl Report {
    /// A human-readable summary (confusion matrix and per-class table).
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "rows {}  accuracy {:.4}  macro-F1 {:.4}  precision {:.4}  recall {:.4}  F1 {:.4}",
            self.rows, self.accuracy, self.macro_f1, self.precision, self.recall, self.f1
        );
        let _ = writeln!(
            s,
            "FPR {:.4}  ROC-AUC {:.4}  PR-AUC {:.4}  (threshold {:.4})",
            self.fpr, self.roc_auc, self.pr_auc, self.threshold
        );
        if self.classes.len() > 2 {
            let d = &self.detection;
            let _ = writeln!(
                s,
                "normal vs attack: accuracy {:.4}  precision {:.4}  recall {:.4}  FPR {:.4}  ROC-AUC {:.4}",
                d.accuracy, d.precision, d.recall, d.fpr, d.roc_auc
            );
        }
        let w = self
            .classes
            .iter()
            .map(|c| c.len())
            .max()
            .unwrap_or(5)
            .max(9);
        let _ = writeln!(
            s,
            "\n{:>w$} {:>9} {:>9} {:>9} {:>9}",
            "class", "precision", "recall", "f1", "support"
        );
        for c in &self.per_class {
            let _ = writeln!(
                s,
                "{:>w$} {:>9.4} {:>9.4} {:>9.4} {:>9}",
                c.name, c.precision, c.recall, c.f1, c.support
            );
        }
        let _ = writeln!(s, "\nconfusion matrix (rows: true, columns: predicted)");
        let _ = write!(s, "{:>w$}", "");
        for c in &self.classes {
            let _ = write!(s, " {:>10}", c);
        }
        let _ = writeln!(s);
        for (c, row) in self.classes.iter().zip(&self.confusion) {
            let _ = write!(s, "{c:>w$}");
            for v in row {
                let _ = write!(s, " {v:>10}");
            }
            let _ = writeln!(s);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_hand_computed() {
        // 3 positives, 3 negatives: pairs ordered correctly 8 of 9 -> 0.8889.
        let s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.1];
        let p = [true, true, false, true, false, false];
        assert!((roc_auc(&s, &p) - 8.0 / 9.0).abs() < 1e-9);
        // AP = (1/3)(1 + 1 + 3/4).
        assert!((average_precision(&s, &p) - (1.0 + 1.0 + 0.75) / 3.0).abs() < 1e-9);
        // Ties count half.
        assert!((roc_auc(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-9);
    }
}
