//! Every replica's /metrics passes `promtool check metrics` and is labelled
//! by route template.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use crate::harness::Sys;

fn promtool() -> &'static str {
    for p in ["/usr/bin/promtool", "/usr/local/bin/promtool"] {
        if std::path::Path::new(p).exists() {
            return p;
        }
    }
    panic!("promtool introuvable : apt-get install -y prometheus (tests/run l'installe)");
}

#[tokio::test]
async fn every_replica_exposes_metrics_that_promtool_accepts() {
    let sys = Sys::start().await;
    let auth = sys.login("admin").await;
    for path in
        ["/api/magasins/1", "/api/produits/1", "/api/stocks/magasins/1", "/api/produits/2", "/api/stocks/magasins/2"]
    {
        for _ in 0..2 {
            sys.get(path, &auth).await;
        }
    }
    let cashier = sys.login("caissier1").await;
    for path in ["/api/paniers", "/api/ventes"] {
        for _ in 0..2 {
            sys.get(path, &cashier).await;
        }
    }
    for (service, template) in [
        ("caisse", "/api/magasins/{id}"),
        ("produit", "/api/produits/{id}"),
        ("stock", "/api/stocks/magasins/{magasin_id}"),
        ("panier", "/api/paniers"),
        ("vente", "/api/ventes"),
    ] {
        let mut saw_template = false;
        for r in sys.stack.replica_urls(service) {
            let text = sys.http.get(format!("{r}/metrics")).send().await.unwrap().text().await.unwrap();
            let mut child = Command::new(promtool())
                .args(["check", "metrics"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("promtool");
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{service} {r}: promtool refuse : {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains("http_request_duration_seconds_bucket"), "{service}");
            assert!(text.contains("db_pool_connections"), "{service}");
            saw_template |= text.contains(&format!("route=\"{template}\""));
            // Raw ids never become label values.
            assert!(!text.contains("route=\"/api/produits/1\""), "{service}");
        }
        assert!(saw_template, "{service} : aucune réplique n'a compté {template}");
    }
}
