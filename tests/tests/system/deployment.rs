//! Static checks of what cannot run here (no Docker engine): the compose
//! file, the rendered gateway configs, Prometheus rules and Grafana boards.

use std::{path::PathBuf, process::Command};

use caisse_launcher::{render, topology::SERVICES};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path} : {e}"))
}

fn tool(name: &str) -> String {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let p = format!("{dir}/{name}");
        if std::path::Path::new(&p).exists() {
            return p;
        }
    }
    panic!("{name} introuvable : tests/run l'installe (apt-get)");
}

#[test]
fn compose_declares_the_whole_topology_with_replicas_and_healthchecks() {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&read("docker-compose.yml")).expect("yaml");
    doc.apply_merge().expect("merge keys");
    let services = doc["services"].as_mapping().expect("services");
    for name in [
        "mysql",
        "redis",
        "setup",
        "gateway",
        "prometheus",
        "grafana",
        "mysqld-exporter",
        "redis-exporter",
        "nginx-exporter",
    ] {
        assert!(services.contains_key(name), "service {name} absent");
    }
    for s in SERVICES {
        let svc = &doc["services"][s.name];
        assert!(svc["deploy"]["replicas"].as_u64().unwrap_or(0) >= 2, "{} : 2 répliques au moins", s.name);
        assert!(svc["healthcheck"]["test"].is_sequence(), "{} : healthcheck", s.name);
        let url = svc["environment"]["DATABASE_URL"].as_str().unwrap_or_default();
        assert!(
            url.contains(&format!("/caisse_{}", s.name)) && url.contains(&format!("//{}:", s.name)),
            "{} : {url}",
            s.name
        );
        assert_eq!(svc["depends_on"]["setup"]["condition"], "service_completed_successfully", "{}", s.name);
        assert!(
            svc.get("container_name").is_none() && svc.get("ports").is_none(),
            "{} : répliques sans nom ni port fixe",
            s.name
        );
    }
    let dockerfile = read("deploy/Dockerfile");
    let bins = dockerfile.lines().find_map(|l| l.strip_prefix("ARG BINS=")).expect("ARG BINS du Dockerfile");
    for s in SERVICES {
        assert!(
            bins.split(['"', ' ']).any(|b| b == s.name),
            "{} absent de l'image (deploy/Dockerfile, ARG BINS)",
            s.name
        );
    }
    let setup = doc["services"]["setup"]["command"].as_sequence().expect("setup command");
    let setup = format!("{setup:?}");
    assert!(setup.contains("caisse-launcher provision"), "{setup}");
}

#[test]
fn the_compose_gateway_config_is_the_launchers_render() {
    let rendered = render::render(render::TEMPLATE, &render::container_vars("resolver 127.0.0.11 valid=10s;")).unwrap();
    assert_eq!(
        read("gateway/nginx.compose.conf"),
        rendered,
        "gateway/nginx.compose.conf est périmé : cargo run -p caisse-launcher -- render-gateway --compose > gateway/nginx.compose.conf"
    );
}

#[test]
fn rendered_gateway_configs_pass_nginx_t() {
    let dir = std::env::temp_dir().join(format!("caisse-nginx-t-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::create_dir_all(dir.join("cache")).unwrap();
    let mut ports = std::collections::BTreeMap::new();
    for s in SERVICES {
        ports.insert(s.name, vec![18001, 18002]);
    }
    let vars = render::native_vars(&dir.to_string_lossy(), "127.0.0.1:18080", "/tmp", &ports, false);
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, render::render(render::TEMPLATE, &vars).unwrap()).unwrap();
    let out = Command::new(tool("nginx")).arg("-t").arg("-p").arg(&dir).arg("-c").arg(&conf).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "nginx -t : {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn prometheus_config_and_alert_rules_pass_promtool() {
    let promtool = tool("promtool");
    let out = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(repo().join("deploy/prometheus/alerts.yml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts = read("deploy/prometheus/alerts.yml");
    for alert in ["InstanceDown", "HighErrorRate", "HighLatencyP99", "EventLag"] {
        assert!(alerts.contains(&format!("alert: {alert}")), "{alert}");
    }
    // The compose file mounts the rules at /etc/prometheus; check a copy pointing at the repo's.
    let dir = std::env::temp_dir().join(format!("caisse-prom-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = read("prometheus.yml")
        .replace("/etc/prometheus/alerts.yml", &repo().join("deploy/prometheus/alerts.yml").to_string_lossy());
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let out = Command::new(&promtool).args(["check", "config"]).arg(dir.join("prometheus.yml")).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for s in SERVICES {
        assert!(read("prometheus.yml").contains(&format!("job_name: {}", s.name)), "job {}", s.name);
    }
}

#[test]
fn grafana_dashboards_are_valid_and_use_the_services_metrics() {
    for (file, metric) in [
        ("grafana/dashboards/golden-signals.json", "http_request_duration_seconds_bucket"),
        ("grafana/dashboards/business.json", "stock_transfers_total"),
    ] {
        let doc: serde_json::Value = serde_json::from_str(&read(file)).unwrap_or_else(|e| panic!("{file} : {e}"));
        assert!(doc["panels"].as_array().is_some_and(|p| !p.is_empty()), "{file}");
        assert!(read(file).contains(metric), "{file} : {metric}");
    }
    let ds: serde_yaml::Value = serde_yaml::from_str(&read("grafana/provisioning/datasources/prometheus.yml")).unwrap();
    assert_eq!(ds["datasources"][0]["type"], "prometheus");
}

#[test]
fn kustomization_lists_only_files_that_exist() {
    let k: serde_yaml::Value = serde_yaml::from_str(&read("deploy/k8s/base/kustomization.yaml")).unwrap();
    for r in k["resources"].as_sequence().unwrap() {
        let f = r.as_str().unwrap();
        assert!(repo().join("deploy/k8s/base").join(f).exists(), "{f}");
    }
    for s in SERVICES {
        let manifest = read(&format!("deploy/k8s/base/{}.yaml", s.name));
        for needle in
            ["kind: Deployment", "readinessProbe", "livenessProbe", "kind: HorizontalPodAutoscaler", "/health/ready"]
        {
            assert!(manifest.contains(needle), "{} : {needle}", s.name);
        }
    }
}
