//! The launcher's own `/metrics` (Prometheus job `launcher`, native run):
//!
//! - supervision: `caisse_launcher_restarts_total{service,replica}` and
//!   `caisse_launcher_replica_up{service,replica}`;
//! - the gateway per upstream, read from nginx's JSON access log (the nginx
//!   exporter's stub_status only counts connections and requests):
//!   `caisse_gateway_requests_total{upstream,status}` and the histogram
//!   `caisse_gateway_upstream_response_seconds{upstream}`; `upstream` is the
//!   service whose replica answered (`nginx` when nginx answered itself).
//!
//! A plain loopback HTTP/1.1 responder: Prometheus is its only client.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Read, Seek, SeekFrom, Write},
    net::TcpListener,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crate::supervise::{self, Slots};

const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the access log has told so far.
#[derive(Default)]
pub struct GatewayStats {
    requests: BTreeMap<(String, String), u64>,
    latency: BTreeMap<String, Histogram>,
}

impl GatewayStats {
    /// Accounts one access-log line; `services` maps `127.0.0.1:port` to a service.
    pub fn record(&mut self, line: &str, services: &BTreeMap<String, &'static str>) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            return;
        };
        let status = v["status"].as_u64().map(|s| s.to_string()).unwrap_or_default();
        // After a failover the fields list every replica tried ("a, b"): the last answered.
        let addr = v["upstream_addr"].as_str().unwrap_or_default().rsplit(", ").next().unwrap_or_default().trim();
        let upstream = if addr.is_empty() { "nginx" } else { services.get(addr).copied().unwrap_or("autre") };
        *self.requests.entry((upstream.to_owned(), status)).or_default() += 1;
        let time = v["upstream_response_time"].as_str().unwrap_or_default().rsplit(", ").next().unwrap_or_default();
        if let Ok(t) = time.trim().parse::<f64>() {
            let h = self.latency.entry(upstream.to_owned()).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if t <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += t;
        }
    }

    fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP caisse_gateway_requests_total Requêtes servies par la passerelle, par service amont et statut\n",
        );
        out.push_str("# TYPE caisse_gateway_requests_total counter\n");
        for ((u, s), n) in &self.requests {
            out.push_str(&format!("caisse_gateway_requests_total{{upstream=\"{u}\",status=\"{s}\"}} {n}\n"));
        }
        out.push_str(
            "# HELP caisse_gateway_upstream_response_seconds Temps de réponse des répliques vu par la passerelle\n",
        );
        out.push_str("# TYPE caisse_gateway_upstream_response_seconds histogram\n");
        for (u, h) in &self.latency {
            for (i, b) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "caisse_gateway_upstream_response_seconds_bucket{{upstream=\"{u}\",le=\"{b}\"}} {}\n",
                    h.counts[i]
                ));
            }
            let c = h.count;
            out.push_str(&format!(
                "caisse_gateway_upstream_response_seconds_bucket{{upstream=\"{u}\",le=\"+Inf\"}} {c}\n"
            ));
            out.push_str(&format!("caisse_gateway_upstream_response_seconds_sum{{upstream=\"{u}\"}} {}\n", h.sum));
            out.push_str(&format!("caisse_gateway_upstream_response_seconds_count{{upstream=\"{u}\"}} {c}\n"));
        }
    }
}

/// Starts the metrics endpoint on a free loopback port and the access-log
/// reader; both stop with `stop`. Returns the port.
pub fn serve(
    slots: Slots,
    access_log: PathBuf,
    services: BTreeMap<String, &'static str>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    let stats = Arc::new(Mutex::new(GatewayStats::default()));
    {
        let (stats, stop) = (stats.clone(), stop.clone());
        std::thread::spawn(move || tail(&access_log, &services, &stats, &stop));
    }
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut conn, _)) => {
                    let _ = conn.set_nonblocking(false);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut head = [0u8; 4096];
                    let _ = conn.read(&mut head);
                    let body = render(&slots, &stats);
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    });
    Ok(port)
}

fn render(slots: &Slots, stats: &Mutex<GatewayStats>) -> String {
    let mut out = String::new();
    out.push_str("# HELP caisse_launcher_restarts_total Redémarrages d'une réplique morte par le lanceur natif\n");
    out.push_str("# TYPE caisse_launcher_restarts_total counter\n");
    let mut up = String::new();
    for (name, replicas) in supervise::lock(slots).iter_mut() {
        for (i, slot) in replicas.iter_mut().enumerate() {
            out.push_str(&format!(
                "caisse_launcher_restarts_total{{service=\"{name}\",replica=\"{i}\"}} {}\n",
                slot.restarts
            ));
            up.push_str(&format!(
                "caisse_launcher_replica_up{{service=\"{name}\",replica=\"{i}\"}} {}\n",
                u8::from(slot.running())
            ));
        }
    }
    out.push_str("# HELP caisse_launcher_replica_up 1 quand le processus de la réplique tourne\n");
    out.push_str("# TYPE caisse_launcher_replica_up gauge\n");
    out.push_str(&up);
    if let Ok(s) = stats.lock() {
        s.render(&mut out);
    }
    out
}

/// Follows the access log (it may not exist yet, or be truncated).
fn tail(
    path: &std::path::Path,
    services: &BTreeMap<String, &'static str>,
    stats: &Mutex<GatewayStats>,
    stop: &AtomicBool,
) {
    let mut offset = 0u64;
    let mut partial = String::new();
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut f) = std::fs::File::open(path) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < offset {
                offset = 0;
                partial.clear();
            }
            if len > offset && f.seek(SeekFrom::Start(offset)).is_ok() {
                let mut reader = BufReader::new(f.take(len - offset));
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    offset += line.len() as u64;
                    if line.ends_with('\n') {
                        partial.push_str(&line);
                        if let Ok(mut s) = stats.lock() {
                            s.record(partial.trim_end(), services);
                        }
                        partial.clear();
                    } else {
                        partial.push_str(&line);
                    }
                    line.clear();
                }
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_lines_count_per_upstream_and_status() {
        let services =
            BTreeMap::from([("127.0.0.1:1001".to_owned(), "panier"), ("127.0.0.1:1002".to_owned(), "panier")]);
        let mut s = GatewayStats::default();
        s.record(r#"{"status":201,"upstream_addr":"127.0.0.1:1001","upstream_response_time":"0.020"}"#, &services);
        s.record(r#"{"status":201,"upstream_addr":"127.0.0.1:1001, 127.0.0.1:1002","upstream_response_time":"0.001, 0.300"}"#, &services);
        s.record(r#"{"status":401,"upstream_addr":"","upstream_response_time":""}"#, &services);
        s.record("not json", &services);
        let mut out = String::new();
        s.render(&mut out);
        assert!(out.contains(r#"caisse_gateway_requests_total{upstream="panier",status="201"} 2"#), "{out}");
        assert!(out.contains(r#"caisse_gateway_requests_total{upstream="nginx",status="401"} 1"#), "{out}");
        assert!(
            out.contains(r#"caisse_gateway_upstream_response_seconds_bucket{upstream="panier",le="0.025"} 1"#),
            "{out}"
        );
        assert!(
            out.contains(r#"caisse_gateway_upstream_response_seconds_bucket{upstream="panier",le="0.5"} 2"#),
            "{out}"
        );
        assert!(out.contains(r#"caisse_gateway_upstream_response_seconds_count{upstream="panier"} 2"#), "{out}");
        assert!(!out.contains(r#"upstream="nginx",le"#), "nginx's own answers have no upstream time");
    }
}
