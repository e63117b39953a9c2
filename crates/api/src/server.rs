//! The HTTP server: router, security guard (methods, token, limits, headers), SSE stream, and
//! the thread that owns the tokio runtime.

use crate::auth::{bearer_matches, CSP};
use crate::feed::LiveFeed;
use crate::queries::{self, Filter, QueryError};
use crate::{assets, metrics};
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Json, Router};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

/// SSE clients served at once; more are refused with 503.
pub const MAX_SSE_CLIENTS: usize = 32;
/// Longest query string accepted (bytes); longer requests get 414.
const MAX_QUERY_BYTES: usize = 2048;
/// How often a stream without an in-process feed looks for new alerts in the store.
const STORE_TAIL_INTERVAL: Duration = Duration::from_millis(250);
/// Alerts one store poll hands to a stream at most.
const STORE_TAIL_BATCH: usize = 500;
/// Longest token accepted.
const MAX_TOKEN_BYTES: usize = 256;

/// Every path the router serves (axum syntax); the OpenAPI file documents exactly these.
pub const ROUTES: &[&str] = &[
    "/",
    "/assets/{file}",
    "/api/openapi.json",
    "/api/overview",
    "/api/health",
    "/api/alerts",
    "/api/flows",
    "/api/flows/{flow_id}",
    "/api/detectors",
    "/api/ml",
    "/api/stream",
    "/metrics",
];

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A non-loopback address without a token.
    #[error(
        "refusing to listen on {0} without a token: any address other than loopback needs \
         --token TOKEN (or VEDETTE_TOKEN)"
    )]
    TokenRequired(SocketAddr),
    /// A token that cannot be used.
    #[error("invalid token: {0}")]
    BadToken(&'static str),
    /// Binding the address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or its thread could not start.
    #[error("cannot start the web server: {0}")]
    Start(std::io::Error),
}

impl ApiError {
    /// Whether the address was already in use (callers may pick another port).
    pub fn is_addr_in_use(&self) -> bool {
        matches!(self, ApiError::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse)
    }
}

/// What to serve and how.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The store directory (it may not exist yet: requests then get 503).
    pub store_dir: PathBuf,
    /// Bearer token every API request must carry (`None`: no check, loopback only).
    pub token: Option<String>,
    /// In-process alert feed (analyze/live); without it the stream tails the store.
    pub feed: Option<LiveFeed>,
}

/// Checks that `listen` and `token` may be used together: any non-loopback address needs a
/// token, and a token must be printable ASCII without spaces.
pub fn check_listen(listen: SocketAddr, token: Option<&str>) -> Result<(), ApiError> {
    match token {
        None if !listen.ip().is_loopback() => Err(ApiError::TokenRequired(listen)),
        None => Ok(()),
        Some("") => Err(ApiError::BadToken("empty")),
        Some(t) if t.len() > MAX_TOKEN_BYTES => Err(ApiError::BadToken("longer than 256 bytes")),
        Some(t) if !t.bytes().all(|b| b.is_ascii_graphic()) => Err(ApiError::BadToken(
            "only printable ASCII without spaces is allowed",
        )),
        Some(_) => Ok(()),
    }
}

pub(crate) struct AppState {
    pub(crate) store_dir: PathBuf,
    token: Option<String>,
    pub(crate) feed: Option<LiveFeed>,
    pub(crate) sse_clients: AtomicUsize,
}

/// A server running on its own thread.
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    runtime: tokio::runtime::Handle,
}

impl RunningServer {
    /// Binds `opts.listen` (after [`check_listen`]) and serves on a new thread with a 2-worker
    /// tokio runtime.
    pub fn start(opts: ServeOptions) -> Result<RunningServer, ApiError> {
        check_listen(opts.listen, opts.token.as_deref())?;
        let bind = |source| ApiError::Bind {
            addr: opts.listen,
            source,
        };
        let std_listener = std::net::TcpListener::bind(opts.listen).map_err(bind)?;
        std_listener.set_nonblocking(true).map_err(bind)?;
        let addr = std_listener.local_addr().map_err(bind)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(8)
            .thread_name("vedette-web")
            .enable_all()
            .build()
            .map_err(ApiError::Start)?;
        let handle = runtime.handle().clone();
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(bind)?
        };
        let state = Arc::new(AppState {
            store_dir: opts.store_dir,
            token: opts.token,
            feed: opts.feed,
            sse_clients: AtomicUsize::new(0),
        });
        let app = router(state);
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("vedette-web".into())
            .spawn(move || {
                let served = runtime.block_on(async move {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await
                });
                if let Err(e) = served {
                    tracing::error!("web server stopped: {e}");
                }
                // Open SSE streams would keep a graceful shutdown waiting: drop them.
                runtime.shutdown_timeout(Duration::from_millis(500));
            })
            .map_err(ApiError::Start)?;
        tracing::info!("dashboard listening on http://{addr}/");
        Ok(RunningServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
            runtime: handle,
        })
    }

    /// The address actually bound (the port is known even when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until SIGINT or SIGTERM, then stops the server.
    pub fn wait_for_signal(mut self) {
        let waited = self.runtime.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        });
        if let Err(e) = waited {
            tracing::error!("cannot wait for a signal: {e}");
        }
        self.stop();
    }

    /// Stops accepting, ends open streams and joins the server thread.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn method_router(path: &str) -> Option<MethodRouter<Arc<AppState>>> {
    Some(match path {
        "/" => get(assets::index),
        "/assets/{file}" => get(assets::asset),
        "/api/openapi.json" => get(openapi),
        "/api/overview" => get(overview),
        "/api/health" => get(health),
        "/api/alerts" => get(alerts),
        "/api/flows" => get(flows),
        "/api/flows/{flow_id}" => get(flow_events),
        "/api/detectors" => get(detectors),
        "/api/ml" => get(ml),
        "/api/stream" => get(stream),
        "/metrics" => get(metrics::metrics),
        _ => return None,
    })
}

fn router(state: Arc<AppState>) -> Router {
    let mut r = Router::new();
    for path in ROUTES {
        if let Some(m) = method_router(path) {
            r = r.route(path, m);
        }
    }
    r.fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), guard))
        .with_state(state)
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "no such page")
}

pub(crate) fn error_response(status: StatusCode, msg: &str) -> Response {
    (status, Json(serde_json::json!({ "error": msg }))).into_response()
}

/// Runs before every handler: read-only methods, size limits, the token; adds the security
/// headers to every response.
async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let mut resp = match check_request(&state, &req) {
        Some(refused) => refused,
        None => next.run(req).await,
    };
    let h = resp.headers_mut();
    let mut set = |k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

fn check_request(state: &AppState, req: &Request) -> Option<Response> {
    let method = req.method();
    if method != Method::GET && method != Method::HEAD {
        let mut r = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "the API is read-only: GET and HEAD only",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(r);
    }
    if req.uri().query().map_or(0, str::len) > MAX_QUERY_BYTES {
        return Some(error_response(
            StatusCode::URI_TOO_LONG,
            "query string too long",
        ));
    }
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if has_body {
        return Some(error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "requests carry no body",
        ));
    }
    let path = req.uri().path();
    // Page and assets hold no data (and a browser cannot add a header to a <script> load);
    // every data route needs the token.
    let needs_token = path.starts_with("/api/") || path == "/metrics";
    if let (true, Some(token)) = (needs_token, state.token.as_deref()) {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        if !bearer_matches(given, token) {
            let mut r = error_response(StatusCode::UNAUTHORIZED, "missing or wrong token");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vedette\""),
            );
            return Some(r);
        }
    }
    None
}

/// Runs a store query on the blocking pool and turns its outcome into a response.
async fn blocking_json<F>(state: &Arc<AppState>, f: F) -> Response
where
    F: FnOnce(&rusqlite::Connection) -> Result<serde_json::Value, QueryError> + Send + 'static,
{
    let dir = state.store_dir.clone();
    let joined = tokio::task::spawn_blocking(move || queries::with_store(&dir, f)).await;
    match joined {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => {
            let status = match e {
                QueryError::BadParam(_) => StatusCode::BAD_REQUEST,
                QueryError::NotFound => StatusCode::NOT_FOUND,
                QueryError::NoStore(_) => StatusCode::SERVICE_UNAVAILABLE,
                QueryError::Store(_) | QueryError::Sql(_) => {
                    tracing::warn!("api query failed: {e}");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            error_response(status, &e.to_string())
        }
        Err(e) => {
            tracing::error!("api query task failed: {e}");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "query task failed")
        }
    }
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::OPENAPI_JSON,
    )
        .into_response()
}

async fn overview(State(s): State<Arc<AppState>>, Query(f): Query<Filter>) -> Response {
    blocking_json(&s, move |c| queries::overview(c, &f)).await
}

async fn health(State(s): State<Arc<AppState>>) -> Response {
    blocking_json(&s, queries::health).await
}

async fn alerts(State(s): State<Arc<AppState>>, Query(f): Query<Filter>) -> Response {
    blocking_json(&s, move |c| queries::alerts(c, &f)).await
}

async fn flows(State(s): State<Arc<AppState>>, Query(f): Query<Filter>) -> Response {
    blocking_json(&s, move |c| queries::flows(c, &f)).await
}

async fn flow_events(State(s): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    blocking_json(&s, move |c| queries::flow_events(c, &id)).await
}

async fn detectors(State(s): State<Arc<AppState>>, Query(f): Query<Filter>) -> Response {
    blocking_json(&s, move |c| queries::detectors(c, &f)).await
}

async fn ml(State(s): State<Arc<AppState>>, Query(f): Query<Filter>) -> Response {
    blocking_json(&s, move |c| queries::ml(c, &f)).await
}

/// Decrements the SSE client count when a stream ends.
struct ClientSlot(Arc<AppState>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.sse_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a stream's alerts come from.
enum Source {
    Feed(broadcast::Receiver<Arc<str>>),
    Store {
        last_id: i64,
        pending: VecDeque<String>,
        tick: tokio::time::Interval,
    },
}

/// `/api/stream`: new alerts as server-sent events (`event: alert`, data = the EVE line;
/// `event: lagged`, data = alerts this client skipped).
async fn stream(State(s): State<Arc<AppState>>) -> Response {
    if s.sse_clients.fetch_add(1, Ordering::Relaxed) >= MAX_SSE_CLIENTS {
        s.sse_clients.fetch_sub(1, Ordering::Relaxed);
        return error_response(StatusCode::SERVICE_UNAVAILABLE, "too many live streams");
    }
    let slot = ClientSlot(Arc::clone(&s));
    let source = match &s.feed {
        Some(feed) => Source::Feed(feed.subscribe()),
        None => {
            let dir = s.store_dir.clone();
            let last_id = tokio::task::spawn_blocking(move || queries::last_alert_id(&dir))
                .await
                .unwrap_or(0);
            let mut tick = tokio::time::interval(STORE_TAIL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            Source::Store {
                last_id,
                pending: VecDeque::new(),
                tick,
            }
        }
    };
    let events = futures_util::stream::unfold((source, slot), |(mut source, slot)| async move {
        let event = next_event(&mut source, &slot.0).await?;
        Some((Ok::<Event, Infallible>(event), (source, slot)))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

async fn next_event(source: &mut Source, state: &Arc<AppState>) -> Option<Event> {
    match source {
        Source::Feed(rx) => match rx.recv().await {
            Ok(line) => Some(Event::default().event("alert").data(&*line)),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                if let Some(feed) = &state.feed {
                    feed.counters()
                        .lagged
                        .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                }
                Some(Event::default().event("lagged").data(n.to_string()))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        },
        Source::Store {
            last_id,
            pending,
            tick,
        } => loop {
            if let Some(line) = pending.pop_front() {
                return Some(Event::default().event("alert").data(line));
            }
            tick.tick().await;
            let dir = state.store_dir.clone();
            let after = *last_id;
            let rows = tokio::task::spawn_blocking(move || {
                queries::alerts_after(&dir, after, STORE_TAIL_BATCH)
            })
            .await
            .ok()?;
            for (id, json) in rows {
                *last_id = id;
                pending.push_back(json);
            }
        },
    }
}
