//! Schema fuzzing: schemathesis (pinned in tests/fuzz/requirements.txt,
//! installed by deploy/ensure-deps) against every service's OpenAPI document
//! through the gateway, authenticated as admin and as a caissier, with a fixed
//! example budget per operation: no 5xx, no status code the document does not
//! list, no body outside its documented schema or content type.
//!
//! Bounded for CI (`FUZZ_EXEMPLES`, default 10 examples per operation,
//! fixed seed, examples and fuzzing phases); `FUZZ_COMPLET=1` adds the
//! coverage phase (every boundary of every schema) and runs 100 per operation. Outputs and
//! JUnit reports: target/fuzz/<service>-<caller>.{txt,xml}. One worker: the
//! tool's Python compiles schemas in threads, which CPython 3.11 may fail at.

use std::{path::PathBuf, process::Stdio, time::Instant};

use crate::harness::Sys;

const SERVICES: [&str; 6] = ["caisse", "produit", "stock", "panier", "vente", "reporting"];

fn schemathesis() -> PathBuf {
    if let Ok(bin) = std::env::var("SCHEMATHESIS") {
        return PathBuf::from(bin);
    }
    let pins = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/requirements.txt")).unwrap();
    let pin = pins.lines().find(|l| l.starts_with("schemathesis==")).expect("schemathesis épinglé");
    let dir = std::env::var("CAISSE_TOOLS_DIR")
        .unwrap_or_else(|_| format!("{}/.cache/caisse", std::env::var("HOME").unwrap_or_default()));
    let bin = PathBuf::from(dir).join(pin.replace("==", "-")).join("bin/schemathesis");
    assert!(bin.exists(), "{} absent : lancez deploy/ensure-deps", bin.display());
    bin
}

/// schemathesis' "N generated, N passed" line (or its failure count).
fn summary(out: &str) -> String {
    let mut lines = out.lines().map(str::trim).skip_while(|l| !l.starts_with("Test cases:"));
    lines.nth(1).unwrap_or("(pas de résumé)").to_owned()
}

#[tokio::test]
async fn every_service_survives_schema_fuzzing_as_admin_and_as_a_caissier() {
    let bin = schemathesis();
    let full = std::env::var("FUZZ_COMPLET").is_ok_and(|v| v == "1");
    let examples: u32 =
        std::env::var("FUZZ_EXEMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(if full { 100 } else { 10 });
    let sys = Sys::start().await;
    let callers = [("admin", sys.login("admin").await), ("caissier", sys.login("caissier1").await)];
    // Kept after the run (the stack's directory is removed with it).
    let reports = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/fuzz"));
    std::fs::create_dir_all(&reports).unwrap();
    let started = Instant::now();
    let run = |service: &'static str, who: &'static str, token: String| {
        let (bin, reports) = (bin.clone(), reports.clone());
        let doc = sys.url(&format!("/openapi/{service}.json"));
        let gateway = sys.stack.gateway_url.clone();
        async move {
            let junit = reports.join(format!("{service}-{who}.xml"));
            let t = Instant::now();
            let out = tokio::process::Command::new(&bin)
                .args(["run", &doc, "--url", &gateway])
                .args(["--header", &format!("Authorization: {token}")])
                .args([
                    "--checks",
                    "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance",
                ])
                // The coverage phase (every boundary of every schema: minutes
                // for stock alone on a busy machine) runs in the full mode.
                .args(["--phases", if full { "examples,coverage,fuzzing" } else { "examples,fuzzing" }])
                .args(["--max-examples", &examples.to_string(), "--seed", "20261126", "--workers", "1"])
                .args(["--request-timeout", "20", "--suppress-health-check", "all", "--no-color"])
                .args(["--generation-database", "none", "--generation-with-security-parameters", "false"])
                .args(["--report", "junit", "--report-junit-path"])
                .arg(&junit)
                .current_dir(&reports)
                .stdin(Stdio::null())
                .output()
                .await
                .unwrap();
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            std::fs::write(reports.join(format!("{service}-{who}.txt")), &text).unwrap();
            let figure = format!("{service} ({who}, {:.0} s) : {}", t.elapsed().as_secs_f64(), summary(&text));
            let failure = (!out.status.success()).then(|| format!("── {service} en tant que {who} ──\n{text}"));
            (figure, failure)
        }
    };
    // Both callers of a service at once: most of a run's time is the tool
    // starting and loading the document, not requests.
    let mut failures = Vec::new();
    let mut figures = Vec::new();
    for service in SERVICES {
        let [(a, admin), (c, caissier)] = callers.clone();
        let (x, y) = tokio::join!(run(service, a, admin), run(service, c, caissier));
        for (figure, failure) in [x, y] {
            figures.push(figure);
            failures.extend(failure);
        }
    }
    println!(
        "fuzzing ({examples} exemples par opération, {:.0} s en tout) :\n{}",
        started.elapsed().as_secs_f64(),
        figures.join("\n")
    );
    assert!(failures.is_empty(), "{} exécutions en échec :\n{}", failures.len(), failures.join("\n"));
}
