//! The `[notify]` configuration: notifier lists, their routing rules and limits. Strict like the
//! rest of vedette's config (unknown keys are errors); every default is a named constant.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Default dispatcher queue (alerts waiting to be routed).
pub const DEFAULT_QUEUE_ALERTS: usize = 4096;
/// Default queue of each notifier's delivery thread.
pub const DEFAULT_NOTIFIER_QUEUE: usize = 1024;
/// Default wait for pending notifications at the end of a run.
pub const DEFAULT_SHUTDOWN_TIMEOUT_MS: u64 = 5000;
/// Default dedup window.
pub const DEFAULT_DEDUP_SECS: u64 = 60;
/// Default dedup table cap per notifier.
pub const DEFAULT_MAX_DEDUP_ENTRIES: usize = 10_000;
/// Default sustained rate per notifier.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 60;
/// Default burst per notifier.
pub const DEFAULT_BURST: u32 = 20;
/// Default HTTP / SMTP / TCP timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 5000;
/// Default retries after a failed delivery.
pub const DEFAULT_RETRIES: u32 = 3;
/// Default first backoff (doubled per retry).
pub const DEFAULT_BACKOFF_MS: u64 = 500;
/// Default longest backoff.
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 10_000;
/// Default email batching window.
pub const DEFAULT_EMAIL_BATCH_SECS: u64 = 60;
/// Default alerts listed in one mail.
pub const DEFAULT_MAX_ALERTS_PER_MAIL: usize = 100;
/// Most notifiers of all kinds together.
pub const MAX_NOTIFIERS: usize = 64;

/// `[notify]`: nothing is sent until a notifier is listed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Alerts queued between the output thread and the dispatcher; when full, alerts are dropped
    /// for notification only and counted.
    #[serde(default = "d_queue_alerts")]
    pub queue_alerts: usize,
    /// Notifications queued per notifier; when full, new ones are dropped and counted.
    #[serde(default = "d_notifier_queue")]
    pub notifier_queue: usize,
    /// Longest wait for pending notifications when a run ends.
    #[serde(default = "d_shutdown")]
    pub shutdown_timeout_ms: u64,
    /// JSON (or Slack) HTTP POSTs.
    #[serde(default)]
    pub webhook: Vec<WebhookConfig>,
    /// Syslog (RFC 5424) over UDP or TCP.
    #[serde(default)]
    pub syslog: Vec<SyslogConfig>,
    /// Email over SMTP.
    #[serde(default)]
    pub email: Vec<EmailConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            queue_alerts: DEFAULT_QUEUE_ALERTS,
            notifier_queue: DEFAULT_NOTIFIER_QUEUE,
            shutdown_timeout_ms: DEFAULT_SHUTDOWN_TIMEOUT_MS,
            webhook: Vec::new(),
            syslog: Vec::new(),
            email: Vec::new(),
        }
    }
}

fn d_queue_alerts() -> usize {
    DEFAULT_QUEUE_ALERTS
}
fn d_notifier_queue() -> usize {
    DEFAULT_NOTIFIER_QUEUE
}
fn d_shutdown() -> u64 {
    DEFAULT_SHUTDOWN_TIMEOUT_MS
}
fn d_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn d_retries() -> u32 {
    DEFAULT_RETRIES
}
fn d_backoff() -> u64 {
    DEFAULT_BACKOFF_MS
}
fn d_max_backoff() -> u64 {
    DEFAULT_MAX_BACKOFF_MS
}
fn d_app_name() -> String {
    "vedette".into()
}
fn d_sd_id() -> String {
    "vedette@32473".into()
}
fn d_facility() -> String {
    "local0".into()
}
fn d_email_batch() -> u64 {
    DEFAULT_EMAIL_BATCH_SECS
}
fn d_max_per_mail() -> usize {
    DEFAULT_MAX_ALERTS_PER_MAIL
}
fn d_smtp_port() -> u16 {
    25
}
fn d_subject_prefix() -> String {
    "[vedette]".into()
}

/// The body a webhook receives.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// vedette's JSON: the EVE alert record plus count and window.
    #[default]
    Json,
    /// A Slack incoming-webhook message (`text` + `blocks`), also understood by Mattermost and
    /// Rocket.Chat.
    Slack,
}

/// `[[notify.webhook]]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name in logs and stats (default `webhook<N>`).
    #[serde(default)]
    pub name: String,
    /// `http://` or `https://` URL.
    pub url: String,
    /// Body format.
    #[serde(default)]
    pub format: WebhookFormat,
    /// Extra request headers (e.g. `Authorization`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Whole-request timeout.
    #[serde(default = "d_timeout")]
    pub timeout_ms: u64,
    /// Retries after a failure (connection error, timeout, 5xx, 429).
    #[serde(default = "d_retries")]
    pub retries: u32,
    /// First wait before a retry; doubled each time up to `max_backoff_ms`.
    #[serde(default = "d_backoff")]
    pub backoff_ms: u64,
    /// Longest wait between two tries.
    #[serde(default = "d_max_backoff")]
    pub max_backoff_ms: u64,
    /// Which alerts.
    #[serde(default)]
    pub route: Route,
    /// Dedup and rate limit.
    #[serde(default)]
    pub limits: Limits,
}

/// Syslog transport.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    /// One datagram per message (RFC 5426).
    #[default]
    Udp,
    /// A stream with octet-counting framing (RFC 6587 section 3.4.1).
    Tcp,
}

/// `[[notify.syslog]]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// Name in logs and stats (default `syslog<N>`).
    #[serde(default)]
    pub name: String,
    /// `host:port` of the collector.
    pub address: String,
    /// UDP or TCP.
    #[serde(default)]
    pub transport: SyslogTransport,
    /// Facility name (`kern`, `user`, `daemon`, `auth`, `local0`..`local7`, ...) or number 0..=23.
    #[serde(default = "d_facility")]
    pub facility: String,
    /// APP-NAME field (printable ASCII, at most 48 characters).
    #[serde(default = "d_app_name")]
    pub app_name: String,
    /// HOSTNAME field; empty: this machine's host name.
    #[serde(default)]
    pub hostname: String,
    /// SD-ID of the structured data element (`name@<private enterprise number>`).
    #[serde(default = "d_sd_id")]
    pub sd_id: String,
    /// Connect / write timeout (TCP).
    #[serde(default = "d_timeout")]
    pub timeout_ms: u64,
    /// Retries (TCP: reconnect and resend).
    #[serde(default = "d_retries")]
    pub retries: u32,
    /// First wait before a retry; doubled up to `max_backoff_ms`.
    #[serde(default = "d_backoff")]
    pub backoff_ms: u64,
    /// Longest wait between two tries.
    #[serde(default = "d_max_backoff")]
    pub max_backoff_ms: u64,
    /// Which alerts.
    #[serde(default)]
    pub route: Route,
    /// Dedup and rate limit.
    #[serde(default)]
    pub limits: Limits,
}

/// `[[notify.email]]`
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Name in logs and stats (default `email<N>`).
    #[serde(default)]
    pub name: String,
    /// SMTP server host.
    pub smtp_host: String,
    /// SMTP server port.
    #[serde(default = "d_smtp_port")]
    pub smtp_port: u16,
    /// Refuse to send unless the server offers STARTTLS (otherwise TLS is used when offered).
    #[serde(default)]
    pub require_tls: bool,
    /// SMTP AUTH user (empty: no authentication).
    #[serde(default)]
    pub username: String,
    /// SMTP AUTH password.
    #[serde(default)]
    pub password: String,
    /// Sender address.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject prefix.
    #[serde(default = "d_subject_prefix")]
    pub subject_prefix: String,
    /// Notifications arriving within this many seconds of the first go out in one mail.
    #[serde(default = "d_email_batch")]
    pub batch_secs: u64,
    /// Alerts listed in one mail (the rest are counted in it).
    #[serde(default = "d_max_per_mail")]
    pub max_alerts_per_mail: usize,
    /// SMTP timeout.
    #[serde(default = "d_timeout")]
    pub timeout_ms: u64,
    /// Retries of a failed mail.
    #[serde(default = "d_retries")]
    pub retries: u32,
    /// First wait before a retry; doubled up to `max_backoff_ms`.
    #[serde(default = "d_backoff")]
    pub backoff_ms: u64,
    /// Longest wait between two tries.
    #[serde(default = "d_max_backoff")]
    pub max_backoff_ms: u64,
    /// Which alerts.
    #[serde(default)]
    pub route: Route,
    /// Dedup and rate limit.
    #[serde(default)]
    pub limits: Limits,
}

/// A sid or an inclusive sid range (`"2000000-2999999"`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum SidSpec {
    /// One sid.
    One(u64),
    /// `"low-high"` (or one number as a string).
    Range(String),
}

/// Which alerts a notifier takes. Every listed criterion must hold (an empty list or an absent
/// key does not filter); within a list, any entry may match.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Alerts at least this important: `alert.severity` ≤ this (Suricata: 1 is the highest).
    /// Absent: every severity.
    #[serde(default)]
    pub min_severity: Option<u8>,
    /// `alert.category` (the classtype's description, e.g. "Attempted Information Leak") or the
    /// classtype name (`attempted-recon`, from the rule's `metadata`/`classtype` if logged);
    /// compared without regard to case.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Signature ids or ranges.
    #[serde(default)]
    pub sids: Vec<SidSpec>,
    /// Generator ids (1: signatures, 9000: anomaly detectors).
    #[serde(default)]
    pub gids: Vec<u64>,
    /// `vedette.detector` of anomaly/ML alerts (`port_scan`, `beacon`, `ml`, ...); the name
    /// `signature` stands for alerts raised by rules (no detector).
    #[serde(default)]
    pub detectors: Vec<String>,
}

/// Dedup and rate limits of one notifier.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Same signature (gid:sid) and source IP within this many seconds: the first goes out at
    /// once, the repeats as one follow-up with their count when the window closes. 0: off.
    #[serde(default = "d_dedup_secs")]
    pub dedup_secs: u64,
    /// Most open dedup windows; past it, alerts bypass dedup (counted as `dedup_table_full`).
    #[serde(default = "d_max_dedup")]
    pub max_dedup_entries: usize,
    /// Sustained notifications per minute (token bucket refill); 0: no rate limit.
    #[serde(default = "d_rate")]
    pub rate_per_minute: u32,
    /// Bucket size: notifications that may go out at once.
    #[serde(default = "d_burst")]
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            dedup_secs: DEFAULT_DEDUP_SECS,
            max_dedup_entries: DEFAULT_MAX_DEDUP_ENTRIES,
            rate_per_minute: DEFAULT_RATE_PER_MINUTE,
            burst: DEFAULT_BURST,
        }
    }
}

fn d_dedup_secs() -> u64 {
    DEFAULT_DEDUP_SECS
}
fn d_max_dedup() -> usize {
    DEFAULT_MAX_DEDUP_ENTRIES
}
fn d_rate() -> u32 {
    DEFAULT_RATE_PER_MINUTE
}
fn d_burst() -> u32 {
    DEFAULT_BURST
}

/// A configuration value that cannot work, with its key path below `notify.`.
#[derive(Debug, thiserror::Error)]
#[error("notify.{key}: {message}")]
pub struct ConfigError {
    /// Key path below `notify.` (e.g. `webhook[0].url`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn bad(key: String, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key,
        message: message.into(),
    }
}

/// Parses a facility name or number.
pub fn facility_code(name: &str) -> Option<u8> {
    const NAMES: [&str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
        "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
        "local3", "local4", "local5", "local6", "local7",
    ];
    let n = name.trim().to_ascii_lowercase();
    if let Ok(v) = n.parse::<u8>() {
        return (v < 24).then_some(v);
    }
    NAMES.iter().position(|f| *f == n).map(|i| i as u8)
}

/// Parses one sid spec into an inclusive range.
pub fn sid_range(s: &SidSpec) -> Option<(u64, u64)> {
    match s {
        SidSpec::One(v) => Some((*v, *v)),
        SidSpec::Range(t) => {
            let (lo, hi) = match t.split_once('-') {
                Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
                None => {
                    let v = t.trim().parse().ok()?;
                    (v, v)
                }
            };
            (lo <= hi).then_some((lo, hi))
        }
    }
}

fn printable_ascii(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| (33..=126).contains(&b))
}

impl NotifyConfig {
    /// Whether any notifier is configured.
    pub fn any(&self) -> bool {
        !(self.webhook.is_empty() && self.syslog.is_empty() && self.email.is_empty())
    }

    /// Checks every value and fills in default names; errors name the key.
    pub fn prepare(&mut self) -> Result<(), ConfigError> {
        if self.queue_alerts == 0 || self.queue_alerts > 1 << 20 {
            return Err(bad("queue_alerts".into(), "must be 1..=1048576"));
        }
        if self.notifier_queue == 0 || self.notifier_queue > 1 << 20 {
            return Err(bad("notifier_queue".into(), "must be 1..=1048576"));
        }
        if self.shutdown_timeout_ms > 600_000 {
            return Err(bad("shutdown_timeout_ms".into(), "must be at most 600000"));
        }
        if self.webhook.len() + self.syslog.len() + self.email.len() > MAX_NOTIFIERS {
            return Err(bad("webhook".into(), "at most 64 notifiers in all"));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, w) in self.webhook.iter_mut().enumerate() {
            let k = |f: &str| format!("webhook[{i}].{f}");
            if w.name.is_empty() {
                w.name = format!("webhook{i}");
            }
            let lower = w.url.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                return Err(bad(k("url"), "must start with http:// or https://"));
            }
            for (h, v) in &w.headers {
                if h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                    return Err(bad(k("headers"), format!("bad header name {h:?}")));
                }
                if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                    return Err(bad(k("headers"), format!("header {h} has a line break")));
                }
            }
            check_delivery(&k, w.timeout_ms, w.retries, w.backoff_ms, w.max_backoff_ms)?;
            check_route_limits(&k, &w.route, &w.limits)?;
            if !names.insert(w.name.clone()) {
                return Err(bad(k("name"), "names must be unique"));
            }
        }
        for (i, s) in self.syslog.iter_mut().enumerate() {
            let k = |f: &str| format!("syslog[{i}].{f}");
            if s.name.is_empty() {
                s.name = format!("syslog{i}");
            }
            if !s.address.contains(':') {
                return Err(bad(k("address"), "expected host:port"));
            }
            if facility_code(&s.facility).is_none() {
                return Err(bad(k("facility"), "unknown facility"));
            }
            if !printable_ascii(&s.app_name, 48) {
                return Err(bad(k("app_name"), "1 to 48 printable ASCII characters"));
            }
            if !s.hostname.is_empty() && !printable_ascii(&s.hostname, 255) {
                return Err(bad(k("hostname"), "1 to 255 printable ASCII characters"));
            }
            if !printable_ascii(&s.sd_id, 32) || s.sd_id.contains(['=', ']', '"']) {
                return Err(bad(
                    k("sd_id"),
                    "1 to 32 printable ASCII characters except = ] \"",
                ));
            }
            check_delivery(&k, s.timeout_ms, s.retries, s.backoff_ms, s.max_backoff_ms)?;
            check_route_limits(&k, &s.route, &s.limits)?;
            if !names.insert(s.name.clone()) {
                return Err(bad(k("name"), "names must be unique"));
            }
        }
        for (i, e) in self.email.iter_mut().enumerate() {
            let k = |f: &str| format!("email[{i}].{f}");
            if e.name.is_empty() {
                e.name = format!("email{i}");
            }
            if e.smtp_host.is_empty() {
                return Err(bad(k("smtp_host"), "must not be empty"));
            }
            if e.from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(bad(k("from"), "not an email address"));
            }
            if e.to.is_empty() {
                return Err(bad(k("to"), "at least one recipient"));
            }
            for t in &e.to {
                if t.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(bad(k("to"), format!("not an email address: {t}")));
                }
            }
            if e.username.is_empty() != e.password.is_empty() {
                return Err(bad(k("username"), "username and password go together"));
            }
            if e.batch_secs > 86_400 {
                return Err(bad(k("batch_secs"), "must be at most 86400"));
            }
            if e.max_alerts_per_mail == 0 || e.max_alerts_per_mail > 10_000 {
                return Err(bad(k("max_alerts_per_mail"), "must be 1..=10000"));
            }
            check_delivery(&k, e.timeout_ms, e.retries, e.backoff_ms, e.max_backoff_ms)?;
            check_route_limits(&k, &e.route, &e.limits)?;
            if !names.insert(e.name.clone()) {
                return Err(bad(k("name"), "names must be unique"));
            }
        }
        Ok(())
    }
}

fn check_delivery(
    k: &dyn Fn(&str) -> String,
    timeout_ms: u64,
    retries: u32,
    backoff_ms: u64,
    max_backoff_ms: u64,
) -> Result<(), ConfigError> {
    if timeout_ms == 0 || timeout_ms > 300_000 {
        return Err(bad(k("timeout_ms"), "must be 1..=300000"));
    }
    if retries > 20 {
        return Err(bad(k("retries"), "must be at most 20"));
    }
    if max_backoff_ms > 600_000 || backoff_ms > max_backoff_ms {
        return Err(bad(
            k("backoff_ms"),
            "backoff_ms <= max_backoff_ms <= 600000",
        ));
    }
    Ok(())
}

fn check_route_limits(
    k: &dyn Fn(&str) -> String,
    r: &Route,
    l: &Limits,
) -> Result<(), ConfigError> {
    for s in &r.sids {
        if sid_range(s).is_none() {
            return Err(bad(
                k("route.sids"),
                format!("{s:?}: expected a sid or \"low-high\""),
            ));
        }
    }
    if l.max_dedup_entries == 0 || l.max_dedup_entries > 10_000_000 {
        return Err(bad(k("limits.max_dedup_entries"), "must be 1..=10000000"));
    }
    if l.dedup_secs > 86_400 {
        return Err(bad(k("limits.dedup_secs"), "must be at most 86400"));
    }
    if l.rate_per_minute > 0 && l.burst == 0 {
        return Err(bad(
            k("limits.burst"),
            "must be at least 1 when rate_per_minute is set",
        ));
    }
    Ok(())
}
