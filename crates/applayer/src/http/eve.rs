//! EVE `http` records, field for field as Suricata 7's `output-json-http.c` writes them.

use vedette_eve::JsonWriter;
use vedette_types::Direction;

use super::parser::{parse_content_range, status_strtoul};
use super::tx::{Header, Tx};
use super::LogOptions;

/// Suricata truncates dumped header names and values to these sizes (minus the NUL).
const MAX_HEADER_NAME: usize = 255;
const MAX_HEADER_VALUE: usize = 2047;

impl Tx {
    /// Writes `"tx_id"` and the `"http"` object with the options the parser was created with
    /// ([`super::Limits::log`]).
    pub fn write_eve(&self, w: &mut JsonWriter<'_>) {
        self.write_eve_with(w, &self.log);
    }

    /// Same as [`Tx::write_eve`] with explicit options.
    pub fn write_eve_with(&self, w: &mut JsonWriter<'_>, opts: &LogOptions) {
        w.u64("tx_id", self.id);
        w.object("http");
        // Basic fields (always).
        if let Some(h) = &self.hostname {
            w.bytes_str("hostname", h);
        }
        if let Some(p) = self.port {
            w.u64("http_port", u64::from(p));
        }
        if let Some(u) = &self.uri {
            w.bytes_str("url", u);
        }
        if let Some(ua) = self.req.headers.get(b"user-agent") {
            w.bytes_str("http_user_agent", ua);
        }
        if let Some(xff) = self.req.headers.get(b"x-forwarded-for") {
            w.bytes_str("xff", xff);
        }
        if let Some(ct) = self.resp.headers.get(b"content-type") {
            let end = ct
                .iter()
                .position(|c| *c == b';' || *c == 0)
                .unwrap_or(ct.len());
            w.bytes_str("http_content_type", ct.get(..end).unwrap_or(&[]));
        }
        if let Some(cr) = self.resp.headers.get(b"content-range") {
            w.object("content_range");
            w.bytes_str("raw", cr);
            if let Some((start, end, size)) = parse_content_range(cr) {
                for (k, v) in [("start", start), ("end", end), ("size", size)] {
                    if let Ok(v) = u64::try_from(v) {
                        w.u64(k, v);
                    }
                }
            }
            w.close_object();
        }
        if opts.extended {
            if let Some(r) = self.req.headers.get(b"referer") {
                w.bytes_str("http_refer", r);
            }
            if let Some(m) = &self.method {
                w.bytes_str("http_method", m);
            }
            if let Some(p) = &self.req.protocol {
                w.bytes_str("protocol", p);
            }
            if let Some(s) = &self.status {
                w.u64("status", status_strtoul(s));
                if let Some(loc) = self.resp.headers.get(b"location") {
                    w.bytes_str("redirect", loc);
                }
            }
            w.u64("length", self.resp.body.message_len);
        }
        // `dump-all-headers`: Suricata 7 opens the array even when there are no headers.
        if opts.request_headers {
            self.write_header_array(w, "request_headers", Direction::ToServer);
        }
        if opts.response_headers {
            self.write_header_array(w, "response_headers", Direction::ToClient);
        }
        w.close_object();
    }
}

impl Tx {
    fn write_header_array(&self, w: &mut JsonWriter<'_>, key: &str, dir: Direction) {
        w.array(key);
        for (name, value) in self.eve_headers(dir) {
            w.elem_object();
            w.bytes_str("name", name);
            w.bytes_str("value", value);
            w.close_object();
        }
        w.close_array();
    }

    /// The `(name, value)` pairs Suricata's `dump-all-headers` writes for one side as
    /// `request_headers` / `response_headers`: in table order, each cut at a NUL and at 255 /
    /// 2047 bytes.
    pub fn eve_headers(&self, dir: Direction) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let cut = |v: &[u8], max: usize| -> usize {
            v.iter().position(|c| *c == 0).unwrap_or(v.len()).min(max)
        };
        self.headers(dir).iter().map(move |h: &Header| {
            (
                h.name.get(..cut(&h.name, MAX_HEADER_NAME)).unwrap_or(&[]),
                h.value
                    .get(..cut(&h.value, MAX_HEADER_VALUE))
                    .unwrap_or(&[]),
            )
        })
    }
}
