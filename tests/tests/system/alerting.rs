//! Alert rules: `promtool check rules`, then `promtool test rules` on the
//! unit tests of `deploy/prometheus/tests/` (`alerts.test.yml` on a 1-minute
//! grid, `slo.test.yml` on a 5-minute one for the 3-day windows), and every
//! alert of the rules file has a test that fires it and one that sees it
//! resolved.

use std::{collections::BTreeSet, path::PathBuf, process::Command};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn promtool() -> &'static str {
    ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("promtool introuvable : apt-get install -y prometheus (tests/run l'installe)")
}

#[test]
fn every_alert_fires_and_resolves_in_promtool_unit_tests() {
    let rules = repo().join("deploy/prometheus/alerts.yml");
    let tests: Vec<PathBuf> =
        ["alerts.test.yml", "slo.test.yml"].iter().map(|f| repo().join("deploy/prometheus/tests").join(f)).collect();
    let out = Command::new(promtool()).args(["check", "rules"]).arg(&rules).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(promtool()).args(["test", "rules"]).args(&tests).output().unwrap();
    assert!(
        out.status.success(),
        "promtool test rules :\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let doc: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&rules).unwrap()).unwrap();
    let alerts: BTreeSet<String> = doc["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().unwrap().iter())
        .filter_map(|r| r["alert"].as_str().map(str::to_owned))
        .collect();
    let (mut fired, mut resolved) = (BTreeSet::new(), BTreeSet::new());
    let docs: Vec<serde_yaml::Value> =
        tests.iter().map(|t| serde_yaml::from_str(&std::fs::read_to_string(t).unwrap()).unwrap()).collect();
    for t in docs.iter().flat_map(|d| d["tests"].as_sequence().unwrap()) {
        for a in t["alert_rule_test"].as_sequence().into_iter().flatten() {
            let name = a["alertname"].as_str().unwrap().to_owned();
            let empty = a["exp_alerts"].as_sequence().is_none_or(Vec::is_empty);
            if empty {
                resolved.insert(name)
            } else {
                fired.insert(name)
            };
        }
    }
    for alert in &alerts {
        assert!(fired.contains(alert), "aucun test ne déclenche {alert}");
        assert!(resolved.contains(alert), "aucun test ne voit {alert} résolue");
    }
    for slo in ["CheckoutAvailability", "CheckoutLatency", "CachedReadLatency"] {
        for kind in ["BudgetBurn", "BudgetBurnSlow"] {
            assert!(alerts.contains(&format!("{slo}{kind}")), "{slo}{kind}");
        }
    }
    for alert in
        ["InstanceDown", "EventLag", "ReportingLag", "SagaCompensations", "CacheErrors", "MySQLDown", "RedisDown"]
    {
        assert!(alerts.contains(alert), "{alert}");
    }
}
