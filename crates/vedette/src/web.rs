//! The dashboard from the command line: `vedette serve`, `--serve ADDR` on analyze/live/demo,
//! and the output that feeds alert lines to the dashboard's live stream.

use crate::config::Config;
use crate::outputs::Output;
use anyhow::Context as _;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use vedette_api::{LiveFeed, RunningServer, ServeOptions};
use vedette_eve::{EventBatch, EventType};

/// Options of `vedette serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Store directory to serve (default: store.path).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Address to listen on (default: web.listen, 127.0.0.1:8080). Any non-loopback address
    /// needs a token.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    #[command(flatten)]
    pub auth: TokenArgs,
    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a configuration key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

/// The API token option shared by every command that serves.
#[derive(Args, Clone, Default)]
pub struct TokenArgs {
    /// Bearer token API requests must carry (else VEDETTE_TOKEN, else web.token). Open the
    /// dashboard as http://HOST:PORT/#token=TOKEN.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

impl TokenArgs {
    /// `--token`, else VEDETTE_TOKEN, else `web.token`; empty means none.
    pub fn resolve(&self, cfg: &Config) -> Option<String> {
        self.token
            .clone()
            .or_else(|| std::env::var("VEDETTE_TOKEN").ok())
            .or_else(|| Some(cfg.web.token.clone()))
            .filter(|t| !t.is_empty())
    }
}

/// The default listen address from the configuration (validated when it was loaded).
pub fn default_listen(cfg: &Config) -> anyhow::Result<SocketAddr> {
    cfg.web
        .listen
        .parse()
        .with_context(|| format!("web.listen '{}' is not an address:port", cfg.web.listen))
}

/// Starts the server. With `fallback_port`, a busy port makes it take a free one instead.
pub fn start(
    listen: SocketAddr,
    store_dir: PathBuf,
    token: Option<String>,
    feed: Option<LiveFeed>,
    fallback_port: bool,
) -> anyhow::Result<RunningServer> {
    let opts = ServeOptions {
        listen,
        store_dir,
        token,
        feed,
    };
    match RunningServer::start(opts.clone()) {
        Ok(s) => Ok(s),
        Err(e) if fallback_port && e.is_addr_in_use() => {
            let mut other = opts;
            other.listen.set_port(0);
            eprintln!("vedette: {listen} is busy; picking a free port");
            Ok(RunningServer::start(other)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Prints where the dashboard is.
pub fn announce(server: &RunningServer, token: bool, until: &str) {
    let addr = server.local_addr();
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let host = if addr.is_ipv6() && !addr.ip().is_unspecified() {
        format!("[{host}]")
    } else {
        host
    };
    let hint = if token {
        " (append #token=<token>)"
    } else {
        ""
    };
    println!("dashboard: http://{host}:{}/{hint} — {until}", addr.port());
}

/// `vedette serve`: the dashboard over an existing store, until SIGINT/SIGTERM.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let cfg = Config::load(args.config.as_deref(), &args.sets)?;
    let listen = match args.listen {
        Some(a) => a,
        None => default_listen(&cfg)?,
    };
    let token = args.auth.resolve(&cfg);
    let dir = args.store.unwrap_or_else(|| cfg.store.path.clone());
    if !vedette_store::db_path(&dir).is_file() {
        eprintln!(
            "vedette: no store in {} yet; the dashboard shows it once events are written",
            dir.display()
        );
    }
    let server = start(listen, dir, token.clone(), None, false)?;
    announce(&server, token.is_some(), "Ctrl-C to stop");
    server.wait_for_signal();
    Ok(())
}

/// An output that publishes every alert line to the dashboard's live stream.
pub struct FeedOutput {
    feed: LiveFeed,
}

impl FeedOutput {
    /// Publishes to `feed`.
    pub fn new(feed: LiveFeed) -> Self {
        FeedOutput { feed }
    }
}

impl Output for FeedOutput {
    fn write(&mut self, batch: &EventBatch) -> anyhow::Result<()> {
        for r in &batch.records {
            if r.event_type != EventType::Alert {
                continue;
            }
            let (start, len) = (r.start as usize, r.len as usize);
            if let Some(line) = batch.buf.get(start..start + len) {
                self.feed.publish(line);
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_eve::RecordMeta;

    #[test]
    fn feed_output_publishes_alert_lines_only() {
        let lines: [(&str, EventType); 3] = [
            ("{\"event_type\":\"flow\"}", EventType::Flow),
            ("{\"event_type\":\"alert\",\"n\":1}", EventType::Alert),
            ("{\"event_type\":\"dns\"}", EventType::Dns),
        ];
        let mut batch = EventBatch::default();
        for (text, event_type) in lines {
            let start = batch.buf.len() as u32;
            batch.buf.extend_from_slice(text.as_bytes());
            batch.buf.push(b'\n');
            batch.records.push(RecordMeta {
                start,
                len: text.len() as u32,
                event_type,
            });
        }
        let feed = LiveFeed::new();
        let mut rx = feed.subscribe();
        let mut out = FeedOutput::new(feed.clone());
        out.write(&batch).expect("write");
        assert_eq!(
            rx.try_recv().expect("the alert").as_ref(),
            "{\"event_type\":\"alert\",\"n\":1}"
        );
        assert!(rx.try_recv().is_err(), "only the alert is published");
    }
}
