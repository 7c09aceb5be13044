//! Calls to other services: bounded timeouts, the caller's token and request
//! id forwarded, and retries only where a repeat cannot cause a second effect
//! (GET, or a write carrying an idempotency key).

use std::time::Duration;

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

#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    metrics: Metrics,
}

const ATTEMPTS: usize = 3;

impl ServiceClient {
    pub fn new(metrics: Metrics) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(500))
            .timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self { http, metrics })
    }

    /// GET `url` as JSON. `Ok(Err(upstream))` for a 4xx answer.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        target: &str,
        url: &str,
        ctx: CallCtx<'_>,
    ) -> Result<Result<T, Upstream>, ApiError> {
        self.call(Method::GET, target, url, None::<&()>, None, ctx).await
    }

    /// Sends a JSON write. Retried only when `idempotency_key` is given.
    pub async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        target: &str,
        url: &str,
        body: &B,
        idempotency_key: Option<&str>,
        ctx: CallCtx<'_>,
    ) -> Result<Result<T, Upstream>, ApiError> {
        self.call(method, target, url, Some(body), idempotency_key, ctx).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        target: &str,
        url: &str,
        body: Option<&B>,
        idempotency_key: Option<&str>,
        ctx: CallCtx<'_>,
    ) -> Result<Result<T, Upstream>, ApiError> {
        let retryable = method == Method::GET || idempotency_key.is_some();
        let attempts = if retryable { ATTEMPTS } else { 1 };
        let mut last = String::new();
        // Whether any attempt may have reached the service.
        let mut maybe_delivered = false;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 * (1 << attempt))).await;
            }
            let mut req = self
                .http
                .request(method.clone(), url)
                .header("authorization", ctx.bearer)
                .header("x-request-id", ctx.request_id);
            if let Some(key) = idempotency_key {
                req = req.header("idempotency-key", key);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(res) if res.status().is_success() => {
                    self.metrics.upstream_result(target, "ok");
                    return res.json::<T>().await.map(Ok).map_err(|e| {
                        ApiError::Internal(anyhow::anyhow!("réponse illisible de {target} ({url}) : {e}"))
                    });
                }
                Ok(res) if res.status().is_client_error() => {
                    self.metrics.upstream_result(target, "client_error");
                    let status = res.status();
                    let body = res.json::<Value>().await.unwrap_or(Value::Null);
                    return Ok(Err(Upstream { status, body }));
                }
                Ok(res) => {
                    self.metrics.upstream_result(target, "server_error");
                    maybe_delivered = true;
                    last = format!("statut {}", res.status());
                }
                Err(e) => {
                    self.metrics.upstream_result(target, "unreachable");
                    maybe_delivered |= !e.is_connect();
                    last = e.to_string();
                }
            }
        }
        tracing::warn!(target, url, error = %last, "service dépendant indisponible");
        let detail = format!("Le service {target} ne répond pas ; réessayez dans un instant.");
        Err(if maybe_delivered { ApiError::Unavailable(detail) } else { ApiError::Unreachable(detail) })
    }
}
