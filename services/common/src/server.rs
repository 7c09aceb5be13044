//! The platform every service runs on: pool, cache, client, metrics, token
//! keys; the shared routes (health, metrics, OpenAPI); the HTTP layers
//! (request id, trace, body limit, unread-body drain, panic guard); graceful
//! shutdown.

use std::{sync::Arc, time::Duration};

use axum::{
    Extension, Router,
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderName, Response, StatusCode},
    middleware,
    response::IntoResponse,
    routing::get,
};
use sqlx::{MySqlPool, migrate::Migrator};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    auth::TokenKeys,
    cache::{Cache, RawJson, Redis},
    client::ServiceClient,
    config::CommonConfig,
    db,
    error::ApiError,
    metrics::{self, Metrics},
};

/// Largest JSON body a service accepts (the gateway stops bigger ones first).
pub const BODY_LIMIT: usize = 256 * 1024;

/// Shared infrastructure handles of one service process.
#[derive(Clone)]
pub struct Platform {
    pub service: &'static str,
    pub pool: MySqlPool,
    pub cache: Option<Cache>,
    pub client: ServiceClient,
    pub metrics: Metrics,
    pub keys: Arc<TokenKeys>,
}

impl Platform {
    /// Connects MySQL (and Redis when `uses_redis`), applying migrations.
    pub async fn start(cfg: &CommonConfig, migrator: &Migrator, uses_redis: bool) -> anyhow::Result<Self> {
        let metrics = Metrics::new(cfg.service);
        let pool = db::connect(&cfg.database_url, cfg.db_max_connections, migrator).await?;
        let cache = if uses_redis {
            Some(Cache::new(Redis::connect(&cfg.redis_url, &cfg.redis_prefix).await?, metrics.clone()))
        } else {
            None
        };
        Ok(Self {
            service: cfg.service,
            pool,
            cache,
            client: ServiceClient::new(metrics.clone())?,
            metrics,
            keys: TokenKeys::rotating(&cfg.jwt_secret, cfg.jwt_previous_secret.as_deref()),
        })
    }

    /// `load`'s answer as JSON, read through the cache when the service has
    /// one (a hit is sent as stored).
    pub async fn cached_json<T, F, Fut>(&self, ns: &str, key: &str, ttl_secs: u64, load: F) -> Result<RawJson, ApiError>
    where
        T: serde::Serialize,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        match &self.cache {
            Some(c) => c.get_or_load_json(ns, key, ttl_secs, load).await,
            None => Ok(RawJson(serde_json::to_string(&load().await?).map_err(|e| ApiError::Internal(e.into()))?)),
        }
    }

    /// `load`'s answer, read through the cache when the service has one.
    pub async fn cached<T, F, Fut>(&self, ns: &str, key: &str, ttl_secs: u64, load: F) -> Result<T, ApiError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        match &self.cache {
            Some(c) => c.get_or_load(ns, key, ttl_secs, load).await,
            None => load().await,
        }
    }

    /// Invalidates a cache namespace after a commit (no-op without a cache).
    pub async fn invalidate(&self, ns: &str) {
        if let Some(c) = &self.cache {
            c.invalidate(ns).await;
        }
    }

    /// Wraps a service's API routes with the shared routes and layers.
    pub fn app(&self, api: Router, mut openapi: utoipa::openapi::OpenApi) -> Router {
        let api = api.route_layer(middleware::from_fn_with_state(self.metrics.clone(), metrics::track));
        crate::openapi::document_problems(&mut openapi);
        let openapi = Arc::new(openapi);
        let ops = Router::new()
            .route("/health/live", get(|| async { axum::Json(serde_json::json!({"statut": "ok"})) }))
            .route("/health/ready", get(ready))
            .route("/metrics", get(render_metrics))
            .with_state(self.clone())
            .route("/openapi.json", get(move || async move { axum::Json(openapi.as_ref().clone()) }));
        let request_id = HeaderName::from_static("x-request-id");
        api.merge(ops)
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(Extension(self.keys.clone()))
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .layer(middleware::from_fn(crate::drain::drain_unread_body))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
                tracing::info_span!("requete", request_id = %id, method = %req.method(), path = %req.uri().path())
            }))
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
    }
}

async fn ready(State(p): State<Platform>) -> Result<impl IntoResponse, ApiError> {
    let db_ok = matches!(
        tokio::time::timeout(Duration::from_secs(1), sqlx::query("SELECT 1").execute(&p.pool)).await,
        Ok(Ok(_))
    );
    let redis_ok = match &p.cache {
        Some(c) => Some(c.redis().ping().await),
        None => None,
    };
    if db_ok && redis_ok != Some(false) {
        Ok(axum::Json(serde_json::json!({"statut": "pret", "mysql": db_ok, "redis": redis_ok})))
    } else {
        Err(ApiError::Unavailable(format!(
            "Dépendances injoignables : mysql={db_ok}, redis={}",
            redis_ok.map_or("non utilisé".into(), |r| r.to_string())
        )))
    }
}

async fn render_metrics(State(p): State<Platform>) -> impl IntoResponse {
    db::record_pool(&p.pool, &p.metrics);
    metrics::render(State(p.metrics.clone())).await
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!("Aucune ressource à l'adresse {} {}.", req.method(), req.uri().path()))
}

async fn method_not_allowed(req: Request) -> impl IntoResponse {
    let mut res =
        ApiError::BadRequest(format!("Méthode {} non permise sur {}.", req.method(), req.uri().path())).into_response();
    *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    res
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    ApiError::Internal(anyhow::anyhow!("panique dans un gestionnaire")).into_response()
}

/// Serves `app` until SIGTERM or SIGINT, then drains in-flight requests.
pub async fn serve(listener: TcpListener, app: Router) -> anyhow::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

/// Binds `cfg.bind_addr`, logs where the service listens and serves.
pub async fn bind_and_serve(cfg: &CommonConfig, app: Router) -> anyhow::Result<()> {
    let listener = TcpListener::bind(cfg.bind_addr)
        .await
        .map_err(|e| anyhow::anyhow!("BIND_ADDR={} : écoute impossible : {e}", cfg.bind_addr))?;
    tracing::info!(service = cfg.service, addr = %cfg.bind_addr, "service démarré");
    serve(listener, app).await?;
    tracing::info!(service = cfg.service, "arrêt propre terminé");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("signal d'arrêt reçu : fin des requêtes en cours");
}

/// Declares the bearer-token security scheme in an OpenAPI document.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jeton",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new("jeton", Vec::<String>::new())]);
    }
}
