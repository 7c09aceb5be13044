//! Cash sessions for tests that open carts: every cart is opened on an open
//! session of a register of its store (`POST /api/paniers` needs
//! `session_id`). One helper for service tests, system tests, the bench and
//! the synthetic load.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// The float a test session opens with.
pub const TEST_FLOAT: &str = "200.00";

/// Gets or opens a cash session in `magasin_id` (default: the token's
/// store) through caisse at `base` (caisse itself or the gateway): the open
/// session of the store's first register that has one, else a session
/// opened on its first register; losing that race to another caller (409)
/// takes the winner's `session_id`. Answers a gateway or replica in
/// trouble (502–504, cut connections) get a few more tries.
pub async fn session(http: &reqwest::Client, base: &str, auth: &str, magasin_id: Option<i64>) -> anyhow::Result<i64> {
    let query = magasin_id.map(|m| format!("?magasin_id={m}")).unwrap_or_default();
    let mut last = String::new();
    for attempt in 0..40u64 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(50 * attempt.min(10))).await;
        }
        let res = http.get(format!("{base}/api/caisses{query}")).header("authorization", auth).send().await;
        let list: Value = match res {
            Ok(r) if r.status().is_success() => r.json().await.context("liste des caisses illisible")?,
            Ok(r) if r.status().is_server_error() => {
                last = format!("GET /api/caisses : {}", r.status());
                continue;
            }
            Ok(r) => bail!("GET /api/caisses{query} : {} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => {
                last = e.to_string();
                continue;
            }
        };
        let caisses = list["caisses"].as_array().cloned().unwrap_or_default();
        if let Some(open) = caisses.iter().find_map(|c| c["session_ouverte"]["id"].as_i64()) {
            return Ok(open);
        }
        let Some(caisse) = caisses.first().and_then(|c| c["id"].as_i64()) else {
            bail!("aucune caisse dans le magasin ({query}) : {list}");
        };
        let res = http
            .post(format!("{base}/api/caisses/{caisse}/sessions"))
            .header("authorization", auth)
            .json(&json!({ "fond_de_caisse": TEST_FLOAT }))
            .send()
            .await;
        match res {
            Ok(r) if r.status().as_u16() == 201 || r.status().as_u16() == 409 => {
                let body: Value = r.json().await.context("session illisible")?;
                if let Some(id) = body["id"].as_i64().or_else(|| body["session_id"].as_i64()) {
                    return Ok(id);
                }
                last = format!("réponse sans session : {body}");
            }
            Ok(r) if r.status().is_server_error() => last = format!("ouverture de session : {}", r.status()),
            Ok(r) => bail!(
                "ouverture de session sur la caisse {caisse} : {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            ),
            Err(e) => last = e.to_string(),
        }
    }
    bail!("pas de session de caisse ouverte après 40 essais : {last}")
}
