//! Beaconing: a host calling the same service at regular intervals with same-sized requests,
//! as implants polling their controller do.
//!
//! Score (in the spirit of RITA's, our own formulation), over the last `max_samples`
//! connections of a (source, destination, port, protocol) pair, sorted by start time:
//!
//! - intervals `d` between consecutive starts, sizes `s` = client bytes of each connection;
//! - for a series `x` with quartiles Q1 ≤ Q2 ≤ Q3 and median absolute deviation
//!   MAD = median(|x − Q2|):
//!   - *skew score* = 1 − |Bowley skewness|, Bowley = (Q1 + Q3 − 2·Q2) / (Q3 − Q1)
//!     (taken as 0 when Q2 equals Q1 or Q3): a symmetric distribution, as jitter around a
//!     fixed period gives;
//!   - *dispersion score* = 1 − min(1, MAD / Q2) (1 when MAD = 0): spread small against the
//!     typical value;
//! - score = mean of the four: interval skew, interval dispersion, size skew, size dispersion.
//!
//! Only connections the server answered count: a beacon is a conversation, while periodic
//! unanswered packets are retries, scans or backscatter, which other detectors cover.
//!
//! A pair is scored once it has `min_connections` connections, then again every
//! `min_connections / 2` more, and at the end; it alerts when score ≥ `min_score` and the
//! median interval is at least `min_interval_secs` (faster repetition is a burst or a
//! retry loop, not a beacon).

use crate::config::BeaconConfig;
use crate::scan::is_group;
use crate::{Detection, Detector, FlowRecord};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use vedette_types::Timestamp;

type Key = (IpAddr, IpAddr, u16, u8);

struct Pair {
    /// (start, client bytes), newest last, at most `max_samples`.
    samples: VecDeque<(Timestamp, u64)>,
    total: u64,
    /// `total` when last scored.
    scored_at: u64,
    last_seen: Timestamp,
    quiet_until: Timestamp,
}

pub(crate) struct Beacons {
    cfg: BeaconConfig,
    pairs: HashMap<Key, Pair>,
    cap_hits: u64,
    suppressed: u64,
}

/// Quartiles and MAD of a series (sorted in place).
fn robust(x: &mut [f64]) -> Option<(f64, f64, f64, f64)> {
    if x.is_empty() {
        return None;
    }
    x.sort_by(f64::total_cmp);
    let q = |x: &[f64], p: f64| -> f64 {
        // Linear interpolation between closest ranks.
        let pos = p * (x.len() - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        let (a, b) = (
            x.get(lo).copied().unwrap_or(0.0),
            x.get(hi).copied().unwrap_or(0.0),
        );
        a + (b - a) * (pos - lo as f64)
    };
    let (q1, q2, q3) = (q(x, 0.25), q(x, 0.5), q(x, 0.75));
    let mut dev: Vec<f64> = x.iter().map(|v| (v - q2).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = q(&dev, 0.5);
    Some((q1, q2, q3, mad))
}

/// Skew and dispersion scores of a series, with its median and MAD.
fn regularity(x: &mut [f64]) -> Option<(f64, f64, f64, f64)> {
    let (q1, q2, q3, mad) = robust(x)?;
    // A median equal to a quartile means a quarter or more of the series sits on one value: a
    // concentration, which Bowley's ratio would misread as total skew.
    let bowley = if q3 - q1 > 0.0 && q2 != q1 && q2 != q3 {
        (q1 + q3 - 2.0 * q2) / (q3 - q1)
    } else {
        0.0
    };
    let skew = (1.0 - bowley.abs()).clamp(0.0, 1.0);
    let disp = if mad <= 0.0 {
        1.0
    } else if q2 <= 0.0 {
        0.0
    } else {
        (1.0 - (mad / q2).min(1.0)).clamp(0.0, 1.0)
    };
    Some((skew, disp, q2, mad))
}

/// The beacon score of a pair's samples, with an explanation.
pub(crate) fn score(samples: &VecDeque<(Timestamp, u64)>) -> Option<(f64, f64, String)> {
    let mut s: Vec<(Timestamp, u64)> = samples.iter().copied().collect();
    s.sort();
    let mut d: Vec<f64> = s
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(b.0 .0.saturating_sub(a.0 .0) as f64 / 1e9),
            _ => None,
        })
        .collect();
    let mut sizes: Vec<f64> = s.iter().map(|x| x.1 as f64).collect();
    let (ts_skew, ts_disp, ts_med, ts_mad) = regularity(&mut d)?;
    let (ds_skew, ds_disp, ds_med, ds_mad) = regularity(&mut sizes)?;
    let score = (ts_skew + ts_disp + ds_skew + ds_disp) / 4.0;
    let why = format!(
        "interval median {ts_med:.1} s (MAD {ts_mad:.2} s, skew score {ts_skew:.2}), request size median {ds_med:.0} B (MAD {ds_mad:.0} B, skew score {ds_skew:.2})"
    );
    Some((score, ts_med, why))
}

impl Beacons {
    pub(crate) fn new(cfg: &BeaconConfig) -> Self {
        Beacons {
            cfg: cfg.clone(),
            pairs: HashMap::new(),
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

    fn judge(
        cfg: &BeaconConfig,
        key: &Key,
        p: &mut Pair,
        sup: i64,
        suppressed: &mut u64,
    ) -> Option<Detection> {
        p.scored_at = p.total;
        if p.samples.len() < cfg.min_connections as usize {
            return None;
        }
        let (score, med, why) = score(&p.samples)?;
        if score < cfg.min_score || med < cfg.min_interval_secs {
            return None;
        }
        let first = p.samples.iter().map(|s| s.0).min()?;
        if p.last_seen < p.quiet_until {
            *suppressed += 1;
            return None;
        }
        p.quiet_until = Timestamp(p.last_seen.0.saturating_add(sup));
        let &(src, dst, port, proto) = key;
        Some(Detection {
            detector: Detector::Beacon,
            variant: 0,
            ts: first,
            src_ip: src,
            dst_ip: dst,
            src_port: 0,
            dst_port: port,
            proto,
            signature: "VEDETTE ANOMALY periodic beacon".into(),
            explain: format!(
                "beacon score {score:.2} >= {:.2} over the last {} of {} connections: {why}",
                cfg.min_score,
                p.samples.len(),
                p.total
            ),
        })
    }

    pub(crate) fn on_flow(&mut self, f: &FlowRecord, sup: i64, out: &mut Vec<Detection>) {
        if !self.cfg.enabled
            || f.pkts_toclient == 0
            || self.cfg.ignore_ports.contains(&f.dst_port)
            || is_group(f.dst_ip)
        {
            return;
        }
        let key = (f.src_ip, f.dst_ip, f.dst_port, f.proto);
        let max = usize::try_from(self.cfg.max_tracked).unwrap_or(usize::MAX);
        if !self.pairs.contains_key(&key) && self.pairs.len() >= max {
            self.cap_hits += 1;
            return;
        }
        let p = self.pairs.entry(key).or_insert_with(|| Pair {
            samples: VecDeque::new(),
            total: 0,
            scored_at: 0,
            last_seen: f.start,
            quiet_until: Timestamp(i64::MIN),
        });
        if p.samples.len() >= self.cfg.max_samples as usize {
            p.samples.pop_front();
        }
        p.samples.push_back((f.start, f.bytes_toserver));
        p.total += 1;
        p.last_seen = p.last_seen.max(f.start);
        let min = u64::from(self.cfg.min_connections);
        let due = p.total >= min && p.total - p.scored_at >= (min / 2).max(1);
        if due || p.total == min {
            if let Some(d) = Self::judge(&self.cfg, &key, p, sup, &mut self.suppressed) {
                out.push(d);
            }
        }
    }

    /// Scores pairs with unscored connections; forgets pairs idle for `idle_secs`.
    pub(crate) fn sweep(&mut self, cutoff: Timestamp, sup: i64, out: &mut Vec<Detection>) {
        let idle = crate::secs_ns(self.cfg.idle_secs);
        let end = cutoff.0 == i64::MAX;
        for (k, p) in self.pairs.iter_mut() {
            if end && p.total > p.scored_at {
                if let Some(d) = Self::judge(&self.cfg, k, p, sup, &mut self.suppressed) {
                    out.push(d);
                }
            }
        }
        if !end {
            self.pairs
                .retain(|_, p| p.last_seen.0.saturating_add(idle) > cutoff.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;

    fn series(
        e: &mut AnomalyEngine,
        n: i64,
        every_ms: i64,
        jitter_ms: i64,
        size: impl Fn(i64) -> u64,
    ) {
        for i in 0..n {
            // Deterministic pseudo-jitter in [-jitter, +jitter].
            let j = if jitter_ms == 0 {
                0
            } else {
                (i * 7919 % (2 * jitter_ms + 1)) - jitter_ms
            };
            let mut f = established("10.0.0.5", "198.51.100.7", 443, i * every_ms + j);
            f.bytes_toserver = size(i);
            e.on_flow(&f);
        }
    }

    #[test]
    fn regular_same_sized_calls_beacon() {
        let mut e = engine();
        series(&mut e, 30, 60_000, 500, |_| 420);
        e.finish();
        let d = of(&e.drain(), Detector::Beacon);
        assert_eq!(d.len(), 1, "{d:?}");
        let med: f64 = d[0]
            .explain
            .split("interval median ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        assert!((59.0..=61.0).contains(&med), "{}", d[0].explain);
        // Scored as soon as there were enough connections, and only once.
        assert!(
            d[0].explain.contains("over the last 10 of 10"),
            "{}",
            d[0].explain
        );
    }

    #[test]
    fn irregular_browsing_does_not_beacon() {
        let mut e = engine();
        let mut t = 0i64;
        for i in 0..40i64 {
            // Intervals from 1 s to several minutes, sizes all over the place.
            t += 1000 + (i * i * 7717) % 240_000;
            let mut f = established("10.0.0.5", "198.51.100.8", 443, t);
            f.bytes_toserver = 300 + ((i * 104_729) % 9000) as u64;
            e.on_flow(&f);
        }
        e.finish();
        assert!(of(&e.drain(), Detector::Beacon).is_empty());
    }

    #[test]
    fn too_few_or_too_fast_is_not_a_beacon() {
        let mut e = engine();
        series(&mut e, 9, 60_000, 0, |_| 420);
        e.finish();
        assert!(of(&e.drain(), Detector::Beacon).is_empty());
        let mut e = engine();
        series(&mut e, 100, 200, 0, |_| 420);
        e.finish();
        assert!(of(&e.drain(), Detector::Beacon).is_empty());
    }

    #[test]
    fn unanswered_periodic_probes_are_not_beacons() {
        let mut e = engine();
        for i in 0..40i64 {
            e.on_flow(&syn_only("203.0.113.9", "10.0.0.1", 9069, i * 5000));
        }
        e.finish();
        assert!(of(&e.drain(), Detector::Beacon).is_empty());
    }

    #[test]
    fn jittered_calls_of_mostly_one_size_beacon() {
        // Intervals 2.3..3.8 s, most requests 1773 B with a few larger ones (a C2 poll with an
        // occasional result upload): the median sits on the lower quartile of sizes.
        let mut e = engine();
        let sizes = [
            1773u64, 1707, 1839, 2037, 1773, 1839, 1707, 1971, 1773, 1773, 1773, 1905,
        ];
        let mut t = 0;
        for i in 0..24i64 {
            t += 2300 + (i * 611) % 1500;
            let mut f = established("10.0.0.5", "198.51.100.20", 443, t);
            f.bytes_toserver = if i % 5 == 3 {
                sizes[(i as usize) % sizes.len()]
            } else {
                1773
            };
            e.on_flow(&f);
        }
        e.finish();
        assert_eq!(of(&e.drain(), Detector::Beacon).len(), 1);
    }

    #[test]
    fn score_of_a_perfect_series_is_one() {
        let s: std::collections::VecDeque<_> =
            (0..10).map(|i| (Timestamp(i * 30 * NS), 100u64)).collect();
        let (score, med, _) = super::score(&s).unwrap();
        assert!((score - 1.0).abs() < 1e-9 && (med - 30.0).abs() < 1e-9);
    }
}
