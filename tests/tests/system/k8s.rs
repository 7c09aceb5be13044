//! Offline validation of deploy/k8s: each variant built with kustomize
//! (`kubectl kustomize`), then every object checked against the OpenAPI schema
//! of a pinned Kubernetes version (kubernetes-validate, strict: unknown fields
//! are errors), plus what the schema cannot say: the gateway runs the rendered
//! template, production scales and survives disruptions, and never carries
//! the dev Secret.

use std::{path::PathBuf, process::Command};

use caisse_launcher::{render, topology::SERVICES};
use serde_yaml::Value;

use crate::compose_spec::deploy_tool;

/// The Kubernetes version the manifests are validated against.
const KUBERNETES_VERSION: &str = "1.33.0";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `kubectl kustomize <dir>`, validated; the objects it renders.
fn build_and_validate(dir: &str) -> Vec<Value> {
    let out = Command::new(deploy_tool("kubectl")).arg("kustomize").arg(repo().join(dir)).output().unwrap();
    assert!(out.status.success(), "kubectl kustomize {dir} : {}", String::from_utf8_lossy(&out.stderr));
    let file = std::env::temp_dir().join(format!("caisse-k8s-{}.yaml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, &out.stdout).unwrap();
    let check = Command::new(deploy_tool("kubernetes-validate"))
        .args(["--kubernetes-version", KUBERNETES_VERSION, "--strict", "--quiet"])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        check.status.success(),
        "kubernetes-validate {dir} (Kubernetes {KUBERNETES_VERSION}) :\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let objects: Vec<Value> =
        text.split("\n---\n").map(|doc| serde_yaml::from_str(doc).unwrap_or_else(|e| panic!("{dir} : {e}"))).collect();
    assert!(objects.len() > 20, "{dir} : {} objets", objects.len());
    objects
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

fn get<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    find(objects, kind, name).unwrap_or_else(|| panic!("{kind}/{name} absent"))
}

#[test]
fn the_dev_variant_builds_and_validates_and_its_gateway_runs_the_rendered_template() {
    let objects = build_and_validate("deploy/k8s");
    // Dev placeholders are accepted only with the dev flag, which only this variant sets.
    assert!(find(&objects, "Secret", "caisse-secrets").is_some(), "Secret de dev");
    assert_eq!(get(&objects, "ConfigMap", "caisse-config")["data"]["CAISSE_DEV"], "1");
    let rendered = render::render(
        render::TEMPLATE,
        &render::container_vars("resolver kube-dns.kube-system.svc.cluster.local valid=10s;"),
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(repo().join("deploy/k8s/base/gateway-nginx.conf")).unwrap(),
        rendered,
        "deploy/k8s/base/gateway-nginx.conf est périmé : \
         cargo run -p caisse-launcher -- render-gateway --k8s > deploy/k8s/base/gateway-nginx.conf"
    );
    let config = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"].as_str().unwrap().starts_with("gateway-config"))
        .expect("ConfigMap gateway-config");
    assert_eq!(config["data"]["nginx.conf"].as_str(), Some(rendered.as_str()));
    // The gateway Deployment mounts that ConfigMap (kustomize adds the hash to both).
    let gateway = get(&objects, "Deployment", "gateway");
    let volumes = format!("{:?}", gateway["spec"]["template"]["spec"]["volumes"]);
    assert!(volumes.contains(config["metadata"]["name"].as_str().unwrap()), "{volumes}");
    for s in SERVICES {
        let d = get(&objects, "Deployment", s.name);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health/ready", "{}", s.name);
        assert_eq!(c["command"][0], s.name, "{}", s.name);
        assert!(find(&objects, "Service", s.name).is_some(), "Service {}", s.name);
        assert!(find(&objects, "HorizontalPodAutoscaler", s.name).is_some(), "HPA {}", s.name);
        assert!(find(&objects, "PodDisruptionBudget", s.name).is_some(), "PDB {}", s.name);
    }
}

#[test]
fn production_scales_on_cpu_survives_disruptions_and_uses_external_datastores() {
    let objects = build_and_validate("deploy/k8s/overlays/production");
    assert!(find(&objects, "Secret", "caisse-secrets").is_none(), "le Secret de dev est déployé en production");
    assert!(get(&objects, "ConfigMap", "caisse-config")["data"]["CAISSE_DEV"].is_null(), "CAISSE_DEV en production");
    let text = serde_yaml::to_string(&objects).unwrap();
    assert!(!text.contains("dev-password") && !text.contains("dev-jwt"), "secret de dev en production");
    for name in SERVICES.iter().map(|s| s.name).chain(["gateway"]) {
        let d = get(&objects, "Deployment", name);
        let replicas = d["spec"]["replicas"].as_u64().unwrap();
        assert!(replicas >= 3, "{name} : {replicas} répliques");
        for c in d["spec"]["template"]["spec"]["containers"].as_sequence().unwrap() {
            for k in ["requests", "limits"] {
                assert!(
                    c["resources"][k]["cpu"].is_string(),
                    "{name}/{} : resources.{k}.cpu",
                    c["name"].as_str().unwrap()
                );
                assert!(
                    c["resources"][k]["memory"].is_string(),
                    "{name}/{} : resources.{k}.memory",
                    c["name"].as_str().unwrap()
                );
            }
            let image = c["image"].as_str().unwrap();
            assert!(!image.ends_with(":dev") && image.contains(':'), "{name} : image {image}");
        }
        let hpa = get(&objects, "HorizontalPodAutoscaler", name);
        assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], name);
        assert!(hpa["spec"]["minReplicas"].as_u64().unwrap() >= replicas, "{name} : HPA min");
        assert!(hpa["spec"]["maxReplicas"].as_u64().unwrap() > hpa["spec"]["minReplicas"].as_u64().unwrap());
        assert_eq!(hpa["spec"]["metrics"][0]["resource"]["name"], "cpu", "{name}");
        let pdb = get(&objects, "PodDisruptionBudget", name);
        let min = pdb["spec"]["minAvailable"].as_u64().unwrap();
        assert!(min >= 2 && min < replicas, "{name} : PDB minAvailable {min} pour {replicas} répliques");
    }
    for (name, port) in [("mysql", 3306), ("redis", 6379)] {
        let svc = get(&objects, "Service", name);
        assert_eq!(svc["spec"]["type"], "ExternalName", "{name}");
        assert!(svc["spec"]["externalName"].as_str().is_some_and(|h| h.contains('.')), "{name}");
        assert_eq!(svc["spec"]["ports"][0]["port"], port, "{name}");
    }
    let ingress = get(&objects, "Ingress", "caisse");
    assert!(ingress["spec"]["tls"][0]["secretName"].is_string(), "TLS");
}
