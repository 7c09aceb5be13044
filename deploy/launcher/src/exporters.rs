//! The Prometheus exporters of the native run (Debian packages
//! prometheus-nginx-exporter, prometheus-mysqld-exporter,
//! prometheus-redis-exporter, installed by `deploy/ensure-deps`), each on a
//! free loopback port; Prometheus scrapes them as the jobs `gateway`, `mysql`
//! and `redis`, the names the compose Prometheus uses.

use std::{path::Path, process::Command};

/// An exporter to start: its Prometheus job, binary and arguments.
pub struct Exporter {
    pub job: &'static str,
    pub command: Command,
    pub port: u16,
}

fn binary(name: &str) -> Option<String> {
    ["/usr/bin", "/usr/local/bin"].iter().map(|d| format!("{d}/{name}")).find(|p| Path::new(p).exists())
}

/// `mysql://user:pass@host:port` → the exporter's DSN `user:pass@(host:port)/`.
pub fn mysql_dsn(admin_url: &str) -> String {
    let rest = admin_url.trim_start_matches("mysql://");
    let rest = rest.split('/').next().unwrap_or_default();
    let (creds, host) = rest.rsplit_once('@').unwrap_or(("root", rest));
    format!("{creds}@({host})/")
}

/// The exporters whose binaries are installed; `missing` names the others.
pub fn plan(
    gateway_port: u16,
    mysql_admin_url: &str,
    redis_url: &str,
    redis_prefix: &str,
    free_port: &mut dyn FnMut() -> anyhow::Result<u16>,
) -> anyhow::Result<(Vec<Exporter>, Vec<&'static str>)> {
    let (mut found, mut missing) = (vec![], vec![]);
    if let Some(bin) = binary("prometheus-nginx-exporter") {
        let port = free_port()?;
        let mut cmd = Command::new(bin);
        cmd.arg(format!("-nginx.scrape-uri=http://127.0.0.1:{gateway_port}/nginx_status"))
            .arg(format!("-web.listen-address=127.0.0.1:{port}"));
        found.push(Exporter { job: "gateway", command: cmd, port });
    } else {
        missing.push("prometheus-nginx-exporter");
    }
    if let Some(bin) = binary("prometheus-mysqld-exporter") {
        let port = free_port()?;
        let mut cmd = Command::new(bin);
        cmd.env("DATA_SOURCE_NAME", mysql_dsn(mysql_admin_url))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Row lock waits and other InnoDB counters beside SHOW GLOBAL STATUS.
            .arg("--collect.info_schema.innodb_metrics");
        found.push(Exporter { job: "mysql", command: cmd, port });
    } else {
        missing.push("prometheus-mysqld-exporter");
    }
    if let Some(bin) = binary("prometheus-redis-exporter") {
        let port = free_port()?;
        let mut cmd = Command::new(bin);
        cmd.arg(format!("-redis.addr={}", redis_url))
            .arg(format!("-web.listen-address=127.0.0.1:{port}"))
            // The event streams' length, groups and pending entries.
            .arg(format!("-check-streams={redis_prefix}evenements:*"));
        found.push(Exporter { job: "redis", command: cmd, port });
    } else {
        missing.push("prometheus-redis-exporter");
    }
    Ok((found, missing))
}

#[cfg(test)]
mod tests {
    use super::mysql_dsn;

    #[test]
    fn the_mysql_dsn_keeps_credentials_and_address() {
        assert_eq!(mysql_dsn("mysql://root@127.0.0.1:3306"), "root@(127.0.0.1:3306)/");
        assert_eq!(mysql_dsn("mysql://root:secret@db:3307/"), "root:secret@(db:3307)/");
    }
}
