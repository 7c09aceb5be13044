//! Prometheus metrics: RED per matched route, DB pool, cache, and a registry
//! services add their business counters to. Every metric carries a HELP text
//! so `promtool check metrics` accepts the exposition.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// All metrics of one service process.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    service: &'static str,
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGauge,
    pub(crate) db_pool: IntGaugeVec,
    pub(crate) cache: IntCounterVec,
    pub(crate) upstream: IntCounterVec,
}

fn must<T>(r: prometheus::Result<T>) -> T {
    // Registration fails only for a duplicate or malformed definition: a bug
    // caught by the first test that builds the service.
    r.unwrap_or_else(|e| panic!("métrique mal définie : {e}"))
}

impl Metrics {
    pub fn new(service: &'static str) -> Self {
        let registry = Registry::new_custom(None, None).unwrap_or_default();
        let service_label = |o: Opts| o.const_label("service", service);
        let requests = must(IntCounterVec::new(
            service_label(Opts::new("http_requests_total", "Requêtes HTTP traitées, par route et statut")),
            &["method", "route", "status"],
        ));
        let duration = must(HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Durée des requêtes HTTP, par route")
                .const_label("service", service)
                // 0.05 and 0.3: the thresholds of the cached-read and checkout SLOs.
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route"],
        ));
        let in_flight = must(IntGauge::with_opts(service_label(Opts::new(
            "http_requests_in_flight",
            "Requêtes HTTP en cours de traitement",
        ))));
        let db_pool = must(IntGaugeVec::new(
            service_label(Opts::new("db_pool_connections", "Connexions du pool MySQL, par état (idle, in_use, max)")),
            &["state"],
        ));
        let cache = must(IntCounterVec::new(
            service_label(Opts::new(
                "cache_operations_total",
                "Lectures du cache Redis, par résultat (hit, miss, error)",
            )),
            &["cache", "result"],
        ));
        let upstream = must(IntCounterVec::new(
            service_label(Opts::new("upstream_requests_total", "Appels vers d'autres services, par cible et résultat")),
            &["target", "result"],
        ));
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(in_flight.clone()),
            Box::new(db_pool.clone()),
            Box::new(cache.clone()),
            Box::new(upstream.clone()),
            Box::new(crate::process_metrics::ProcessCollector::new(service)),
        ] {
            must(registry.register(c));
        }
        Self(Arc::new(Inner { service, registry, requests, duration, in_flight, db_pool, cache, upstream }))
    }

    pub fn service(&self) -> &'static str {
        self.0.service
    }

    /// Registers a service-specific collector (business counters).
    pub fn register<C: prometheus::core::Collector + Clone + 'static>(&self, c: C) -> C {
        must(self.0.registry.register(Box::new(c.clone())));
        c
    }

    /// A counter vector labelled by `service` plus `labels`.
    pub fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        let c = must(IntCounterVec::new(Opts::new(name, help).const_label("service", self.0.service), labels));
        self.register(c)
    }

    pub fn cache_result(&self, cache: &str, result: &str) {
        self.0.cache.with_label_values(&[cache, result]).inc();
    }

    pub fn upstream_result(&self, target: &str, result: &str) {
        self.0.upstream.with_label_values(&[target, result]).inc();
    }

    pub fn set_pool(&self, idle: i64, in_use: i64, max: i64) {
        self.0.db_pool.with_label_values(&["idle"]).set(idle);
        self.0.db_pool.with_label_values(&["in_use"]).set(in_use);
        self.0.db_pool.with_label_values(&["max"]).set(max);
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.0.requests.with_label_values(&[method, route, status_label(status)]).inc();
        self.0.duration.with_label_values(&[method, route]).observe(seconds);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.0.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "encodage des métriques impossible");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

fn status_label(status: u16) -> &'static str {
    // Interned so the hot path allocates nothing for the common codes.
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        412 => "412",
        413 => "413",
        415 => "415",
        422 => "422",
        428 => "428",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// Route-layer middleware: RED metrics labelled by the matched route template.
pub async fn track(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "non_reconnue".to_owned());
    let method = req.method().as_str().to_owned();
    metrics.0.in_flight.inc();
    let start = Instant::now();
    let res = next.run(req).await;
    metrics.0.in_flight.dec();
    metrics.observe(&method, &route, res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`.
pub async fn render(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_describes_every_metric() {
        let m = Metrics::new("test");
        m.observe("GET", "/api/produits/{id}", 200, 0.01);
        m.cache_result("produit", "hit");
        let text = m.render();
        assert!(text.contains("# HELP http_requests_total"));
        assert!(text.contains(r#"route="/api/produits/{id}""#));
        assert!(text.contains(r#"service="test""#));
        for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
            let name = line.split_whitespace().nth(2).unwrap_or_default();
            assert!(text.contains(&format!("# HELP {name} ")), "{name} sans description");
        }
    }
}
