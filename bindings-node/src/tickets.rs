//! `Desk`: cases (tickets), their store, delivery and statistics, behind a JavaScript class.
//!
//! Every method that touches the store returns a Promise and runs off the event loop (on
//! tokio's blocking pool: SQLite commits there). Values cross in the core's JSON shapes
//! (`Ticket`, `Ingested`, `Report`, …), typed in `src/wire-types.d.ts`. A JavaScript host
//! delivers with `relayOnce` (HTTP webhooks, e-mail files) or with its own loop over
//! `claimDue` / `markSent` / `markFailed`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use civic_router::ticket::report::Report;
use civic_router::ticket::route::{HttpRoute, MailRoute, Relay, RetryPolicy, Route};
use civic_router::ticket::{
    block_on, Desk as CoreDesk, MemoryStore, Status, StatusRequest, StoreUrl, TicketStore,
};
use civic_router::{ChannelKind, StoreError};
use napi::bindgen_prelude::{PromiseRaw, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;
use serde::Deserialize;

use crate::convert::{json_from_js, message_from_js, options_arg as options, string_arg, to_js};
use crate::errors::{blocking, from_napi, guard, guard_sync, Failure, INVALID_ARG};
use crate::router::{promise, Router};
use crate::selfservice::Appointments;

fn time(name: &str, s: Option<&str>) -> Result<Option<DateTime<Utc>>, Failure> {
    s.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Failure::new(INVALID_ARG, format!("`{name}`: not an RFC 3339 time: {e}")))
    })
    .transpose()
}

/// Options of `ingest`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IngestOptions {
    at: Option<String>,
}

/// Options of `changeStatus` and `recategorise`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ChangeOptions {
    actor: Option<String>,
    note: Option<String>,
    at: Option<String>,
    department: Option<String>,
}

/// Options of `relayOnce`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RelayOptions {
    webhooks: Option<BTreeMap<String, String>>,
    mail_dir: Option<String>,
    max_attempts: Option<u32>,
    base_delay_s: Option<f64>,
    at: Option<String>,
}

/// Options of `scheduleReminders`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RemindOptions {
    hours: Option<u32>,
    at: Option<String>,
}

/// Options of `report`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ReportOptions {
    month: Option<String>,
    format: Option<String>,
}

/// Options of `claimDue` / `markFailed` / `applyRetention`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OutboxOptions {
    limit: Option<u32>,
    lease_s: Option<f64>,
    at: Option<String>,
    retry_at: Option<String>,
}

/// Cases: ingests messages into tickets, changes their status, delivers them and reports.
/// `new Desk(router, storePath?)`: a SQLite file (created if needed), or a store in memory.
/// Every method returns a Promise; a bad argument rejects it with `INVALID_ARG` or `INPUT`.
#[napi]
pub struct Desk {
    inner: Arc<CoreDesk>,
}

impl Desk {
    /// Runs `f` on the blocking pool with the checked arguments; a bad argument rejects the
    /// Promise (it never throws), like the store's own errors.
    fn run_with<'e, A, T, F>(
        &self,
        env: &'e Env,
        args: Result<A, Failure>,
        f: F,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>>
    where
        A: Send + 'static,
        T: serde::Serialize + Send + 'static,
        F: FnOnce(&CoreDesk, A) -> Result<T, civic_router::Error> + Send + 'static,
    {
        let desk = self.inner.clone();
        promise(
            env,
            async move {
                let a = args?;
                blocking(move || Ok(f(&desk, a)?)).await
            },
            |env, v: T| to_js(env, &v),
        )
    }

    fn run<'e, T, F>(&self, env: &'e Env, f: F) -> napi::Result<PromiseRaw<'e, Unknown<'e>>>
    where
        T: serde::Serialize + Send + 'static,
        F: FnOnce(&CoreDesk) -> Result<T, civic_router::Error> + Send + 'static,
    {
        self.run_with(env, Ok(()), move |d, ()| f(d))
    }
}

fn status_arg(s: &str) -> Result<Status, Failure> {
    s.parse().map_err(|e: civic_router::ticket::UnknownStatus| {
        Failure::from(civic_router::Error::from(StoreError::invalid(
            e.to_string(),
        )))
    })
}

fn channel_contact(
    channel: &Unknown<'_>,
    contact: &Unknown<'_>,
) -> Result<(ChannelKind, civic_router::message::Contact), Failure> {
    let ch: ChannelKind = string_arg("channel", channel)?.parse().map_err(
        |e: civic_router::message::UnknownChannel| Failure::new(INVALID_ARG, e.to_string()),
    )?;
    let json = json_from_js(contact).map_err(|e| from_napi(INVALID_ARG, "contact", e))?;
    let c = serde_json::from_value(json)
        .map_err(|e| Failure::new(INVALID_ARG, format!("`contact`: {e}")))?;
    Ok((ch, c))
}

#[napi]
impl Desk {
    /// Opens a desk over a store: an SQLite file path, or a URL (`sqlite://PATH`,
    /// `postgres://user@host/db[?schema=NAME]`, `memory://`); in memory without one. Throws `STORE`
    /// (`kind` in the message: a corrupt file) and `CONFIG` (a bad `[tickets]` section).
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "router: Router, store?: string | null"
    )]
    pub fn new(env: Env, router: &Router, store: Option<Unknown<'_>>) -> napi::Result<Desk> {
        guard_sync(&env, || {
            let path = match store {
                Some(v) if !matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                    Some(string_arg("store", &v)?)
                }
                _ => None,
            };
            // a path is an SQLite file; `sqlite://`, `postgres://`, `memory://` URLs choose
            let store: Arc<dyn TicketStore> = match path {
                Some(p) => p
                    .parse::<StoreUrl>()
                    .and_then(|u| u.open())
                    .map_err(civic_router::Error::from)?,
                None => Arc::new(MemoryStore::new()),
            };
            Ok(Desk {
                inner: Arc::new(CoreDesk::with_store(router.inner.clone(), store)?),
            })
        })
    }

    /// Routes a message and keeps it (inbox, ticket, outbox in one commit); resolves after the
    /// commit — acknowledge the webhook then.
    #[napi(
        catch_unwind,
        ts_args_type = "message: Message, options?: { at?: string }",
        ts_return_type = "Promise<Ingested>"
    )]
    pub fn ingest<'e>(
        &self,
        env: &'e Env,
        message: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| {
            let o: IngestOptions = options("options", options_)?;
            Ok((message_from_js(&message)?, time("at", o.at.as_deref())?))
        });
        self.run_with(env, args, move |d, args| {
            let (msg, at) = args;
            match at {
                Some(t) => block_on(d.ingest_at(&msg, t)),
                None => block_on(d.ingest(&msg)),
            }
        })
    }

    /// Changes a ticket's status. Rejects with `STORE` (a refused transition, an unknown
    /// reference).
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string, status: TicketStatus, options: { actor: string, note?: string, at?: string }",
        ts_return_type = "Promise<Ticket>"
    )]
    pub fn change_status<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
        status: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| {
            let o: ChangeOptions = options("options", options_)?;
            let actor = o
                .actor
                .ok_or_else(|| Failure::new(INVALID_ARG, "`options.actor` is required"))?;
            let mut req = StatusRequest::new(status_arg(&string_arg("status", &status)?)?, actor)
                .with_note(o.note.unwrap_or_default());
            if let Some(t) = time("at", o.at.as_deref())? {
                req = req.at(t);
            }
            Ok((string_arg("reference", &reference)?, req))
        });
        self.run_with(env, args, move |d, args| {
            block_on(d.change_status(&args.0, args.1))
        })
    }

    /// Moves a ticket to another category (and department).
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string, category: string, options: { actor: string, note?: string, department?: string }",
        ts_return_type = "Promise<Ticket>"
    )]
    pub fn recategorise<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
        category: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| {
            let o: ChangeOptions = options("options", options_)?;
            let actor = o
                .actor
                .ok_or_else(|| Failure::new(INVALID_ARG, "`options.actor` is required"))?;
            Ok((
                string_arg("reference", &reference)?,
                string_arg("category", &category)?,
                actor,
                o.note.unwrap_or_default(),
                o.department,
            ))
        });
        self.run_with(env, args, move |d, args| {
            let (r, c, a, n, dep) = args;
            block_on(d.recategorise(&r, &c, dep.as_deref(), &a, &n, Utc::now()))
        })
    }

    /// One ticket by its reference.
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string",
        ts_return_type = "Promise<Ticket>"
    )]
    pub fn ticket<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let r = guard(|| string_arg("reference", &reference));
        self.run_with(env, r, move |d, r| block_on(d.ticket(&r)))
    }

    /// The tickets a contact reported or asked about.
    #[napi(
        catch_unwind,
        ts_args_type = "channel: ChannelKind, contact: Contact",
        ts_return_type = "Promise<Ticket[]>"
    )]
    pub fn tickets_of<'e>(
        &self,
        env: &'e Env,
        channel: Unknown<'e>,
        contact: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| channel_contact(&channel, &contact));
        self.run_with(env, args, move |d, (ch, c)| block_on(d.tickets_of(ch, &c)))
    }

    /// A contact's messages and replies, oldest first.
    #[napi(
        catch_unwind,
        ts_args_type = "channel: ChannelKind, contact: Contact",
        ts_return_type = "Promise<ConversationEntry[]>"
    )]
    pub fn conversation_of<'e>(
        &self,
        env: &'e Env,
        channel: Unknown<'e>,
        contact: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| channel_contact(&channel, &contact));
        self.run_with(env, args, move |d, (ch, c)| {
            block_on(d.conversation_of(ch, &c))
        })
    }

    /// The messages and replies about a ticket, oldest first.
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string",
        ts_return_type = "Promise<ConversationEntry[]>"
    )]
    pub fn conversation_of_ticket<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let r = guard(|| string_arg("reference", &reference));
        self.run_with(env, r, move |d, r| block_on(d.conversation_of_ticket(&r)))
    }

    /// Outbox rows still to deliver.
    #[napi(catch_unwind, ts_return_type = "Promise<OutboxItem[]>")]
    pub fn pending<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        self.run(env, |d| Ok(block_on(d.store().pending())?))
    }

    /// Outbox rows given up on.
    #[napi(catch_unwind, ts_return_type = "Promise<DeadLetter[]>")]
    pub fn dead_letters<'e>(&self, env: &'e Env) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        self.run(env, |d| Ok(block_on(d.store().dead_letters())?))
    }

    /// Claims due outbox rows for a JavaScript sender (default 100 rows, leased 300 s): send
    /// each, then `markSent` or `markFailed`.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: { limit?: number, leaseS?: number, at?: string }",
        ts_return_type = "Promise<OutboxItem[]>"
    )]
    pub fn claim_due<'e>(
        &self,
        env: &'e Env,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| {
            let o: OutboxOptions = options("options", options_)?;
            let at = time("at", o.at.as_deref())?;
            Ok((o, at))
        });
        self.run_with(env, args, move |d, (o, at)| {
            let lease = Duration::milliseconds((o.lease_s.unwrap_or(300.0) * 1000.0) as i64);
            Ok(block_on(d.store().claim_due(
                at.unwrap_or_else(Utc::now),
                o.limit.unwrap_or(100) as usize,
                lease,
            ))?)
        })
    }

    /// A claimed row was delivered.
    #[napi(
        catch_unwind,
        ts_args_type = "id: number",
        ts_return_type = "Promise<null>"
    )]
    pub fn mark_sent<'e>(
        &self,
        env: &'e Env,
        id: f64,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        self.run(env, move |d| {
            Ok(block_on(d.store().mark_sent(id as i64, Utc::now()))?)
        })
    }

    /// A claimed row failed: retried at `options.retryAt`, or moved to the dead letters
    /// without one.
    #[napi(
        catch_unwind,
        ts_args_type = "id: number, error: string, options?: { retryAt?: string }",
        ts_return_type = "Promise<null>"
    )]
    pub fn mark_failed<'e>(
        &self,
        env: &'e Env,
        id: f64,
        error: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| {
            let o: OutboxOptions = options("options", options_)?;
            Ok((
                string_arg("error", &error)?,
                time("retryAt", o.retry_at.as_deref())?,
            ))
        });
        self.run_with(env, args, move |d, (err, retry)| {
            let msg = civic_router::ticket::privacy::redact(&err).into_owned();
            Ok(block_on(d.store().mark_failed(
                id as i64,
                Utc::now(),
                &msg,
                retry,
            ))?)
        })
    }

    /// Queues the reminders of the appointments starting within `hours` (default 24) after
    /// `at` (default now; the router's time zone gives the local time) in the outbox, then
    /// marks them reminded. A JavaScript sender gets them from `claimDue` like follow-ups
    /// (`kind` `'reminder'`, with `appointment` and no `reference`); `relayOnce` writes them as
    /// e-mail files. Each reminder is queued once however often this runs; a moved
    /// appointment gets a new one.
    #[napi(
        catch_unwind,
        ts_args_type = "appointments: Appointments, options?: { hours?: number, at?: string }",
        ts_return_type = "Promise<ReminderReport>"
    )]
    pub fn schedule_reminders<'e>(
        &self,
        env: &'e Env,
        appointments: &Appointments,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let book = appointments.book().clone();
        let args = guard(|| {
            let o: RemindOptions = options("options", options_)?;
            let hours = o.hours.unwrap_or(24);
            if hours > 24 * 366 {
                return Err(Failure::new(
                    INVALID_ARG,
                    "`options.hours` must be at most 8784",
                ));
            }
            Ok((hours, time("at", o.at.as_deref())?))
        });
        self.run_with(env, args, move |d, (hours, at)| {
            block_on(d.schedule_reminders(
                &book,
                at.unwrap_or_else(Utc::now),
                Duration::hours(i64::from(hours)),
            ))
        })
    }

    /// Delivers the due rows once: departments in `webhooks` by HTTP (JSON, `Idempotency-Key`),
    /// the others, the notifications and the reminders as e-mail files in `mailDir`.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: { webhooks?: Record<string, string>, mailDir?: string, maxAttempts?: number, baseDelayS?: number, at?: string }",
        ts_return_type = "Promise<RelayReport>"
    )]
    pub fn relay_once<'e>(
        &self,
        env: &'e Env,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let desk = self.inner.clone();
        let prepared = guard(|| {
            let o: RelayOptions = options("options", options_)?;
            let at = time("at", o.at.as_deref())?;
            let mut relay = Relay::new(desk.store().clone()).retry(RetryPolicy {
                max_attempts: o.max_attempts.unwrap_or(desk.max_attempts()),
                base: std::time::Duration::from_secs_f64(o.base_delay_s.unwrap_or(5.0).max(0.0)),
                ..RetryPolicy::default()
            });
            for (dep, url) in o.webhooks.unwrap_or_default() {
                let r = HttpRoute::new(&url).map_err(civic_router::Error::from)?;
                relay = relay.department(dep, Arc::new(r));
            }
            if let Some(dir) = o.mail_dir {
                let mut mail = MailRoute::new(dir, "010@civic-router.invalid");
                for d in desk.router().config().departments {
                    if let Some(e) = d.email {
                        mail = mail.with_recipient(d.id, e);
                    }
                }
                let mail: Arc<dyn Route> = Arc::new(mail);
                relay = relay.default_department(mail.clone()).default_channel(mail);
            }
            Ok((relay, at))
        });
        promise(
            env,
            async move {
                let (relay, at) = prepared?;
                Ok(relay
                    .run_once_at(at.unwrap_or_else(Utc::now))
                    .await
                    .map_err(civic_router::Error::from)?)
            },
            |env, r| to_js(env, &r),
        )
    }

    /// The statistics: an object, or with `format` `"table"`, `"json"` or `"html"` its text.
    #[napi(
        catch_unwind,
        ts_args_type = "options?: { month?: string, format?: 'object' | 'table' | 'json' | 'html' }",
        ts_return_type = "Promise<Report | string>"
    )]
    pub fn report<'e>(
        &self,
        env: &'e Env,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| {
            let o: ReportOptions = options("options", options_)?;
            let format = o.format.unwrap_or_else(|| "object".into());
            if !matches!(format.as_str(), "object" | "table" | "json" | "html") {
                return Err(Failure::new(
                    INVALID_ARG,
                    format!("`options.format` must be object, table, json or html, got {format:?}"),
                ));
            }
            Ok((o.month, format))
        });
        self.run_with(env, args, move |d, (month, format)| {
            let r: Report = block_on(d.report(month.as_deref()))?;
            Ok(match format.as_str() {
                "table" => serde_json::Value::String(r.to_table()),
                "html" => serde_json::Value::String(r.to_html()),
                "json" => {
                    serde_json::Value::String(serde_json::to_string_pretty(&r).unwrap_or_default())
                }
                _ => serde_json::to_value(&r).unwrap_or_default(),
            })
        })
    }

    /// Pseudonymises tickets closed more than `tickets.retention_days` ago with the secret
    /// `key` (at least 16 bytes); resolves with how many.
    #[napi(
        catch_unwind,
        ts_args_type = "key: string, options?: { at?: string }",
        ts_return_type = "Promise<number>"
    )]
    pub fn apply_retention<'e>(
        &self,
        env: &'e Env,
        key: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| {
            let o: OutboxOptions = options("options", options_)?;
            let key = string_arg("key", &key)?;
            if key.len() < 16 {
                return Err(Failure::new(INVALID_ARG, "`key` must be at least 16 bytes"));
            }
            Ok((key, time("at", o.at.as_deref())?))
        });
        self.run_with(env, args, move |d, (key, at)| {
            block_on(d.apply_retention(at.unwrap_or_else(Utc::now), key.as_bytes()))
        })
    }
}
