//! Private Redis and MariaDB servers for fault tests: a real `redis-server`
//! or `mariadbd` on a free loopback port with its own directory, which a test
//! may kill and start again without touching the machine's shared servers.
//! Each is stopped and its directory removed when dropped.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn private_dir(kind: &str) -> anyhow::Result<PathBuf> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("caisse-{kind}-{}", &id[..10]));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn binary(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn kill(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn spawn_logged(mut cmd: Command, log: &Path) -> anyhow::Result<Child> {
    let out = fs::OpenOptions::new().create(true).append(true).open(log)?;
    cmd.stdout(out.try_clone()?).stderr(out).stdin(Stdio::null());
    cmd.spawn().with_context(|| format!("démarrage de {:?} (installé ?)", cmd.get_program()))
}

/// A `redis-server` of one test: no persistence, so a restart starts empty.
pub struct PrivateRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    pub async fn start() -> anyhow::Result<Self> {
        let mut r = Self { port: free_port()?, dir: private_dir("redis")?, child: None };
        r.start_again().await?;
        Ok(r)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the server (its data is gone: nothing is persisted).
    pub fn kill(&mut self) {
        kill(&mut self.child);
    }

    /// Starts the server again on the same port; returns once it answers PING.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        kill(&mut self.child);
        let mut cmd = Command::new(binary("redis-server"));
        cmd.args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir);
        self.child = Some(spawn_logged(cmd, &self.dir.join("redis.log"))?);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.ping().await {
            anyhow::ensure!(Instant::now() < deadline, "redis-server ne répond pas sur le port {}", self.port);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Whether the server answers PING now.
    pub async fn ping(&self) -> bool {
        let attempt = async {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
            s.write_all(b"PING\r\n").await?;
            let mut buf = [0u8; 7];
            s.read_exact(&mut buf).await?;
            Ok::<bool, std::io::Error>(&buf == b"+PONG\r\n")
        };
        matches!(tokio::time::timeout(Duration::from_millis(500), attempt).await, Ok(Ok(true)))
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        kill(&mut self.child);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A `mariadbd` of one test with its own datadir, run as the current user;
/// `root` without password over 127.0.0.1, like the machine's server.
pub struct PrivateMariadb {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateMariadb {
    /// Initialises a datadir (`mariadb-install-db`) and starts the server.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = private_dir("mariadb")?;
        let user = current_user();
        let status = Command::new(binary("mariadb-install-db"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .arg(format!("--user={user}"))
            .stdout(fs::File::create(dir.join("install.log"))?)
            .stderr(Stdio::inherit())
            .status()
            .context("mariadb-install-db (MariaDB installé ?)")?;
        anyhow::ensure!(status.success(), "mariadb-install-db en échec (voir {})", dir.join("install.log").display());
        let mut m = Self { port: free_port()?, dir, child: None };
        m.start_again().await?;
        Ok(m)
    }

    /// `mysql://root@127.0.0.1:<port>` (the launcher's `mysql_admin_url`).
    pub fn admin_url(&self) -> String {
        format!("mysql://root@{}", self.addr())
    }

    /// `127.0.0.1:<port>` (the launcher's `mysql_addr`).
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the server: committed transactions survive (InnoDB redo log).
    pub fn kill(&mut self) {
        kill(&mut self.child);
    }

    /// Starts the server again on the same port and datadir; returns once
    /// `root` can connect.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        kill(&mut self.child);
        let mut cmd = Command::new(binary("mariadbd"));
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", self.dir.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", self.dir.join("mysqld.pid").display()))
            .arg(format!("--user={}", current_user()))
            .args(["--skip-log-bin", "--innodb-buffer-pool-size=64M", "--max-connections=500"]);
        self.child = Some(spawn_logged(cmd, &self.dir.join("mariadbd.log"))?);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.accepts().await {
            anyhow::ensure!(
                Instant::now() < deadline,
                "mariadbd ne répond pas sur le port {} (voir {})",
                self.port,
                self.dir.join("mariadbd.log").display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Whether `root` can connect and run a query now.
    pub async fn accepts(&self) -> bool {
        use sqlx::Connection;
        let attempt = async {
            let mut c = sqlx::MySqlConnection::connect(&self.admin_url()).await?;
            sqlx::query("SELECT 1").execute(&mut c).await?;
            c.close().await
        };
        matches!(tokio::time::timeout(Duration::from_secs(2), attempt).await, Ok(Ok(())))
    }
}

impl Drop for PrivateMariadb {
    fn drop(&mut self) {
        kill(&mut self.child);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn current_user() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "mysql".into())
}
