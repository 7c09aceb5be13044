//! Calls to other services: bounded timeouts, the caller's token and request
//! id forwarded, and retries only where a repeat cannot cause a second effect
//! (GET, or a write carrying an idempotency key).
//!
//! A service's base URL may list its replicas (`PRODUIT_URL=http://a,http://b`,
//! what the native launcher passes): calls go straight to them, round robin
//! ([`Peer`]), and a replica that failed (refused the connection, timed out,
//! answered 502/503/504) is skipped for a pause (`PEER_PAUSE_MS`, default
//! 2000) unless every one is. A call that never reached a replica (connection
//! refused) goes on to the next one at once whatever its method; otherwise the
//! retry rules above hold. Compose and Kubernetes give one name per service.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
};
use reqwest::Method;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{error::ApiError, metrics::Metrics};

/// The request id of the current request (set by the gateway or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()))
    }
}

/// Who an outgoing call is made for.
#[derive(Debug, Clone, Copy)]
pub struct CallCtx<'a> {
    pub bearer: &'a str,
    pub request_id: &'a str,
}

/// An answer from another service that was not a success.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub status: StatusCode,
    pub body: Value,
}

/// The replicas of one peer service: round robin with passive health.
#[derive(Debug)]
pub struct Peer {
    endpoints: Vec<Endpoint>,
    next: AtomicUsize,
    pause: Duration,
}

#[derive(Debug)]
struct Endpoint {
    base: String,
    paused_until: Mutex<Option<Instant>>,
}

impl Peer {
    /// `list`: base URLs separated by commas (one is fine).
    pub fn parse(list: &str, pause: Duration) -> Self {
        let mut endpoints: Vec<Endpoint> = list
            .split(',')
            .map(|b| b.trim().trim_end_matches('/'))
            .filter(|b| !b.is_empty())
            .map(|b| Endpoint { base: b.to_owned(), paused_until: Mutex::new(None) })
            .collect();
        if endpoints.is_empty() {
            endpoints.push(Endpoint { base: String::new(), paused_until: Mutex::new(None) });
        }
        Self { endpoints, next: AtomicUsize::new(0), pause }
    }

    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn base(&self, i: usize) -> &str {
        &self.endpoints[i].base
    }

    /// Whether endpoint `i` is being skipped after a failure.
    pub fn is_paused(&self, i: usize) -> bool {
        let now = Instant::now();
        self.endpoints[i].paused_until.lock().map(|p| p.is_some_and(|t| t > now)).unwrap_or(false)
    }

    /// The next endpoint in turn, preferring one neither paused nor in `tried`,
    /// then one not in `tried`, then the next in turn.
    pub fn pick(&self, tried: &[bool]) -> usize {
        let n = self.endpoints.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let order = (0..n).map(|k| (start + k) % n);
        let untried = |i: &usize| !tried.get(*i).copied().unwrap_or(false);
        order
            .clone()
            .filter(untried)
            .find(|i| !self.is_paused(*i))
            .or_else(|| order.clone().find(untried))
            .unwrap_or(start)
    }

    /// Endpoint `i` failed: skip it for the pause.
    pub fn failed(&self, i: usize) {
        if let Ok(mut p) = self.endpoints[i].paused_until.lock() {
            *p = Some(Instant::now() + self.pause);
        }
    }

    /// Endpoint `i` answered: no pause.
    pub fn answered(&self, i: usize) {
        if let Ok(mut p) = self.endpoints[i].paused_until.lock()
            && p.is_some()
        {
            *p = None;
        }
    }
}

#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    metrics: Metrics,
    /// One [`Peer`] per configured base list, shared by every call.
    peers: Arc<RwLock<HashMap<String, Arc<Peer>>>>,
    pause: Duration,
}

const ATTEMPTS: usize = 3;

impl ServiceClient {
    pub fn new(metrics: Metrics) -> anyhow::Result<Self> {
        let pause = Duration::from_millis(crate::config::env_or("PEER_PAUSE_MS", 2000)?);
        Self::with_pause(metrics, pause)
    }

    /// A client whose failed replicas are skipped for `pause`.
    pub fn with_pause(metrics: Metrics, pause: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(500))
            .timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self { http, metrics, peers: Arc::default(), pause })
    }

    /// The replicas behind `bases` (a base URL, or several separated by commas).
    pub fn peer(&self, bases: &str) -> Arc<Peer> {
        if let Ok(peers) = self.peers.read()
            && let Some(p) = peers.get(bases)
        {
            return p.clone();
        }
        let mut peers = self.peers.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        peers.entry(bases.to_owned()).or_insert_with(|| Arc::new(Peer::parse(bases, self.pause))).clone()
    }

    /// GET `path` from one of `bases` as JSON. `Ok(Err(upstream))` for a 4xx answer.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        target: &str,
        bases: &str,
        path: &str,
        ctx: CallCtx<'_>,
    ) -> Result<Result<T, Upstream>, ApiError> {
        self.call(Method::GET, target, bases, path, None::<&()>, None, ctx).await
    }

    /// Sends a JSON write to one of `bases`. Retried only when
    /// `idempotency_key` is given (or when no replica was reached).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        target: &str,
        bases: &str,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
        ctx: CallCtx<'_>,
    ) -> Result<Result<T, Upstream>, ApiError> {
        self.call(method, target, bases, path, Some(body), idempotency_key, ctx).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        target: &str,
        bases: &str,
        path: &str,
        body: Option<&B>,
        idempotency_key: Option<&str>,
        ctx: CallCtx<'_>,
    ) -> Result<Result<T, Upstream>, ApiError> {
        let peer = self.peer(bases);
        let retryable = method == Method::GET || idempotency_key.is_some();
        let mut attempts_left = if retryable { ATTEMPTS } else { 1 };
        let mut backoffs = 0u32;
        let mut tried = vec![false; peer.len()];
        let mut last: String;
        let mut url: String;
        // Whether any attempt may have reached the service.
        let mut maybe_delivered = false;
        loop {
            let i = peer.pick(&tried);
            tried[i] = true;
            url = format!("{}{path}", peer.base(i));
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header("authorization", ctx.bearer)
                .header("x-request-id", ctx.request_id);
            if let Some(key) = idempotency_key {
                req = req.header("idempotency-key", key);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            // Never reached: another replica may take it at once, whatever the method.
            let mut refused = false;
            match req.send().await {
                Ok(res) if res.status().is_success() => {
                    peer.answered(i);
                    self.metrics.upstream_result(target, "ok");
                    return res.json::<T>().await.map(Ok).map_err(|e| {
                        ApiError::Internal(anyhow::anyhow!("réponse illisible de {target} ({url}) : {e}"))
                    });
                }
                Ok(res) if res.status().is_client_error() => {
                    peer.answered(i);
                    self.metrics.upstream_result(target, "client_error");
                    let status = res.status();
                    let body = res.json::<Value>().await.unwrap_or(Value::Null);
                    return Ok(Err(Upstream { status, body }));
                }
                Ok(res) => {
                    self.metrics.upstream_result(target, "server_error");
                    if matches!(res.status().as_u16(), 502..=504) {
                        peer.failed(i);
                    }
                    maybe_delivered = true;
                    last = format!("statut {}", res.status());
                }
                Err(e) => {
                    self.metrics.upstream_result(target, "unreachable");
                    peer.failed(i);
                    refused = e.is_connect();
                    maybe_delivered |= !refused;
                    last = e.to_string();
                }
            }
            if refused && tried.iter().any(|t| !t) {
                continue;
            }
            attempts_left -= 1;
            if attempts_left == 0 {
                break;
            }
            backoffs += 1;
            tried.iter_mut().for_each(|t| *t = false);
            tokio::time::sleep(Duration::from_millis(50 * (1 << backoffs))).await;
        }
        tracing::warn!(target, url, error = %last, "service dépendant indisponible");
        let detail = format!("Le service {target} ne répond pas ; réessayez dans un instant.");
        Err(if maybe_delivered { ApiError::Unavailable(detail) } else { ApiError::Unreachable(detail) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use axum::{Router, http::HeaderMap};

    use super::*;

    const CTX: CallCtx<'static> = CallCtx { bearer: "Bearer jeton", request_id: "req-42" };

    /// A server on `listener` answering `status` on every path, counting hits.
    fn serve(listener: tokio::net::TcpListener, status: StatusCode) -> Arc<AtomicUsize> {
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let app = Router::new().fallback(move |headers: HeaderMap| {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let echo = serde_json::json!({
                    "authorization": header("authorization"),
                    "request_id": header("x-request-id"),
                    "cle": header("idempotency-key"),
                });
                (status, axum::Json(echo))
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        hits
    }

    async fn listener() -> (tokio::net::TcpListener, String) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        (l, url)
    }

    fn client(pause: Duration) -> ServiceClient {
        ServiceClient::with_pause(Metrics::new("test"), pause).unwrap()
    }

    #[tokio::test]
    async fn a_dead_replica_is_skipped_then_tried_again_after_the_pause() {
        let (down, down_url) = listener().await;
        let down_addr = down.local_addr().unwrap();
        drop(down);
        let (up, up_url) = listener().await;
        let up_hits = serve(up, StatusCode::OK);
        let c = client(Duration::from_millis(200));
        let bases = format!("{down_url}, {up_url}/");
        for _ in 0..6 {
            let v: Value = c.get_json("produit", &bases, "/api/x", CTX).await.unwrap().unwrap();
            assert_eq!(v["authorization"], "Bearer jeton");
        }
        assert_eq!(up_hits.load(Ordering::SeqCst), 6, "every call answered by the live replica");
        // Writes that never reached anyone go on to the next replica, keyed or not.
        let _: Value = c.send_json(Method::POST, "produit", &bases, "/api/x", &1, None, CTX).await.unwrap().unwrap();
        assert_eq!(up_hits.load(Ordering::SeqCst), 7);
        // Back on its port: tried again once its pause is over.
        let back = serve(tokio::net::TcpListener::bind(down_addr).await.unwrap(), StatusCode::OK);
        let deadline = Instant::now() + Duration::from_secs(20);
        while back.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            let _: Value = c.get_json("produit", &bases, "/api/x", CTX).await.unwrap().unwrap();
        }
        assert!(back.load(Ordering::SeqCst) > 0, "the replica back on its port is called again");
        assert!(!c.peer(&bases).is_paused(0));
    }

    #[tokio::test]
    async fn a_paused_replica_is_not_called_during_its_pause() {
        let (a, a_url) = listener().await;
        let (b, b_url) = listener().await;
        let (a_hits, b_hits) = (serve(a, StatusCode::OK), serve(b, StatusCode::OK));
        let c = client(Duration::from_secs(3600));
        let bases = format!("{a_url},{b_url}");
        c.peer(&bases).failed(0);
        for _ in 0..4 {
            let _: Value = c.get_json("produit", &bases, "/p", CTX).await.unwrap().unwrap();
        }
        assert_eq!((a_hits.load(Ordering::SeqCst), b_hits.load(Ordering::SeqCst)), (0, 4));
        // Both paused: calls still go out (round robin), nothing is refused locally.
        c.peer(&bases).failed(1);
        for _ in 0..4 {
            let _: Value = c.get_json("produit", &bases, "/p", CTX).await.unwrap().unwrap();
        }
        assert_eq!(a_hits.load(Ordering::SeqCst) + b_hits.load(Ordering::SeqCst), 8);
    }

    #[tokio::test]
    async fn never_reached_and_unknown_outcome_stay_distinct() {
        let (down, down_url) = listener().await;
        drop(down);
        let c = client(Duration::from_millis(10));
        let r = c.get_json::<Value>("stock", &down_url, "/x", CTX).await;
        assert!(matches!(r, Err(ApiError::Unreachable(_))), "{r:?}");

        let (busy, busy_url) = listener().await;
        let hits = serve(busy, StatusCode::SERVICE_UNAVAILABLE);
        let r = c.send_json::<_, Value>(Method::POST, "stock", &busy_url, "/x", &1, Some("k1"), CTX).await;
        assert!(matches!(r, Err(ApiError::Unavailable(_))), "{r:?}");
        assert_eq!(hits.load(Ordering::SeqCst), ATTEMPTS, "a keyed write is retried");
        let r = c.send_json::<_, Value>(Method::POST, "stock", &busy_url, "/x", &1, None, CTX).await;
        assert!(matches!(r, Err(ApiError::Unavailable(_))), "{r:?}");
        assert_eq!(hits.load(Ordering::SeqCst), ATTEMPTS + 1, "an unkeyed write that arrived is not repeated");
    }

    #[tokio::test]
    async fn token_request_id_and_key_are_carried_and_4xx_is_returned() {
        let (ok, ok_url) = listener().await;
        serve(ok, StatusCode::OK);
        let c = client(Duration::from_millis(10));
        let v: Value =
            c.send_json(Method::POST, "vente", &ok_url, "/x", &1, Some("cle-1"), CTX).await.unwrap().unwrap();
        assert_eq!(
            (v["authorization"].as_str(), v["request_id"].as_str(), v["cle"].as_str()),
            (Some("Bearer jeton"), Some("req-42"), Some("cle-1"))
        );
        let (nf, nf_url) = listener().await;
        serve(nf, StatusCode::NOT_FOUND);
        let up = c.get_json::<Value>("vente", &nf_url, "/x", CTX).await.unwrap().unwrap_err();
        assert_eq!(up.status, StatusCode::NOT_FOUND);
    }
}
