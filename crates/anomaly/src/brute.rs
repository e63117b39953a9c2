//! Brute force: many short connections from one source to one login service of one server.
//!
//! Without decrypting SSH or RDP, a failed login looks like a short connection the server
//! answered; a password-guessing tool makes dozens a minute, a person a handful.

use crate::config::{BruteForceConfig, DetectorLimits as _};
use crate::window::{WindowState, Windows};
use crate::{span_secs, Detection, Detector, FlowRecord, HttpRecord};
use std::net::IpAddr;
use vedette_types::{ip_proto, Timestamp};

#[derive(Default)]
pub(crate) struct Attempts {
    n: u64,
    bytes_toclient: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl WindowState for Attempts {
    fn is_empty(&self) -> bool {
        self.n == 0
    }
}

type Key = (IpAddr, IpAddr, u16);

pub(crate) struct BruteForce {
    on: bool,
    ports: Vec<u16>,
    min: u64,
    max_dur_ns: i64,
    window_s: u64,
    w: Windows<Key, Attempts>,
    http_min: u64,
    http: Windows<Key, Attempts>,
}

fn service(port: u16) -> &'static str {
    match port {
        21 => "FTP",
        22 => "SSH",
        23 => "Telnet",
        110 => "POP3",
        143 => "IMAP",
        445 => "SMB",
        902 => "VMware authd",
        1433 => "MSSQL",
        3306 => "MySQL",
        3389 => "RDP",
        5432 => "PostgreSQL",
        5900 => "VNC",
        _ => "login service",
    }
}

impl BruteForce {
    pub(crate) fn new(c: &BruteForceConfig) -> Self {
        BruteForce {
            on: c.enabled,
            ports: c.ports.clone(),
            min: u64::from(c.min_attempts),
            max_dur_ns: crate::secs_ns(c.max_duration_secs),
            window_s: c.window_secs,
            w: Windows::new(c.window_secs, c.max_tracked()),
            http_min: u64::from(c.http_min_failures),
            http: Windows::new(c.window_secs, c.max_tracked()),
        }
    }

    pub(crate) fn cap_hits(&self) -> u64 {
        self.w.cap_hits + self.http.cap_hits
    }

    pub(crate) fn suppressed(&self) -> u64 {
        self.w.suppressed + self.http.suppressed
    }

    fn judge_http(min: u64, w: u64) -> impl FnMut(&Key, Timestamp, &Attempts) -> Option<Detection> {
        move |&(src, dst, port), start, a| {
            if a.n < min {
                return None;
            }
            let span = match (a.first, a.last) {
                (Some(x), Some(y)) => span_secs(x, y),
                _ => 0.0,
            };
            Some(Detection {
                detector: Detector::BruteForce,
                variant: 1,
                ts: start,
                src_ip: src,
                dst_ip: dst,
                src_port: 0,
                dst_port: port,
                proto: ip_proto::TCP,
                signature: "VEDETTE ANOMALY brute force against HTTP authentication".into(),
                explain: format!(
                    "{} HTTP authentication failures (401/407) from {dst} port {port} in {span:.1} s >= {min} in {w} s",
                    a.n
                ),
            })
        }
    }

    /// HTTP 401/407 answers: a password guesser against Basic/Digest or proxy authentication.
    pub(crate) fn on_http(&mut self, h: &HttpRecord, sup: i64, out: &mut Vec<Detection>) {
        if !self.on || !matches!(h.status, 401 | 407) {
            return;
        }
        self.http.observe(
            (h.src_ip, h.dst_ip, h.dst_port),
            h.ts,
            sup,
            |a| {
                a.n += 1;
                a.first = Some(a.first.map_or(h.ts, |t| t.min(h.ts)));
                a.last = Some(a.last.map_or(h.ts, |t| t.max(h.ts)));
            },
            Self::judge_http(self.http_min, self.window_s),
            out,
        );
    }

    fn judge(min: u64, w: u64) -> impl FnMut(&Key, Timestamp, &Attempts) -> Option<Detection> {
        move |&(src, dst, port), start, a| {
            if a.n < min {
                return None;
            }
            let span = match (a.first, a.last) {
                (Some(x), Some(y)) => span_secs(x, y),
                _ => 0.0,
            };
            let svc = service(port);
            Some(Detection {
                detector: Detector::BruteForce,
                variant: 0,
                ts: start,
                src_ip: src,
                dst_ip: dst,
                src_port: 0,
                dst_port: port,
                proto: ip_proto::TCP,
                signature: format!("VEDETTE ANOMALY brute force against {svc}"),
                explain: format!(
                    "{} short connections to {svc} on {dst} port {port} (server sent {} bytes in all) in {span:.1} s >= {min} in {w} s",
                    a.n, a.bytes_toclient
                ),
            })
        }
    }

    pub(crate) fn on_flow(&mut self, f: &FlowRecord, sup: i64, out: &mut Vec<Detection>) {
        if !self.on || f.proto != ip_proto::TCP || !self.ports.contains(&f.dst_port) {
            return;
        }
        // The server must have answered (a login prompt to fail at), and the connection must
        // have been short: an interactive session is not an attempt.
        let dur = f.end.0.saturating_sub(f.start.0);
        if f.pkts_toclient == 0 || dur > self.max_dur_ns {
            return;
        }
        self.w.observe(
            (f.src_ip, f.dst_ip, f.dst_port),
            f.start,
            sup,
            |a| {
                a.n += 1;
                a.bytes_toclient = a.bytes_toclient.saturating_add(f.bytes_toclient);
                a.first = Some(a.first.map_or(f.start, |t| t.min(f.start)));
                a.last = Some(a.last.map_or(f.end, |t| t.max(f.end)));
            },
            Self::judge(self.min, self.window_s),
            out,
        );
    }

    pub(crate) fn sweep(&mut self, cutoff: Timestamp, sup: i64, out: &mut Vec<Detection>) {
        self.w
            .sweep(cutoff, sup, Self::judge(self.min, self.window_s), out);
        self.http.sweep(
            cutoff,
            sup,
            Self::judge_http(self.http_min, self.window_s),
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use crate::*;

    #[test]
    fn many_short_ssh_connections_are_brute_force() {
        for (n, expect) in [(19i64, 0usize), (20, 1)] {
            let mut e = engine();
            for i in 0..n {
                e.on_flow(&established("10.0.0.66", "10.0.0.22", 22, i * 2000));
            }
            e.finish();
            let d = of(&e.drain(), Detector::BruteForce);
            assert_eq!(d.len(), expect, "{n}");
            if let Some(d) = d.first() {
                assert!(
                    d.explain.starts_with("20 short connections to SSH"),
                    "{}",
                    d.explain
                );
            }
        }
    }

    #[test]
    fn http_authentication_failures_are_brute_force() {
        let req = |ms: i64, status: u16| HttpRecord {
            ts: at(ms),
            src_ip: "10.0.0.66".parse().unwrap(),
            dst_ip: "10.0.0.80".parse().unwrap(),
            dst_port: 80,
            status,
        };
        for (n, expect) in [(19i64, 0usize), (20, 1)] {
            let mut e = engine();
            for i in 0..n {
                e.on_http(&req(i * 500, 401));
                // Successful requests in between do not count.
                e.on_http(&req(i * 500 + 1, 200));
            }
            e.finish();
            let d = of(&e.drain(), Detector::BruteForce);
            assert_eq!(d.len(), expect, "{n}");
            if let Some(d) = d.first() {
                assert_eq!(d.sid(), 9_000_801);
            }
        }
    }

    #[test]
    fn long_sessions_unanswered_probes_and_other_ports_do_not_count() {
        let mut e = engine();
        for i in 0..50i64 {
            let mut long = established("10.0.0.66", "10.0.0.22", 22, i * 100);
            long.end = Timestamp(long.start.0 + 31 * NS);
            e.on_flow(&long);
            e.on_flow(&syn_only("10.0.0.67", "10.0.0.22", 22, i * 100));
            e.on_flow(&established("10.0.0.68", "10.0.0.22", 443, i * 100));
        }
        e.finish();
        assert!(of(&e.drain(), Detector::BruteForce).is_empty());
    }
}
