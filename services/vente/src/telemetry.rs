//! Business and saga metrics of vente.

use caisse_common::metrics::Metrics;
use prometheus::{CounterVec, HistogramOpts, HistogramVec, IntCounterVec, Opts};

#[derive(Clone)]
pub struct SaleMetrics {
    /// completed, rejected_stock, rejected_input, compensated, recovered_completed, recovered_compensated, replay
    pub outcomes: IntCounterVec,
    pub duration: HistogramVec,
    /// Time spent in each step of the saga (where a checkout's time goes).
    pub steps: HistogramVec,
    pub sales: IntCounterVec,
    pub amount: CounterVec,
}

impl SaleMetrics {
    pub fn new(m: &Metrics) -> Self {
        let service = m.service();
        let duration = HistogramVec::new(
            HistogramOpts::new("saga_duration_seconds", "Durée de la saga d'encaissement, par issue")
                .const_label("service", service)
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["outcome"],
        )
        .unwrap_or_else(|e| panic!("métrique : {e}"));
        let steps = HistogramVec::new(
            HistogramOpts::new(
                "saga_step_seconds",
                "Durée de chaque étape de la saga (panier, enregistrement, reservation, validation, fermeture)",
            )
            .const_label("service", service)
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]),
            &["step"],
        )
        .unwrap_or_else(|e| panic!("métrique : {e}"));
        let amount = CounterVec::new(
            Opts::new("ventes_montant_total", "Montant des ventes terminées (dollars, taxes comprises), par magasin")
                .const_label("service", service),
            &["magasin"],
        )
        .unwrap_or_else(|e| panic!("métrique : {e}"));
        Self {
            outcomes: m.counter_vec("saga_outcomes_total", "Issues de la saga d'encaissement", &["outcome"]),
            duration: m.register(duration),
            steps: m.register(steps),
            sales: m.counter_vec("ventes_total", "Ventes terminées, par magasin", &["magasin"]),
            amount: m.register(amount),
        }
    }

    /// Records how long `step` took since `since`, and restarts the clock.
    pub fn step(&self, step: &str, since: &mut std::time::Instant) {
        let now = std::time::Instant::now();
        self.steps.with_label_values(&[step]).observe((now - *since).as_secs_f64());
        *since = now;
    }

    pub fn outcome(&self, outcome: &str, started: std::time::Instant) {
        self.outcomes.with_label_values(&[outcome]).inc();
        self.duration.with_label_values(&[outcome]).observe(started.elapsed().as_secs_f64());
    }
}
