//! Detector settings. Keys and defaults mirror the `[anomaly]` section of the binary's
//! `config/default.toml`, where each is documented; unknown keys are rejected.

use crate::net::Cidr;
use serde::Deserialize;
use std::net::IpAddr;

/// A setting that cannot work, with its key path.
#[derive(Debug, thiserror::Error)]
#[error("config key 'anomaly.{key}': {message}")]
pub struct ConfigError {
    /// Key path below `anomaly`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        message: message.into(),
    }
}

/// `[anomaly]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnomalyConfig {
    /// Run the detectors at all.
    pub enabled: bool,
    /// After an alert, the same detector stays quiet about the same subject this long.
    pub suppress_secs: u64,
    /// How long a window stays open for late flow records.
    pub grace_secs: u64,
    /// Sources (addresses or CIDRs) never reported and not tracked.
    pub allow_src: Vec<String>,
    /// Destinations (addresses or CIDRs) never reported and not tracked.
    pub allow_dst: Vec<String>,
    /// `[anomaly.port_scan]`
    pub port_scan: PortScanConfig,
    /// `[anomaly.host_sweep]`
    pub host_sweep: HostSweepConfig,
    /// `[anomaly.syn_flood]`
    pub syn_flood: SynFloodConfig,
    /// `[anomaly.udp_flood]`
    pub udp_flood: FloodConfig,
    /// `[anomaly.icmp_flood]`
    pub icmp_flood: FloodConfig,
    /// `[anomaly.brute_force]`
    pub brute_force: BruteForceConfig,
    /// `[anomaly.beacon]`
    pub beacon: BeaconConfig,
    /// `[anomaly.dns_tunnel]`
    pub dns_tunnel: DnsTunnelConfig,
    /// `[anomaly.volume]`
    pub volume: VolumeConfig,
    #[serde(skip)]
    allow_src_nets: Vec<Cidr>,
    #[serde(skip)]
    allow_dst_nets: Vec<Cidr>,
}

/// Window, cap and on/off shared by the windowed detectors.
pub(crate) trait DetectorLimits {
    /// Window length in seconds.
    fn window_secs(&self) -> u64;
    /// Most subjects tracked at once.
    fn max_tracked(&self) -> usize;
}

macro_rules! limits {
    ($t:ty) => {
        impl DetectorLimits for $t {
            fn window_secs(&self) -> u64 {
                self.window_secs
            }
            fn max_tracked(&self) -> usize {
                usize::try_from(self.max_tracked).unwrap_or(usize::MAX)
            }
        }
    };
}

/// `[anomaly.port_scan]`: one source, one target host, many ports.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PortScanConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Distinct ports with failed attempts that make a scan.
    pub min_ports: u32,
    /// Most (source, target) pairs tracked.
    pub max_tracked: u64,
}
limits!(PortScanConfig);

/// `[anomaly.host_sweep]`: one source, one service, many hosts.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostSweepConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Distinct hosts probed that make a sweep.
    pub min_hosts: u32,
    /// Most (source, service) pairs tracked.
    pub max_tracked: u64,
}
limits!(HostSweepConfig);

/// `[anomaly.syn_flood]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SynFloodConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Half-open connections to one service within the window that make a flood.
    pub min_half_open: u64,
    /// Most target services tracked.
    pub max_tracked: u64,
}
limits!(SynFloodConfig);

/// `[anomaly.udp_flood]` and `[anomaly.icmp_flood]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FloodConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Packets to one host within the window that make a flood.
    pub min_packets: u64,
    /// Most target hosts tracked.
    pub max_tracked: u64,
}
limits!(FloodConfig);

/// `[anomaly.brute_force]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BruteForceConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Login-service ports watched.
    pub ports: Vec<u16>,
    /// Short connections from one source to one server's service that make an attack.
    pub min_attempts: u32,
    /// Connections longer than this are sessions, not attempts.
    pub max_duration_secs: u64,
    /// HTTP 401/407 responses from one server to one client that make an attack.
    pub http_min_failures: u32,
    /// Most (source, server, port) triples tracked.
    pub max_tracked: u64,
}
limits!(BruteForceConfig);

/// `[anomaly.beacon]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BeaconConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Connections of a pair needed before it is scored.
    pub min_connections: u32,
    /// Latest connections kept per pair (the score uses these).
    pub max_samples: u32,
    /// Median interval below this is a burst, not a beacon.
    pub min_interval_secs: f64,
    /// Score (0..1) at or above which a pair beacons.
    pub min_score: f64,
    /// Destination ports never scored (resolvers, time servers...).
    pub ignore_ports: Vec<u16>,
    /// Pairs idle this long are forgotten.
    pub idle_secs: u64,
    /// Most (source, destination, port) pairs tracked.
    pub max_tracked: u64,
}

/// `[anomaly.dns_tunnel]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DnsTunnelConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Window, seconds.
    pub window_secs: u64,
    /// Length of the part left of the registered domain that counts as long.
    pub min_subdomain_len: u32,
    /// Shannon entropy (bits per character) of that part that counts as random-looking.
    pub min_entropy: f64,
    /// Distinct long random-looking names under one domain that make a tunnel.
    pub min_encoded_names: u32,
    /// TXT and NULL queries under one domain that make a tunnel.
    pub min_txt_null: u32,
    /// Distinct names under one domain that make a tunnel, whatever they look like.
    pub min_distinct_names: u32,
    /// Registered domains (and their subdomains) never reported.
    pub allow_domains: Vec<String>,
    /// Most (client, registered domain) pairs tracked.
    pub max_tracked: u64,
}
limits!(DnsTunnelConfig);

/// `[anomaly.volume]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VolumeConfig {
    /// Run the detector.
    pub enabled: bool,
    /// Hosts with a baseline (addresses or CIDRs); others are not tracked.
    pub hosts: Vec<String>,
    /// Length of one measurement interval, seconds.
    pub bucket_secs: u64,
    /// Intervals observed before the baseline may alert.
    pub learning_buckets: u32,
    /// Weight of the newest interval in the moving average and variance.
    pub alpha: f64,
    /// Standard deviations above the average that make an outlier.
    pub deviations: f64,
    /// Bytes in one interval below which nothing is reported.
    pub min_bytes: u64,
    /// Most hosts tracked.
    pub max_tracked: u64,
    #[serde(skip)]
    pub(crate) host_nets: Vec<Cidr>,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        let mut c = AnomalyConfig {
            enabled: true,
            suppress_secs: 3600,
            grace_secs: 120,
            allow_src: Vec::new(),
            allow_dst: Vec::new(),
            port_scan: PortScanConfig {
                enabled: true,
                window_secs: 60,
                min_ports: 50,
                max_tracked: 20_000,
            },
            host_sweep: HostSweepConfig {
                enabled: true,
                window_secs: 60,
                min_hosts: 16,
                max_tracked: 20_000,
            },
            syn_flood: SynFloodConfig {
                enabled: true,
                window_secs: 10,
                min_half_open: 1000,
                max_tracked: 10_000,
            },
            udp_flood: FloodConfig {
                enabled: true,
                window_secs: 10,
                min_packets: 2000,
                max_tracked: 10_000,
            },
            icmp_flood: FloodConfig {
                enabled: true,
                window_secs: 10,
                min_packets: 1000,
                max_tracked: 10_000,
            },
            brute_force: BruteForceConfig {
                enabled: true,
                window_secs: 60,
                ports: vec![21, 22, 23, 110, 143, 445, 902, 1433, 3306, 3389, 5432, 5900],
                min_attempts: 20,
                max_duration_secs: 30,
                http_min_failures: 20,
                max_tracked: 20_000,
            },
            beacon: BeaconConfig {
                enabled: true,
                min_connections: 10,
                max_samples: 64,
                min_interval_secs: 1.0,
                min_score: 0.8,
                ignore_ports: vec![53, 123, 137, 138, 5353],
                idle_secs: 86_400,
                max_tracked: 100_000,
            },
            dns_tunnel: DnsTunnelConfig {
                enabled: true,
                window_secs: 60,
                min_subdomain_len: 24,
                min_entropy: 3.5,
                min_encoded_names: 20,
                min_txt_null: 50,
                min_distinct_names: 300,
                allow_domains: vec![
                    "in-addr.arpa".into(),
                    "ip6.arpa".into(),
                    "spamhaus.org".into(),
                    "spamcop.net".into(),
                    "sophosxl.net".into(),
                ],
                max_tracked: 20_000,
            },
            volume: VolumeConfig {
                enabled: true,
                hosts: vec![
                    "10.0.0.0/8".into(),
                    "172.16.0.0/12".into(),
                    "192.168.0.0/16".into(),
                    "fc00::/7".into(),
                ],
                bucket_secs: 300,
                learning_buckets: 12,
                alpha: 0.1,
                deviations: 4.0,
                min_bytes: 100_000_000,
                max_tracked: 50_000,
                host_nets: Vec::new(),
            },
            allow_src_nets: Vec::new(),
            allow_dst_nets: Vec::new(),
        };
        // The defaults are valid by construction; preparing them only parses the CIDR lists.
        let _ = c.prepare();
        c
    }
}

fn parse_nets(key: &str, list: &[String]) -> Result<Vec<Cidr>, ConfigError> {
    list.iter()
        .map(|s| {
            s.parse::<Cidr>()
                .map_err(|e| bad(key, format!("'{s}': {e}")))
        })
        .collect()
}

impl AnomalyConfig {
    /// Checks every value and parses the address lists; call once after loading.
    pub fn prepare(&mut self) -> Result<(), ConfigError> {
        self.allow_src_nets = parse_nets("allow_src", &self.allow_src)?;
        self.allow_dst_nets = parse_nets("allow_dst", &self.allow_dst)?;
        self.volume.host_nets = parse_nets("volume.hosts", &self.volume.hosts)?;
        let windows: [(&str, &dyn DetectorLimits); 7] = [
            ("port_scan", &self.port_scan),
            ("host_sweep", &self.host_sweep),
            ("syn_flood", &self.syn_flood),
            ("udp_flood", &self.udp_flood),
            ("icmp_flood", &self.icmp_flood),
            ("brute_force", &self.brute_force),
            ("dns_tunnel", &self.dns_tunnel),
        ];
        for (name, d) in windows {
            if d.window_secs() == 0 || d.window_secs() > 86_400 {
                return Err(bad(&format!("{name}.window_secs"), "must be 1..=86400"));
            }
            if d.max_tracked() == 0 {
                return Err(bad(&format!("{name}.max_tracked"), "must be at least 1"));
            }
        }
        let positive = [
            ("port_scan.min_ports", u64::from(self.port_scan.min_ports)),
            ("host_sweep.min_hosts", u64::from(self.host_sweep.min_hosts)),
            ("syn_flood.min_half_open", self.syn_flood.min_half_open),
            ("udp_flood.min_packets", self.udp_flood.min_packets),
            ("icmp_flood.min_packets", self.icmp_flood.min_packets),
            (
                "brute_force.min_attempts",
                u64::from(self.brute_force.min_attempts),
            ),
            (
                "brute_force.http_min_failures",
                u64::from(self.brute_force.http_min_failures),
            ),
            (
                "dns_tunnel.min_encoded_names",
                u64::from(self.dns_tunnel.min_encoded_names),
            ),
            (
                "dns_tunnel.min_txt_null",
                u64::from(self.dns_tunnel.min_txt_null),
            ),
            (
                "dns_tunnel.min_distinct_names",
                u64::from(self.dns_tunnel.min_distinct_names),
            ),
            ("beacon.max_tracked", self.beacon.max_tracked),
            ("volume.max_tracked", self.volume.max_tracked),
            ("volume.bucket_secs", self.volume.bucket_secs),
        ];
        for (k, v) in positive {
            if v == 0 {
                return Err(bad(k, "must be at least 1"));
            }
        }
        // Beyond these, per-subject sets would cost more memory than the caps promise.
        for (k, v) in [
            ("port_scan.min_ports", self.port_scan.min_ports),
            ("host_sweep.min_hosts", self.host_sweep.min_hosts),
            (
                "dns_tunnel.min_encoded_names",
                self.dns_tunnel.min_encoded_names,
            ),
            (
                "dns_tunnel.min_distinct_names",
                self.dns_tunnel.min_distinct_names,
            ),
            ("beacon.max_samples", self.beacon.max_samples),
        ] {
            if v > 65_535 {
                return Err(bad(k, "must be at most 65535"));
            }
        }
        let b = &self.beacon;
        if b.min_connections < 4 {
            return Err(bad(
                "beacon.min_connections",
                "must be at least 4 (quartiles)",
            ));
        }
        if b.max_samples < b.min_connections {
            return Err(bad(
                "beacon.max_samples",
                "must be at least min_connections",
            ));
        }
        if !(0.0..=1.0).contains(&b.min_score) {
            return Err(bad("beacon.min_score", "must be within 0..=1"));
        }
        if !b.min_interval_secs.is_finite() || b.min_interval_secs < 0.0 {
            return Err(bad(
                "beacon.min_interval_secs",
                "must be a finite number >= 0",
            ));
        }
        let v = &self.volume;
        if !(v.alpha > 0.0 && v.alpha <= 1.0) {
            return Err(bad("volume.alpha", "must be within (0, 1]"));
        }
        if !v.deviations.is_finite() || v.deviations < 0.0 {
            return Err(bad("volume.deviations", "must be a finite number >= 0"));
        }
        if !self.dns_tunnel.min_entropy.is_finite() || self.dns_tunnel.min_entropy < 0.0 {
            return Err(bad(
                "dns_tunnel.min_entropy",
                "must be a finite number >= 0",
            ));
        }
        Ok(())
    }

    pub(crate) fn is_allowed_src(&self, ip: IpAddr) -> bool {
        self.allow_src_nets.iter().any(|n| n.contains(ip))
    }

    pub(crate) fn is_allowed_dst(&self, ip: IpAddr) -> bool {
        self.allow_dst_nets.iter().any(|n| n.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_key() {
        let mut c = AnomalyConfig::default();
        assert!(c.prepare().is_ok());
        c.allow_src = vec!["10.0.0.0/33".into()];
        let e = c.prepare().unwrap_err();
        assert!(e.to_string().contains("anomaly.allow_src"), "{e}");
        let mut c = AnomalyConfig::default();
        c.port_scan.window_secs = 0;
        assert!(c
            .prepare()
            .unwrap_err()
            .to_string()
            .contains("port_scan.window_secs"));
        let mut c = AnomalyConfig::default();
        c.beacon.min_score = 1.5;
        assert!(c
            .prepare()
            .unwrap_err()
            .to_string()
            .contains("beacon.min_score"));
    }
}
