//! `stock`: per-store inventory. `stock seed` loads the demo stock once.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = stock::Config::from_env()?;
    caisse_common::telemetry::init(config.common.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => stock::run(config).await,
        Some("seed") => stock::seed::run(&config).await,
        Some(other) => anyhow::bail!("commande inconnue « {other} » (serve, seed)"),
    }
}
