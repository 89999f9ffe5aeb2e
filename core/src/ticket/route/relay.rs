//! The outbox relay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::Route;
use crate::error::{DeliveryError, StoreError};
use crate::ticket::privacy::redact;
use crate::ticket::store::{OutboxItem, OutboxKind};
use crate::ticket::TicketStore;

/// How failed deliveries are retried.
///
/// ```
/// use civic_router::ticket::route::RetryPolicy;
/// use std::time::Duration;
/// let p = RetryPolicy { max_attempts: 5, base: Duration::from_secs(2),
///                       max: Duration::from_secs(60), jitter: 0.0 };
/// assert_eq!(p.delay(1), Duration::from_secs(2));
/// assert_eq!(p.delay(3), Duration::from_secs(8));
/// assert_eq!(p.delay(10), Duration::from_secs(60));
/// let j = RetryPolicy { jitter: 0.5, ..p };
/// assert!((Duration::from_secs(4)..=Duration::from_secs(8)).contains(&j.delay(3)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts before the dead-letter table (at least 1).
    pub max_attempts: u32,
    /// The delay after the first failure; doubled after each further one.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Share of the delay drawn at random (0: none; 0.5: between half and all of it), so
    /// retries of many rows to one department do not arrive together.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(5),
            max: Duration::from_secs(3600),
            jitter: 0.5,
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after `failures` failures (from 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(31);
        let d = self
            .base
            .checked_mul(1u32 << exp)
            .unwrap_or(self.max)
            .min(self.max);
        let j = self.jitter.clamp(0.0, 1.0);
        if j == 0.0 {
            return d;
        }
        d.mul_f64(1.0 - j * fastrand::f64())
    }
}

/// What one pass of the relay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayReport {
    /// Rows taken from the outbox.
    pub claimed: usize,
    /// Delivered.
    pub sent: usize,
    /// Failed, to be retried.
    pub retried: usize,
    /// Moved to the dead-letter table.
    pub dead: usize,
}

/// Delivers the outbox: departments' cases through their routes, citizens' notifications and
/// appointment reminders through the route of their channel.
///
/// Each pass claims the due rows (leasing them, so a crashed relay's rows come back), sends
/// them concurrently with at most `per_target` in flight per department or channel — a slow
/// department holds only its own rows — and records each result: sent; failed and retried
/// after [`RetryPolicy::delay`]; or, after `max_attempts` or a permanent failure, moved to the
/// dead-letter table.
pub struct Relay {
    store: Arc<dyn TicketStore>,
    departments: HashMap<String, Arc<dyn Route>>,
    channels: HashMap<String, Arc<dyn Route>>,
    default_department: Option<Arc<dyn Route>>,
    default_channel: Option<Arc<dyn Route>>,
    retry: RetryPolicy,
    per_target: usize,
    batch: usize,
    lease: chrono::Duration,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("departments", &self.departments.keys().collect::<Vec<_>>())
            .field("channels", &self.channels.keys().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .field("per_target", &self.per_target)
            .finish()
    }
}

impl Relay {
    /// A relay over a store, with the default retry policy, 4 rows in flight per target,
    /// batches of 256 rows and a 5-minute lease.
    pub fn new(store: Arc<dyn TicketStore>) -> Relay {
        Relay {
            store,
            departments: HashMap::new(),
            channels: HashMap::new(),
            default_department: None,
            default_channel: None,
            retry: RetryPolicy::default(),
            per_target: 4,
            batch: 256,
            lease: chrono::Duration::minutes(5),
            limits: Mutex::new(HashMap::new()),
        }
    }

    /// The route of a department.
    pub fn department(mut self, id: impl Into<String>, route: Arc<dyn Route>) -> Self {
        self.departments.insert(id.into(), route);
        self
    }

    /// The route for departments without their own.
    pub fn default_department(mut self, route: Arc<dyn Route>) -> Self {
        self.default_department = Some(route);
        self
    }

    /// The route of citizens' notifications and appointment reminders on a channel
    /// (`whatsapp`, `sms`, …).
    pub fn channel(mut self, channel: impl Into<String>, route: Arc<dyn Route>) -> Self {
        self.channels.insert(channel.into(), route);
        self
    }

    /// The route for notifications on channels without their own.
    pub fn default_channel(mut self, route: Arc<dyn Route>) -> Self {
        self.default_channel = Some(route);
        self
    }

    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Rows in flight at once per department or channel (at least 1).
    pub fn per_target(mut self, n: usize) -> Self {
        self.per_target = n.max(1);
        self
    }

    /// How long a claimed row stays hidden from other relays.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
        self
    }

    fn route_for(&self, item: &OutboxItem) -> Option<Arc<dyn Route>> {
        match item.kind {
            OutboxKind::Delivery => self
                .departments
                .get(&item.target)
                .or(self.default_department.as_ref()),
            OutboxKind::Notification | OutboxKind::Reminder => self
                .channels
                .get(&item.target)
                .or(self.default_channel.as_ref()),
        }
        .cloned()
    }

    fn limit(&self, key: &str) -> Arc<Semaphore> {
        let mut m = self.limits.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(key.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_target)))
            .clone()
    }

    /// One pass at the current time.
    pub async fn run_once(&self) -> Result<RelayReport, StoreError> {
        self.run_once_at(Utc::now()).await
    }

    /// One pass as if the time were `now` (retry times are computed from it).
    pub async fn run_once_at(&self, now: DateTime<Utc>) -> Result<RelayReport, StoreError> {
        let items = self.store.claim_due(now, self.batch, self.lease).await?;
        let mut report = RelayReport {
            claimed: items.len(),
            ..Default::default()
        };
        let mut set = JoinSet::new();
        for item in items {
            let route = self.route_for(&item);
            let limit = self.limit(&format!("{}:{}", item.kind.as_str(), item.target));
            set.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let result = match route {
                    Some(r) => r.send(&item).await,
                    None => Err(DeliveryError::permanent(
                        &item.target,
                        format!("no route for {} `{}`", item.kind.as_str(), item.target),
                    )),
                };
                (item, result)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (item, result) = match joined {
                Ok(v) => v,
                // a route that panicked: its row stays leased and comes back after the lease
                Err(_) => continue,
            };
            match result {
                Ok(()) => {
                    self.store.mark_sent(item.id, now).await?;
                    report.sent += 1;
                }
                Err(e) => {
                    let failures = item.attempts + 1;
                    let retry_at =
                        (e.retryable && failures < self.retry.max_attempts.max(1)).then(|| {
                            now + chrono::Duration::from_std(self.retry.delay(failures))
                                .unwrap_or(chrono::Duration::hours(1))
                        });
                    let msg = redact(&e.to_string()).into_owned();
                    self.store.mark_failed(item.id, now, &msg, retry_at).await?;
                    if retry_at.is_some() {
                        report.retried += 1;
                    } else {
                        report.dead += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Passes until no row is due at `now` or `max_passes` passes were made (tests, draining
    /// before shutdown).
    pub async fn drain_at(
        &self,
        now: DateTime<Utc>,
        max_passes: usize,
    ) -> Result<RelayReport, StoreError> {
        let mut total = RelayReport::default();
        for _ in 0..max_passes {
            let r = self.run_once_at(now).await?;
            if r.claimed == 0 {
                break;
            }
            total.claimed += r.claimed;
            total.sent += r.sent;
            total.retried += r.retried;
            total.dead += r.dead;
        }
        Ok(total)
    }
}
