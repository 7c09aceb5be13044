//! The native launcher supervises its replicas: one replica of every service
//! SIGKILLed at once is restarted on its port, reaped (no zombie), counted in
//! the launcher's metric and logged, and answers `/health/ready` again.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use caisse_launcher::topology::SERVICES;

use crate::harness::Sys;

#[tokio::test]
async fn a_killed_replica_of_each_service_is_restarted_on_its_port() {
    let sys = Sys::start().await;
    let mut killed = vec![];
    for s in SERVICES {
        let pid = sys.stack.replica_pid(s.name, 0).expect("réplique 0 en marche");
        assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
        killed.push((s.name, pid));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for (name, old) in &killed {
        let ready = format!("{}/health/ready", sys.stack.replica_urls(name)[0]);
        loop {
            let restarted = sys.stack.replica_pid(name, 0).is_some_and(|p| p != *old);
            if restarted && sys.http.get(&ready).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "{name}-0 n'a pas été redémarrée en 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(sys.stack.replica_restarts(name, 0), 1, "{name}-0");
        assert_eq!(sys.stack.replica_restarts(name, 1), 0, "{name}-1 n'a pas été touchée");
        // Reaped: the dead process is gone, not a zombie under the launcher.
        let status = std::fs::read_to_string(format!("/proc/{old}/status")).unwrap_or_default();
        assert!(!status.contains("zombie"), "{name}-0 (pid {old}) est resté zombie");
    }
    let metrics = sys.http.get(&sys.stack.launcher_metrics_url).send().await.unwrap().text().await.unwrap();
    for s in SERVICES {
        let name = s.name;
        for (replica, restarts, up) in [(0, 1, 1), (1, 0, 1)] {
            let line = format!("caisse_launcher_restarts_total{{service=\"{name}\",replica=\"{replica}\"}} {restarts}");
            assert!(metrics.contains(&line), "{line} absent :\n{metrics}");
            let line = format!("caisse_launcher_replica_up{{service=\"{name}\",replica=\"{replica}\"}} {up}");
            assert!(metrics.contains(&line), "{line} absent :\n{metrics}");
        }
    }
    let log = std::fs::read_to_string(sys.stack.options().run_dir.join("logs/launcher.log")).unwrap();
    for s in SERVICES {
        assert!(log.contains(&format!("réplique {}-0 redémarrée", s.name)), "{}:\n{log}", s.name);
    }
    // The suite works through the restarted replicas.
    let cashier = sys.login("caissier1").await;
    let res = sys
        .http
        .post(sys.url("/api/paniers"))
        .header("authorization", &cashier)
        .header("idempotency-key", "supervision-0001")
        .json(&serde_json::json!({"session_id": sys.session(&cashier).await}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
}
