//! Secrets. Outside dev mode (`CAISSE_DEV` unset) a service refuses to start
//! with one of the repository's dev JWT secrets or a dev database password,
//! naming the variable to set, and starts with secrets of its own. During a
//! key rotation (`JWT_SECRET` new, `JWT_SECRET_PRECEDENT` old) tokens signed
//! with either key pass the gateway and every replica of every service, new
//! tokens carry the current key's `kid`, and any other key gets 401.

use std::{process::Stdio, time::Duration};

use caisse_common::{
    Claims, Role,
    auth::TokenKeys,
    config::{DEV_JWT_SECRET, DEV_JWT_SECRETS},
};
use caisse_launcher::{Options, free_port, wait_http};
use reqwest::StatusCode;

use crate::harness::Sys;

const REAL_SECRET: &str = "un-vrai-secret-de-production-de-plus-de-32-caracteres";

/// Runs the produit binary with exactly `env` (plus PATH) and returns its
/// exit status and combined output once it exits (at most 30 s).
async fn run_produit(env: &[(&str, &str)]) -> (bool, String) {
    let bin = Options::for_test().unwrap().bin_dir.join("produit");
    let mut cmd = tokio::process::Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "text")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("produit aurait dû s'arrêter de lui-même")
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn outside_dev_mode_a_service_refuses_the_dev_secrets_and_starts_with_its_own() {
    // Port 1: should a check let a dev secret through, the start fails on
    // the database instead, and the message below says so.
    let unreachable_real = "mysql://produit:Zk4-mot-de-passe-reel@127.0.0.1:1/caisse_produit";
    let unreachable_dev = "mysql://produit:produit-dev-password@127.0.0.1:1/caisse_produit";
    // (case, environment, the variable the refusal must name)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);
    let mut cases: Vec<Case> = vec![
        ("JWT_SECRET absent (défaut de dev)".into(), vec![("DATABASE_URL", unreachable_real)], "JWT_SECRET"),
        ("DATABASE_URL absent (défaut de dev)".into(), vec![("JWT_SECRET", REAL_SECRET)], "DATABASE_URL"),
        (
            "mot de passe de dev".into(),
            vec![("JWT_SECRET", REAL_SECRET), ("DATABASE_URL", unreachable_dev)],
            "DATABASE_URL",
        ),
        (
            "ancien secret de dev".into(),
            vec![
                ("JWT_SECRET", REAL_SECRET),
                ("JWT_SECRET_PRECEDENT", DEV_JWT_SECRET),
                ("DATABASE_URL", unreachable_real),
            ],
            "JWT_SECRET_PRECEDENT",
        ),
    ];
    for dev in DEV_JWT_SECRETS {
        cases.push((
            format!("JWT_SECRET = {dev}"),
            vec![("JWT_SECRET", dev), ("DATABASE_URL", unreachable_real), ("CAISSE_DEV", "0")],
            "JWT_SECRET",
        ));
    }
    for (case, env, variable) in &cases {
        let (ok, out) = run_produit(env).await;
        assert!(!ok, "{case} : produit a démarré hors mode dev");
        assert!(out.contains(variable) && out.contains("CAISSE_DEV=1"), "{case} : message sans {variable} : {out}");
    }
    // In dev mode the same dev secrets pass the check (the start then stops
    // at the unreachable database).
    let (ok, out) = run_produit(&[("CAISSE_DEV", "1"), ("DATABASE_URL", unreachable_dev)]).await;
    assert!(!ok && !out.contains("CAISSE_DEV=1"), "mode dev : {out}");

    // Its own secrets: the service starts and is ready.
    let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
    let (schema, user, password) = (format!("s{id}_produit"), format!("s{id}_produit"), format!("Zk{id}-reel"));
    let admin = caisse_testing::admin_url();
    caisse_common::provision::provision(&admin, &schema, &user, &password, "%").await.unwrap();
    let port = free_port().unwrap();
    let url = format!("mysql://{user}:{password}@127.0.0.1:3306/{schema}");
    let bind = format!("127.0.0.1:{port}");
    let prefix = format!("test:{id}:");
    let redis = caisse_testing::redis_url();
    let bin = Options::for_test().unwrap().bin_dir.join("produit");
    let mut child = tokio::process::Command::new(bin)
        .env_clear()
        .envs([
            ("JWT_SECRET", REAL_SECRET),
            ("DATABASE_URL", url.as_str()),
            ("BIND_ADDR", bind.as_str()),
            ("REDIS_URL", redis.as_str()),
            ("REDIS_PREFIX", prefix.as_str()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let ready = wait_http(&format!("http://{bind}/health/ready"), "produit").await;
    child.kill().await.unwrap();
    caisse_common::provision::drop_schema_and_user(&admin, &schema, &user, "%").await.unwrap();
    caisse_testing::delete_redis_prefix(&redis, &prefix).await.unwrap();
    ready.unwrap_or_else(|e| panic!("produit avec ses propres secrets, hors mode dev : {e:#}"));
}

fn sign(secret: &str, role: Role) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let claims = Claims { sub: 1, login: "admin".into(), role, magasin_id: None, iat: now, exp: now + 600 };
    format!("Bearer {}", TokenKeys::new(secret).sign(&claims).unwrap())
}

fn kid(bearer: &str) -> String {
    caisse_common::auth::kid_of(bearer.trim_start_matches("Bearer ")).unwrap_or_default()
}

#[tokio::test]
async fn during_a_key_rotation_both_keys_are_accepted_everywhere_and_new_tokens_use_the_new_one() {
    let mut opts = Options::for_test().unwrap();
    let old = format!("ancien-{}", opts.jwt_secret);
    opts.jwt_previous_secret = Some(old.clone());
    let sys = Sys::start_with(opts).await;
    let new = sys.stack.options().jwt_secret.clone();

    let fresh = sys.login("admin").await;
    assert_eq!(kid(&fresh), TokenKeys::new(&new).kid(), "un jeton neuf est signé avec la clé courante");
    let old_token = sign(&old, Role::Admin);
    assert_eq!(kid(&old_token), TokenKeys::new(&old).kid());
    let other = sign("une-troisieme-cle-jamais-configuree-0123456789", Role::Admin);

    // One authenticated read per service, through the gateway and on each replica.
    let reads = [
        ("caisse", "/api/magasins"),
        ("produit", "/api/produits"),
        ("stock", "/api/stocks/magasins/1"),
        ("panier", "/api/paniers"),
        ("vente", "/api/ventes"),
        ("reporting", "/api/rapports/tableau-de-bord"),
    ];
    let mut checked = 0;
    for (service, path) in reads {
        let mut bases = vec![sys.stack.gateway_url.clone()];
        bases.extend(sys.stack.replica_urls(service));
        for base in bases {
            for (name, token, accepted) in
                [("clé courante", &fresh, true), ("clé précédente", &old_token, true), ("autre clé", &other, false)]
            {
                let res = sys.http.get(format!("{base}{path}")).header("authorization", token).send().await.unwrap();
                let status = res.status();
                let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
                assert_eq!(!refused, accepted, "{name} : GET {base}{path} → {status}");
                checked += 1;
            }
        }
    }
    println!("rotation : {checked} appels (3 clés × 6 services × passerelle + 2 répliques)");
}
