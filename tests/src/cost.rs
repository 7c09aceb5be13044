//! What a benchmark phase cost, read from outside the processes: CPU time per
//! process kind (`/proc/<pid>/stat`), MariaDB's global counters (`SHOW
//! GLOBAL STATUS`), the lines nginx added to its access log, the calls the
//! services made to each other (their `upstream_requests_total`) and the
//! bytes over loopback (`/proc/net/dev`). [`Probe::snapshot`] before and
//! after a phase, [`Probe::delta`] between two snapshots, [`Delta::per`]
//! divides by the sales.
//!
//! MariaDB's counters, the loopback bytes and mariadbd's and redis-server's
//! CPU are the whole machine's: anything else running there counts too.

use std::{
    collections::BTreeMap,
    io::{Read, Seek, SeekFrom},
    path::PathBuf,
};

use anyhow::Context;

/// The fields of `/proc/<pid>/stat` the probe uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub comm: String,
    pub ppid: u32,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
}

/// Parses one `/proc/<pid>/stat` line. The command name is in parentheses
/// and may hold spaces or parentheses itself: the fields after it start at
/// the last `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line.get(open + 1..close)?.to_owned();
    let rest: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    let ppid = rest.get(1)?.parse().ok()?;
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some(ProcStat { comm, ppid, cpu_ticks: utime + stime })
}

/// `VmRSS` of a `/proc/<pid>/status`, in kB.
pub fn parse_vm_rss_kb(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Bytes received on `lo` (= bytes sent on it) from `/proc/net/dev`.
pub fn parse_lo_bytes(net_dev: &str) -> Option<u64> {
    net_dev
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("lo:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The sum of every sample of metric `name` in a Prometheus text exposition.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.strip_prefix(name).is_some_and(|r| r.starts_with('{') || r.starts_with(' ')))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Requests nginx logged, split by who sent them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessCounts {
    /// From the benchmark's own client (user agent `client_agent`): what a
    /// browser or a till sends.
    pub clients: u64,
    /// Anything else: services calling each other through the gateway.
    pub services: u64,
}

/// Counts the access-log lines (one JSON object each) of `text`.
pub fn count_access(text: &str, client_agent: &str) -> AccessCounts {
    let mut c = AccessCounts::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let agent = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v["user_agent"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if agent == client_agent {
            c.clients += 1;
        } else {
            c.services += 1;
        }
    }
    c
}

/// CPU ticks per kind between two per-pid readings (pid -> (kind, ticks)).
/// A process present only after (a restart) counts all of its ticks; one
/// gone by then (or a pid reused by another kind) is left out.
pub fn cpu_delta(before: &BTreeMap<u32, (String, u64)>, after: &BTreeMap<u32, (String, u64)>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (pid, (kind, ticks)) in after {
        let start = match before.get(pid) {
            Some((k, t)) if k == kind => *t,
            _ => 0,
        };
        *out.entry(kind.clone()).or_insert(0) += ticks.saturating_sub(start);
    }
    out
}

/// `after - before` per key (missing before: 0).
pub fn counter_delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after.iter().map(|(k, v)| (k.clone(), v.saturating_sub(before.get(k).copied().unwrap_or(0)))).collect()
}

/// The processes of a run: the launcher's descendants (nginx, each service's
/// replicas, ...), MariaDB and Redis wherever they run, and this process.
pub fn processes(launcher_pid: u32) -> BTreeMap<u32, (String, u64)> {
    let mut all: BTreeMap<u32, ProcStat> = BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            if let Some(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().as_deref().and_then(parse_stat) {
                all.insert(pid, s);
            }
        }
    }
    let me = std::process::id();
    let descends = |mut pid: u32| {
        for _ in 0..64 {
            if pid == launcher_pid {
                return true;
            }
            match all.get(&pid) {
                Some(s) if s.ppid > 1 => pid = s.ppid,
                _ => return false,
            }
        }
        false
    };
    all.iter()
        .filter_map(|(pid, s)| {
            let kind = if *pid == me {
                "client (banc)".to_owned()
            } else if s.comm == "mariadbd" || s.comm == "redis-server" || descends(*pid) {
                s.comm.clone()
            } else {
                return None;
            };
            Some((*pid, (kind, s.cpu_ticks)))
        })
        .collect()
}

/// Resident memory of a process, in kB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    parse_vm_rss_kb(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// A replica as the launcher recorded it in `<run_dir>/repliques.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub service: String,
    pub index: usize,
    pub pid: u32,
    pub port: u16,
    pub ready_ms: u64,
}

/// Parses `repliques.tsv` (header line, then service, index, pid, port, ms).
pub fn parse_replicas(tsv: &str) -> Vec<Replica> {
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some(Replica {
                service: f.first()?.to_string(),
                index: f.get(1)?.parse().ok()?,
                pid: f.get(2)?.parse().ok()?,
                port: f.get(3)?.parse().ok()?,
                ready_ms: f.get(4)?.parse().ok()?,
            })
        })
        .collect()
}

/// MariaDB's global counters the probe reads.
pub const MYSQL_COUNTERS: &[&str] = &["Questions", "Com_commit", "Innodb_data_fsyncs"];

/// Where to read a run's figures.
pub struct Probe {
    pub launcher_pid: u32,
    pub access_log: PathBuf,
    pub mysql_admin_url: String,
    pub replicas: Vec<Replica>,
    pub client_agent: String,
    http: reqwest::Client,
    clk_tck: u64,
}

/// Everything read at one instant.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub cpu: BTreeMap<u32, (String, u64)>,
    pub mysql: BTreeMap<String, u64>,
    pub access_offset: u64,
    pub lo_bytes: u64,
    pub upstream_calls: f64,
}

/// What happened between two snapshots.
#[derive(Debug, Clone, Default)]
pub struct Delta {
    pub cpu_ms: BTreeMap<String, f64>,
    pub mysql: BTreeMap<String, f64>,
    pub nginx_clients: f64,
    pub nginx_services: f64,
    /// Service-to-service calls not seen by nginx (straight to a replica).
    pub direct: f64,
    pub lo_bytes: f64,
}

impl Probe {
    pub fn new(
        launcher_pid: u32,
        run_dir: PathBuf,
        mysql_admin_url: String,
        client_agent: &str,
    ) -> anyhow::Result<Self> {
        let replicas = std::fs::read_to_string(run_dir.join("repliques.tsv"))
            .map(|t| parse_replicas(&t))
            .with_context(|| format!("{}/repliques.tsv (écrit par le lanceur)", run_dir.display()))?;
        let clk_tck = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100);
        Ok(Self {
            launcher_pid,
            access_log: run_dir.join("nginx-access.log"),
            mysql_admin_url,
            replicas,
            client_agent: client_agent.to_owned(),
            http: reqwest::Client::new(),
            clk_tck,
        })
    }

    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        use sqlx::Connection;
        let mut db = sqlx::MySqlConnection::connect(&self.mysql_admin_url).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_commit', 'Innodb_data_fsyncs')",
        )
        .fetch_all(&mut db)
        .await?;
        let mysql = rows.into_iter().filter_map(|(k, v)| Some((k, v.parse().ok()?))).collect();
        let mut upstream_calls = 0.0;
        for r in &self.replicas {
            if let Ok(res) = self.http.get(format!("http://127.0.0.1:{}/metrics", r.port)).send().await
                && let Ok(text) = res.text().await
            {
                upstream_calls += metric_sum(&text, "upstream_requests_total");
            }
        }
        Ok(Snapshot {
            cpu: processes(self.launcher_pid),
            mysql,
            access_offset: std::fs::metadata(&self.access_log).map(|m| m.len()).unwrap_or(0),
            lo_bytes: std::fs::read_to_string("/proc/net/dev").ok().as_deref().and_then(parse_lo_bytes).unwrap_or(0),
            upstream_calls,
        })
    }

    pub fn delta(&self, a: &Snapshot, b: &Snapshot) -> anyhow::Result<Delta> {
        let mut text = String::new();
        if b.access_offset > a.access_offset {
            let mut f = std::fs::File::open(&self.access_log)?;
            f.seek(SeekFrom::Start(a.access_offset))?;
            f.take(b.access_offset - a.access_offset).read_to_string(&mut text)?;
        }
        let access = count_access(&text, &self.client_agent);
        let ms_per_tick = 1000.0 / self.clk_tck as f64;
        let calls = (b.upstream_calls - a.upstream_calls).max(0.0);
        Ok(Delta {
            cpu_ms: cpu_delta(&a.cpu, &b.cpu).into_iter().map(|(k, t)| (k, t as f64 * ms_per_tick)).collect(),
            mysql: counter_delta(&a.mysql, &b.mysql).into_iter().map(|(k, v)| (k, v as f64)).collect(),
            nginx_clients: access.clients as f64,
            nginx_services: access.services as f64,
            direct: (calls - access.services as f64).max(0.0),
            lo_bytes: b.lo_bytes.saturating_sub(a.lo_bytes) as f64,
        })
    }
}

impl Delta {
    /// Every figure divided by `n` (sales).
    pub fn per(&self, n: usize) -> Delta {
        let d = n.max(1) as f64;
        Delta {
            cpu_ms: self.cpu_ms.iter().map(|(k, v)| (k.clone(), v / d)).collect(),
            mysql: self.mysql.iter().map(|(k, v)| (k.clone(), v / d)).collect(),
            nginx_clients: self.nginx_clients / d,
            nginx_services: self.nginx_services / d,
            direct: self.direct / d,
            lo_bytes: self.lo_bytes / d,
        }
    }

    /// The table's rows: (label, value), CPU kinds first.
    pub fn rows(&self) -> Vec<(String, f64)> {
        let mut rows: Vec<(String, f64)> = self.cpu_ms.iter().map(|(k, v)| (format!("CPU ms  {k}"), *v)).collect();
        rows.push(("CPU ms  total".into(), self.cpu_ms.values().sum()));
        for k in MYSQL_COUNTERS {
            rows.push((format!("MariaDB {k} (global)"), self.mysql.get(*k).copied().unwrap_or(0.0)));
        }
        rows.push(("HTTP via nginx : client".into(), self.nginx_clients));
        rows.push(("HTTP via nginx : entre services".into(), self.nginx_services));
        rows.push(("HTTP direct entre services".into(), self.direct));
        rows.push(("octets sur lo (toute la machine)".into(), self.lo_bytes));
        rows
    }
}

/// Prints two deltas (already per sale) side by side, every row of either.
pub fn print_table(titles: (&str, &str), a: &Delta, b: &Delta) {
    let (ra, rb) = (a.rows(), b.rows());
    let mut labels: Vec<String> = ra.iter().map(|r| r.0.clone()).collect();
    for (l, _) in &rb {
        if !labels.contains(l) {
            labels.push(l.clone());
        }
    }
    let get = |rows: &[(String, f64)], l: &str| rows.iter().find(|r| r.0 == l).map_or(0.0, |r| r.1);
    println!("{:<36} {:>14} {:>14}", "par vente", titles.0, titles.1);
    for l in labels {
        println!("{l:<36} {:>14.2} {:>14.2}", get(&ra, &l), get(&rb, &l));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_and_parentheses_in_the_name() {
        let line = "4242 (tokio (rt) w) S 17 4242 4242 0 -1 4194560 900 0 0 0 123 45 0 0 20 0 9 0 555 0 0";
        assert_eq!(parse_stat(line), Some(ProcStat { comm: "tokio (rt) w".into(), ppid: 17, cpu_ticks: 168 }));
        assert_eq!(parse_stat("12 (x) S"), None);
    }

    #[test]
    fn rss_loopback_and_metrics() {
        assert_eq!(parse_vm_rss_kb("Name:\tvente\nVmPeak:\t 9 kB\nVmRSS:\t   18232 kB\n"), Some(18232));
        let dev = "Inter-|   Receive\n face |bytes    packets\n    lo: 987654 1200 0 0 0 0 0 0 987654 1200 0 0 0 0 0 0\n  eth0: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n";
        assert_eq!(parse_lo_bytes(dev), Some(987_654));
        let m = "# TYPE upstream_requests_total counter\nupstream_requests_total{service=\"vente\",target=\"stock\",result=\"ok\"} 12\nupstream_requests_total{service=\"vente\",target=\"panier\",result=\"unreachable\"} 3\nupstream_requests_total_other 100\n";
        assert_eq!(metric_sum(m, "upstream_requests_total"), 15.0);
    }

    #[test]
    fn access_lines_split_by_agent() {
        let log = "{\"uri\":\"/api/ventes\",\"user_agent\":\"caisse-bench\"}\n{\"uri\":\"/api/paniers/1\",\"user_agent\":\"\"}\n\n{\"uri\":\"/api/stocks\",\"user_agent\":\"caisse-bench\"}\n";
        assert_eq!(count_access(log, "caisse-bench"), AccessCounts { clients: 2, services: 1 });
    }

    #[test]
    fn deltas_per_kind_survive_restarts() {
        let before: BTreeMap<u32, (String, u64)> = [
            (1, ("vente".into(), 100)),
            (2, ("vente".into(), 50)),
            (3, ("nginx".into(), 10)),
            (9, ("stock".into(), 7)),
        ]
        .into();
        // pid 2 restarted as pid 4; pid 9 is gone; pid 3 reused by nothing else.
        let after: BTreeMap<u32, (String, u64)> =
            [(1, ("vente".into(), 130)), (4, ("vente".into(), 5)), (3, ("nginx".into(), 25))].into();
        let d = cpu_delta(&before, &after);
        assert_eq!(d, [("nginx".to_owned(), 15), ("vente".to_owned(), 35)].into());
        let (a, b): (BTreeMap<String, u64>, BTreeMap<String, u64>) =
            ([("Questions".into(), 1000)].into(), [("Questions".into(), 1600), ("Com_commit".into(), 30)].into());
        assert_eq!(counter_delta(&a, &b), [("Com_commit".to_owned(), 30), ("Questions".to_owned(), 600)].into());
        let per = Delta { lo_bytes: 3000.0, nginx_clients: 15.0, ..Default::default() }.per(3);
        assert_eq!((per.lo_bytes, per.nginx_clients), (1000.0, 5.0));
    }

    #[test]
    fn replicas_file() {
        let tsv = "service\tindex\tpid\tport\tpret_ms\nvente\t0\t321\t20001\t412\nvente\t1\t322\t20002\t388\n";
        let r = parse_replicas(tsv);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1], Replica { service: "vente".into(), index: 1, pid: 322, port: 20002, ready_ms: 388 });
    }
}
