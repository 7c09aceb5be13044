//! Every operation of every service's OpenAPI document, through the gateway
//! and directly on a replica, refuses a missing, expired, not-yet-valid,
//! tampered or `alg: none` token with 401 — except the operations the
//! document itself declares public (`security: []`). A route added later is
//! covered without touching this test.

use caisse_common::{Claims, Role, auth::TokenKeys};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::harness::Sys;

const SERVICES: [&str; 6] = ["caisse", "produit", "stock", "panier", "vente", "reporting"];

/// (method, path with sample parameters, public?) for every operation.
async fn operations(sys: &Sys, service: &str) -> Vec<(Method, String, bool)> {
    let doc: Value =
        sys.http.get(sys.url(&format!("/openapi/{service}.json"))).send().await.unwrap().json().await.unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let public = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
            let sample = path
                .split('/')
                .map(|seg| match seg {
                    s if s.starts_with('{') && s.contains("id") && !s.contains("vente") && !s.contains("panier") => {
                        "1".to_owned()
                    }
                    s if s.starts_with('{') => "3f2b8a4e-5c1d-4e8f-9a7b-6c5d4e3f2a1b".to_owned(),
                    s => s.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/");
            ops.push((method, sample, public));
        }
    }
    assert!(!ops.is_empty(), "{service} : document OpenAPI sans opération");
    ops
}

fn token(secret: &str, iat: i64, exp: i64) -> String {
    let claims = Claims { sub: 1, login: "admin".into(), role: Role::Admin, magasin_id: None, iat, exp };
    TokenKeys::new(secret).sign(&claims).unwrap()
}

#[tokio::test]
async fn every_operation_refuses_missing_expired_future_tampered_and_unsigned_tokens() {
    let sys = Sys::start().await;
    let secret = sys.stack.options().jwt_secret.clone();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let valid = token(&secret, now, now + 600);
    let expired = token(&secret, now - 7200, now - 3600);
    let future = token(&secret, now + 3600, now + 7200);
    let other_key = token("un-autre-secret-de-signature-32-octets!!", now, now + 600);
    let mut parts: Vec<&str> = valid.split('.').collect();
    // Tampered: the payload says caissier of store 2, the signature is admin's.
    let forged_payload =
        base64_url(r#"{"sub":1,"login":"admin","role":"caissier","magasin_id":2,"iat":0,"exp":9999999999}"#);
    parts[1] = &forged_payload;
    let tampered = parts.join(".");
    let none = format!(
        "{}.{}.",
        base64_url(r#"{"alg":"none","typ":"JWT"}"#),
        base64_url(&format!(
            r#"{{"sub":1,"login":"admin","role":"admin","magasin_id":null,"iat":{now},"exp":{}}}"#,
            now + 600
        ))
    );
    let bad: [(&str, Option<String>); 6] = [
        ("sans jeton", None),
        ("expiré", Some(expired)),
        ("pas encore valide", Some(future)),
        ("autre clé", Some(other_key)),
        ("altéré", Some(tampered)),
        ("alg none", Some(none)),
    ];
    let mut checked = 0;
    let mut failures = Vec::new();
    for service in SERVICES {
        let replica = sys.stack.replica_urls(service)[0].clone();
        for (method, path, public) in operations(&sys, service).await {
            if public {
                continue;
            }
            for base in [sys.stack.gateway_url.clone(), replica.clone()] {
                for (what, tok) in &bad {
                    let mut req = sys
                        .http
                        .request(method.clone(), format!("{base}{path}"))
                        .header("content-type", "application/json")
                        .body("{}");
                    if let Some(t) = tok {
                        req = req.header("authorization", format!("Bearer {t}"));
                    }
                    let status = req.send().await.unwrap().status();
                    checked += 1;
                    if status != StatusCode::UNAUTHORIZED {
                        failures.push(format!("{method} {base}{path} ({what}) : {status}"));
                    }
                }
            }
        }
    }
    println!("{checked} appels (opérations × jetons refusés × passerelle/réplique) vérifiés");
    assert!(failures.is_empty(), "{} appels acceptés sans jeton valide :\n{}", failures.len(), failures.join("\n"));
}

fn base64_url(s: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
