//! One HTTP transaction (a request and the response paired with it) and the inspection buffers
//! the signature engine reads from it.

use vedette_types::Direction;

use super::decompress::Decoder;
use super::parser::{Method, Protocol};
use super::LogOptions;

/// How far one side (request or response) of a transaction has been received. Ordered: a
/// later stage implies the earlier ones are done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Progress {
    /// Nothing parsed yet.
    #[default]
    NotStarted,
    /// The request line / status line has been parsed.
    Line,
    /// All headers have been parsed (a body may follow).
    Headers,
    /// The body is being received.
    Body,
    /// This side is complete (body and trailers included).
    Complete,
}

/// One header field as kept for inspection: duplicates are merged into the first one with
/// `", "` (as libhtp does), names keep their case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub(crate) name: Vec<u8>,
    pub(crate) value: Vec<u8>,
    pub(crate) repeats: u32,
}

impl Header {
    /// Name as on the wire (may be empty for a line without a colon).
    pub fn name(&self) -> &[u8] {
        &self.name
    }
    /// Value, trimmed, duplicates merged with `", "`.
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

/// Header table of one message.
#[derive(Clone, Debug, Default)]
pub(crate) struct Headers {
    pub list: Vec<Header>,
    /// Stored name + value bytes.
    pub bytes: usize,
}

impl Headers {
    pub fn find(&self, name: &[u8]) -> Option<&Header> {
        self.list.iter().find(|h| h.name.eq_ignore_ascii_case(name))
    }
    pub fn find_mut(&mut self, name: &[u8]) -> Option<&mut Header> {
        self.list
            .iter_mut()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.find(name).map(|h| h.value.as_slice())
    }
    fn heap_bytes(&self) -> usize {
        self.list.capacity() * std::mem::size_of::<Header>()
            + self
                .list
                .iter()
                .map(|h| h.name.capacity() + h.value.capacity())
                .sum::<usize>()
    }
}

/// A message body as kept for inspection.
#[derive(Debug, Default)]
pub(crate) struct Body {
    /// Dechunked and decompressed bytes, at most the configured body limit.
    pub data: Vec<u8>,
    /// Body bytes as they crossed the wire, chunk framing included (EVE `length`).
    pub message_len: u64,
    /// The limit cut the stored bytes.
    pub truncated: bool,
    /// Bytes were missing (stream gap); nothing after the gap is stored.
    pub gap: bool,
    /// Decoder for a compressed body, while it is being received.
    pub decoder: Option<Decoder>,
}

/// One side of a transaction.
#[derive(Debug, Default)]
pub(crate) struct Msg {
    /// Request line or status line, without line ending.
    pub line: Option<Vec<u8>>,
    /// Protocol string (`HTTP/1.1`).
    pub protocol: Option<Vec<u8>>,
    pub proto: Option<Protocol>,
    pub headers: Headers,
    /// Header block (and trailers) as received, line endings and the final empty line included.
    pub raw: Vec<u8>,
    /// `http.header` buffer: `Name: value\r\n` per header, cookies left out.
    pub norm: Vec<u8>,
    /// `http.header_names` buffer: `\r\nName1\r\nName2\r\n\r\n`.
    pub names: Vec<u8>,
    pub body: Body,
    pub progress: Progress,
    /// Once-per-message event bits.
    pub once: u32,
}

impl Msg {
    fn heap_bytes(&self) -> usize {
        self.line.as_ref().map_or(0, Vec::capacity)
            + self.protocol.as_ref().map_or(0, Vec::capacity)
            + self.headers.heap_bytes()
            + self.raw.capacity()
            + self.norm.capacity()
            + self.names.capacity()
            + self.body.data.capacity()
    }

    /// Builds the `http.header` and `http.header_names` buffers from the table.
    pub(crate) fn build_buffers(&mut self, dir: Direction) {
        let skip: &[u8] = match dir {
            Direction::ToServer => b"cookie",
            Direction::ToClient => b"set-cookie",
        };
        self.norm.clear();
        self.names.clear();
        self.names.extend_from_slice(b"\r\n");
        for h in &self.headers.list {
            self.names.extend_from_slice(&h.name);
            self.names.extend_from_slice(b"\r\n");
            if h.name.eq_ignore_ascii_case(skip) {
                continue;
            }
            self.norm.extend_from_slice(&h.name);
            self.norm.extend_from_slice(b": ");
            self.norm.extend_from_slice(&h.value);
            self.norm.extend_from_slice(b"\r\n");
        }
        self.names.extend_from_slice(b"\r\n");
    }

    /// Forgets what an interim (1xx) response put here.
    pub(crate) fn reset_interim(&mut self) {
        let body = std::mem::take(&mut self.body);
        *self = Msg::default();
        self.body.message_len = body.message_len;
    }
}

/// Request-side facts libhtp keeps as transaction flags; each raises one event name.
pub(crate) mod flag {
    pub const INVALID_TE: u32 = 1;
    pub const INVALID_CL: u32 = 1 << 1;
    pub const HOST_MISSING: u32 = 1 << 2;
    pub const HOST_AMBIGUOUS: u32 = 1 << 3;
    pub const HOSTU_INVALID: u32 = 1 << 4;
    pub const HOSTH_INVALID: u32 = 1 << 5;
}

/// One HTTP transaction.
#[derive(Debug)]
pub struct Tx {
    pub(crate) id: u64,
    pub(crate) log: LogOptions,
    pub(crate) req: Msg,
    pub(crate) resp: Msg,
    pub(crate) method: Option<Vec<u8>>,
    pub(crate) method_kind: Method,
    pub(crate) uri: Option<Vec<u8>>,
    pub(crate) uri_norm: Option<Vec<u8>>,
    /// Host from the URI authority, raw.
    pub(crate) uri_host_raw: Option<Vec<u8>>,
    /// `request_hostname`: from the URI authority, else from the Host header; lowercased.
    pub(crate) hostname: Option<Vec<u8>>,
    pub(crate) port: Option<u16>,
    /// A simple (HTTP/0.9) request: no protocol, no headers, the response is all body.
    pub(crate) is_09: bool,
    pub(crate) flags: u32,
    pub(crate) status: Option<Vec<u8>>,
    pub(crate) status_num: Option<u16>,
    pub(crate) status_msg: Option<Vec<u8>>,
    pub(crate) seen_100: bool,
    /// Handed over by `drain` before completing (too many pending transactions).
    pub(crate) forced: bool,
}

impl Tx {
    pub(crate) fn new(id: u64, log: LogOptions) -> Self {
        Tx {
            id,
            log,
            req: Msg::default(),
            resp: Msg::default(),
            method: None,
            method_kind: Method::Unknown,
            uri: None,
            uri_norm: None,
            uri_host_raw: None,
            hostname: None,
            port: None,
            is_09: false,
            flags: 0,
            status: None,
            status_num: None,
            status_msg: None,
            seen_100: false,
            forced: false,
        }
    }

    pub(crate) fn msg(&self, dir: Direction) -> &Msg {
        match dir {
            Direction::ToServer => &self.req,
            Direction::ToClient => &self.resp,
        }
    }

    pub(crate) fn msg_mut(&mut self, dir: Direction) -> &mut Msg {
        match dir {
            Direction::ToServer => &mut self.req,
            Direction::ToClient => &mut self.resp,
        }
    }

    pub(crate) fn ready(&self) -> bool {
        self.forced
            || (self.req.progress == Progress::Complete && self.resp.progress == Progress::Complete)
    }

    /// Approximate heap bytes held (for limits tests and memory accounting).
    pub fn heap_bytes(&self) -> usize {
        let v = |o: &Option<Vec<u8>>| o.as_ref().map_or(0, Vec::capacity);
        self.req.heap_bytes()
            + self.resp.heap_bytes()
            + v(&self.method)
            + v(&self.uri)
            + v(&self.uri_norm)
            + v(&self.uri_host_raw)
            + v(&self.hostname)
            + v(&self.status)
            + v(&self.status_msg)
    }

    /// Transaction id: 0 for the first transaction of the flow, then +1.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// How far the request (`ToServer`) or response (`ToClient`) has been received.
    pub fn progress(&self, dir: Direction) -> Progress {
        self.msg(dir).progress
    }
    /// The request line has been parsed.
    pub fn request_line_done(&self) -> bool {
        self.req.progress >= Progress::Line
    }
    /// The request headers have been parsed.
    pub fn request_headers_done(&self) -> bool {
        self.req.progress >= Progress::Headers
    }
    /// The request (body included) is complete.
    pub fn request_complete(&self) -> bool {
        self.req.progress == Progress::Complete
    }
    /// The status line has been parsed.
    pub fn response_line_done(&self) -> bool {
        self.resp.progress >= Progress::Line
    }
    /// The response headers have been parsed.
    pub fn response_headers_done(&self) -> bool {
        self.resp.progress >= Progress::Headers
    }
    /// The response (body included) is complete.
    pub fn response_complete(&self) -> bool {
        self.resp.progress == Progress::Complete
    }

    // ---- request buffers ----

    /// `http.request_line`: the request line without its line ending.
    pub fn request_line(&self) -> Option<&[u8]> {
        self.req.line.as_deref()
    }
    /// `http.method`.
    pub fn method(&self) -> Option<&[u8]> {
        self.method.as_deref()
    }
    /// `http.uri.raw` (`http_raw_uri`): the request target exactly as on the wire.
    pub fn uri_raw(&self) -> Option<&[u8]> {
        self.uri.as_deref()
    }
    /// `http.uri` (`http_uri`, `uricontent`): the normalised URI; [`super::uri`] says exactly
    /// what it contains.
    pub fn uri(&self) -> Option<&[u8]> {
        self.uri_norm.as_deref()
    }
    /// `http.protocol` of the request (`HTTP/1.1`); `None` for HTTP/0.9 requests.
    pub fn request_protocol(&self) -> Option<&[u8]> {
        self.req.protocol.as_deref()
    }
    /// `http.host`: host name from the URI authority or the Host header, lowercased, without
    /// port.
    pub fn host(&self) -> Option<&[u8]> {
        self.hostname.as_deref()
    }
    /// `http.host.raw`: the host as written: the URI authority's host when the target is
    /// absolute, else the Host header value (port included).
    pub fn host_raw(&self) -> Option<&[u8]> {
        self.uri_host_raw
            .as_deref()
            .or_else(|| self.req.headers.get(b"host"))
    }
    /// Port from the Host header or URI authority, when one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// `http.user_agent`.
    pub fn user_agent(&self) -> Option<&[u8]> {
        self.req.headers.get(b"user-agent")
    }
    /// `http.cookie`: `Cookie` of the request (`ToServer`) or `Set-Cookie` of the response.
    pub fn cookie(&self, dir: Direction) -> Option<&[u8]> {
        match dir {
            Direction::ToServer => self.req.headers.get(b"cookie"),
            Direction::ToClient => self.resp.headers.get(b"set-cookie"),
        }
    }
    /// `http.referer`.
    pub fn referer(&self) -> Option<&[u8]> {
        self.req.headers.get(b"referer")
    }
    /// `http.content_type` of the request or response.
    pub fn content_type(&self, dir: Direction) -> Option<&[u8]> {
        self.msg(dir).headers.get(b"content-type")
    }
    /// `http.content_len`: the Content-Length header value of the request or response.
    pub fn content_len(&self, dir: Direction) -> Option<&[u8]> {
        self.msg(dir).headers.get(b"content-length")
    }
    /// Value of a request header, name case-insensitive (`http.accept`, `http.connection`, ...).
    pub fn request_header(&self, name: &[u8]) -> Option<&[u8]> {
        self.req.headers.get(name)
    }
    /// Value of a response header, name case-insensitive (`http.location`, `http.server`, ...).
    pub fn response_header(&self, name: &[u8]) -> Option<&[u8]> {
        self.resp.headers.get(name)
    }
    /// All headers of one side in arrival order (duplicates merged; trailers included): the
    /// `http.request_header` / `http.response_header` multi-buffers are `name: value` of each.
    pub fn headers(&self, dir: Direction) -> &[Header] {
        &self.msg(dir).headers.list
    }
    /// `http.header` (`http_header`): `Name: value\r\n` for every header of that side except
    /// `Cookie` (request) / `Set-Cookie` (response), as Suricata builds it.
    pub fn header(&self, dir: Direction) -> &[u8] {
        &self.msg(dir).norm
    }
    /// `http.header.raw` (`http_raw_header`): the header block as received, including the
    /// final empty line and any chunked trailers.
    pub fn header_raw(&self, dir: Direction) -> &[u8] {
        &self.msg(dir).raw
    }
    /// `http.header_names`: `\r\n` + each header name + `\r\n`, then `\r\n`.
    pub fn header_names(&self, dir: Direction) -> &[u8] {
        &self.msg(dir).names
    }
    /// `http.request_body` (`http_client_body`): dechunked, decompressed, up to the limit.
    pub fn request_body(&self) -> &[u8] {
        &self.req.body.data
    }

    // ---- response buffers ----

    /// `http.response_body` / `file_data` (`http_server_body`): dechunked, decompressed, up
    /// to the limit.
    pub fn response_body(&self) -> &[u8] {
        &self.resp.body.data
    }
    /// `http.response_line`: the status line without its line ending.
    pub fn response_line(&self) -> Option<&[u8]> {
        self.resp.line.as_deref()
    }
    /// `http.protocol` of the response.
    pub fn response_protocol(&self) -> Option<&[u8]> {
        self.resp.protocol.as_deref()
    }
    /// `http.stat_code`: the status code text as on the wire.
    pub fn stat_code(&self) -> Option<&[u8]> {
        self.status.as_deref()
    }
    /// The status code when it is a valid number 100..=999.
    pub fn status(&self) -> Option<u16> {
        self.status_num
    }
    /// `http.stat_msg`: the reason phrase.
    pub fn stat_msg(&self) -> Option<&[u8]> {
        self.status_msg.as_deref()
    }
    /// `http.location`.
    pub fn location(&self) -> Option<&[u8]> {
        self.resp.headers.get(b"location")
    }
    /// `http.server`.
    pub fn server(&self) -> Option<&[u8]> {
        self.resp.headers.get(b"server")
    }

    // ---- body facts ----

    /// Body bytes as received on the wire for that side (chunk framing included).
    pub fn body_wire_len(&self, dir: Direction) -> u64 {
        self.msg(dir).body.message_len
    }
    /// The stored body of that side was cut by its limit (or by a decompression stop).
    pub fn body_truncated(&self, dir: Direction) -> bool {
        self.msg(dir).body.truncated
    }
    /// Bytes of that side were lost (stream gap).
    pub fn has_gap(&self, dir: Direction) -> bool {
        self.msg(dir).body.gap
    }
}
