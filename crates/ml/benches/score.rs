//! Scoring throughput: trains GBDT (binary) on NSL-KDD's 20% training file, then scores its
//! rows repeatedly on one thread and prints rows/s. Asserts the predictions, so a fast wrong
//! answer cannot pass. Run: `cargo bench -p vedette-ml --bench score`
//! (needs $VEDETTE_SHARED/data/ml/nsl-kdd; prints SKIP without it).

#![allow(clippy::unwrap_used)] // benchmark: a panic is a failure with its location

use std::path::PathBuf;
use std::time::Instant;
use vedette_ml::data::{read_table, ReadOptions};
use vedette_ml::{ClassMode, Format, ModelChoice, TrainOptions};

/// This thread's user+system CPU seconds (Linux /proc; 0 elsewhere), so the rate per core
/// stays meaningful on a loaded machine.
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let shared = std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join("data/ml/nsl-kdd/KDDTrain+_20Percent.txt");
    if !path.exists() {
        eprintln!("SKIP: {} not found", path.display());
        return;
    }
    for classes in [ClassMode::Binary, ClassMode::Category] {
        let t = read_table(&path, &ReadOptions::new(Format::NslKdd, classes)).unwrap();
        let started = Instant::now();
        let (model, report) = vedette_ml::train(
            &t,
            &TrainOptions {
                model: ModelChoice::Gbdt(Default::default()),
                seed: 1,
                validation_fraction: 0.1,
                target_fpr: None,
                threshold: None,
                name: None,
                format: Some(Format::NslKdd),
                classes,
            },
        )
        .unwrap();
        let train_s = started.elapsed().as_secs_f64();
        let m = model.encoder().encode(&t, model.class_names()).unwrap();
        let n = m.rows();
        let passes = 20;
        let started = Instant::now();
        let cpu0 = thread_cpu_seconds();
        let mut correct = 0u64;
        for _ in 0..passes {
            for i in 0..n {
                let p = model.predict(std::hint::black_box(m.row(i)));
                correct += u64::from(p.class as u32 == m.y[i]);
            }
        }
        let s = started.elapsed().as_secs_f64();
        let cpu = thread_cpu_seconds() - cpu0;
        let rows = (n * passes) as f64;
        let acc = correct as f64 / rows;
        assert!(acc > 0.99, "accuracy {acc}");
        println!(
            "{:?}: trained {} trees on {} rows in {train_s:.1} s; scored {rows} rows in {s:.2} s on one thread = {:.2} M rows/s wall, {:.2} M rows per CPU-second ({cpu:.2} s CPU) (accuracy {acc:.4})",
            classes,
            report.rounds.unwrap_or(0) * if model.class_names().len() > 2 { model.class_names().len() } else { 1 },
            report.train_rows,
            rows / s / 1e6,
            if cpu > 0.0 { rows / cpu / 1e6 } else { 0.0 }
        );
    }
}
