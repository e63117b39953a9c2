//! The end-of-run summary printed on stderr.

use crate::analyze::RunSummary;
use vedette_eve::EventType;

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints packets, bytes, flows, events by type, wall time and throughput.
pub fn print(s: &RunSummary) {
    let secs = s.wall.as_secs_f64().max(1e-9);
    let st = &s.stats;
    let gbps = st.bytes as f64 * 8.0 / secs / 1e9;
    let mpps = st.pkts as f64 / secs / 1e6;
    let source = match &s.kernel {
        Some(k) => format!("from {} live worker(s)", k.len()),
        None => format!("from {} file(s)", s.files),
    };
    eprintln!(
        "vedette: {} packets, {} bytes {} in {:.3} s ({:.2} Gbps, {:.3} Mpps)",
        thousands(st.pkts),
        thousands(st.bytes),
        source,
        secs,
        gbps,
        mpps
    );
    if let Some(k) = &s.kernel {
        // Drops are printed always, per worker too, so a loss is never hidden in a total.
        let (pk, dr): (u64, u64) = k
            .iter()
            .fold((0, 0), |(p, d), w| (p + w.packets, d + w.drops));
        let per: Vec<String> = k
            .iter()
            .enumerate()
            .map(|(i, w)| format!("#{i} {} / {}", thousands(w.packets), thousands(w.drops)))
            .collect();
        eprintln!(
            "  kernel: {} packets, {} dropped{}; per worker packets / drops: {}",
            thousands(pk),
            thousands(dr),
            if dr > 0 {
                " (WARNING: packet loss)"
            } else {
                ""
            },
            per.join(", ")
        );
    }
    let f = &st.flow;
    eprintln!(
        "  flows: {} (tcp {}, udp {}, icmp {}, other {}); ended by timeout {}, shutdown {}, evicted at cap {}",
        thousands(f.created()),
        thousands(f.created_tcp),
        thousands(f.created_udp),
        thousands(f.created_icmp),
        thousands(f.created_other),
        thousands(f.ended_timeout),
        thousands(f.ended_shutdown),
        thousands(f.ended_forced)
    );
    let mut parts = Vec::new();
    for t in EventType::ALL {
        let n = s.events.get(t);
        if n > 0 {
            parts.push(format!("{} {}", t.name(), thousands(n)));
        }
    }
    let dest = s
        .eve_path
        .as_ref()
        .map(|p| format!(" -> {}", p.display()))
        .unwrap_or_default();
    eprintln!(
        "  events: {}{}",
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        },
        dest
    );
    eprintln!(
        "  decoder: invalid {}, decoder events {}, bad checksums ipv4 {} / l4 {}, fragments {} (reassembled {})",
        thousands(st.invalid),
        thousands(st.decoder_events_total()),
        thousands(st.ipv4_checksum_bad),
        thousands(st.l4_checksum_bad),
        thousands(st.fragments),
        thousands(st.defrag.reassembled)
    );
    if let Some(a) = &s.anomaly {
        let fired: Vec<String> = vedette_anomaly::Detector::ALL
            .iter()
            .filter_map(|d| {
                let n = a.alerts.get(d.index()).copied().unwrap_or(0);
                (n > 0).then(|| format!("{} {}", d.name(), thousands(n)))
            })
            .collect();
        eprintln!(
            "  anomaly detectors: {} alerts{}; {} suppressed; tracking caps hit {}",
            thousands(a.alerts_total()),
            if fired.is_empty() {
                String::new()
            } else {
                format!(" ({})", fired.join(", "))
            },
            thousands(a.suppressed),
            thousands(a.cap_hits_total())
        );
    }
    if let Some(n) = &s.notify {
        for x in &n.notifiers {
            eprintln!(
                "  notify {} ({}): {} sent, {} failed ({} retries), {} dropped, {} unsent; {} matched, {} deduplicated, {} rate-limited{}",
                x.name,
                x.kind,
                thousands(x.sent),
                thousands(x.failed),
                thousands(x.retried),
                thousands(x.dropped),
                thousands(x.unsent),
                thousands(x.matched),
                thousands(x.deduplicated),
                thousands(x.rate_limited),
                if x.dedup_table_full > 0 {
                    format!(", dedup table full {}", thousands(x.dedup_table_full))
                } else {
                    String::new()
                }
            );
        }
        if n.queue_dropped > 0 {
            eprintln!(
                "  notify: {} alerts dropped (dispatcher queue full)",
                thousands(n.queue_dropped)
            );
        }
    }
    if s.peak_rss_bytes > 0 {
        eprintln!(
            "  peak memory (RSS): {:.1} MiB",
            s.peak_rss_bytes as f64 / 1_048_576.0
        );
    }
    if s.dropped_batches > 0 {
        eprintln!(
            "  WARNING: {} event batches dropped because outputs could not keep up",
            s.dropped_batches
        );
    }
    if let Some(x) = &s.export {
        eprintln!("{}", crate::export::summary_line(x));
    }
    if let Some(st) = &s.store {
        eprintln!(
            "  store: {} events in {} commits -> {}{}{}",
            thousands(st.ingest.committed_events),
            thousands(st.ingest.commits),
            st.path.display(),
            if st.ingest.expired_rows + st.ingest.evicted_rows > 0 {
                format!(
                    "; retention removed {} (age) + {} (size) rows",
                    thousands(st.ingest.expired_rows),
                    thousands(st.ingest.evicted_rows)
                )
            } else {
                String::new()
            },
            if st.ingest.garbage > 0 {
                format!("; {} records skipped", thousands(st.ingest.garbage))
            } else {
                String::new()
            }
        );
        if st.dropped_batches > 0 {
            eprintln!(
                "  WARNING: store queue full: {} batches ({} events) not stored",
                thousands(st.dropped_batches),
                thousands(st.dropped_events)
            );
        }
        if let Some(e) = &st.error {
            eprintln!("  ERROR: the store stopped writing: {e}");
        }
    }
    for e in &s.capture_errors {
        eprintln!("  capture error: {e}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
