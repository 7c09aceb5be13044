//! A steady checkout load for the fault scenarios: [`Cashier`]s of magasin 1
//! running side by side until stopped, what each key finally got, and the
//! scenario's figures.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::task::JoinHandle;

use crate::{
    harness::Sys,
    tills::{Cashier, client},
};

/// The product kept scarce (5 units in magasin 1) so that some checkouts are refused.
pub const SCARCE: i64 = 9;
/// Products topped up so that they do not run out.
pub const PLENTY: [i64; 6] = [1, 2, 3, 4, 5, 6];

/// Whether `CAISSE_FAULTS_FULL=1` asks for the long run.
pub fn full() -> bool {
    std::env::var("CAISSE_FAULTS_FULL").is_ok_and(|v| v == "1")
}

/// What one key finally got.
#[derive(Debug, Clone)]
pub struct KeyOutcome {
    pub key: String,
    pub panier_id: i64,
    /// 201, 409 or 422; `None` if no final answer came within the key's deadline.
    pub status: Option<u16>,
    pub sale_id: Option<String>,
    pub attempts: usize,
    pub lines: Vec<(i64, i64)>,
    /// From the first attempt to the final answer.
    pub elapsed: Duration,
}

/// Everything the cashiers saw.
#[derive(Debug, Default)]
pub struct Report {
    pub outcomes: Vec<KeyOutcome>,
    /// Answers that are neither final nor "retry", with their context.
    pub unexpected: Vec<String>,
    /// Cart requests that had to be repeated (502/503/504, cut connection).
    pub cart_retries: usize,
}

impl Report {
    pub fn completed(&self) -> impl Iterator<Item = &KeyOutcome> {
        self.outcomes.iter().filter(|o| o.status == Some(201))
    }

    pub fn count(&self, status: u16) -> usize {
        self.outcomes.iter().filter(|o| o.status == Some(status)).count()
    }

    /// Prints the scenario's figures (kept in the test output by nextest on failure,
    /// and shown with `--no-capture`).
    pub fn print(&self, scenario: &str, took: Duration) {
        let retried: usize = self.outcomes.iter().map(|o| o.attempts.saturating_sub(1)).sum();
        let keys_retried = self.outcomes.iter().filter(|o| o.attempts > 1).count();
        let slowest = self.outcomes.iter().map(|o| o.elapsed).max().unwrap_or_default();
        eprintln!(
            "[{scenario}] clés tentées {} · vendues (201) {} · refusées (409 {} / 422 {}) · sans réponse finale {} · \
             nouvelles tentatives {retried} sur {keys_retried} clés · paniers réessayés {} · inattendues {} · \
             réponse finale la plus lente {slowest:?} · durée {took:?}",
            self.outcomes.len(),
            self.count(201),
            self.count(409),
            self.count(422),
            self.outcomes.iter().filter(|o| o.status.is_none()).count(),
            self.cart_retries,
            self.unexpected.len(),
        );
    }

    /// Every key got exactly one final answer and nothing unexpected was seen.
    pub fn assert_every_key_answered(&self) {
        assert!(self.unexpected.is_empty(), "réponses inattendues : {:#?}", self.unexpected);
        let open: Vec<_> = self.outcomes.iter().filter(|o| o.status.is_none()).collect();
        assert!(open.is_empty(), "clés sans réponse finale : {open:#?}");
        assert!(self.count(201) > 0, "aucune vente conclue : la charge n'a rien exercé");
    }
}

/// Cashiers running until `stop`.
pub struct Load {
    stop: Arc<AtomicBool>,
    finals: Arc<AtomicUsize>,
    retries: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<Report>>,
}

impl Load {
    /// Starts `cashiers` cashiers, alternating between the given tokens.
    pub fn start(sys: &Sys, tokens: &[String], cashiers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let finals = Arc::new(AtomicUsize::new(0));
        let retries = Arc::new(AtomicUsize::new(0));
        let http = client();
        let tasks = (0..cashiers)
            .map(|c| {
                let mut cashier = Cashier::new(sys, http.clone(), &tokens[c % tokens.len()], c);
                cashier.retries = retries.clone();
                let (stop, finals) = (stop.clone(), finals.clone());
                tokio::spawn(async move { cashier.run(&stop, &finals).await })
            })
            .collect();
        Load { stop, finals, retries, tasks }
    }

    /// Requests the tills had to repeat so far (502/503/504, cut connection).
    pub fn retries(&self) -> usize {
        self.retries.load(Ordering::SeqCst)
    }

    /// Waits until the tills have repeated `n` more requests than `from`
    /// (the fault is visible to them); panics after `limit`.
    pub async fn wait_retries(&self, from: usize, n: usize, limit: Duration, what: &str) {
        let deadline = Instant::now() + limit;
        while self.retries() < from + n {
            assert!(Instant::now() < deadline, "{what} : aucune caisse n'a vu la panne en {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Final answers received so far (all cashiers).
    pub fn finals(&self) -> usize {
        self.finals.load(Ordering::SeqCst)
    }

    /// Waits until `n` more final answers than `from` came back; panics after `limit`.
    pub async fn wait_progress(&self, from: usize, n: usize, limit: Duration, what: &str) {
        let deadline = Instant::now() + limit;
        while self.finals() < from + n {
            assert!(
                Instant::now() < deadline,
                "{what} : {} réponses finales en {limit:?}, {n} attendues",
                self.finals() - from
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the cashiers; each finishes the key it is on.
    pub async fn stop(self) -> Report {
        self.stop.store(true, Ordering::SeqCst);
        let mut report = Report::default();
        for t in self.tasks {
            let r = t.await.expect("caissier");
            report.outcomes.extend(r.outcomes);
            report.unexpected.extend(r.unexpected);
            report.cart_retries += r.cart_retries;
        }
        report
    }
}
