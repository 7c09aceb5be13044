//! Sale reservations: one per sale id with its lines, `reservee` until a
//! guarded update moves it to `liberee` (or created `liberee`: a tombstone).

use sqlx::{MySql, MySqlPool, Transaction};

use crate::domain::{Ligne, Reservation, StatutReservation};

/// A reservation and the fingerprint of the lines it was made with.
pub async fn load(pool: &MySqlPool, vente_id: &str) -> Result<Option<(Reservation, String)>, sqlx::Error> {
    let head: Option<(i64, StatutReservation, String)> =
        sqlx::query_as("SELECT magasin_id, statut, empreinte FROM reservations WHERE vente_id = ?")
            .bind(vente_id)
            .fetch_optional(pool)
            .await?;
    let Some((magasin_id, statut, empreinte)) = head else {
        return Ok(None);
    };
    let lignes = lines(pool, vente_id).await?;
    Ok(Some((Reservation { vente_id: vente_id.to_owned(), magasin_id, statut, lignes }, empreinte)))
}

async fn lines<'e, E: sqlx::MySqlExecutor<'e>>(ex: E, vente_id: &str) -> Result<Vec<Ligne>, sqlx::Error> {
    let rows: Vec<(i64, i32)> =
        sqlx::query_as("SELECT produit_id, quantite FROM reservation_lignes WHERE vente_id = ? ORDER BY produit_id")
            .bind(vente_id)
            .fetch_all(ex)
            .await?;
    Ok(rows.into_iter().map(|(produit_id, q)| Ligne { produit_id, quantite: i64::from(q) }).collect())
}

/// Records a reservation with its lines; a second one for the same sale
/// fails on the primary key.
pub async fn insert(
    tx: &mut Transaction<'static, MySql>,
    vente_id: &str,
    magasin_id: i64,
    fingerprint: &str,
    lignes: &[Ligne],
    auteur: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO reservations (vente_id, magasin_id, statut, empreinte, auteur) VALUES (?, ?, ?, ?, ?)")
        .bind(vente_id)
        .bind(magasin_id)
        .bind(StatutReservation::Reservee)
        .bind(fingerprint)
        .bind(auteur)
        .execute(&mut **tx)
        .await?;
    if lignes.is_empty() {
        return Ok(());
    }
    let rows = vec!["(?, ?, ?)"; lignes.len()].join(", ");
    let sql = format!("INSERT INTO reservation_lignes (vente_id, produit_id, quantite) VALUES {rows}");
    let mut insert = sqlx::query(&sql);
    for l in lignes {
        insert = insert.bind(vente_id).bind(l.produit_id).bind(l.quantite);
    }
    insert.execute(&mut **tx).await?;
    Ok(())
}

/// The magasin and status of a sale's reservation, locked until the end of
/// the transaction.
pub async fn lock(
    tx: &mut Transaction<'static, MySql>,
    vente_id: &str,
) -> Result<Option<(i64, StatutReservation)>, sqlx::Error> {
    sqlx::query_as("SELECT magasin_id, statut FROM reservations WHERE vente_id = ? FOR UPDATE")
        .bind(vente_id)
        .fetch_optional(&mut **tx)
        .await
}

/// The lines of a locked reservation.
pub async fn locked_lines(tx: &mut Transaction<'static, MySql>, vente_id: &str) -> Result<Vec<Ligne>, sqlx::Error> {
    lines(&mut **tx, vente_id).await
}

/// A released reservation for a sale that never reserved: a late
/// reservation of that sale then fails on the primary key and is refused.
pub async fn insert_tombstone(
    tx: &mut Transaction<'static, MySql>,
    vente_id: &str,
    magasin_id: i64,
    auteur: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO reservations (vente_id, magasin_id, statut, empreinte, auteur, liberee_le) \
         VALUES (?, ?, ?, '', ?, CURRENT_TIMESTAMP(3))",
    )
    .bind(vente_id)
    .bind(magasin_id)
    .bind(StatutReservation::Liberee)
    .bind(auteur)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The release transition, guarded: true when this call made it.
pub async fn mark_released(tx: &mut Transaction<'static, MySql>, vente_id: &str) -> Result<bool, sqlx::Error> {
    let (from, to) = StatutReservation::RELEASE;
    let res = sqlx::query(
        "UPDATE reservations SET statut = ?, liberee_le = CURRENT_TIMESTAMP(3) WHERE vente_id = ? AND statut = ?",
    )
    .bind(to)
    .bind(vente_id)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}
