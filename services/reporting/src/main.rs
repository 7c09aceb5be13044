//! `reporting`: head office's reports. `reporting rebuild` empties the read
//! model and replays every producer's feed; `reporting seed` has nothing to do.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = reporting::Config::from_env()?;
    caisse_common::telemetry::init(config.common.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => reporting::run(config).await,
        Some("rebuild") => reporting::rebuild(&config).await,
        Some("seed") => Ok(()),
        Some(other) => anyhow::bail!("commande inconnue « {other} » (serve, rebuild, seed)"),
    }
}
