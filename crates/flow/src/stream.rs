//! TCP stream reassembly for one direction of a session: delivers payload bytes to the app
//! layer in sequence order, exactly once, with gaps reported where bytes were never seen.
//!
//! - In-order segments are delivered straight from the packet (no copy).
//! - Retransmissions and overlaps: bytes already delivered win (later copies are ignored and,
//!   when they differ, counted as overlap conflicts). Suricata's default policy is "bsd", which
//!   also keeps the original bytes for the common overlap shapes.
//! - Out-of-order segments are copied into a bounded queue (bytes and segments per direction).
//!   When full, further segments are dropped and counted; the hole becomes a gap later.
//! - A gap is declared when the peer acknowledges bytes we never saw, or at flow end.
//! - Delivery stops after `depth` bytes per direction (Suricata's reassembly depth).

/// Reassembly limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// Bytes per direction handed to the app layer; 0 means unlimited.
    pub depth: u64,
    /// Out-of-order bytes queued per direction.
    pub max_queued_bytes: u32,
    /// Out-of-order segments queued per direction.
    pub max_queued_segments: u16,
    /// Inline mode: data on a SYN (TCP Fast Open) is used at once; otherwise only once the
    /// SYN/ACK acknowledges it, as Suricata's IDS mode does.
    pub inline: bool,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            depth: 1024 * 1024,
            max_queued_bytes: 256 * 1024,
            max_queued_segments: 256,
            inline: false,
        }
    }
}

/// Most bytes of SYN data (TCP Fast Open) held per flow until the SYN/ACK acknowledges them.
pub const MAX_SYN_DATA: usize = 4096;

/// Reassembly counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Data segments seen.
    pub segments: u64,
    /// Bytes delivered to the app layer.
    pub bytes_delivered: u64,
    /// Segments that repeated only bytes already delivered.
    pub retransmissions: u64,
    /// Overlapping bytes that differed from what was delivered.
    pub overlap_conflicts: u64,
    /// Segments queued out of order.
    pub queued: u64,
    /// Segments dropped because the queue was full.
    pub queue_full_drops: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Bytes missing in gaps.
    pub gap_bytes: u64,
    /// Directions that reached the depth limit.
    pub depth_reached: u64,
    /// SYN data never acknowledged by a SYN/ACK, or larger than [`MAX_SYN_DATA`].
    pub syn_data_dropped: u64,
}

impl StreamStats {
    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &StreamStats) {
        self.segments += o.segments;
        self.bytes_delivered += o.bytes_delivered;
        self.retransmissions += o.retransmissions;
        self.overlap_conflicts += o.overlap_conflicts;
        self.queued += o.queued;
        self.queue_full_drops += o.queue_full_drops;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.depth_reached += o.depth_reached;
        self.syn_data_dropped += o.syn_data_dropped;
    }
}

/// What the app layer receives, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// This many bytes are missing.
    Gap(u32),
}

/// Signed distance from `b` to `a` in sequence space (wrap-around safe).
fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct StreamDir {
    started: bool,
    next_seq: u32,
    /// Sequence number just past the FIN, once seen (a FIN uses one sequence number).
    fin_next: Option<u32>,
    delivered: u64,
    depth_reached: bool,
    queue: Vec<(u32, Vec<u8>)>,
    queued_bytes: u32,
}

impl StreamDir {
    /// Starts the direction at a SYN with sequence number `isn`.
    pub fn init(&mut self, isn: u32) {
        if !self.started {
            self.started = true;
            self.next_seq = isn.wrapping_add(1);
        }
    }

    /// True once a SYN or the first data segment fixed the sequence base.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Memory held by the out-of-order queue.
    pub fn queued_bytes(&self) -> u32 {
        self.queued_bytes
    }

    fn deliver(
        &mut self,
        data: &[u8],
        cfg: &StreamConfig,
        stats: &mut StreamStats,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        self.next_seq = self.next_seq.wrapping_add(data.len() as u32);
        if self.depth_reached {
            return;
        }
        let allowed = if cfg.depth == 0 {
            data.len()
        } else {
            let left = cfg.depth.saturating_sub(self.delivered);
            data.len().min(usize::try_from(left).unwrap_or(usize::MAX))
        };
        if let Some(part) = data.get(..allowed) {
            if !part.is_empty() {
                self.delivered += part.len() as u64;
                stats.bytes_delivered += part.len() as u64;
                out(Chunk::Data(part));
            }
        }
        if cfg.depth != 0 && self.delivered >= cfg.depth {
            self.depth_reached = true;
            stats.depth_reached += 1;
        }
    }

    fn gap(&mut self, len: u32, stats: &mut StreamStats, out: &mut impl FnMut(Chunk<'_>)) {
        if len == 0 {
            return;
        }
        self.next_seq = self.next_seq.wrapping_add(len);
        stats.gaps += 1;
        stats.gap_bytes += u64::from(len);
        if !self.depth_reached {
            out(Chunk::Gap(len));
        }
    }

    /// Delivers queued segments that now start at or before the next expected byte.
    fn drain_queue(
        &mut self,
        cfg: &StreamConfig,
        stats: &mut StreamStats,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        while let Some(pos) = self
            .queue
            .iter()
            .position(|(s, _)| seq_diff(*s, self.next_seq) <= 0)
        {
            let (seq, data) = self.queue.swap_remove(pos);
            self.queued_bytes = self.queued_bytes.saturating_sub(data.len() as u32);
            let skip = usize::try_from(-seq_diff(seq, self.next_seq)).unwrap_or(usize::MAX);
            if let Some(fresh) = data.get(skip..) {
                if !fresh.is_empty() {
                    self.deliver(fresh, cfg, stats, out);
                }
            }
        }
    }

    /// Takes a data segment (`payload` at sequence `seq`). In-order bytes are passed to `out`
    /// at once, borrowed from the packet; `out` must consume each chunk before returning.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        cfg: &StreamConfig,
        stats: &mut StreamStats,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        if payload.is_empty() {
            return;
        }
        stats.segments += 1;
        if !self.started {
            // Picked up mid-stream: the first data seen fixes the base.
            self.started = true;
            self.next_seq = seq;
        }
        let off = seq_diff(seq, self.next_seq);
        if off <= 0 {
            let skip = usize::try_from(-off).unwrap_or(usize::MAX);
            match payload.get(skip..) {
                Some(fresh) if !fresh.is_empty() => {
                    self.deliver(fresh, cfg, stats, out);
                    self.drain_queue(cfg, stats, out);
                }
                _ => stats.retransmissions += 1,
            }
            return;
        }
        // A segment from the future: queue a copy, within limits.
        if self.queue.len() >= usize::from(cfg.max_queued_segments)
            || self.queued_bytes as usize + payload.len() > cfg.max_queued_bytes as usize
        {
            stats.queue_full_drops += 1;
            return;
        }
        if self
            .queue
            .iter()
            .any(|(s, d)| *s == seq && d.len() >= payload.len())
        {
            stats.retransmissions += 1;
            return;
        }
        stats.queued += 1;
        self.queued_bytes += payload.len() as u32;
        self.queue.push((seq, payload.to_vec()));
    }

    /// Notes a FIN at `seq` carrying `payload_len` bytes.
    pub fn fin(&mut self, seq: u32, payload_len: u32) {
        if self.fin_next.is_none() {
            self.fin_next = Some(seq.wrapping_add(payload_len).wrapping_add(1));
        }
    }

    /// The peer acknowledged bytes up to `ack`: bytes before it that were never seen are lost.
    pub fn acked(
        &mut self,
        ack: u32,
        cfg: &StreamConfig,
        stats: &mut StreamStats,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        if !self.started {
            return;
        }
        // The ACK of our FIN covers one sequence number that carries no data.
        let limit = match self.fin_next {
            Some(f) if seq_diff(ack, f) >= 0 => f.wrapping_sub(1),
            _ => ack,
        };
        while seq_diff(limit, self.next_seq) > 0 {
            let first_queued = self
                .queue
                .iter()
                .map(|(s, _)| *s)
                .min_by_key(|s| seq_diff(*s, self.next_seq));
            let hole_end = match first_queued {
                Some(s) if seq_diff(s, limit) < 0 => s,
                _ => limit,
            };
            let len = seq_diff(hole_end, self.next_seq);
            if len <= 0 {
                break;
            }
            self.gap(len as u32, stats, out);
            self.drain_queue(cfg, stats, out);
        }
    }

    /// Flow end: reports holes and delivers everything still queued.
    pub fn flush(
        &mut self,
        cfg: &StreamConfig,
        stats: &mut StreamStats,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        while let Some(s) = self
            .queue
            .iter()
            .map(|(s, _)| *s)
            .min_by_key(|s| seq_diff(*s, self.next_seq))
        {
            let len = seq_diff(s, self.next_seq);
            if len > 0 {
                self.gap(len as u32, stats, out);
            }
            self.drain_queue(cfg, stats, out);
        }
        self.queue = Vec::new();
        self.queued_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(dir: &mut StreamDir, segs: &[(u32, &[u8])], acks: &[u32]) -> (Vec<u8>, Vec<u32>) {
        let cfg = StreamConfig::default();
        let mut stats = StreamStats::default();
        let mut data = Vec::new();
        let mut gaps = Vec::new();
        for (seq, p) in segs {
            dir.segment(*seq, p, &cfg, &mut stats, &mut |c| match c {
                Chunk::Data(d) => data.extend_from_slice(d),
                Chunk::Gap(g) => gaps.push(g),
            });
        }
        for a in acks {
            dir.acked(*a, &cfg, &mut stats, &mut |c| match c {
                Chunk::Data(d) => data.extend_from_slice(d),
                Chunk::Gap(g) => gaps.push(g),
            });
        }
        dir.flush(&cfg, &mut stats, &mut |c| match c {
            Chunk::Data(d) => data.extend_from_slice(d),
            Chunk::Gap(g) => gaps.push(g),
        });
        (data, gaps)
    }

    #[test]
    fn in_order_and_retransmitted() {
        let mut d = StreamDir::default();
        d.init(99);
        let (data, gaps) = collect(&mut d, &[(100, b"abc"), (103, b"def"), (100, b"abc")], &[]);
        assert_eq!(data, b"abcdef");
        assert!(gaps.is_empty());
    }

    #[test]
    fn out_of_order_segments_are_reordered() {
        let mut d = StreamDir::default();
        d.init(0);
        let (data, gaps) = collect(&mut d, &[(7, b"ghi"), (4, b"def"), (1, b"abc")], &[]);
        assert_eq!(data, b"abcdefghi");
        assert!(gaps.is_empty());
    }

    #[test]
    fn partial_overlap_keeps_first_bytes() {
        let mut d = StreamDir::default();
        d.init(0);
        let (data, _) = collect(&mut d, &[(1, b"abcd"), (3, b"XXef")], &[]);
        assert_eq!(data, b"abcdef");
    }

    #[test]
    fn acked_but_unseen_bytes_become_a_gap() {
        let mut d = StreamDir::default();
        d.init(0);
        // Bytes 4..7 never arrive; the peer acks up to 10.
        let (data, gaps) = collect(&mut d, &[(1, b"abc"), (7, b"ghi")], &[10]);
        assert_eq!(data, b"abcghi");
        assert_eq!(gaps, vec![3]);
        // A FIN's sequence number is not a gap.
        let mut d = StreamDir::default();
        d.init(0);
        d.fin(4, 0);
        let (data, gaps) = collect(&mut d, &[(1, b"abc")], &[5]);
        assert_eq!(data, b"abc");
        assert!(gaps.is_empty(), "{gaps:?}");
    }

    #[test]
    fn holes_at_flow_end_are_flushed_with_gaps() {
        let mut d = StreamDir::default();
        d.init(0);
        let (data, gaps) = collect(&mut d, &[(1, b"ab"), (10, b"xyz")], &[]);
        assert_eq!(data, b"abxyz");
        assert_eq!(gaps, vec![7]);
    }

    #[test]
    fn depth_and_queue_limits_hold() {
        let cfg = StreamConfig {
            depth: 5,
            max_queued_bytes: 4,
            max_queued_segments: 1,
            inline: false,
        };
        let mut stats = StreamStats::default();
        let mut d = StreamDir::default();
        d.init(0);
        let mut got = Vec::new();
        d.segment(1, b"abcdefgh", &cfg, &mut stats, &mut |c| {
            if let Chunk::Data(x) = c {
                got.extend_from_slice(x)
            }
        });
        assert_eq!(got, b"abcde");
        assert_eq!(stats.depth_reached, 1);
        d.segment(100, b"zz", &cfg, &mut stats, &mut |_| {});
        d.segment(200, b"zz", &cfg, &mut stats, &mut |_| {});
        d.segment(300, b"zzzzz", &cfg, &mut stats, &mut |_| {});
        assert_eq!(stats.queued, 1);
        assert_eq!(stats.queue_full_drops, 2);
        assert!(d.queued_bytes() <= 4);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut d = StreamDir::default();
        d.init(u32::MAX - 2);
        let (data, gaps) = collect(&mut d, &[(u32::MAX - 1, b"ab"), (0, b"cd")], &[]);
        assert_eq!(data, b"abcd");
        assert!(gaps.is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, .. Default::default() })]

        /// Any cut into segments, in any order, with duplicates, delivers the original bytes once.
        #[test]
        fn any_order_and_duplication_delivers_the_original(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..2000),
            cuts in proptest::collection::vec(0usize..2000, 0..40),
            order in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..80),
            isn in proptest::prelude::any::<u32>(),
        ) {
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c % data.len()).collect();
            points.push(0);
            points.push(data.len());
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(u32, &[u8])> = points
                .windows(2)
                .map(|w| (isn.wrapping_add(1).wrapping_add(w[0] as u32), &data[w[0]..w[1]]))
                .collect();
            // Shuffle deterministically from `order`, and repeat a few segments.
            for (i, o) in order.iter().enumerate() {
                let n = segs.len();
                segs.swap(i % n, (*o as usize) % n);
                if o % 7 == 0 {
                    let dup = segs[(*o as usize) % n];
                    segs.push(dup);
                }
            }
            let cfg = StreamConfig {
                depth: 0,
                max_queued_bytes: 1 << 20,
                max_queued_segments: 1024,
                inline: false,
            };
            let mut stats = StreamStats::default();
            let mut d = StreamDir::default();
            d.init(isn);
            let mut got = Vec::new();
            let mut gaps = 0u32;
            for (seq, p) in &segs {
                d.segment(*seq, p, &cfg, &mut stats, &mut |c| match c {
                    Chunk::Data(x) => got.extend_from_slice(x),
                    Chunk::Gap(g) => gaps += g,
                });
            }
            d.flush(&cfg, &mut stats, &mut |c| match c {
                Chunk::Data(x) => got.extend_from_slice(x),
                Chunk::Gap(g) => gaps += g,
            });
            proptest::prop_assert_eq!(gaps, 0);
            proptest::prop_assert_eq!(got, data);
        }
    }
}
