//! Volume baselines: bytes each local host sends per interval, against its own exponentially
//! weighted moving average and variance.
//!
//! Per host and interval of `bucket_secs` (by flow end time), x = bytes the host sent (as
//! client and as server). When an interval closes: if the host has `learning_buckets` closed
//! intervals behind it, x ≥ `min_bytes` and x > mean + `deviations`·σ, it alerts. Then
//! mean ← mean + α·(x − mean) and var ← (1 − α)·(var + α·(x − mean)²). Intervals with no
//! flows count as 0 so a usually idle host keeps a low baseline.

use crate::config::VolumeConfig;
use crate::{Detection, Detector, FlowRecord};
use std::collections::HashMap;
use std::net::IpAddr;
use vedette_types::Timestamp;

/// Empty intervals folded into a baseline at once; a longer silence restarts learning.
const MAX_GAP_BUCKETS: i64 = 10_000;

struct Baseline {
    bucket: i64,
    sum: u64,
    mean: f64,
    var: f64,
    closed: u64,
    quiet_until: i64,
}

pub(crate) struct Volume {
    cfg: VolumeConfig,
    hosts: HashMap<IpAddr, Baseline>,
    bucket_ns: i64,
    cap_hits: u64,
    suppressed: u64,
}

impl Volume {
    pub(crate) fn new(c: &VolumeConfig) -> Self {
        Volume {
            bucket_ns: crate::secs_ns(c.bucket_secs).max(1),
            cfg: c.clone(),
            hosts: HashMap::new(),
            cap_hits: 0,
            suppressed: 0,
        }
    }

    pub(crate) fn cap_hits(&self) -> u64 {
        self.cap_hits
    }

    pub(crate) fn suppressed(&self) -> u64 {
        self.suppressed
    }

    /// Judges the open interval of `b`, folds it into the baseline and opens the next.
    fn close(&mut self, host: IpAddr, b_key_sup: i64, out: &mut Vec<Detection>) {
        let cfg = &self.cfg;
        let bucket_ns = self.bucket_ns;
        let Some(b) = self.hosts.get_mut(&host) else {
            return;
        };
        let x = b.sum as f64;
        let sd = b.var.max(0.0).sqrt();
        let limit = b.mean + cfg.deviations * sd;
        if b.closed >= u64::from(cfg.learning_buckets) && b.sum >= cfg.min_bytes && x > limit {
            if b.bucket < b.quiet_until {
                self.suppressed += 1;
            } else {
                let start = b.bucket.saturating_mul(bucket_ns);
                b.quiet_until = b.bucket.saturating_add(b_key_sup / bucket_ns + 1);
                out.push(Detection {
                    detector: Detector::Volume,
                    variant: 0,
                    ts: Timestamp(start),
                    src_ip: host,
                    dst_ip: host,
                    src_port: 0,
                    dst_port: 0,
                    proto: vedette_types::ip_proto::TCP,
                    signature: "VEDETTE ANOMALY host sent far more than its baseline".into(),
                    explain: format!(
                        "{} bytes sent in {} s > baseline {:.0} + {:.1} x {:.0} (EWMA mean + deviations x std dev, {} intervals learned)",
                        b.sum, cfg.bucket_secs, b.mean, cfg.deviations, sd, b.closed
                    ),
                });
            }
        }
        if b.closed == 0 {
            b.mean = x;
            b.var = 0.0;
        } else {
            let diff = x - b.mean;
            b.mean += cfg.alpha * diff;
            b.var = (1.0 - cfg.alpha) * (b.var + cfg.alpha * diff * diff);
        }
        b.closed += 1;
        b.sum = 0;
        b.bucket += 1;
    }

    /// Folds `n` empty intervals into the baseline without judging them.
    fn idle(b: &mut Baseline, n: i64, alpha: f64) {
        for _ in 0..n {
            let diff = -b.mean;
            b.mean += alpha * diff;
            b.var = (1.0 - alpha) * (b.var + alpha * diff * diff);
            b.closed += 1;
        }
        b.bucket += n;
    }

    fn add(&mut self, host: IpAddr, bytes: u64, ts: Timestamp, sup: i64, out: &mut Vec<Detection>) {
        if bytes == 0 || !self.cfg.host_nets.iter().any(|n| n.contains(host)) {
            return;
        }
        let bucket = ts.0.div_euclid(self.bucket_ns);
        if !self.hosts.contains_key(&host) {
            if self.hosts.len() >= usize::try_from(self.cfg.max_tracked).unwrap_or(usize::MAX) {
                self.cap_hits += 1;
                return;
            }
            self.hosts.insert(
                host,
                Baseline {
                    bucket,
                    sum: 0,
                    mean: 0.0,
                    var: 0.0,
                    closed: 0,
                    quiet_until: i64::MIN,
                },
            );
        }
        let cur = self.hosts.get(&host).map_or(bucket, |b| b.bucket);
        if bucket > cur {
            self.close(host, sup, out);
            if let Some(b) = self.hosts.get_mut(&host) {
                let gap = bucket - b.bucket;
                if gap > MAX_GAP_BUCKETS {
                    *b = Baseline {
                        bucket,
                        sum: 0,
                        mean: 0.0,
                        var: 0.0,
                        closed: 0,
                        quiet_until: b.quiet_until,
                    };
                } else {
                    Self::idle(b, gap, self.cfg.alpha);
                }
            }
        }
        // Late records (bucket < current) count in the open interval.
        if let Some(b) = self.hosts.get_mut(&host) {
            b.sum = b.sum.saturating_add(bytes);
        }
    }

    pub(crate) fn on_flow(&mut self, f: &FlowRecord, sup: i64, out: &mut Vec<Detection>) {
        if !self.cfg.enabled {
            return;
        }
        self.add(f.src_ip, f.bytes_toserver, f.end, sup, out);
        self.add(f.dst_ip, f.bytes_toclient, f.end, sup, out);
    }

    /// Closes intervals that ended before `cutoff` (at the end of input, the open ones too).
    pub(crate) fn sweep(&mut self, cutoff: Timestamp, sup: i64, out: &mut Vec<Detection>) {
        let hosts: Vec<IpAddr> = self
            .hosts
            .iter()
            .filter(|(_, b)| {
                b.sum > 0
                    && (cutoff.0 == i64::MAX
                        || b.bucket.saturating_add(1).saturating_mul(self.bucket_ns) <= cutoff.0)
            })
            .map(|(h, _)| *h)
            .collect();
        for h in hosts {
            self.close(h, sup, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;

    fn day(e: &mut AnomalyEngine, host: &str, buckets: i64, bytes: impl Fn(i64) -> u64) {
        for i in 0..buckets {
            let mut f = established(host, "198.51.100.9", 443, i * 300_000 + 1000);
            f.bytes_toserver = bytes(i);
            e.on_flow(&f);
        }
    }

    #[test]
    fn outlier_after_learning_alerts_and_not_before() {
        let mut e = engine();
        // 20 intervals of ~1 MB, then 500 MB.
        day(&mut e, "10.0.0.5", 21, |i| {
            if i == 20 {
                500_000_000
            } else {
                1_000_000 + (i as u64 % 3) * 10_000
            }
        });
        // A host that sends 500 MB in its 5th interval is still learning.
        day(&mut e, "10.0.0.6", 6, |i| {
            if i == 5 {
                500_000_000
            } else {
                1_000_000
            }
        });
        e.finish();
        let d = of(&e.drain(), Detector::Volume);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].src_ip.to_string(), "10.0.0.5");
        assert!(
            d[0].explain.starts_with("500000000 bytes sent in 300 s"),
            "{}",
            d[0].explain
        );
    }

    #[test]
    fn steady_heavy_senders_and_outside_hosts_do_not_alert() {
        let mut e = engine();
        day(&mut e, "10.0.0.5", 40, |_| 800_000_000);
        day(&mut e, "203.0.113.5", 40, |i| {
            if i == 30 {
                900_000_000
            } else {
                1000
            }
        });
        e.finish();
        assert!(of(&e.drain(), Detector::Volume).is_empty());
    }
}
