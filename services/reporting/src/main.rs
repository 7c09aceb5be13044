//! `reporting`: head office's reports. `reporting rebuild` empties the read
//! model and replays every producer's feed; `reporting fill <n>` puts `n`
//! synthetic sales in it for the dashboard benchmark; `reporting seed` has
//! nothing to do.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = reporting::Config::from_env()?;
    caisse_common::telemetry::init(config.common.log_json);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => reporting::run(config).await,
        Some("rebuild") => reporting::rebuild(&config).await,
        Some("fill") => {
            let n = std::env::args().nth(2).and_then(|n| n.parse().ok());
            let n = n.ok_or_else(|| anyhow::anyhow!("usage : reporting fill <nombre de ventes>"))?;
            reporting::synthetic::fill(&config, n).await
        }
        Some("seed") => Ok(()),
        Some(other) => anyhow::bail!("commande inconnue « {other} » (serve, rebuild, fill, seed)"),
    }
}
