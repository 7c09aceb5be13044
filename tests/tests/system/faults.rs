//! Losing a replica must not lose a request.

use std::time::Duration;

use reqwest::StatusCode;

use crate::harness::Sys;

#[tokio::test]
async fn killing_a_produit_replica_loses_no_request() {
    let mut sys = Sys::start().await;
    let auth = sys.login("caissier1").await;
    // Four clients loop over reads while replica 0 is SIGKILLed mid-run.
    let mut clients = vec![];
    for c in 0..4 {
        let (http, base, auth) = (sys.http.clone(), sys.stack.gateway_url.clone(), auth.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = vec![];
            for i in 0..150 {
                let path = if (i + c) % 2 == 0 { "/api/produits?q=lait" } else { "/api/produits/3" };
                match http.get(format!("{base}{path}")).header("authorization", &auth).send().await {
                    Ok(r) if r.status() == StatusCode::OK => {}
                    Ok(r) => failures.push(format!("{path}: {}", r.status())),
                    Err(e) => failures.push(format!("{path}: {e}")),
                }
            }
            failures
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sys.stack.kill_replica("produit", 0).expect("kill");
    let mut lost = vec![];
    for c in clients {
        lost.extend(c.await.expect("client"));
    }
    assert!(lost.is_empty(), "requêtes perdues : {lost:?}");
    // The survivor still serves.
    assert_eq!(sys.get("/api/produits/3", &auth).await.status(), StatusCode::OK);
}
