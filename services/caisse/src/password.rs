//! Password hashing with argon2id (default parameters), off the async
//! runtime, at most a few at a time.
//!
//! Each argon2 computation takes 19 MiB and a core for a while. Left to
//! tokio's blocking pool (up to 512 threads), a burst of logins ran hundreds
//! at once (2.7 GB for 200 logins), and even a few at a time on that pool left
//! 19 MiB in the malloc arena of every thread that ever hashed. The
//! [`Hasher`] owns one thread per core, the only threads that hash; other
//! requests wait briefly in a bounded queue, then get 503 with `Retry-After`.

use std::{
    cell::RefCell,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version,
    password_hash::{Output, SaltString, rand_core::OsRng},
};
use caisse_common::ApiError;

pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hachage argon2 : {e}")))
}

thread_local! {
    /// argon2's working memory, allocated once per hashing thread and reused:
    /// a fresh 19 MiB per login would stay behind in malloc's arenas.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Checks `password` against a PHC string, reusing this thread's memory.
pub fn verify(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        let needed = argon2.params().block_count();
        if blocks.len() < needed {
            blocks.resize(needed, Block::new());
        }
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..needed])
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// How long a login waits for a free hashing slot before being told to retry.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Requests allowed to wait, per hashing slot; more are refused at once.
const QUEUE_PER_SLOT: usize = 16;

const BUSY: &str = "Trop de connexions en même temps : réessayez dans un instant.";

type Job = Box<dyn FnOnce() + Send>;

/// Runs argon2 computations on its own threads, one per slot.
pub struct Hasher {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    jobs: mpsc::Sender<Job>,
}

impl Hasher {
    /// As many slots (and hashing threads) as the machine has cores.
    pub fn per_core() -> anyhow::Result<Self> {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Starts `slots` hashing threads; they stop when the hasher is dropped.
    pub fn new(slots: usize) -> anyhow::Result<Self> {
        let slots = slots.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..slots {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
                loop {
                    let next = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })?;
        }
        Ok(Self {
            slots: Arc::new(tokio::sync::Semaphore::new(slots)),
            waiting: AtomicUsize::new(0),
            max_waiting: slots * QUEUE_PER_SLOT,
            jobs,
        })
    }

    /// Runs `work` once a slot is free; 503 when the queue is full or the
    /// wait exceeds [`QUEUE_WAIT`].
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(ApiError::Unavailable(BUSY.into()));
                }
                let waited = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned()).await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                match waited {
                    Ok(Ok(p)) => p,
                    _ => return Err(ApiError::Unavailable(BUSY.into())),
                }
            }
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _slot = permit;
            let _ = done.send(catch_unwind(AssertUnwindSafe(work)));
        });
        self.jobs.send(job).map_err(|_| ApiError::Internal(anyhow::anyhow!("fils de hachage arrêtés")))?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(ApiError::Internal(anyhow::anyhow!("panique pendant le hachage"))),
            Err(_) => Err(ApiError::Internal(anyhow::anyhow!("tâche de hachage perdue"))),
        }
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || hash(&password)).await?
    }

    /// Checks a password against a stored hash.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, ApiError> {
        self.run(move || verify(&password, &hash)).await
    }
}

/// A hash verified when the login is unknown, so both paths cost the same.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0NkLJe6UMtsvbN0qE4Hf7Cj9G5YR3rQqKfYMC0sG9aQ";

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = super::hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &h));
        assert!(!super::verify("wrong horse", &h));
        assert!(!super::verify("x", "not a hash"));
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_and_the_queue_is_served_when_the_slot_frees() {
        use std::sync::{Arc, atomic::Ordering};
        let hasher = Arc::new(super::Hasher::new(1).unwrap());
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = {
            let h = hasher.clone();
            tokio::spawn(async move { h.run(move || hold.recv().ok()).await })
        };
        while hasher.slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let queued: Vec<_> = (0..hasher.max_waiting)
            .map(|_| {
                let h = hasher.clone();
                tokio::spawn(async move { h.run(|| ()).await })
            })
            .collect();
        while hasher.waiting.load(Ordering::SeqCst) < hasher.max_waiting {
            tokio::task::yield_now().await;
        }
        let refused = hasher.run(|| ()).await.unwrap_err();
        assert_eq!(refused.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap().unwrap(), Some(()));
        for q in queued {
            q.await.unwrap().unwrap();
        }
        assert_eq!(hasher.waiting.load(Ordering::SeqCst), 0);
    }
}
