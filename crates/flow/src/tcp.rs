//! TCP session state per flow: handshake, established, FIN/RST closing (Suricata's state names).

use vedette_decode::tcp_flags::{ACK, FIN, RST, SYN};
use vedette_types::Direction;

/// Session state, named as in Suricata's EVE `tcp.state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    /// Client sent SYN.
    SynSent,
    /// Server answered SYN/ACK.
    SynRecv,
    /// Handshake complete (or picked up mid-stream).
    Established,
    /// Client sent FIN first.
    FinWait1,
    /// Server acknowledged the client's FIN.
    FinWait2,
    /// Both FINs seen, waiting for the last ACK (client closed first).
    TimeWait,
    /// Server sent FIN first.
    CloseWait,
    /// Both sides sent FIN before acknowledging each other.
    Closing,
    /// Server closed first and the client's FIN awaits its ACK.
    LastAck,
    /// Closed by RST or by the final ACK.
    Closed,
}

impl TcpState {
    /// EVE name.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::Established => "established",
            TcpState::FinWait1 => "fin_wait1",
            TcpState::FinWait2 => "fin_wait2",
            TcpState::TimeWait => "time_wait",
            TcpState::CloseWait => "close_wait",
            TcpState::Closing => "closing",
            TcpState::LastAck => "last_ack",
            TcpState::Closed => "closed",
        }
    }

    /// True before the handshake completed.
    pub fn is_new(self) -> bool {
        matches!(self, TcpState::SynSent | TcpState::SynRecv)
    }

    /// True once the session is over (RST or full close).
    pub fn is_closed(self) -> bool {
        matches!(self, TcpState::Closed | TcpState::TimeWait)
    }
}

/// Tracking of one TCP session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSession {
    /// Current state.
    pub state: TcpState,
    /// Sequence number just past the client's FIN, once sent.
    fin_next_ts: Option<u32>,
    /// Sequence number just past the server's FIN, once sent.
    fin_next_tc: Option<u32>,
    /// First sequence number seen per direction (client, server): the ISN of a SYN.
    isn: [Option<u32>; 2],
    /// Highest sequence number reached per direction (SYN and FIN count one each).
    next_seq: [u32; 2],
}

/// A TCP segment's facts the state machine needs.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    /// Flag byte.
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Payload length.
    pub payload_len: u32,
}

impl Segment {
    fn has(&self, f: u8) -> bool {
        self.flags & f == f
    }
    fn fin_next(&self) -> u32 {
        self.seq.wrapping_add(self.payload_len).wrapping_add(1)
    }
}

/// How a new flow's first segment starts a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// No session (e.g. mid-stream packet with midstream pick-up disabled).
    None,
    /// A session, and whether the flow's direction must be swapped (first packet was a SYN/ACK).
    Session(TcpSession, bool),
}

impl TcpSession {
    /// Decides whether the first segment of a flow starts a session.
    pub fn start(seg: &Segment, midstream: bool) -> Start {
        let session = |state| TcpSession {
            state,
            fin_next_ts: None,
            fin_next_tc: None,
            isn: [None; 2],
            next_seq: [0; 2],
        };
        if seg.has(RST) {
            return Start::None;
        }
        if seg.has(SYN) && !seg.has(ACK) {
            return Start::Session(session(TcpState::SynSent), false);
        }
        if !midstream {
            return Start::None;
        }
        if seg.has(SYN | ACK) {
            // Picked up at the server's answer: the sender is the server.
            return Start::Session(session(TcpState::SynRecv), true);
        }
        Start::Session(session(TcpState::Established), false)
    }

    /// Records how far a segment travelling in `dir` takes that direction's sequence space
    /// (for `stream_size`); called for every segment, the flow's first included.
    pub fn note_seq(&mut self, dir: Direction, seg: &Segment) {
        let i = dir.index();
        let (Some(isn), Some(next)) = (self.isn.get_mut(i), self.next_seq.get_mut(i)) else {
            return;
        };
        if isn.is_none() {
            *isn = Some(seg.seq);
            *next = seg.seq;
        }
        let end = seg
            .seq
            .wrapping_add(seg.payload_len)
            .wrapping_add(u32::from(seg.has(SYN)))
            .wrapping_add(u32::from(seg.has(FIN)));
        if (end.wrapping_sub(*next) as i32) > 0 {
            *next = end;
        }
    }

    /// Bytes of sequence space used so far by direction `dir` (Suricata's `stream_size`:
    /// next sequence number minus the ISN, so a SYN counts one).
    pub fn stream_size(&self, dir: Direction) -> u32 {
        let i = dir.index();
        match (self.isn.get(i), self.next_seq.get(i)) {
            (Some(Some(isn)), Some(next)) => next.wrapping_sub(*isn),
            _ => 0,
        }
    }

    /// Advances the state with a segment travelling in `dir`.
    pub fn update(&mut self, dir: Direction, seg: &Segment) {
        use TcpState::*;
        let to_server = dir == Direction::ToServer;
        if seg.has(RST) {
            self.state = Closed;
            return;
        }
        if seg.has(FIN) {
            if to_server {
                self.fin_next_ts.get_or_insert(seg.fin_next());
            } else {
                self.fin_next_tc.get_or_insert(seg.fin_next());
            }
        }
        // Whether this segment acknowledges the other side's FIN.
        let acks_peer_fin = seg.has(ACK)
            && match dir {
                Direction::ToServer => self.fin_next_tc == Some(seg.ack),
                Direction::ToClient => self.fin_next_ts == Some(seg.ack),
            };
        self.state = match (self.state, to_server) {
            (SynSent, false) if seg.has(SYN | ACK) => SynRecv,
            (SynSent, false) if seg.has(SYN) => SynRecv,
            (SynRecv, true) if seg.has(ACK) && !seg.has(SYN) => {
                if seg.has(FIN) {
                    FinWait1
                } else {
                    Established
                }
            }
            (Established, true) if seg.has(FIN) => FinWait1,
            (Established, false) if seg.has(FIN) => CloseWait,
            (FinWait1, false) if seg.has(FIN) => {
                if acks_peer_fin {
                    TimeWait
                } else {
                    Closing
                }
            }
            (FinWait1, false) if acks_peer_fin => FinWait2,
            (FinWait2, false) if seg.has(FIN) => TimeWait,
            (CloseWait, true) if seg.has(FIN) => LastAck,
            (LastAck, false) if acks_peer_fin => Closed,
            (Closing, _) if acks_peer_fin => TimeWait,
            (TimeWait, true) if acks_peer_fin => Closed,
            (s, _) => s,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_decode::tcp_flags::PSH;
    use Direction::*;

    fn seg(flags: u8, seq: u32, ack: u32, len: u32) -> Segment {
        Segment {
            flags,
            seq,
            ack,
            payload_len: len,
        }
    }

    #[test]
    fn stream_size_counts_sequence_space_per_direction() {
        let Start::Session(mut s, false) = TcpSession::start(&seg(SYN, 100, 0, 0), false) else {
            panic!("no session")
        };
        s.note_seq(ToServer, &seg(SYN, 100, 0, 0));
        s.note_seq(ToClient, &seg(SYN | ACK, 500, 101, 0));
        s.note_seq(ToServer, &seg(ACK | PSH, 101, 501, 10));
        // A retransmission does not count twice.
        s.note_seq(ToServer, &seg(ACK | PSH, 101, 501, 10));
        assert_eq!(s.stream_size(ToServer), 11);
        assert_eq!(s.stream_size(ToClient), 1);
        s.note_seq(ToClient, &seg(ACK | FIN, 501, 111, 4));
        assert_eq!(s.stream_size(ToClient), 6);
    }

    #[test]
    fn full_handshake_and_client_close() {
        let Start::Session(mut s, false) = TcpSession::start(&seg(SYN, 100, 0, 0), false) else {
            panic!("no session")
        };
        assert_eq!(s.state, TcpState::SynSent);
        s.update(ToClient, &seg(SYN | ACK, 500, 101, 0));
        assert_eq!(s.state, TcpState::SynRecv);
        s.update(ToServer, &seg(ACK, 101, 501, 0));
        assert_eq!(s.state, TcpState::Established);
        s.update(ToServer, &seg(PSH | ACK, 101, 501, 10));
        s.update(ToServer, &seg(FIN | ACK, 111, 501, 0));
        assert_eq!(s.state, TcpState::FinWait1);
        s.update(ToClient, &seg(FIN | ACK, 501, 112, 0));
        assert_eq!(s.state, TcpState::TimeWait);
        s.update(ToServer, &seg(ACK, 112, 502, 0));
        assert_eq!(s.state, TcpState::Closed);
    }

    #[test]
    fn server_close_and_reset() {
        let Start::Session(mut s, _) = TcpSession::start(&seg(ACK, 1, 1, 5), true) else {
            panic!("midstream must pick up")
        };
        assert_eq!(s.state, TcpState::Established);
        s.update(ToClient, &seg(FIN | ACK, 1, 1, 0));
        assert_eq!(s.state, TcpState::CloseWait);
        s.update(ToServer, &seg(FIN | ACK, 1, 2, 0));
        assert_eq!(s.state, TcpState::LastAck);
        s.update(ToClient, &seg(ACK, 2, 2, 0));
        assert_eq!(s.state, TcpState::Closed);
        assert_eq!(TcpSession::start(&seg(ACK, 1, 1, 5), false), Start::None);
        let Start::Session(mut s, swap) = TcpSession::start(&seg(SYN | ACK, 1, 1, 0), true) else {
            panic!()
        };
        assert!(swap);
        s.update(ToServer, &seg(RST, 1, 0, 0));
        assert_eq!(s.state, TcpState::Closed);
    }
}
