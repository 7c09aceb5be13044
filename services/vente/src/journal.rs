//! The tamper-evident journal: every completed sale, return and
//! cancellation, chained per store by SHA-256 hashes.
//!
//! **Writing.** The transaction that completes a sale, finishes a return or
//! a cancellation also inserts its entry ([`append`]): store, type,
//! reference and canonical payload, without sequence or hashes. Nothing is
//! lost (same transaction) and no sale waits for another: there is no
//! per-store row to lock at checkout.
//!
//! **Chaining.** The chainer ([`Journal::start`]; one leader across
//! replicas, a MariaDB named lock held on a dedicated connection, like the
//! outbox relay) gives committed, unchained entries — store by store, in
//! insertion (id) order among those committed — the next `sequence` of
//! their store, `precedente` (the previous entry's `empreinte`, 64 zeros
//! for the first) and `empreinte`. It polls, and is woken after local
//! commits. Auto-increment order is not commit order: an entry committed
//! late is simply chained later; the chain's order is `sequence`. The
//! readers (`tete`, verification, listing) first chain the store's
//! committed entries themselves ([`Journal::catch_up`]), so they never show
//! an unchained tail. Concurrent chainers are safe without locking a head
//! row: each reads committed rows only, moves only entries still unchained,
//! and the unique key `(magasin_id, sequence)` refuses a second entry at a
//! place; the loser rolls back and tries again.
//!
//! **Canonical encoding** (anyone can recompute it; see the README):
//! `empreinte = hex(SHA-256(E))`, `E` the concatenation of netstrings
//! (`<length in bytes, decimal>:<bytes>,`) of, in this order: the tag
//! `caisse-journal-v1`, `magasin_id` and `sequence` (decimal, no leading
//! zero), `type` (`vente`, `retour`, `annulation`), `reference` (the sale's
//! UUID for `vente` and `annulation`, the return's id for `retour`),
//! `charge` (the payload, byte for byte as stored), `precedente` (64
//! lowercase hex digits). The payload is compact JSON with a fixed field
//! order (see [`SalePayload`], [`ReturnPayload`], [`CancelPayload`]):
//! amounts as strings with exactly two decimals, times UTC RFC 3339 with
//! milliseconds and `Z`.

use std::{sync::Arc, time::Duration};

use caisse_common::{ApiError, ApiResult};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Connection, MySql, MySqlConnection, MySqlPool, Transaction};
use tokio::sync::Notify;

use crate::{
    db::{self, journal as sql},
    domain::Totaux,
    events::Completion,
    peers::Line,
};

/// The `precedente` of a store's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// First field of every hashed encoding (the encoding's version).
pub const TAG: &str = "caisse-journal-v1";

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Vente,
    Retour,
    Annulation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Vente => "vente",
            Kind::Retour => "retour",
            Kind::Annulation => "annulation",
        }
    }
}

/// An entry to append: what the completing transaction knows.
#[derive(Debug, Clone)]
pub struct Fact {
    pub magasin_id: i64,
    pub kind: Kind,
    pub reference: String,
    /// The canonical payload.
    pub charge: String,
}

/// `d` with exactly two decimals ("12.30").
pub fn money(d: Decimal) -> String {
    let mut r = d.round_dp(2);
    r.rescale(2);
    r.to_string()
}

/// UTC, RFC 3339, milliseconds, `Z`.
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn canonical(payload: &impl Serialize) -> String {
    // Structs of strings and integers: serialisation cannot fail.
    serde_json::to_string(payload).unwrap_or_default()
}

/// A sold line in a `vente` payload.
#[derive(Debug, Serialize)]
pub struct SoldLine {
    pub produit_id: i64,
    pub quantite: i32,
    pub prix_unitaire: String,
    pub total_ligne: String,
}

/// A returned or restocked line.
#[derive(Debug, Serialize)]
pub struct Quantity {
    pub produit_id: i64,
    pub quantite: i64,
}

/// Payload of a `vente` entry, fields in this order.
#[derive(Debug, Serialize)]
pub struct SalePayload {
    pub vente_id: String,
    pub numero: i64,
    pub caissier_id: i64,
    pub mode_paiement: &'static str,
    pub lignes: Vec<SoldLine>,
    pub sous_total: String,
    pub tps: String,
    pub tvq: String,
    pub total: String,
    /// What the customer paid (cash rounded to 0.05 $).
    pub a_payer: String,
    pub le: String,
}

/// Payload of a `retour` entry, fields in this order.
#[derive(Debug, Serialize)]
pub struct ReturnPayload {
    pub retour_id: i64,
    pub vente_id: String,
    pub lignes: Vec<Quantity>,
    pub sous_total: String,
    pub tps: String,
    pub tvq: String,
    pub total: String,
    /// What was handed back.
    pub rembourse: String,
    pub le: String,
}

/// Payload of an `annulation` entry, fields in this order.
#[derive(Debug, Serialize)]
pub struct CancelPayload {
    pub vente_id: String,
    pub par: String,
    /// What went back to stock (what earlier returns had not).
    pub lignes: Vec<Quantity>,
    pub sous_total: String,
    pub tps: String,
    pub tvq: String,
    pub total: String,
    pub rembourse: String,
    pub le: String,
}

/// The entry of a completed sale.
pub fn sale(c: &Completion<'_>, lines: &[db::SaleLine], at: DateTime<Utc>) -> Fact {
    let payload = SalePayload {
        vente_id: c.vente_id.to_owned(),
        numero: c.numero,
        caissier_id: c.caissier_id,
        mode_paiement: c.mode.as_str(),
        lignes: lines
            .iter()
            .map(|l| SoldLine {
                produit_id: l.produit_id,
                quantite: l.quantite,
                prix_unitaire: money(l.prix_unitaire),
                total_ligne: money(l.total_ligne),
            })
            .collect(),
        sous_total: money(c.totaux.sous_total),
        tps: money(c.totaux.tps),
        tvq: money(c.totaux.tvq),
        total: money(c.totaux.total),
        a_payer: money(c.a_payer),
        le: instant(at),
    };
    Fact { magasin_id: c.magasin_id, kind: Kind::Vente, reference: c.vente_id.to_owned(), charge: canonical(&payload) }
}

/// The entry of a finished return.
pub fn returned(
    retour_id: i64,
    vente_id: &str,
    magasin_id: i64,
    lines: impl Iterator<Item = (i64, i64)>,
    montant: &Totaux,
    rembourse: Decimal,
    at: DateTime<Utc>,
) -> Fact {
    let payload = ReturnPayload {
        retour_id,
        vente_id: vente_id.to_owned(),
        lignes: lines.map(|(produit_id, quantite)| Quantity { produit_id, quantite }).collect(),
        sous_total: money(montant.sous_total),
        tps: money(montant.tps),
        tvq: money(montant.tvq),
        total: money(montant.total),
        rembourse: money(rembourse),
        le: instant(at),
    };
    Fact { magasin_id, kind: Kind::Retour, reference: retour_id.to_string(), charge: canonical(&payload) }
}

/// The entry of a finished cancellation.
pub fn cancelled(
    vente_id: &str,
    magasin_id: i64,
    par: &str,
    restocked: &[Line],
    montant: &Totaux,
    rembourse: Decimal,
    at: DateTime<Utc>,
) -> Fact {
    let payload = CancelPayload {
        vente_id: vente_id.to_owned(),
        par: par.to_owned(),
        lignes: restocked.iter().map(|l| Quantity { produit_id: l.produit_id, quantite: l.quantite }).collect(),
        sous_total: money(montant.sous_total),
        tps: money(montant.tps),
        tvq: money(montant.tvq),
        total: money(montant.total),
        rembourse: money(rembourse),
        le: instant(at),
    };
    Fact { magasin_id, kind: Kind::Annulation, reference: vente_id.to_owned(), charge: canonical(&payload) }
}

/// Appends `fact` unchained, in the caller's transaction: it is in the
/// journal if and only if the transaction commits.
pub async fn append(tx: &mut Transaction<'_, MySql>, fact: &Fact) -> Result<(), sqlx::Error> {
    sql::insert(tx, fact).await
}

/// The bytes hashed for an entry (netstrings, see the module doc).
pub fn encoding(
    magasin_id: i64,
    sequence: i64,
    kind: &str,
    reference: &str,
    charge: &str,
    precedente: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(charge.len() + 160);
    for field in [TAG, &magasin_id.to_string(), &sequence.to_string(), kind, reference, charge, precedente] {
        out.extend_from_slice(field.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(field.as_bytes());
        out.push(b',');
    }
    out
}

/// `empreinte` of an entry: lowercase hex SHA-256 of its [`encoding`].
pub fn empreinte(
    magasin_id: i64,
    sequence: i64,
    kind: &str,
    reference: &str,
    charge: &str,
    precedente: &str,
) -> String {
    hex::encode(Sha256::digest(encoding(magasin_id, sequence, kind, reference, charge, precedente)))
}

/// A stored, chained entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub sequence: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub reference: String,
    pub charge: String,
    pub precedente: String,
    pub empreinte: String,
    pub cree_le: DateTime<Utc>,
    pub chainee_le: Option<DateTime<Utc>>,
}

/// Where a chain stops holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub sequence: i64,
    pub reference: String,
    pub raison: String,
}

/// Walks a store's chain in `sequence` order, one entry at a time.
#[derive(Debug, Clone)]
pub struct Walk {
    magasin_id: i64,
    /// Entries seen.
    pub entries: i64,
    /// Last entry seen: `(sequence, empreinte)` as stored.
    pub head: Option<(i64, String)>,
    /// The first break, once found.
    pub first_break: Option<Break>,
}

impl Walk {
    pub fn new(magasin_id: i64) -> Self {
        Self { magasin_id, entries: 0, head: None, first_break: None }
    }

    /// Checks the next entry against the one before: its place, its link
    /// to the previous hash, its own hash.
    pub fn push(&mut self, e: &Stored) {
        let (expected, previous) = match &self.head {
            Some((s, h)) => (s + 1, h.as_str()),
            None => (1, GENESIS),
        };
        self.entries += 1;
        if self.first_break.is_none() {
            let raison = if e.sequence != expected {
                let from = expected - 1;
                Some(if e.sequence > expected {
                    format!(
                        "entrée {expected} manquante : la chaîne passe de {from} à {} (entrée supprimée ?)",
                        e.sequence
                    )
                } else {
                    format!("séquence {} hors d'ordre ({expected} attendue)", e.sequence)
                })
            } else if e.precedente != previous {
                Some(if expected == 1 {
                    "précédente devrait être 64 zéros (première entrée du magasin)".to_owned()
                } else {
                    format!("précédente ne correspond pas à l'empreinte de l'entrée {}", expected - 1)
                })
            } else if empreinte(self.magasin_id, e.sequence, &e.kind, &e.reference, &e.charge, &e.precedente)
                != e.empreinte
            {
                Some("l'empreinte ne correspond pas au contenu de l'entrée (modifiée après coup)".to_owned())
            } else {
                None
            };
            self.first_break =
                raison.map(|raison| Break { sequence: e.sequence, reference: e.reference.clone(), raison });
        }
        self.head = Some((e.sequence, e.empreinte.clone()));
    }
}

/// The chainer's handle: every replica runs one loop, one of them leads.
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

struct Inner {
    pool: MySqlPool,
    wake: Notify,
    poll: Duration,
}

/// Entries chained per transaction.
const BATCH: i64 = 500;
/// Attempts of a reader's catch-up when another chainer moves the same entries.
const CATCH_UP_ATTEMPTS: usize = 8;

impl Journal {
    /// Starts this replica's chainer loop.
    pub fn start(pool: MySqlPool) -> Self {
        let inner = Arc::new(Inner { pool, wake: Notify::new(), poll: Duration::from_millis(250) });
        tokio::spawn(run(inner.clone()));
        Self { inner }
    }

    /// Wakes the chainer after a commit that appended entries.
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }

    /// Chains the store's committed, unchained entries now (a reader's
    /// catch-up, whoever leads the chainer).
    pub async fn catch_up(&self, magasin_id: i64) -> ApiResult<()> {
        let mut conn = dedicated(&self.inner.pool).await?;
        let outcome = async {
            let mut attempts = 0;
            loop {
                match chain(&mut conn, Some(magasin_id)).await {
                    Ok(n) if n < usize::try_from(BATCH).unwrap_or(500) => return Ok(()),
                    Ok(_) => {}
                    Err(e) if is_contention(&e) && attempts < CATCH_UP_ATTEMPTS => {
                        attempts += 1;
                        tokio::time::sleep(Duration::from_millis(10 * attempts as u64)).await;
                    }
                    Err(e) if is_contention(&e) => {
                        return Err(ApiError::Unavailable(
                            "Le journal est en cours de chaînage ; réessayez dans un instant.".into(),
                        ));
                    }
                    Err(e) => return Err(ApiError::from(e)),
                }
            }
        }
        .await;
        let _ = conn.close().await;
        outcome
    }
}

/// A connection of its own (out of the pool), reading committed rows only,
/// so that chaining never takes gap locks a checkout's insert would wait on.
async fn dedicated(pool: &MySqlPool) -> Result<MySqlConnection, sqlx::Error> {
    let mut conn = pool.acquire().await?.detach();
    sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED").execute(&mut conn).await?;
    Ok(conn)
}

/// Another chainer moved the same entries first: nothing was written, try again.
fn is_contention(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::RowNotFound)
        || caisse_common::error::is_retryable_tx_error(e)
        || e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// Chains up to [`BATCH`] committed, unchained entries (of one store or of
/// all) in one transaction; returns how many. `RowNotFound` when another
/// chainer took some of them meanwhile (nothing is written then).
pub async fn chain(conn: &mut MySqlConnection, magasin_id: Option<i64>) -> Result<usize, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let pending = sql::pending(&mut tx, magasin_id, BATCH).await?;
    if pending.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let mut stores: Vec<i64> = pending.iter().map(|p| p.magasin_id).collect();
    stores.sort_unstable();
    stores.dedup();
    let mut updates = Vec::with_capacity(pending.len());
    for m in stores {
        let (mut sequence, mut previous) = sql::head_in(&mut tx, m).await?.unwrap_or_else(|| (0, GENESIS.to_owned()));
        for p in pending.iter().filter(|p| p.magasin_id == m) {
            sequence += 1;
            let hash = empreinte(m, sequence, &p.kind, &p.reference, &p.charge, &previous);
            updates.push(sql::Link { id: p.id, sequence, precedente: previous, empreinte: hash.clone() });
            previous = hash;
        }
    }
    let moved = sql::link(&mut tx, &updates).await?;
    if moved != updates.len() as u64 {
        tx.rollback().await?;
        return Err(sqlx::Error::RowNotFound);
    }
    tx.commit().await?;
    Ok(updates.len())
}

/// The chainer's leadership: a named lock per schema, held by the leader's connection.
const LEAD: &str = "SELECT GET_LOCK(CONCAT(DATABASE(), '.journal'), 0)";

async fn run(inner: Arc<Inner>) {
    let mut conn: Option<MySqlConnection> = None;
    let mut leader = false;
    let mut backoff = Duration::from_millis(100);
    loop {
        if conn.is_none() {
            leader = false;
            conn = dedicated(&inner.pool).await.ok();
        }
        let Some(c) = conn.as_mut() else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        if !leader {
            match sqlx::query_scalar::<_, Option<i64>>(LEAD).fetch_one(&mut *c).await {
                Ok(Some(1)) => leader = true,
                Ok(_) => {
                    tokio::time::sleep(inner.poll * 4).await;
                    continue;
                }
                Err(_) => {
                    conn = None;
                    continue;
                }
            }
        }
        match chain(c, None).await {
            Ok(n) => {
                backoff = Duration::from_millis(100);
                if n < usize::try_from(BATCH).unwrap_or(500) {
                    tokio::select! {
                        _ = inner.wake.notified() => {
                            // Let the commits of a burst gather: one chaining transaction for them.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        _ = tokio::time::sleep(inner.poll) => {}
                    }
                }
            }
            Err(e) if is_contention(&e) => {
                // A reader chained the same entries first: go again.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "chaînage du journal reporté");
                // Closing the connection releases the lock: another replica may lead.
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
                leader = false;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Mode;

    const SALE: &str = "6f1c1e0a-0000-4000-8000-000000000001";

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// A sale and a return of store 3, as `sale` and `returned` write them.
    fn facts() -> [Fact; 2] {
        let totaux = Totaux { sous_total: d("9.98"), tps: d("0.50"), tvq: d("1.00"), total: d("11.48") };
        let completion = Completion {
            vente_id: SALE,
            numero: 42,
            magasin_id: 3,
            caissier_id: 7,
            mode: Mode::Especes,
            totaux: &totaux,
            a_payer: d("11.50"),
            caisse_id: None,
            session_id: None,
        };
        let line = db::SaleLine {
            produit_id: 1,
            nom: "Pommes".into(),
            code_barres: None,
            prix_unitaire: d("4.99"),
            quantite: 2,
            total_ligne: d("9.98"),
            quantite_retournee: 0,
        };
        let montant = Totaux { sous_total: d("4.99"), tps: d("0.25"), tvq: d("0.5"), total: d("5.74") };
        [
            sale(&completion, &[line], at("2026-11-26T09:05:09.123456-05:00")),
            returned(5, SALE, 3, [(1, 1)].into_iter(), &montant, d("5.75"), at("2026-11-26T15:00:00Z")),
        ]
    }

    /// Fixed vectors: recompute them with any SHA-256 tool, e.g.
    /// `printf '%s' '17:caisse-journal-v1,1:3,1:1,5:vente,36:6f1c…,302:{…},64:000…0,' | sha256sum`.
    #[test]
    fn the_canonical_encoding_of_known_entries() {
        let [vente, retour] = facts();
        assert_eq!(
            vente.charge,
            r#"{"vente_id":"6f1c1e0a-0000-4000-8000-000000000001","numero":42,"caissier_id":7,"mode_paiement":"especes","lignes":[{"produit_id":1,"quantite":2,"prix_unitaire":"4.99","total_ligne":"9.98"}],"sous_total":"9.98","tps":"0.50","tvq":"1.00","total":"11.48","a_payer":"11.50","le":"2026-11-26T14:05:09.123Z"}"#
        );
        assert_eq!(
            retour.charge,
            r#"{"retour_id":5,"vente_id":"6f1c1e0a-0000-4000-8000-000000000001","lignes":[{"produit_id":1,"quantite":1}],"sous_total":"4.99","tps":"0.25","tvq":"0.50","total":"5.74","rembourse":"5.75","le":"2026-11-26T15:00:00.000Z"}"#
        );
        assert_eq!((vente.kind, vente.reference.as_str(), retour.reference.as_str()), (Kind::Vente, SALE, "5"));
        let bytes = encoding(3, 1, "vente", SALE, &vente.charge, GENESIS);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            format!(
                "17:caisse-journal-v1,1:3,1:1,5:vente,36:{SALE},{}:{},64:{GENESIS},",
                vente.charge.len(),
                vente.charge
            )
        );
        let first = empreinte(3, 1, "vente", SALE, &vente.charge, GENESIS);
        assert_eq!(first, "3824ac6bb3c70e736ed029ef54db06f53c920f6185e83ab0675b2969277c8800");
        let second = empreinte(3, 2, "retour", "5", &retour.charge, &first);
        assert_eq!(second, "f446bfc50a8756d33387216ecae0e20d15d4655f7ef1038e18469e68ae55b2a7");
    }

    /// A chain of `n` entries of store 3, as the chainer links them.
    fn chain_of(n: i64) -> Vec<Stored> {
        let mut out: Vec<Stored> = Vec::new();
        for sequence in 1..=n {
            let precedente = out.last().map(|e| e.empreinte.clone()).unwrap_or_else(|| GENESIS.to_owned());
            let reference = format!("ref-{sequence}");
            let charge = format!(r#"{{"n":{sequence}}}"#);
            let hash = empreinte(3, sequence, "vente", &reference, &charge, &precedente);
            out.push(Stored {
                sequence,
                kind: "vente".into(),
                reference,
                charge,
                precedente,
                empreinte: hash,
                cree_le: Utc::now(),
                chainee_le: None,
            });
        }
        out
    }

    fn verify(entries: &[Stored]) -> Walk {
        let mut w = Walk::new(3);
        for e in entries {
            w.push(e);
        }
        w
    }

    #[test]
    fn a_clean_chain_verifies_and_each_kind_of_tampering_is_named() {
        let clean = chain_of(5);
        let w = verify(&clean);
        assert_eq!((w.entries, w.first_break.clone()), (5, None));
        assert_eq!(w.head, Some((5, clean[4].empreinte.clone())));
        assert_eq!(verify(&[]).head, None);

        let named = |entries: &[Stored]| {
            let b = verify(entries).first_break.expect("rupture attendue");
            (b.sequence, b.reference, b.raison)
        };
        // A payload edited in place.
        let mut edited = clean.clone();
        edited[2].charge = r#"{"n":33}"#.into();
        let (seq, reference, raison) = named(&edited);
        assert_eq!((seq, reference.as_str()), (3, "ref-3"));
        assert!(raison.contains("empreinte"), "{raison}");
        // Edited and re-hashed: the next entry no longer links to it.
        let h = empreinte(3, 3, "vente", "ref-3", &edited[2].charge, &edited[2].precedente);
        edited[2].empreinte = h;
        let (seq, _, raison) = named(&edited);
        assert_eq!(seq, 4);
        assert!(raison.contains("entrée 3"), "{raison}");
        // A deleted entry.
        let mut deleted = clean.clone();
        deleted.remove(1);
        let (seq, reference, raison) = named(&deleted);
        assert_eq!((seq, reference.as_str()), (3, "ref-3"));
        assert!(raison.contains("entrée 2 manquante"), "{raison}");
        // An altered `precedente`.
        let mut relinked = clean.clone();
        relinked[3].precedente = clean[1].empreinte.clone();
        assert_eq!(named(&relinked).0, 4);
        let mut first = clean.clone();
        first[0].precedente = "f".repeat(64);
        assert!(named(&first).2.contains("64 zéros"));
        // Two entries swapped (their sequences exchanged).
        let mut swapped = clean.clone();
        swapped.swap(1, 2);
        swapped[1].sequence = 2;
        swapped[2].sequence = 3;
        assert_eq!(named(&swapped).1, "ref-3");
        // A changed store: every hash covers it.
        let mut w = Walk::new(4);
        w.push(&clean[0]);
        assert_eq!(w.first_break.map(|b| b.sequence), Some(1));
    }

    #[test]
    fn amounts_have_two_decimals_and_times_milliseconds() {
        assert_eq!(
            (money(d("5")), money(d("0.5")), money(d("1.234")), money(d("-0.10"))),
            ("5.00".into(), "0.50".into(), "1.23".into(), "-0.10".into())
        );
        assert_eq!(instant(at("2026-01-02T03:04:05+02:00")), "2026-01-02T01:04:05.000Z");
    }
}
