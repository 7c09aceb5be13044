//! The native launcher: the whole topology without Docker, against the local
//! MariaDB and Redis — every service with its replicas on free ports, nginx
//! rendered from the gateway template, Prometheus and the nginx, MySQL and
//! Redis exporters when installed. Dead replicas are restarted
//! ([`supervise`]). The system tests start the very same stack through
//! [`Stack::start`].

pub mod exporters;
pub mod metrics;
pub mod render;
pub mod supervise;
pub mod topology;

use std::{
    collections::BTreeMap,
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use supervise::{Slot, Slots};
use topology::{DbAccount, SERVICES};

/// How to start a stack.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the service binaries are (target/release or target/debug).
    pub bin_dir: PathBuf,
    /// The repository (for `frontend/` and `deploy/prometheus/`).
    pub repo_dir: PathBuf,
    /// Logs, nginx config and temp files.
    pub run_dir: PathBuf,
    /// Gateway port; 0 picks a free one.
    pub gateway_port: u16,
    /// Namespaces schemas and MySQL users.
    pub schema_prefix: String,
    pub redis_prefix: String,
    pub mysql_admin_url: String,
    /// `host:port` the services use to reach MySQL.
    pub mysql_addr: String,
    pub redis_url: String,
    pub jwt_secret: String,
    /// The secret being retired during a key rotation (`JWT_SECRET_PRECEDENT`).
    pub jwt_previous_secret: Option<String>,
    /// `CAISSE_DEV=1` for the services: dev secrets and passwords accepted
    /// (the native run's default; `CAISSE_DEV=0 deploy/run` checks them).
    pub dev: bool,
    /// Replicas per service, overriding the topology's.
    pub replicas: Option<usize>,
    pub seed: bool,
    /// Days of demo sales history the seeds write (0: none), ending yesterday
    /// (`caisse_common::demo::history`).
    pub history_days: u32,
    pub prometheus: bool,
    /// Drop schemas and users when the stack stops (tests).
    pub cleanup: bool,
    /// Drop this prefix's schemas, users and Redis keys before provisioning
    /// (`deploy/run --reinitialiser`: a fresh demo, e.g. after the schemas
    /// were migrated by another version of Caisse).
    pub reset: bool,
    /// Services call each other through the gateway instead of straight at
    /// the replicas (`CAISSE_APPELS_PAR_PASSERELLE=1`: the former topology,
    /// for the benchmark's before/after comparison).
    pub peers_via_gateway: bool,
    /// Extra environment per service, e.g. `("vente", "RECOVERY_GRACE_MS", "1000")`.
    pub extra_env: Vec<(String, String, String)>,
}

impl Options {
    /// Defaults of the native dev run, overridable by environment variables.
    pub fn native(repo_dir: PathBuf, bin_dir: PathBuf) -> anyhow::Result<Self> {
        use caisse_common::config::{env_or, env_string};
        Ok(Self {
            run_dir: repo_dir.join(".run"),
            bin_dir,
            repo_dir,
            gateway_port: env_or("CAISSE_PORT", 8080)?,
            schema_prefix: schema_prefix(&env_string("CAISSE_SCHEMAS", "caisse_"))?,
            redis_prefix: env_string("REDIS_PREFIX", "caisse:"),
            mysql_admin_url: env_string("MYSQL_ADMIN_URL", "mysql://root@127.0.0.1:3306"),
            mysql_addr: env_string("MYSQL_ADDR", "127.0.0.1:3306"),
            redis_url: env_string("REDIS_URL", "redis://127.0.0.1:6379"),
            jwt_secret: env_string("JWT_SECRET", caisse_common::config::DEV_JWT_SECRET),
            jwt_previous_secret: Some(env_string("JWT_SECRET_PRECEDENT", "")).filter(|s| !s.is_empty()),
            dev: env_string("CAISSE_DEV", "1") == "1",
            replicas: None,
            seed: true,
            history_days: env_or(caisse_common::demo::history::ENV_DAYS, 35)?,
            prometheus: true,
            cleanup: false,
            reset: false,
            peers_via_gateway: env_string("CAISSE_APPELS_PAR_PASSERELLE", "0") == "1",
            extra_env: vec![],
        })
    }

    /// An isolated stack for one test: unique schemas, key prefix, ports and
    /// directory; debug binaries next to the test executable.
    pub fn for_test() -> anyhow::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        let exe = std::env::current_exe()?;
        // target/debug/deps/<test> -> target/debug
        let bin_dir = exe.parent().and_then(Path::parent).context("répertoire des binaires")?.to_path_buf();
        let repo_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
        let mut o = Self::native(repo_dir, bin_dir)?;
        o.run_dir = std::env::temp_dir().join(format!("caisse-test-{id}"));
        o.gateway_port = 0;
        o.schema_prefix = format!("s{id}_");
        o.redis_prefix = format!("test:{id}:");
        o.jwt_secret = format!("test-secret-{id}-{}", uuid::Uuid::new_v4().simple());
        o.prometheus = false;
        o.cleanup = true;
        // Tests sell what they check; a test that wants the history asks.
        o.history_days = 0;
        // Test stacks use generated secrets but the dev database passwords.
        o.dev = true;
        o.jwt_previous_secret = None;
        // Fault tests want interrupted sales finished quickly; the checkout
        // deadline stays generous (a busy CI machine is slow), and below the grace.
        o.extra_env = vec![
            ("vente".into(), "RECOVERY_INTERVAL_MS".into(), "300".into()),
            ("vente".into(), "RECOVERY_GRACE_MS".into(), "6000".into()),
            ("vente".into(), "CHECKOUT_DEADLINE_MS".into(), "4000".into()),
            // Reports catch up on the feeds quickly after a Redis flush.
            ("reporting".into(), "FEED_POLL_MS".into(), "500".into()),
        ];
        Ok(o)
    }
}

/// The native run's schema prefix (`CAISSE_SCHEMAS`): lowercase letters,
/// digits and `_`, ending with `_` (it also names the MySQL users).
fn schema_prefix(p: &str) -> anyhow::Result<String> {
    let ok = (2..=20).contains(&p.len())
        && p.ends_with('_')
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(
        ok,
        "CAISSE_SCHEMAS « {p} » : 2 à 20 caractères a-z, 0-9, _, commençant par une lettre et finissant par _"
    );
    Ok(p.to_owned())
}

/// A running topology. Dropping it stops every process it started.
pub struct Stack {
    pub gateway_url: String,
    /// Replica ports per service (fixed for the stack's life).
    pub ports: BTreeMap<&'static str, Vec<u16>>,
    pub prometheus_url: Option<String>,
    /// The launcher's own `/metrics` (restarts, gateway per upstream).
    pub launcher_metrics_url: String,
    /// Exporters started, as (Prometheus job, `/metrics` URL).
    pub exporters: Vec<(&'static str, String)>,
    /// Per service, each replica's time from spawn to its first ready
    /// `/health/ready` (all replicas start at once; polled every 10 ms).
    /// Also written to `<run_dir>/repliques.tsv` with pids and ports.
    pub ready_times: BTreeMap<&'static str, Vec<Duration>>,
    slots: Slots,
    others: Vec<Child>,
    opts: Options,
    accounts: Vec<DbAccount>,
    /// The last day of the demo history the seeds were given.
    history_end: chrono::NaiveDate,
    stop_flag: Arc<AtomicBool>,
    supervisor: Option<std::thread::JoinHandle<()>>,
}

/// A free loopback port, released at once for its process to bind.
///
/// Ports come from 20000–32767, below Linux's ephemeral range (32768+), so
/// that no outgoing connection (a pool's, a client's) can take a port between
/// the moment it is chosen and the moment its replica binds it; a port is
/// never handed out twice by this process (replicas, nginx, Prometheus and
/// the exporters all take theirs here). The start is random, so parallel
/// test processes rarely meet, and a taken port is skipped.
pub fn free_port() -> anyhow::Result<u16> {
    use std::sync::{Mutex, OnceLock};
    static GIVEN: OnceLock<Mutex<std::collections::HashSet<u16>>> = OnceLock::new();
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_768;
    let given = GIVEN.get_or_init(Default::default);
    let start = (uuid::Uuid::new_v4().as_u128() % u128::from(SPAN)) as u16;
    for k in 0..SPAN {
        let port = FIRST + (start + k) % SPAN;
        let mut given = given.lock().map_err(|_| anyhow::anyhow!("registre des ports empoisonné"))?;
        if given.contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return Ok(port);
        }
    }
    anyhow::bail!("aucun port libre entre {FIRST} et {}", FIRST + SPAN - 1)
}

fn redis_addr(url: &str) -> String {
    url.trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379")
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Checks MariaDB and Redis, explaining how to start them when down.
pub async fn check_dependencies(opts: &Options) -> anyhow::Result<()> {
    use sqlx::Connection;
    if let Err(e) = sqlx::MySqlConnection::connect(&opts.mysql_admin_url).await {
        anyhow::bail!(
            "MariaDB injoignable ({}) : {e}\n  démarrez-la : start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd\n  ou indiquez MYSQL_ADMIN_URL=mysql://root:motdepasse@hôte:3306",
            caisse_common::db::redact(&opts.mysql_admin_url)
        );
    }
    let addr = redis_addr(&opts.redis_url);
    let redis_ok = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(&addr)).await;
    if !matches!(redis_ok, Ok(Ok(_))) {
        anyhow::bail!(
            "Redis injoignable à {addr}\n  démarrez-le : redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no\n  ou indiquez REDIS_URL=redis://hôte:port"
        );
    }
    Ok(())
}

/// The nginx executable, installing it on Debian when running as root.
pub fn nginx_binary(install: bool) -> anyhow::Result<PathBuf> {
    for p in ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"] {
        if Path::new(p).exists() {
            return Ok(p.into());
        }
    }
    if install && is_root() && Path::new("/usr/bin/apt-get").exists() {
        eprintln!("nginx absent : installation avec apt-get…");
        let ok = Command::new("sh")
            .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx"])
            .status()?
            .success();
        if ok && Path::new("/usr/sbin/nginx").exists() {
            return Ok("/usr/sbin/nginx".into());
        }
    }
    anyhow::bail!("nginx introuvable : installez-le (Debian/Ubuntu : sudo apt-get install -y nginx)")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false)
}

impl Stack {
    /// Provisions, seeds and starts everything; returns once the gateway answers.
    pub async fn start(opts: Options) -> anyhow::Result<Self> {
        check_dependencies(&opts).await?;
        let nginx = nginx_binary(true)?;
        // Fresh logs for each run (a benchmark writes millions of access lines).
        let _ = fs::remove_dir_all(opts.run_dir.join("logs"));
        let _ = fs::remove_file(opts.run_dir.join("nginx-access.log"));
        fs::create_dir_all(opts.run_dir.join("logs"))?;
        fs::create_dir_all(opts.run_dir.join("tmp"))?;
        fs::create_dir_all(opts.run_dir.join("cache"))?;
        let gateway_port = if opts.gateway_port == 0 { free_port()? } else { opts.gateway_port };
        let gateway_url = format!("http://127.0.0.1:{gateway_port}");
        let accounts: Vec<DbAccount> =
            SERVICES.iter().map(|s| DbAccount::for_service(&opts.schema_prefix, s.name, None)).collect();
        let mut stack = Stack {
            gateway_url: gateway_url.clone(),
            ports: BTreeMap::new(),
            prometheus_url: None,
            launcher_metrics_url: String::new(),
            exporters: vec![],
            ready_times: BTreeMap::new(),
            slots: Slots::default(),
            others: vec![],
            opts: opts.clone(),
            accounts: accounts.clone(),
            // One last day for every seed, so that vente's and stock's parts
            // of the history are the same plan.
            history_end: caisse_common::calendar::today() - chrono::Duration::days(1),
            stop_flag: Arc::new(AtomicBool::new(false)),
            supervisor: None,
        };
        if opts.reset {
            println!(
                "Réinitialisation : schémas {}*, leurs utilisateurs et les clés Redis {}* supprimés…",
                opts.schema_prefix, opts.redis_prefix
            );
            for a in &accounts {
                caisse_common::provision::drop_schema_and_user(&opts.mysql_admin_url, &a.schema, &a.user, "%").await?;
            }
            caisse_common::provision::delete_redis_prefix(&opts.redis_url, &opts.redis_prefix).await?;
        }
        for a in &accounts {
            caisse_common::provision::provision(&opts.mysql_admin_url, &a.schema, &a.user, &a.password, "%").await?;
        }
        for (s, a) in SERVICES.iter().zip(&accounts) {
            if opts.seed {
                let status = stack.seed_command(s.name, a).stdout(Stdio::null()).status()?;
                anyhow::ensure!(
                    status.success(),
                    "données de démonstration de {} en échec (message ci-dessus) ; si le schéma {} vient d'une autre \
                     version de Caisse, `deploy/run --reinitialiser` repart d'une démonstration neuve (supprime les \
                     schémas {}*), ou CAISSE_SCHEMAS=autre_ en prend d'autres",
                    s.name,
                    a.schema,
                    opts.schema_prefix
                );
            }
        }
        // Every port first: each replica is given its peers' replicas.
        for s in SERVICES {
            for _ in 0..opts.replicas.unwrap_or(s.replicas) {
                stack.ports.entry(s.name).or_default().push(free_port()?);
            }
        }
        let mut waits = vec![];
        for (s, a) in SERVICES.iter().zip(&accounts) {
            for (i, port) in stack.ports[s.name].clone().into_iter().enumerate() {
                let env = env(&opts, &gateway_url, &stack.ports, s.name, a, port);
                let child = stack.spawn_logged(s.name, i, stack.command(s.name, &env))?;
                let pid = child.id();
                let spawned = Instant::now();
                supervise::lock(&stack.slots).entry(s.name).or_default().push(Slot::new(port, a.clone(), child));
                let name = s.name;
                let url = format!("http://127.0.0.1:{port}/health/ready");
                waits.push((
                    name,
                    pid,
                    port,
                    tokio::spawn(async move {
                        wait_http_every(&url, name, Duration::from_millis(10)).await.map(|()| spawned.elapsed())
                    }),
                ));
            }
        }
        let ports = stack.ports.clone();
        let mut table = String::from("service\tindex\tpid\tport\tpret_ms\n");
        for (name, pid, port, wait) in waits {
            let took = wait.await??;
            let times = stack.ready_times.entry(name).or_default();
            table.push_str(&format!("{name}\t{}\t{pid}\t{port}\t{}\n", times.len(), took.as_millis()));
            times.push(took);
        }
        fs::write(opts.run_dir.join("repliques.tsv"), table)?;
        stack.supervise();
        let run_dir = opts.run_dir.canonicalize()?.to_string_lossy().into_owned();
        let frontend = opts.repo_dir.join("frontend").to_string_lossy().into_owned();
        let vars = render::native_vars(&run_dir, &format!("127.0.0.1:{gateway_port}"), &frontend, &ports, is_root());
        let conf = opts.run_dir.join("nginx.conf");
        fs::write(&conf, render::render(render::TEMPLATE, &vars)?)?;
        let mut cmd = Command::new(&nginx);
        cmd.arg("-p").arg(&run_dir).arg("-c").arg(&conf).args(["-g", "daemon off;"]);
        let child = stack.spawn_logged("nginx", 0, cmd)?;
        stack.others.push(child);
        wait_http(&format!("{gateway_url}/health"), "nginx").await?;
        let addrs = ports.iter().flat_map(|(n, ps)| ps.iter().map(move |p| (format!("127.0.0.1:{p}"), *n))).collect();
        let access_log = opts.run_dir.join("nginx-access.log");
        let metrics_port = metrics::serve(stack.slots.clone(), access_log, addrs, stack.stop_flag.clone())?;
        stack.launcher_metrics_url = format!("http://127.0.0.1:{metrics_port}/metrics");
        if opts.prometheus {
            stack.start_exporters(gateway_port)?;
            stack.start_prometheus(&ports, metrics_port)?;
        }
        Ok(stack)
    }

    /// Starts the supervisor thread (see [`supervise`]).
    fn supervise(&mut self) {
        let (opts, gateway, ports) = (self.opts.clone(), self.gateway_url.clone(), self.ports.clone());
        let make: supervise::MakeCommand = Arc::new(move |service, account, port| {
            command(&opts, service, &env(&opts, &gateway, &ports, service, account, port))
        });
        let logs = self.opts.run_dir.join("logs");
        self.supervisor = Some(supervise::spawn(self.slots.clone(), make, logs, self.stop_flag.clone()));
    }

    /// `<service> seed` with the demo history's environment.
    fn seed_command(&self, service: &str, account: &DbAccount) -> Command {
        use caisse_common::demo::history::{ENV_DAYS, ENV_END};
        let mut cmd = self.command(service, &self.env(service, account, 0));
        cmd.arg("seed").env(ENV_DAYS, self.opts.history_days.to_string()).env(ENV_END, self.history_end.to_string());
        cmd
    }

    /// Runs `service`'s seed again, as at start (seeds are idempotent).
    pub fn seed_again(&self, service: &str) -> anyhow::Result<std::process::Output> {
        let account = supervise::lock(&self.slots)
            .get(service)
            .and_then(|rs| rs.first())
            .context("service inconnu")?
            .account
            .clone();
        Ok(self.seed_command(service, &account).stdin(Stdio::null()).output()?)
    }

    /// The last day of the demo history the seeds were given.
    pub fn history_end(&self) -> chrono::NaiveDate {
        self.history_end
    }

    fn command(&self, service: &str, env: &[(String, String)]) -> Command {
        command(&self.opts, service, env)
    }

    fn env(&self, service: &str, account: &DbAccount, port: u16) -> Vec<(String, String)> {
        env(&self.opts, &self.gateway_url, &self.ports, service, account, port)
    }

    fn start_exporters(&mut self, gateway_port: u16) -> anyhow::Result<()> {
        let (found, missing) = exporters::plan(
            gateway_port,
            &self.opts.mysql_admin_url,
            &self.opts.redis_url,
            &self.opts.redis_prefix,
            &mut free_port,
        )?;
        if !missing.is_empty() {
            eprintln!("(exportateurs absents : {} — deploy/ensure-deps les installe)", missing.join(", "));
        }
        for e in found {
            let child = self.spawn_logged(&format!("exporter-{}", e.job), 0, e.command)?;
            self.others.push(child);
            self.exporters.push((e.job, format!("http://127.0.0.1:{}/metrics", e.port)));
        }
        Ok(())
    }

    fn spawn_logged(&self, name: &str, index: usize, mut cmd: Command) -> anyhow::Result<Child> {
        let log = fs::File::create(self.opts.run_dir.join("logs").join(format!("{name}-{index}.log")))?;
        cmd.stdout(log.try_clone()?).stderr(log).stdin(Stdio::null());
        cmd.spawn().with_context(|| format!("démarrage de {name} ({:?})", cmd.get_program()))
    }

    fn start_prometheus(&mut self, ports: &BTreeMap<&'static str, Vec<u16>>, launcher_port: u16) -> anyhow::Result<()> {
        let Some(bin) =
            ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].into_iter().find(|p| Path::new(p).exists())
        else {
            eprintln!("(Prometheus non installé : apt-get install -y prometheus pour l'avoir aussi)");
            return Ok(());
        };
        // The dev run takes the usual 9090; tests (gateway on a free port) never do.
        let port = if self.opts.gateway_port != 0 && free_port_is(9090) { 9090 } else { free_port()? };
        let rules = self.opts.repo_dir.join("deploy/prometheus");
        let rule_files = [rules.join("alerts.yml").to_string_lossy().into_owned()];
        let conf = self.opts.run_dir.join("prometheus.yml");
        let mut jobs: Vec<(&str, String)> = vec![("launcher", format!("127.0.0.1:{launcher_port}"))];
        jobs.extend(
            self.exporters
                .iter()
                .map(|(j, u)| (*j, u.trim_start_matches("http://").trim_end_matches("/metrics").to_owned())),
        );
        fs::write(&conf, render::prometheus_config(ports, &rule_files, &jobs))?;
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", conf.display()))
            .arg(format!("--storage.tsdb.path={}", self.opts.run_dir.join("prometheus-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let child = self.spawn_logged("prometheus", 0, cmd)?;
        self.others.push(child);
        self.prometheus_url = Some(format!("http://127.0.0.1:{port}"));
        Ok(())
    }

    /// SIGKILLs replica `index` of `service` and keeps it down until
    /// [`Stack::restart_replica`] (fault tests); the supervisor leaves it alone.
    pub fn kill_replica(&mut self, service: &str, index: usize) -> anyhow::Result<()> {
        let mut slots = supervise::lock(&self.slots);
        let r = slots.get_mut(service).and_then(|rs| rs.get_mut(index)).context("réplique inconnue")?;
        r.supervised = false;
        if let Some(mut c) = r.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// Starts replica `index` of `service` again on its port, with `env`
    /// added (fault tests restart a crashed process this way). With no extra
    /// environment the replica is supervised again; with some, it is left to
    /// the caller (a replica started to crash must stay down).
    pub async fn restart_replica(&mut self, service: &str, index: usize, env: &[(&str, &str)]) -> anyhow::Result<()> {
        let name = SERVICES.iter().map(|s| s.name).find(|n| *n == service).context("service inconnu")?;
        let (port, account) = {
            let mut slots = supervise::lock(&self.slots);
            let r = slots.get_mut(name).and_then(|rs| rs.get_mut(index)).context("réplique inconnue")?;
            r.supervised = false;
            if let Some(mut c) = r.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            (r.port, r.account.clone())
        };
        let mut vars = self.env(name, &account, port);
        vars.retain(|(k, _)| !env.iter().any(|(e, _)| e == k));
        vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let child = self.spawn_logged(name, index + 100, self.command(name, &vars))?;
        if let Some(r) = supervise::lock(&self.slots).get_mut(name).and_then(|rs| rs.get_mut(index)) {
            r.replace(child, env.is_empty());
        }
        wait_http(&format!("http://127.0.0.1:{port}/health/ready"), name).await
    }

    /// Runs `service`'s binary once with a replica's environment and `args`
    /// (e.g. `reporting rebuild`), returning its exit status and output.
    pub fn run_once(&self, service: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let account = supervise::lock(&self.slots)
            .get(service)
            .and_then(|rs| rs.first())
            .context("service inconnu")?
            .account
            .clone();
        let env = self.env(service, &account, 0);
        Ok(self.command(service, &env).args(args).stdin(Stdio::null()).output()?)
    }

    /// Whether replica `index` of `service` is not running (and reaps it).
    pub fn replica_exited(&mut self, service: &str, index: usize) -> bool {
        supervise::lock(&self.slots).get_mut(service).and_then(|rs| rs.get_mut(index)).is_none_or(|r| !r.running())
    }

    /// Process id of replica `index` of `service` while it runs.
    pub fn replica_pid(&self, service: &str, index: usize) -> Option<u32> {
        supervise::lock(&self.slots).get(service)?.get(index)?.child.as_ref().map(Child::id)
    }

    /// How many times the supervisor restarted replica `index` of `service`.
    pub fn replica_restarts(&self, service: &str, index: usize) -> u64 {
        supervise::lock(&self.slots).get(service).and_then(|rs| rs.get(index)).map_or(0, |r| r.restarts)
    }

    /// Base URLs of a service's replicas (direct, bypassing the gateway).
    pub fn replica_urls(&self, service: &str) -> Vec<String> {
        self.ports
            .get(service)
            .map(|ps| ps.iter().map(|p| format!("http://127.0.0.1:{p}")).collect())
            .unwrap_or_default()
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Gracefully stops everything (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&mut self) {
        // The supervisor first, so that it restarts nothing being stopped.
        self.stop_flag.store(true, Ordering::Relaxed);
        if let Some(t) = self.supervisor.take() {
            let _ = t.join();
        }
        let mut children: Vec<Child> = self.others.drain(..).collect();
        for rs in supervise::lock(&self.slots).values_mut() {
            children.extend(rs.iter_mut().filter_map(|r| r.child.take()));
        }
        for c in &children {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for c in &mut children {
            while Instant::now() < deadline {
                if matches!(c.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        if self.opts.cleanup {
            let (admin, accounts) = (self.opts.mysql_admin_url.clone(), self.accounts.clone());
            let run_dir = self.opts.run_dir.clone();
            let (redis_url, prefix) = (self.opts.redis_url.clone(), self.opts.redis_prefix.clone());
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    for a in &accounts {
                        let _ = rt
                            .block_on(caisse_common::provision::drop_schema_and_user(&admin, &a.schema, &a.user, "%"));
                    }
                    let _ = rt.block_on(caisse_common::provision::delete_redis_prefix(&redis_url, &prefix));
                }
                let _ = fs::remove_dir_all(run_dir);
            })
            .join();
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A replica's environment: its peers are called straight at their replicas
/// (`PRODUIT_URL=http://127.0.0.1:p1,http://127.0.0.1:p2`, see
/// `caisse_common::client`); `GATEWAY_URL` is the gateway itself.
fn env(
    opts: &Options,
    gateway: &str,
    ports: &BTreeMap<&'static str, Vec<u16>>,
    service: &str,
    account: &DbAccount,
    port: u16,
) -> Vec<(String, String)> {
    let replicas = |name: &str| match ports.get(name) {
        Some(ps) if !ps.is_empty() && !opts.peers_via_gateway => {
            ps.iter().map(|p| format!("http://127.0.0.1:{p}")).collect::<Vec<_>>().join(",")
        }
        _ => gateway.to_owned(),
    };
    vec![
        ("BIND_ADDR".into(), format!("127.0.0.1:{port}")),
        ("DATABASE_URL".into(), account.url(&opts.mysql_addr)),
        ("REDIS_URL".into(), opts.redis_url.clone()),
        ("REDIS_PREFIX".into(), opts.redis_prefix.clone()),
        ("JWT_SECRET".into(), opts.jwt_secret.clone()),
        ("JWT_SECRET_PRECEDENT".into(), opts.jwt_previous_secret.clone().unwrap_or_default()),
        ("CAISSE_DEV".into(), if opts.dev { "1" } else { "0" }.into()),
        ("GATEWAY_URL".into(), gateway.to_owned()),
        ("CAISSE_URL".into(), replicas("caisse")),
        ("PRODUIT_URL".into(), replicas("produit")),
        ("STOCK_URL".into(), replicas("stock")),
        ("PANIER_URL".into(), replicas("panier")),
        ("VENTE_URL".into(), replicas("vente")),
        ("LOG_FORMAT".into(), "json".into()),
        ("RUST_LOG".into(), std::env::var("RUST_LOG").unwrap_or_else(|_| format!("info,{service}=info,sqlx=warn"))),
    ]
    .into_iter()
    .chain(opts.extra_env.iter().filter(|(s, _, _)| s == service).map(|(_, k, v)| (k.clone(), v.clone())))
    .collect()
}

fn command(opts: &Options, service: &str, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(opts.bin_dir.join(service));
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

fn free_port_is(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Polls `url` until it answers 2xx (30 s at most).
pub async fn wait_http(url: &str, what: &str) -> anyhow::Result<()> {
    wait_http_every(url, what, Duration::from_millis(100)).await
}

async fn wait_http_every(url: &str, what: &str, every: Duration) -> anyhow::Result<()> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(1)).build()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("{what} ne répond pas sur {url} après 30 s (voir les journaux du répertoire .run/logs)");
        }
        tokio::time::sleep(every).await;
    }
}

/// Provisions every service's schema and user (compose `setup`, k8s Job).
pub async fn provision_all(admin_url: &str, prefix: &str, host: &str) -> anyhow::Result<()> {
    for s in SERVICES {
        let a = DbAccount::for_service(prefix, s.name, None);
        caisse_common::provision::provision(admin_url, &a.schema, &a.user, &a.password, host).await?;
        println!("schéma {} et utilisateur {} prêts", a.schema, a.user);
    }
    Ok(())
}

/// Logs in at `gateway` and runs the integrity audit through the APIs.
pub async fn audit(
    gateway: &str,
    login: &str,
    password: &str,
    max_wait_secs: f64,
) -> anyhow::Result<caisse_common::audit::Audit> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let res = http
        .post(format!("{gateway}/api/auth/login"))
        .json(&serde_json::json!({"login": login, "mot_de_passe": password}))
        .send()
        .await?;
    anyhow::ensure!(res.status().is_success(), "connexion de {login} refusée : {}", res.status());
    let body: serde_json::Value = res.json().await?;
    let bearer = format!("Bearer {}", body["jeton"].as_str().context("jeton absent")?);
    let target =
        caisse_common::audit::Target { http: &http, base: gateway, bearer: &bearer, max_wait_secs, applied: None };
    caisse_common::audit::run(&target).await
}
