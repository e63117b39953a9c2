//! `vedette sniff`: one line a packet — time, protocol, endpoints, TCP flags, length and a short
//! app-layer summary — or one JSON object a packet with `--json`. Decoding is the decode crate's,
//! the summary the app layer's per-packet summariser; this file only formats.

use crate::config::Config;
use crate::live::{compile_filter, live_config, signals};
use anyhow::Context as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::Ordering;
use vedette_capture::{LiveSocket, Packet};
use vedette_decode::{decode, DecodeConfig, Ip, L4};

/// What `sniff` captures and how it prints.
pub struct SniffOptions {
    /// Interface.
    pub iface: String,
    /// tcpdump-syntax filter.
    pub filter: Option<String>,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// JSON lines instead of text.
    pub json: bool,
    /// Configuration (ring sizes, promiscuous mode).
    pub config: Config,
}

/// Captures and prints until the count is reached or SIGINT/SIGTERM; returns packets printed.
pub fn run(opts: SniffOptions) -> anyhow::Result<u64> {
    let sig = signals()?;
    let lcfg = live_config(&opts.config, None);
    let filter = compile_filter(&opts.iface, opts.filter.as_deref(), lcfg.frame_bytes)?;
    let mut sock = LiveSocket::open(&opts.iface, &lcfg, filter.as_ref())?;
    eprintln!("vedette sniff: listening on {}", opts.iface);
    let timeout = i32::try_from(lcfg.block_timeout_ms).unwrap_or(100);
    let dcfg = DecodeConfig {
        validate_checksums: false,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = Vec::with_capacity(512);
    let mut text = String::with_capacity(256);
    let limit = opts.count.unwrap_or(u64::MAX);
    let mut printed: u64 = 0;
    let mut write_err = None;
    while printed < limit && !sig.stop.load(Ordering::Relaxed) {
        sock.next_block(timeout, |p| {
            if printed >= limit || write_err.is_some() {
                return;
            }
            line.clear();
            format_packet(p, &dcfg, opts.json, &mut line, &mut text);
            if let Err(e) = out.write_all(&line) {
                write_err = Some(e);
            }
            printed += 1;
        })?;
        if let Some(e) = write_err.take() {
            // A closed pipe (`| head`) ends sniffing quietly.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(printed);
            }
            return Err(e).context("writing to stdout");
        }
        if let Err(e) = out.flush() {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(printed);
            }
            return Err(e).context("writing to stdout");
        }
    }
    let k = sock.stats();
    let received = k.packets.saturating_sub(k.drops);
    eprintln!(
        "vedette sniff: {printed} packets printed, {received} received, {} dropped by the kernel",
        k.drops
    );
    Ok(printed)
}

fn tcp_flags(f: u8, out: &mut String) {
    // tcpdump's letters; '.' is ACK.
    for (bit, c) in [
        (0x02, 'S'),
        (0x01, 'F'),
        (0x08, 'P'),
        (0x04, 'R'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
        (0x10, '.'),
    ] {
        if f & bit != 0 {
            out.push(c);
        }
    }
}

/// Formats one packet as a text line or a JSON object, with its newline.
pub fn format_packet(
    p: &Packet<'_>,
    dcfg: &DecodeConfig,
    json: bool,
    line: &mut Vec<u8>,
    text: &mut String,
) {
    let d = decode(p.link_type, p.data, dcfg);
    let (src, dst): (Option<IpAddr>, Option<IpAddr>) = match d.ip {
        Ip::V4(v) => (
            Some(Ipv4Addr::from(v.src()).into()),
            Some(Ipv4Addr::from(v.dst()).into()),
        ),
        Ip::V6(v) => (
            Some(Ipv6Addr::from(v.src()).into()),
            Some(Ipv6Addr::from(v.dst()).into()),
        ),
        Ip::None => (None, None),
    };
    let (proto, sport, dport, flags) = match d.l4 {
        L4::Tcp(t) => (
            "TCP",
            Some(t.src_port()),
            Some(t.dst_port()),
            Some(t.flags()),
        ),
        L4::Udp(u) => ("UDP", Some(u.src_port()), Some(u.dst_port()), None),
        L4::Icmp4(_) => ("ICMP", None, None, None),
        L4::Icmp6(_) => ("IPv6-ICMP", None, None, None),
        L4::Other(_) => ("IP", None, None, None),
        L4::None if d.fragment.is_some() => ("FRAG", None, None, None),
        L4::None if src.is_some() => ("IP", None, None, None),
        L4::None => ("non-IP", None, None, None),
    };
    let mut flag_text = String::new();
    if let Some(f) = flags {
        tcp_flags(f, &mut flag_text);
    }
    text.clear();
    match d.l4 {
        L4::Tcp(_) | L4::Udp(_) => {
            vedette_applayer::summary::summarize(
                proto == "TCP",
                sport.unwrap_or(0),
                dport.unwrap_or(0),
                d.payload,
                text,
            );
        }
        L4::Icmp4(i) | L4::Icmp6(i) => {
            text.push_str(&format!("type {} code {}", i.icmp_type(), i.code()));
        }
        _ => {}
    }
    let ep = |ip: Option<IpAddr>, port: Option<u16>| -> String {
        match (ip, port) {
            (Some(IpAddr::V6(a)), Some(p)) => format!("[{a}]:{p}"),
            (Some(a), Some(p)) => format!("{a}:{p}"),
            (Some(a), None) => a.to_string(),
            (None, _) => "-".into(),
        }
    };
    if json {
        line.extend_from_slice(b"{\"timestamp\":\"");
        vedette_eve::format_timestamp(line, p.ts);
        line.extend_from_slice(b"\",\"proto\":");
        vedette_eve::escape_into(line, proto.as_bytes());
        if let Some(a) = src {
            line.extend_from_slice(b",\"src_ip\":");
            vedette_eve::escape_into(line, a.to_string().as_bytes());
        }
        if let Some(p) = sport {
            line.extend_from_slice(format!(",\"src_port\":{p}").as_bytes());
        }
        if let Some(a) = dst {
            line.extend_from_slice(b",\"dest_ip\":");
            vedette_eve::escape_into(line, a.to_string().as_bytes());
        }
        if let Some(p) = dport {
            line.extend_from_slice(format!(",\"dest_port\":{p}").as_bytes());
        }
        if flags.is_some() {
            line.extend_from_slice(b",\"tcp_flags\":");
            vedette_eve::escape_into(line, flag_text.as_bytes());
        }
        line.extend_from_slice(format!(",\"len\":{}", p.orig_len).as_bytes());
        if !text.is_empty() {
            line.extend_from_slice(b",\"summary\":");
            vedette_eve::escape_into(line, text.as_bytes());
        }
        line.extend_from_slice(b"}\n");
    } else {
        let day_ns = p.ts.0.rem_euclid(86_400 * 1_000_000_000);
        let secs = day_ns / 1_000_000_000;
        let micros = (day_ns % 1_000_000_000) / 1000;
        let mut s = format!(
            "{:02}:{:02}:{:02}.{:06} {:<4} {} -> {}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60,
            micros,
            proto,
            ep(src, sport),
            ep(dst, dport)
        );
        if flags.is_some() {
            s.push_str(&format!(" [{flag_text}]"));
        }
        s.push_str(&format!(" len {}", p.orig_len));
        if !text.is_empty() {
            s.push(' ');
            s.push_str(text);
        }
        s.push('\n');
        line.extend_from_slice(s.as_bytes());
    }
}
