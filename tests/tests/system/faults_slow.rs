//! Fault suite, a slow peer: every call from vente to stock delayed past
//! vente's 5 s client timeout (a FaultProxy as vente's `STOCK_URL`, in front
//! of the gateway). Checkouts still answer within their deadline; the delayed
//! reservations reach stock late, after vente gave up on them; once stock is
//! fast again every key converges on one final answer and nothing reserved
//! leaks.

use std::time::{Duration, Instant};

use caisse_launcher::Options;
use caisse_testing::{Action, FaultProxy, Rule};

use crate::{
    consistency::{check, prepare_stock, wait_settled},
    harness::{Sys, key},
    load::{KeyOutcome, PLENTY, Report, SCARCE, full},
    tills::{Attempt, Cashier, client},
};

/// vente's checkout deadline in this scenario (`CHECKOUT_DEADLINE_MS`).
const CHECKOUT_DEADLINE: Duration = Duration::from_secs(2);
/// What a till may wait for an answer: the deadline, the bounded release
/// that follows an unknown outcome (at most the deadline again), and a wide
/// margin for a busy 2-core CI machine.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn stock_slowed_past_the_client_timeout_checkouts_answer_in_time_and_nothing_reserved_leaks() {
    let started = Instant::now();
    let gateway_port = caisse_launcher::free_port().expect("port");
    let proxy = FaultProxy::start(&format!("http://127.0.0.1:{gateway_port}")).await;
    let mut opts = Options::for_test().expect("options");
    opts.gateway_port = gateway_port;
    for (k, v) in [
        ("STOCK_URL", proxy.url()),
        ("CHECKOUT_DEADLINE_MS", CHECKOUT_DEADLINE.as_millis().to_string()),
        ("RECOVERY_GRACE_MS", "3000".to_owned()),
    ] {
        opts.extra_env.push(("vente".into(), k.into(), v));
    }
    let sys = Sys::start_with(opts).await;
    let before = prepare_stock(&sys).await;
    let tokens = [sys.login("caissier1").await, sys.login("caissier1b").await];
    let http = client();
    let mut report = Report::default();

    // The proxy is on vente's way to stock.
    let till = Cashier::new(&sys, http.clone(), &tokens[0], 0);
    let cart = till.build_cart(&[(PLENTY[0], 1)], &mut report).await.expect("panier");
    let first = till.checkout(cart, vec![(PLENTY[0], 1)], &mut report).await;
    assert_eq!(first.status, Some(201), "{first:?} {:?}", report.unexpected);
    assert!(proxy.seen().iter().any(|s| s.path_and_query.starts_with("/api/stocks/reservations")));
    report.outcomes.push(first);

    let n = if full() { 12 } else { 4 };
    let mut tills = vec![];
    for i in 0..n {
        let till = Cashier::new(&sys, http.clone(), &tokens[i % 2], i + 1);
        let mut lines = vec![(PLENTY[i % PLENTY.len()], 1)];
        if i % 2 == 1 {
            lines.push((SCARCE, 2));
        }
        let cart = till.build_cart(&lines, &mut report).await.expect("panier");
        tills.push((till, cart, lines));
    }
    let slow = proxy.add(Rule::any().then(Action::Delay(Duration::from_secs(6))));
    let answers = futures::future::join_all(tills.iter().map(|(till, cart, _)| async move {
        let (k, t) = (key(), Instant::now());
        let a = till.attempt(&k, *cart).await;
        (k, t, t.elapsed(), a)
    }))
    .await;
    let slowest = answers.iter().map(|a| a.2).max().unwrap_or_default();
    let late: Vec<_> = answers
        .iter()
        .filter(|(_, _, took, a)| {
            let answered = match a {
                Attempt::Final(..) => true,
                Attempt::Retry(r) => r.starts_with("503"),
                Attempt::Unexpected(_) => false,
            };
            *took > ANSWER_LIMIT || !answered
        })
        .map(|(k, _, took, a)| (k, took, a))
        .collect();
    proxy.clear();

    // Stock is fast again: every key converges on one final answer.
    for ((till, cart, lines), (k, t, _, a)) in tills.iter().zip(answers.iter()) {
        let outcome = match a {
            Attempt::Final(s, id) => KeyOutcome {
                key: k.clone(),
                panier_id: *cart,
                status: Some(*s),
                sale_id: id.clone(),
                attempts: 1,
                lines: lines.clone(),
                elapsed: t.elapsed(),
            },
            _ => till.finish(k.clone(), *cart, lines.clone(), 1, *t, &mut report).await,
        };
        report.outcomes.push(outcome);
    }
    // Every delayed request has reached stock (late) before the check.
    slow.wait_forwarded(slow.matched()).await;
    let settled = wait_settled(&sys, Duration::from_secs(30)).await;
    report.print("stock ralenti", started.elapsed());
    eprintln!(
        "[stock ralenti] appels vers stock retardés {} ; première réponse la plus lente {slowest:?} ; récupération {settled:?}",
        slow.matched()
    );
    assert!(slow.matched() > 0, "le ralentissement n'a touché aucun appel");
    assert!(late.is_empty(), "encaissements sans réponse dans les {ANSWER_LIMIT:?} (ou réponse invalide) : {late:#?}");
    report.assert_every_key_answered();
    let checked = check(&sys, Some(&report), Some(&before)).await;
    eprintln!("[stock ralenti] vérification : {checked}");
}
