//! Local receivers for tests (feature `testkit`): an HTTP server, UDP and TCP syslog listeners,
//! an SMTP sink, a listener that accepts and never answers, and an RFC 5424 parser. Each server
//! runs on 127.0.0.1 on threads of its own and records what arrived with its arrival time.
#![allow(clippy::unwrap_used)] // test support: a poisoned lock or a failed bind fails the test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message a receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Request line and headers (HTTP), envelope (SMTP), empty otherwise.
    pub head: String,
    /// Body / message.
    pub body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Received>>>;

fn push(log: &Log, head: String, body: Vec<u8>) {
    log.lock().unwrap().push(Received {
        at: Instant::now(),
        head,
        body,
    });
}

/// Polls until `log` holds at least `n` messages or `timeout` passes.
fn wait(log: &Log, n: usize, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if log.lock().unwrap().len() >= n {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// An HTTP/1.1 server answering 200 (or 500 for the first `fail_first` requests).
pub struct HttpReceiver {
    /// Where it listens.
    pub addr: SocketAddr,
    got: Log,
    fail_first: Arc<AtomicU64>,
    /// Requests answered with 500.
    pub failed: Arc<AtomicU64>,
}

impl HttpReceiver {
    /// Starts a server that accepts every request.
    pub fn start() -> Self {
        Self::start_failing(0)
    }

    /// Starts a server whose first `n` requests get a 500.
    pub fn start_failing(n: u64) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let got: Log = Arc::default();
        let fail_first = Arc::new(AtomicU64::new(n));
        let failed = Arc::new(AtomicU64::new(0));
        let (g, ff, fd) = (got.clone(), fail_first.clone(), failed.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let (g, ff, fd) = (g.clone(), ff.clone(), fd.clone());
                std::thread::spawn(move || serve_http(s, &g, &ff, &fd));
            }
        });
        HttpReceiver {
            addr,
            got,
            fail_first,
            failed,
        }
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What arrived (answered 200), in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits for at least `n` requests.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        wait(&self.got, n, timeout)
    }

    /// Requests still to be failed.
    pub fn failing_left(&self) -> u64 {
        self.fail_first.load(Ordering::Relaxed)
    }
}

fn serve_http(s: TcpStream, got: &Log, fail_first: &AtomicU64, failed: &AtomicU64) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut r = BufReader::new(match s.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut w = s;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            head.push_str(&line);
            if head.len() > 65536 {
                return;
            }
        }
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0)
            .min(16 << 20);
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let fail = fail_first
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1))
            .is_ok();
        let status = if fail {
            failed.fetch_add(1, Ordering::Relaxed);
            "500 Internal Server Error"
        } else {
            push(got, head, body);
            "200 OK"
        };
        let resp = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        if w.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// A UDP syslog listener: one message per datagram.
pub struct SyslogUdpReceiver {
    /// Where it listens.
    pub addr: SocketAddr,
    got: Log,
}

impl SyslogUdpReceiver {
    /// Starts listening.
    pub fn start() -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        let got: Log = Arc::default();
        let g = got.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = sock.recv(&mut buf) {
                push(&g, String::new(), buf[..n].to_vec());
            }
        });
        SyslogUdpReceiver { addr, got }
    }

    /// Messages so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits for at least `n` messages.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        wait(&self.got, n, timeout)
    }
}

/// A TCP syslog listener reading RFC 6587 octet-counted frames; a frame that is not
/// `LEN SP MSG` is recorded with the head `BAD FRAME`.
pub struct SyslogTcpReceiver {
    /// Where it listens.
    pub addr: SocketAddr,
    got: Log,
}

impl SyslogTcpReceiver {
    /// Starts listening.
    pub fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let got: Log = Arc::default();
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let g = g.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s);
                    loop {
                        let mut len = Vec::new();
                        match r.read_until(b' ', &mut len) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        let n = std::str::from_utf8(&len[..len.len() - 1])
                            .ok()
                            .and_then(|t| t.parse::<usize>().ok())
                            .filter(|n| *n > 0 && *n < 1 << 20);
                        let Some(n) = n else {
                            push(&g, "BAD FRAME".into(), len);
                            return;
                        };
                        let mut msg = vec![0; n];
                        if r.read_exact(&mut msg).is_err() {
                            return;
                        }
                        push(&g, String::new(), msg);
                    }
                });
            }
        });
        SyslogTcpReceiver { addr, got }
    }

    /// Messages so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits for at least `n` messages.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        wait(&self.got, n, timeout)
    }
}

/// An SMTP server speaking just enough (EHLO without STARTTLS, MAIL, RCPT, DATA, QUIT) and
/// recording each mail: `head` is the envelope (`MAIL FROM` and `RCPT TO` lines), `body` the data.
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    got: Log,
}

impl SmtpSink {
    /// Starts listening.
    pub fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let got: Log = Arc::default();
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let g = g.clone();
                std::thread::spawn(move || serve_smtp(s, &g));
            }
        });
        SmtpSink { addr, got }
    }

    /// Mails so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits for at least `n` mails.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        wait(&self.got, n, timeout)
    }
}

fn serve_smtp(s: TcpStream, got: &Log) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(c) = s.try_clone() else { return };
    let mut r = BufReader::new(c);
    let mut w = s;
    let mut say = |t: &str| w.write_all(t.as_bytes()).is_ok();
    if !say("220 sink ESMTP test\r\n") {
        return;
    }
    let mut envelope = String::new();
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        let ok = if cmd.starts_with("EHLO") {
            say("250-sink\r\n250 8BITMIME\r\n")
        } else if cmd.starts_with("MAIL FROM") || cmd.starts_with("RCPT TO") {
            envelope.push_str(line.trim_end());
            envelope.push('\n');
            say("250 OK\r\n")
        } else if cmd == "DATA" {
            if !say("354 go on\r\n") {
                return;
            }
            let mut data = Vec::new();
            loop {
                let mut l = String::new();
                match r.read_line(&mut l) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                data.extend_from_slice(l.as_bytes());
            }
            push(got, std::mem::take(&mut envelope), data);
            say("250 queued\r\n")
        } else if cmd == "QUIT" {
            let _ = say("221 bye\r\n");
            return;
        } else if cmd.starts_with("HELO") || cmd == "RSET" || cmd == "NOOP" {
            say("250 OK\r\n")
        } else {
            say("502 not implemented\r\n")
        };
        if !ok {
            return;
        }
    }
}

/// A TCP listener that accepts connections and never reads from or answers them.
pub struct Hanging {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicU64>,
}

impl Hanging {
    /// Starts listening.
    pub fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let accepted = Arc::new(AtomicU64::new(0));
        let a = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming().flatten() {
                a.fetch_add(1, Ordering::Relaxed);
                held.push(s);
            }
        });
        Hanging { addr, accepted }
    }
}

/// A loopback address where nothing listens (a port bound, then closed).
pub fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// The fields of an RFC 5424 message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syslog5424 {
    /// PRI value.
    pub pri: u32,
    /// TIMESTAMP.
    pub timestamp: String,
    /// HOSTNAME.
    pub hostname: String,
    /// APP-NAME.
    pub app_name: String,
    /// PROCID.
    pub procid: String,
    /// MSGID.
    pub msgid: String,
    /// SD-ID of the one structured data element.
    pub sd_id: String,
    /// Its parameters, unescaped.
    pub params: Vec<(String, String)>,
    /// MSG (after the BOM).
    pub msg: String,
}

impl Syslog5424 {
    /// One parameter's value.
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a message with exactly one SD element, checking the grammar strictly (version 1,
/// header fields printable ASCII, PARAM-VALUE escapes only before `"`, `\` and `]`).
pub fn parse_rfc5424(m: &[u8]) -> Result<Syslog5424, String> {
    let t = std::str::from_utf8(m).map_err(|e| e.to_string())?;
    let rest = t.strip_prefix('<').ok_or("no <PRI>")?;
    let (pri, rest) = rest.split_once('>').ok_or("no > after PRI")?;
    let pri: u32 = pri.parse().map_err(|_| "bad PRI")?;
    if pri > 191 {
        return Err("PRI > 191".into());
    }
    let rest = rest.strip_prefix("1 ").ok_or("VERSION is not 1")?;
    let mut parts = rest.splitn(6, ' ');
    let mut field = |name: &str, max: usize| -> Result<String, String> {
        let f = parts.next().ok_or(format!("no {name}"))?;
        if f.is_empty() || f.len() > max || !f.bytes().all(|b| (33..=126).contains(&b)) {
            return Err(format!("bad {name}: {f:?}"));
        }
        Ok(f.to_owned())
    };
    let timestamp = field("TIMESTAMP", 64)?;
    let hostname = field("HOSTNAME", 255)?;
    let app_name = field("APP-NAME", 48)?;
    let procid = field("PROCID", 128)?;
    let msgid = field("MSGID", 32)?;
    let sd = parts.next().ok_or("no STRUCTURED-DATA")?;
    let sd = sd.strip_prefix('[').ok_or("SD does not start with [")?;
    let id_end = sd.find([' ', ']']).ok_or("unterminated SD")?;
    let sd_id = sd[..id_end].to_owned();
    let mut params = Vec::new();
    let mut chars = sd[id_end..].char_indices().peekable();
    let body = &sd[id_end..];
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        match c {
            ']' => {
                end = Some(i + 1);
                break;
            }
            ' ' => {
                let name_start = i + 1;
                let eq = body[name_start..].find('=').ok_or("param without =")? + name_start;
                let name = body[name_start..eq].to_owned();
                if name.is_empty() || name.len() > 32 {
                    return Err(format!("bad PARAM-NAME {name:?}"));
                }
                while chars.peek().is_some_and(|(j, _)| *j <= eq) {
                    chars.next();
                }
                if chars.next().map(|(_, c)| c) != Some('"') {
                    return Err("PARAM-VALUE not quoted".into());
                }
                let mut v = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c @ ('"' | '\\' | ']'))) => v.push(c),
                            Some((_, c)) => {
                                v.push('\\');
                                v.push(c);
                            }
                            None => return Err("unterminated escape".into()),
                        },
                        Some((_, '"')) => break,
                        Some((_, ']')) => return Err("unescaped ] in PARAM-VALUE".into()),
                        Some((_, c)) => v.push(c),
                        None => return Err("unterminated PARAM-VALUE".into()),
                    }
                }
                params.push((name, v));
            }
            other => return Err(format!("unexpected {other:?} in SD")),
        }
    }
    let end = end.ok_or("SD element not closed")?;
    let after = &body[end..];
    let msg = after
        .strip_prefix(" \u{feff}")
        .or_else(|| after.strip_prefix(' '))
        .unwrap_or(after)
        .to_owned();
    Ok(Syslog5424 {
        pri,
        timestamp,
        hostname,
        app_name,
        procid,
        msgid,
        sd_id,
        params,
        msg,
    })
}
