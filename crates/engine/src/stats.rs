//! Worker counters and the EVE `stats` event (Suricata's layout: `stats.decoder.*`,
//! `stats.flow.*`, `stats.defrag.*`, plus vedette's own caps under `stats.vedette`).

use vedette_capture::KernelStats;
use vedette_decode::DecodeEvent;
use vedette_eve::{EventBatch, EventType, Header, JsonWriter};
use vedette_flow::{DefragStats, FlowStats};
use vedette_types::Timestamp;

/// Counters of one worker (or, merged, of all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineStats {
    /// Packets processed.
    pub pkts: u64,
    /// Captured bytes processed.
    pub bytes: u64,
    /// Largest captured packet.
    pub max_pkt_size: u64,
    /// Packets too broken to track.
    pub invalid: u64,
    /// Ethernet frames.
    pub ethernet: u64,
    /// Frames with one VLAN tag.
    pub vlan: u64,
    /// Frames with two or more VLAN tags.
    pub vlan_qinq: u64,
    /// IPv4 packets.
    pub ipv4: u64,
    /// IPv6 packets.
    pub ipv6: u64,
    /// Frames without IP (ARP, LLDP...).
    pub non_ip: u64,
    /// IP fragments.
    pub fragments: u64,
    /// Datagrams rebuilt from fragments and passed on to flows.
    pub reassembled_l4: u64,
    /// TCP segments.
    pub tcp: u64,
    /// UDP datagrams.
    pub udp: u64,
    /// ICMPv4 messages.
    pub icmpv4: u64,
    /// ICMPv6 messages.
    pub icmpv6: u64,
    /// Other IP protocols.
    pub other_ip_proto: u64,
    /// Bad IPv4 header checksums.
    pub ipv4_checksum_bad: u64,
    /// Bad TCP/UDP/ICMP checksums.
    pub l4_checksum_bad: u64,
    /// Decoder events by kind (index: [`DecodeEvent::index`]).
    pub decoder_events: [u64; DecodeEvent::ALL.len()],
    /// Decoder events beyond the per-packet list.
    pub decoder_events_dropped: u64,
    /// Anomaly events written.
    pub anomaly_events: u64,
    /// Flow table counters.
    pub flow: FlowStats,
    /// Flows held at the time of reading.
    pub flows_active: u64,
    /// Defragmentation counters.
    pub defrag: DefragStats,
    /// App-layer and stream counters.
    pub app: crate::AppStats,
    /// Signature detection counters.
    pub detect: vedette_detect::DetectStats,
    /// Flow feature export and ML scoring counters.
    pub ml: crate::MlStats,
}

impl Default for EngineStats {
    fn default() -> Self {
        EngineStats {
            pkts: 0,
            bytes: 0,
            max_pkt_size: 0,
            invalid: 0,
            ethernet: 0,
            vlan: 0,
            vlan_qinq: 0,
            ipv4: 0,
            ipv6: 0,
            non_ip: 0,
            fragments: 0,
            reassembled_l4: 0,
            tcp: 0,
            udp: 0,
            icmpv4: 0,
            icmpv6: 0,
            other_ip_proto: 0,
            ipv4_checksum_bad: 0,
            l4_checksum_bad: 0,
            decoder_events: [0; DecodeEvent::ALL.len()],
            decoder_events_dropped: 0,
            anomaly_events: 0,
            flow: FlowStats::default(),
            flows_active: 0,
            defrag: DefragStats::default(),
            app: crate::AppStats::default(),
            detect: vedette_detect::DetectStats::default(),
            ml: crate::MlStats::default(),
        }
    }
}

impl EngineStats {
    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &EngineStats) {
        self.pkts += o.pkts;
        self.bytes += o.bytes;
        self.max_pkt_size = self.max_pkt_size.max(o.max_pkt_size);
        self.invalid += o.invalid;
        self.ethernet += o.ethernet;
        self.vlan += o.vlan;
        self.vlan_qinq += o.vlan_qinq;
        self.ipv4 += o.ipv4;
        self.ipv6 += o.ipv6;
        self.non_ip += o.non_ip;
        self.fragments += o.fragments;
        self.reassembled_l4 += o.reassembled_l4;
        self.tcp += o.tcp;
        self.udp += o.udp;
        self.icmpv4 += o.icmpv4;
        self.icmpv6 += o.icmpv6;
        self.other_ip_proto += o.other_ip_proto;
        self.ipv4_checksum_bad += o.ipv4_checksum_bad;
        self.l4_checksum_bad += o.l4_checksum_bad;
        for (a, b) in self.decoder_events.iter_mut().zip(o.decoder_events.iter()) {
            *a += b;
        }
        self.decoder_events_dropped += o.decoder_events_dropped;
        self.anomaly_events += o.anomaly_events;
        self.flow.merge(&o.flow);
        self.flows_active += o.flows_active;
        self.defrag.merge(&o.defrag);
        self.app.merge(&o.app);
        let (d, e) = (&mut self.detect, &o.detect);
        d.alerts += e.alerts;
        d.suppressed += e.suppressed;
        d.candidates += e.candidates;
        d.threshold_table_full += e.threshold_table_full;
        d.xbits_table_full += e.xbits_table_full;
        self.ml.merge(&o.ml);
    }

    /// Decoder events raised, all kinds.
    pub fn decoder_events_total(&self) -> u64 {
        self.decoder_events.iter().sum()
    }
}

/// Counters kept outside the workers (capture and the event bus).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounters {
    /// Seconds the run has lasted (wall clock, read by the binary).
    pub uptime_secs: u64,
    /// Capture files read.
    pub files_opened: u64,
    /// Capture files that failed or were cut short.
    pub files_failed: u64,
    /// Records skipped as larger than the packet cap.
    pub oversized_skipped: u64,
    /// Kernel drops (live capture).
    pub kernel_drops: u64,
    /// Event batches an output could not take in time and dropped.
    pub bus_batches_dropped: u64,
    /// Events lost with them.
    pub bus_events_dropped: u64,
    /// Events written, all outputs.
    pub events_written: u64,
    /// Batches waiting on the event bus when the record was written (its depth).
    pub bus_queue_batches: u64,
    /// Peak resident memory of the process, in bytes (0 when unknown).
    pub peak_rss_bytes: u64,
}

/// Appends a `stats` event with Suricata's layout. `kernel` holds the counters of each live
/// capture socket (empty for files): their sums become `kernel_packets`/`kernel_drops` and each
/// socket is listed under `capture.workers`, so no worker's drops can hide in a total.
pub fn write_stats_event(
    batch: &mut EventBatch,
    ts: Timestamp,
    s: &EngineStats,
    run: &RunCounters,
    kernel: &[KernelStats],
) {
    write_stats_event_with(batch, ts, s, run, kernel, &mut |_| {});
}

/// As [`write_stats_event`], with `extra` writing more members into the `stats` object (the
/// binary adds counters of stages outside the engine, such as the anomaly detectors).
pub fn write_stats_event_with(
    batch: &mut EventBatch,
    ts: Timestamp,
    s: &EngineStats,
    run: &RunCounters,
    kernel: &[KernelStats],
    extra: &mut dyn FnMut(&mut JsonWriter<'_>),
) {
    let mut w = batch.begin(EventType::Stats);
    w.header(&Header {
        ts,
        flow_id: None,
        pcap_cnt: None,
        vlan: &[],
        tuple: None,
    });
    w.object("stats");
    w.u64("uptime", run.uptime_secs);
    w.object("capture");
    if kernel.is_empty() {
        w.u64("kernel_packets", s.pkts);
        w.u64("kernel_drops", run.kernel_drops);
        w.u64("files_opened", run.files_opened);
        w.u64("files_failed", run.files_failed);
    } else {
        let mut total = KernelStats::default();
        for k in kernel {
            total.merge(k);
        }
        w.u64("kernel_packets", total.packets);
        w.u64("kernel_drops", total.drops);
        w.u64("kernel_freezes", total.freezes);
        w.array("workers");
        for k in kernel {
            w.elem_object();
            w.u64("kernel_packets", k.packets);
            w.u64("kernel_drops", k.drops);
            w.u64("kernel_freezes", k.freezes);
            w.close_object();
        }
        w.close_array();
    }
    w.close_object();
    w.object("decoder");
    w.u64("pkts", s.pkts);
    w.u64("bytes", s.bytes);
    w.u64("invalid", s.invalid);
    w.u64("ipv4", s.ipv4);
    w.u64("ipv6", s.ipv6);
    w.u64("ethernet", s.ethernet);
    w.u64("tcp", s.tcp);
    w.u64("udp", s.udp);
    w.u64("icmpv4", s.icmpv4);
    w.u64("icmpv6", s.icmpv6);
    w.u64("vlan", s.vlan);
    w.u64("vlan_qinq", s.vlan_qinq);
    w.u64("avg_pkt_size", s.bytes.checked_div(s.pkts).unwrap_or(0));
    w.u64("max_pkt_size", s.max_pkt_size);
    w.object("event");
    // Group "decoder.<layer>.<name>" counters as decoder.event.<layer>.<name>.
    let mut open_layer: Option<&str> = None;
    for ev in DecodeEvent::ALL {
        let name = ev.name().trim_start_matches("decoder.");
        let (layer, leaf) = name.split_once('.').unwrap_or(("", name));
        if open_layer != Some(layer) {
            if open_layer.is_some_and(|l| !l.is_empty()) {
                w.close_object();
            }
            if !layer.is_empty() {
                w.object(layer);
            }
            open_layer = Some(layer);
        }
        w.u64(leaf, s.decoder_events.get(ev.index()).copied().unwrap_or(0));
    }
    if open_layer.is_some_and(|l| !l.is_empty()) {
        w.close_object();
    }
    w.close_object();
    w.close_object();
    w.object("flow");
    w.u64("total", s.flow.created());
    w.u64("tcp", s.flow.created_tcp);
    w.u64("udp", s.flow.created_udp);
    w.u64("icmp", s.flow.created_icmp);
    w.u64("other", s.flow.created_other);
    w.u64("active", s.flows_active);
    w.u64("tcp_reuse", s.flow.tcp_reuse);
    w.object("end");
    w.u64("timeout", s.flow.ended_timeout);
    w.u64("forced", s.flow.ended_forced);
    w.u64("shutdown", s.flow.ended_shutdown);
    w.close_object();
    w.close_object();
    w.object("defrag");
    w.u64("fragments", s.defrag.fragments);
    w.u64("reassembled", s.defrag.reassembled);
    w.u64("timeouts", s.defrag.timeouts);
    w.u64("max_trackers_reached", s.defrag.tracker_cap_hits);
    w.u64("memcap_reached", s.defrag.memcap_hits);
    w.u64("too_large", s.defrag.too_large);
    w.u64("overlaps", s.defrag.overlaps);
    w.close_object();
    let a = &s.app;
    w.object("tcp");
    w.u64("segments", a.stream.segments);
    w.u64("reassembly_gap", a.stream.gaps);
    w.u64("reassembly_gap_bytes", a.stream.gap_bytes);
    w.u64("retransmissions", a.stream.retransmissions);
    w.u64("overlap_diff_data", a.stream.overlap_conflicts);
    w.u64("ooo_queued", a.stream.queued);
    w.u64("segment_queue_full_drop", a.stream.queue_full_drops);
    w.u64("reassembly_depth_reached", a.stream.depth_reached);
    w.u64("syn_data_dropped", a.stream.syn_data_dropped);
    w.u64("bytes_to_app", a.stream.bytes_delivered);
    w.close_object();
    w.object("app_layer");
    w.object("flow");
    w.u64("http", a.flows_http);
    w.u64("dns_udp", a.flows_dns_udp);
    w.u64("dns_tcp", a.flows_dns_tcp);
    w.u64("tls", a.flows_tls);
    w.u64("failed_tcp", a.flows_failed_tcp);
    w.u64("failed_udp", a.flows_failed_udp);
    w.close_object();
    w.object("tx");
    w.u64("http", a.tx_http);
    w.u64("dns", a.tx_dns);
    w.u64("tls", a.tx_tls);
    w.close_object();
    w.u64("anomalies", a.anomalies);
    w.u64("anomalies_dropped", a.anomalies_dropped);
    w.close_object();
    w.object("detect");
    w.u64("alert", s.detect.alerts);
    w.u64("alerts_suppressed", s.detect.suppressed);
    w.u64("candidates", s.detect.candidates);
    w.close_object();
    w.object("vedette");
    w.u64("ipv4_checksum_bad", s.ipv4_checksum_bad);
    w.u64("l4_checksum_bad", s.l4_checksum_bad);
    w.u64("non_ip", s.non_ip);
    w.u64("fragments", s.fragments);
    w.u64("anomaly_events", s.anomaly_events);
    w.u64("decoder_events_dropped", s.decoder_events_dropped);
    w.u64("events_written", run.events_written);
    w.u64("event_queue_batches", run.bus_queue_batches);
    w.u64("peak_rss_bytes", run.peak_rss_bytes);
    w.object("caps");
    w.u64("flow_evictions", s.flow.ended_forced);
    w.u64("flows_peak", s.flow.peak_active);
    w.u64("defrag_trackers", s.defrag.tracker_cap_hits);
    w.u64("defrag_memcap", s.defrag.memcap_hits);
    w.u64("oversized_packets", run.oversized_skipped);
    w.u64("threshold_table_full", s.detect.threshold_table_full);
    w.u64("xbits_table_full", s.detect.xbits_table_full);
    w.u64("event_batches_dropped", run.bus_batches_dropped);
    w.u64("events_dropped", run.bus_events_dropped);
    w.close_object();
    w.close_object();
    if s.ml.any() {
        w.object("ml");
        w.u64("feature_rows", s.ml.feature_rows);
        w.u64("flows_scored", s.ml.flows_scored);
        w.u64("alerts", s.ml.alerts);
        w.close_object();
    }
    extra(&mut w);
    w.close_object();
    w.finish();
}
