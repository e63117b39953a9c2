//! The record layer of one direction: a streaming state machine over in-order bytes in
//! arbitrary pieces (TLS records and SSLv2 records), and the reassembly of handshake messages
//! that span records. Record bodies are never buffered; only handshake messages are, up to
//! their limits.

use super::events as ev;
use super::handshake::{self, version_valid};
use super::{version, Limits, Tx};
use crate::AppEvents;
use vedette_types::Direction;

pub(super) const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub(super) const CT_ALERT: u8 = 21;
pub(super) const CT_HANDSHAKE: u8 = 22;
pub(super) const CT_APPLICATION_DATA: u8 = 23;
pub(super) const CT_HEARTBEAT: u8 = 24;

const SSLV2_MT_ERROR: u8 = 0;
const SSLV2_MT_CLIENT_HELLO: u8 = 1;
const SSLV2_MT_SERVER_HELLO: u8 = 4;

/// Heartbeat message types (RFC 6520).
const HB_REQUEST: u8 = 1;
const HB_RESPONSE: u8 = 2;

/// Handshake buffers above this capacity are released once their message is handled.
const KEEP_HS_CAPACITY: usize = 16 * 1024;

/// What a parse call works on: the direction, the session, the events sink.
pub(super) struct Ctx<'a> {
    pub(super) dir: Direction,
    pub(super) limits: &'a Limits,
    pub(super) tx: &'a mut Tx,
    pub(super) hb: &'a mut Heartbeat,
    pub(super) events: &'a mut AppEvents,
}

impl Ctx<'_> {
    fn event(&mut self, name: &'static str) {
        self.events.push(self.dir, name);
    }

    fn ccs_any(&self) -> bool {
        self.tx.flags.client_ccs || self.tx.flags.server_ccs
    }

    /// Suricata's per-direction version: set from each record header until that side's hello
    /// set it.
    fn note_record_version(&mut self, v: u16) {
        let tx = &mut *self.tx;
        let (hello, cur) = match self.dir {
            Direction::ToServer => (tx.progress.client_hello, &mut tx.client_version),
            Direction::ToClient => (tx.progress.server_hello, &mut tx.server_version),
        };
        if !(hello && *cur != version::UNKNOWN) {
            *cur = v;
        }
    }
}

/// Heartbeat tracking shared by both directions (Suricata's HB_INFLIGHT logic).
#[derive(Debug, Default)]
pub(super) struct Heartbeat {
    inflight: bool,
    from_client: bool,
    from_server: bool,
    record_len: usize,
}

#[derive(Debug, Default)]
enum Rec {
    /// Before the first byte of a record.
    #[default]
    Start,
    /// Collecting a 5-byte TLS record header.
    TlsHeader { buf: [u8; 5], have: usize },
    /// Inside a TLS record body.
    TlsBody {
        ctype: u8,
        len: usize,
        remaining: usize,
        /// Handshake bytes are fed to the reassembler (not encrypted).
        feed: bool,
        head: [u8; 3],
        head_have: usize,
    },
    /// Collecting a 2- or 3-byte SSLv2 record header.
    V2Header {
        buf: [u8; 3],
        have: usize,
        need: usize,
    },
    /// Inside an SSLv2 record body.
    V2Body {
        len: usize,
        remaining: usize,
        head: [u8; 9],
        head_have: usize,
    },
    /// Inspection of this direction stopped.
    Stopped,
}

/// Reassembly of handshake messages of one direction.
#[derive(Debug, Default)]
struct HsBuf {
    /// A partial message: 4-byte header then body.
    buf: Vec<u8>,
    /// Bytes of a skipped (unsupported or oversized) message still to discard.
    skip: usize,
}

/// One direction of a TLS connection.
#[derive(Debug, Default)]
pub(super) struct Conn {
    rec: Rec,
    hs: HsBuf,
}

impl Conn {
    pub(super) fn stop(&mut self) {
        self.rec = Rec::Stopped;
        self.hs = HsBuf::default();
    }

    pub(super) fn is_stopped(&self) -> bool {
        matches!(self.rec, Rec::Stopped)
    }

    fn fail(&mut self, ctx: &mut Ctx<'_>, event: &'static str) {
        ctx.event(event);
        self.stop();
    }

    pub(super) fn parse(&mut self, data: &[u8], ctx: &mut Ctx<'_>) {
        let mut rest = data;
        while !rest.is_empty() {
            let rec = std::mem::take(&mut self.rec);
            self.rec = match rec {
                Rec::Stopped => Rec::Stopped,
                Rec::Start => match rest.first() {
                    // SSLv2 records have one of the two top bits set; TLS content types don't.
                    Some(&b0) if b0 & 0x80 != 0 => Rec::V2Header {
                        buf: [0; 3],
                        have: 0,
                        need: 2,
                    },
                    Some(&b0) if b0 & 0x40 != 0 => Rec::V2Header {
                        buf: [0; 3],
                        have: 0,
                        need: 3,
                    },
                    _ => Rec::TlsHeader {
                        buf: [0; 5],
                        have: 0,
                    },
                },
                Rec::TlsHeader { mut buf, mut have } => {
                    let n = fill(&mut buf, &mut have, rest);
                    rest = rest.get(n..).unwrap_or(&[]);
                    if have < buf.len() {
                        Rec::TlsHeader { buf, have }
                    } else {
                        self.tls_header(buf, ctx)
                    }
                }
                Rec::TlsBody {
                    ctype,
                    len,
                    remaining,
                    feed,
                    mut head,
                    mut head_have,
                } => {
                    let n = remaining.min(rest.len());
                    let (chunk, tail) = rest.split_at(n);
                    rest = tail;
                    if head_have < head.len() {
                        fill(&mut head, &mut head_have, chunk);
                    }
                    match ctype {
                        CT_HANDSHAKE if feed => self.hs_feed(chunk, ctx),
                        CT_APPLICATION_DATA => {
                            let i = ctx.dir.index();
                            if let Some(b) = ctx.tx.app_bytes.get_mut(i) {
                                *b = b.saturating_add(n as u64);
                            }
                        }
                        _ => {}
                    }
                    if self.is_stopped() {
                        Rec::Stopped
                    } else if remaining > n {
                        Rec::TlsBody {
                            ctype,
                            len,
                            remaining: remaining - n,
                            feed,
                            head,
                            head_have,
                        }
                    } else {
                        self.tls_record_end(ctype, len, head.get(..head_have).unwrap_or(&[]), ctx)
                    }
                }
                Rec::V2Header {
                    mut buf,
                    mut have,
                    need,
                } => {
                    let slot = buf.get_mut(..need).unwrap_or(&mut []);
                    let n = fill(slot, &mut have, rest);
                    rest = rest.get(n..).unwrap_or(&[]);
                    if have < need {
                        Rec::V2Header { buf, have, need }
                    } else {
                        self.v2_header(buf, need, ctx)
                    }
                }
                Rec::V2Body {
                    len,
                    remaining,
                    mut head,
                    mut head_have,
                } => {
                    let n = remaining.min(rest.len());
                    let (chunk, tail) = rest.split_at(n);
                    rest = tail;
                    if head_have < head.len() {
                        fill(&mut head, &mut head_have, chunk);
                    }
                    if remaining > n {
                        Rec::V2Body {
                            len,
                            remaining: remaining - n,
                            head,
                            head_have,
                        }
                    } else {
                        self.v2_record_end(len, head.get(..head_have).unwrap_or(&[]), ctx)
                    }
                }
            };
            if self.is_stopped() {
                return;
            }
        }
    }

    fn tls_header(&mut self, hdr: [u8; 5], ctx: &mut Ctx<'_>) -> Rec {
        let [ctype, v0, v1, l0, l1] = hdr;
        let ver = u16::from_be_bytes([v0, v1]);
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if !(CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(&ctype) {
            self.fail(ctx, ev::INVALID_RECORD_TYPE);
            return Rec::Stopped;
        }
        if !version_valid(ver) {
            self.fail(ctx, ev::INVALID_RECORD_VERSION);
            return Rec::Stopped;
        }
        if len > ctx.limits.max_record_len {
            self.fail(ctx, ev::INVALID_RECORD_LENGTH);
            return Rec::Stopped;
        }
        ctx.note_record_version(ver);
        if len == 0 {
            // Empty records are legal for some types and carry nothing.
            return Rec::Start;
        }
        let mut feed = false;
        if ctype == CT_HANDSHAKE {
            feed = !ctx.ccs_any() || ccs_middlebox_exception(ctx.tx);
            if !feed {
                // Encrypted handshake (Finished): nothing to reassemble.
                self.hs = HsBuf::default();
            }
        }
        Rec::TlsBody {
            ctype,
            len,
            remaining: len,
            feed,
            head: [0; 3],
            head_have: 0,
        }
    }

    fn tls_record_end(&mut self, ctype: u8, len: usize, head: &[u8], ctx: &mut Ctx<'_>) -> Rec {
        let i = ctx.dir.index();
        match ctype {
            CT_CHANGE_CIPHER_SPEC => match ctx.dir {
                Direction::ToServer => ctx.tx.flags.client_ccs = true,
                Direction::ToClient => ctx.tx.flags.server_ccs = true,
            },
            CT_ALERT => {
                let encrypted = match ctx.dir {
                    Direction::ToServer => ctx.tx.flags.client_ccs,
                    Direction::ToClient => ctx.tx.flags.server_ccs,
                };
                if let ([level, desc], false) = (head, encrypted) {
                    if let Some(slot) = ctx.tx.last_alert.get_mut(i) {
                        *slot = Some((*level, *desc));
                    }
                }
            }
            CT_APPLICATION_DATA => {
                if let Some(c) = ctx.tx.app_records.get_mut(i) {
                    *c = c.saturating_add(1);
                }
                // 0-RTT data before the ServerHello does not mean the handshake is done.
                let early = ctx.tx.flags.early_data && !ctx.tx.progress.server_hello;
                if !early {
                    ctx.tx.progress.handshake_done = true;
                }
            }
            CT_HEARTBEAT => {
                if let Err(e) = heartbeat(ctx, len, head) {
                    self.fail(ctx, e);
                    return Rec::Stopped;
                }
            }
            _ => {}
        }
        Rec::Start
    }

    fn v2_header(&mut self, buf: [u8; 3], need: usize, ctx: &mut Ctx<'_>) -> Rec {
        let [b0, b1, _padding] = buf;
        let len = if need == 2 {
            (usize::from(b0 & 0x7f) << 8) | usize::from(b1)
        } else {
            (usize::from(b0 & 0x3f) << 8) | usize::from(b1)
        };
        if len == 0 {
            self.fail(ctx, ev::INVALID_SSLV2_HEADER);
            return Rec::Stopped;
        }
        match ctx.dir {
            Direction::ToServer => ctx.tx.client_version = version::SSL2,
            Direction::ToClient => ctx.tx.server_version = version::SSL2,
        }
        Rec::V2Body {
            len,
            remaining: len,
            head: [0; 9],
            head_have: 0,
        }
    }

    /// SSLv2 is parsed minimally: the message type, and the version of a CLIENT-HELLO.
    fn v2_record_end(&mut self, len: usize, head: &[u8], ctx: &mut Ctx<'_>) -> Rec {
        match head.first().copied() {
            Some(SSLV2_MT_ERROR) => ctx.event(ev::ERROR_MESSAGE_ENCOUNTERED),
            Some(SSLV2_MT_CLIENT_HELLO) if ctx.dir == Direction::ToServer => {
                // msg_type, version, cipher_spec_length, session_id_length, challenge_length
                let (Some(&v0), Some(&v1), true) = (head.get(1), head.get(2), len >= 7) else {
                    self.fail(ctx, ev::INVALID_SSL_RECORD);
                    return Rec::Stopped;
                };
                ctx.tx.client_version = u16::from_be_bytes([v0, v1]);
                ctx.tx.progress.client_hello = true;
            }
            Some(SSLV2_MT_SERVER_HELLO) if ctx.dir == Direction::ToClient => {
                ctx.tx.progress.server_hello = true;
            }
            _ => {}
        }
        Rec::Start
    }

    /// Feeds handshake-record bytes: complete messages are handled straight from `data` when
    /// possible, partial ones are buffered up to their limit.
    fn hs_feed(&mut self, data: &[u8], ctx: &mut Ctx<'_>) {
        let mut rest = data;
        while !rest.is_empty() {
            if self.hs.skip > 0 {
                let n = self.hs.skip.min(rest.len());
                self.hs.skip -= n;
                rest = rest.get(n..).unwrap_or(&[]);
                continue;
            }
            if self.hs.buf.is_empty() {
                if let Some((t, len)) = msg_header(rest) {
                    if !self.hs_accept(t, len, ctx) {
                        self.hs.skip = len;
                        rest = rest.get(4..).unwrap_or(&[]);
                        continue;
                    }
                    if let Some(body) = rest.get(4..4 + len) {
                        handshake::on_message(ctx, t, body);
                        rest = rest.get(4 + len..).unwrap_or(&[]);
                        continue;
                    }
                }
            }
            // Buffer the header first, then the body.
            if self.hs.buf.len() < 4 {
                let n = (4 - self.hs.buf.len()).min(rest.len());
                self.hs.buf.extend_from_slice(rest.get(..n).unwrap_or(&[]));
                rest = rest.get(n..).unwrap_or(&[]);
                let Some((t, len)) = msg_header(&self.hs.buf) else {
                    continue;
                };
                if !self.hs_accept(t, len, ctx) {
                    self.hs.skip = len;
                    self.hs.buf.clear();
                    continue;
                }
            }
            let Some((t, len)) = msg_header(&self.hs.buf) else {
                continue;
            };
            let need = (4 + len).saturating_sub(self.hs.buf.len());
            let n = need.min(rest.len());
            self.hs.buf.extend_from_slice(rest.get(..n).unwrap_or(&[]));
            rest = rest.get(n..).unwrap_or(&[]);
            if self.hs.buf.len() >= 4 + len {
                let mut msg = std::mem::take(&mut self.hs.buf);
                handshake::on_message(ctx, t, msg.get(4..).unwrap_or(&[]));
                msg.clear();
                if msg.capacity() <= KEEP_HS_CAPACITY {
                    self.hs.buf = msg;
                }
            }
        }
    }

    /// Whether a handshake message is reassembled: known type and within its limit.
    fn hs_accept(&mut self, t: u8, len: usize, ctx: &mut Ctx<'_>) -> bool {
        if !handshake::supported_type(t) {
            ctx.event(ev::INVALID_HANDSHAKE_MESSAGE);
            return false;
        }
        let (limit, event) = if t == handshake::HS_CERTIFICATE {
            (
                ctx.limits.max_certificate_msg_len,
                ev::CERTIFICATE_INVALID_LENGTH,
            )
        } else {
            (ctx.limits.max_handshake_len, ev::HANDSHAKE_INVALID_LENGTH)
        };
        if len > limit {
            ctx.event(event);
            return false;
        }
        true
    }
}

/// Copies what fits of `src` into `dst[*have..]`; returns the bytes taken.
fn fill(dst: &mut [u8], have: &mut usize, src: &[u8]) -> usize {
    let room = dst.get_mut(*have..).unwrap_or(&mut []);
    let n = room.len().min(src.len());
    if let (Some(d), Some(s)) = (room.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
    *have += n;
    n
}

/// Type and length of a handshake message header, if 4 bytes are there.
fn msg_header(b: &[u8]) -> Option<(u8, usize)> {
    let [t, l0, l1, l2] = *b.get(..4)? else {
        return None;
    };
    Some((
        t,
        (usize::from(l0) << 16) | (usize::from(l1) << 8) | usize::from(l2),
    ))
}

/// TLS 1.3 middlebox compatibility (RFC 8446 D.4): a client may send ChangeCipherSpec before
/// the ServerHello; handshake records stay readable until then.
fn ccs_middlebox_exception(tx: &Tx) -> bool {
    tx.progress.client_hello && tx.client_version > version::TLS12 && !tx.progress.server_hello
}

/// Suricata's heartbeat checks (RFC 6520, CVE-2014-0160); `Err` names the event and stops
/// the direction.
fn heartbeat(ctx: &mut Ctx<'_>, len: usize, head: &[u8]) -> Result<(), &'static str> {
    let [hb_type, p0, p1] = *head else {
        return Ok(());
    };
    let ccs = ctx.ccs_any();
    if !ccs && hb_type != HB_REQUEST && hb_type != HB_RESPONSE {
        return Err(ev::INVALID_HEARTBEAT_MESSAGE);
    }
    let to_client = ctx.dir == Direction::ToClient;
    let hb = &mut *ctx.hb;
    if !hb.inflight {
        hb.inflight = true;
        if to_client {
            hb.from_server = true;
        } else {
            hb.from_client = true;
        }
        if ccs {
            // Encrypted request: remember its size to compare with the response.
            hb.record_len = len;
            return Ok(());
        }
        let payload_len = usize::from(u16::from_be_bytes([p0, p1]));
        if payload_len + 3 > len {
            return Err(ev::OVERFLOW_HEARTBEAT_MESSAGE);
        }
        if len - payload_len - 3 < 16 {
            return Err(ev::INVALID_HEARTBEAT_MESSAGE);
        }
    } else if (to_client && hb.from_server) || (!to_client && hb.from_client) {
        // Several heartbeats in flight from the same side.
        return Err(ev::INVALID_HEARTBEAT_MESSAGE);
    } else {
        hb.inflight = false;
        hb.from_server = false;
        hb.from_client = false;
        if ccs && hb.record_len > 0 && hb.record_len < len {
            hb.record_len = 0;
            return Err(ev::DATALEAK_HEARTBEAT_MISMATCH);
        }
        hb.record_len = 0;
    }
    Ok(())
}
