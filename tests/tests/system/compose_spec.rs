//! Static checks of docker-compose.yml and deploy/Dockerfile (deploy/compose-check
//! brings the stack up for real, under podman; too long for every test run):
//! the current Compose Specification schema, docker-compose 1.29 (the runner
//! of compose-check) accepting the file, pinned images that stand-ins can
//! replace, secrets from `.env` only, volumes, healthchecks, the Dockerfile's
//! dependency layer and runtime user.

use std::{collections::BTreeSet, path::PathBuf, process::Command};

use caisse_launcher::topology::SERVICES;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path} : {e}"))
}

/// A validator installed by `deploy/ensure-deps` (WITH_DEPLOY_CHECKS=1, set by tests/run).
pub fn deploy_tool(name: &str) -> PathBuf {
    let dir = std::env::var("CAISSE_TOOLS")
        .unwrap_or_else(|_| format!("{}/.cache/caisse-tools", std::env::var("HOME").unwrap_or_default()));
    let path = PathBuf::from(dir).join("bin").join(name);
    assert!(path.exists(), "{} introuvable : WITH_DEPLOY_CHECKS=1 deploy/ensure-deps l'installe", path.display());
    path
}

fn compose() -> serde_yaml::Value {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&read("docker-compose.yml")).expect("yaml");
    doc.apply_merge().expect("merge keys");
    doc
}

/// `${NAME:-default}` → (NAME, default).
fn image_variable(image: &str) -> Option<(&str, &str)> {
    image.strip_prefix("${")?.strip_suffix('}')?.split_once(":-")
}

fn variables_used(text: &str) -> BTreeSet<String> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

#[test]
fn compose_file_follows_the_current_compose_specification() {
    let out = Command::new(deploy_tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(repo().join("docker-compose.yml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker-compose.yml hors spécification Compose :\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn docker_compose_1_29_accepts_the_file_with_the_example_settings() {
    // deploy/compose-check runs the file with docker-compose 1.29 (Debian)
    // through podman's Docker-compatible socket: the file must stay within
    // what it knows, with the settings deploy/compose-env writes.
    let dir = std::env::temp_dir().join(format!("caisse-compose-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = Command::new(repo().join("deploy/compose-env")).output().unwrap();
    assert!(env.status.success(), "{}", String::from_utf8_lossy(&env.stderr));
    let env_text = String::from_utf8(env.stdout).unwrap();
    for line in env_text.lines().filter(|l| l.contains("PASSWORD") || l.contains("SECRET")) {
        let value = line.split_once('=').map(|(_, v)| v).unwrap_or_default();
        assert!(value.len() >= 32 && value.chars().all(|c| c.is_ascii_alphanumeric()), "secret généré : {line}");
    }
    std::fs::write(dir.join("env"), &env_text).unwrap();
    let run = |env_file: &str| {
        Command::new("docker-compose")
            .args(["--project-name", "caisse-static", "--env-file", env_file, "-f"])
            .arg(repo().join("docker-compose.yml"))
            .args(["config", "-q"])
            .output()
            .expect("docker-compose (1.29) : WITH_DEPLOY_CHECKS=1 deploy/ensure-deps l'installe")
    };
    let ok = run(&dir.join("env").to_string_lossy());
    // The example itself has empty secrets: compose must refuse it, naming one.
    let refused = run(&repo().join(".env.example").to_string_lossy());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok.status.success(), "docker-compose config : {}", String::from_utf8_lossy(&ok.stderr));
    assert!(!refused.status.success(), "des secrets vides sont acceptés");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("PASSWORD") || err.contains("JWT_SECRET"), "{err}");
}

#[test]
fn every_image_is_pinned_and_replaceable_by_a_variable() {
    let text = read("docker-compose.yml");
    let example = read(".env.example");
    let standins = read("deploy/compose/standins/Containerfile");
    let check = read("deploy/compose-check");
    let images: Vec<&str> = text.lines().filter_map(|l| l.trim_start().strip_prefix("image: ")).collect();
    assert!(images.len() >= 9, "{images:?}");
    for image in images {
        let (var, default) = image_variable(image).unwrap_or_else(|| panic!("{image} : pas de ${{VAR:-image}}"));
        assert!(example.contains(&format!("# {var}={default}\n")), ".env.example ne documente pas {var}={default}");
        if var == "CAISSE_IMAGE" {
            // Built from deploy/Dockerfile by `docker compose build`.
            assert!(text.contains("dockerfile: deploy/Dockerfile"), "{image}");
        } else {
            let tag = default.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
            let parts: Vec<&str> = tag.trim_start_matches('v').split('.').collect();
            assert!(
                parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())),
                "{default} n'est pas épinglé (x.y.z)"
            );
        }
        if var != "GRAFANA_IMAGE" {
            // deploy/compose-check replaces it with a stand-in built from a Containerfile stage.
            let stage = check
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{var}=localhost/caisse-standin/")))
                .and_then(|s| s.split(':').next())
                .unwrap_or_else(|| panic!("{var} : pas de remplaçant dans deploy/compose-check"));
            assert!(standins.contains(&format!(" AS {stage}\n")), "{var} : étape {stage} absente du Containerfile");
        }
    }
}

#[test]
fn secrets_come_from_the_env_file_only() {
    let text = read("docker-compose.yml");
    let example = read(".env.example");
    let used = variables_used(&text);
    for var in &used {
        assert!(example.contains(&format!("{var}=")), "{var} absent de .env.example");
        if var.contains("PASSWORD") || var.contains("SECRET") {
            // Required (`:?`), never a default in the committed file.
            assert!(
                !text.contains(&format!("${{{var}:-")) && !text.contains(&format!("${{{var}}}")),
                "{var} a un défaut"
            );
            assert!(text.contains(&format!("${{{var}:?")), "{var} n'est pas exigé");
            assert!(example.contains(&format!("\n{var}=\n")), ".env.example : {var} doit rester vide");
        }
    }
    assert!(used.contains("JWT_SECRET") && used.contains("MYSQL_ROOT_PASSWORD"), "{used:?}");
    assert!(!text.contains("dev-password") && !text.contains("dev-jwt"), "un secret de dev dans docker-compose.yml");
    assert!(read(".gitignore").lines().any(|l| l == "/.env"), ".env doit être ignoré par git");
}

#[test]
fn data_lives_in_named_volumes_and_redis_keeps_an_append_only_file() {
    let doc = compose();
    for (svc, volume, path) in [
        ("mysql", "mysql-data", "/var/lib/mysql"),
        ("redis", "redis-data", "/data"),
        ("grafana", "grafana-data", "/var/lib/grafana"),
    ] {
        assert!(doc["volumes"].as_mapping().unwrap().contains_key(volume), "volume {volume}");
        let mounts = format!("{:?}", doc["services"][svc]["volumes"]);
        assert!(mounts.contains(&format!("{volume}:{path}")), "{svc} : {volume}:{path} absent de {mounts}");
    }
    let redis = format!("{:?}", doc["services"]["redis"]["command"]);
    assert!(redis.contains("--appendonly") && redis.contains("yes"), "{redis}");
}

#[test]
fn services_are_healthy_only_when_ready_and_the_gateway_waits_for_them() {
    let doc = compose();
    for s in SERVICES {
        let svc = &doc["services"][s.name];
        let test = format!("{:?}", svc["healthcheck"]["test"]);
        assert!(test.contains("/health/ready"), "{} : {test}", s.name);
        assert_eq!(svc["depends_on"]["mysql"]["condition"], "service_healthy", "{}", s.name);
        assert_eq!(svc["depends_on"]["redis"]["condition"], "service_healthy", "{}", s.name);
        assert_eq!(doc["services"]["gateway"]["depends_on"][s.name]["condition"], "service_healthy", "{}", s.name);
        assert_eq!(svc["restart"], "unless-stopped", "{}", s.name);
    }
    for infra in ["mysql", "redis", "gateway", "prometheus"] {
        assert!(doc["services"][infra]["healthcheck"]["test"].is_sequence(), "{infra} : healthcheck");
    }
}

#[test]
fn the_dockerfile_caches_dependencies_and_runs_as_a_non_root_user() {
    let dockerfile = read("deploy/Dockerfile");
    let workspace: toml_lite::Members = toml_lite::members(&read("Cargo.toml"));
    let froms: Vec<&str> = dockerfile.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "build + runtime : {froms:?}");
    for f in &froms {
        let image = f.split_whitespace().nth(1).unwrap();
        let tag = image.split_once(':').map(|(_, t)| t).unwrap_or_default();
        assert!(
            tag.chars().next().is_some_and(|c| c.is_ascii_digit()) || tag.contains("-20"),
            "{f} : image non épinglée"
        );
    }
    // The dependency layer: every member's manifest is copied and stubbed
    // before the sources, so a new crate cannot be forgotten there.
    let sources_at = dockerfile.find("COPY . .").expect("COPY . .");
    for m in &workspace.0 {
        let copy = dockerfile.find(&format!("COPY {m}/Cargo.toml {m}/")).unwrap_or_else(|| panic!("{m} : manifeste"));
        assert!(copy < sources_at, "{m} : manifeste copié après les sources");
        assert!(
            dockerfile[..sources_at].contains(&format!(" {m} "))
                || dockerfile[..sources_at].contains(&format!(" {m};")),
            "{m} : pas de crate vide"
        );
    }
    let deps_build = dockerfile.find("cargo build --release --locked").unwrap();
    assert!(deps_build < sources_at, "les dépendances se compilent avant la copie des sources");
    let user = dockerfile.lines().rev().find_map(|l| l.strip_prefix("USER ")).expect("USER");
    assert!(!user.starts_with('0') && !user.starts_with("root"), "USER {user}");
}

/// The `members` array of the workspace manifest (no TOML dependency for one list).
mod toml_lite {
    pub struct Members(pub Vec<String>);

    pub fn members(manifest: &str) -> Members {
        let line = manifest.lines().find(|l| l.trim_start().starts_with("members")).expect("members");
        Members(line.split('"').skip(1).step_by(2).map(str::to_owned).collect())
    }
}

/// The opt-in `charge` profile runs the synthetic cashiers from the suite's
/// image (never started by a plain `up`), every binary a compose command
/// names is shipped by the Dockerfile, and the Redis exporter watches the
/// event streams.
#[test]
fn the_charge_profile_is_opt_in_and_every_commanded_binary_is_in_the_image() {
    let doc = compose();
    let charge = &doc["services"]["charge"];
    assert_eq!(format!("{:?}", charge["profiles"]), format!("{:?}", doc_seq(&["charge"])), "profil charge");
    assert_eq!(charge["depends_on"]["gateway"]["condition"], "service_healthy");
    assert_eq!(charge["environment"]["CHARGE_PASSERELLE"], "http://gateway:8080");
    let dockerfile = read("deploy/Dockerfile");
    let bins = dockerfile.lines().find_map(|l| l.strip_prefix("ARG BINS=")).unwrap().trim_matches('"').to_owned();
    let bins: Vec<&str> = bins.split_whitespace().collect();
    for (name, svc) in doc["services"].as_mapping().unwrap() {
        let image = svc["image"].as_str().unwrap_or_default();
        if !image.contains("CAISSE_IMAGE") {
            continue;
        }
        let command: Vec<&str> = svc["command"].as_sequence().unwrap().iter().filter_map(|c| c.as_str()).collect();
        // `sh -c "a && B=x b"`: the first word of each step that is not an assignment.
        let programs: Vec<&str> = match command.as_slice() {
            ["sh", "-c", script] => {
                script.split("&&").filter_map(|step| step.split_whitespace().find(|w| !w.contains('='))).collect()
            }
            _ => vec![command[0]],
        };
        assert!(!programs.is_empty(), "{name:?}");
        for program in programs {
            assert!(bins.contains(&program), "{name:?} lance {program}, absent de ARG BINS : {bins:?}");
        }
    }
    assert!(bins.contains(&"caisse-charge"), "{bins:?}");
    let streams = &doc["services"]["redis-exporter"]["environment"]["REDIS_EXPORTER_CHECK_STREAMS"];
    assert_eq!(streams, "caisse:evenements:*");
}

fn doc_seq(items: &[&str]) -> serde_yaml::Value {
    serde_yaml::Value::Sequence(items.iter().map(|s| serde_yaml::Value::String((*s).to_owned())).collect())
}
