//! vedette's own deterministic traffic generator.
//!
//! Owns: building protocol-correct Ethernet frames (IPv4/IPv6, TCP/UDP/ICMP, 802.1Q, ARP,
//! IPv4 fragments), whole TCP conversations, HTTP/DNS/TLS payloads with hand-built X.509
//! certificates, and writing them as classic pcap files; plus the scripted captures used by
//! `vedette demo` and by tests (demo, benign, SYN flood). Must not: read a clock, use the
//! network, or depend on anything but the seed it is given: the same seed always gives the
//! same bytes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod calendar;
pub mod dns;
pub mod http;
pub mod packet;
pub mod pcap;
pub mod rng;
pub mod scenario;
pub mod tcp;
pub mod tls;
pub mod x509;

pub use packet::{
    icmp_echo, ip_frame, ipv4_fragments, tcp_frame, udp_frame, Endpoints, IpParams, Link, MacAddr,
    TcpHeader,
};
pub use pcap::PcapWriter;
pub use rng::Rng;
pub use scenario::{
    benign_capture, demo_capture, write_benign_capture, write_demo_capture, write_syn_flood,
    Capture, DemoSummary, SessionCounts,
};
pub use tcp::{Packet, Side, TcpSession, TcpSessionConfig};
