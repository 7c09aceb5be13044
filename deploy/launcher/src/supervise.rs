//! Replica supervision for the native run: a replica that exits (crash,
//! SIGKILL, OOM) is started again on its port after a backoff that doubles
//! while it keeps dying young (250 ms up to 10 s), each restart logged and
//! counted (`caisse_launcher_restarts_total`, served by [`crate::metrics`]),
//! as compose's `restart: unless-stopped` and Kubernetes do for theirs.
//!
//! A replica the caller stopped on purpose ([`crate::Stack::kill_replica`])
//! or started with a special environment (fault tests) is left alone until
//! the caller restarts it normally.

use std::{
    collections::BTreeMap,
    io::Write,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::topology::DbAccount;

pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A replica that ran this long before dying starts over at the first backoff.
const HEALTHY_AFTER: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// One replica slot: its port and account stay, its process comes and goes.
pub struct Slot {
    pub port: u16,
    pub account: DbAccount,
    pub child: Option<Child>,
    /// Restarted by the supervisor when it exits.
    pub supervised: bool,
    pub restarts: u64,
    backoff: Duration,
    started: Instant,
    restart_at: Option<Instant>,
}

impl Slot {
    pub fn new(port: u16, account: DbAccount, child: Child) -> Self {
        Self {
            port,
            account,
            child: Some(child),
            supervised: true,
            restarts: 0,
            backoff: FIRST_BACKOFF,
            started: Instant::now(),
            restart_at: None,
        }
    }

    /// A process the caller started in this slot.
    pub fn replace(&mut self, child: Child, supervised: bool) {
        self.child = Some(child);
        self.supervised = supervised;
        self.started = Instant::now();
        self.restart_at = None;
    }

    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

pub type Slots = Arc<Mutex<BTreeMap<&'static str, Vec<Slot>>>>;

pub fn lock(slots: &Slots) -> MutexGuard<'_, BTreeMap<&'static str, Vec<Slot>>> {
    slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Builds the command of a replica of `service` listening on `port`.
pub type MakeCommand = Arc<dyn Fn(&str, &DbAccount, u16) -> Command + Send + Sync>;

/// The supervisor thread; it stops when `stop` is set.
pub fn spawn(slots: Slots, make: MakeCommand, logs: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            {
                let mut all = lock(&slots);
                for (name, replicas) in all.iter_mut() {
                    for (index, slot) in replicas.iter_mut().enumerate() {
                        tend(name, index, slot, &make, &logs);
                    }
                }
            }
            std::thread::sleep(POLL);
        }
    })
}

fn tend(name: &str, index: usize, slot: &mut Slot, make: &MakeCommand, logs: &std::path::Path) {
    if !slot.supervised {
        return;
    }
    let now = Instant::now();
    if let Some(child) = slot.child.as_mut()
        && let Ok(Some(status)) = child.try_wait()
    {
        slot.child = None;
        let lived = now.duration_since(slot.started);
        slot.backoff = if lived >= HEALTHY_AFTER { FIRST_BACKOFF } else { slot.backoff };
        slot.restart_at = Some(now + slot.backoff);
        log(
            logs,
            &format!(
                "réplique {name}-{index} (port {}) arrêtée ({status}) après {:.1} s ; redémarrage dans {} ms",
                slot.port,
                lived.as_secs_f64(),
                slot.backoff.as_millis()
            ),
        );
        slot.backoff = (slot.backoff * 2).min(MAX_BACKOFF);
        return;
    }
    if slot.child.is_none() && slot.restart_at.is_some_and(|at| now >= at) {
        let mut cmd = make(name, &slot.account, slot.port);
        match replica_log(logs, name, index).and_then(|(out, err)| {
            cmd.stdout(out).stderr(err).stdin(Stdio::null());
            cmd.spawn()
        }) {
            Ok(child) => {
                slot.restarts += 1;
                slot.child = Some(child);
                slot.started = now;
                slot.restart_at = None;
                log(
                    logs,
                    &format!(
                        "réplique {name}-{index} redémarrée sur le port {} (redémarrage n° {})",
                        slot.port, slot.restarts
                    ),
                );
            }
            Err(e) => {
                slot.restart_at = Some(now + slot.backoff);
                log(
                    logs,
                    &format!(
                        "redémarrage de {name}-{index} impossible : {e} ; nouvel essai dans {} ms",
                        slot.backoff.as_millis()
                    ),
                );
                slot.backoff = (slot.backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// The replica's log, appended to (its earlier lives stay readable).
fn replica_log(logs: &std::path::Path, name: &str, index: usize) -> std::io::Result<(std::fs::File, std::fs::File)> {
    let f = std::fs::OpenOptions::new().create(true).append(true).open(logs.join(format!("{name}-{index}.log")))?;
    Ok((f.try_clone()?, f))
}

/// One line in `logs/launcher.log` and on stderr.
pub fn log(logs: &std::path::Path, message: &str) {
    let line = format!("{} caisse-launcher : {message}", chrono_like_now());
    eprintln!("{line}");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(logs.join("launcher.log")) {
        let _ = writeln!(f, "{line}");
    }
}

/// Seconds since the Unix epoch (the launcher has no date crate).
fn chrono_like_now() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("[{}.{:03}]", t.as_secs(), t.subsec_millis())
}
