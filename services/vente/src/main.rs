//! `vente`: checkout saga, sales, cancellations and returns, event outbox.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = vente::Config::from_env()?;
    caisse_common::telemetry::init(config.common.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => vente::run(config).await,
        Some("seed") => vente::seed::run(&config).await,
        Some(other) => anyhow::bail!("commande inconnue « {other} » (serve, seed)"),
    }
}
