//! Bad data and hostile model files: clear errors naming the file and line, never a panic.
#![allow(clippy::unwrap_used)] // tests: a panic is a failure with its location

use std::path::{Path, PathBuf};
use vedette_ml::data::{read_table, ReadOptions};
use vedette_ml::{ClassMode, Format, MlError, Model, ModelChoice, TrainOptions};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("vedette-ml-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, body: &str) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn read_err(p: &Path, format: Format) -> String {
    let e = read_table(p, &ReadOptions::new(format, ClassMode::Binary)).unwrap_err();
    e.to_string()
}

const HEADER: &str = "dur,proto,bytes,label";

#[test]
fn bad_csv_rows_name_file_and_line() {
    let p = write(
        "wrong_width.csv",
        &format!("{HEADER}\n1,tcp,10,0\n2,udp,20\n"),
    );
    let e = read_err(&p, Format::FlowsCsv);
    assert!(
        e.contains("wrong_width.csv:3:") && e.contains("3 fields"),
        "{e}"
    );

    let p = write("nan.csv", &format!("{HEADER}\n1,tcp,NaN,0\n"));
    let o = ReadOptions {
        categorical: Some(vec!["proto".into()]),
        ..ReadOptions::new(Format::FlowsCsv, ClassMode::Binary)
    };
    let e = read_table(&p, &o).unwrap_err().to_string();
    assert!(e.contains("nan.csv:2:") && e.contains("not finite"), "{e}");

    let p = write("inf.csv", &format!("{HEADER}\n1,tcp,inf,1\n"));
    let e = read_table(&p, &o).unwrap_err().to_string();
    assert!(e.contains("inf.csv:2:") && e.contains("not finite"), "{e}");

    let p = write("text.csv", &format!("{HEADER}\n1,tcp,12x,1\n"));
    let e = read_table(&p, &o).unwrap_err().to_string();
    assert!(
        e.contains("text.csv:2:") && e.contains("not a number"),
        "{e}"
    );

    let p = write("empty.csv", "");
    let e = read_err(&p, Format::FlowsCsv);
    assert!(
        e.contains("empty.csv:1:") && e.contains("empty file"),
        "{e}"
    );

    let p = write("header_only.csv", &format!("{HEADER}\n"));
    assert!(read_err(&p, Format::FlowsCsv).contains("no data rows"));

    let p = write("nolabel.csv", "a,b\n1,2\n");
    assert!(read_err(&p, Format::FlowsCsv).contains("no `label` column"));

    let p = write("quote.csv", &format!("{HEADER}\n1,\"tcp,10,0\n"));
    let e = read_err(&p, Format::FlowsCsv);
    assert!(e.contains("quote.csv:"), "{e}");

    let p = write("kdd.txt", "0,tcp,http,SF,1,2\n");
    let e = read_err(&p, Format::NslKdd);
    assert!(e.contains("kdd.txt:1:") && e.contains("6 fields"), "{e}");

    let mut row: Vec<String> = (0..41).map(|_| "0".to_string()).collect();
    row[1] = "tcp".into();
    row[2] = "http".into();
    row[3] = "SF".into();
    row.push("madeup_attack".into());
    let p = write("kdd2.txt", &format!("{}\n", row.join(",")));
    let e = read_table(&p, &ReadOptions::new(Format::NslKdd, ClassMode::Category))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("kdd2.txt:1:") && e.contains("madeup_attack"),
        "{e}"
    );

    let p = write(
        "unsw.csv",
        "id,dur,proto,service,state,label\n1,0.1,tcp,-,FIN,0\n",
    );
    assert!(read_err(&p, Format::UnswNb15).contains("attack_cat"));
    assert!(matches!(
        read_table(
            Path::new("/nonexistent/x.csv"),
            &ReadOptions::new(Format::FlowsCsv, ClassMode::Binary)
        ),
        Err(MlError::Io { .. })
    ));
}

/// A small model trained on generated rows (one categorical column).
fn small_model() -> (Model, PathBuf) {
    let mut body = String::from("dur,proto,bytes,label\n");
    for i in 0..400 {
        let attack = i % 2 == 0;
        let proto = ["tcp", "udp", "icmp"][i % 3];
        let bytes = if attack { 5000 + i } else { 100 + i % 50 };
        body.push_str(&format!("{},{proto},{bytes},{}\n", i % 7, u8::from(attack)));
    }
    let p = write("train.csv", &body);
    let t = read_table(&p, &ReadOptions::new(Format::FlowsCsv, ClassMode::Binary)).unwrap();
    let gp = vedette_ml::GradientBoostingParams {
        rounds: 10,
        min_child_rows: 2,
        ..Default::default()
    };
    let (m, _) = vedette_ml::train(
        &t,
        &TrainOptions {
            model: ModelChoice::Gbdt(gp),
            seed: 1,
            validation_fraction: 0.0,
            target_fpr: None,
            threshold: None,
            name: Some("small".into()),
            format: Some(Format::FlowsCsv),
            classes: ClassMode::Binary,
        },
    )
    .unwrap();
    let path = dir().join("small.vmodel");
    m.save(&path).unwrap();
    (m, path)
}

#[test]
fn unseen_categories_encode_as_none_of_the_known() {
    let (m, _) = small_model();
    assert!(m.feature_names().iter().any(|f| f == "proto=tcp"));
    let p = write(
        "unseen.csv",
        "dur,proto,bytes,label\n1,sctp,6000,1\n2,tcp,120,0\n",
    );
    let o = ReadOptions {
        categorical: Some(vec!["proto".into()]),
        ..ReadOptions::new(Format::FlowsCsv, ClassMode::Binary)
    };
    let t = read_table(&p, &o).unwrap();
    let x = m.encoder().encode(&t, m.class_names()).unwrap();
    let names = m.feature_names();
    for (j, n) in names.iter().enumerate() {
        if n.starts_with("proto=") {
            assert_eq!(x.row(0)[j], 0.0, "{n}");
        }
    }
    assert_eq!(m.predict(x.row(0)).class, 1);
    assert_eq!(m.predict(x.row(1)).class, 0);
    // A column the model needs is missing.
    let p = write("missing.csv", "dur,bytes,label\n1,6000,1\n");
    let t = read_table(&p, &ReadOptions::new(Format::FlowsCsv, ClassMode::Binary)).unwrap();
    let e = m
        .encoder()
        .encode(&t, m.class_names())
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs column `proto`"), "{e}");
}

fn load_err(name: &str, bytes: &[u8]) -> String {
    let p = dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    let e = Model::load(&p).unwrap_err().to_string();
    assert!(e.contains(name), "{e}");
    e
}

#[test]
fn hostile_model_files_are_rejected() {
    let (_, path) = small_model();
    let good = std::fs::read_to_string(&path).unwrap();
    assert!(good.starts_with("VEDETTE-ML 1\n"));

    assert!(load_err("empty.vmodel", b"").contains("wrong magic"));
    assert!(load_err("magic.vmodel", b"PK\x03\x04 zip file\n{}").contains("wrong magic"));
    assert!(load_err(
        "version.vmodel",
        good.replacen("VEDETTE-ML 1", "VEDETTE-ML 9", 1).as_bytes()
    )
    .contains("version 9"));
    let truncated = &good.as_bytes()[..good.len() / 2];
    assert!(load_err("truncated.vmodel", truncated).contains("EOF"));
    assert!(load_err("binary.vmodel", &[0xff; 4096]).contains("magic"));

    // Edit the first tree's node arrays.
    let mut v: serde_json::Value = serde_json::from_str(&good["VEDETTE-ML 1\n".len()..]).unwrap();
    let edit = |v: &serde_json::Value, f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = v.clone();
        f(&mut v["body"]["trees"][0]);
        format!("VEDETTE-ML 1\n{v}")
    };
    // A cycle: the root's left child is the root.
    let e = load_err(
        "cycle.vmodel",
        edit(&v, &|t| t["left"][0] = 0.into()).as_bytes(),
    );
    assert!(e.contains("child 0"), "{e}");
    let e = load_err(
        "range.vmodel",
        edit(&v, &|t| t["right"][0] = 4_000_000_000u32.into()).as_bytes(),
    );
    assert!(e.contains("child"), "{e}");
    let e = load_err(
        "feature.vmodel",
        edit(&v, &|t| t["feature"][0] = 9999.into()).as_bytes(),
    );
    assert!(e.contains("feature 9999"), "{e}");
    let e = load_err(
        "arrays.vmodel",
        edit(&v, &|t| {
            t["split"].as_array_mut().unwrap().pop();
        })
        .as_bytes(),
    );
    assert!(e.contains("differ in length"), "{e}");
    let e = load_err(
        "leaf.vmodel",
        edit(&v, &|t| t["leaf"] = serde_json::json!([])).as_bytes(),
    );
    assert!(e.contains("leaf"), "{e}");
    // Numbers out of type range.
    let e = load_err(
        "neg.vmodel",
        edit(&v, &|t| t["left"][0] = (-1).into()).as_bytes(),
    );
    assert!(!e.is_empty());
    // Classes beyond the cap.
    v["classes"] = serde_json::json!((0..100).map(|i| i.to_string()).collect::<Vec<_>>());
    let e = load_err("classes.vmodel", format!("VEDETTE-ML 1\n{v}").as_bytes());
    assert!(e.contains("100 classes"), "{e}");
}
