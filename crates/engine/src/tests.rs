use super::*;
use vedette_decode::checksum;

/// An Ethernet/IPv4/TCP frame with valid checksums.
#[allow(clippy::too_many_arguments)] // one argument per header field keeps the call sites readable
fn tcp_frame(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (40 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = checksum::compute(0, &ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut tcp = Vec::new();
    tcp.extend_from_slice(&sport.to_be_bytes());
    tcp.extend_from_slice(&dport.to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&ack.to_be_bytes());
    tcp.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    tcp.extend_from_slice(payload);
    let pseudo = checksum::pseudo_v4(&src, &dst, 6, tcp.len());
    let c = checksum::compute(pseudo, &tcp);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&tcp);
    f
}

fn run(frames: &[(i64, Vec<u8>)], cfg: &EngineConfig) -> (Vec<serde_json::Value>, EngineStats) {
    let mut w = Worker::new(cfg);
    for (i, (ts, f)) in frames.iter().enumerate() {
        let p = Packet {
            ts: Timestamp::from_secs(*ts),
            data: f,
            orig_len: f.len() as u32,
            link_type: LinkType::ETHERNET,
        };
        w.process(&p, i as u64 + 1);
    }
    w.finish();
    let stats = w.stats();
    let batch = w.swap_batch(EventBatch::default());
    let events = (0..batch.len())
        .map(|i| serde_json::from_slice(batch.record(i).unwrap()).unwrap())
        .collect();
    (events, stats)
}

#[test]
fn handshake_data_close_gives_one_closed_flow_event() {
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let frames = vec![
        (0, tcp_frame(c, s, 4000, 80, 0x02, 100, 0, b"")),
        (0, tcp_frame(s, c, 80, 4000, 0x12, 500, 101, b"")),
        (0, tcp_frame(c, s, 4000, 80, 0x10, 101, 501, b"")),
        (
            1,
            tcp_frame(c, s, 4000, 80, 0x18, 101, 501, b"GET / HTTP/1.0\r\n\r\n"),
        ),
        (
            1,
            tcp_frame(s, c, 80, 4000, 0x19, 501, 119, b"HTTP/1.0 200 OK\r\n\r\n"),
        ),
        (2, tcp_frame(c, s, 4000, 80, 0x11, 119, 521, b"")),
        (2, tcp_frame(s, c, 80, 4000, 0x10, 521, 120, b"")),
    ];
    let (events, stats) = run(&frames, &EngineConfig::default());
    assert_eq!(events.len(), 2, "{events:?}");
    // The HTTP transaction is logged before its flow ends.
    let h = &events[0];
    assert_eq!(h["event_type"], "http");
    assert_eq!(h["http"]["http_method"], "GET");
    assert_eq!(h["http"]["url"], "/");
    assert_eq!(h["http"]["status"], 200);
    assert_eq!(h["flow_id"], events[1]["flow_id"]);
    let e = &events[1];
    assert_eq!(e["event_type"], "flow");
    assert_eq!(e["app_proto"], "http");
    assert_eq!(e["src_ip"], "10.0.0.1");
    assert_eq!(e["dest_port"], 80);
    assert_eq!(e["flow"]["pkts_toserver"], 4);
    assert_eq!(e["flow"]["pkts_toclient"], 3);
    assert_eq!(e["flow"]["state"], "closed");
    assert_eq!(e["flow"]["age"], 2);
    assert_eq!(e["tcp"]["state"], "closed");
    assert_eq!(e["tcp"]["tcp_flags"], "1b");
    assert_eq!(stats.pkts, 7);
    assert_eq!(stats.tcp, 7);
    assert_eq!(stats.flow.created_tcp, 1);
    assert_eq!(stats.l4_checksum_bad, 0);
}

#[test]
fn garbage_and_truncated_frames_become_anomalies_not_flows() {
    let good = tcp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 0x02, 0, 0, b"abc");
    let truncated = good[..good.len() - 2].to_vec();
    let tiny = vec![1, 2, 3];
    let (events, stats) = run(&[(0, truncated), (0, tiny)], &EngineConfig::default());
    let names: Vec<_> = events
        .iter()
        .map(|e| e["anomaly"]["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        vec!["decoder.ipv4.trunc_pkt", "decoder.ethernet.pkt_too_small"]
    );
    assert_eq!(events[0]["pcap_cnt"], 1);
    assert_eq!(events[0]["packet_info"]["linktype"], 1);
    assert_eq!(stats.invalid, 2);
    assert_eq!(stats.flow.created(), 0);
}

#[test]
fn bad_checksum_is_counted_and_ignored_without_validation() {
    let mut f = tcp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 0x02, 0, 0, b"abc");
    let n = f.len() - 1;
    f[n] ^= 1;
    let (_, s) = run(&[(0, f.clone())], &EngineConfig::default());
    assert_eq!(s.l4_checksum_bad, 1);
    let mut cfg = EngineConfig::default();
    cfg.decode.validate_checksums = false;
    let (_, s) = run(&[(0, f)], &cfg);
    assert_eq!(s.l4_checksum_bad, 0);
}

#[test]
fn stats_event_is_valid_json_with_nested_decoder_events() {
    let mut s = EngineStats {
        pkts: 3,
        ..EngineStats::default()
    };
    s.decoder_events[DecodeEvent::Ipv4TruncPkt.index()] = 2;
    let mut b = EventBatch::default();
    write_stats_event(&mut b, Timestamp(0), &s, &RunCounters::default(), &[]);
    let v: serde_json::Value = serde_json::from_slice(b.record(0).unwrap()).unwrap();
    assert_eq!(v["stats"]["decoder"]["pkts"], 3);
    assert_eq!(v["stats"]["decoder"]["event"]["ipv4"]["trunc_pkt"], 2);
    assert_eq!(v["stats"]["decoder"]["event"]["unsupported_linktype"], 0);
}
