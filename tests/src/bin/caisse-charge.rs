//! `caisse-charge`: demo cashiers ringing up realistic carts through the
//! gateway at a bounded rate, so that a demo's dashboards are alive.
//!
//! ```sh
//! CHARGE_VENTES_PAR_SECONDE=2 CHARGE_DUREE_S=300 target/release/caisse-charge
//! ```
//! `CHARGE_PASSERELLE` (default `http://127.0.0.1:8080`), `CHARGE_CAISSIERS`
//! (logins, comma-separated), `CHARGE_VENTES_PAR_SECONDE` (1, at most 50),
//! `CHARGE_DUREE_S` / `CHARGE_VENTES` (0: no bound, until stopped).

use caisse_tests::charge::{Config, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg = Config::from_env()?;
    println!(
        "caisse-charge : {} caissier(s), {} vente(s)/s vers {}",
        cfg.caissiers.len(),
        cfg.ventes_par_seconde,
        cfg.gateway
    );
    let r = run(&cfg).await?;
    println!(
        "{} ventes, {} refus (stock, 409/422), {} erreurs, {} lectures du catalogue",
        r.ventes, r.refus, r.erreurs, r.lectures
    );
    Ok(())
}
