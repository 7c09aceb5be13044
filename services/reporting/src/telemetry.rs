//! Metrics of the event consumer: events by stream, type and outcome, lag
//! in entries and seconds, last applied id per producer.

use caisse_common::{events::Envelope, metrics::Metrics};
use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts};

use crate::apply::Outcome;

#[derive(Clone)]
pub struct ReportMetrics {
    /// By producer stream, type and outcome (applique, doublon, trou, ignore).
    events: IntCounterVec,
    last_id: IntGaugeVec,
    lag_entries: IntGaugeVec,
    lag_seconds: GaugeVec,
    /// Events fetched from a producer's feed rather than its stream.
    pub backfilled: IntCounterVec,
}

fn must<T>(r: prometheus::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("métrique : {e}"))
}

impl ReportMetrics {
    pub fn new(m: &Metrics) -> Self {
        let opts = |name: &str, help: &str| Opts::new(name, help).const_label("service", m.service());
        Self {
            events: m.counter_vec(
                "reporting_events_total",
                "Événements reçus, par flux, type et issue (applique, doublon, trou, ignore)",
                &["flux", "type", "issue"],
            ),
            last_id: m.register(must(IntGaugeVec::new(
                opts("reporting_last_applied_id", "Dernier identifiant d'événement appliqué, par producteur"),
                &["producteur"],
            ))),
            lag_entries: m.register(must(IntGaugeVec::new(
                opts("reporting_consumer_lag_entries", "Événements publiés par le producteur et pas encore appliqués"),
                &["producteur"],
            ))),
            lag_seconds: m.register(must(GaugeVec::new(
                opts(
                    "reporting_consumer_lag_seconds",
                    "Retard du dernier événement appliqué sur son producteur (secondes)",
                ),
                &["producteur"],
            ))),
            backfilled: m.counter_vec(
                "reporting_backfilled_total",
                "Événements relus depuis le flux HTTP d'un producteur (trous comblés)",
                &["producteur"],
            ),
        }
    }

    pub fn count(&self, env: &Envelope, outcome: Outcome) {
        self.events.with_label_values(&[env.producteur.stream(), &env.kind, outcome.label()]).inc();
    }

    pub fn applied(&self, env: &Envelope, outcome: Outcome) {
        self.count(env, outcome);
        let p = env.producteur.as_str();
        self.last_id.with_label_values(&[p]).set(env.id);
        let lag = (chrono::Utc::now() - env.survenu_le).num_milliseconds().max(0) as f64 / 1000.0;
        self.lag_seconds.with_label_values(&[p]).set(lag);
    }

    /// After reading a producer's feed: how far behind its newest event we are.
    pub fn behind(&self, producer: &str, entries: i64) {
        self.lag_entries.with_label_values(&[producer]).set(entries.max(0));
        if entries <= 0 {
            self.lag_seconds.with_label_values(&[producer]).set(0.0);
        }
    }
}
