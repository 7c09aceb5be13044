//! A burst of logins against one caisse replica: password hashing runs a few
//! at a time, the rest wait briefly or are told to retry; the replica's
//! memory stays bounded (measured on the launcher's replica process).

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Sys, is_problem};

/// VmHWM (peak) and VmRSS of a process, in MiB, from /proc/<pid>/status.
fn memory_mib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} absent de /proc/{pid}/status"))
            / 1024
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[tokio::test]
async fn a_burst_of_200_logins_answers_each_and_keeps_the_replicas_memory_bounded() {
    let sys = Sys::start().await;
    let replica = sys.stack.replica_urls("caisse")[0].clone();
    let pid = sys.stack.replica_pid("caisse", 0).unwrap();
    let (peak_before, rss_before) = memory_mib(pid);
    let answers = join_all((0..200).map(|i| {
        let (login, password) = match i % 4 {
            0 => ("caissier1", "demo1234"),
            1 => ("gerant1", "demo1234"),
            2 => ("caissier2", "mauvais-mot"),
            _ => ("inconnu", "demo1234"),
        };
        let http = sys.http.clone();
        let url = format!("{replica}/api/auth/login");
        async move {
            let res = http.post(url).json(&json!({"login": login, "mot_de_passe": password})).send().await.unwrap();
            let retry_after = res.headers().get("retry-after").is_some();
            (res.status(), retry_after, is_problem(&res))
        }
    }))
    .await;
    let (peak, rss) = memory_mib(pid);
    let count = |s: StatusCode| answers.iter().filter(|a| a.0 == s).count();
    println!(
        "200 connexions simultanées sur {replica} (pid {pid}) : {} × 200, {} × 401, {} × 429, {} × 503 ; \
         mémoire de la réplique avant {rss_before} Mio (pic {peak_before}), après {rss} Mio, pic pendant la rafale {peak} Mio",
        count(StatusCode::OK),
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::TOO_MANY_REQUESTS),
        count(StatusCode::SERVICE_UNAVAILABLE),
    );
    for (status, retry_after, problem) in &answers {
        match *status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => assert!(*problem, "401 sans problem+json"),
            // 503: too many hashes at once; 429: the failing logins (caissier2,
            // inconnu) get locked after ten failures in a row.
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
                assert!(*retry_after && *problem, "{status} sans Retry-After ou problem+json")
            }
            other => panic!("réponse inattendue à une connexion : {other}"),
        }
    }
    assert!(count(StatusCode::OK) > 0, "aucune connexion n'a abouti");
    assert!(peak < 200, "pic mémoire de la réplique caisse : {peak} Mio (borne 200 Mio)");
    // The replica still serves a login at once afterwards.
    let res = sys
        .http
        .post(format!("{replica}/api/auth/login"))
        .json(&json!({"login": "caissier1", "mot_de_passe": "demo1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
