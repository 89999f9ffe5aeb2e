//! Conversations that book: "quiero cita para empadronarme en Triana" → the offered slots as
//! options → the citizen's choice → a confirmed appointment with its reference; "cancela mi
//! cita" cancels. The state of each conversation is kept per contact and expires.
//!
//! The state lives in a [`ConversationStateStore`] (JSON of the pending question, with its
//! expiry): in memory by default ([`Conversations::new`]); shared by several instances behind
//! a load balancer when they open the same SQLite file or PostgreSQL database
//! ([`Conversations::open`], [`Conversations::with_store`]), so the citizen's answer may reach
//! another instance than the one that asked.
//!
//! The options are channel-neutral ([`Turn::options`]); with the `channels` feature,
//! [`Turn::reply`] makes the [`Reply`](crate::channel::Reply) each channel renders in its own
//! idiom: WhatsApp reply buttons (up to three) or a list, numbered SMS options, options spoken
//! with their keypad digit on the phone.
//!
//! ```
//! use std::sync::Arc;
//! use chrono::NaiveDate;
//! use civic_router::appointment::{Appointments, MemoryAppointmentStore, Offices};
//! use civic_router::appointment::conversation::Conversations;
//! use civic_router::{ChannelKind, message::Contact};
//!
//! let offices = Offices::from_toml_str(r#"
//!     [[service]]
//!     id = "padron"
//!     name = "Padrón"
//!     words = ["empadron*", "padron"]
//!     [[office]]
//!     id = "triana"
//!     name = "Distrito Triana"
//!     district = "triana"
//!     hours = ["mon-fri 09:00-14:00"]
//!     services = ["padron"]
//! "#, "offices.toml").unwrap();
//! let book = Appointments::new(Arc::new(offices), Arc::new(MemoryAppointmentStore::default()));
//! let talk = Conversations::new(book, chrono::Duration::minutes(15));
//! let me = Contact { phone: Some("+34600000000".into()), ..Contact::default() };
//! let now = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(10, 0, 0).unwrap();
//!
//! let t = talk.handle(&me, ChannelKind::Sms, "quiero cita para empadronarme en Triana", Some("triana"), now).unwrap();
//! assert_eq!(t.options.len(), 3);
//! let t = talk.handle(&me, ChannelKind::Sms, "2", None, now).unwrap();
//! let booked = t.appointment.unwrap();
//! assert!(t.text.contains(&booked.reference));
//! let t = talk.handle(&me, ChannelKind::Sms, "cancela mi cita", None, now).unwrap();
//! assert!(t.text.starts_with("Cita cancelada"));
//! ```

use super::state::ConversationStateStore;
use super::*;

/// What the bot answers in one turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// The text.
    pub text: String,
    /// Options to choose from: (id that comes back, title).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<(String, String)>,
    /// The appointment booked, moved or cancelled in this turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<Appointment>,
    /// The conversation is over (nothing pending for this contact).
    pub done: bool,
}

impl Turn {
    fn done(text: impl Into<String>) -> Turn {
        Turn {
            text: text.into(),
            options: Vec::new(),
            appointment: None,
            done: true,
        }
    }

    /// The reply a channel renders: the options as buttons, numbered lines or spoken choices,
    /// the appointment's reference as the reference.
    #[cfg(feature = "channels")]
    pub fn reply(&self) -> crate::channel::Reply {
        let mut r = crate::channel::Reply::text(self.text.clone());
        for (id, title) in &self.options {
            r = r.with_option(id.clone(), title.clone());
        }
        if let Some(a) = &self.appointment {
            r = r.with_ticket(a.reference.clone());
        }
        if self.done {
            r.end = true;
        }
        r
    }
}

/// The pending question, as kept in the state store (JSON, tagged by `step`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Step {
    /// Which service?
    Service { district: Option<String> },
    /// Which slot?
    Slot {
        service: String,
        district: Option<String>,
        slots: Vec<Slot>,
    },
    /// Which appointment to cancel?
    Cancel { references: Vec<String> },
}

/// Booking conversations, one per contact, that expire after `ttl` without an answer.
pub struct Conversations {
    book: Appointments,
    ttl: Duration,
    normalizer: Normalizer,
    states: Arc<dyn ConversationStateStore>,
}

impl fmt::Debug for Conversations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conversations")
            .field("ttl", &self.ttl)
            .finish()
    }
}

const SLOTS_OFFERED: usize = 3;

fn has(tokens: &[&str], prefixes: &[&str]) -> bool {
    tokens
        .iter()
        .any(|t| prefixes.iter().any(|p| t.starts_with(p)))
}

/// The option a citizen chose: a button id (`slot:2`), a digit, or an ordinal said aloud.
fn choice(text: &NormalizedText, n: usize) -> Option<usize> {
    let s = text.as_str();
    for i in 0..n {
        if s == format!("opt:{}", i + 1) || s == format!("opt {}", i + 1) {
            return Some(i);
        }
    }
    const WORDS: [&[&str]; 5] = [
        &[
            "1",
            "uno",
            "una",
            "primera",
            "primero",
            "la primera",
            "el primero",
        ],
        &["2", "dos", "segunda", "segundo", "la segunda", "el segundo"],
        &[
            "3",
            "tres",
            "tercera",
            "tercero",
            "la tercera",
            "el tercero",
        ],
        &["4", "cuatro", "cuarta", "cuarto"],
        &["5", "cinco", "quinta", "quinto"],
    ];
    let tokens: Vec<&str> = text.tokens().collect();
    let mut found = None;
    for (i, words) in WORDS.iter().enumerate().take(n) {
        if tokens.iter().any(|t| words.contains(t)) {
            if found.is_some() {
                return None; // "la primera no, la segunda": ambiguous, ask again
            }
            found = Some(i);
        }
    }
    found
}

impl Conversations {
    /// Conversations over a booking service, their state in this process's memory; a pending
    /// question is forgotten after `ttl`.
    pub fn new(book: Appointments, ttl: Duration) -> Self {
        Self::with_store(
            book,
            ttl,
            Arc::new(super::state::MemoryConversationStateStore::default()),
        )
    }

    /// Conversations whose state is kept in `states`: instances given the same store continue
    /// each other's conversations.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use chrono::NaiveDate;
    /// use civic_router::appointment::{Appointments, MemoryAppointmentStore, Offices};
    /// use civic_router::appointment::conversation::Conversations;
    /// use civic_router::appointment::state::MemoryConversationStateStore;
    /// use civic_router::{ChannelKind, message::Contact};
    ///
    /// let offices = Arc::new(Offices::from_toml_str(r#"
    ///     [[service]]
    ///     id = "padron"
    ///     name = "Padrón"
    ///     words = ["empadron*"]
    ///     [[office]]
    ///     id = "triana"
    ///     name = "Distrito Triana"
    ///     hours = ["mon-fri 09:00-14:00"]
    ///     services = ["padron"]
    /// "#, "offices.toml").unwrap());
    /// let appointments = Arc::new(MemoryAppointmentStore::default());
    /// let states = Arc::new(MemoryConversationStateStore::default());
    /// let ttl = chrono::Duration::minutes(15);
    /// let a = Conversations::with_store(Appointments::new(offices.clone(), appointments.clone()), ttl, states.clone());
    /// let b = Conversations::with_store(Appointments::new(offices, appointments), ttl, states);
    /// let me = Contact { phone: Some("+34600000000".into()), ..Contact::default() };
    /// let now = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(10, 0, 0).unwrap();
    /// a.handle(&me, ChannelKind::Sms, "quiero empadronarme", None, now).unwrap();
    /// let t = b.handle(&me, ChannelKind::Sms, "la segunda", None, now).unwrap();
    /// assert!(t.appointment.is_some());
    /// ```
    pub fn with_store(
        book: Appointments,
        ttl: Duration,
        states: Arc<dyn ConversationStateStore>,
    ) -> Self {
        Conversations {
            book,
            ttl,
            normalizer: Normalizer::spanish(),
            states,
        }
    }

    /// Conversations over `offices` with the appointments and the conversation state both in
    /// the store `url` names ([`open_booking_stores`]): `memory://`, `sqlite://PATH` or a bare
    /// path, `postgres://…[?schema=NAME]`.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use civic_router::appointment::{conversation::Conversations, Offices};
    /// let offices = Arc::new(Offices::from_path("examples/sevilla/offices.toml").unwrap());
    /// // every instance behind the load balancer opens the same database
    /// let talk = Conversations::open(
    ///     offices,
    ///     "postgres://postgres@127.0.0.1:5432/test?schema=civic",
    ///     chrono::Duration::minutes(15),
    /// ).unwrap();
    /// ```
    pub fn open(offices: Arc<Offices>, url: &str, ttl: Duration) -> Result<Self, crate::Error> {
        let stores = open_booking_stores(url)?;
        Ok(Self::with_store(
            Appointments::new(offices, stores.appointments),
            ttl,
            stores.states,
        ))
    }

    /// The booking service.
    pub fn appointments(&self) -> &Appointments {
        &self.book
    }

    /// Where the conversations' state is kept.
    pub fn state_store(&self) -> &Arc<dyn ConversationStateStore> {
        &self.states
    }

    /// Whether the contact has a question pending (not expired at `now`).
    pub fn pending(&self, contact: &Contact, now: NaiveDateTime) -> Result<bool, AppointmentError> {
        Ok(self
            .states
            .get(&contact_key(contact))?
            .is_some_and(|st| st.is_live(now)))
    }

    /// Forgets expired conversations; returns how many. Expired states are also dropped when
    /// their contact writes again; call this now and then to sweep the rest.
    pub fn expire(&self, now: NaiveDateTime) -> Result<usize, AppointmentError> {
        self.states.expire(now)
    }

    fn set(&self, key: &str, step: Step, now: NaiveDateTime) -> Result<(), AppointmentError> {
        let data = serde_json::to_string(&step)
            .map_err(|e| AppointmentError::Store(format!("conversation state: encode: {e}")))?;
        self.states.put(key, &data, now + self.ttl)
    }

    fn clear(&self, key: &str) -> Result<(), AppointmentError> {
        self.states.remove(key).map(|_| ())
    }

    /// The contact's pending question: `Err(())` when it expired (and is now forgotten).
    fn load(
        &self,
        key: &str,
        now: NaiveDateTime,
    ) -> Result<Result<Option<Step>, ()>, AppointmentError> {
        match self.states.get(key)? {
            Some(st) if !st.is_live(now) => {
                self.states.remove(key)?;
                Ok(Err(()))
            }
            Some(st) => match serde_json::from_str::<Step>(&st.data) {
                Ok(step) => Ok(Ok(Some(step))),
                // a state this build cannot read (written by another version): start afresh
                Err(_) => {
                    self.states.remove(key)?;
                    Ok(Ok(None))
                }
            },
            None => Ok(Ok(None)),
        }
    }

    /// One message of a contact. `district` is where the router placed the message (if it
    /// named one). Answers to a question that expired are refused with
    /// [`AppointmentError::ConversationExpired`]; a new request starts afresh.
    pub fn handle(
        &self,
        contact: &Contact,
        channel: ChannelKind,
        text: &str,
        district: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<Turn, AppointmentError> {
        let key = contact_key(contact);
        let n = self.normalizer.normalize(text);
        let tokens: Vec<&str> = n.tokens().collect();
        let state = self.load(&key, now)?;
        let cancel_words = has(&tokens, &["cancel", "anul"]) || n.as_str().contains("no voy a ir");
        let service = self.book.offices().find_service(&n).cloned();
        let state = match state {
            Err(()) => {
                // an answer to a question that expired: say so; a fresh request goes on
                if service.is_none() && !cancel_words && !has(&tokens, &["cita"]) {
                    return Err(AppointmentError::ConversationExpired);
                }
                None
            }
            Ok(s) => s,
        };
        // changing one's mind: give up
        if state.is_some()
            && (has(&tokens, &["dejalo", "olvidalo", "da igual"])
                || n.as_str() == "no"
                || n.as_str().starts_with("no gracias")
                || n.as_str().contains("ya no"))
            && !cancel_words
        {
            self.clear(&key)?;
            return Ok(Turn::done(
                "De acuerdo, no reservamos ninguna cita. Escríbanos cuando quiera.",
            ));
        }
        match (state, cancel_words) {
            (Some(Step::Cancel { references }), _) => {
                if let Some(i) = choice(&n, references.len()) {
                    self.clear(&key)?;
                    return self.cancelled(&references[i]);
                }
                self.ask_cancel(&key, contact, now)
            }
            (_, true) => self.ask_cancel(&key, contact, now),
            (
                Some(Step::Slot {
                    service: sid,
                    district: d,
                    slots,
                }),
                false,
            ) => {
                let d2 = district.map(str::to_string).or(d.clone());
                if let Some(new_service) = service.filter(|s| s.id != sid) {
                    // another service named: start over with it
                    return self.offer(&key, &new_service.id, d2.as_deref(), now, None);
                }
                if district.is_some() && district.map(str::to_string) != d {
                    // "mejor en Nervión": the same service elsewhere
                    return self.offer(&key, &sid, district, now, None);
                }
                if let Some(i) = choice(&n, slots.len()) {
                    let s = &slots[i];
                    return match self
                        .book
                        .book(&sid, &s.office, s.start, contact, channel, now)
                    {
                        Ok(a) => {
                            // the booking is made: a state store failing now must not hide
                            // its reference from the citizen (a state left behind expires)
                            let _ = self.clear(&key);
                            let a = self.book.confirm(&a.reference)?;
                            Ok(Turn {
                                text: format!(
                                    "Cita confirmada: {} el {} en {}. Referencia {}. Para anularla escriba \"cancelar mi cita\".",
                                    self.service_name(&sid),
                                    spanish_time(a.start),
                                    s.office_name,
                                    a.reference
                                ),
                                options: Vec::new(),
                                appointment: Some(a),
                                done: true,
                            })
                        }
                        Err(AppointmentError::SlotTaken { .. }) => {
                            let mut t = self.offer(&key, &sid, d.as_deref(), now, None)?;
                            t.text = format!("Esa hora se acaba de ocupar. {}", t.text);
                            Ok(t)
                        }
                        Err(e) => Err(e),
                    };
                }
                if has(
                    &tokens,
                    &["otr", "ningun", "mas tarde", "despues", "siguiente"],
                ) {
                    let after = slots.last().map(|s| s.start);
                    return self.offer(&key, &sid, d.as_deref(), now, after);
                }
                // not understood: ask again, same options
                let mut t = self.slots_turn(&sid, &slots);
                t.text = format!("No he entendido su elección. {}", t.text);
                self.set(
                    &key,
                    Step::Slot {
                        service: sid,
                        district: d,
                        slots,
                    },
                    now,
                )?;
                Ok(t)
            }
            (Some(Step::Service { district: d }), false) => {
                let d = district.map(str::to_string).or(d);
                let services = self.book.offices().services().to_vec();
                let chosen =
                    service.or_else(|| choice(&n, services.len()).map(|i| services[i].clone()));
                match chosen {
                    Some(s) => self.offer(&key, &s.id, d.as_deref(), now, None),
                    None => self.ask_service(&key, d, now, true),
                }
            }
            (None, false) => match service {
                Some(s) => self.offer(&key, &s.id, district, now, None),
                None => self.ask_service(&key, district.map(str::to_string), now, false),
            },
        }
    }

    fn service_name(&self, id: &str) -> String {
        self.book
            .offices()
            .service(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|_| id.to_string())
    }

    fn ask_service(
        &self,
        key: &str,
        district: Option<String>,
        now: NaiveDateTime,
        again: bool,
    ) -> Result<Turn, AppointmentError> {
        let options: Vec<(String, String)> = self
            .book
            .offices()
            .services()
            .iter()
            .enumerate()
            .take(10)
            .map(|(i, s)| (format!("opt:{}", i + 1), s.name.clone()))
            .collect();
        self.set(key, Step::Service { district }, now)?;
        Ok(Turn {
            text: format!(
                "{}¿Para qué trámite quiere la cita?",
                if again {
                    "No he entendido el trámite. "
                } else {
                    ""
                }
            ),
            options,
            appointment: None,
            done: false,
        })
    }

    fn slots_turn(&self, service: &str, slots: &[Slot]) -> Turn {
        let office = slots.first().map_or("", |s| s.office_name.as_str());
        Turn {
            text: format!(
                "Citas libres para {} en {office}. Elija una:",
                self.service_name(service)
            ),
            options: slots
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("opt:{}", i + 1), short_time(s.start)))
                .collect(),
            appointment: None,
            done: false,
        }
    }

    fn offer(
        &self,
        key: &str,
        service: &str,
        district: Option<&str>,
        now: NaiveDateTime,
        after: Option<NaiveDateTime>,
    ) -> Result<Turn, AppointmentError> {
        let slots = match self
            .book
            .offer_after(service, district, now, after, SLOTS_OFFERED)
        {
            Ok(s) => s,
            Err(AppointmentError::UnknownDistrict(_)) => {
                self.book
                    .offer_after(service, None, now, after, SLOTS_OFFERED)?
            }
            Err(e) => return Err(e),
        };
        let t = self.slots_turn(service, &slots);
        self.set(
            key,
            Step::Slot {
                service: service.into(),
                district: district.map(str::to_string),
                slots,
            },
            now,
        )?;
        Ok(t)
    }

    fn ask_cancel(
        &self,
        key: &str,
        contact: &Contact,
        now: NaiveDateTime,
    ) -> Result<Turn, AppointmentError> {
        let mine: Vec<Appointment> = self
            .book
            .for_contact(contact)?
            .into_iter()
            .filter(|a| a.start >= now)
            .collect();
        match mine.len() {
            0 => {
                self.clear(key)?;
                Ok(Turn::done("No tiene ninguna cita pendiente a su nombre."))
            }
            1 => {
                self.clear(key)?;
                self.cancelled(&mine[0].reference)
            }
            _ => {
                let options = mine
                    .iter()
                    .take(10)
                    .enumerate()
                    .map(|(i, a)| {
                        (
                            format!("opt:{}", i + 1),
                            format!("{} {}", short_time(a.start), a.reference),
                        )
                    })
                    .collect();
                self.set(
                    key,
                    Step::Cancel {
                        references: mine.iter().map(|a| a.reference.clone()).collect(),
                    },
                    now,
                )?;
                Ok(Turn {
                    text: "Tiene varias citas. ¿Cuál quiere cancelar?".into(),
                    options,
                    appointment: None,
                    done: false,
                })
            }
        }
    }

    fn cancelled(&self, reference: &str) -> Result<Turn, AppointmentError> {
        let a = self.book.cancel(reference)?;
        Ok(Turn {
            text: format!(
                "Cita cancelada: {} del {} (referencia {}).",
                self.service_name(&a.service),
                spanish_time(a.start),
                a.reference
            ),
            options: Vec::new(),
            appointment: Some(a),
            done: true,
        })
    }
}

/// `mié 9 dic 09:30`: short enough for a WhatsApp button (20 characters).
fn short_time(t: NaiveDateTime) -> String {
    const DAYS: [&str; 7] = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"];
    const MONTHS: [&str; 12] = [
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
    ];
    format!(
        "{} {} {} {:02}:{:02}",
        DAYS[t.weekday().num_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month0() as usize],
        t.hour(),
        t.minute()
    )
}
