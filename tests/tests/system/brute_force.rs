//! Login brute force, on both brakes: the gateway slows one address down
//! (nginx `limit_req`: 5 logins/s, bursts of 10, then 429 problem+json with
//! `Retry-After`), and caisse locks a login after ten failures in a row for
//! 15 minutes, in its schema, so every replica and the gateway agree.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::Sys;

fn is_problem(res: &reqwest::Response) -> bool {
    res.headers().get("content-type").and_then(|v| v.to_str().ok()) == Some("application/problem+json")
}

async fn login(sys: &Sys, base: &str, login: &str, password: &str) -> reqwest::Response {
    sys.http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": login, "mot_de_passe": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_login_locked_after_ten_failures_is_locked_on_every_replica_and_one_address_is_slowed_at_the_gateway() {
    let sys = Sys::start().await;
    let replicas = sys.stack.replica_urls("caisse");
    let gateway = sys.stack.gateway_url.clone();

    // Ten failures on replica 0 (direct: the gateway's brake stays out of it).
    for _ in 0..10 {
        assert_eq!(login(&sys, &replicas[0], "caissier2", "mauvais-mot").await.status(), StatusCode::UNAUTHORIZED);
    }
    // The right password is now refused on replica 1 and through the gateway.
    for base in [&replicas[1], &replicas[0], &gateway] {
        let res = login(&sys, base, "caissier2", "demo1234").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{base}");
        assert!(is_problem(&res), "{base}");
        let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "Retry-After {retry}");
        let body: Value = res.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("échecs de connexion"), "{body}");
    }
    // Another account of the same store is not affected.
    assert_eq!(login(&sys, &gateway, "caissier1", "demo1234").await.status(), StatusCode::OK);

    // 40 logins at once from one address, through the gateway: about ten
    // pass (the burst), the others get nginx's 429, with Retry-After.
    let started = Instant::now();
    let answers = join_all((0..40).map(|_| async {
        let res = login(&sys, &gateway, "gerant1", "demo1234").await;
        let retry_after = res.headers().get("retry-after").is_some();
        (res.status(), retry_after, is_problem(&res))
    }))
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let passed = answers.iter().filter(|a| a.0 == StatusCode::OK).count();
    let limited = answers.iter().filter(|a| a.0 == StatusCode::TOO_MANY_REQUESTS).count();
    println!("40 connexions simultanées par la passerelle : {passed} × 200, {limited} × 429 en {elapsed:.2} s");
    for (status, retry_after, problem) in &answers {
        match *status {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => assert!(*retry_after && *problem, "429 sans Retry-After ou problem+json"),
            // caisse's own hashing queue may also say "later" under the burst.
            StatusCode::SERVICE_UNAVAILABLE => assert!(*retry_after && *problem),
            other => panic!("réponse inattendue : {other}"),
        }
    }
    // Reached caisse: the burst of 10, one at once, then 5 per second.
    let reached = answers.len() - limited;
    let allowed = 11 + (elapsed * 5.0).ceil() as usize;
    assert!(reached <= allowed, "{reached} passées en {elapsed:.2} s (au plus {allowed})");
    assert!(limited > 0, "aucun 429 de la passerelle pour 40 connexions simultanées");
    // The brake lets the address in again once its bucket refills.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = login(&sys, &gateway, "gerant1", "demo1234").await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "toujours {status} après 10 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
