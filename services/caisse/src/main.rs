//! `caisse`: stores, staff and login. `caisse seed` loads the demo data once.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = caisse::Config::from_env()?;
    caisse_common::telemetry::init(config.common.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => caisse::run(config).await,
        Some("seed") => caisse::seed::run(&config).await,
        Some(other) => anyhow::bail!("commande inconnue « {other} » (serve, seed)"),
    }
}
