//! App-layer transactions as inspection buffers: where each rule buffer comes from, in which
//! direction and at which parse progress it is complete.

use vedette_applayer::{dns, http, tls};
use vedette_rules::ast::Buffer;
use vedette_types::Direction;

/// A transaction being inspected.
#[derive(Clone, Copy)]
pub enum TxRef<'a> {
    /// An HTTP request/response pair.
    Http(&'a http::Tx),
    /// One DNS message.
    Dns(&'a dns::Tx),
    /// The TLS session.
    Tls(&'a tls::Tx),
}

/// Which app-layer protocol's transactions a buffer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TxApp {
    /// HTTP
    Http,
    /// DNS
    Dns,
    /// TLS
    Tls,
}

impl TxApp {
    /// Index for per-app tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Which side of a transaction a buffer is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Only the request (to server).
    Request,
    /// Only the response (to client).
    Response,
    /// The direction being inspected (http.header, http.cookie, file.data, ...).
    Either,
}

/// Where a buffer lives: protocol, side and the progress level (1..=3) at which it is final.
pub fn buffer_info(b: Buffer) -> Option<(TxApp, Side, u8)> {
    use Buffer::*;
    Some(match b {
        Payload => return None,
        HttpUri | HttpUriRaw | HttpMethod | HttpRequestLine => (TxApp::Http, Side::Request, 1),
        HttpProtocol => (TxApp::Http, Side::Either, 1),
        HttpUserAgent | HttpHost | HttpHostRaw | HttpAccept | HttpAcceptEnc | HttpAcceptLang
        | HttpReferer | HttpRequestHeader => (TxApp::Http, Side::Request, 2),
        HttpHeader | HttpHeaderRaw | HttpHeaderNames | HttpCookie | HttpConnection
        | HttpContentType | HttpContentLen | HttpStart => (TxApp::Http, Side::Either, 2),
        HttpRequestBody => (TxApp::Http, Side::Request, 3),
        HttpStatCode | HttpStatMsg | HttpResponseLine => (TxApp::Http, Side::Response, 1),
        HttpServer | HttpLocation | HttpResponseHeader => (TxApp::Http, Side::Response, 2),
        HttpResponseBody => (TxApp::Http, Side::Response, 3),
        FileData => (TxApp::Http, Side::Either, 3),
        DnsQuery => (TxApp::Dns, Side::Request, 1),
        DnsQueriesRrname => (TxApp::Dns, Side::Either, 1),
        DnsAnswersRrname | DnsResponseRrname => (TxApp::Dns, Side::Response, 1),
        TlsSni | Ja3Hash | Ja3String | Ja4Hash => (TxApp::Tls, Side::Request, 1),
        TlsCertSubject | TlsCertIssuer | TlsCertSerial | TlsCertFingerprint | TlsCerts
        | TlsSubjectAltName | Ja3sHash | Ja3sString => (TxApp::Tls, Side::Response, 1),
    })
}

/// Progress level (0..=3) of one side of an HTTP transaction.
pub fn http_level(p: http::Progress) -> u8 {
    match p {
        http::Progress::NotStarted => 0,
        http::Progress::Line => 1,
        http::Progress::Headers | http::Progress::Body => 2,
        http::Progress::Complete => 3,
    }
}

/// Calls `f` with each instance of buffer `b` of `tx` read in direction `dir` (most buffers have
/// one instance; dns.query and http.request_header one per name/header). Returns false when the
/// buffer does not exist. `tmp` holds buffers that must be built.
pub fn for_each(
    tx: TxRef<'_>,
    b: Buffer,
    dir: Direction,
    tmp: &mut Vec<u8>,
    f: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    use Buffer::*;
    let one = |v: Option<&[u8]>, f: &mut dyn FnMut(&[u8]) -> bool| match v {
        Some(v) => {
            f(v);
            true
        }
        None => false,
    };
    match tx {
        TxRef::Http(t) => match b {
            HttpUri => one(t.uri(), f),
            HttpUriRaw => one(t.uri_raw(), f),
            HttpMethod => one(t.method(), f),
            HttpRequestLine => one(t.request_line(), f),
            HttpProtocol => match dir {
                Direction::ToServer => one(t.request_protocol(), f),
                Direction::ToClient => one(t.response_protocol(), f),
            },
            HttpUserAgent => one(t.user_agent(), f),
            HttpHost => one(t.host(), f),
            HttpHostRaw => one(t.host_raw(), f),
            HttpAccept => one(t.request_header(b"accept"), f),
            HttpAcceptEnc => one(t.request_header(b"accept-encoding"), f),
            HttpAcceptLang => one(t.request_header(b"accept-language"), f),
            HttpReferer => one(t.referer(), f),
            HttpConnection => match dir {
                Direction::ToServer => one(t.request_header(b"connection"), f),
                Direction::ToClient => one(t.response_header(b"connection"), f),
            },
            HttpContentType => one(t.content_type(dir), f),
            HttpContentLen => one(t.content_len(dir), f),
            HttpHeader => non_empty(t.header(dir), f),
            HttpHeaderRaw => non_empty(t.header_raw(dir), f),
            HttpHeaderNames => non_empty(t.header_names(dir), f),
            HttpCookie => one(t.cookie(dir), f),
            HttpStart => {
                let line = match dir {
                    Direction::ToServer => t.request_line(),
                    Direction::ToClient => t.response_line(),
                };
                let Some(line) = line else { return false };
                tmp.clear();
                tmp.extend_from_slice(line);
                tmp.extend_from_slice(b"\r\n");
                tmp.extend_from_slice(t.header_raw(dir));
                f(tmp);
                true
            }
            HttpRequestHeader | HttpResponseHeader => {
                let d = if b == HttpRequestHeader {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                let hs = t.headers(d);
                for h in hs {
                    tmp.clear();
                    tmp.extend_from_slice(h.name());
                    tmp.extend_from_slice(b": ");
                    tmp.extend_from_slice(h.value());
                    if f(tmp) {
                        break;
                    }
                }
                !hs.is_empty()
            }
            HttpRequestBody => non_empty(t.request_body(), f),
            HttpResponseBody => non_empty(t.response_body(), f),
            FileData => match dir {
                Direction::ToServer => non_empty(t.request_body(), f),
                Direction::ToClient => non_empty(t.response_body(), f),
            },
            HttpStatCode => one(t.stat_code(), f),
            HttpStatMsg => one(t.stat_msg(), f),
            HttpResponseLine => one(t.response_line(), f),
            HttpServer => one(t.server(), f),
            HttpLocation => one(t.location(), f),
            _ => false,
        },
        TxRef::Dns(t) => match b {
            DnsQuery if t.kind() == dns::Kind::Query => each(t.query_names(), f),
            DnsQueriesRrname => each(t.query_names(), f),
            DnsAnswersRrname if t.is_response() => each(t.answer_names(), f),
            DnsResponseRrname if t.is_response() => each(t.all_names(), f),
            _ => false,
        },
        TxRef::Tls(t) => {
            let s = |v: Option<&str>, f: &mut dyn FnMut(&[u8]) -> bool| match v {
                Some(v) => {
                    f(v.as_bytes());
                    true
                }
                None => false,
            };
            match b {
                TlsSni => one(t.sni(), f),
                TlsCertSubject => s(t.cert_subject(), f),
                TlsCertIssuer => s(t.cert_issuer(), f),
                TlsCertSerial => s(t.cert_serial(), f),
                TlsCertFingerprint => s(t.cert_fingerprint(), f),
                Ja3Hash => s(t.ja3_hash(), f),
                Ja3String => s(t.ja3_string(), f),
                Ja3sHash => s(t.ja3s_hash(), f),
                Ja3sString => s(t.ja3s_string(), f),
                Ja4Hash => s(t.ja4(), f),
                TlsCerts => {
                    let certs = t.certs();
                    for c in certs {
                        if f(c) {
                            break;
                        }
                    }
                    !certs.is_empty()
                }
                TlsSubjectAltName => {
                    let names = t.subject_alt_names();
                    for n in names {
                        if f(n.as_bytes()) {
                            break;
                        }
                    }
                    !names.is_empty()
                }
                _ => false,
            }
        }
    }
}

fn non_empty(v: &[u8], f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    if v.is_empty() {
        false
    } else {
        f(v);
        true
    }
}

/// Calls `f` on each buffer of a multi-buffer until it returns true; false when there was none.
fn each<'a>(items: impl Iterator<Item = &'a [u8]>, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let mut any = false;
    for n in items {
        any = true;
        if f(n) {
            break;
        }
    }
    any
}
