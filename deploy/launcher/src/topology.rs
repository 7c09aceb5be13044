//! What runs: the services, their replicas, schemas, users and environment.

/// A service of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    pub name: &'static str,
    /// Replicas started natively (every hot service runs at least two).
    pub replicas: usize,
    /// Upstream variable in the gateway template.
    pub upstream_var: &'static str,
}

/// The services, in start order (caisse first: others call it; reporting
/// last: it reads the others' feeds).
pub const SERVICES: &[Service] = &[
    Service { name: "caisse", replicas: 2, upstream_var: "UPSTREAM_CAISSE" },
    Service { name: "produit", replicas: 2, upstream_var: "UPSTREAM_PRODUIT" },
    Service { name: "stock", replicas: 2, upstream_var: "UPSTREAM_STOCK" },
    Service { name: "panier", replicas: 2, upstream_var: "UPSTREAM_PANIER" },
    Service { name: "vente", replicas: 2, upstream_var: "UPSTREAM_VENTE" },
    Service { name: "reporting", replicas: 2, upstream_var: "UPSTREAM_REPORTING" },
];

/// Database credentials of one service.
#[derive(Debug, Clone)]
pub struct DbAccount {
    pub schema: String,
    pub user: String,
    pub password: String,
}

impl DbAccount {
    /// `prefix` namespaces schemas and users (`caisse_` natively, unique in tests).
    pub fn for_service(prefix: &str, service: &str, password: Option<String>) -> Self {
        let env_var = format!("DB_PASSWORD_{}", service.to_ascii_uppercase());
        let password = password
            .or_else(|| std::env::var(&env_var).ok().filter(|p| !p.is_empty()))
            // Dev-only default, the same as the services' own default URL.
            .unwrap_or_else(|| format!("{service}-dev-password"));
        let user = if prefix == "caisse_" { service.to_owned() } else { format!("{prefix}{service}") };
        Self { schema: format!("{prefix}{service}"), user, password }
    }

    pub fn url(&self, host_port: &str) -> String {
        format!("mysql://{}:{}@{host_port}/{}", self.user, self.password, self.schema)
    }
}
