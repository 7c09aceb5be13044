//! A run of events applied at once (`apply_all`, as the consumer does) leaves
//! the same read model, outcomes and cursors as the same events applied one
//! at a time. A run's sales and stock levels are written together, with
//! multi-row statements: these tests pin their order (the last level of a
//! product wins), their sums (two sales on one row add up), the events of
//! other kinds between them and the placeholder limit.

use std::{collections::BTreeMap, time::Duration};

use caisse_common::events::{
    Envelope, LineQuantity, PaymentMode, Producer, ProductAction, ProductChanged, ProductFields, SaleCancelled,
    SaleReturned, StockChanged, StockThresholdsChanged,
};
use caisse_testing::TestDb;
use reporting::{
    AppState,
    apply::{Outcome, apply, apply_all},
};
use sqlx::MySqlPool;

use super::{amount, d, envelope, line, sale};

/// A reporting schema of its own, without peers: events are applied directly.
async fn model() -> (TestDb, AppState) {
    let db = TestDb::new("reporting").await;
    let nowhere = String::from("http://127.0.0.1:9");
    let config = reporting::Config {
        common: db.config("reporting"),
        caisse_url: nowhere.clone(),
        gateway_url: nowhere.clone(),
        vente_url: nowhere.clone(),
        stock_url: nowhere.clone(),
        produit_url: nowhere,
        feed_poll: Duration::from_secs(60),
    };
    let state = AppState::new(&config).await.unwrap();
    (db, state)
}

/// Every table of the read model, a line per row in key order (the cursors
/// without their wall-clock `modifie_le`).
async fn dump(pool: &MySqlPool) -> Vec<String> {
    let tables = [
        ("curseurs", "producteur, dernier_id, survenu_le", "producteur"),
        ("ventes", "vente_id, magasin_id, jour, mode_paiement, total", "vente_id"),
        ("vente_lignes", "vente_id, produit_id, quantite, prix_unitaire", "vente_id, produit_id"),
        (
            "ventes_jour",
            "magasin_id, jour, mode_paiement, nb_ventes, brut, nb_retours, retours, nb_annulations, annulations",
            "magasin_id, jour, mode_paiement",
        ),
        ("produits_jour", "magasin_id, jour, produit_id, quantite, montant", "magasin_id, jour, produit_id"),
        ("produits", "produit_id, nom, actif", "produit_id"),
        (
            "stocks",
            "magasin_id, produit_id, quantite, seuil_alerte, seuil_surstock, modifie_le",
            "magasin_id, produit_id",
        ),
    ];
    let mut rows = Vec::new();
    for (table, columns, key) in tables {
        let sql = format!("SELECT CAST(CONCAT_WS('|', '{table}', {columns}) AS CHAR) FROM {table} ORDER BY {key}");
        rows.extend(sqlx::query_scalar::<_, String>(&sql).fetch_all(pool).await.unwrap());
    }
    rows
}

/// Applies `run` at once into `batched` and one event at a time into `single`;
/// both must say the same of each event. Returns the outcomes.
async fn apply_both(batched: &AppState, single: &AppState, run: &[Envelope]) -> Vec<Outcome> {
    let outcomes = apply_all(&batched.platform.pool, run, false, &batched.metrics).await.unwrap();
    let mut one_by_one = Vec::new();
    for env in run {
        let outcome = apply(&single.platform.pool, env, false, &single.metrics).await.unwrap();
        one_by_one.push(outcome);
        if matches!(outcome, Outcome::Gap { .. }) {
            break;
        }
    }
    assert_eq!(outcomes, one_by_one);
    outcomes
}

fn stock(id: i64, at: &str, magasin_id: i64, produit_id: i64, quantite: i32) -> Envelope {
    let e = StockChanged {
        mouvement_id: id,
        magasin_id,
        produit_id,
        delta: 1,
        quantite,
        type_mouvement: "ajustement".into(),
        reference: String::new(),
        motif: "inventaire".into(),
        auteur: "admin".into(),
    };
    envelope(id, at, &e)
}

fn taken_back(produit_id: i64, quantite: i32) -> Vec<LineQuantity> {
    vec![LineQuantity { produit_id, quantite }]
}

fn sales_run() -> Vec<Envelope> {
    use PaymentMode::{Carte, Especes};
    let returned = SaleReturned {
        vente_id: "a".into(),
        retour_id: 1,
        magasin_id: 1,
        lignes: taken_back(3, 1),
        montant: amount("11.50"),
        rembourse: d("11.50"),
    };
    let cancelled = SaleCancelled {
        vente_id: "g".into(),
        magasin_id: 2,
        par: "gerant2".into(),
        lignes: taken_back(3, 1),
        montant: amount("13.00"),
        rembourse: d("13.00"),
    };
    let unknown_sale = SaleReturned { vente_id: "zz".into(), ..returned.clone() };
    let mut unknown_type = envelope(8, "2026-03-08T17:30:00Z", &returned);
    unknown_type.kind = "SaleAudited".into();
    vec![
        // 23:30 and 23:45 in Toronto on 7 March: one store, day and mode.
        envelope(1, "2026-03-08T04:30:00Z", &sale("a", 1, Especes, vec![line(3, 2, "10.00"), line(4, 1, "5.00")])),
        envelope(2, "2026-03-08T04:45:00Z", &sale("b", 1, Especes, vec![line(3, 1, "10.00"), line(5, 3, "2.50")])),
        envelope(3, "2026-03-08T15:00:00Z", &sale("c", 2, Carte, vec![line(3, 1, "10.00")])),
        // Reads sale "a", written in the same run just before.
        envelope(4, "2026-03-08T16:00:00Z", &returned),
        envelope(5, "2026-03-08T16:30:00Z", &sale("d", 1, Especes, vec![line(3, 1, "10.00")])),
        envelope(6, "2026-03-08T16:40:00Z", &sale("e", 1, Carte, vec![line(4, 2, "5.00")])),
        envelope(7, "2026-03-08T17:00:00Z", &unknown_sale),
        unknown_type,
        envelope(9, "2026-03-08T18:00:00Z", &sale("f", 2, Carte, vec![line(3, 1, "10.00")])),
        envelope(10, "2026-03-08T18:10:00Z", &sale("g", 2, Carte, vec![line(3, 2, "10.00")])),
        envelope(11, "2026-03-08T18:20:00Z", &cancelled),
        envelope(12, "2026-03-08T19:00:00Z", &sale("h", 3, Especes, vec![line(6, 1, "1.99")])),
        // 13 is missing: the run stops here, "h" and its cursor committed.
        envelope(14, "2026-03-08T19:10:00Z", &sale("i", 3, Especes, vec![line(6, 1, "1.99")])),
    ]
}

fn stocks_run() -> Vec<Envelope> {
    let thresholds = StockThresholdsChanged {
        magasin_id: 1,
        produit_id: 4,
        seuil_alerte: 60,
        seuil_surstock: 500,
        par: "admin".into(),
    };
    vec![
        stock(1, "2026-03-08T10:00:00Z", 1, 3, 10),
        stock(2, "2026-03-08T10:01:00Z", 1, 3, 7),
        stock(3, "2026-03-08T10:02:00Z", 1, 4, 50),
        envelope(4, "2026-03-08T10:03:00Z", &thresholds),
        stock(5, "2026-03-08T10:04:00Z", 1, 4, 55),
        stock(6, "2026-03-08T10:05:00Z", 2, 3, 0),
        stock(7, "2026-03-08T10:06:00Z", 1, 3, 8),
        stock(8, "2026-03-08T10:07:00Z", 1, 3, 6),
    ]
}

fn products_run() -> Vec<Envelope> {
    let fields = |nom: &str, actif| ProductFields {
        nom: nom.into(),
        description: String::new(),
        prix: d("10.00"),
        code_barres: None,
        actif,
        version: 1,
    };
    let changed = |produit_id, action, nom, actif| ProductChanged {
        produit_id,
        action,
        par: "admin".into(),
        avant: None,
        apres: fields(nom, actif),
    };
    vec![
        envelope(1, "2026-03-08T09:00:00Z", &changed(3, ProductAction::Creation, "Pain", true)),
        envelope(2, "2026-03-08T09:01:00Z", &changed(3, ProductAction::Modification, "Pain de mie", true)),
        envelope(3, "2026-03-08T09:02:00Z", &changed(3, ProductAction::Desactivation, "Pain de mie", false)),
    ]
}

async fn scalar_row(pool: &MySqlPool, sql: &str) -> String {
    let sql = format!("SELECT CAST({sql} AS CHAR)");
    sqlx::query_scalar::<_, String>(&sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_mixed_run_applied_at_once_gives_the_model_of_its_events_one_at_a_time() {
    let ((_db1, batched), (_db2, single)) = (model().await, model().await);
    let pool = &batched.platform.pool;

    let sales = apply_both(&batched, &single, &sales_run()).await;
    let ignored = [7, 8].map(|id| sales[id - 1]);
    assert_eq!(ignored, [Outcome::Ignored; 2], "retour d'une vente inconnue, type inconnu");
    assert_eq!(sales.last(), Some(&Outcome::Gap { expected: 13 }));
    assert_eq!(sales.iter().filter(|o| **o == Outcome::Applied).count(), 10);
    let stocks = apply_both(&batched, &single, &stocks_run()).await;
    assert_eq!(stocks, vec![Outcome::Applied; 8]);
    apply_both(&batched, &single, &products_run()).await;

    let written = dump(pool).await;
    assert_eq!(written, dump(&single.platform.pool).await);
    // Two sales of the run on one row of the day add up, as do their products.
    let day7 = "SELECT CONCAT_WS('|', nb_ventes, brut) FROM ventes_jour \
                WHERE magasin_id = 1 AND jour = '2026-03-07' AND mode_paiement = 'especes'";
    assert_eq!(scalar_row(pool, &format!("({day7})")).await, "2|48.50");
    let product3 = "SELECT CONCAT_WS('|', quantite, montant) FROM produits_jour \
                    WHERE magasin_id = 1 AND jour = '2026-03-07' AND produit_id = 3";
    assert_eq!(scalar_row(pool, &format!("({product3})")).await, "3|30.00");
    let day8 = "SELECT CONCAT_WS('|', nb_ventes, brut, nb_annulations, annulations) FROM ventes_jour \
                WHERE magasin_id = 2 AND jour = '2026-03-08' AND mode_paiement = 'carte'";
    assert_eq!(scalar_row(pool, &format!("({day8})")).await, "3|49.00|1|13.00");
    // The last level of a product in a run wins; thresholds set in between stay.
    let levels: Vec<(i64, i64, i32, i32, i32)> = sqlx::query_as(
        "SELECT magasin_id, produit_id, quantite, seuil_alerte, seuil_surstock FROM stocks ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(levels, vec![(1, 3, 6, 5, 1000), (1, 4, 55, 60, 500), (2, 3, 0, 5, 1000)]);
    let modified = scalar_row(pool, "(SELECT modifie_le FROM stocks WHERE magasin_id = 1 AND produit_id = 3)").await;
    assert_eq!(modified, "2026-03-08 10:07:00.000");

    // Delivered again: nothing changes, the gap is still a gap.
    let again = apply_all(pool, &sales_run(), false, &batched.metrics).await.unwrap();
    assert_eq!(&again[..12], &[Outcome::Duplicate; 12]);
    assert_eq!(again[12], Outcome::Gap { expected: 13 });
    assert_eq!(apply_all(pool, &stocks_run(), false, &batched.metrics).await.unwrap(), vec![Outcome::Duplicate; 8]);
    assert_eq!(dump(pool).await, written);
}

#[tokio::test]
async fn a_run_of_twenty_sales_at_once_gives_the_model_of_twenty_runs_of_one() {
    let ((_db1, batched), (_db2, single)) = (model().await, model().await);
    let modes = [PaymentMode::Especes, PaymentMode::Carte];
    let run: Vec<Envelope> = (1..=20)
        .map(|i: i64| {
            let lines = vec![line(i % 4 + 1, 1, "2.00"), line(i % 4 + 2, 2, "3.50"), line(10 + i % 3, 1, "12.99")];
            let s = sale(&format!("v{i}"), i % 3 + 1, modes[i as usize % 2], lines);
            envelope(i, &format!("2026-03-09T{:02}:30:00Z", i % 24), &s)
        })
        .collect();
    assert_eq!(apply_both(&batched, &single, &run).await, vec![Outcome::Applied; 20]);
    assert_eq!(dump(&batched.platform.pool).await, dump(&single.platform.pool).await);
}

#[tokio::test]
async fn a_run_beyond_the_placeholder_limit_is_written_in_chunks() {
    let (_db, state) = model().await;
    let pool = &state.platform.pool;
    // 17,000 lines: more rows than one statement may carry into vente_lignes
    // (4 placeholders a row) and produits_jour (5).
    let big: Vec<_> = (1..=17_000).map(|p| line(p, 1, "1.00")).collect();
    let sales = [
        envelope(1, "2026-03-09T15:00:00Z", &sale("gros", 1, PaymentMode::Carte, big)),
        envelope(2, "2026-03-09T15:01:00Z", &sale("petit", 1, PaymentMode::Carte, vec![line(1, 2, "1.00")])),
    ];
    assert_eq!(apply_all(pool, &sales, false, &state.metrics).await.unwrap(), vec![Outcome::Applied; 2]);
    let totals = "(SELECT CONCAT_WS('|', COUNT(*), SUM(quantite), SUM(montant)) FROM produits_jour)";
    assert_eq!(scalar_row(pool, totals).await, "17000|17002|17002.00");
    assert_eq!(scalar_row(pool, "(SELECT COUNT(*) FROM vente_lignes)").await, "17001");
    let day = "(SELECT CONCAT_WS('|', nb_ventes, brut) FROM ventes_jour)";
    assert_eq!(scalar_row(pool, day).await, "2|17008.00");
    // 12,000 levels (6 placeholders a row) for 5,000 products: each one's
    // last level wins, across chunks.
    let levels: Vec<Envelope> =
        (1..=12_000).map(|i| stock(i, "2026-03-09T16:00:00Z", 1, i % 5_000 + 1, i as i32)).collect();
    let outcomes = apply_all(pool, &levels, false, &state.metrics).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == Outcome::Applied));
    let got: BTreeMap<i64, i32> =
        sqlx::query_as("SELECT produit_id, quantite FROM stocks").fetch_all(pool).await.unwrap().into_iter().collect();
    let want: BTreeMap<i64, i32> = (1..=12_000).map(|i| (i % 5_000 + 1, i as i32)).collect();
    let wrong: Vec<_> = want.iter().filter(|(p, q)| got.get(p) != Some(q)).take(5).collect();
    assert!(wrong.is_empty() && got.len() == want.len(), "{} niveaux, attendus : {wrong:?}…", got.len());
    assert_eq!(reporting::db::reports::cursor(pool, Producer::Stock).await.unwrap(), 12_000);
}
