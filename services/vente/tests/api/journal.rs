//! The tamper-evident journal (issue 7): every completed sale, return and
//! cancellation chained per store; verification names the first entry a
//! direct edit of the schema broke; bad input and roles on its routes.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::MySqlPool;

use super::{Role, Suite, bearer, bearer_for, cashier, key, suite, suite_with};

const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn admin() -> String {
    bearer(Role::Admin, None)
}

impl Suite {
    async fn get_as(&self, path: &str, auth: &str) -> reqwest::Response {
        self.call("GET", format!("{}{path}", self.ventes[0]), auth, None).await
    }

    async fn ok_json(&self, path: &str) -> Value {
        let res = self.get_as(path, &admin()).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    async fn verification(&self, magasin: i64) -> Value {
        self.ok_json(&format!("/api/ventes/journal/verification?magasin={magasin}")).await
    }

    /// Sells `lines` at store `magasin` as cashier `sub` (card); the sale id.
    async fn sell_at(&self, magasin: i64, sub: i64, lines: &[(i64, i64)]) -> String {
        let token = bearer_for(sub, Role::Caissier, Some(magasin));
        // Every cart is opened on a cash session of its store (issue 7).
        let session = caisse_testing::session(&self.http, &self.caisse, &token, None).await.unwrap();
        let body = json!({ "session_id": session });
        let res = self.call("POST", format!("{}/api/paniers", self.panier), &token, Some(body)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let cart = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        for (p, q) in lines {
            let url = format!("{}/api/paniers/{cart}/lignes/{p}", self.panier);
            assert_eq!(self.call("PUT", url, &token, Some(json!({"quantite": q}))).await.status(), StatusCode::OK);
        }
        let res = self
            .http
            .post(format!("{}/api/ventes", self.ventes[0]))
            .header("authorization", &token)
            .header("idempotency-key", key())
            .json(&json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    async fn give_back(&self, magasin: i64, sub: i64, vente: &str, produit: i64) -> i64 {
        let res = self
            .http
            .post(format!("{}/api/ventes/{vente}/retours", self.ventes[0]))
            .header("authorization", bearer_for(sub, Role::Caissier, Some(magasin)))
            .header("idempotency-key", key())
            .json(&json!({"lignes": [{"produit_id": produit, "quantite": 1}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    async fn cancel(&self, magasin: i64, sub: i64, vente: &str) {
        let url = format!("{}/api/ventes/{vente}/annulation", self.ventes[0]);
        let res = self.call("POST", url, &bearer_for(sub, Role::Caissier, Some(magasin)), None).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    /// Every entry of a store, following `suivant`.
    async fn entries(&self, magasin: i64, limite: u32) -> Vec<Value> {
        let mut out = vec![];
        let mut apres = 0;
        loop {
            let page =
                self.ok_json(&format!("/api/ventes/journal?magasin={magasin}&apres={apres}&limite={limite}")).await;
            out.extend(page["entrees"].as_array().unwrap().iter().cloned());
            match page["suivant"].as_i64() {
                Some(next) => apres = next,
                None => return out,
            }
        }
    }
}

/// A sale, a return, a cancellation: store 1 sells three times, returns
/// once, cancels once; store 2 sells once.
async fn activity(s: &Suite) -> (Vec<String>, i64) {
    let mut sales = vec![];
    for (sub, product) in [(10, 21), (11, 22), (10, 23)] {
        sales.push(s.sell_at(1, sub, &[(product, 2)]).await);
    }
    let retour = s.give_back(1, 10, &sales[0], 21).await;
    s.cancel(1, 11, &sales[1]).await;
    s.sell_at(2, 20, &[(1, 1)]).await;
    (sales, retour)
}

#[tokio::test]
async fn every_sale_return_and_cancellation_is_chained_per_store_and_verifies() {
    let s = suite().await;
    // An empty store: head 0 and 64 zeros, a valid empty chain.
    let empty = s.ok_json("/api/ventes/journal/tete?magasin=1").await;
    assert_eq!(empty, json!({"magasin_id": 1, "sequence": 0, "empreinte": ZEROS}));
    let v = s.verification(1).await;
    assert_eq!((v["entrees"].as_i64(), v["valide"].as_bool(), &v["tete"]), (Some(0), Some(true), &Value::Null));

    let (sales, retour) = activity(&s).await;
    let entries = s.entries(1, 2).await;
    let kinds: Vec<(&str, &str)> =
        entries.iter().map(|e| (e["type"].as_str().unwrap(), e["reference"].as_str().unwrap())).collect();
    let retour = retour.to_string();
    assert_eq!(
        kinds,
        vec![
            ("vente", sales[0].as_str()),
            ("vente", sales[1].as_str()),
            ("vente", sales[2].as_str()),
            ("retour", retour.as_str()),
            ("annulation", sales[1].as_str()),
        ]
    );
    // Anyone can recompute the chain from the listing (the documented encoding).
    let mut previous = ZEROS.to_owned();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["sequence"].as_i64(), Some(i as i64 + 1));
        assert_eq!(e["precedente"], previous.as_str());
        let hash = vente::journal::empreinte(
            1,
            i as i64 + 1,
            e["type"].as_str().unwrap(),
            e["reference"].as_str().unwrap(),
            e["charge"].as_str().unwrap(),
            &previous,
        );
        assert_eq!(e["empreinte"], hash.as_str());
        previous = hash;
    }
    let payload: Value = serde_json::from_str(entries[0]["charge"].as_str().unwrap()).unwrap();
    assert_eq!(payload["vente_id"], sales[0].as_str());
    assert_eq!(payload["lignes"][0]["quantite"], 2);
    let cancel: Value = serde_json::from_str(entries[4]["charge"].as_str().unwrap()).unwrap();
    assert_eq!(cancel["par"], "test-caissier");

    let tete = s.ok_json("/api/ventes/journal/tete?magasin=1").await;
    assert_eq!(tete, json!({"magasin_id": 1, "sequence": 5, "empreinte": previous}));
    let v = s.verification(1).await;
    assert_eq!(v["valide"], true, "{v}");
    assert_eq!(v["entrees"], 5);
    assert_eq!(v["tete"], json!({"sequence": 5, "empreinte": previous}));
    assert_eq!(v["premiere_rupture"], Value::Null);
    // Store 2 has its own chain.
    let v2 = s.verification(2).await;
    assert_eq!((v2["entrees"].as_i64(), v2["valide"].as_bool()), (Some(1), Some(true)), "{v2}");
    assert_eq!(s.entries(2, 100).await[0]["precedente"], ZEROS);
    // A cancellation asked again, a return replayed: nothing new in the journal.
    s.cancel(1, 11, &sales[1]).await;
    assert_eq!(s.ok_json("/api/ventes/journal/tete?magasin=1").await["sequence"], 5);
}

/// One stored row of the journal, to put back after tampering with it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: i64,
    sequence: i64,
    precedente: String,
    empreinte: String,
    charge: String,
}

async fn row(pool: &MySqlPool, sequence: i64) -> Row {
    sqlx::query_as(
        "SELECT id, sequence, precedente, empreinte, charge FROM journal WHERE magasin_id = 1 AND sequence = ?",
    )
    .bind(sequence)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn verification_names_the_entry_an_edit_of_the_schema_broke() {
    let s = suite().await;
    let (sales, retour) = activity(&s).await;
    assert_eq!(s.verification(1).await["valide"], true);
    let pool = s.vente_db.admin_pool().await;
    let rupture = |v: &Value| {
        assert_eq!(v["valide"], false, "{v}");
        assert!(v["entrees"].as_i64().unwrap() >= 4, "{v}");
        (
            v["premiere_rupture"]["sequence"].as_i64().unwrap(),
            v["premiere_rupture"]["reference"].as_str().unwrap().to_owned(),
            v["premiere_rupture"]["raison"].as_str().unwrap().to_owned(),
        )
    };

    // 1. A total edited in place: that entry is named.
    let original = row(&pool, 2).await;
    let edited = original.charge.replacen("\"total\":\"", "\"total\":\"1", 1);
    assert_ne!(edited, original.charge);
    sqlx::query("UPDATE journal SET charge = ? WHERE id = ?")
        .bind(&edited)
        .bind(original.id)
        .execute(&pool)
        .await
        .unwrap();
    let (seq, reference, raison) = rupture(&s.verification(1).await);
    assert_eq!((seq, reference.as_str()), (2, sales[1].as_str()), "{raison}");
    assert!(raison.contains("empreinte"), "{raison}");
    sqlx::query("UPDATE journal SET charge = ? WHERE id = ?")
        .bind(&original.charge)
        .bind(original.id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(s.verification(1).await["valide"], true);

    // 2. An altered `precedente`.
    let fourth = row(&pool, 4).await;
    sqlx::query("UPDATE journal SET precedente = ? WHERE id = ?")
        .bind(&original.empreinte)
        .bind(fourth.id)
        .execute(&pool)
        .await
        .unwrap();
    let (seq, reference, raison) = rupture(&s.verification(1).await);
    assert_eq!((seq, reference), (4, retour.to_string()));
    assert!(raison.contains("précédente"), "{raison}");
    sqlx::query("UPDATE journal SET precedente = ? WHERE id = ?")
        .bind(&fourth.precedente)
        .bind(fourth.id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(s.verification(1).await["valide"], true);

    // 3. Two entries reordered (sequences exchanged).
    let third = row(&pool, 3).await;
    for (id, sequence) in [(original.id, 1000), (third.id, 2), (original.id, 3)] {
        sqlx::query("UPDATE journal SET sequence = ? WHERE id = ?")
            .bind(sequence)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    let (seq, reference, _) = rupture(&s.verification(1).await);
    assert_eq!((seq, reference.as_str()), (2, sales[2].as_str()));
    for (id, sequence) in [(original.id, 1000), (third.id, third.sequence), (original.id, original.sequence)] {
        sqlx::query("UPDATE journal SET sequence = ? WHERE id = ?")
            .bind(sequence)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    assert_eq!(s.verification(1).await["valide"], true);

    // 4. A deleted entry: the chain jumps, the entry after the gap is named.
    let full: (i64, String, String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT magasin_id, type, reference, cree_le FROM journal WHERE id = ?")
            .bind(third.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("DELETE FROM journal WHERE id = ?").bind(third.id).execute(&pool).await.unwrap();
    let v = s.verification(1).await;
    let (seq, reference, raison) = rupture(&v);
    assert_eq!((seq, reference), (4, retour.to_string()));
    assert!(raison.contains("entrée 3 manquante"), "{raison}");
    assert_eq!(v["entrees"], 4);
    sqlx::query(
        "INSERT INTO journal (id, magasin_id, sequence, type, reference, charge, precedente, empreinte, cree_le, chainee_le) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP(3))",
    )
    .bind(third.id)
    .bind(full.0)
    .bind(third.sequence)
    .bind(&full.1)
    .bind(&full.2)
    .bind(&third.charge)
    .bind(&third.precedente)
    .bind(&third.empreinte)
    .bind(full.3)
    .execute(&pool)
    .await
    .unwrap();
    let v = s.verification(1).await;
    assert_eq!((v["valide"].as_bool(), v["entrees"].as_i64()), (Some(true), Some(5)), "{v}");
    // Store 2's chain was never touched.
    assert_eq!(s.verification(2).await["valide"], true);
}

#[tokio::test]
async fn concurrent_sales_on_two_replicas_chain_densely_and_a_late_commit_is_chained_later() {
    let s = Arc::new(suite_with(2, None, None).await);
    s.set_quantity(24, 100).await;
    let pool = s.vente_db.admin_pool().await;
    // A journal entry inserted first but committed last (its id is the lowest).
    let mut late = pool.begin().await.unwrap();
    sqlx::query("INSERT INTO journal (magasin_id, type, reference, charge) VALUES (1, 'vente', 'tardive', '{}')")
        .execute(&mut *late)
        .await
        .unwrap();
    let mut carts = vec![];
    for i in 0..24 {
        carts.push((100 + i, s.cart(100 + i, &[(24, 1)]).await));
    }
    let mut tasks = vec![];
    for (n, (sub, cart)) in carts.into_iter().enumerate() {
        let suite = s.clone();
        tasks.push(tokio::spawn(async move {
            let k = key();
            for _ in 0..20 {
                let res =
                    suite.checkout(n % 2, sub, &k, json!({"panier_id": cart, "paiement": {"mode": "carte"}})).await;
                if res.status() != StatusCode::SERVICE_UNAVAILABLE {
                    assert_eq!(res.status(), StatusCode::CREATED);
                    return res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
                }
            }
            panic!("pas de réponse définitive pour le panier {cart}");
        }));
        // Readers chain while sales commit, on both replicas.
        if n % 6 == 0 {
            let res =
                s.call("GET", format!("{}/api/ventes/journal/tete?magasin=1", s.ventes[n % 2]), &admin(), None).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
    }
    let mut sold = vec![];
    for t in tasks {
        sold.push(t.await.unwrap());
    }
    let v = s.verification(1).await;
    assert_eq!((v["valide"].as_bool(), v["entrees"].as_i64()), (Some(true), Some(24)), "{v}");
    late.commit().await.unwrap();
    let entries = s.entries(1, 1000).await;
    assert_eq!(entries.len(), 25);
    let mut references: Vec<&str> = entries[..24].iter().map(|e| e["reference"].as_str().unwrap()).collect();
    references.sort_unstable();
    sold.sort();
    assert_eq!(references, sold.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!((entries[24]["reference"].as_str(), entries[24]["sequence"].as_i64()), (Some("tardive"), Some(25)));
    let v = s.verification(1).await;
    assert_eq!((v["valide"].as_bool(), v["entrees"].as_i64()), (Some(true), Some(25)), "{v}");
    // The chainer, not only readers, chains what commits: wait for it.
    let before = entries.len();
    let extra = s.cart(200, &[(24, 1)]).await;
    let res = s.checkout(1, 200, &key(), json!({"panier_id": extra, "paiement": {"mode": "carte"}})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut chained = 0;
    for _ in 0..200 {
        chained = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM journal WHERE sequence IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
        if chained as usize == before + 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(chained as usize, before + 1, "le chaîneur a chaîné la dernière vente de lui-même");
}

#[tokio::test]
async fn bad_input_on_the_journal_routes_is_a_4xx_problem_and_roles_are_enforced() {
    let s = suite().await;
    s.sell_at(1, 10, &[(25, 1)]).await;
    for path in [
        "/api/ventes/journal/tete?magasin=abc",
        "/api/ventes/journal/tete?magasin=0",
        "/api/ventes/journal/tete?magasin=-3",
        "/api/ventes/journal/tete",
        "/api/ventes/journal/tete?magasin=99999999999999999999",
        "/api/ventes/journal/tete?magasin=1&magasin_id=1",
        "/api/ventes/journal/verification",
        "/api/ventes/journal/verification?magasin=",
        "/api/ventes/journal/verification?magasin=1.5",
        "/api/ventes/journal/verification?magasin_id=-1",
        "/api/ventes/journal",
        "/api/ventes/journal?magasin=1&limite=0",
        "/api/ventes/journal?magasin=1&limite=1001",
        "/api/ventes/journal?magasin=1&limite=dix",
        "/api/ventes/journal?magasin=1&limit=-1",
        "/api/ventes/journal?magasin=1&apres=-1",
        "/api/ventes/journal?magasin=1&apres=x",
        "/api/ventes/journal?magasin=%00",
    ] {
        let res = s.get_as(path, &admin()).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{path}");
    }
    // Roles: admin everywhere; staff read their own store's head only; service the head.
    let caissier = cashier(10);
    let gerant = bearer(Role::Gerant, Some(1));
    let cases = [
        ("/api/ventes/journal/tete?magasin=1", caissier.clone(), StatusCode::OK),
        ("/api/ventes/journal/tete", caissier.clone(), StatusCode::OK),
        ("/api/ventes/journal/tete?magasin=1", gerant.clone(), StatusCode::OK),
        ("/api/ventes/journal/tete?magasin_id=2", caissier.clone(), StatusCode::FORBIDDEN),
        ("/api/ventes/journal/tete?magasin=2", gerant.clone(), StatusCode::FORBIDDEN),
        ("/api/ventes/journal/tete?magasin=1", bearer(Role::Service, None), StatusCode::OK),
        ("/api/ventes/journal/tete?magasin=1", bearer(Role::Logistique, None), StatusCode::FORBIDDEN),
        ("/api/ventes/journal/verification?magasin=1", gerant.clone(), StatusCode::FORBIDDEN),
        ("/api/ventes/journal/verification?magasin=1", bearer(Role::Service, None), StatusCode::FORBIDDEN),
        ("/api/ventes/journal?magasin=1", caissier.clone(), StatusCode::FORBIDDEN),
        ("/api/ventes/journal?magasin=1", gerant.clone(), StatusCode::FORBIDDEN),
        ("/api/ventes/journal?magasin=1", admin(), StatusCode::OK),
    ];
    for (path, token, want) in cases {
        assert_eq!(s.get_as(path, &token).await.status(), want, "{path}");
    }
    for path in [
        "/api/ventes/journal/tete?magasin=1",
        "/api/ventes/journal/verification?magasin=1",
        "/api/ventes/journal?magasin=1",
    ] {
        let res = s.http.get(format!("{}{path}", s.ventes[0])).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let tete: Value = s.get_as("/api/ventes/journal/tete", &caissier).await.json().await.unwrap();
    assert_eq!((tete["magasin_id"].as_i64(), tete["sequence"].as_i64()), (Some(1), Some(1)));
    // None of it touched the journal.
    assert_eq!(s.verification(1).await["entrees"], 1);
}
