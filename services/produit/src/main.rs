//! `produit`: the catalogue. `produit seed` loads the demo catalogue once.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = produit::Config::from_env()?;
    caisse_common::telemetry::init(config.common.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => produit::run(config).await,
        Some("seed") => produit::seed::run(&config).await,
        Some(other) => anyhow::bail!("commande inconnue « {other} » (serve, seed)"),
    }
}
