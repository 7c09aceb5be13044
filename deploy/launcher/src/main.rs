//! `caisse-launcher`: run the suite natively, provision MySQL, render configs.

use std::path::PathBuf;

use caisse_launcher::{Options, Stack, provision_all, render};

const USAGE: &str = "usage : caisse-launcher [run [--reinitialiser] | provision | audit | render-gateway --compose | render-gateway --k8s]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => run(false).await,
        Some("run") => match args.get(1).map(String::as_str) {
            None => run(false).await,
            Some("--reinitialiser") => run(true).await,
            Some(_) => anyhow::bail!("{USAGE}"),
        },
        Some("provision") => {
            let admin = caisse_common::config::env_string("MYSQL_ADMIN_URL", "mysql://root@127.0.0.1:3306");
            let host = caisse_common::config::env_string("CAISSE_DB_HOST_FOR_USERS", "%");
            provision_all(&admin, "caisse_", &host).await
        }
        Some("audit") => audit().await,
        Some("render-gateway") => {
            let resolver = match args.get(1).map(String::as_str) {
                Some("--compose") => "resolver 127.0.0.11 valid=10s;",
                Some("--k8s") => "resolver kube-dns.kube-system.svc.cluster.local valid=10s;",
                _ => anyhow::bail!("{USAGE}"),
            };
            print!("{}", render::render(render::TEMPLATE, &render::container_vars(resolver))?);
            Ok(())
        }
        Some(_) => anyhow::bail!("{USAGE}"),
    }
}

fn repo_dir() -> anyhow::Result<PathBuf> {
    let mut dir = std::env::current_dir()?;
    loop {
        if dir.join("gateway/nginx.conf.template").exists() {
            return Ok(dir);
        }
        if !dir.pop() {
            anyhow::bail!("lancez caisse-launcher depuis le dépôt Caisse (gateway/nginx.conf.template introuvable)");
        }
    }
}

async fn run(reset: bool) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    let mut opts = Options::native(repo_dir()?, bin_dir)?;
    opts.reset = reset;
    println!("Démarrage de Caisse (MariaDB, Redis locaux ; journaux dans {}/logs)…", opts.run_dir.display());
    let stack = Stack::start(opts).await?;
    let g = &stack.gateway_url;
    println!("\nCaisse est prête.\n");
    println!("  Connexion            {g}/            (chaque rôle arrive sur sa page)");
    println!("  Caisse enregistreuse {g}/caisse.html  (caissier1, caissier2 …)");
    println!("  Siège : tableau      {g}/tableau.html (admin)");
    println!("  Siège : catalogue    {g}/produits.html (admin)");
    println!("  Logistique (envois)  {g}/logistique.html (logistique)");
    println!("  Stock du magasin     {g}/stock.html   (gerant1)");
    println!("  Réapprovisionnement  {g}/reappro.html (gerant1)");
    println!("  Caisses et rapports Z {g}/sessions.html (gerant1)");
    println!("  Documentation API    {g}/docs/");
    println!("  Passerelle (santé)   {g}/health");
    if let Some(p) = &stack.prometheus_url {
        println!("  Prometheus           {p}/");
    }
    for (job, url) in &stack.exporters {
        println!("  Exportateur {job:<8} {url}");
    }
    println!("  Lanceur (métriques)  {}", stack.launcher_metrics_url);
    for (name, urls) in stack.ports.keys().map(|n| (n, stack.replica_urls(n))) {
        println!("  {name:<8} répliques   {}", urls.join("  "));
    }
    let ready: Vec<String> = stack
        .ready_times
        .iter()
        .map(|(n, ts)| {
            let ms: Vec<String> = ts.iter().map(|t| format!("{:.2}", t.as_secs_f64())).collect();
            format!("{n} {}", ms.join("/"))
        })
        .collect();
    println!("  Prêtes en (s)        {}", ready.join(" · "));
    println!("  (une réplique qui meurt est redémarrée sur son port ; voir .run/logs/launcher.log)");
    println!("\nComptes de démonstration (mot de passe « demo1234 ») :");
    println!("  admin · logistique · gerant1 (magasin 1) · caissier1 (magasin 1) · caissier2 (magasin 2)");
    println!("\nExemple : curl -s -X POST {g}/api/auth/login -H 'content-type: application/json' \\");
    println!("            -d '{{\"login\":\"caissier1\",\"mot_de_passe\":\"demo1234\"}}'");
    println!("\nCtrl-C pour tout arrêter.");
    wait_for_stop().await;
    println!("\nArrêt…");
    drop(stack);
    println!("Tout est arrêté.");
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

/// Checks the running suite across services (see `caisse_common::audit`);
/// exits non-zero when anything does not add up.
async fn audit() -> anyhow::Result<()> {
    use caisse_common::config::{env_or, env_string};
    let gateway = env_string("CAISSE_GATEWAY", "http://127.0.0.1:8080");
    let login = env_string("AUDIT_LOGIN", "admin");
    // Dev-only default, the demo accounts' password.
    let password = env_string("AUDIT_MOT_DE_PASSE", "demo1234");
    let max_wait: f64 = env_or("AUDIT_ATTENTE_MAX_S", 60.0)?;
    let a = caisse_launcher::audit(&gateway, &login, &password, max_wait).await?;
    println!("{} stocks, {} mouvements, {} ventes vérifiés", a.stocks, a.mouvements, a.ventes);
    for n in &a.non_verifie {
        println!("non vérifié : {n}");
    }
    for e in &a.ecarts {
        println!("ÉCART {} : {}", e.verification, e.detail);
    }
    if a.ecarts.is_empty() {
        println!("aucun écart");
        Ok(())
    } else {
        anyhow::bail!("{} écart(s)", a.ecarts.len())
    }
}
