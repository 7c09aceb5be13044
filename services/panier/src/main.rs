//! `panier`: carts at the register.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = panier::Config::from_env()?;
    caisse_common::telemetry::init(config.common.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => panier::run(config).await,
        Some("seed") => Ok(()), // No demo carts: they are made at the till.
        Some(other) => anyhow::bail!("commande inconnue « {other} » (serve, seed)"),
    }
}
