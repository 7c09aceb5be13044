//! Demo data: five stores (registers 1 to 3 in each), the logistics centre,
//! head office, and staff of every role. Idempotent: rows are keyed by fixed ids and logins, so running
//! it again changes nothing.

use caisse_common::Role;

use crate::{Config, MIGRATOR, db, domain::TypeMagasin, password, registers};

/// Password of every demo account (dev only).
pub const DEMO_PASSWORD: &str = "demo1234";

pub const MAGASINS: &[(i64, &str, &str, &str, &str)] = &[
    (1, "Caisse Centre-ville", "magasin", "1200 rue Sainte-Catherine O.", "Montréal"),
    (2, "Caisse Plateau", "magasin", "4200 boul. Saint-Laurent", "Montréal"),
    (3, "Caisse Laval", "magasin", "1600 boul. Le Corbusier", "Laval"),
    (4, "Caisse Longueuil", "magasin", "825 rue Saint-Laurent O.", "Longueuil"),
    (5, "Caisse Québec", "magasin", "500 boul. Laurier", "Québec"),
    (6, "Centre logistique", "logistique", "9000 boul. Industriel", "Boucherville"),
    (7, "Maison mère", "maison_mere", "1 place Ville-Marie", "Montréal"),
];

/// (login, nom, role, magasin)
pub const EMPLOYES: &[(&str, &str, &str, Option<i64>)] = &[
    ("admin", "Alice Admin", "admin", None),
    ("logistique", "Louis Logistique", "logistique", None),
    ("gerant1", "Gabrielle Gérante", "gerant", Some(1)),
    ("gerant2", "Gaston Gérant", "gerant", Some(2)),
    ("caissier1", "Camille Caissière", "caissier", Some(1)),
    ("caissier1b", "Charles Caissier", "caissier", Some(1)),
    ("caissier2", "Chloé Caissière", "caissier", Some(2)),
    ("caissier3", "Cédric Caissier", "caissier", Some(3)),
    ("caissier4", "Claire Caissière", "caissier", Some(4)),
    ("caissier5", "Carl Caissier", "caissier", Some(5)),
];

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let pool = caisse_common::db::connect(&config.common.database_url, 2, &MIGRATOR).await?;
    seed(&pool).await?;
    tracing::info!(magasins = MAGASINS.len(), employes = EMPLOYES.len(), "données de démonstration de caisse prêtes");
    Ok(())
}

/// Registers seeded in every sales store.
pub const CAISSES_PAR_MAGASIN: i32 = 3;

pub async fn seed(pool: &sqlx::MySqlPool) -> anyhow::Result<()> {
    seed_stores(pool).await?;
    for (login, nom, role, magasin) in EMPLOYES {
        if db::employe_exists(pool, login).await? {
            continue;
        }
        let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        let hash = password::hash(DEMO_PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
        db::seed_employe(pool, login, nom, role, *magasin, &hash).await?;
    }
    Ok(())
}

/// The stores and their registers, without staff (tests that sign their
/// own tokens need no password hashing).
pub async fn seed_stores(pool: &sqlx::MySqlPool) -> anyhow::Result<()> {
    for (id, nom, kind, adresse, ville) in MAGASINS {
        let kind: TypeMagasin = kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        db::seed_magasin(pool, *id, nom, kind, adresse, ville).await?;
        if kind == TypeMagasin::Magasin {
            for numero in 1..=CAISSES_PAR_MAGASIN {
                registers::seed_caisse(pool, *id, numero, &format!("Caisse {numero}")).await?;
            }
        }
    }
    Ok(())
}
