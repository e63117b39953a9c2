//! Handshake messages: ClientHello and ServerHello decoding (pure, bounds-checked), and the
//! dispatch of complete handshake messages to the session.

use super::events as ev;
use super::record::Ctx;
use super::{cert, fingerprint, version, Tx};
use vedette_types::Direction;

pub(super) const HS_HELLO_REQUEST: u8 = 0;
pub(super) const HS_CLIENT_HELLO: u8 = 1;
pub(super) const HS_SERVER_HELLO: u8 = 2;
pub(super) const HS_NEW_SESSION_TICKET: u8 = 4;
pub(super) const HS_CERTIFICATE: u8 = 11;
pub(super) const HS_SERVER_KEY_EXCHANGE: u8 = 12;
pub(super) const HS_CERTIFICATE_REQUEST: u8 = 13;
pub(super) const HS_SERVER_HELLO_DONE: u8 = 14;
pub(super) const HS_CERTIFICATE_VERIFY: u8 = 15;
pub(super) const HS_CLIENT_KEY_EXCHANGE: u8 = 16;
pub(super) const HS_FINISHED: u8 = 20;
pub(super) const HS_CERTIFICATE_URL: u8 = 21;
pub(super) const HS_CERTIFICATE_STATUS: u8 = 22;

pub(super) const EXT_SERVER_NAME: u16 = 0x0000;
pub(super) const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
pub(super) const EXT_EC_POINT_FORMATS: u16 = 0x000b;
pub(super) const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
pub(super) const EXT_ALPN: u16 = 0x0010;
pub(super) const EXT_SESSION_TICKET: u16 = 0x0023;
pub(super) const EXT_EARLY_DATA: u16 = 0x002a;
pub(super) const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
pub(super) const EXT_KEY_SHARE: u16 = 0x0033;

/// Handshake types Suricata accepts in clear; others raise `INVALID_HANDSHAKE_MESSAGE`.
pub(super) fn supported_type(t: u8) -> bool {
    matches!(
        t,
        HS_HELLO_REQUEST
            | HS_CLIENT_HELLO
            | HS_SERVER_HELLO
            | HS_NEW_SESSION_TICKET
            | HS_CERTIFICATE
            | HS_SERVER_KEY_EXCHANGE
            | HS_CERTIFICATE_REQUEST
            | HS_SERVER_HELLO_DONE
            | HS_CERTIFICATE_VERIFY
            | HS_CLIENT_KEY_EXCHANGE
            | HS_FINISHED
            | HS_CERTIFICATE_URL
            | HS_CERTIFICATE_STATUS
    )
}

/// Suricata's `TLSVersionValid`: SSLv3 to TLS 1.3 and the TLS 1.3 drafts it knows.
pub(super) fn version_valid(v: u16) -> bool {
    matches!(v, 0x0300..=0x0304 | 0x7f01 | 0x7f10..=0x7f1c | 0xfb14..=0xfb17 | 0xfb1a)
}

/// A bounds-checked cursor over untrusted bytes.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub(super) fn len(&self) -> usize {
        self.buf.len()
    }
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }
    pub(super) fn u8(&mut self) -> Option<u8> {
        let (&b, tail) = self.buf.split_first()?;
        self.buf = tail;
        Some(b)
    }
    pub(super) fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }
    pub(super) fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(
            (usize::from(*b.first()?) << 16)
                | (usize::from(*b.get(1)?) << 8)
                | usize::from(*b.get(2)?),
        )
    }
}

/// Reads big-endian 16-bit values; a trailing odd byte is ignored.
fn u16_list(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| {
            u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .collect()
}

/// A decoded ClientHello (values as on the wire, GREASE included).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// legacy_version.
    pub legacy_version: u16,
    /// Client random.
    pub random: [u8; 32],
    /// Legacy session id.
    pub session_id: Vec<u8>,
    /// Cipher suites, in order.
    pub cipher_suites: Vec<u16>,
    /// Compression methods.
    pub compression_methods: Vec<u8>,
    /// Extension types, in order (only those decoded before any malformed one).
    pub extensions: Vec<u16>,
    /// First SNI host name (server_name, type host_name).
    pub sni: Option<Vec<u8>>,
    /// ALPN protocol names, in order.
    pub alpn: Vec<Vec<u8>>,
    /// supported_groups (elliptic curves).
    pub supported_groups: Vec<u16>,
    /// ec_point_formats.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms, in order.
    pub signature_algorithms: Vec<u16>,
    /// supported_versions, in order.
    pub supported_versions: Vec<u16>,
    /// A key_share extension is present.
    pub key_share: bool,
    /// A session_ticket extension is present.
    pub session_ticket: bool,
    /// An early_data extension is present.
    pub early_data: bool,
    /// Decoded through the extensions (a malformed extension body only truncates the list);
    /// JA3 and JA4 are computed only for complete hellos, as Suricata does.
    pub complete: bool,
}

/// A decoded ServerHello (values as on the wire).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// legacy_version (or the draft version of early TLS 1.3 drafts).
    pub legacy_version: u16,
    /// Server random.
    pub random: [u8; 32],
    /// Legacy session id (absent in TLS 1.3 drafts before 22).
    pub session_id: Vec<u8>,
    /// Selected cipher suite.
    pub cipher_suite: u16,
    /// Selected compression method.
    pub compression_method: u8,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// supported_versions: the selected version (TLS 1.3).
    pub selected_version: Option<u16>,
    /// ALPN protocol selected.
    pub alpn: Vec<Vec<u8>>,
    /// A key_share extension is present.
    pub key_share: bool,
    /// Decoded through the extensions.
    pub complete: bool,
}

/// Whether a hello's version field uses the TLS 1.3 draft layout (no session id nor
/// compression in the ServerHello: drafts before 22, and 0x0304 as sent by drafts 1-15).
fn draft_layout(v: u16) -> bool {
    v == version::TLS13 || (v >> 8) == 0x7f
}

/// Suricata's mapping of a hello version: 0x0304 and early drafts become "draft-<16".
fn map_hello_version(v: u16) -> u16 {
    if (0x7f01..0x7f10).contains(&v) || v == version::TLS13 {
        version::TLS13_PRE_DRAFT16
    } else {
        v
    }
}

/// Soft errors stop decoding the extension list but keep what was decoded.
enum ExtStop {
    /// Extension framing broken: the hello is incomplete.
    Hard,
    /// An extension body is malformed: the list ends before it.
    Soft,
}

pub(super) fn parse_client_hello(
    body: &[u8],
    max_extensions: usize,
    event: &mut dyn FnMut(&'static str),
) -> ClientHello {
    let mut h = ClientHello::default();
    let mut r = Reader::new(body);
    let Some(v) = r.u16() else {
        event(ev::HANDSHAKE_INVALID_LENGTH);
        return h;
    };
    h.legacy_version = v;
    if fixed_client_fields(&mut r, &mut h).is_none() {
        event(ev::HANDSHAKE_INVALID_LENGTH);
        return h;
    }
    // Extensions are optional (RFC 5246 7.4.1.2).
    if r.len() < 2 {
        h.complete = true;
        return h;
    }
    match client_extensions(&mut r, &mut h, max_extensions, event) {
        Ok(()) | Err(ExtStop::Soft) => h.complete = true,
        Err(ExtStop::Hard) => event(ev::HANDSHAKE_INVALID_LENGTH),
    }
    h
}

fn fixed_client_fields(r: &mut Reader<'_>, h: &mut ClientHello) -> Option<()> {
    h.random.copy_from_slice(r.take(32)?);
    let n = usize::from(r.u8()?);
    h.session_id = r.take(n)?.to_vec();
    let n = usize::from(r.u16()?);
    if n % 2 != 0 {
        return None;
    }
    h.cipher_suites = u16_list(r.take(n)?);
    let n = usize::from(r.u8()?);
    h.compression_methods = r.take(n)?.to_vec();
    Some(())
}

fn client_extensions(
    r: &mut Reader<'_>,
    h: &mut ClientHello,
    max_extensions: usize,
    event: &mut dyn FnMut(&'static str),
) -> Result<(), ExtStop> {
    let total = usize::from(r.u16().ok_or(ExtStop::Hard)?);
    let mut exts = Reader::new(r.take(total).ok_or(ExtStop::Hard)?);
    while !exts.is_empty() {
        let t = exts.u16().ok_or(ExtStop::Hard)?;
        let n = usize::from(exts.u16().ok_or(ExtStop::Hard)?);
        let data = exts.take(n).ok_or(ExtStop::Hard)?;
        if h.extensions.len() >= max_extensions {
            event(ev::TOO_MANY_EXTENSIONS);
            return Err(ExtStop::Soft);
        }
        if client_extension(t, data, h, event).is_none() {
            return Err(ExtStop::Soft);
        }
        h.extensions.push(t);
    }
    Ok(())
}

/// Decodes one ClientHello extension body; `None` for a malformed one (event raised).
fn client_extension(
    t: u16,
    data: &[u8],
    h: &mut ClientHello,
    event: &mut dyn FnMut(&'static str),
) -> Option<()> {
    let mut r = Reader::new(data);
    let invalid = |event: &mut dyn FnMut(&'static str)| {
        event(ev::HANDSHAKE_INVALID_LENGTH);
        None
    };
    if data.is_empty() {
        // Empty extensions are accepted (session_ticket, early_data, SNI in a ServerHello).
        match t {
            EXT_SESSION_TICKET => h.session_ticket = true,
            EXT_EARLY_DATA => h.early_data = true,
            EXT_KEY_SHARE => h.key_share = true,
            _ => {}
        }
        return Some(());
    }
    match t {
        EXT_SERVER_NAME => {
            if r.u16().is_none() {
                return invalid(event);
            }
            let Some(name_type) = r.u8() else {
                return invalid(event);
            };
            if name_type != 0 {
                event(ev::INVALID_SNI_TYPE);
                return None;
            }
            let Some(n) = r.u16() else {
                return invalid(event);
            };
            let n = usize::from(n);
            if n == 0 || n > 255 || n > r.len() {
                event(ev::INVALID_SNI_LENGTH);
                return None;
            }
            let name = r.take(n)?;
            if h.sni.is_some() {
                event(ev::MULTIPLE_SNI_EXTENSIONS);
            } else {
                h.sni = Some(name.to_vec());
            }
        }
        EXT_SUPPORTED_GROUPS => {
            let Some(n) = r.u16() else {
                return invalid(event);
            };
            let Some(b) = r.take(usize::from(n)) else {
                return invalid(event);
            };
            h.supported_groups.extend(u16_list(b));
        }
        EXT_EC_POINT_FORMATS => {
            let Some(n) = r.u8() else {
                return invalid(event);
            };
            let Some(b) = r.take(usize::from(n)) else {
                return invalid(event);
            };
            h.ec_point_formats.extend_from_slice(b);
        }
        EXT_SIGNATURE_ALGORITHMS => {
            let Some(n) = r.u16() else {
                return invalid(event);
            };
            if n % 2 != 0 {
                return invalid(event);
            }
            let Some(b) = r.take(usize::from(n)) else {
                return invalid(event);
            };
            h.signature_algorithms.extend(u16_list(b));
        }
        EXT_ALPN => {
            let Some(list) = alpn_list(&mut r) else {
                return invalid(event);
            };
            h.alpn.extend(list);
        }
        EXT_SUPPORTED_VERSIONS => {
            let Some(n) = r.u8() else {
                return invalid(event);
            };
            if n < 2 {
                return invalid(event);
            }
            let Some(b) = r.take(usize::from(n)) else {
                return invalid(event);
            };
            h.supported_versions.extend(u16_list(b));
        }
        EXT_SESSION_TICKET => h.session_ticket = true,
        EXT_EARLY_DATA => h.early_data = true,
        EXT_KEY_SHARE => h.key_share = true,
        _ => {}
    }
    Some(())
}

/// An ALPN ProtocolNameList; a name running past the list ends it (as Suricata).
fn alpn_list(r: &mut Reader<'_>) -> Option<Vec<Vec<u8>>> {
    let n = usize::from(r.u16()?);
    let mut list = Reader::new(r.take(n)?);
    let mut out = Vec::new();
    while let Some(len) = list.u8() {
        let Some(name) = list.take(usize::from(len)) else {
            break;
        };
        if !name.is_empty() {
            out.push(name.to_vec());
        }
    }
    Some(out)
}

pub(super) fn parse_server_hello(
    body: &[u8],
    max_extensions: usize,
    event: &mut dyn FnMut(&'static str),
) -> ServerHello {
    let mut h = ServerHello::default();
    let mut r = Reader::new(body);
    let Some(v) = r.u16() else {
        event(ev::HANDSHAKE_INVALID_LENGTH);
        return h;
    };
    h.legacy_version = v;
    if fixed_server_fields(&mut r, &mut h, draft_layout(v)).is_none() {
        event(ev::HANDSHAKE_INVALID_LENGTH);
        return h;
    }
    if r.len() < 2 {
        h.complete = true;
        return h;
    }
    match server_extensions(&mut r, &mut h, max_extensions, event) {
        Ok(()) | Err(ExtStop::Soft) => h.complete = true,
        Err(ExtStop::Hard) => event(ev::HANDSHAKE_INVALID_LENGTH),
    }
    h
}

fn fixed_server_fields(r: &mut Reader<'_>, h: &mut ServerHello, draft: bool) -> Option<()> {
    h.random.copy_from_slice(r.take(32)?);
    if !draft {
        let n = usize::from(r.u8()?);
        h.session_id = r.take(n)?.to_vec();
    }
    h.cipher_suite = r.u16()?;
    if !draft {
        h.compression_method = r.u8()?;
    }
    Some(())
}

fn server_extensions(
    r: &mut Reader<'_>,
    h: &mut ServerHello,
    max_extensions: usize,
    event: &mut dyn FnMut(&'static str),
) -> Result<(), ExtStop> {
    let total = usize::from(r.u16().ok_or(ExtStop::Hard)?);
    let mut exts = Reader::new(r.take(total).ok_or(ExtStop::Hard)?);
    while !exts.is_empty() {
        let t = exts.u16().ok_or(ExtStop::Hard)?;
        let n = usize::from(exts.u16().ok_or(ExtStop::Hard)?);
        let data = exts.take(n).ok_or(ExtStop::Hard)?;
        if h.extensions.len() >= max_extensions {
            event(ev::TOO_MANY_EXTENSIONS);
            return Err(ExtStop::Soft);
        }
        let mut d = Reader::new(data);
        match t {
            EXT_SUPPORTED_VERSIONS if !data.is_empty() => match d.u16() {
                Some(v) => h.selected_version = Some(v),
                None => {
                    event(ev::HANDSHAKE_INVALID_LENGTH);
                    return Err(ExtStop::Soft);
                }
            },
            EXT_ALPN if !data.is_empty() => match alpn_list(&mut d) {
                Some(list) => h.alpn.extend(list),
                None => {
                    event(ev::HANDSHAKE_INVALID_LENGTH);
                    return Err(ExtStop::Soft);
                }
            },
            EXT_KEY_SHARE => h.key_share = true,
            _ => {}
        }
        h.extensions.push(t);
    }
    Ok(())
}

/// Handles one complete handshake message of `dir`.
pub(super) fn on_message(ctx: &mut Ctx<'_>, t: u8, body: &[u8]) {
    match (ctx.dir, t) {
        (Direction::ToServer, HS_CLIENT_HELLO) => on_client_hello(ctx, body),
        (Direction::ToClient, HS_SERVER_HELLO) => on_server_hello(ctx, body),
        (_, HS_CERTIFICATE) => cert::on_certificate(ctx, body),
        (Direction::ToClient, HS_CERTIFICATE_REQUEST) => ctx.tx.flags.need_client_cert = true,
        _ => {}
    }
}

fn on_client_hello(ctx: &mut Ctx<'_>, body: &[u8]) {
    // A second ClientHello (after a HelloRetryRequest) does not change what is logged.
    if ctx.tx.client_hello.is_some() {
        return;
    }
    let dir = ctx.dir;
    let events = &mut *ctx.events;
    let h = parse_client_hello(body, ctx.limits.max_extensions, &mut |e| {
        events.push(dir, e)
    });
    let tx: &mut Tx = ctx.tx;
    tx.progress.client_hello = true;
    tx.client_version = map_hello_version(h.legacy_version);
    if h.extensions.contains(&EXT_SUPPORTED_VERSIONS) {
        tx.flags.ch_version_ext = true;
        if let Some(&v) = h.supported_versions.iter().find(|&&v| version_valid(v)) {
            tx.client_version = v;
        }
    }
    if h.session_ticket {
        // Verified later by the absence of a certificate (Suricata's SESSION_RESUMED).
        tx.flags.session_resumed = true;
    }
    if h.early_data {
        tx.flags.early_data = true;
    }
    if h.complete {
        tx.ja3 = Some(fingerprint::ja3(&h));
        tx.ja4 = Some(fingerprint::ja4(&h));
    }
    tx.client_hello = Some(h);
}

fn on_server_hello(ctx: &mut Ctx<'_>, body: &[u8]) {
    let dir = ctx.dir;
    let events = &mut *ctx.events;
    let h = parse_server_hello(body, ctx.limits.max_extensions, &mut |e| {
        events.push(dir, e)
    });
    let tx: &mut Tx = ctx.tx;
    tx.progress.server_hello = true;
    if draft_layout(h.legacy_version) {
        tx.flags.log_without_cert = true;
    }
    tx.server_version = map_hello_version(h.legacy_version);
    if !h.session_id.is_empty() {
        let client_sid = tx.client_hello.as_ref().map(|c| c.session_id.as_slice());
        if client_sid == Some(h.session_id.as_slice()) {
            tx.flags.session_resumed = true;
        }
    }
    if let Some(v) = h.selected_version {
        if tx.flags.ch_version_ext && v > version::TLS12 {
            tx.flags.log_without_cert = true;
        }
        tx.server_version = v;
    }
    if h.complete && tx.ja3s.is_none() {
        tx.ja3s = Some(fingerprint::ja3s(&h));
    }
    tx.server_hello = Some(h);
}
