//! What [`FaultProxy`](crate::FaultProxy) does to which request: a [`Rule`]
//! matches by method, path and `x-request-id` prefix, applies its [`Action`]
//! to the first N matching requests (or all), and hands back a [`RuleHandle`]
//! whose counters and hold gate the test drives.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::{Notify, Semaphore};

/// How long [`RuleHandle`]'s `wait_*` helpers wait before failing the test.
const WAIT_LIMIT: Duration = Duration::from_secs(15);

/// What happens to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Wait, then forward.
    Delay(Duration),
    /// Close the client connection without an answer; upstream never sees it.
    DropBeforeForward,
    /// Forward, let upstream answer (and commit), then close the client
    /// connection without an answer: the lost response.
    DropAfterForward,
    /// Answer this status with a small problem+json body, without forwarding.
    Status(u16),
    /// Forward only once the test calls [`RuleHandle::release`] (or
    /// [`RuleHandle::release_one`]).
    Hold,
}

/// Which paths a rule matches (the query string is not part of the path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    Any,
    Exact(String),
    Prefix(String),
    Contains(String),
}

/// A fault to inject, built fluently:
/// `Rule::post("/api/stocks/reservations").request_id_prefix("recuperation-").times(1).then(Action::Status(503))`.
/// A path given to `new`/`get`/`post`/… is a prefix (it also matches
/// `/api/stocks/reservations/{id}/liberation`); narrow it with `path_exact`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) method: Option<String>,
    pub(crate) path: PathMatch,
    pub(crate) request_id_prefix: Option<String>,
    pub(crate) times: Option<usize>,
    pub(crate) action: Action,
}

impl Rule {
    /// Every request (until narrowed); forwards unchanged until `then`.
    pub fn any() -> Self {
        Self {
            method: None,
            path: PathMatch::Any,
            request_id_prefix: None,
            times: None,
            action: Action::Delay(Duration::ZERO),
        }
    }

    /// Requests of `method` (any case) whose path starts with `prefix`.
    pub fn new(method: &str, prefix: &str) -> Self {
        Self::any().method(method).path_prefix(prefix)
    }

    pub fn get(prefix: &str) -> Self {
        Self::new("GET", prefix)
    }

    pub fn post(prefix: &str) -> Self {
        Self::new("POST", prefix)
    }

    pub fn put(prefix: &str) -> Self {
        Self::new("PUT", prefix)
    }

    pub fn delete(prefix: &str) -> Self {
        Self::new("DELETE", prefix)
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path = PathMatch::Prefix(prefix.to_owned());
        self
    }

    pub fn path_exact(mut self, path: &str) -> Self {
        self.path = PathMatch::Exact(path.to_owned());
        self
    }

    pub fn path_contains(mut self, part: &str) -> Self {
        self.path = PathMatch::Contains(part.to_owned());
        self
    }

    /// Only requests whose `x-request-id` starts with `prefix` (vente's
    /// recovery loop uses `recuperation-…`).
    pub fn request_id_prefix(mut self, prefix: &str) -> Self {
        self.request_id_prefix = Some(prefix.to_owned());
        self
    }

    /// Only the first `n` matching requests; later ones fall through to the
    /// next rule or are forwarded unchanged.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }

    pub fn then(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str, request_id: Option<&str>) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match &self.path {
            PathMatch::Any => true,
            PathMatch::Exact(p) => path == p,
            PathMatch::Prefix(p) => path.starts_with(p.as_str()),
            PathMatch::Contains(p) => path.contains(p.as_str()),
        };
        let id_ok = match &self.request_id_prefix {
            None => true,
            Some(p) => request_id.is_some_and(|id| id.starts_with(p.as_str())),
        };
        method_ok && path_ok && id_ok
    }
}

/// A rule installed in a proxy: its counters and hold gate, shared with the
/// proxy's connection tasks.
#[derive(Debug)]
pub(crate) struct RuleState {
    pub(crate) rule: Rule,
    matched: AtomicUsize,
    forwarded: AtomicUsize,
    held: AtomicUsize,
    gate: Semaphore,
    changed: Notify,
}

impl RuleState {
    pub(crate) fn new(rule: Rule) -> Arc<Self> {
        Arc::new(Self {
            rule,
            matched: AtomicUsize::new(0),
            forwarded: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            gate: Semaphore::new(0),
            changed: Notify::new(),
        })
    }

    /// Takes one unit of the rule's budget for a matching request (called
    /// under the proxy's rule lock, so budgets are exact).
    pub(crate) fn claim(&self, method: &str, path: &str, request_id: Option<&str>) -> bool {
        if !self.rule.matches(method, path, request_id) {
            return false;
        }
        if self.rule.times.is_some_and(|n| self.matched.load(Ordering::SeqCst) >= n) {
            return false;
        }
        self.matched.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        true
    }

    pub(crate) fn record_forwarded(&self) {
        self.forwarded.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Waits for the gate of a `Hold` rule (returns at once once released).
    pub(crate) async fn hold(&self) {
        self.held.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        if let Ok(permit) = self.gate.acquire().await {
            permit.forget();
        }
        self.held.fetch_sub(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub(crate) fn open(&self) {
        self.gate.close();
    }
}

/// The test's view of an installed rule.
#[derive(Debug, Clone)]
pub struct RuleHandle(pub(crate) Arc<RuleState>);

impl RuleHandle {
    /// Requests this rule has applied to so far.
    pub fn matched(&self) -> usize {
        self.0.matched.load(Ordering::SeqCst)
    }

    /// Of those, requests that reached upstream and got its answer (whether
    /// or not the client then received it).
    pub fn forwarded(&self) -> usize {
        self.0.forwarded.load(Ordering::SeqCst)
    }

    /// Requests waiting at this `Hold` rule's gate right now.
    pub fn held(&self) -> usize {
        self.0.held.load(Ordering::SeqCst)
    }

    /// Opens a `Hold` rule's gate for good: every held request goes on, and
    /// later matches are forwarded without waiting.
    pub fn release(&self) {
        self.0.open();
    }

    /// Lets exactly one held (or the next) request through.
    pub fn release_one(&self) {
        self.0.gate.add_permits(1);
    }

    /// Waits until `matched() >= n`; panics after 15 s.
    pub async fn wait_matched(&self, n: usize) {
        self.wait_for(|h| h.matched() >= n, &format!("{n} requête(s) interceptée(s)")).await;
    }

    /// Waits until `forwarded() >= n`; panics after 15 s.
    pub async fn wait_forwarded(&self, n: usize) {
        self.wait_for(|h| h.forwarded() >= n, &format!("{n} requête(s) transmise(s)")).await;
    }

    /// Waits until `held() >= n`; panics after 15 s.
    pub async fn wait_held(&self, n: usize) {
        self.wait_for(|h| h.held() >= n, &format!("{n} requête(s) retenue(s)")).await;
    }

    async fn wait_for(&self, done: impl Fn(&Self) -> bool, what: &str) {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            let changed = self.0.changed.notified();
            if done(self) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            // The notification may race the check above; a short bounded wait
            // re-checks instead of trusting it alone.
            if left.is_zero() {
                panic!(
                    "FaultProxy : {what} attendue(s) en vain après {WAIT_LIMIT:?} (interceptées {}, transmises {}, retenues {}) pour {:?}",
                    self.matched(),
                    self.forwarded(),
                    self.held(),
                    self.0.rule
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), changed).await;
        }
    }
}
