//! The dashboard's answers, kept while the read model has not moved: an
//! answer is reused only for the same question (store, period, trend days,
//! ranking size, today) asked when every producer's cursor is where it was
//! when the answer was computed — the read model is then exactly the same,
//! so a reused answer is never stale. Checking costs one read of the three
//! cursors instead of the report's five queries.

use std::{collections::HashMap, sync::Mutex};

use axum::body::Bytes;
use caisse_common::events::Producer;
use chrono::NaiveDate;

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

/// Every producer's cursor: the read model's version.
pub type Version = Vec<(Producer, i64)>;

/// Answers kept: a few questions are asked over and over (head office's
/// screens); anything beyond is dropped wholesale.
const KEPT: usize = 256;

#[derive(Default)]
pub struct Snapshots {
    answers: Mutex<HashMap<Question, (Version, Bytes)>>,
}

impl Snapshots {
    /// The answer computed at `version`, if any.
    pub fn get(&self, q: &Question, version: &Version) -> Option<Bytes> {
        let answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        answers.get(q).filter(|(v, _)| v == version).map(|(_, body)| body.clone())
    }

    pub fn put(&self, q: Question, version: Version, body: Bytes) {
        let mut answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if answers.len() >= KEPT && !answers.contains_key(&q) {
            answers.clear();
        }
        answers.insert(q, (version, body));
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
        let v1 = vec![(Producer::Vente, 3), (Producer::Stock, 9)];
        s.put(q.clone(), v1.clone(), Bytes::from_static(b"{}"));
        assert_eq!(s.get(&q, &v1).as_deref(), Some(&b"{}"[..]));
        assert!(s.get(&q, &vec![(Producer::Vente, 4), (Producer::Stock, 9)]).is_none(), "an event moved a cursor");
        assert!(s.get(&Question { magasin_id: Some(1), ..q }, &v1).is_none(), "another store");
    }
}
