//! Quality of each model on a held-out part of NSL-KDD's 20% training file, model file
//! round trips, and the scoring API.
#![allow(clippy::unwrap_used)] // tests: a panic is a failure with its location

use std::path::PathBuf;
use vedette_ml::data::{read_table, Table};
use vedette_ml::metrics::{self, Report};
use vedette_ml::{
    stratified_split, ClassMode, Format, Model, ModelChoice, ModelKind, TrainOptions,
};

fn shared() -> PathBuf {
    std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The 20% NSL-KDD training file, or None (SKIP) when the shared data is missing.
fn nsl20(classes: ClassMode) -> Option<Table> {
    let p = shared().join("data/ml/nsl-kdd/KDDTrain+_20Percent.txt");
    if !p.exists() {
        assert!(!in_ci(), "missing {}", p.display());
        eprintln!("SKIP: {} not found", p.display());
        return None;
    }
    Some(
        read_table(
            &p,
            &vedette_ml::data::ReadOptions::new(Format::NslKdd, classes),
        )
        .unwrap(),
    )
}

/// Trains on 75% of the table and evaluates on the other 25%.
fn fit_and_hold_out(t: &Table, choice: ModelChoice, classes: ClassMode) -> (Model, Report) {
    let (tr, te) = stratified_split(&t.labels, 0.25, 42);
    let train = t.select(&tr);
    let test = t.select(&te);
    let opts = TrainOptions {
        model: choice,
        seed: 3,
        validation_fraction: 0.1,
        target_fpr: None,
        threshold: None,
        name: None,
        format: Some(Format::NslKdd),
        classes,
    };
    let (model, _) = vedette_ml::train(&train, &opts).unwrap();
    let m = model.encoder().encode(&test, model.class_names()).unwrap();
    let r = metrics::evaluate(&model, &m);
    (model, r)
}

#[test]
fn gbdt_binary_and_category_on_held_out_rows() {
    let Some(t) = nsl20(ClassMode::Binary) else {
        return;
    };
    let p = vedette_ml::GradientBoostingParams {
        rounds: 80,
        ..Default::default()
    };
    let (model, r) = fit_and_hold_out(&t, ModelChoice::Gbdt(p.clone()), ClassMode::Binary);
    eprintln!("gbdt binary: {}", r.to_text());
    assert!(r.accuracy > 0.99, "accuracy {}", r.accuracy);
    assert!(r.fpr < 0.01, "fpr {}", r.fpr);
    assert!(r.roc_auc > 0.995, "auc {}", r.roc_auc);
    assert_eq!(model.kind(), ModelKind::Gbdt);

    let t = nsl20(ClassMode::Category).unwrap();
    let (model, r) = fit_and_hold_out(&t, ModelChoice::Gbdt(p), ClassMode::Category);
    eprintln!("gbdt category: {}", r.to_text());
    assert_eq!(model.class_names().len(), 5);
    assert!(r.accuracy > 0.99, "accuracy {}", r.accuracy);
    // U2R has a handful of rows in this file; the other four classes are near perfect.
    assert!(r.macro_f1 > 0.75, "macro-F1 {}", r.macro_f1);
    for c in &r.per_class[..4] {
        assert!(c.f1 > 0.9, "{}: {}", c.name, c.f1);
    }
}

#[test]
fn forest_logistic_and_isolation_on_held_out_rows() {
    let Some(t) = nsl20(ClassMode::Binary) else {
        return;
    };
    let rf = vedette_ml::RandomForestParams {
        trees: 30,
        ..Default::default()
    };
    let (_, r) = fit_and_hold_out(&t, ModelChoice::RandomForest(rf), ClassMode::Binary);
    eprintln!("random forest: {}", r.to_text());
    assert!(r.accuracy > 0.99 && r.roc_auc > 0.995, "{}", r.to_text());

    let (_, r) = fit_and_hold_out(
        &t,
        ModelChoice::Logistic(Default::default()),
        ClassMode::Binary,
    );
    eprintln!("logistic: {}", r.to_text());
    assert!(r.accuracy > 0.95 && r.roc_auc > 0.98, "{}", r.to_text());

    let (model, r) = fit_and_hold_out(
        &t,
        ModelChoice::IsolationForest(Default::default()),
        ClassMode::Binary,
    );
    eprintln!("isolation forest: {}", r.to_text());
    assert_eq!(model.kind(), ModelKind::IsolationForest);
    assert!(r.roc_auc > 0.9, "auc {}", r.roc_auc);
}

#[test]
fn model_file_round_trip_and_scoring_api() {
    let Some(t) = nsl20(ClassMode::Binary) else {
        return;
    };
    let p = vedette_ml::GradientBoostingParams {
        rounds: 20,
        ..Default::default()
    };
    let (model, _) = fit_and_hold_out(&t, ModelChoice::Gbdt(p), ClassMode::Binary);
    let dir = std::env::temp_dir().join(format!("vedette-ml-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.vmodel");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    assert_eq!(loaded.feature_names(), model.feature_names());
    assert_eq!(loaded.name(), model.name());
    let m = model.encoder().encode(&t, model.class_names()).unwrap();
    let mut top = Vec::new();
    let mut flagged = 0;
    for i in 0..500 {
        let a = model.predict(m.row(i));
        let b = loaded.predict(m.row(i));
        assert_eq!(a, b);
        assert!((0.0..=1.0).contains(&a.score));
        assert_eq!(a.class == 1, a.score >= model.threshold());
        loaded.top_features(m.row(i), &mut top, 3);
        assert!(top.len() <= 3);
        assert!(top.windows(2).all(|w| w[0].1.abs() >= w[1].1.abs()));
        assert!(top.iter().all(|&(f, _)| f < model.feature_names().len()));
        if a.class == 1 {
            flagged += 1;
            // Something pushed the score up.
            assert!(top[0].1.abs() > 0.0);
        }
    }
    assert!(flagged > 100, "{flagged}");
    // The neptune SYN flood rows are explained by connection-error rates or counts.
    let i = (0..t.len()).find(|&i| m.y[i] == 1).unwrap();
    loaded.top_features(m.row(i), &mut top, 5);
    eprintln!(
        "top: {:?}",
        top.iter()
            .map(|&(f, v)| (loaded.feature_names()[f].as_str(), v))
            .collect::<Vec<_>>()
    );
    // Short input: missing features read as 0, no panic.
    let _ = loaded.predict(&[1.0, 2.0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let Some(t) = nsl20(ClassMode::Binary) else {
        return;
    };
    let small = t.select(&(0..4000).collect::<Vec<_>>());
    let p = vedette_ml::GradientBoostingParams {
        rounds: 15,
        ..Default::default()
    };
    let (a, _) = fit_and_hold_out(&small, ModelChoice::Gbdt(p.clone()), ClassMode::Binary);
    let (b, _) = fit_and_hold_out(&small, ModelChoice::Gbdt(p), ClassMode::Binary);
    let m = a.encoder().encode(&small, a.class_names()).unwrap();
    for i in 0..small.len() {
        assert_eq!(a.predict(m.row(i)), b.predict(m.row(i)));
    }
}
