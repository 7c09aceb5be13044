//! The dashboard's answers, kept while the read model has not moved.
//!
//! The read model's version is every producer's cursor: the same question
//! (store, period, trend days, ranking size, today) at the same version has
//! the same answer. Each replica keeps the version in memory ([`ReadModel`]),
//! re-read from MariaDB in the background every [`REFRESH`] and at once after
//! its own consumer applied a batch; a request uses the version in memory if
//! it was read less than [`FRESHNESS`] ago, and reads it itself otherwise. A
//! kept answer therefore costs no query nor Redis call, and the rule is: an
//! answer reflects every event applied (on any replica) at least
//! [`FRESHNESS`] before the request arrived — sooner on the replica that
//! applied it.
//!
//! Answers are kept serialised, with their `ETag` (a hash of the body, the
//! same on every replica) for `If-None-Match`.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::body::Bytes;
use caisse_common::events::Producer;
use chrono::NaiveDate;
use sqlx::MySqlPool;
use tokio::sync::Notify;

/// How old the version a request relies on may be (see the module's rule).
pub const FRESHNESS: Duration = Duration::from_millis(250);
/// How often each replica re-reads the cursors without being told to.
pub const REFRESH: Duration = Duration::from_millis(100);

/// What a dashboard answer depends on besides the read model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    pub magasin_id: Option<i64>,
    pub du: NaiveDate,
    pub au: NaiveDate,
    pub jours: u32,
    pub limite: u32,
    /// The trend ends today: a new day is a new question.
    pub today: NaiveDate,
}

/// Every producer's cursor, in [`Producer::ALL`] order: the read model's version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Version(pub [i64; 3]);

impl Version {
    pub fn from_cursors(cursors: &[(Producer, i64)]) -> Self {
        let mut v = [0; 3];
        for (p, id) in cursors {
            if let Some(i) = Producer::ALL.iter().position(|q| q == p) {
                v[i] = *id;
            }
        }
        Self(v)
    }
}

/// A serialised answer and its `ETag` (with its quotes).
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Bytes,
    pub etag: Arc<str>,
}

impl Answer {
    pub fn new(body: Bytes) -> Self {
        // SipHash with fixed keys: the same body has the same tag on every
        // replica of a build, so a revalidation may go to either.
        let mut h = std::hash::DefaultHasher::new();
        body.hash(&mut h);
        Self { etag: format!("\"{:016x}-{:x}\"", h.finish(), body.len()).into(), body }
    }

    /// `If-None-Match` names this answer (weak comparison: the gateway's
    /// gzip turns the tag weak).
    pub fn matches(&self, if_none_match: &str) -> bool {
        if_none_match.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == &*self.etag)
    }
}

/// This replica's idea of the read model's version.
#[derive(Default)]
pub struct ReadModel {
    /// The last cursors read and when their read began (everything
    /// committed before that instant is in them).
    known: Mutex<Option<(Instant, Version)>>,
    /// One read at a time on the request path.
    reading: tokio::sync::Mutex<()>,
    /// Wakes the background reader (this replica applied a batch).
    wake: Notify,
}

impl ReadModel {
    /// The version read less than [`FRESHNESS`] ago, if any.
    pub fn fresh(&self) -> Option<Version> {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.filter(|(at, _)| at.elapsed() < FRESHNESS).map(|(_, v)| v)
    }

    /// The version, from memory when fresh enough, read otherwise.
    pub async fn version(&self, pool: &MySqlPool) -> Result<Version, sqlx::Error> {
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        let _one = self.reading.lock().await;
        match self.fresh() {
            Some(v) => Ok(v),
            None => self.read(pool).await,
        }
    }

    /// Reads the cursors and keeps them unless a read begun later is already kept.
    pub async fn read(&self, pool: &MySqlPool) -> Result<Version, sqlx::Error> {
        let began = Instant::now();
        let v = Version::from_cursors(&crate::db::reports::cursors(pool).await?);
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        match *known {
            Some((at, kept)) if at > began => Ok(kept),
            _ => {
                *known = Some((began, v));
                Ok(v)
            }
        }
    }

    /// This replica applied events: read the cursors now.
    pub fn changed(&self) {
        self.wake.notify_one();
    }

    /// Re-reads the cursors every [`REFRESH`], and when [`changed`](Self::changed).
    pub async fn follow(self: Arc<Self>, pool: MySqlPool) {
        let mut failing = false;
        loop {
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(REFRESH) => {}
            }
            match self.read(&pool).await {
                Ok(_) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "curseurs illisibles : le tableau de bord les lira lui-même");
                }
                Err(_) => {}
            }
        }
    }
}

/// Answers kept: a few questions are asked over and over (head office's
/// screens); anything beyond is dropped wholesale.
const KEPT: usize = 256;

#[derive(Default)]
pub struct Snapshots {
    answers: Mutex<HashMap<Question, (Version, Answer)>>,
    /// One computation per question at a time: the others wait for its answer.
    computing: Mutex<HashMap<Question, Arc<tokio::sync::Mutex<()>>>>,
}

impl Snapshots {
    /// The answer computed at `version`, if any.
    pub fn get(&self, q: &Question, version: Version) -> Option<Answer> {
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.get(q).filter(|(v, _)| *v == version).map(|(_, a)| a.clone())
    }

    pub fn put(&self, q: Question, version: Version, answer: Answer) {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() >= KEPT && !answers.contains_key(&q) {
            answers.clear();
        }
        answers.insert(q, (version, answer));
    }

    /// The lock a computation of `q` holds.
    pub fn computing(&self, q: &Question) -> Arc<tokio::sync::Mutex<()>> {
        let mut computing = self.computing.lock().unwrap_or_else(PoisonError::into_inner);
        if computing.len() >= KEPT && !computing.contains_key(q) {
            // Only locks nobody holds nor waits for.
            computing.retain(|_, l| Arc::strong_count(l) > 1);
        }
        computing.entry(q.clone()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_reused_only_at_the_same_version_for_the_same_question() {
        let day: NaiveDate = "2026-11-20".parse().unwrap();
        let q = Question { magasin_id: None, du: day, au: day, jours: 7, limite: 10, today: day };
        let s = Snapshots::default();
        let v1 = Version::from_cursors(&[(Producer::Vente, 3), (Producer::Stock, 9)]);
        s.put(q.clone(), v1, Answer::new(Bytes::from_static(b"{}")));
        assert_eq!(s.get(&q, v1).map(|a| a.body).as_deref(), Some(&b"{}"[..]));
        let v2 = Version::from_cursors(&[(Producer::Vente, 4), (Producer::Stock, 9)]);
        assert!(s.get(&q, v2).is_none(), "an event moved a cursor");
        assert!(s.get(&Question { magasin_id: Some(1), ..q }, v1).is_none(), "another store");
    }

    #[test]
    fn the_etag_names_the_body_and_if_none_match_compares_weakly() {
        let a = Answer::new(Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(a.etag, Answer::new(Bytes::from_static(b"{\"a\":1}")).etag, "same body, same tag");
        assert_ne!(a.etag, Answer::new(Bytes::from_static(b"{\"a\":2}")).etag);
        assert!(a.matches(&a.etag));
        assert!(a.matches(&format!("W/{}", a.etag)), "gzip made it weak");
        assert!(a.matches(&format!("\"x\", {}", a.etag)));
        assert!(a.matches("*"));
        assert!(!a.matches("\"x\""));
    }

    #[test]
    fn a_version_is_fresh_only_for_a_while() {
        let m = ReadModel::default();
        assert!(m.fresh().is_none(), "never read");
        *m.known.lock().unwrap() = Some((Instant::now(), Version([1, 2, 3])));
        assert_eq!(m.fresh(), Some(Version([1, 2, 3])));
        let old = Instant::now().checked_sub(FRESHNESS).unwrap();
        *m.known.lock().unwrap() = Some((old, Version([1, 2, 3])));
        assert!(m.fresh().is_none(), "read {FRESHNESS:?} ago");
    }
}
