//! HTTP/1.1 message builders and plausible bodies (HTML, CSS, JavaScript, JSON).

use vedette_types::Timestamp;

use crate::calendar::civil_from_unix;
use crate::rng::Rng;

/// User-Agent of a desktop Firefox on Linux.
pub const UA_FIREFOX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
/// User-Agent of a desktop Chrome on Windows.
pub const UA_CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
/// User-Agent of curl.
pub const UA_CURL: &str = "curl/8.5.0";

/// An HTTP/1.1 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method (`GET`, `POST`, ...).
    pub method: String,
    /// Request target exactly as sent (path and query, not normalised).
    pub target: String,
    /// Header fields in order, `Host` included.
    pub headers: Vec<(String, String)>,
    /// Body; a `Content-Length` is added when it is non-empty.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A browser-style GET with Host, User-Agent, Accept* and keep-alive headers.
    pub fn get(host: &str, target: &str, user_agent: &str) -> Self {
        HttpRequest {
            method: "GET".into(),
            target: target.into(),
            headers: vec![
                ("Host".into(), host.into()),
                ("User-Agent".into(), user_agent.into()),
                (
                    "Accept".into(),
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".into(),
                ),
                ("Accept-Language".into(), "en-US,en;q=0.5".into()),
                ("Accept-Encoding".into(), "gzip, deflate, br".into()),
                ("Connection".into(), "keep-alive".into()),
            ],
            body: Vec::new(),
        }
    }

    /// A POST of `body` with the given content type.
    pub fn post(
        host: &str,
        target: &str,
        user_agent: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Self {
        let mut r = HttpRequest::get(host, target, user_agent);
        r.method = "POST".into();
        r.headers.push(("Content-Type".into(), content_type.into()));
        r.body = body;
        r
    }

    /// Appends a header field.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the value of a header field (case-insensitive name), appending it if absent.
    pub fn set_header(mut self, name: &str, value: &str) -> Self {
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(h) => h.1 = value.into(),
            None => self.headers.push((name.into(), value.into())),
        }
        self
    }

    /// Wire bytes of the request.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        let has_len = self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
        if !self.body.is_empty() && !has_len {
            s.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        s.push_str("\r\n");
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// An HTTP/1.1 response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Extra header fields (Server, Date, Content-Type and the length are added by `encode`).
    pub headers: Vec<(String, String)>,
    /// Content type of the body.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
    /// When set, the body is sent with `Transfer-Encoding: chunked` in chunks of this size.
    pub chunk_size: Option<usize>,
    /// Value of the Server header.
    pub server: String,
}

impl HttpResponse {
    /// A response with the given status, content type and body.
    pub fn new(status: u16, reason: &str, content_type: &str, body: Vec<u8>) -> Self {
        HttpResponse {
            status,
            reason: reason.into(),
            headers: vec![("Connection".into(), "keep-alive".into())],
            content_type: content_type.into(),
            body,
            chunk_size: None,
            server: "nginx/1.24.0".into(),
        }
    }

    /// `200 OK` with the given content type and body.
    pub fn ok(content_type: &str, body: Vec<u8>) -> Self {
        HttpResponse::new(200, "OK", content_type, body)
    }

    /// Switches to chunked transfer coding with `size`-byte chunks.
    pub fn chunked(mut self, size: usize) -> Self {
        self.chunk_size = Some(size.max(1));
        self
    }

    /// Appends a header field.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the Server header value.
    pub fn server(mut self, server: &str) -> Self {
        self.server = server.into();
        self
    }

    /// Wire bytes of the response, with a Date header for `date`.
    pub fn encode(&self, date: Timestamp) -> Vec<u8> {
        let mut s = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        s.push_str(&format!("Server: {}\r\n", self.server));
        s.push_str(&format!("Date: {}\r\n", http_date(date)));
        s.push_str(&format!("Content-Type: {}\r\n", self.content_type));
        match self.chunk_size {
            Some(_) => s.push_str("Transfer-Encoding: chunked\r\n"),
            None => s.push_str(&format!("Content-Length: {}\r\n", self.body.len())),
        }
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        s.push_str("\r\n");
        let mut out = s.into_bytes();
        match self.chunk_size {
            Some(size) => {
                for chunk in self.body.chunks(size) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
            None => out.extend_from_slice(&self.body),
        }
        out
    }
}

/// IMF-fixdate of a timestamp, e.g. `Thu, 15 Jan 2026 09:00:00 GMT`.
pub fn http_date(ts: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil_from_unix(ts.secs());
    let wd = DAYS.get(c.weekday as usize).copied().unwrap_or("Thu");
    let mon = MONTHS
        .get(c.month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    format!(
        "{wd}, {:02} {mon} {:04} {:02}:{:02}:{:02} GMT",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

const WORDS: &[&str] = &[
    "network", "monitor", "packet", "stream", "session", "server", "client", "report", "update",
    "weather", "market", "travel", "recipe", "garden", "library", "museum", "concert", "science",
    "history", "coffee", "morning", "project", "release", "notes", "photo", "gallery", "city",
    "river", "mountain", "winter", "school", "health", "sport", "music", "review", "story",
];

fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        let w = rng.pick(WORDS).copied().unwrap_or("data");
        if i > 0 {
            s.push(' ');
        }
        s.push_str(w);
    }
    s.push('.');
    s
}

/// An HTML page of roughly `size` bytes (never less than the skeleton).
pub fn html_page(rng: &mut Rng, title: &str, size: usize) -> Vec<u8> {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/static/site.css\">\n\
         <script src=\"/static/app.js\" defer></script>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    let tail = "<footer>&copy; 2026 Example</footer>\n</body>\n</html>\n";
    let mut n = 0;
    while s.len() + tail.len() < size {
        n += 1;
        let words = rng.range(8, 30) as usize;
        s.push_str(&format!(
            "<p id=\"p{n}\">{} <a href=\"/articles/{n}\">more</a></p>\n",
            sentence(rng, words)
        ));
    }
    s.push_str(tail);
    s.into_bytes()
}

/// A stylesheet of roughly `size` bytes.
pub fn css_body(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from("body { font-family: sans-serif; margin: 0; }\n");
    let mut n = 0;
    while s.len() < size {
        n += 1;
        s.push_str(&format!(
            ".c{n} {{ color: #{:06x}; padding: {}px; }}\n",
            rng.range(0, 0xff_ffff),
            rng.range(0, 24)
        ));
    }
    s.into_bytes()
}

/// A script of roughly `size` bytes.
pub fn js_body(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from("\"use strict\";\n");
    let mut n = 0;
    while s.len() < size {
        n += 1;
        s.push_str(&format!(
            "function f{n}(x) {{ return x * {} + {}; }}\n",
            rng.range(1, 999),
            rng.range(0, 9999)
        ));
    }
    s.into_bytes()
}

/// A JSON document (an array of small objects) of roughly `size` bytes.
pub fn json_body(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut s = String::from("{\"items\":[");
    let mut n = 0;
    while s.len() + 2 < size || n == 0 {
        if n > 0 {
            s.push(',');
        }
        n += 1;
        let w = rng.pick(WORDS).copied().unwrap_or("item");
        s.push_str(&format!(
            "{{\"id\":{n},\"name\":\"{w}\",\"score\":{}}}",
            rng.range(0, 1000)
        ));
    }
    s.push_str("]}");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_chunked_encoding() {
        assert_eq!(
            http_date(Timestamp::from_secs(1_768_467_600)),
            "Thu, 15 Jan 2026 09:00:00 GMT"
        );
        let r = HttpResponse::ok("text/plain", b"hello world".to_vec()).chunked(4);
        let wire = String::from_utf8(r.encode(Timestamp::from_secs(0))).expect("ascii");
        assert!(wire.contains("Transfer-Encoding: chunked\r\n"));
        assert!(wire.ends_with("\r\n\r\n4\r\nhell\r\n4\r\no wo\r\n3\r\nrld\r\n0\r\n\r\n"));
        let q = HttpRequest::post("h", "/p", UA_CURL, "text/plain", b"abc".to_vec()).encode();
        assert!(String::from_utf8_lossy(&q).contains("Content-Length: 3\r\n\r\nabc"));
    }
}
