//! scikit-learn models exported to ONNX (skl2onnx) and imported: vedette's probabilities
//! match scikit-learn's within 1e-4. Needs python3 with scikit-learn, skl2onnx and onnx
//! (`scripts/install-test-deps.sh sklearn`); with CI=true their absence is a failure.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with its location

use std::path::{Path, PathBuf};
use std::process::Command;
use vedette_ml::onnx::{import, ImportOptions};
use vedette_ml::Model;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn read_csv(p: &Path) -> Vec<Vec<f32>> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

#[test]
fn sklearn_models_imported_from_onnx_match_sklearn() {
    let have = Command::new("python3")
        .args(["-c", "import sklearn, skl2onnx, onnx"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !in_ci(),
            "python3 with scikit-learn, skl2onnx and onnx is required (scripts/install-test-deps.sh sklearn)"
        );
        eprintln!("SKIP: python3 cannot import sklearn, skl2onnx and onnx");
        return;
    }
    let dir = std::env::temp_dir().join(format!("vedette-ml-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sklearn_onnx.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["rf2", "rf3", "tree3", "gb2", "gb3", "lr2", "lr3"] {
        let model = import(
            &dir.join(format!("{name}.onnx")),
            &ImportOptions {
                name: Some(name.into()),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Through the model file, as `vedette ml import` writes it.
        let path = dir.join(format!("{name}.vmodel"));
        model.save(&path).unwrap();
        let model = Model::load(&path).unwrap();
        let x = read_csv(&dir.join(format!("{name}.x.csv")));
        let want = read_csv(&dir.join(format!("{name}.proba.csv")));
        assert_eq!(x.len(), want.len());
        assert_eq!(model.feature_names().len(), 6, "{name}");
        let mut worst = 0f32;
        let mut buf = [0f32; vedette_ml::MAX_CLASSES];
        for (row, p) in x.iter().zip(&want) {
            let score = model.predict_proba(row, &mut buf);
            for (c, &pc) in p.iter().enumerate() {
                worst = worst.max((buf[c] - pc).abs());
            }
            assert!((score - (1.0 - p[0])).abs() < 1e-4, "{name}");
        }
        eprintln!(
            "{name}: {} rows, largest probability difference {worst:e}",
            x.len()
        );
        assert!(worst < 1e-4, "{name}: largest difference {worst}");
    }
    // Class 1 as the normal class: the score becomes P(not class 1).
    let m = import(
        &dir.join("lr2.onnx"),
        &ImportOptions {
            normal_class: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(m.class_names()[0], "1");
    let x = read_csv(&dir.join("lr2.x.csv"));
    let want = read_csv(&dir.join("lr2.proba.csv"));
    let mut buf = [0f32; vedette_ml::MAX_CLASSES];
    let s = m.predict_proba(&x[0], &mut buf);
    assert!((s - want[0][0]).abs() < 1e-4);
    std::fs::remove_dir_all(&dir).unwrap();
}
