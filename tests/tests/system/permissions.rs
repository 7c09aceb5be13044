//! The permission table (tests/permissions.yaml) against the running stack:
//! every operation of every OpenAPI document must be in the table (a route
//! added later fails here until someone decides who may call it), and each
//! caller gets what the table says: 401 anonymous, 403 for a role not listed,
//! anything but 401/403 for a listed role. Four passes: through the gateway
//! and directly on a replica, each in the callers' store (store 1: parameters
//! name it) and out of it (real resources of store 2: store staff get the
//! operation's `hors_magasin`, 403 for a store named in the request, 404 for
//! another store's resource). The README's "Security" section is rendered
//! from the same table.

use std::collections::BTreeMap;

use caisse_common::{Claims, Role, auth::TokenKeys};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Sys, key};

const SERVICES: [&str; 6] = ["caisse", "produit", "stock", "panier", "vente", "reporting"];
const CALLERS: [&str; 6] = ["anonyme", "caissier", "gerant", "logistique", "admin", "service"];

struct Rule {
    appelants: Vec<String>,
    magasin: bool,
    /// What store staff get for this operation on another store's store id
    /// (403) or resource (404), when it is one they may call in their own.
    hors_magasin: Option<u16>,
}

/// tests/permissions.yaml: `"METHOD /path": {appelants: [...], magasin: bool, hors_magasin: 403|404}`.
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
            let hors_magasin = v.get("hors_magasin").map(|h| h.as_u64().unwrap() as u16);
            assert!(matches!(hors_magasin, None | Some(403 | 404)), "{op} : hors_magasin 403 ou 404");
            (op, Rule { appelants, magasin, hors_magasin })
        })
        .collect()
}

/// Ids the requests name: store 1's (the callers' own) or store 2's.
struct Fixture {
    magasin: i64,
    vente: String,
    panier: i64,
    transfert: i64,
    /// A register and its cash session.
    caisse: i64,
    session: i64,
}

impl Fixture {
    /// Placeholder ids, for in-store calls: whatever they name, store staff
    /// of store 1 are in their own store.
    fn own() -> Self {
        Fixture {
            magasin: 1,
            vente: "3f2b8a4e-5c1d-4e8f-9a7b-6c5d4e3f2a1b".into(),
            panier: 1,
            transfert: 1,
            caisse: 1,
            session: 1,
        }
    }

    /// Real resources of store 2: a cash session on one of its registers, a
    /// sale on it (and its reservation), an open cart of caissier2, a
    /// transfer from the logistics centre to store 2.
    async fn other_store(sys: &Sys) -> Self {
        let cashier = sys.login("caissier2").await;
        let session = sys.session(&cashier).await;
        let caisse =
            sys.get_json(&format!("/api/caisses/sessions/{session}"), &cashier).await["caisse_id"].as_i64().unwrap();
        let new_cart = || async {
            let res = sys.post_cart(&cashier).await.unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        };
        let sold = new_cart().await;
        let res = sys
            .http
            .put(sys.url(&format!("/api/paniers/{sold}/lignes/1")))
            .header("authorization", &cashier)
            .json(&json!({"quantite": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = sys
            .http
            .post(sys.url("/api/ventes"))
            .header("authorization", &cashier)
            .header("idempotency-key", key())
            .json(&json!({"panier_id": sold, "paiement": {"mode": "carte"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let vente = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let panier = new_cart().await;
        let logistique = sys.login("logistique").await;
        let res = sys
            .http
            .post(sys.url("/api/stocks/transferts"))
            .header("authorization", logistique)
            .header("idempotency-key", key())
            .json(&json!({"source_id": 6, "destination_id": 2, "lignes": [{"produit_id": 1, "quantite": 1}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let transfert = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        Fixture { magasin: 2, vente, panier, transfert, caisse, session }
    }

    fn path(&self, path: &str) -> String {
        let resource = path.split('/').nth(2).unwrap_or_default();
        let mut url = path
            .split('/')
            .map(|seg| match seg {
                "{magasin_id}" => self.magasin.to_string(),
                "{vente_id}" => self.vente.clone(),
                "{session_id}" => self.session.to_string(),
                "{id}" if resource == "caisses" && path.contains("/sessions/{id}") => self.session.to_string(),
                "{id}" if resource == "caisses" => self.caisse.to_string(),
                "{id}" if resource == "ventes" => self.vente.clone(),
                "{id}" if resource == "paniers" => self.panier.to_string(),
                "{id}" if resource == "stocks" => self.transfert.to_string(),
                s if s.starts_with('{') => "1".to_owned(),
                s => s.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        if self.magasin != 1 {
            url.push_str(&format!("?magasin_id={}", self.magasin));
        }
        url
    }

    /// In store: `{}` (the role is checked before the body is read). Out of
    /// store: a body the operation would take, naming store 2 where a store
    /// goes in the body, so only the store can be what is refused.
    fn body(&self, op: &str) -> String {
        if self.magasin == 1 {
            return "{}".into();
        }
        match op {
            "POST /api/paniers" => json!({"magasin_id": self.magasin, "session_id": self.session}),
            "POST /api/caisses" => json!({"magasin_id": self.magasin, "numero": 9}),
            "POST /api/caisses/{id}/sessions" => json!({"fond_de_caisse": "100.00"}),
            "POST /api/caisses/sessions/{id}/fermeture" => json!({"montant_compte": "100.00"}),
            "PUT /api/paniers/{id}/lignes/{produit_id}" => json!({"quantite": 1}),
            "POST /api/ventes/{id}/retours" => json!({"lignes": [{"produit_id": 1, "quantite": 1}]}),
            _ => json!({}),
        }
        .to_string()
    }
}

/// (service, "METHOD /path") of every operation of every document.
async fn operations(sys: &Sys) -> Vec<(&'static str, String)> {
    let mut ops = Vec::new();
    for service in SERVICES {
        let doc: Value =
            sys.http.get(sys.url(&format!("/openapi/{service}.json"))).send().await.unwrap().json().await.unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                ops.push((service, format!("{} {path}", method.to_uppercase())));
            }
        }
    }
    ops
}

async fn tokens(sys: &Sys) -> BTreeMap<&'static str, Option<String>> {
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
    tokens
}

/// Where a service is called: the gateway or one of its replicas.
type Base<'a> = dyn Fn(&str) -> String + 'a;

/// Calls every operation as every caller at `base(service)` with the ids of
/// `fixture`; returns the calls made and the answers off the table.
async fn check(
    sys: &Sys,
    ops: &[(&'static str, String)],
    tokens: &BTreeMap<&str, Option<String>>,
    base: &Base<'_>,
    fixture: &Fixture,
    label: &str,
) -> (usize, Vec<String>) {
    let table = table();
    let out_of_store = fixture.magasin != 1;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (service, op) in ops {
        let Some(rule) = table.get(op) else { continue };
        let (method, path) = op.split_once(' ').unwrap();
        let method: Method = method.parse().unwrap();
        for caller in CALLERS {
            let url = format!("{}{}", base(service), fixture.path(path));
            let mut req = sys
                .http
                .request(method.clone(), url)
                .header("content-type", "application/json")
                .header("idempotency-key", key())
                .body(fixture.body(op));
            if let Some(t) = &tokens[caller] {
                req = req.header("authorization", t);
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let detail = res.text().await.unwrap_or_default();
            checked += 1;
            let allowed = rule.appelants.iter().any(|a| a == caller || a == "tous");
            let scoped = out_of_store && matches!(caller, "caissier" | "gerant") && allowed;
            let ok = match (caller, allowed) {
                (_, true) if scoped && rule.hors_magasin.is_some() => rule.hors_magasin == Some(status.as_u16()),
                (_, true) => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                ("anonyme", false) => status == StatusCode::UNAUTHORIZED,
                // No staff account behind the service token.
                ("service", false) if op == "GET /api/auth/me" => status == StatusCode::UNAUTHORIZED,
                (_, false) => status == StatusCode::FORBIDDEN,
            };
            if !ok {
                let want = rule.hors_magasin.filter(|_| scoped).map(|h| format!(" (attendu {h})")).unwrap_or_default();
                failures.push(format!(
                    "[{label}] {op} en tant que {caller} : {status}{want} {detail} (table : {:?})",
                    rule.appelants
                ));
            }
        }
    }
    (checked, failures)
}

#[tokio::test]
async fn every_operation_answers_each_caller_as_the_permission_table_says() {
    let sys = Sys::start().await;
    let table = table();
    let tokens = tokens(&sys).await;
    let ops = operations(&sys).await;
    let missing: Vec<&String> = ops.iter().map(|(_, op)| op).filter(|op| !table.contains_key(*op)).collect();
    let other = Fixture::other_store(&sys).await;
    let own = Fixture::own();
    let gateway = |_: &str| sys.stack.gateway_url.clone();
    let replica = |service: &str| sys.stack.replica_urls(service)[0].clone();
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    let runs: [(&str, &Base, &Fixture); 4] = [
        ("passerelle, son magasin", &gateway, &own),
        ("passerelle, magasin 2", &gateway, &other),
        ("réplique, son magasin", &replica, &own),
        ("réplique, magasin 2", &replica, &other),
    ];
    for (label, base, fixture) in runs {
        let (checked, f) = check(&sys, &ops, &tokens, base, fixture, label).await;
        counts.push(format!("{label} : {checked}"));
        failures.extend(f);
    }
    println!("{} opérations × {} appelants ; appels vérifiés : {}", ops.len(), CALLERS.len(), counts.join(", "));
    assert!(missing.is_empty(), "opérations absentes de tests/permissions.yaml : {missing:?}");
    assert!(failures.is_empty(), "{} écarts avec la table :\n{}", failures.len(), failures.join("\n"));
}

/// The README's "Security" section, rendered from the table.
pub fn render_security_section() -> String {
    let mut out = String::from(
        "| opération | anonyme | caissier | gérant | logistique | admin | service | magasin du jeton | autre magasin |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (op, rule) in table() {
        out.push_str(&format!("| `{op}` |"));
        for caller in CALLERS {
            let yes = rule.appelants.iter().any(|a| a == caller || a == "tous");
            out.push_str(if yes { " ✓ |" } else { " · |" });
        }
        out.push_str(if rule.magasin { " oui |" } else { " — |" });
        out.push_str(&rule.hors_magasin.map(|h| format!(" {h} |\n")).unwrap_or_else(|| " — |\n".into()));
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
