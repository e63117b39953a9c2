//! End to end: `vedette ml train` on NSL-KDD's 20% training file, `ml evaluate --json
//! --plots`, and clear errors for bad data and corrupt model files.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure with its location

mod common;

use common::*;

#[test]
fn train_evaluate_json_and_plots() {
    let Some(shared) = shared() else {
        return;
    };
    let data = shared.join("data/ml/nsl-kdd/KDDTrain+_20Percent.txt");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ml-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("nsl.vmodel");
    let out = vedette()
        .args(["ml", "train", "--format", "nsl-kdd", "--model", "gbdt"])
        .args(["--classes", "category", "--trees", "40", "--seed", "7"])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plots = dir.join("plots");
    let out = vedette()
        .args(["ml", "evaluate", "--json"])
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(&data)
        .arg("--plots")
        .arg(&plots)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "exactly one JSON object");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "fpr",
        "roc_auc",
        "macro_f1",
        "per_class",
        "pr_auc",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    // Evaluated on (mostly) its own training rows: near perfect; a broken model is not.
    assert!(v["accuracy"].as_f64().unwrap() > 0.99, "{v}");
    assert!(v["macro_f1"].as_f64().unwrap() > 0.8, "{v}");
    assert_eq!(v["per_class"].as_array().unwrap().len(), 5);
    for name in ["roc.png", "confusion.png"] {
        let f = std::fs::File::open(plots.join(name)).unwrap();
        let dec = png::Decoder::new(std::io::BufReader::new(f));
        let reader = dec.read_info().unwrap();
        assert!(reader.info().width >= 400, "{name}");
    }

    // A corrupt model file: a clear error, exit status 1.
    let bad = dir.join("bad.vmodel");
    std::fs::write(&bad, b"VEDETTE-ML 1\n{\"name\": ").unwrap();
    let out = vedette()
        .args(["ml", "evaluate", "--model"])
        .arg(&bad)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.vmodel: not a valid vedette model"),
        "{err}"
    );

    // Bad data: file and line.
    let rows = dir.join("bad.txt");
    std::fs::write(&rows, "0,tcp,http,SF,1\n").unwrap();
    let out = vedette()
        .args(["ml", "evaluate", "--model"])
        .arg(&model)
        .arg("--data")
        .arg(&rows)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.txt:1: 5 fields"), "{err}");
}
