//! TLS/SSL parser (Suricata 7 semantics): a streaming record layer per direction, handshake
//! reassembly, ClientHello/ServerHello/Certificate decoding, JA3/JA3S/JA4 fingerprints and the
//! `tls` EVE record.
//!
//! One transaction per flow, as Suricata: it is handed over once, when the handshake is done
//! (the server certificate decoded, or encrypted application data seen) or when the flow ends,
//! and only when Suricata 7 would log it (a certificate was seen, the session was resumed, or
//! the server negotiated TLS 1.3 where the certificate is encrypted).
//!
//! Owns: TLS protocol state of one flow. Must not: panic on input, buffer a record or handshake
//! message beyond [`Limits`], or keep application data.

mod cert;
mod eve;
mod fingerprint;
mod handshake;
mod record;
#[cfg(test)]
mod tests;

use crate::{AppEvents, Probe};
use vedette_eve::JsonWriter;
use vedette_types::Direction;

pub use cert::CertInfo;
pub use handshake::{ClientHello, ServerHello};

/// Largest record body TLS allows on the wire: 2^14 plaintext plus 2048 bytes of expansion
/// (RFC 5246 6.2.3).
pub const DEFAULT_MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Largest handshake message (other than Certificate) reassembled.
pub const DEFAULT_MAX_HANDSHAKE_LEN: usize = 64 * 1024;
/// Largest Certificate handshake message (the whole chain) reassembled.
pub const DEFAULT_MAX_CERTIFICATE_MSG_LEN: usize = 256 * 1024;
/// Most certificates kept from one chain.
pub const DEFAULT_MAX_CERTS: usize = 16;
/// Most extensions decoded from one hello.
pub const DEFAULT_MAX_EXTENSIONS: usize = 128;

/// Limits of the tls parser. Every list decoded from a handshake message (cipher suites,
/// groups, ALPN names, subject alternative names ...) is bounded by the message size limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest record body accepted ([`DEFAULT_MAX_RECORD_LEN`]). Records are streamed, never
    /// buffered whole; a longer record raises `INVALID_RECORD_LENGTH` and stops inspection of
    /// that direction.
    pub max_record_len: usize,
    /// Largest handshake message reassembled across records ([`DEFAULT_MAX_HANDSHAKE_LEN`]);
    /// a longer one raises `HANDSHAKE_INVALID_LENGTH` and is skipped.
    pub max_handshake_len: usize,
    /// Largest Certificate message ([`DEFAULT_MAX_CERTIFICATE_MSG_LEN`]); a longer one raises
    /// `CERTIFICATE_INVALID_LENGTH` and is skipped.
    pub max_certificate_msg_len: usize,
    /// Most certificates kept per chain ([`DEFAULT_MAX_CERTS`]); more raise
    /// `TOO_MANY_CERTIFICATES` and are dropped.
    pub max_certs: usize,
    /// Most extensions decoded per hello ([`DEFAULT_MAX_EXTENSIONS`]); more raise
    /// `TOO_MANY_EXTENSIONS` and are ignored.
    pub max_extensions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_len: DEFAULT_MAX_RECORD_LEN,
            max_handshake_len: DEFAULT_MAX_HANDSHAKE_LEN,
            max_certificate_msg_len: DEFAULT_MAX_CERTIFICATE_MSG_LEN,
            max_certs: DEFAULT_MAX_CERTS,
            max_extensions: DEFAULT_MAX_EXTENSIONS,
        }
    }
}

/// App-layer event names (Suricata's `tls` decoder events, plus the vedette limit events
/// `TOO_MANY_CERTIFICATES` and `TOO_MANY_EXTENSIONS`).
pub mod events {
    /// Malformed SSLv2 record header.
    pub const INVALID_SSLV2_HEADER: &str = "INVALID_SSLV2_HEADER";
    /// Malformed TLS record header.
    pub const INVALID_TLS_HEADER: &str = "INVALID_TLS_HEADER";
    /// Record version is not a known SSL/TLS version.
    pub const INVALID_RECORD_VERSION: &str = "INVALID_RECORD_VERSION";
    /// Unknown record content type.
    pub const INVALID_RECORD_TYPE: &str = "INVALID_RECORD_TYPE";
    /// Record longer than allowed.
    pub const INVALID_RECORD_LENGTH: &str = "INVALID_RECORD_LENGTH";
    /// Unknown handshake message type.
    pub const INVALID_HANDSHAKE_MESSAGE: &str = "INVALID_HANDSHAKE_MESSAGE";
    /// A heartbeat record (reserved name: Suricata 7 never raises it, neither do we).
    pub const HEARTBEAT_MESSAGE: &str = "HEARTBEAT_MESSAGE";
    /// Malformed or unexpected heartbeat.
    pub const INVALID_HEARTBEAT_MESSAGE: &str = "INVALID_HEARTBEAT_MESSAGE";
    /// Heartbeat payload length beyond its record (CVE-2014-0160).
    pub const OVERFLOW_HEARTBEAT_MESSAGE: &str = "OVERFLOW_HEARTBEAT_MESSAGE";
    /// Encrypted heartbeat response longer than its request.
    pub const DATALEAK_HEARTBEAT_MISMATCH: &str = "DATALEAK_HEARTBEAT_MISMATCH";
    /// A handshake message or one of its fields is truncated or too long.
    pub const HANDSHAKE_INVALID_LENGTH: &str = "HANDSHAKE_INVALID_LENGTH";
    /// More than one SNI extension in a ClientHello.
    pub const MULTIPLE_SNI_EXTENSIONS: &str = "MULTIPLE_SNI_EXTENSIONS";
    /// SNI name type other than host_name.
    pub const INVALID_SNI_TYPE: &str = "INVALID_SNI_TYPE";
    /// SNI host name empty, longer than 255 bytes or truncated.
    pub const INVALID_SNI_LENGTH: &str = "INVALID_SNI_LENGTH";
    /// Reserved name: records are at least 6 bytes, so the per-call record count is bounded by
    /// the input and Suricata's check cannot trigger here.
    pub const TOO_MANY_RECORDS_IN_PACKET: &str = "TOO_MANY_RECORDS_IN_PACKET";
    /// Malformed certificate list.
    pub const INVALID_CERTIFICATE: &str = "INVALID_CERTIFICATE";
    /// Certificate truncated, or Certificate message beyond its limit.
    pub const CERTIFICATE_INVALID_LENGTH: &str = "CERTIFICATE_INVALID_LENGTH";
    /// X.509 version invalid.
    pub const CERTIFICATE_INVALID_VERSION: &str = "CERTIFICATE_INVALID_VERSION";
    /// X.509 serial invalid.
    pub const CERTIFICATE_INVALID_SERIAL: &str = "CERTIFICATE_INVALID_SERIAL";
    /// X.509 algorithm identifier invalid.
    pub const CERTIFICATE_INVALID_ALGORITHMIDENTIFIER: &str =
        "CERTIFICATE_INVALID_ALGORITHMIDENTIFIER";
    /// X.509 name invalid.
    pub const CERTIFICATE_INVALID_X509NAME: &str = "CERTIFICATE_INVALID_X509NAME";
    /// X.509 date invalid.
    pub const CERTIFICATE_INVALID_DATE: &str = "CERTIFICATE_INVALID_DATE";
    /// X.509 extensions invalid.
    pub const CERTIFICATE_INVALID_EXTENSIONS: &str = "CERTIFICATE_INVALID_EXTENSIONS";
    /// Certificate is not valid DER.
    pub const CERTIFICATE_INVALID_DER: &str = "CERTIFICATE_INVALID_DER";
    /// SSLv2 ERROR message.
    pub const ERROR_MESSAGE_ENCOUNTERED: &str = "ERROR_MESSAGE_ENCOUNTERED";
    /// Generic malformed record.
    pub const INVALID_SSL_RECORD: &str = "INVALID_SSL_RECORD";
    /// vedette: more certificates than [`super::Limits::max_certs`].
    pub const TOO_MANY_CERTIFICATES: &str = "TOO_MANY_CERTIFICATES";
    /// vedette: more extensions than [`super::Limits::max_extensions`].
    pub const TOO_MANY_EXTENSIONS: &str = "TOO_MANY_EXTENSIONS";

    /// Every event name this parser can raise or reserves.
    pub const ALL: &[&str] = &[
        INVALID_SSLV2_HEADER,
        INVALID_TLS_HEADER,
        INVALID_RECORD_VERSION,
        INVALID_RECORD_TYPE,
        INVALID_RECORD_LENGTH,
        INVALID_HANDSHAKE_MESSAGE,
        HEARTBEAT_MESSAGE,
        INVALID_HEARTBEAT_MESSAGE,
        OVERFLOW_HEARTBEAT_MESSAGE,
        DATALEAK_HEARTBEAT_MISMATCH,
        HANDSHAKE_INVALID_LENGTH,
        MULTIPLE_SNI_EXTENSIONS,
        INVALID_SNI_TYPE,
        INVALID_SNI_LENGTH,
        TOO_MANY_RECORDS_IN_PACKET,
        INVALID_CERTIFICATE,
        CERTIFICATE_INVALID_LENGTH,
        CERTIFICATE_INVALID_VERSION,
        CERTIFICATE_INVALID_SERIAL,
        CERTIFICATE_INVALID_ALGORITHMIDENTIFIER,
        CERTIFICATE_INVALID_X509NAME,
        CERTIFICATE_INVALID_DATE,
        CERTIFICATE_INVALID_EXTENSIONS,
        CERTIFICATE_INVALID_DER,
        ERROR_MESSAGE_ENCOUNTERED,
        INVALID_SSL_RECORD,
        TOO_MANY_CERTIFICATES,
        TOO_MANY_EXTENSIONS,
    ];
}

/// Protocol versions as Suricata numbers them (SSLv2 is 0x0200 internally).
pub mod version {
    /// Nothing seen yet: logged as "UNDETERMINED".
    pub const UNKNOWN: u16 = 0x0000;
    /// SSL 2.0.
    pub const SSL2: u16 = 0x0200;
    /// SSL 3.0.
    pub const SSL3: u16 = 0x0300;
    /// TLS 1.0.
    pub const TLS10: u16 = 0x0301;
    /// TLS 1.1.
    pub const TLS11: u16 = 0x0302;
    /// TLS 1.2.
    pub const TLS12: u16 = 0x0303;
    /// TLS 1.3.
    pub const TLS13: u16 = 0x0304;
    /// TLS 1.3 drafts before 16 (and 0x0304 in a hello's legacy version field).
    pub const TLS13_PRE_DRAFT16: u16 = 0x7f01;
}

/// How far a session's handshake got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// A ClientHello (TLS or SSLv2) was decoded.
    pub client_hello: bool,
    /// A ServerHello was decoded.
    pub server_hello: bool,
    /// The server's Certificate message was seen (TLS <= 1.2: it is encrypted in 1.3).
    pub certificate: bool,
    /// The handshake is done (Suricata's `HANDSHAKE_DONE`): the server certificate (or, when
    /// the server asked for one, the client certificate) decoded, or encrypted application
    /// data seen.
    pub handshake_done: bool,
}

/// Session flags shared by both directions.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    client_ccs: bool,
    server_ccs: bool,
    /// Session ticket offered or session id echoed by the server (Suricata's SESSION_RESUMED).
    session_resumed: bool,
    /// The server negotiated TLS 1.3 (or a draft): log even without a certificate.
    log_without_cert: bool,
    /// The ClientHello announced 0-RTT early data.
    early_data: bool,
    /// The ClientHello carried supported_versions.
    ch_version_ext: bool,
    /// The server sent a CertificateRequest.
    need_client_cert: bool,
}

/// One TLS session (Suricata keeps one transaction per flow).
#[derive(Debug, Default)]
pub struct Tx {
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    /// Suricata's `client_connp.version`.
    client_version: u16,
    /// Suricata's `server_connp.version`: the logged version.
    server_version: u16,
    server_cert: Option<CertInfo>,
    server_chain: Vec<Vec<u8>>,
    client_cert: Option<CertInfo>,
    client_chain: Vec<Vec<u8>>,
    ja3: Option<fingerprint::Ja3>,
    ja3s: Option<fingerprint::Ja3>,
    ja4: Option<String>,
    flags: Flags,
    progress: Progress,
    client_cert_seen: bool,
    app_records: [u64; 2],
    app_bytes: [u64; 2],
    last_alert: [Option<(u8, u8)>; 2],
}

impl Tx {
    /// Writes Suricata 7's default `tls` object (as shipped: `extended: yes`, JA3 off):
    /// subject, issuerdn, session_resumed, serial, fingerprint, sni, version, notbefore,
    /// notafter.
    pub fn write_eve(&self, w: &mut JsonWriter<'_>) {
        eve::write(self, w, false);
    }

    /// Writes the default fields plus the extended ones (Suricata 7 `extended: yes` with JA3 and
    /// JA4 enabled, plus Suricata 8's additions): subjectaltname, ja3, ja3s, ja4, client_alpns,
    /// server_alpns, client_handshake, server_handshake and the client certificate (`client`).
    pub fn write_eve_extended(&self, w: &mut JsonWriter<'_>) {
        eve::write(self, w, true);
    }

    /// `tls.sni`: the first SNI host name, up to its first NUL byte (Suricata keeps it as a
    /// C string).
    pub fn sni(&self) -> Option<&[u8]> {
        let sni = self.client_hello.as_ref()?.sni.as_deref()?;
        Some(match sni.iter().position(|&b| b == 0) {
            Some(n) => sni.get(..n).unwrap_or(sni),
            None => sni,
        })
    }

    /// The server's first certificate, decoded.
    pub fn server_cert(&self) -> Option<&CertInfo> {
        self.server_cert.as_ref()
    }

    /// The client's first certificate, decoded (mutual TLS).
    pub fn client_cert(&self) -> Option<&CertInfo> {
        self.client_cert.as_ref()
    }

    /// `tls.cert_subject`: subject of the server certificate, else of the client certificate.
    pub fn cert_subject(&self) -> Option<&str> {
        self.any_cert().map(|c| c.subject.as_str())
    }

    /// `tls.cert_issuer`: issuer DN of the server certificate, else of the client certificate.
    pub fn cert_issuer(&self) -> Option<&str> {
        self.any_cert().map(|c| c.issuer.as_str())
    }

    /// `tls.cert_serial`: `00:97:E6:...`.
    pub fn cert_serial(&self) -> Option<&str> {
        self.any_cert().map(|c| c.serial.as_str())
    }

    /// `tls.cert_fingerprint`: SHA-1 of the DER, `3a:0b:...`.
    pub fn cert_fingerprint(&self) -> Option<&str> {
        self.any_cert().map(|c| c.fingerprint.as_str())
    }

    /// `tls.subjectaltname`: DNS names of the server certificate.
    pub fn subject_alt_names(&self) -> &[String] {
        self.server_cert.as_ref().map_or(&[], |c| c.sans.as_slice())
    }

    /// `tls.certs`: the server chain's certificates (DER), leaf first.
    pub fn certs(&self) -> &[Vec<u8>] {
        &self.server_chain
    }

    /// The client chain's certificates (DER), leaf first.
    pub fn client_certs(&self) -> &[Vec<u8>] {
        &self.client_chain
    }

    /// `tls.cert_chain_len`: number of certificates in the server chain.
    pub fn cert_chain_len(&self) -> usize {
        self.server_chain.len()
    }

    /// `ja3.hash`.
    pub fn ja3_hash(&self) -> Option<&str> {
        self.ja3.as_ref().map(|j| j.hash.as_str())
    }

    /// `ja3.string`.
    pub fn ja3_string(&self) -> Option<&str> {
        self.ja3.as_ref().map(|j| j.string.as_str())
    }

    /// `ja3s.hash`.
    pub fn ja3s_hash(&self) -> Option<&str> {
        self.ja3s.as_ref().map(|j| j.hash.as_str())
    }

    /// `ja3s.string`.
    pub fn ja3s_string(&self) -> Option<&str> {
        self.ja3s.as_ref().map(|j| j.string.as_str())
    }

    /// `ja4.hash`: the JA4 fingerprint, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    pub fn ja4(&self) -> Option<&str> {
        self.ja4.as_deref()
    }

    /// The negotiated version as Suricata tracks it (record version, then the ServerHello's,
    /// then its supported_versions); [`version::UNKNOWN`] before any server record.
    pub fn version(&self) -> u16 {
        self.server_version
    }

    /// `tls.version` as logged: "TLS 1.2", "TLS 1.3", "TLSv1", "SSLv3", "TLS 1.3 draft-18",
    /// "UNDETERMINED", or `0x%04x` for unknown values.
    pub fn version_str(&self) -> std::borrow::Cow<'static, str> {
        eve::version_string(self.server_version)
    }

    /// The client's version as Suricata tracks it (ClientHello, then its first known
    /// supported_versions entry).
    pub fn client_version(&self) -> u16 {
        self.client_version
    }

    /// ALPN protocol names offered by the client.
    pub fn client_alpns(&self) -> &[Vec<u8>] {
        self.client_hello
            .as_ref()
            .map_or(&[], |h| h.alpn.as_slice())
    }

    /// ALPN protocol name(s) selected by the server.
    pub fn server_alpns(&self) -> &[Vec<u8>] {
        self.server_hello
            .as_ref()
            .map_or(&[], |h| h.alpn.as_slice())
    }

    /// The decoded ClientHello (the first one of the session).
    pub fn client_hello(&self) -> Option<&ClientHello> {
        self.client_hello.as_ref()
    }

    /// The decoded ServerHello (the last one: after a HelloRetryRequest, the real one).
    pub fn server_hello(&self) -> Option<&ServerHello> {
        self.server_hello.as_ref()
    }

    /// How far the handshake got.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// Suricata's SESSION_RESUMED flag: a session ticket was offered, or the server echoed
    /// the client's session id.
    pub fn session_resumed(&self) -> bool {
        self.flags.session_resumed
    }

    /// Encrypted application data records seen (to server, to client).
    pub fn app_data_records(&self) -> (u64, u64) {
        (self.app_records[0], self.app_records[1])
    }

    /// Encrypted application data bytes seen (to server, to client).
    pub fn app_data_bytes(&self) -> (u64, u64) {
        (self.app_bytes[0], self.app_bytes[1])
    }

    /// The last plaintext alert (level, description) sent in `dir`.
    pub fn last_alert(&self, dir: Direction) -> Option<(u8, u8)> {
        self.last_alert.get(dir.index()).copied().flatten()
    }

    /// Whether Suricata 7 writes a `tls` record for this session: a certificate was decoded,
    /// the session was resumed, or the server negotiated TLS 1.3 (certificate encrypted).
    pub fn is_loggable(&self) -> bool {
        self.server_cert.is_some() || self.flags.session_resumed || self.flags.log_without_cert
    }

    fn any_cert(&self) -> Option<&CertInfo> {
        self.server_cert.as_ref().or(self.client_cert.as_ref())
    }
}

/// Per-flow tls state.
#[derive(Debug, Default)]
pub struct State {
    limits: Limits,
    conns: [record::Conn; 2],
    hb: record::Heartbeat,
    tx: Tx,
    drained: bool,
}

impl State {
    /// A fresh state.
    pub fn new(limits: &Limits) -> Self {
        State {
            limits: *limits,
            ..State::default()
        }
    }

    /// Takes the next in-order bytes of one direction.
    pub fn parse(&mut self, dir: Direction, data: &[u8], events: &mut AppEvents) {
        let i = dir.index();
        if let Some(conn) = self.conns.get_mut(i) {
            let mut ctx = record::Ctx {
                dir,
                limits: &self.limits,
                tx: &mut self.tx,
                hb: &mut self.hb,
                events,
            };
            conn.parse(data, &mut ctx);
        }
        self.update_done();
    }

    /// Notes `len` missing bytes: the record layer cannot resynchronise, so that direction is
    /// no longer inspected (Suricata's TLS parser does not accept gaps either).
    pub fn gap(&mut self, dir: Direction, len: u64, _events: &mut AppEvents) {
        if len == 0 {
            return;
        }
        if let Some(conn) = self.conns.get_mut(dir.index()) {
            conn.stop();
        }
    }

    /// Decides once, when the handshake is done or at flow end, whether the session is logged:
    /// it is handed over to `f` if Suricata would log it at that point ([`Tx::is_loggable`]),
    /// else dropped. Like Suricata's transaction logger, the decision is never revisited.
    pub fn drain(&mut self, at_end: bool, f: &mut dyn FnMut(&Tx)) {
        if self.drained {
            return;
        }
        if !(self.tx.progress.handshake_done || at_end) {
            return;
        }
        self.drained = true;
        if self.tx.is_loggable() {
            f(&self.tx);
        }
    }

    /// The session so far, for inspection before it is handed over.
    pub fn tx(&self) -> &Tx {
        &self.tx
    }

    /// Whether [`State::drain`] made its decision (handed the session over, or dropped it).
    pub fn drained(&self) -> bool {
        self.drained
    }

    /// Whether `dir` is no longer inspected (malformed input or a gap).
    pub fn stopped(&self, dir: Direction) -> bool {
        self.conns.get(dir.index()).is_none_or(|c| c.is_stopped())
    }

    /// Suricata marks the handshake done after each parse call once the relevant certificate
    /// decoded (the client's when the server asked for one).
    fn update_done(&mut self) {
        let tx = &mut self.tx;
        if tx.progress.handshake_done {
            return;
        }
        let done = if tx.flags.need_client_cert {
            tx.client_cert.is_some()
        } else {
            tx.server_cert.is_some()
        };
        if done {
            tx.progress.handshake_done = true;
        }
    }
}

/// Probes the first bytes of a direction: a handshake record with a TLS version carrying a
/// ClientHello (to server) or ServerHello (to client), or an SSLv2 ClientHello.
pub fn probe(data: &[u8], dir: Direction) -> Probe {
    let Some(&b0) = data.first() else {
        return Probe::NeedMore;
    };
    if b0 == record::CT_HANDSHAKE {
        // The hello that would travel the other way rules the flow out.
        let other_hs = match dir {
            Direction::ToServer => handshake::HS_SERVER_HELLO,
            Direction::ToClient => handshake::HS_CLIENT_HELLO,
        };
        // 16 03 0x LL LL tt
        if let Some(&major) = data.get(1) {
            if major != 3 {
                return Probe::No;
            }
        }
        if let Some(&minor) = data.get(2) {
            if minor > 4 {
                return Probe::No;
            }
        }
        // Like Suricata's pattern-based detection, the handshake record header `16 03 0x` is
        // enough: odd records (zero length, unexpected message) are the parser's to flag.
        if data.len() < 3 {
            return Probe::NeedMore;
        }
        if data.get(5) == Some(&other_hs) {
            return Probe::No;
        }
        return Probe::Yes;
    }
    if dir == Direction::ToServer && b0 & 0x80 != 0 {
        // SSLv2 (2-byte header): len, msg_type = 1 (CLIENT-HELLO), version.
        let (Some(&b1), Some(&mt), Some(&v0), Some(&v1)) =
            (data.get(1), data.get(2), data.get(3), data.get(4))
        else {
            if data.get(2).is_some_and(|&mt| mt != 1) {
                return Probe::No;
            }
            return Probe::NeedMore;
        };
        let len = (usize::from(b0 & 0x7f) << 8) | usize::from(b1);
        let v = u16::from_be_bytes([v0, v1]);
        let known = v == 0x0002 || (version::SSL3..=version::TLS13).contains(&v);
        if mt == 1 && known && len >= 9 {
            return Probe::Yes;
        }
        return Probe::No;
    }
    Probe::No
}
