//! [`FaultProxy`]: a loopback HTTP/1 proxy put between two services in tests
//! (e.g. vente's `STOCK_URL`). It forwards every request unchanged (method,
//! path and query, headers including `authorization`, `x-request-id` and
//! `idempotency-key`, body) and answers with upstream's status, headers and
//! body, except where a [`Rule`] says to delay, drop, fail or hold it.
//!
//! Dropping is done by failing the hyper service future: hyper then closes
//! the connection without writing a response, which is what a crash or a
//! network cut looks like to the client.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::rules::{Action, Rule, RuleHandle, RuleState};

/// One request as the proxy saw it, for assertions and failure messages.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub request_id: Option<String>,
    /// The action applied, `None` when forwarded untouched.
    pub action: Option<Action>,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    rules: Mutex<Vec<Arc<RuleState>>>,
    seen: Mutex<Vec<Seen>>,
}

/// A fault-injecting proxy on `127.0.0.1:<free port>`; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

/// The service future's error: hyper closes the connection unanswered.
#[derive(Debug)]
struct Dropped(&'static str);

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connexion fermée par FaultProxy : {}", self.0)
    }
}

impl std::error::Error for Dropped {}

/// Headers that describe one hop, not the message.
const HOP_BY_HOP: [header::HeaderName; 7] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
];

fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for h in HOP_BY_HOP {
        out.remove(h);
    }
    out.remove("keep-alive");
    out
}

impl FaultProxy {
    /// Starts a proxy forwarding to `upstream_base_url` (e.g. `http://127.0.0.1:8081`).
    pub async fn start(upstream_base_url: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("FaultProxy bind : {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("FaultProxy addr : {e}"));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap_or_else(|e| panic!("FaultProxy client : {e}"));
        let shared = Arc::new(Shared {
            upstream: upstream_base_url.trim_end_matches('/').to_owned(),
            client,
            rules: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
        });
        let accept_shared = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = accept_shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(shared.clone(), req));
                    // An error here is a dropped or reset connection: intended.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Self { addr, shared, accept }
    }

    /// Base URL to give the client instead of upstream's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Installs `rule` after the existing ones (the first rule that matches
    /// and has budget left applies).
    pub fn add(&self, rule: Rule) -> RuleHandle {
        let state = RuleState::new(rule);
        if let Ok(mut rules) = self.shared.rules.lock() {
            rules.push(state.clone());
        }
        RuleHandle(state)
    }

    /// Removes every rule, releasing requests they hold; traffic flows untouched.
    pub fn clear(&self) {
        let removed: Vec<Arc<RuleState>> =
            self.shared.rules.lock().map(|mut r| r.drain(..).collect()).unwrap_or_default();
        for r in removed {
            r.open();
        }
    }

    /// Every request received so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.clear();
    }
}

/// Runs the request in its own task: a client that gives up (timeout) does
/// not cancel it, so a delayed or held request still reaches upstream late,
/// as it would over a slow network.
async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    tokio::spawn(process(shared, req)).await.unwrap_or(Err(Dropped("tâche interrompue")))
}

async fn process(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let path_and_query = req.uri().path_and_query().map_or_else(|| path.clone(), |p| p.as_str().to_owned());
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let rule = shared
        .rules
        .lock()
        .ok()
        .and_then(|rules| rules.iter().find(|r| r.claim(&method, &path, request_id.as_deref())).cloned());
    if let Ok(mut seen) = shared.seen.lock() {
        seen.push(Seen {
            method: method.clone(),
            path_and_query: path_and_query.clone(),
            request_id,
            action: rule.as_ref().map(|r| r.rule.action.clone()),
        });
    }
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Dropped("corps de requête interrompu"))?.to_bytes();
    let mut drop_after = false;
    if let Some(rule) = &rule {
        match &rule.rule.action {
            Action::Delay(d) => tokio::time::sleep(*d).await,
            Action::DropBeforeForward => return Err(Dropped("avant transmission")),
            Action::DropAfterForward => drop_after = true,
            Action::Status(code) => return Ok(injected(*code)),
            Action::Hold => rule.hold().await,
        }
    }
    let mut headers = end_to_end(&parts.headers);
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    let sent = shared
        .client
        .request(parts.method, format!("{}{path_and_query}", shared.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match sent {
        Ok(r) => r,
        Err(e) => return Ok(problem(StatusCode::BAD_GATEWAY, &format!("amont injoignable : {e}"))),
    };
    let status = upstream.status();
    let headers = end_to_end(upstream.headers());
    let bytes = upstream.bytes().await;
    if let Some(rule) = &rule {
        rule.record_forwarded();
    }
    if drop_after {
        return Err(Dropped("après transmission"));
    }
    let Ok(bytes) = bytes else {
        return Err(Dropped("réponse de l'amont interrompue"));
    };
    let mut resp = Response::new(Full::new(bytes));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    Ok(resp)
}

fn injected(code: u16) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    problem(status, "réponse injectée par FaultProxy (test)")
}

fn problem(status: StatusCode, detail: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Erreur"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp
}
