//! One till of the fault scenarios: builds fresh carts through the gateway
//! and checks each one out, retrying on the SAME `Idempotency-Key` until a
//! final answer (201 sold, 409/422 refused); a 502/503/504 or a cut
//! connection means "retry". Every other answer is recorded as unexpected
//! (a 500 is a bug).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    harness::{Sys, key},
    load::{KeyOutcome, PLENTY, Report, SCARCE},
};

/// The tills' HTTP client: a request may wait up to nginx's 30 s read timeout.
pub fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(40)).pool_max_idle_per_host(64).build().expect("client")
}

/// How long a key may take to get its final answer before the test fails.
const KEY_DEADLINE: Duration = Duration::from_secs(90);

/// One till: its own token, carts and keys.
pub struct Cashier {
    http: Client,
    base: String,
    auth: String,
    index: usize,
    pub retries: Arc<AtomicUsize>,
    /// The open cash session of the cashier's store, once looked up.
    session: std::sync::Mutex<Option<i64>>,
}

/// A transient failure: the client is expected to repeat the request.
fn retriable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

impl Cashier {
    pub fn new(sys: &Sys, http: Client, auth: &str, index: usize) -> Self {
        Self {
            http,
            base: sys.stack.gateway_url.clone(),
            auth: auth.to_owned(),
            index,
            retries: Arc::default(),
            session: std::sync::Mutex::default(),
        }
    }

    pub async fn run(&self, stop: &AtomicBool, finals: &AtomicUsize) -> Report {
        let mut report = Report::default();
        let mut i = 0usize;
        while !stop.load(Ordering::SeqCst) {
            i += 1;
            let lines = self.lines(i);
            let Some(panier_id) = self.build_cart(&lines, &mut report).await else {
                continue;
            };
            let outcome = self.checkout(panier_id, lines, &mut report).await;
            finals.fetch_add(1, Ordering::SeqCst);
            report.outcomes.push(outcome);
        }
        report
    }

    /// One or two plentiful lines, and the scarce product in one cart of four.
    pub fn lines(&self, i: usize) -> Vec<(i64, i64)> {
        let n = self.index * 7919 + i * 104_729;
        let a = PLENTY[n % PLENTY.len()];
        let mut lines = vec![(a, i64::try_from(n % 3).unwrap_or(0) + 1)];
        if n.is_multiple_of(2) {
            let b = PLENTY[(n / 7 + 1) % PLENTY.len()];
            if b != a {
                lines.push((b, 1));
            }
        }
        if n % 4 == 1 {
            lines.push((SCARCE, i64::try_from(n % 2).unwrap_or(0) + 1));
        }
        lines
    }

    /// Sends a cart request until it is answered (not 502/503/504, not cut).
    async fn cart_call(&self, method: Method, path: &str, body: Option<Value>, report: &mut Report) -> (u16, Value) {
        let deadline = Instant::now() + KEY_DEADLINE;
        loop {
            let mut req =
                self.http.request(method.clone(), format!("{}{path}", self.base)).header("authorization", &self.auth);
            if let Some(b) = &body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(r) if !retriable(r.status()) => {
                    let status = r.status().as_u16();
                    return (status, r.json().await.unwrap_or(Value::Null));
                }
                _ if Instant::now() > deadline => return (0, Value::Null),
                _ => {
                    report.cart_retries += 1;
                    self.retries.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    pub async fn build_cart(&self, lines: &[(i64, i64)], report: &mut Report) -> Option<i64> {
        let known = self.session.lock().ok().and_then(|s| *s);
        let session = match known {
            Some(s) => s,
            None => match caisse_tests::session(&self.http, &self.base, &self.auth, None).await {
                Ok(s) => {
                    if let Ok(mut slot) = self.session.lock() {
                        *slot = Some(s);
                    }
                    s
                }
                Err(e) => {
                    report.unexpected.push(format!("session de caisse : {e:#}"));
                    return None;
                }
            },
        };
        let body = json!({"session_id": session});
        let (status, body) = self.cart_call(Method::POST, "/api/paniers", Some(body), report).await;
        let Some(id) = body["id"].as_i64().filter(|_| status == 201) else {
            report.unexpected.push(format!("POST /api/paniers -> {status} {body}"));
            return None;
        };
        for (p, q) in lines {
            let path = format!("/api/paniers/{id}/lignes/{p}");
            let (status, body) = self.cart_call(Method::PUT, &path, Some(json!({"quantite": q})), report).await;
            if status != 200 {
                report.unexpected.push(format!("PUT {path} -> {status} {body}"));
                return None;
            }
        }
        Some(id)
    }

    /// Checks `panier_id` out under a fresh key, retrying until a final answer.
    pub async fn checkout(&self, panier_id: i64, lines: Vec<(i64, i64)>, report: &mut Report) -> KeyOutcome {
        self.finish(key(), panier_id, lines, 0, Instant::now(), report).await
    }

    /// One checkout request under `key`.
    pub async fn attempt(&self, key: &str, panier_id: i64) -> Attempt {
        let body = json!({"panier_id": panier_id, "paiement": {"mode": "carte"}});
        let res = self
            .http
            .post(format!("{}/api/ventes", self.base))
            .header("authorization", &self.auth)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await;
        let r = match res {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(format!("erreur de transport : {e}")),
        };
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        match status.as_u16() {
            201 => Attempt::Final(201, v["id"].as_str().map(str::to_owned)),
            409 | 422 => Attempt::Final(status.as_u16(), None),
            s if retriable(status) => Attempt::Retry(format!("{s} {v}")),
            s => Attempt::Unexpected(format!("POST /api/ventes clé {key} (panier {panier_id}) -> {s} {v}")),
        }
    }

    /// Repeats `key`'s checkout until a final answer (after `done` attempts
    /// made since `started`).
    pub async fn finish(
        &self,
        key: String,
        panier_id: i64,
        lines: Vec<(i64, i64)>,
        done: usize,
        started: Instant,
        report: &mut Report,
    ) -> KeyOutcome {
        let mut attempts = done;
        let mut last = String::new();
        let (status, sale_id) = loop {
            if started.elapsed() > KEY_DEADLINE {
                report
                    .unexpected
                    .push(format!("clé {key} (panier {panier_id}) : pas de réponse finale, dernière : {last}"));
                break (None, None);
            }
            attempts += 1;
            match self.attempt(&key, panier_id).await {
                Attempt::Final(s, id) => break (Some(s), id),
                Attempt::Retry(why) => {
                    self.retries.fetch_add(1, Ordering::SeqCst);
                    last = why;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Attempt::Unexpected(what) => {
                    report.unexpected.push(what);
                    break (None, None);
                }
            }
        };
        KeyOutcome { key, panier_id, status, sale_id, attempts, lines, elapsed: started.elapsed() }
    }
}

/// The answer to one checkout request.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// 201 (with the sale id), 409 or 422.
    Final(u16, Option<String>),
    /// 502/503/504 or a cut connection: repeat with the same key.
    Retry(String),
    Unexpected(String),
}
