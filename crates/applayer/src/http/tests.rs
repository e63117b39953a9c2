//! Protocol transcripts: bytes in, transactions, events and EVE JSON out.

use std::io::Write as _;

use serde_json::{json, Value};
use vedette_eve::{EventBatch, EventType};
use vedette_types::Direction::{self, ToClient, ToServer};

use super::*;
use crate::AppEvents;

/// What a test keeps of a handed-over transaction.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    eve: Value,
    uri: Option<Vec<u8>>,
    host: Option<Vec<u8>>,
    req_body: Vec<u8>,
    resp_body: Vec<u8>,
    header: Vec<u8>,
    header_raw: Vec<u8>,
    resp_header: Vec<u8>,
    req_progress: Progress,
    resp_progress: Progress,
    gap: (bool, bool),
}

fn eve_of(tx: &Tx) -> Value {
    let mut batch = EventBatch::with_capacity(1024);
    let mut w = batch.begin(EventType::Http);
    w.open();
    tx.write_eve(&mut w);
    w.finish();
    serde_json::from_slice(batch.record(0).unwrap()).unwrap()
}

fn seen(tx: &Tx) -> Seen {
    Seen {
        eve: eve_of(tx),
        uri: tx.uri().map(<[u8]>::to_vec),
        host: tx.host().map(<[u8]>::to_vec),
        req_body: tx.request_body().to_vec(),
        resp_body: tx.response_body().to_vec(),
        header: tx.header(ToServer).to_vec(),
        header_raw: tx.header_raw(ToServer).to_vec(),
        resp_header: tx.header(ToClient).to_vec(),
        req_progress: tx.progress(ToServer),
        resp_progress: tx.progress(ToClient),
        gap: (tx.has_gap(ToServer), tx.has_gap(ToClient)),
    }
}

/// A flow under test: state plus everything it produced.
struct Flow {
    st: State,
    txs: Vec<Seen>,
    events: Vec<(Direction, &'static str)>,
}

impl Flow {
    fn new() -> Self {
        Self::with(Limits::default())
    }
    fn with(limits: Limits) -> Self {
        Flow {
            st: State::new(&limits),
            txs: Vec::new(),
            events: Vec::new(),
        }
    }
    fn feed(&mut self, dir: Direction, data: &[u8]) -> &mut Self {
        let mut ev = AppEvents::default();
        self.st.parse(dir, data, &mut ev);
        self.events.extend(ev.iter());
        self.drain(false);
        self
    }
    fn feed_bytewise(&mut self, dir: Direction, data: &[u8]) -> &mut Self {
        for b in data.chunks(1) {
            self.feed(dir, b);
        }
        self
    }
    fn gap(&mut self, dir: Direction, len: u64) -> &mut Self {
        let mut ev = AppEvents::default();
        self.st.gap(dir, len, &mut ev);
        self.events.extend(ev.iter());
        self.drain(false);
        self
    }
    fn drain(&mut self, at_end: bool) -> &mut Self {
        let txs = &mut self.txs;
        self.st.drain(at_end, &mut |tx| txs.push(seen(tx)));
        self
    }
    fn end(&mut self) -> &mut Self {
        self.drain(true)
    }
    fn event_names(&self) -> Vec<&'static str> {
        self.events.iter().map(|(_, n)| *n).collect()
    }
}

const GET: &[u8] = b"GET /api/v1/items?page=3760 HTTP/1.1\r\nHost: login.example.org\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0\r\nAccept: */*\r\nCookie: session=abc\r\nConnection: keep-alive\r\n\r\n";
const OK: &[u8] = b"HTTP/1.1 200 OK\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\nServer: nginx/1.24.0\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 5\r\nSet-Cookie: a=b\r\nConnection: keep-alive\r\n\r\nhello";

#[test]
fn simple_exchange_matches_suricata_eve() {
    let mut f = Flow::new();
    f.feed(ToServer, GET);
    assert!(f.txs.is_empty(), "not logged before the response");
    f.feed(ToClient, OK);
    assert_eq!(f.txs.len(), 1);
    let t = &f.txs[0];
    assert_eq!(
        t.eve,
        json!({
            "tx_id": 0,
            "http": {
                "hostname": "login.example.org",
                "url": "/api/v1/items?page=3760",
                "http_user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0",
                "http_content_type": "application/json",
                "http_method": "GET",
                "protocol": "HTTP/1.1",
                "status": 200,
                "length": 5
            }
        })
    );
    assert_eq!(t.resp_body, b"hello");
    assert_eq!(
        t.header,
        b"Host: login.example.org\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0\r\nAccept: */*\r\nConnection: keep-alive\r\n"
    );
    assert!(t.header_raw.starts_with(b"Host: login.example.org\r\n"));
    assert!(t.header_raw.ends_with(b"Connection: keep-alive\r\n\r\n"));
    assert!(!String::from_utf8_lossy(&t.resp_header).contains("Set-Cookie"));
    assert_eq!(
        (t.req_progress, t.resp_progress),
        (Progress::Complete, Progress::Complete)
    );
    assert!(f.events.is_empty(), "{:?}", f.events);
    // EVE field order is Suricata's (serde_json sorts keys, so look at the text).
    let mut st = State::new(&Limits::default());
    let mut ev = AppEvents::default();
    st.parse(ToServer, GET, &mut ev);
    st.parse(ToClient, OK, &mut ev);
    let mut text = String::new();
    st.drain(false, &mut |tx| {
        let mut batch = EventBatch::with_capacity(1024);
        let mut w = batch.begin(EventType::Http);
        w.open();
        tx.write_eve(&mut w);
        w.finish();
        text = String::from_utf8(batch.record(0).unwrap().to_vec()).unwrap();
    });
    let order = [
        "tx_id",
        "http",
        "hostname",
        "url",
        "http_user_agent",
        "http_content_type",
        "http_method",
        "protocol",
        "status",
        "length",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn eve_optional_fields() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET /x HTTP/1.1\r\nHost: Example.COM:8080\r\nReferer: http://r/\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 301 Moved\r\nLocation: https://example.com/x\r\nContent-Range: bytes 0-1/10\r\nContent-Length: 2\r\n\r\nok",
    );
    assert_eq!(
        f.txs[0].eve,
        json!({
            "tx_id": 0,
            "http": {
                "hostname": "example.com",
                "http_port": 8080,
                "url": "/x",
                "xff": "1.2.3.4",
                "content_range": {"raw": "bytes 0-1/10", "start": 0, "end": 1, "size": 10},
                "http_refer": "http://r/",
                "http_method": "GET",
                "protocol": "HTTP/1.1",
                "status": 301,
                "redirect": "https://example.com/x",
                "length": 2
            }
        })
    );
}

#[test]
fn non_extended_logging() {
    let limits = Limits {
        log: LogOptions {
            extended: false,
            ..LogOptions::default()
        },
        ..Limits::default()
    };
    let mut f = Flow::with(limits);
    f.feed(ToServer, GET).feed(ToClient, OK);
    let http = f.txs[0].eve["http"].as_object().unwrap().clone();
    assert!(http.get("http_method").is_none() && http.get("status").is_none());
    assert_eq!(http["url"], "/api/v1/items?page=3760");
}

#[test]
fn split_at_every_byte_is_the_same_as_whole() {
    let body = b"7\r\nchunk-1\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n";
    let mut resp =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
            .to_vec();
    resp.extend_from_slice(body);
    let req = b"POST /up HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n  b\r\nContent-Length: 4\r\n\r\nabcdGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    let resp2 = b"HTTP/1.1 204 No Content\r\n\r\n";

    let mut whole = Flow::new();
    whole
        .feed(ToServer, req)
        .feed(ToClient, &resp)
        .feed(ToClient, resp2)
        .end();
    let mut bytewise = Flow::new();
    bytewise
        .feed_bytewise(ToServer, req)
        .feed_bytewise(ToClient, &resp)
        .feed_bytewise(ToClient, resp2)
        .end();
    assert_eq!(whole.txs.len(), 2);
    assert_eq!(whole.txs, bytewise.txs);
    assert_eq!(whole.events, bytewise.events);
    let t = &whole.txs[0];
    assert_eq!(t.req_body, b"abcd");
    assert_eq!(t.resp_body, b"chunk-1hello");
    // length counts the chunk framing, as libhtp's response_message_len.
    assert_eq!(
        t.eve["http"]["length"],
        body.len() - b"X-Trailer: t\r\n\r\n".len()
    );
    assert!(String::from_utf8_lossy(&t.header).contains("X-Folded: a  b\r\n"));
    assert_eq!(whole.txs[1].eve["http"]["status"], 204);
}

#[test]
fn pipelined_requests_pair_fifo() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    f.feed(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA");
    assert_eq!(f.txs.len(), 1);
    f.feed(
        ToClient,
        b"HTTP/1.1 404 NF\r\nContent-Length: 1\r\n\r\nBHTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
    );
    let got: Vec<(u64, &str, u64)> = f
        .txs
        .iter()
        .map(|t| {
            (
                t.eve["tx_id"].as_u64().unwrap(),
                t.eve["http"]["url"].as_str().unwrap(),
                t.eve["http"]["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [(0, "/1", 200), (1, "/2", 404), (2, "/3", 200)]);
    assert_eq!(f.txs[1].resp_body, b"B");
    assert_eq!(
        f.txs[2].eve["http"]["length"], 0,
        "HEAD response has no body"
    );
}

#[test]
fn not_modified_and_head_have_no_body() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    );
    assert_eq!(f.txs.len(), 2);
    assert_eq!(f.txs[0].eve["http"]["status"], 304);
    assert_eq!(f.txs[0].eve["http"]["length"], 0);
    assert_eq!(f.txs[1].resp_body, b"hi");
}

#[test]
fn response_until_close() {
    let mut f = Flow::new();
    f.feed(ToServer, b"GET / HTTP/1.0\r\n\r\n");
    f.feed(
        ToClient,
        b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>",
    );
    f.feed(ToClient, b"</html>");
    assert!(f.txs.is_empty());
    f.end();
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].resp_body, b"<html></html>");
    assert_eq!(f.txs[0].eve["http"]["length"], 13);
    assert_eq!(f.txs[0].resp_progress, Progress::Complete);
    assert!(
        f.events.is_empty(),
        "HTTP/1.0 needs no Host: {:?}",
        f.events
    );
}

#[test]
fn request_without_response_is_logged_at_end() {
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /lonely HTTP/1.1\r\nHost: h\r\n\r\n");
    f.drain(false);
    assert!(f.txs.is_empty());
    f.end();
    assert_eq!(f.txs.len(), 1);
    let http = &f.txs[0].eve["http"];
    assert_eq!(http["url"], "/lonely");
    assert!(http.get("status").is_none());
    assert_eq!(http["length"], 0);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_response_body_is_decompressed() {
    let plain = b"<html>".repeat(500);
    let z = gzip(&plain);
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    resp.extend_from_slice(&z);
    let mut f = Flow::new();
    f.feed(ToServer, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    f.feed_bytewise(ToClient, &resp);
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].resp_body, plain);
    assert_eq!(
        f.txs[0].eve["http"]["length"],
        z.len(),
        "length is the compressed size"
    );
    assert!(f.events.is_empty(), "{:?}", f.events);
}

#[test]
fn chunked_gzip_and_gzip_claim_on_plain_request_body() {
    // Chunked + gzip response.
    let z = gzip(b"secret payload");
    let (a, b) = z.split_at(7);
    let mut resp =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    resp.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
    resp.extend_from_slice(a);
    resp.extend_from_slice(format!("\r\n{:x}\r\n", b.len()).as_bytes());
    resp.extend_from_slice(b);
    resp.extend_from_slice(b"\r\n0\r\n\r\n");
    // A request body that says gzip but is not (http-encoding-gzip-uncompressed).
    let body = br#"{"sdk_version":"1","app_package":"x"}"#;
    let mut req = format!(
        "POST /c HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    let mut f = Flow::new();
    f.feed(ToServer, &req).feed(ToClient, &resp);
    assert_eq!(f.txs[0].resp_body, b"secret payload");
    assert_eq!(f.txs[0].req_body, body);
    assert_eq!(f.event_names(), ["GZIP_DECOMPRESSION_FAILED"]);
}

#[test]
fn gzip_bomb_stays_bounded() {
    let z = gzip(&vec![0u8; 32 << 20]);
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    resp.extend_from_slice(&z);
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n");
    for piece in resp.chunks(1460) {
        f.feed(ToClient, piece);
        assert!(f.st.heap_bytes() < 1 << 20);
    }
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].resp_body.len(), DEFAULT_BODY_LIMIT);
    assert_eq!(f.event_names(), ["COMPRESSION_BOMB"]);
    assert_eq!(f.txs[0].eve["http"]["length"], z.len());
}

#[test]
fn suricata_synthetic_anomalies() {
    // The four anomaly flows of synthetic-small.pcap and what Suricata 7.0.10 logged for them.
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\nContent-Type: text/plain\r\n\r\nhello";
    let cases: [(&[u8], Value, &[&str]); 4] = [
        (
            b"GET /nohost HTTP/1.1\r\nUser-Agent: weird\r\n\r\n",
            json!({"url":"/nohost","http_user_agent":"weird","http_content_type":"text/plain","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":0}),
            &[
                "MISSING_HOST_HEADER",
                "MISSING_HOST_HEADER",
                "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE",
            ],
        ),
        (
            b"GET /nocolon HTTP/1.1\r\nHost: www.example.com\r\nThisHeaderHasNoColon\r\n\r\n",
            json!({"hostname":"www.example.com","url":"/nocolon","http_content_type":"text/plain","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":0}),
            &[
                "REQUEST_FIELD_MISSING_COLON",
                "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE",
            ],
        ),
        (
            b"GET /twohosts HTTP/1.1\r\nHost: a.example.com\r\nHost: b.example.com\r\n\r\n",
            json!({"hostname":"a.example.com, b.example.com","url":"/twohosts","http_content_type":"text/plain","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":0}),
            &[
                "REQUEST_HEADER_HOST_INVALID",
                "REQUEST_HEADER_HOST_INVALID",
                "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE",
            ],
        ),
        (
            b"GET  /double-space-uri HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
            json!({"hostname":"www.example.com","url":"/double-space-uri","http_content_type":"text/plain","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":0}),
            &["INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE"],
        ),
    ];
    for (req, http, events) in cases {
        let mut f = Flow::new();
        f.feed(ToServer, req).feed(ToClient, resp).end();
        assert_eq!(f.txs.len(), 1);
        assert_eq!(f.txs[0].eve["http"], http);
        assert_eq!(f.event_names(), events);
    }
}

#[test]
fn interim_100_continue_is_skipped() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    );
    f.feed(ToClient, b"HTTP/1.1 100 Continue\r\n\r\n");
    f.feed(ToServer, b"abc");
    f.feed(
        ToClient,
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].eve["http"]["status"], 201);
    assert_eq!(f.txs[0].req_body, b"abc");
    assert!(f.events.is_empty());
}

#[test]
fn connect_tunnel_and_refusal() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"CONNECT qagpublic.qg1.apps.qualys.com:443 HTTP/1.1\r\nHost: qagpublic.qg1.apps.qualys.com:443\r\n\r\n\x16\x03\x01hello",
    );
    assert!(f.st.tunnel().is_none());
    f.feed(
        ToClient,
        b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03srv",
    );
    assert_eq!(
        f.st.tunnel(),
        Some(Tunnel {
            port: Some(443),
            upgrade: false
        })
    );
    f.feed(ToServer, b"more");
    assert_eq!(f.txs.len(), 1);
    let http = &f.txs[0].eve["http"];
    assert_eq!(http["http_method"], "CONNECT");
    assert_eq!(http["hostname"], "qagpublic.qg1.apps.qualys.com");
    assert_eq!(http["http_port"], 443);
    assert_eq!(f.st.take_tunnel_data(ToServer), b"\x16\x03\x01hellomore");
    assert_eq!(f.st.take_tunnel_data(ToClient), b"\x16\x03\x03srv");

    // Refused: the held request goes on being parsed.
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(f.st.tunnel().is_none());
    let urls: Vec<&str> = f
        .txs
        .iter()
        .map(|t| t.eve["http"]["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["h:443", "/after"]);
}

#[test]
fn connect_with_bad_authority_has_no_host() {
    // bug-7851: `CONNECT /` must not give a one-character http.host.
    let mut f = Flow::new();
    f.feed(ToServer, b"CONNECT / HTTP/1.1\r\nMp-Country: US\r\n\r\n");
    f.feed(ToClient, b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].eve["http"]["url"], "/");
    assert_eq!(f.txs[0].host, None);
}

#[test]
fn http09_and_missing_protocol() {
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /old\r\n");
    f.feed(ToClient, b"<html>old</html>");
    f.end();
    assert_eq!(f.txs.len(), 1);
    let http = &f.txs[0].eve["http"];
    assert_eq!(http["url"], "/old");
    assert!(http.get("protocol").is_none() && http.get("status").is_none());
    assert_eq!(f.txs[0].resp_body, b"<html>old</html>");

    // Headers after a request line without protocol (http-missing-protocol).
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /np\r\nUser-Agent: x\r\n\r\n");
    f.feed(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].eve["http"]["http_user_agent"], "x");
    assert_eq!(f.txs[0].eve["http"]["status"], 200);
}

#[test]
fn response_without_request() {
    let mut f = Flow::new();
    f.feed(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(f.event_names(), ["UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"]);
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].eve["http"]["url"], "/libhtp::request_uri_not_seen");
}

#[test]
fn gap_inside_known_length_body_keeps_parsing() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nabcde",
    );
    f.gap(ToClient, 10);
    f.feed(
        ToClient,
        b"vwxyzHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    assert_eq!(f.txs.len(), 2);
    assert_eq!(f.txs[0].gap, (false, true));
    assert_eq!(f.txs[0].resp_body, b"abcde");
    assert_eq!(f.txs[0].eve["http"]["length"], 20);
    assert_eq!(f.txs[1].resp_body, b"ok");
    assert_eq!(f.txs[1].gap, (false, false));
}

#[test]
fn gap_in_headers_resyncs_at_next_request() {
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /1 HTTP/1.1\r\nHost: h\r\nUser-Ag");
    f.gap(ToServer, 100);
    f.feed(
        ToServer,
        b"ent: lost\r\n\r\ngarbage line\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    f.end();
    let urls: Vec<&str> = f
        .txs
        .iter()
        .map(|t| t.eve["http"]["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["/1", "/2"]);
    assert!(f.txs[0].gap.0);
}

#[test]
fn inspection_buffers() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir%20c: HTTP/1.1\r\nHost: WWW.Example.com:81\r\nCookie: c=1\r\n\r\n",
    );
    let tx = f.st.transactions().next().unwrap();
    assert_eq!(tx.uri(), Some(&b"/winnt/system32/cmd.exe?/c+dir c:"[..]));
    assert_eq!(
        tx.uri_raw(),
        Some(&b"/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir%20c:"[..])
    );
    assert_eq!(tx.host(), Some(&b"www.example.com"[..]));
    assert_eq!(tx.host_raw(), Some(&b"WWW.Example.com:81"[..]));
    assert_eq!(tx.port(), Some(81));
    assert_eq!(tx.method(), Some(&b"GET"[..]));
    assert_eq!(tx.request_protocol(), Some(&b"HTTP/1.1"[..]));
    assert_eq!(tx.cookie(ToServer), Some(&b"c=1"[..]));
    assert_eq!(tx.header(ToServer), b"Host: WWW.Example.com:81\r\n");
    assert_eq!(tx.header_names(ToServer), b"\r\nHost\r\nCookie\r\n\r\n");
    assert!(tx.request_headers_done() && tx.request_complete() && !tx.response_line_done());
    assert_eq!(
        tx.request_line(),
        Some(&b"GET /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir%20c: HTTP/1.1"[..])
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 404 Not Found\r\nServer: gws\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(f.txs.len(), 1);
}

#[test]
fn response_buffers_before_completion() {
    let mut f = Flow::new();
    f.feed(ToServer, GET);
    f.feed(
        ToClient,
        b"HTTP/1.1 404 Not Found\r\nServer: gws\r\nLocation: /x\r\nContent-Length: 10\r\n\r\nabc",
    );
    let tx = f.st.transactions().next().unwrap();
    assert_eq!(tx.stat_code(), Some(&b"404"[..]));
    assert_eq!(tx.status(), Some(404));
    assert_eq!(tx.stat_msg(), Some(&b"Not Found"[..]));
    assert_eq!(tx.response_line(), Some(&b"HTTP/1.1 404 Not Found"[..]));
    assert_eq!(tx.server(), Some(&b"gws"[..]));
    assert_eq!(tx.location(), Some(&b"/x"[..]));
    assert_eq!(tx.content_len(ToClient), Some(&b"10"[..]));
    assert_eq!(tx.response_body(), b"abc");
    assert_eq!(tx.progress(ToClient), Progress::Body);
    assert!(tx.response_headers_done() && !tx.response_complete());
}

#[test]
fn hostile_long_lines_and_many_headers_stay_bounded() {
    // A 1 MB header line.
    let mut req = b"GET / HTTP/1.1\r\nHost: h\r\nX-Long: ".to_vec();
    req.extend(std::iter::repeat_n(b'a', 1 << 20));
    req.extend_from_slice(b"\r\n\r\n");
    let mut f = Flow::new();
    for piece in req.chunks(1400) {
        f.feed(ToServer, piece);
        assert!(f.st.heap_bytes() < 256 * 1024, "{}", f.st.heap_bytes());
    }
    assert_eq!(f.event_names(), ["REQUEST_FIELD_TOO_LONG"]);
    assert!(f.st.transactions().next().unwrap().request_complete());

    // A 1 MB request line.
    let mut req = b"GET /".to_vec();
    req.extend(std::iter::repeat_n(b'b', 1 << 20));
    req.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
    let mut f = Flow::new();
    f.feed(ToServer, &req);
    assert!(f.st.heap_bytes() < 256 * 1024);
    assert!(f.event_names().contains(&"REQUEST_FIELD_TOO_LONG"));

    // 10k headers.
    let mut req = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..10_000 {
        req.extend_from_slice(format!("X-H{i}: v{i}\r\n").as_bytes());
    }
    req.extend_from_slice(b"Content-Length: 2\r\n\r\nok");
    let mut f = Flow::new();
    f.feed(ToServer, &req);
    assert!(f.st.heap_bytes() < 512 * 1024, "{}", f.st.heap_bytes());
    assert_eq!(f.event_names(), ["REQUEST_TOO_MANY_HEADERS"]);
    let tx = f.st.transactions().next().unwrap();
    assert_eq!(
        tx.request_body(),
        b"ok",
        "framing headers survive the limit"
    );
    assert!(tx.headers(ToServer).len() <= 256 + 5);

    // 10k repetitions of one header.
    let mut req = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for _ in 0..10_000 {
        req.extend_from_slice(b"X-Same: value\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let mut f = Flow::new();
    f.feed(ToServer, &req);
    assert_eq!(f.event_names(), ["REQUEST_HEADER_REPETITION"]);
    assert!(f.st.heap_bytes() < 256 * 1024);
}

#[test]
fn too_many_pending_transactions() {
    let limits = Limits {
        max_pending_tx: 8,
        ..Limits::default()
    };
    let mut f = Flow::with(limits);
    let reqs = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n".repeat(1000);
    f.feed(ToServer, &reqs);
    assert!(f.st.transactions().count() <= 16);
    f.feed(ToServer, b"GET /last HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(f
        .event_names()
        .iter()
        .all(|n| *n == "TOO_MANY_TRANSACTIONS"));
    assert!(f.st.stats().tx_limit_hits > 0);
    f.end();
    let ids: Vec<u64> = f
        .txs
        .iter()
        .map(|t| t.eve["tx_id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(*ids.last().unwrap(), 1000);
}

#[test]
fn probe_detects_http() {
    assert_eq!(probe(b"GET / HTTP/1.1\r\n", ToServer), Probe::Yes);
    assert_eq!(probe(b"post /x", ToServer), Probe::Yes);
    assert_eq!(probe(b"PROPFIND\t/", ToServer), Probe::Yes);
    assert_eq!(probe(b"GE", ToServer), Probe::NeedMore);
    assert_eq!(probe(b"GET", ToServer), Probe::NeedMore);
    assert_eq!(probe(b"", ToServer), Probe::NeedMore);
    assert_eq!(probe(b"GETX / HTTP/1.1", ToServer), Probe::No);
    assert_eq!(probe(b"\x16\x03\x01", ToServer), Probe::No);
    assert_eq!(probe(b"HTTP/1.1 200 OK", ToClient), Probe::Yes);
    assert_eq!(probe(b"HTT", ToClient), Probe::NeedMore);
    assert_eq!(probe(b"SSH-2.0", ToClient), Probe::No);
}

#[test]
fn invalid_chunk_lengths() {
    let mut f = Flow::new();
    f.feed(ToServer, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    f.feed(
        ToClient,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nrest",
    );
    f.end();
    assert_eq!(f.event_names(), ["INVALID_RESPONSE_CHUNK_LEN"]);
    assert_eq!(f.txs[0].resp_body, b"zz\r\nrest");

    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
    );
    assert_eq!(f.event_names(), ["INVALID_REQUEST_CHUNK_LEN"]);
}

#[test]
fn request_line_events() {
    let mut f = Flow::new();
    f.feed(ToServer, b"hello\r\n\r\n");
    f.end();
    assert_eq!(f.event_names(), ["REQUEST_LINE_INVALID"]);
    let mut f = Flow::new();
    f.feed(ToServer, b" GET\t/x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(
        f.event_names(),
        [
            "REQUEST_LINE_LEADING_WHITESPACE",
            "METHOD_DELIM_NON_COMPLIANT"
        ]
    );
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n",
    );
    assert_eq!(
        f.event_names(),
        ["HOST_HEADER_AMBIGUOUS", "HOST_HEADER_AMBIGUOUS"]
    );
    assert_eq!(
        f.st.transactions().next().unwrap().host(),
        Some(&b"a.example"[..])
    );
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    );
    assert_eq!(
        f.event_names(),
        ["DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST"]
    );
}

#[test]
fn unexpected_body_after_a_bodyless_response() {
    // synthetic-small.pcap has 304 responses that carry a body anyway; libhtp (and Suricata's
    // `length`) counts the bytes that follow in the same segment as that response's body.
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    f.feed(
        ToClient,
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n[]",
    );
    f.feed(ToServer, b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    f.feed(ToClient, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 6\r\n\r\n<p>\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    f.end();
    let got: Vec<(u64, u64)> = f
        .txs
        .iter()
        .map(|t| {
            (
                t.eve["http"]["status"].as_u64().unwrap(),
                t.eve["http"]["length"].as_u64().unwrap(),
            )
        })
        .collect();
    // The third response has no request left: libhtp logs it as its own transaction.
    assert_eq!(got, [(304, 2), (304, 6), (200, 0)]);
    assert_eq!(f.event_names(), ["UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"]);

    // A request line that is not one after a complete request is more request body.
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nxyz 123\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    assert_eq!(f.event_names(), ["REQUEST_BODY_UNEXPECTED"]);
    let txs: Vec<&Tx> = f.st.transactions().collect();
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[0].request_body(), b"xyz 123\r\n");
}

#[test]
fn split_next_request_after_complete_one() {
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGE");
    f.feed(ToServer, b"T /b HTTP/1.1\r\nHost: h\r\n\r\n");
    f.feed(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHT");
    f.feed(ToClient, b"TP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let urls: Vec<&str> = f
        .txs
        .iter()
        .map(|t| t.eve["http"]["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["/a", "/b"]);
    assert!(f.events.is_empty(), "{:?}", f.events);
}

#[test]
fn body_limits_and_chunked_gap() {
    let limits = Limits {
        request_body_limit: 4,
        response_body_limit: 3,
        ..Limits::default()
    };
    let mut f = Flow::with(limits);
    f.feed(
        ToServer,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n01234",
    );
    f.gap(ToClient, 2);
    f.feed(ToClient, b"789\r\n0\r\n\r\n");
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].req_body, b"0123");
    assert_eq!(f.txs[0].resp_body, b"012");
    assert_eq!(f.txs[0].gap, (false, true));
    assert_eq!(f.st.stats().bodies_truncated, 2);
    assert!(
        f.events.is_empty(),
        "body limits are counted, not events: {:?}",
        f.events
    );
}

#[test]
fn deflate_and_unknown_encodings() {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"deflated text").unwrap();
    let z = e.finish().unwrap();
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    resp.extend_from_slice(&z);
    let mut f = Flow::new();
    f.feed(ToServer, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        .feed(ToClient, &resp);
    assert_eq!(f.txs[0].resp_body, b"deflated text");

    let mut f = Flow::new();
    f.feed(ToServer, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    f.feed(
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(f.event_names(), ["ABNORMAL_CE_HEADER"]);
    assert_eq!(f.txs[0].resp_body, b"abc");
}

#[test]
fn request_framing_errors_stop_the_request_side() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
    );
    assert_eq!(
        f.event_names(),
        [
            "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST",
            "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST"
        ]
    );
    assert_eq!(f.st.transactions().count(), 1);
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
    );
    assert_eq!(
        f.event_names(),
        [
            "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST",
            "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST"
        ]
    );
}

#[test]
fn header_anomalies() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET / HTTP/1.1\r\n folded-first\r\nHost: h\r\nBad Name: v\r\nBad2 : w\r\n\r\n",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(
        f.event_names(),
        [
            "INVALID_REQUEST_FIELD_FOLDING",
            "REQUEST_FIELD_MISSING_COLON",
            "REQUEST_HEADER_INVALID",
            "RESPONSE_FIELD_MISSING_COLON"
        ]
    );
    let mut f = Flow::new();
    f.feed(ToServer, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    f.feed(ToClient, b"HTTP/x 2x0 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(
        f.event_names(),
        ["RESPONSE_INVALID_PROTOCOL", "RESPONSE_INVALID_STATUS"]
    );
    assert_eq!(
        f.txs[0].eve["http"]["status"], 2,
        "strtoul of the status text, as Suricata 7"
    );
}

#[test]
fn switching_protocols_is_a_tunnel() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    f.feed(
        ToClient,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
    );
    assert_eq!(
        f.st.tunnel(),
        Some(Tunnel {
            port: None,
            upgrade: true
        })
    );
    assert_eq!(f.txs.len(), 1);
    assert_eq!(f.txs[0].eve["http"]["status"], 101);
    assert_eq!(f.st.take_tunnel_data(ToClient), b"\x81\x05hello");
}

#[test]
fn double_encoding_event_when_enabled() {
    let limits = Limits {
        double_decode_events: true,
        ..Limits::default()
    };
    let mut f = Flow::with(limits);
    f.feed(ToServer, b"GET /%252e%252e/x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(f.event_names(), ["DOUBLE_ENCODED_URI"]);
    assert_eq!(
        f.st.transactions().next().unwrap().uri(),
        Some(&b"/%2e%2e/x"[..])
    );
    let mut f = Flow::new();
    f.feed(ToServer, b"GET /%252e%252e/x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(f.events.is_empty());
}

#[test]
fn eve_dump_all_headers() {
    let limits = Limits {
        log: LogOptions {
            extended: true,
            request_headers: true,
            response_headers: true,
        },
        ..Limits::default()
    };
    let mut f = Flow::with(limits);
    f.feed(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: www.ethereal.com\r\nAccept: */*\r\n\r\n",
    );
    f.feed(ToClient, b"HTTP/1.1 204 No Content\r\n\r\n");
    let http = &f.txs[0].eve["http"];
    assert_eq!(
        http["request_headers"],
        json!([{"name": "Host", "value": "www.ethereal.com"}, {"name": "Accept", "value": "*/*"}])
    );
    assert_eq!(http["response_headers"], json!([]));
    assert_eq!(http["status"], 204);
}

#[test]
fn eve_header_dump_pairs() {
    let mut f = Flow::new();
    f.feed(
        ToServer,
        b"GET / HTTP/1.1\r\nHost: www.ethereal.com\r\nX-Nul: a\x00b\r\n\r\n",
    );
    let tx = f.st.transactions().next().unwrap();
    let pairs: Vec<(&[u8], &[u8])> = tx.eve_headers(ToServer).collect();
    assert_eq!(
        pairs,
        [
            (&b"Host"[..], &b"www.ethereal.com"[..]),
            (&b"X-Nul"[..], &b"a"[..])
        ]
    );
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn limits() -> Limits {
        Limits {
            max_line_bytes: 512,
            max_header_line_bytes: 512,
            max_headers: 16,
            max_header_bytes: 4096,
            request_body_limit: 2048,
            response_body_limit: 2048,
            max_pending_tx: 8,
            max_tunnel_bytes: 1024,
            ..Limits::default()
        }
    }

    /// Upper bound of heap bytes for `limits()`, with slack for Vec growth.
    const BOUND: usize = 2 * 8 * 64 * 1024;

    fn http_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec()),
            Just(b"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde".to_vec()),
            Just(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".to_vec()),
            Just(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\n\x1f\x8b\x08\x00".to_vec()),
            Just(b"CONNECT a:1 HTTP/1.1\r\n\r\n".to_vec()),
            Just(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()),
            Just(b"\r\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_random_splits_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..4096),
            splits in proptest::collection::vec(1usize..300, 1..40),
            dirs in proptest::collection::vec(any::<bool>(), 1..40),
            gaps in proptest::collection::vec(0u64..50, 1..40),
        ) {
            let mut st = State::new(&limits());
            let mut ev = AppEvents::default();
            let mut rest = &data[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = splits[i % splits.len()].min(rest.len());
                let dir = if dirs[i % dirs.len()] { ToServer } else { ToClient };
                st.parse(dir, &rest[..n], &mut ev);
                if gaps[i % gaps.len()] == 7 {
                    st.gap(dir, gaps[(i + 1) % gaps.len()], &mut ev);
                }
                ev.clear();
                st.drain(false, &mut |tx| { let _ = eve_of(tx); });
                prop_assert!(st.heap_bytes() < BOUND, "{}", st.heap_bytes());
                rest = &rest[n..];
                i += 1;
            }
            st.drain(true, &mut |tx| { let _ = eve_of(tx); });
        }

        #[test]
        fn http_like_streams_never_panic(
            pieces in proptest::collection::vec((http_piece(), any::<bool>()), 0..40),
            split in 1usize..64,
        ) {
            let mut st = State::new(&limits());
            let mut ev = AppEvents::default();
            for (p, to_server) in &pieces {
                let dir = if *to_server { ToServer } else { ToClient };
                for c in p.chunks(split) {
                    st.parse(dir, c, &mut ev);
                    ev.clear();
                }
                st.drain(false, &mut |tx| { let _ = eve_of(tx); });
                prop_assert!(st.heap_bytes() < BOUND);
            }
            let mut ids = Vec::new();
            st.drain(true, &mut |tx| { ids.push(tx.id()); let _ = eve_of(tx); });
            prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        }

        #[test]
        fn any_split_gives_the_same_transactions(
            cut_a in 0usize..200, cut_b in 0usize..200,
        ) {
            let req = b"POST /a%2fb/../c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
            let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyzHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n";
            let run = |a: usize, b: usize| {
                let mut f = Flow::new();
                let (r1, r2) = req.split_at(a.min(req.len()));
                let (s1, s2) = resp.split_at(b.min(resp.len()));
                f.feed(ToServer, r1).feed(ToServer, r2).feed(ToClient, s1).feed(ToClient, s2).end();
                (f.txs, f.events)
            };
            prop_assert_eq!(run(cut_a, cut_b), run(0, 0));
        }
    }
}
