//! Self-service from Node: `KnowledgeBase` (search the FAQ, gap keys) and `Appointments`
//! (offer, book, move, confirm, cancel, reminders, booking conversations).
//!
//! Thin: every behaviour is the core's (`civic_router::faq`, `civic_router::appointment`).
//! Knowledge-base calls are synchronous (microseconds, no I/O); every appointment call returns
//! a Promise and runs on tokio's blocking pool (SQLite commits there). Local times cross as
//! ISO strings without an offset (`2026-12-01T10:30:00`, the city's time). Errors carry the
//! code `APPOINTMENT` (the core's `AppointmentError`), `CONFIG`, `IO` or `INVALID_ARG`.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use civic_router::appointment::conversation::Conversations;
use civic_router::appointment::{
    open_appointment_store, AppointmentStore, Appointments as CoreAppointments,
    MemoryAppointmentStore, Offices,
};
use civic_router::faq::KnowledgeBase as CoreKnowledgeBase;
use civic_router::message::Contact;
use civic_router::ChannelKind;
use napi::bindgen_prelude::{PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;
use serde::Deserialize;

use crate::convert::{options_arg as options, string_arg, to_js};
use crate::errors::{blocking, guard, guard_sync, Failure, INVALID_ARG};
use crate::router::promise;

fn local_time(name: &str, s: Option<&str>) -> Result<NaiveDateTime, Failure> {
    let s = s.ok_or_else(|| Failure::new(INVALID_ARG, format!("`{name}` is required")))?;
    s.parse().map_err(|e| {
        Failure::new(
            INVALID_ARG,
            format!("`{name}`: not a local time YYYY-MM-DDTHH:MM:SS: {e}"),
        )
    })
}

fn channel_arg(s: Option<&str>) -> Result<ChannelKind, Failure> {
    s.ok_or_else(|| Failure::new(INVALID_ARG, "`channel` is required"))?
        .parse()
        .map_err(|e: civic_router::message::UnknownChannel| {
            Failure::new(INVALID_ARG, e.to_string())
        })
}

/// Options of `search`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SearchOptions {
    top: Option<u32>,
    threshold: Option<f32>,
}

/// The knowledge base that answers information requests (BM25 over normalised Spanish with
/// Snowball stemming and misspelling tolerance).
#[napi]
pub struct KnowledgeBase {
    inner: Arc<CoreKnowledgeBase>,
}

#[napi]
impl KnowledgeBase {
    /// Reads a knowledge-base file (TOML, or JSON by its `.json` extension). Throws `IO` or
    /// `CONFIG`.
    #[napi(factory, catch_unwind, ts_args_type = "path: string")]
    pub fn from_path(env: Env, path: Unknown<'_>) -> napi::Result<KnowledgeBase> {
        guard_sync(&env, || {
            let p = string_arg("path", &path)?;
            Ok(KnowledgeBase {
                inner: Arc::new(CoreKnowledgeBase::from_path(&p)?),
            })
        })
    }

    /// Parses a TOML knowledge base. Throws `CONFIG`.
    #[napi(factory, catch_unwind, ts_args_type = "text: string, origin?: string")]
    pub fn from_toml(
        env: Env,
        text: Unknown<'_>,
        origin: Option<String>,
    ) -> napi::Result<KnowledgeBase> {
        guard_sync(&env, || {
            let t = string_arg("text", &text)?;
            let kb = CoreKnowledgeBase::from_toml_str(&t, origin.as_deref().unwrap_or("<string>"))
                .map_err(civic_router::Error::from)?;
            Ok(KnowledgeBase {
                inner: Arc::new(kb),
            })
        })
    }

    /// Parses a JSON knowledge base (`{"entry": [...]}` or an array of entries). Throws
    /// `CONFIG`.
    #[napi(factory, catch_unwind, ts_args_type = "text: string, origin?: string")]
    pub fn from_json(
        env: Env,
        text: Unknown<'_>,
        origin: Option<String>,
    ) -> napi::Result<KnowledgeBase> {
        guard_sync(&env, || {
            let t = string_arg("text", &text)?;
            let kb = CoreKnowledgeBase::from_json_str(&t, origin.as_deref().unwrap_or("<string>"))
                .map_err(civic_router::Error::from)?;
            Ok(KnowledgeBase {
                inner: Arc::new(kb),
            })
        })
    }

    /// Number of entries.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }

    /// The best entries for a question, best first (`top`, default 1); `answers` says whether
    /// each reaches `threshold` (default 0.5) under the knowledge base's rule.
    #[napi(
        catch_unwind,
        ts_args_type = "question: string, options?: { top?: number, threshold?: number }",
        ts_return_type = "Array<{ entry: { id: string, category: string, questions: string[], answer: string, links?: Array<{ title: string, url: string }>, example?: boolean }, score: number, confidence: number, matched: string[], answers: boolean }>"
    )]
    pub fn search<'e>(
        &self,
        env: &'e Env,
        question: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<Unknown<'e>> {
        guard_sync(env, || {
            let q = string_arg("question", &question)?;
            let o: SearchOptions = options("options", options_)?;
            let threshold = o.threshold.unwrap_or(civic_router::faq::DEFAULT_THRESHOLD);
            let hits: Vec<serde_json::Value> = self
                .inner
                .search_top(&q, o.top.unwrap_or(1) as usize)
                .iter()
                .map(|h| {
                    serde_json::json!({
                        "entry": &*h.entry,
                        "score": h.score,
                        "confidence": h.confidence,
                        "matched": h.matched,
                        "answers": h.answers(threshold),
                    })
                })
                .collect();
            to_js(env, &hits)
        })
    }

    /// The key an unanswered question is counted under in a gap log.
    #[napi(catch_unwind, ts_args_type = "question: string")]
    pub fn gap_key(&self, env: Env, question: Unknown<'_>) -> napi::Result<String> {
        guard_sync(&env, || {
            Ok(self.inner.gap_key(&string_arg("question", &question)?))
        })
    }
}

/// Options of the `Appointments` constructor.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OpenOptions {
    store: Option<String>,
    conversation_minutes: Option<u32>,
}

/// Options of the appointment calls.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CallOptions {
    now: Option<String>,
    district: Option<String>,
    n: Option<u32>,
    contact: Option<Contact>,
    channel: Option<String>,
    hours: Option<i64>,
}

/// Appointments (cita previa): `new Appointments(officesPath, { store?, conversationMinutes? })`
/// — `store` a SQLite file (created if needed) or a store URL (`postgres://…`), or memory without it. Every method returns a
/// Promise.
#[napi]
pub struct Appointments {
    talk: Arc<Conversations>,
}

impl Appointments {
    /// The core's booking (offices and store), for `Desk.scheduleReminders`.
    pub(crate) fn book(&self) -> &CoreAppointments {
        self.talk.appointments()
    }

    fn run<'e, T, F>(
        &self,
        env: &'e Env,
        args: Result<CallOptions, Failure>,
        f: F,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>>
    where
        T: serde::Serialize + Send + 'static,
        F: FnOnce(&Conversations, CallOptions) -> Result<T, Failure> + Send + 'static,
    {
        let talk = self.talk.clone();
        promise(
            env,
            async move {
                let a = args?;
                blocking(move || f(&talk, a)).await
            },
            |env, v: T| to_js(env, &v),
        )
    }
}

fn appt<T>(r: Result<T, civic_router::error::AppointmentError>) -> Result<T, Failure> {
    r.map_err(|e| Failure::from(civic_router::Error::from(e)))
}

#[napi]
impl Appointments {
    /// Reads the offices file and opens the store. Throws `IO`, `CONFIG` or `APPOINTMENT`.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "offices: string, options?: { store?: string, conversationMinutes?: number }"
    )]
    pub fn new(
        env: Env,
        offices: Unknown<'_>,
        options_: Option<Unknown<'_>>,
    ) -> napi::Result<Appointments> {
        guard_sync(&env, || {
            let path = string_arg("offices", &offices)?;
            let o: OpenOptions = options("options", options_)?;
            let offices = Offices::from_path(&path)?;
            let store: Arc<dyn AppointmentStore> = match o.store {
                // a path is an SQLite file; sqlite://, postgres://, memory:// URLs choose
                Some(p) => open_appointment_store(&p)?,
                None => Arc::new(MemoryAppointmentStore::default()),
            };
            Ok(Appointments {
                talk: Arc::new(Conversations::new(
                    CoreAppointments::new(Arc::new(offices), store),
                    Duration::minutes(o.conversation_minutes.unwrap_or(15) as i64),
                )),
            })
        })
    }

    /// Up to `n` (default 3) free slots for a service, in the district's office or the nearest.
    #[napi(
        catch_unwind,
        ts_args_type = "service: string, options: { now: string, district?: string, n?: number }",
        ts_return_type = "Promise<Array<{ office: string, office_name: string, start: string, end: string, free: number }>>"
    )]
    pub fn offer<'e>(
        &self,
        env: &'e Env,
        service: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let s = guard(|| string_arg("service", &service));
        let args = guard(|| options("options", options_));
        self.run(env, args, move |t, o| {
            let now = local_time("options.now", o.now.as_deref())?;
            appt(
                t.appointments()
                    .offer(&s?, o.district.as_deref(), now, o.n.unwrap_or(3) as usize),
            )
        })
    }

    /// Books a slot. Rejects with `APPOINTMENT` when it is full, closed or unknown.
    #[napi(
        catch_unwind,
        ts_args_type = "service: string, office: string, start: string, options: { contact: Contact, channel: ChannelKind, now: string }",
        ts_return_type = "Promise<Record<string, unknown>>"
    )]
    pub fn book_slot<'e>(
        &self,
        env: &'e Env,
        service: Unknown<'e>,
        office: Unknown<'e>,
        start: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let a = guard(|| {
            Ok((
                string_arg("service", &service)?,
                string_arg("office", &office)?,
                string_arg("start", &start)?,
            ))
        });
        let args = guard(|| options("options", options_));
        self.run(env, args, move |t, o| {
            let (s, off, st) = a?;
            let now = local_time("options.now", o.now.as_deref())?;
            let start = local_time("start", Some(&st))?;
            let ch = channel_arg(o.channel.as_deref())?;
            let c = o.contact.unwrap_or_default();
            appt(t.appointments().book(&s, &off, start, &c, ch, now))
        })
    }

    /// Books the earliest free slot for a service.
    #[napi(
        catch_unwind,
        ts_args_type = "service: string, options: { contact: Contact, channel: ChannelKind, now: string, district?: string }",
        ts_return_type = "Promise<Record<string, unknown>>"
    )]
    pub fn book_earliest<'e>(
        &self,
        env: &'e Env,
        service: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let s = guard(|| string_arg("service", &service));
        let args = guard(|| options("options", options_));
        self.run(env, args, move |t, o| {
            let now = local_time("options.now", o.now.as_deref())?;
            let ch = channel_arg(o.channel.as_deref())?;
            let c = o.contact.unwrap_or_default();
            appt(
                t.appointments()
                    .book_earliest(&s?, o.district.as_deref(), &c, ch, now),
            )
        })
    }

    /// Confirms an appointment.
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string",
        ts_return_type = "Promise<Record<string, unknown>>"
    )]
    pub fn confirm<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let r = guard(|| string_arg("reference", &reference));
        self.run(env, Ok(CallOptions::default()), move |t, _| {
            appt(t.appointments().confirm(&r?))
        })
    }

    /// Cancels an appointment.
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string",
        ts_return_type = "Promise<Record<string, unknown>>"
    )]
    pub fn cancel<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let r = guard(|| string_arg("reference", &reference));
        self.run(env, Ok(CallOptions::default()), move |t, _| {
            appt(t.appointments().cancel(&r?))
        })
    }

    /// Moves an appointment to another slot of its office.
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string, start: string, options: { now: string }",
        ts_return_type = "Promise<Record<string, unknown>>"
    )]
    pub fn move_to<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
        start: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let a = guard(|| {
            Ok((
                string_arg("reference", &reference)?,
                string_arg("start", &start)?,
            ))
        });
        let args = guard(|| options("options", options_));
        self.run(env, args, move |t, o| {
            let (r, st) = a?;
            let now = local_time("options.now", o.now.as_deref())?;
            let start = local_time("start", Some(&st))?;
            appt(t.appointments().move_to(&r, start, now))
        })
    }

    /// Reminders due within `hours` (default 24) after `now`: `{ reference, to, channel,
    /// text, start }`.
    #[napi(
        catch_unwind,
        ts_args_type = "options: { now: string, hours?: number }",
        ts_return_type = "Promise<Array<{ reference: string, to: Contact, channel: ChannelKind, text: string, start: string }>>"
    )]
    pub fn reminders_due<'e>(
        &self,
        env: &'e Env,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let args = guard(|| options("options", options_));
        self.run(env, args, move |t, o| {
            let now = local_time("options.now", o.now.as_deref())?;
            appt(
                t.appointments()
                    .reminders_due(now, Duration::hours(o.hours.unwrap_or(24))),
            )
        })
    }

    /// Records that a reminder was sent.
    #[napi(
        catch_unwind,
        ts_args_type = "reference: string",
        ts_return_type = "Promise<null>"
    )]
    pub fn mark_reminded<'e>(
        &self,
        env: &'e Env,
        reference: Unknown<'e>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let r = guard(|| string_arg("reference", &reference));
        self.run(env, Ok(CallOptions::default()), move |t, _| {
            appt(t.appointments().mark_reminded(&r?))
        })
    }

    /// One message of a booking conversation: `{ text, options: [id, title][], appointment?,
    /// done }`. Rejects with `APPOINTMENT` when the citizen answers a question that expired.
    #[napi(
        catch_unwind,
        ts_args_type = "text: string, options: { contact: Contact, channel: ChannelKind, now: string, district?: string }",
        ts_return_type = "Promise<{ text: string, options?: Array<[string, string]>, appointment?: Record<string, unknown>, done: boolean }>"
    )]
    pub fn converse<'e>(
        &self,
        env: &'e Env,
        text: Unknown<'e>,
        options_: Option<Unknown<'e>>,
    ) -> napi::Result<PromiseRaw<'e, Unknown<'e>>> {
        let x = guard(|| string_arg("text", &text));
        let args = guard(|| options("options", options_));
        self.run(env, args, move |t, o| {
            let now = local_time("options.now", o.now.as_deref())?;
            let ch = channel_arg(o.channel.as_deref())?;
            let c = o.contact.unwrap_or_default();
            appt(t.handle(&c, ch, &x?, o.district.as_deref(), now))
        })
    }
}
