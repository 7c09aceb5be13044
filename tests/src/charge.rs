//! Synthetic cashier load (`caisse-charge`, the compose profile `charge`, the
//! live dashboard test): demo cashiers log in and ring up realistic carts —
//! 1 to 5 products of the demo catalogue, 1 to 3 of each, paid by card or in
//! cash — at a bounded overall rate, through the gateway, as the register
//! does (a keyed cart, lines, a keyed checkout). Every few sales a product is
//! looked up by id (cached reads) and now and then one is scanned that the
//! catalogue lacks (a miss).

use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The gateway, e.g. `http://127.0.0.1:8080`.
    pub gateway: String,
    /// Demo cashier logins (one task each).
    pub caissiers: Vec<String>,
    pub mot_de_passe: String,
    /// Sales started per second, all cashiers together (at most 50).
    pub ventes_par_seconde: f64,
    /// Stop after this long (`None`: until `ventes` or Ctrl-C).
    pub duree: Option<Duration>,
    /// Stop after this many checkouts in all (`None`: no limit).
    pub ventes: Option<u64>,
    /// Products 1..=produits are sold (the demo catalogue has 60).
    pub produits: u64,
}

impl Config {
    pub const MAX_RATE: f64 = 50.0;

    /// From the environment (`CHARGE_*`), with demo defaults.
    pub fn from_env() -> anyhow::Result<Self> {
        use caisse_common::config::{env_or, env_string};
        let rate: f64 = env_or("CHARGE_VENTES_PAR_SECONDE", 1.0)?;
        anyhow::ensure!(
            rate > 0.0 && rate <= Self::MAX_RATE,
            "CHARGE_VENTES_PAR_SECONDE : entre 0 et {} ventes par seconde",
            Self::MAX_RATE
        );
        let duree: u64 = env_or("CHARGE_DUREE_S", 0)?;
        let ventes: u64 = env_or("CHARGE_VENTES", 0)?;
        Ok(Self {
            gateway: env_string("CHARGE_PASSERELLE", "http://127.0.0.1:8080").trim_end_matches('/').to_owned(),
            caissiers: env_string("CHARGE_CAISSIERS", "caissier1,caissier2,caissier3,caissier4,caissier5")
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            // Dev-only default, the demo accounts' password.
            mot_de_passe: env_string("CHARGE_MOT_DE_PASSE", "demo1234"),
            ventes_par_seconde: rate,
            duree: (duree > 0).then(|| Duration::from_secs(duree)),
            ventes: (ventes > 0).then_some(ventes),
            produits: 60,
        })
    }
}

/// What happened.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    /// Checkouts answered 201.
    pub ventes: u64,
    /// Checkouts refused for a final reason (409 stock short, 422).
    pub refus: u64,
    /// Anything else (5xx, network), per request.
    pub erreurs: u64,
    /// Catalogue reads by id.
    pub lectures: u64,
}

impl Report {
    fn add(&mut self, o: Report) {
        self.ventes += o.ventes;
        self.refus += o.refus;
        self.erreurs += o.erreurs;
        self.lectures += o.lectures;
    }
}

/// A small xorshift: the carts only need to look varied.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        Self(uuid::Uuid::new_v4().as_u64_pair().0 | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// One logged-in cashier.
pub struct Till {
    http: Client,
    gateway: String,
    bearer: String,
    /// The open cash session the cashier's carts are opened on.
    session: i64,
}

impl Till {
    pub async fn login(http: &Client, gateway: &str, login: &str, password: &str) -> anyhow::Result<Self> {
        let res = http
            .post(format!("{gateway}/api/auth/login"))
            .json(&json!({"login": login, "mot_de_passe": password}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == StatusCode::OK, "connexion de {login} refusée : {}", res.status());
        let body: Value = res.json().await?;
        let jeton = body["jeton"].as_str().context("jeton absent")?;
        let bearer = format!("Bearer {jeton}");
        let session = crate::session(http, gateway, &bearer, None).await?;
        Ok(Self { http: http.clone(), gateway: gateway.to_owned(), bearer, session })
    }

    fn key() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// Opens a keyed cart with `lines` and checks it out; the checkout's
    /// status and body (the receipt on 201).
    pub async fn sell(&self, lines: &[(u64, u64)], cash: bool) -> anyhow::Result<(StatusCode, Value)> {
        let res = self
            .http
            .post(format!("{}/api/paniers", self.gateway))
            .header("authorization", &self.bearer)
            .header("idempotency-key", Self::key())
            .json(&json!({"session_id": self.session}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == StatusCode::CREATED, "ouverture du panier : {}", res.status());
        let cart = res.json::<Value>().await?["id"].as_i64().context("id du panier")?;
        for (p, q) in lines {
            let res = self
                .http
                .put(format!("{}/api/paniers/{cart}/lignes/{p}", self.gateway))
                .header("authorization", &self.bearer)
                .json(&json!({"quantite": q}))
                .send()
                .await?;
            anyhow::ensure!(res.status() == StatusCode::OK, "ligne {p} : {}", res.status());
        }
        let paiement =
            if cash { json!({"mode": "especes", "montant_recu": "2000.00"}) } else { json!({"mode": "carte"}) };
        let res = self
            .http
            .post(format!("{}/api/ventes", self.gateway))
            .header("authorization", &self.bearer)
            .header("idempotency-key", Self::key())
            .json(&json!({"panier_id": cart, "paiement": paiement}))
            .send()
            .await?;
        let status = res.status();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// `Authorization` header value of this cashier.
    pub fn bearer(&self) -> &str {
        &self.bearer
    }

    /// Reads one product by id (produit's cached read); its status.
    pub async fn read_product(&self, id: u64) -> anyhow::Result<StatusCode> {
        let res = self
            .http
            .get(format!("{}/api/produits/{id}", self.gateway))
            .header("authorization", &self.bearer)
            .send()
            .await?;
        Ok(res.status())
    }
}

/// Runs the load until its bounds; returns the totals.
pub async fn run(cfg: &Config) -> anyhow::Result<Report> {
    anyhow::ensure!(!cfg.caissiers.is_empty(), "aucun caissier");
    anyhow::ensure!(cfg.ventes_par_seconde > 0.0 && cfg.ventes_par_seconde <= Config::MAX_RATE, "débit hors bornes");
    let http = Client::builder().timeout(Duration::from_secs(15)).build()?;
    let mut tills = vec![];
    for login in &cfg.caissiers {
        tills.push(Till::login(&http, &cfg.gateway, login, &cfg.mot_de_passe).await?);
    }
    let n = tills.len() as f64;
    // Each cashier starts one sale every `period`: together, the asked rate.
    let period = Duration::from_secs_f64(n / cfg.ventes_par_seconde);
    let per_till = cfg.ventes.map(|v| v.div_ceil(tills.len() as u64));
    let deadline = cfg.duree.map(|d| Instant::now() + d);
    let produits = cfg.produits;
    let tasks: Vec<_> = tills
        .into_iter()
        .map(|till| {
            tokio::spawn(async move {
                let mut rng = Rng::new();
                let mut report = Report::default();
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut done = 0u64;
                loop {
                    tick.tick().await;
                    if deadline.is_some_and(|d| Instant::now() >= d) || per_till.is_some_and(|m| done >= m) {
                        break;
                    }
                    done += 1;
                    let count = 1 + rng.below(5);
                    let mut lines: Vec<(u64, u64)> = vec![];
                    while (lines.len() as u64) < count {
                        let p = 1 + rng.below(produits);
                        if !lines.iter().any(|(q, _)| *q == p) {
                            lines.push((p, 1 + rng.below(3)));
                        }
                    }
                    match till.sell(&lines, rng.below(3) == 0).await {
                        Ok((StatusCode::CREATED, _)) => report.ventes += 1,
                        Ok((StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY, _)) => report.refus += 1,
                        _ => report.erreurs += 1,
                    }
                    // A price check now and then, and a scan of an unknown code.
                    let id = if rng.below(10) == 0 { 100_000 + rng.below(1000) } else { 1 + rng.below(produits) };
                    match till.read_product(id).await {
                        Ok(s) if s == StatusCode::OK || s == StatusCode::NOT_FOUND => report.lectures += 1,
                        _ => report.erreurs += 1,
                    }
                }
                report
            })
        })
        .collect();
    let mut total = Report::default();
    for t in tasks {
        total.add(t.await?);
    }
    Ok(total)
}
