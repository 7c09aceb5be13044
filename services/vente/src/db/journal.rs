//! SQL of the journal (`crate::journal`): unchained inserts in the caller's
//! transaction, the chainer's reads and links, the readers' pages.

use sqlx::{MySql, MySqlPool, Transaction};

use crate::journal::{Fact, Stored};

pub async fn insert(tx: &mut Transaction<'_, MySql>, fact: &Fact) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO journal (magasin_id, type, reference, charge) VALUES (?, ?, ?, ?)")
        .bind(fact.magasin_id)
        .bind(fact.kind.as_str())
        .bind(&fact.reference)
        .bind(&fact.charge)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A committed entry waiting for its place in the chain.
#[derive(Debug, sqlx::FromRow)]
pub struct Pending {
    pub id: i64,
    pub magasin_id: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub reference: String,
    pub charge: String,
}

/// Unchained entries (committed ones: the chainer reads committed rows), oldest id first.
pub async fn pending(
    tx: &mut Transaction<'_, MySql>,
    magasin_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Pending>, sqlx::Error> {
    match magasin_id {
        Some(m) => {
            sqlx::query_as(
                "SELECT id, magasin_id, type, reference, charge FROM journal \
                 WHERE magasin_id = ? AND sequence IS NULL ORDER BY id LIMIT ?",
            )
            .bind(m)
            .bind(limit)
            .fetch_all(&mut **tx)
            .await
        }
        None => sqlx::query_as(
            "SELECT id, magasin_id, type, reference, charge FROM journal WHERE sequence IS NULL ORDER BY id LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&mut **tx)
        .await,
    }
}

/// The store's last chained entry `(sequence, empreinte)` as committed. Not
/// locked: a chainer working from a head another one has since extended
/// fails on the unique key `(magasin_id, sequence)` and starts again.
pub async fn head_in(tx: &mut Transaction<'_, MySql>, magasin_id: i64) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sequence, empreinte FROM journal WHERE magasin_id = ? AND sequence > 0 \
         ORDER BY sequence DESC LIMIT 1",
    )
    .bind(magasin_id)
    .fetch_optional(&mut **tx)
    .await
}

/// An entry's place in its chain.
#[derive(Debug, Clone)]
pub struct Link {
    pub id: i64,
    pub sequence: i64,
    pub precedente: String,
    pub empreinte: String,
}

/// Gives entries their place, only those still unchained; returns how many moved.
pub async fn link(tx: &mut Transaction<'_, MySql>, links: &[Link]) -> Result<u64, sqlx::Error> {
    if links.is_empty() {
        return Ok(0);
    }
    let case = vec!["WHEN ? THEN ?"; links.len()].join(" ");
    let sql = format!(
        "UPDATE journal SET sequence = CASE id {case} END, precedente = CASE id {case} END, \
         empreinte = CASE id {case} END, chainee_le = CURRENT_TIMESTAMP(3) \
         WHERE sequence IS NULL AND id IN ({})",
        vec!["?"; links.len()].join(", ")
    );
    let mut q = sqlx::query(&sql);
    for l in links {
        q = q.bind(l.id).bind(l.sequence);
    }
    for l in links {
        q = q.bind(l.id).bind(&l.precedente);
    }
    for l in links {
        q = q.bind(l.id).bind(&l.empreinte);
    }
    for l in links {
        q = q.bind(l.id);
    }
    Ok(q.execute(&mut **tx).await?.rows_affected())
}

/// The store's last chained entry `(sequence, empreinte)`.
pub async fn head(pool: &MySqlPool, magasin_id: i64) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sequence, empreinte FROM journal WHERE magasin_id = ? AND sequence > 0 \
         ORDER BY sequence DESC LIMIT 1",
    )
    .bind(magasin_id)
    .fetch_optional(pool)
    .await
}

/// Chained entries of a store after `apres`, in sequence order.
pub async fn page(pool: &MySqlPool, magasin_id: i64, apres: i64, limit: i64) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sequence, type, reference, charge, precedente, empreinte, cree_le, chainee_le FROM journal \
         WHERE magasin_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
    )
    .bind(magasin_id)
    .bind(apres)
    .bind(limit)
    .fetch_all(pool)
    .await
}
