//! What reporting asks other services: the list of stores (caisse), kept a
//! minute in memory so that a report costs no call.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use caisse_common::{ApiError, ApiResult, client::CallCtx};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::AppState;

const TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Deserialize)]
pub struct Store {
    pub id: i64,
    pub nom: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl Store {
    /// A store with registers (not the logistics centre nor head office).
    pub fn sells(&self) -> bool {
        self.kind == "magasin"
    }
}

#[derive(Deserialize)]
struct StoreList {
    magasins: Vec<Store>,
    suivant: Option<i64>,
}

/// The stores, refreshed at most once a minute.
#[derive(Default)]
pub struct Stores {
    cached: RwLock<Option<(Instant, Arc<Vec<Store>>)>>,
}

impl Stores {
    pub async fn get(&self, state: &AppState) -> ApiResult<Arc<Vec<Store>>> {
        if let Some((at, list)) = self.cached.read().await.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(list.clone());
        }
        match load(state).await {
            Ok(list) => {
                let list = Arc::new(list);
                *self.cached.write().await = Some((Instant::now(), list.clone()));
                Ok(list)
            }
            Err(e) => match self.cached.read().await.as_ref() {
                // caisse briefly unreachable: the stores rarely change.
                Some((_, list)) => Ok(list.clone()),
                None => Err(e),
            },
        }
    }

    /// The store `id`, or 404.
    pub async fn find(&self, state: &AppState, id: i64) -> ApiResult<Store> {
        self.get(state)
            .await?
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("Le magasin {id} n'existe pas.")))
    }
}

async fn load(state: &AppState) -> ApiResult<Vec<Store>> {
    let bearer = state.platform.keys.service_bearer("reporting")?;
    let ctx = CallCtx { bearer: &bearer, request_id: "" };
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (base, path) = (&state.config.caisse_url, format!("/api/magasins?limit=100&apres={after}"));
        let page: StoreList = match state.platform.client.get_json("caisse", base, &path, ctx).await? {
            Ok(p) => p,
            Err(up) => {
                return Err(ApiError::Unavailable(format!(
                    "Liste des magasins indisponible (caisse : {}).",
                    up.status
                )));
            }
        };
        out.extend(page.magasins);
        match page.suivant {
            Some(next) => after = next,
            None => return Ok(out),
        }
    }
}
