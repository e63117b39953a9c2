//! Delivery threads: one per notifier, each behind its own bounded queue, so a slow or dead
//! endpoint only ever fills its own queue. Retries back off exponentially (bounded) and give up
//! at the shutdown deadline.

use crate::config::{
    facility_code, EmailConfig, SyslogConfig, SyslogTransport, WebhookConfig, WebhookFormat,
};
use crate::format::{self, SyslogHeader};
use crate::policy::Notification;
use crate::{NotifierCounters, StartError};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Set once when the run ends: retries and queued work past it are abandoned.
pub type Deadline = Arc<OnceLock<Instant>>;

/// Marks an error message as not worth retrying.
const PERMANENT: &str = "permanent: ";

/// How often a notifier logs failures at most (the rest are counted and summarised).
const FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Retry schedule.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Retries after the first try.
    pub retries: u32,
    /// First backoff.
    pub backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
}

/// Where a notifier sends.
pub enum Sink {
    /// HTTP POST.
    Webhook {
        /// Client with its timeout.
        agent: ureq::Agent,
        /// Target.
        url: String,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body format.
        format: WebhookFormat,
    },
    /// Syslog over UDP.
    SyslogUdp {
        /// Socket connected to the collector.
        socket: UdpSocket,
        /// Header fields.
        header: SyslogHeader,
    },
    /// Syslog over TCP (octet counting).
    SyslogTcp {
        /// `host:port`.
        address: String,
        /// Connect/write timeout.
        timeout: Duration,
        /// The connection, reopened after an error.
        stream: Option<TcpStream>,
        /// Header fields.
        header: SyslogHeader,
    },
    /// SMTP, one mail per batch window.
    Email {
        /// The transport (connects per mail).
        transport: Box<lettre::SmtpTransport>,
        /// Sender.
        from: lettre::message::Mailbox,
        /// Recipients.
        to: Vec<lettre::message::Mailbox>,
        /// Subject prefix.
        prefix: String,
        /// Batch window.
        batch: Duration,
        /// Alerts listed per mail.
        max_listed: usize,
    },
}

fn hostname() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let h = h.trim();
    if !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| (33..=126).contains(&b)) {
        h.to_owned()
    } else {
        "-".into()
    }
}

/// Resolves `address` to its first socket address.
fn resolve(address: &str) -> std::io::Result<std::net::SocketAddr> {
    address.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "address resolves to nothing")
    })
}

impl Sink {
    /// A webhook sink.
    pub fn webhook(c: &WebhookConfig) -> Sink {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(c.timeout_ms)))
            .http_status_as_error(true)
            .max_redirects(0)
            .user_agent("vedette-notify")
            .build()
            .into();
        Sink::Webhook {
            agent,
            url: c.url.clone(),
            headers: c
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            format: c.format,
        }
    }

    /// A syslog sink (UDP sockets are bound and connected here; TCP connects on first use).
    pub fn syslog(c: &SyslogConfig) -> Result<Sink, StartError> {
        let header = SyslogHeader {
            facility: facility_code(&c.facility).unwrap_or(16),
            hostname: if c.hostname.is_empty() {
                hostname()
            } else {
                c.hostname.clone()
            },
            app_name: c.app_name.clone(),
            procid: std::process::id().to_string(),
            sd_id: c.sd_id.clone(),
        };
        Ok(match c.transport {
            SyslogTransport::Udp => {
                let err = |e: std::io::Error| StartError {
                    notifier: c.name.clone(),
                    message: format!("syslog {}: {e}", c.address),
                };
                let target = resolve(&c.address).map_err(err)?;
                let local = if target.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = UdpSocket::bind(local).map_err(err)?;
                socket.connect(target).map_err(err)?;
                Sink::SyslogUdp { socket, header }
            }
            SyslogTransport::Tcp => Sink::SyslogTcp {
                address: c.address.clone(),
                timeout: Duration::from_millis(c.timeout_ms),
                stream: None,
                header,
            },
        })
    }

    /// An SMTP sink: STARTTLS when the server offers it (required with `require_tls`).
    pub fn email(c: &EmailConfig) -> Result<Sink, StartError> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Tls, TlsParameters};
        let err = |m: String| StartError {
            notifier: c.name.clone(),
            message: m,
        };
        let params =
            TlsParameters::new(c.smtp_host.clone()).map_err(|e| err(format!("TLS: {e}")))?;
        let tls = if c.require_tls {
            Tls::Required(params)
        } else {
            Tls::Opportunistic(params)
        };
        let mut b = lettre::SmtpTransport::builder_dangerous(&c.smtp_host)
            .port(c.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_millis(c.timeout_ms)));
        if !c.username.is_empty() {
            b = b.credentials(Credentials::new(c.username.clone(), c.password.clone()));
        }
        let from = c
            .from
            .parse()
            .map_err(|e| err(format!("from {}: {e}", c.from)))?;
        let to =
            c.to.iter()
                .map(|t| t.parse().map_err(|e| err(format!("to {t}: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
        Ok(Sink::Email {
            transport: Box::new(b.build()),
            from,
            to,
            prefix: c.subject_prefix.clone(),
            batch: Duration::from_secs(c.batch_secs),
            max_listed: c.max_alerts_per_mail,
        })
    }

    fn batch_window(&self) -> Option<Duration> {
        match self {
            Sink::Email { batch, .. } => Some(*batch),
            _ => None,
        }
    }

    /// One try at delivering `batch` (one notification except for email). The error says
    /// whether another try can help (a 4xx answer other than 408/429 will not).
    fn try_send(&mut self, notifier: &str, batch: &[Notification]) -> Result<(), (String, bool)> {
        self.try_send_inner(notifier, batch).map_err(|e| {
            let permanent = e.starts_with(PERMANENT);
            (e.trim_start_matches(PERMANENT).to_owned(), !permanent)
        })
    }

    fn try_send_inner(&mut self, notifier: &str, batch: &[Notification]) -> Result<(), String> {
        match self {
            Sink::Webhook {
                agent,
                url,
                headers,
                format,
            } => {
                for n in batch {
                    let body = match format {
                        WebhookFormat::Json => format::webhook_json(notifier, n),
                        WebhookFormat::Slack => format::slack_json(n),
                    };
                    let mut req = agent.post(url.as_str());
                    req = req.header("Content-Type", "application/json");
                    for (k, v) in headers.iter() {
                        req = req.header(k.as_str(), v.as_str());
                    }
                    req.send(body.as_slice()).map_err(|e| match e {
                        ureq::Error::StatusCode(c)
                            if (400..500).contains(&c) && c != 408 && c != 429 =>
                        {
                            format!("{PERMANENT}HTTP status {c}")
                        }
                        other => other.to_string(),
                    })?;
                }
                Ok(())
            }
            Sink::SyslogUdp { socket, header } => {
                for n in batch {
                    let m = format::syslog_message(header, n);
                    socket.send(&m).map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            Sink::SyslogTcp {
                address,
                timeout,
                stream,
                header,
            } => {
                for n in batch {
                    let frame = format::octet_counted(&format::syslog_message(header, n));
                    if stream.is_none() {
                        let target = resolve(address).map_err(|e| e.to_string())?;
                        let s = TcpStream::connect_timeout(&target, *timeout)
                            .map_err(|e| format!("connect {address}: {e}"))?;
                        let _ = s.set_write_timeout(Some(*timeout));
                        let _ = s.set_nodelay(true);
                        *stream = Some(s);
                    }
                    let result = match stream.as_mut() {
                        Some(s) => s.write_all(&frame),
                        None => Ok(()),
                    };
                    if let Err(e) = result {
                        // A partial frame poisons the stream: start over on a new connection.
                        *stream = None;
                        return Err(format!("write {address}: {e}"));
                    }
                }
                Ok(())
            }
            Sink::Email {
                transport,
                from,
                to,
                prefix,
                max_listed,
                ..
            } => {
                use lettre::Transport as _;
                let (subject, body) = format::email_text(prefix, batch, *max_listed);
                let mut m = lettre::Message::builder().from(from.clone());
                for t in to.iter() {
                    m = m.to(t.clone());
                }
                let msg = m
                    .subject(subject)
                    .header(lettre::message::header::ContentType::TEXT_PLAIN)
                    .body(body)
                    .map_err(|e| e.to_string())?;
                transport.send(&msg).map_err(|e| e.to_string())?;
                Ok(())
            }
        }
    }
}

/// Logs failures at most once per [`FAILURE_LOG_INTERVAL`], with how many were not logged.
struct FailureLog {
    last: Option<Instant>,
    quiet: u64,
}

impl FailureLog {
    fn failed(&mut self, notifier: &str, what: &str) {
        if self
            .last
            .is_some_and(|t| t.elapsed() < FAILURE_LOG_INTERVAL)
        {
            self.quiet += 1;
            return;
        }
        let quiet = std::mem::take(&mut self.quiet);
        if quiet > 0 {
            tracing::warn!("notifier {notifier}: {what} ({quiet} more failures not logged)");
        } else {
            tracing::warn!("notifier {notifier}: {what}");
        }
        self.last = Some(Instant::now());
    }
}

/// The delivery thread's state.
pub struct Delivery {
    /// Notifier name.
    pub name: String,
    /// Where to.
    pub sink: Sink,
    /// Retry schedule.
    pub retry: Retry,
    /// Shared counters.
    pub counters: Arc<NotifierCounters>,
    /// End-of-run deadline.
    pub deadline: Deadline,
}

impl Delivery {
    fn past_deadline(&self, extra: Duration) -> bool {
        self.deadline
            .get()
            .is_some_and(|d| Instant::now() + extra > *d)
    }

    /// Delivers `batch` with retries; counts the outcome per notification.
    fn deliver(&mut self, batch: &[Notification], log: &mut FailureLog) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        self.counters.in_flight.store(n, Ordering::Relaxed);
        let mut backoff = self.retry.backoff;
        let mut attempt = 0;
        loop {
            match self.sink.try_send(&self.name, batch) {
                Ok(()) => {
                    self.counters.sent.fetch_add(n, Ordering::Relaxed);
                    if let Some(first) = batch.first() {
                        let ms = first.queued_at.elapsed().as_millis() as u64;
                        self.counters
                            .max_latency_ms
                            .fetch_max(ms, Ordering::Relaxed);
                    }
                    break;
                }
                Err((e, retryable)) => {
                    if !retryable || attempt >= self.retry.retries || self.past_deadline(backoff) {
                        self.counters.failed.fetch_add(n, Ordering::Relaxed);
                        log.failed(
                            &self.name,
                            &format!("giving up after {} tries: {e}", attempt + 1),
                        );
                        break;
                    }
                    log.failed(
                        &self.name,
                        &format!("try {} failed, retrying: {e}", attempt + 1),
                    );
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                    attempt += 1;
                }
            }
        }
        self.counters.in_flight.store(0, Ordering::Relaxed);
    }

    /// Runs until the queue is closed and drained, or the deadline passes.
    pub fn run(mut self, rx: Receiver<Notification>) {
        let mut log = FailureLog {
            last: None,
            quiet: 0,
        };
        let window = self.sink.batch_window();
        let mut pending: Vec<Notification> = Vec::new();
        let mut batch_due: Option<Instant> = None;
        loop {
            if self.past_deadline(Duration::ZERO) {
                // What is still queued is counted as unsent by whoever reads the stats.
                self.counters
                    .unsent_batched
                    .store(pending.len() as u64, Ordering::Relaxed);
                return;
            }
            let wait = match batch_due {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_millis(200),
            };
            match rx.recv_timeout(wait) {
                Ok(n) => match window {
                    None => self.deliver(std::slice::from_ref(&n), &mut log),
                    Some(w) => {
                        if batch_due.is_none() {
                            batch_due = Some(Instant::now() + w);
                        }
                        pending.push(n);
                        self.counters
                            .unsent_batched
                            .store(pending.len() as u64, Ordering::Relaxed);
                    }
                },
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    let rest = std::mem::take(&mut pending);
                    self.counters.unsent_batched.store(0, Ordering::Relaxed);
                    self.deliver(&rest, &mut log);
                    return;
                }
            }
            if batch_due.is_some_and(|d| Instant::now() >= d) {
                let rest = std::mem::take(&mut pending);
                self.counters.unsent_batched.store(0, Ordering::Relaxed);
                self.deliver(&rest, &mut log);
                batch_due = None;
            }
        }
    }
}
