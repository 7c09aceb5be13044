//! The permission table (tests/permissions.yaml) against the running stack:
//! every operation of every OpenAPI document must be in the table (a route
//! added later fails here until someone decides who may call it), and each
//! caller, through the gateway, gets what the table says: 401 anonymous, 403
//! for a role not listed, anything but 401/403 for a listed role. Path
//! parameters name the caller's own store (1), so store-scoped operations are
//! allowed for store 1 staff. The README's "Security" section is rendered
//! from the same table.

use std::collections::BTreeMap;

use caisse_common::{Claims, Role, auth::TokenKeys};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::harness::Sys;

const SERVICES: [&str; 6] = ["caisse", "produit", "stock", "panier", "vente", "reporting"];
const CALLERS: [&str; 6] = ["anonyme", "caissier", "gerant", "logistique", "admin", "service"];

struct Rule {
    appelants: Vec<String>,
    magasin: bool,
}

/// tests/permissions.yaml: `"METHOD /path": {appelants: [...], magasin: bool}`.
fn table() -> BTreeMap<String, Rule> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/permissions.yaml");
    let doc: serde_yaml::Mapping = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc.into_iter()
        .map(|(k, v)| {
            let op = k.as_str().unwrap().to_owned();
            let appelants = v["appelants"]
                .as_sequence()
                .unwrap_or_else(|| panic!("{op} : appelants manquants"))
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect();
            let magasin = v["magasin"].as_bool().unwrap_or_else(|| panic!("{op} : magasin manquant"));
            (op, Rule { appelants, magasin })
        })
        .collect()
}

fn sample(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{magasin_id}" | "{produit_id}" => "1".to_owned(),
            s if s.starts_with('{') && (s.contains("vente") || s.contains("panier")) => {
                "3f2b8a4e-5c1d-4e8f-9a7b-6c5d4e3f2a1b".to_owned()
            }
            s if s.starts_with('{') => "1".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// "METHOD /path" of every operation of every document.
async fn operations(sys: &Sys) -> Vec<String> {
    let mut ops = Vec::new();
    for service in SERVICES {
        let doc: Value =
            sys.http.get(sys.url(&format!("/openapi/{service}.json"))).send().await.unwrap().json().await.unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                ops.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn every_operation_answers_each_caller_as_the_permission_table_says() {
    let sys = Sys::start().await;
    let table = table();
    let mut tokens: BTreeMap<&str, Option<String>> = BTreeMap::new();
    tokens.insert("anonyme", None);
    for (caller, login) in
        [("caissier", "caissier1"), ("gerant", "gerant1"), ("logistique", "logistique"), ("admin", "admin")]
    {
        tokens.insert(caller, Some(sys.login(login).await));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims =
        Claims { sub: 0, login: "service".into(), role: Role::Service, magasin_id: None, iat: now, exp: now + 600 };
    let service = TokenKeys::new(&sys.stack.options().jwt_secret).sign(&claims).unwrap();
    tokens.insert("service", Some(format!("Bearer {service}")));

    let ops = operations(&sys).await;
    let missing: Vec<&String> = ops.iter().filter(|op| !table.contains_key(*op)).collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for op in &ops {
        let Some(rule) = table.get(op) else { continue };
        let (method, path) = op.split_once(' ').unwrap();
        let method: Method = method.parse().unwrap();
        for caller in CALLERS {
            let mut req = sys
                .http
                .request(method.clone(), sys.url(&sample(path)))
                .header("content-type", "application/json")
                .body("{}");
            if let Some(t) = &tokens[caller] {
                req = req.header("authorization", t);
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let detail = res.text().await.unwrap_or_default();
            checked += 1;
            let allowed = rule.appelants.iter().any(|a| a == caller || a == "tous");
            let ok = match (caller, allowed) {
                (_, true) => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                ("anonyme", false) => status == StatusCode::UNAUTHORIZED,
                // No staff account behind the service token.
                ("service", false) if op == "GET /api/auth/me" => status == StatusCode::UNAUTHORIZED,
                (_, false) => status == StatusCode::FORBIDDEN,
            };
            if !ok {
                failures.push(format!("{op} en tant que {caller} : {status} {detail} (table : {:?})", rule.appelants));
            }
        }
    }
    println!("{} opérations × {} appelants = {checked} appels vérifiés", ops.len(), CALLERS.len());
    assert!(missing.is_empty(), "opérations absentes de tests/permissions.yaml : {missing:?}");
    assert!(failures.is_empty(), "{} écarts avec la table :\n{}", failures.len(), failures.join("\n"));
}

/// The README's "Security" section, rendered from the table.
pub fn render_security_section() -> String {
    let mut out = String::from(
        "| opération | anonyme | caissier | gérant | logistique | admin | service | magasin du jeton |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (op, rule) in table() {
        out.push_str(&format!("| `{op}` |"));
        for caller in CALLERS {
            let yes = rule.appelants.iter().any(|a| a == caller || a == "tous");
            out.push_str(if yes { " ✓ |" } else { " · |" });
        }
        out.push_str(if rule.magasin { " oui |\n" } else { " — |\n" });
    }
    out
}

#[test]
fn the_readme_security_table_is_the_permission_tables_render() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = "<!-- permissions:début -->\n";
    let end = "<!-- permissions:fin -->";
    let body = readme.split_once(start).and_then(|(_, rest)| rest.split_once(end)).map(|(t, _)| t);
    let expected = render_security_section();
    if body != Some(expected.as_str()) {
        let out = std::env::temp_dir().join("caisse-permissions.md");
        std::fs::write(&out, &expected).unwrap();
        panic!(
            "README.md : section « Security » périmée ; le rendu de tests/permissions.yaml est dans {}",
            out.display()
        );
    }
}
