//! Renders the gateway template (native, compose, k8s) and the native
//! Prometheus configuration.

use std::collections::BTreeMap;

use crate::topology::SERVICES;

pub const TEMPLATE: &str = include_str!("../../../gateway/nginx.conf.template");

/// Replaces every `{{NAME}}`; fails if one is left unset.
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> anyhow::Result<String> {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    if let Some(i) = out.find("{{") {
        let end = out[i..].find("}}").map_or(out.len(), |e| i + e + 2);
        anyhow::bail!("variable de gabarit non fournie : {}", &out[i..end]);
    }
    Ok(out)
}

/// Upstream lines for a list of `host:port` servers.
pub fn upstream_lines(servers: &[String]) -> String {
    servers.iter().map(|s| format!("server {s} max_fails=2 fail_timeout=5s;")).collect::<Vec<_>>().join("\n        ")
}

/// Variables shared by every target: limits that must match the services'.
fn shared_vars() -> BTreeMap<String, String> {
    let limit = caisse_common::server::BODY_LIMIT;
    let mut vars = BTreeMap::new();
    vars.insert("BODY_LIMIT".into(), limit.to_string());
    vars.insert("BODY_LIMIT_TEXT".into(), format!("{} Kio", limit / 1024));
    vars
}

/// Variables for the native run.
pub fn native_vars(
    run_dir: &str,
    listen: &str,
    frontend_dir: &str,
    ports: &BTreeMap<&'static str, Vec<u16>>,
    as_root: bool,
) -> BTreeMap<String, String> {
    let mut vars = shared_vars();
    vars.insert("USER_DIRECTIVE".into(), if as_root { "user root;".into() } else { String::new() });
    vars.insert("RUN_DIR".into(), run_dir.into());
    vars.insert("LISTEN".into(), listen.into());
    vars.insert("FRONTEND_DIR".into(), frontend_dir.into());
    vars.insert("RESOLVER".into(), String::new());
    vars.insert("WORKER_PROCESSES".into(), "2".into());
    for s in SERVICES {
        let servers: Vec<String> =
            ports.get(s.name).map(|p| p.iter().map(|p| format!("127.0.0.1:{p}")).collect()).unwrap_or_default();
        vars.insert(s.upstream_var.into(), upstream_lines(&servers));
    }
    vars
}

/// Variables for docker compose / Kubernetes: services by DNS name on port 8000.
pub fn container_vars(resolver: &str) -> BTreeMap<String, String> {
    let mut vars = shared_vars();
    vars.insert("USER_DIRECTIVE".into(), String::new());
    vars.insert("RUN_DIR".into(), "/var/cache/nginx/caisse".into());
    vars.insert("LISTEN".into(), "8080".into());
    vars.insert("FRONTEND_DIR".into(), "/srv/frontend".into());
    vars.insert("RESOLVER".into(), resolver.into());
    vars.insert("WORKER_PROCESSES".into(), "auto".into());
    for s in SERVICES {
        vars.insert(s.upstream_var.into(), upstream_lines(&[format!("{}:8000", s.name)]));
    }
    vars
}

/// A Prometheus config scraping every native replica, plus `others`
/// (job, `host:port`): the launcher's own metrics and the exporters.
pub fn prometheus_config(
    ports: &BTreeMap<&'static str, Vec<u16>>,
    rule_files: &[String],
    others: &[(&str, String)],
) -> String {
    let rules: String = rule_files.iter().map(|f| format!("  - {f}\n")).collect();
    let mut out = format!(
        "# Rendered by caisse-launcher for the native run.\nglobal:\n  scrape_interval: 5s\n  evaluation_interval: 5s\nrule_files:\n{rules}scrape_configs:\n"
    );
    let mut job = |name: &str, targets: Vec<String>| {
        out.push_str(&format!(
            "  - job_name: {name}\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ));
    };
    for s in SERVICES {
        job(
            s.name,
            ports.get(s.name).map(|p| p.iter().map(|p| format!("'127.0.0.1:{p}'")).collect()).unwrap_or_default(),
        );
    }
    for (name, target) in others {
        job(name, vec![format!("'{target}'")]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled_for_each_target() {
        let mut ports = BTreeMap::new();
        for s in SERVICES {
            ports.insert(s.name, vec![1000, 1001]);
        }
        let native = render(TEMPLATE, &native_vars("/tmp/x", "127.0.0.1:8080", "/srv", &ports, false)).unwrap();
        assert!(native.contains("server 127.0.0.1:1001 max_fails=2"));
        let compose = render(TEMPLATE, &container_vars("resolver 127.0.0.11 valid=10s;")).unwrap();
        assert!(compose.contains("server produit:8000"));
        let limit = format!("client_max_body_size {};", caisse_common::server::BODY_LIMIT);
        assert!(native.contains(&limit) && compose.contains(&limit), "one body limit, the services' own");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = render("a {{NOPE}} b", &BTreeMap::new()).unwrap_err().to_string();
        assert!(err.contains("{{NOPE}}"), "{err}");
    }
}
