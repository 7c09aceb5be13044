//! The standard Prometheus process metrics of a replica (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_virtual_memory_bytes`,
//! `process_open_fds`, `process_max_fds`, `process_threads`,
//! `process_start_time_seconds`), read from `/proc/self` at each scrape.
//! The ops dashboard shows CPU, memory and file descriptors per replica from
//! them. Elsewhere than Linux the collector exposes nothing.

use std::sync::Mutex;

use prometheus::{
    Counter, Gauge, Opts,
    core::{Collector, Desc},
    proto::MetricFamily,
};

/// Linux reports CPU times in USER_HZ ticks, 100 per second on every
/// architecture the suite runs on (it is part of the kernel ABI).
const TICKS_PER_SECOND: f64 = 100.0;

/// Collects the process metrics when Prometheus scrapes.
pub struct ProcessCollector {
    cpu: Counter,
    cpu_seen: Mutex<f64>,
    resident: Gauge,
    virtual_mem: Gauge,
    open_fds: Gauge,
    max_fds: Gauge,
    threads: Gauge,
    start_time: Gauge,
    descs: Vec<Desc>,
}

fn gauge(name: &str, help: &str, service: &str) -> Gauge {
    Gauge::with_opts(Opts::new(name, help).const_label("service", service))
        .unwrap_or_else(|e| panic!("métrique mal définie : {e}"))
}

impl ProcessCollector {
    pub fn new(service: &str) -> Self {
        let cpu = Counter::with_opts(
            Opts::new("process_cpu_seconds_total", "Temps CPU consommé (utilisateur + système), en secondes")
                .const_label("service", service),
        )
        .unwrap_or_else(|e| panic!("métrique mal définie : {e}"));
        let resident = gauge("process_resident_memory_bytes", "Mémoire résidente (RSS), en octets", service);
        let virtual_mem = gauge("process_virtual_memory_bytes", "Mémoire virtuelle, en octets", service);
        let open_fds = gauge("process_open_fds", "Descripteurs de fichiers ouverts", service);
        let max_fds = gauge("process_max_fds", "Limite de descripteurs de fichiers", service);
        let threads = gauge("process_threads", "Fils d'exécution du processus", service);
        let start_time =
            gauge("process_start_time_seconds", "Démarrage du processus, en secondes depuis l'époque Unix", service);
        let mut descs = cpu.desc().into_iter().cloned().collect::<Vec<_>>();
        for g in [&resident, &virtual_mem, &open_fds, &max_fds, &threads, &start_time] {
            descs.extend(g.desc().into_iter().cloned());
        }
        Self { cpu, cpu_seen: Mutex::new(0.0), resident, virtual_mem, open_fds, max_fds, threads, start_time, descs }
    }

    fn refresh(&self) -> Option<()> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name (which may hold spaces), from field 3 on.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        let cpu = (ticks(11)? + ticks(12)?) / TICKS_PER_SECOND;
        if let Ok(mut seen) = self.cpu_seen.lock()
            && cpu > *seen
        {
            self.cpu.inc_by(cpu - *seen);
            *seen = cpu;
        }
        let boot = std::fs::read_to_string("/proc/stat")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<f64>().ok()))?;
        self.start_time.set(boot + ticks(19)? / TICKS_PER_SECOND);
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kib = |key: &str| {
            status.lines().find_map(|l| {
                l.strip_prefix(key).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        };
        self.resident.set(kib("VmRSS:")? * 1024.0);
        self.virtual_mem.set(kib("VmSize:")? * 1024.0);
        self.threads.set(kib("Threads:")?);
        self.open_fds.set(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64);
        let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
        let max = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse::<f64>().ok());
        if let Some(max) = max {
            self.max_fds.set(max);
        }
        Some(())
    }
}

impl Collector for ProcessCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        if self.refresh().is_none() {
            return vec![];
        }
        let mut out = self.cpu.collect();
        for g in [&self.resident, &self.virtual_mem, &self.open_fds, &self.max_fds, &self.threads, &self.start_time] {
            out.extend(g.collect());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_metrics_describe_this_process() {
        let registry = prometheus::Registry::new();
        registry.register(Box::new(ProcessCollector::new("test"))).unwrap();
        let mut buf = Vec::new();
        prometheus::Encoder::encode(&prometheus::TextEncoder::new(), &registry.gather(), &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let value = |name: &str| -> f64 {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{name}{{")))
                .unwrap_or_else(|| panic!("{name} absent:\n{text}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert!(value("process_resident_memory_bytes") > 1_000_000.0);
        assert!(value("process_open_fds") >= 3.0);
        assert!(value("process_max_fds") >= value("process_open_fds"));
        assert!(value("process_threads") >= 1.0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        let started = value("process_start_time_seconds");
        assert!(started <= now + 1.0 && started > now - 86_400.0, "{started} vs {now}");
        assert!(value("process_cpu_seconds_total") >= 0.0);
        assert!(text.contains(r#"service="test""#));
    }
}
