//! Issue 9's findings about who decides a sale, each reproduced with a
//! `FaultProxy` between vente and stock (or panier): lost answers, failing
//! releases, held requests. Client request ids name who is calling
//! (`essai-…` the first attempt, `relance-…` a retry); vente forwards them,
//! and its recovery loop's start with `recuperation-`.

use std::time::{Duration, Instant};

use caisse_testing::{Action, FaultProxy, Rule};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Role, Suite, bearer, cashier, key, suite, suite_proxied};

const RESERVE: &str = "/api/stocks/reservations";

impl Suite {
    fn stock_proxy(&self) -> &FaultProxy {
        self.stock_proxy.as_ref().expect("suite_proxied")
    }

    fn panier_proxy(&self) -> &FaultProxy {
        self.panier_proxy.as_ref().expect("suite_proxied")
    }

    async fn checkout_as(&self, rid: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}/api/ventes", self.ventes[0]))
            .header("authorization", cashier(10))
            .header("idempotency-key", key)
            .header("x-request-id", rid)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Retries `key` as a client would (503 means "retry") until a final answer.
    async fn retry_until_final(&self, key: &str, body: &Value) -> (StatusCode, Value) {
        let deadline = Instant::now() + Duration::from_secs(40);
        for n in 0.. {
            let (status, answer) = self.checkout_as(&format!("relance-{n}"), key, body).await;
            if status != StatusCode::SERVICE_UNAVAILABLE || Instant::now() > deadline {
                return (status, answer);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        unreachable!()
    }

    /// Every attempt recorded for `key`: (id, statut).
    async fn attempts(&self, key: &str) -> Vec<(String, String)> {
        sqlx::query_as("SELECT id, statut FROM ventes WHERE cle_idempotence = ? ORDER BY numero")
            .bind(key)
            .fetch_all(&self.vente_db.admin_pool().await)
            .await
            .unwrap()
    }

    /// Waits (bounded) until no attempt for `key` is undecided; returns them.
    async fn settled(&self, key: &str) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let rows = self.attempts(key).await;
            let undecided = rows.iter().any(|(_, s)| s == "en_cours" || s == "compensation");
            if !undecided || Instant::now() > deadline {
                assert!(!undecided, "ventes toujours indécises : {rows:?}");
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn sold(rows: &[(String, String)]) -> Vec<String> {
        rows.iter().filter(|(_, s)| s == "terminee").map(|(id, _)| id.clone()).collect()
    }
}

fn carte(cart: i64) -> Value {
    json!({"panier_id": cart, "paiement": {"mode": "carte"}})
}

/// Finding 1: a retry while recovery compensates answered 201 for a sale that then vanished.
#[tokio::test]
async fn a_retry_during_compensation_never_answers_201_for_the_undone_sale() {
    let s = suite_proxied().await;
    let q = s.quantity(7).await;
    let cart = s.cart(10, &[(7, 1)]).await;
    let stock = s.stock_proxy();
    // Stock fails the reservation (5xx: outcome unknown) and the checkout's release.
    stock.add(Rule::post(RESERVE).path_exact(RESERVE).request_id_prefix("essai-").times(3).then(Action::Status(503)));
    stock.add(Rule::post(RESERVE).path_contains("/liberation").request_id_prefix("essai-").then(Action::Status(503)));
    // Recovery's release is held: the sale sits in compensation meanwhile.
    let held = stock.add(
        Rule::post(RESERVE).path_contains("/liberation").request_id_prefix("recuperation-").times(1).then(Action::Hold),
    );
    let k = key();
    let (first, _) = s.checkout_as("essai-1", &k, &carte(cart)).await;
    assert_eq!(first, StatusCode::SERVICE_UNAVAILABLE);
    held.wait_held(1).await;
    // A retry now, while the sale is being undone, must not be told it is sold.
    let (during, answer) = s.checkout_as("relance-pendant", &k, &carte(cart)).await;
    held.release();
    let mut receipts = vec![];
    if during == StatusCode::CREATED {
        receipts.push(answer["id"].as_str().unwrap().to_owned());
    }
    let (status, answer) = s.retry_until_final(&k, &carte(cart)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    receipts.push(answer["id"].as_str().unwrap().to_owned());
    let rows = s.settled(&k).await;
    // Every receipt answered is a sale that stays sold, the only one for the key.
    for id in &receipts {
        assert_eq!(&Suite::sold(&rows), &vec![id.clone()], "reçu {id} : {rows:?}");
        let url = format!("{}/api/ventes/{id}", s.ventes[0]);
        assert_eq!(s.call("GET", url, &cashier(10), None).await.status(), StatusCode::OK);
    }
    assert_eq!(s.quantity(7).await, q - 1);
    s.assert_consistent().await;
}

/// Finding 2: after an unknown outcome the checkout released without taking
/// the sale over, while recovery completed it: a sold sale with its stock back.
#[tokio::test]
async fn a_checkout_takes_the_sale_over_before_releasing_it() {
    let s = suite_proxied().await;
    let q = s.quantity(7).await;
    let cart = s.cart(10, &[(7, 1)]).await;
    let stock = s.stock_proxy();
    stock.add(
        Rule::post(RESERVE).path_exact(RESERVE).request_id_prefix("essai-").times(3).then(Action::DropAfterForward),
    );
    // The checkout's release is held until recovery has had its say.
    let held =
        stock.add(Rule::post(RESERVE).path_contains("/liberation").request_id_prefix("essai-").then(Action::Hold));
    let recovery = stock.add(Rule::any().request_id_prefix("recuperation-"));
    let k = key();
    let (http_s, body) = (s.ventes[0].clone(), carte(cart));
    let checkout = {
        let (k, http) = (k.clone(), s.http.clone());
        tokio::spawn(async move {
            let res = http
                .post(format!("{http_s}/api/ventes"))
                .header("authorization", cashier(10))
                .header("idempotency-key", k)
                .header("x-request-id", "essai-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            res.status()
        })
    };
    held.wait_matched(1).await;
    recovery.wait_forwarded(1).await;
    s.settled(&k).await;
    held.release();
    let status = checkout.await.unwrap();
    let rows = s.settled(&k).await;
    match status {
        StatusCode::CREATED => assert_eq!(Suite::sold(&rows).len(), 1, "{rows:?}"),
        StatusCode::SERVICE_UNAVAILABLE => assert!(Suite::sold(&rows).is_empty(), "503 mais vendu : {rows:?}"),
        other => panic!("réponse inattendue {other}"),
    }
    let expected = if status == StatusCode::CREATED { q - 1 } else { q };
    assert_eq!(s.quantity(7).await, expected);
    s.assert_consistent().await;
}

/// Finding 3: a refused sale left no tombstone, so an earlier attempt of its
/// reservation arriving late took the stock for a sale that does not exist.
#[tokio::test]
async fn a_late_reservation_of_a_refused_sale_takes_nothing() {
    let s = suite().await;
    s.set_quantity(7, 1).await;
    let cart = s.cart(10, &[(7, 2)]).await;
    let k = key();
    let res = s.checkout(0, 10, &k, carte(cart)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let (id, statut): (String, String) = sqlx::query_as("SELECT id, statut FROM ventes WHERE cle_idempotence = ?")
        .bind(&k)
        .fetch_one(&s.vente_db.admin_pool().await)
        .await
        .unwrap();
    assert_eq!(statut, "rejetee");
    // Stock arrives; then the reservation's earlier attempt reaches stock late.
    s.set_quantity(7, 5).await;
    let late = s
        .call(
            "POST",
            format!("{}{RESERVE}", s.stock),
            &bearer(Role::Service, None),
            Some(json!({"vente_id": id, "magasin_id": 1, "lignes": [{"produit_id": 7, "quantite": 2}]})),
        )
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT, "une réservation tardive d'une vente refusée est refusée");
    assert_eq!(s.quantity(7).await, 5);
    s.assert_consistent().await;
}

/// Finding 4: a 503 "nothing sold" (unknown outcome, failed release) became a
/// completed sale when recovery found the reservation.
#[tokio::test]
async fn a_503_means_nothing_is_sold_even_when_the_release_fails() {
    let s = suite_proxied().await;
    let q = s.quantity(7).await;
    let cart = s.cart(10, &[(7, 1)]).await;
    let stock = s.stock_proxy();
    stock.add(
        Rule::post(RESERVE).path_exact(RESERVE).request_id_prefix("essai-").times(3).then(Action::DropAfterForward),
    );
    stock.add(Rule::post(RESERVE).path_contains("/liberation").request_id_prefix("essai-").then(Action::Status(503)));
    let recovery = stock.add(Rule::any().request_id_prefix("recuperation-"));
    let k = key();
    let (status, answer) = s.checkout_as("essai-1", &k, &carte(cart)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    recovery.wait_forwarded(1).await;
    let rows = s.settled(&k).await;
    assert!(Suite::sold(&rows).is_empty(), "le 503 disait « rien vendu » : {rows:?}");
    assert!(answer["detail"].as_str().unwrap_or_default().contains("Rien n'a été vendu"), "{answer}");
    assert_eq!(s.quantity(7).await, q);
    let cart_now: Value =
        s.call("GET", format!("{}/api/paniers/{cart}", s.panier), &cashier(10), None).await.json().await.unwrap();
    assert_eq!(cart_now["statut"], "ouvert", "le panier reste à encaisser");
    s.assert_consistent().await;
}

/// Finding 11: recovery closed carts without carry-over, swallowing what was scanned meanwhile.
#[tokio::test]
async fn recovery_closes_a_cart_with_carry_over() {
    let s = suite_proxied().await;
    let cart = s.cart(10, &[(7, 1)]).await;
    // panier refuses the checkout's close: the sale completes, the cart stays open.
    s.panier_proxy().add(
        Rule::post("/api/paniers/").path_contains("/fermeture").request_id_prefix("essai-").then(Action::Status(503)),
    );
    let recovery = s
        .panier_proxy()
        .add(Rule::post("/api/paniers/").path_contains("/fermeture").request_id_prefix("recuperation-"));
    let (status, recu) = s.checkout_as("essai-1", &key(), &carte(cart)).await;
    assert_eq!(status, StatusCode::CREATED, "{recu}");
    // Meanwhile the cashier scans the next customer's item into the same cart.
    let res = s
        .call("PUT", format!("{}/api/paniers/{cart}/lignes/8", s.panier), &cashier(10), Some(json!({"quantite": 2})))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    recovery.wait_forwarded(1).await;
    let closed: Value =
        s.call("GET", format!("{}/api/paniers/{cart}", s.panier), &cashier(10), None).await.json().await.unwrap();
    assert_eq!(closed["statut"], "ferme");
    assert_eq!(closed["vente_id"], recu["id"]);
    let open: Value =
        s.call("GET", format!("{}/api/paniers", s.panier), &cashier(10), None).await.json().await.unwrap();
    let carried = open.to_string();
    assert!(carried.contains("\"produit_id\":8"), "l'article scanné entre-temps est reporté : {open}");
}

/// Finding 12: a concurrent retry whose first attempt was abandoned got 409
/// "déjà encaissé" though nothing was sold.
#[tokio::test]
async fn a_concurrent_retry_of_an_abandoned_attempt_sells() {
    let s = suite_proxied().await;
    let q = s.quantity(7).await;
    let cart = s.cart(10, &[(7, 1)]).await;
    // The retry reads the cart before the first attempt is recorded, and is held there.
    let cart_read =
        s.panier_proxy().add(Rule::get("/api/paniers/").request_id_prefix("relance-").times(1).then(Action::Hold));
    // The first attempt's reservation never gets an answer in time: it is abandoned.
    let reservation =
        s.stock_proxy().add(Rule::post(RESERVE).path_exact(RESERVE).request_id_prefix("essai-").then(Action::Hold));
    let k = key();
    let spawn_checkout = |rid: &'static str| {
        let (url, k, body, http) = (s.ventes[0].clone(), k.clone(), carte(cart), s.http.clone());
        tokio::spawn(async move {
            let res = http
                .post(format!("{url}/api/ventes"))
                .header("authorization", cashier(10))
                .header("idempotency-key", k)
                .header("x-request-id", rid)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        })
    };
    let retry = spawn_checkout("relance-1");
    cart_read.wait_held(1).await;
    let first = spawn_checkout("essai-1");
    reservation.wait_held(1).await;
    cart_read.release();
    let (first_status, _) = first.await.unwrap();
    assert_eq!(first_status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, answer) = retry.await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "la relance vend : {answer}");
    let rows = s.settled(&k).await;
    assert_eq!(Suite::sold(&rows).len(), 1, "{rows:?}");
    assert_eq!(s.quantity(7).await, q - 1);
    s.assert_consistent().await;
}
