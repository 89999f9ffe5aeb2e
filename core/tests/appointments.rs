//! Appointments over the Seville example offices: booking rules, the store contracts
//! (appointments, conversation state) on memory and SQLite, 50 threads on the last place,
//! booking conversations rendered on WhatsApp, SMS and the phone bot, and conversations
//! continued by another instance sharing the state store.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use civic_router::appointment::conversation::Conversations;
use civic_router::appointment::state::{
    MemoryConversationStateStore, SqliteConversationStateStore,
};
use civic_router::appointment::{
    conformance, open_booking_stores, open_conversation_state_store, AppointmentError,
    AppointmentStore, Appointments, ConversationStateStore, MemoryAppointmentStore, Offices,
};
use civic_router::channel::{sms::Sms, voice::Voice, whatsapp::WhatsApp, Channel, ReplyContext};
use civic_router::message::Contact;
use civic_router::ChannelKind;

fn offices() -> Arc<Offices> {
    Arc::new(
        Offices::from_path(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/sevilla/offices.toml"
        ))
        .unwrap(),
    )
}

/// Tuesday 1 December 2026.
fn t(d: u32, h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, d)
        .unwrap()
        .and_hms_opt(h, m, 0)
        .unwrap()
}

fn person(n: u32) -> Contact {
    Contact {
        phone: Some(format!("+3460000{n:04}")),
        ..Contact::default()
    }
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("civic-appt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("citas.db")
}

#[test]
fn store_contract_memory() {
    conformance::check_store(Arc::new(MemoryAppointmentStore::default())).unwrap();
}

#[test]
fn state_store_contract_memory() {
    let store: Arc<dyn ConversationStateStore> = Arc::new(MemoryConversationStateStore::default());
    conformance::check_state_store(&|| store.clone()).unwrap();
}

#[test]
fn state_store_contract_sqlite() {
    let path = tmp("state-contract");
    // every handle its own connection to the file, as another process would have
    conformance::check_state_store(&|| {
        Arc::new(SqliteConversationStateStore::open(&path).unwrap())
    })
    .unwrap();
    // by URL, and beside the appointments in the same file
    let url = format!("sqlite://{}", path.display());
    assert!(open_conversation_state_store(&url).is_ok());
    conformance::check_store(open_booking_stores(&url).unwrap().appointments).unwrap();
}

#[test]
fn store_contract_sqlite() {
    let store = civic_router::appointment::SqliteAppointmentStore::open(tmp("contract")).unwrap();
    conformance::check_store(Arc::new(store)).unwrap();
}

/// 50 threads book the last place of one slot through `Appointments::book`: exactly one wins.
fn last_place_race(store: Arc<dyn AppointmentStore>) {
    let book = Appointments::new(offices(), store);
    let now = t(1, 8, 0);
    let slot = t(1, 12, 0);
    // capacity 3, 1 held for urgent services: two ordinary places; take one
    book.book(
        "padron",
        "distrito_triana",
        slot,
        &person(0),
        ChannelKind::Sms,
        now,
    )
    .unwrap();
    let wins = AtomicUsize::new(0);
    let refused = AtomicUsize::new(0);
    let barrier = Barrier::new(50);
    std::thread::scope(|s| {
        for i in 1..=50 {
            let (book, wins, refused, barrier) = (&book, &wins, &refused, &barrier);
            s.spawn(move || {
                barrier.wait();
                match book.book(
                    "padron",
                    "distrito_triana",
                    slot,
                    &person(i),
                    ChannelKind::Whatsapp,
                    now,
                ) {
                    Ok(_) => wins.fetch_add(1, Ordering::SeqCst),
                    Err(AppointmentError::SlotTaken { .. }) => {
                        refused.fetch_add(1, Ordering::SeqCst)
                    }
                    Err(e) => panic!("unexpected {e}"),
                };
            });
        }
    });
    assert_eq!(
        wins.into_inner(),
        1,
        "exactly one of 50 gets the last place"
    );
    assert_eq!(refused.into_inner(), 49);
    // the reserve is still there for an urgent service
    let urgent = book
        .book(
            "emergencia_social",
            "distrito_triana",
            slot,
            &person(99),
            ChannelKind::Voice,
            now,
        )
        .unwrap();
    assert!(urgent.urgent);
    // and now the slot is full for everyone
    assert!(book
        .book(
            "emergencia_social",
            "distrito_triana",
            slot,
            &person(98),
            ChannelKind::Voice,
            now
        )
        .is_err());
}

#[test]
fn fifty_threads_last_place_memory() {
    last_place_race(Arc::new(MemoryAppointmentStore::default()));
}

#[test]
fn fifty_threads_last_place_sqlite() {
    let store = civic_router::appointment::SqliteAppointmentStore::open(tmp("race")).unwrap();
    last_place_race(Arc::new(store));
}

#[test]
fn earliest_slot_same_or_next_day_else_nearest() {
    let book = Appointments::new(offices(), Arc::new(MemoryAppointmentStore::default()));
    // 10:00 on a Tuesday: the first slot is 10:30 (30 minutes' lead) the same day
    let s = book
        .offer("padron", Some("triana"), t(1, 10, 0), 3)
        .unwrap();
    assert_eq!(s[0].office, "distrito_triana");
    assert_eq!(s[0].start, t(1, 10, 30));
    // Friday 4 December at 15:00: Monday the 7th and Tuesday the 8th are holidays (example),
    // so the first slot is Wednesday the 9th
    let s = book
        .offer("padron", Some("triana"), t(4, 15, 0), 1)
        .unwrap();
    assert_eq!(s[0].start, t(9, 9, 0));
    // fill Triana's ordinary places today and tomorrow: the nearest office is offered
    let now = t(1, 13, 0);
    for day in [1, 2] {
        let slots: Vec<_> = (0..20)
            .map(|i| t(day, 9, 0) + Duration::minutes(15 * i))
            .filter(|s| *s >= t(1, 13, 30))
            .collect();
        for s in slots {
            for k in 0..2 {
                book.book(
                    "padron",
                    "distrito_triana",
                    s,
                    &person(k),
                    ChannelKind::Sms,
                    now,
                )
                .unwrap();
            }
        }
    }
    let s = book.offer("padron", Some("triana"), now, 1).unwrap();
    assert_ne!(s[0].office, "distrito_triana");
    assert!(s[0].start.date() <= t(2, 0, 0).date());
    // nearest: Los Remedios is closer to Triana than Norte
    let order: Vec<&str> = book
        .offices()
        .offices_for("padron", Some("triana"))
        .unwrap()
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    let pos = |id: &str| order.iter().position(|o| *o == id).unwrap();
    assert_eq!(order[0], "distrito_triana");
    assert!(pos("distrito_los_remedios") < pos("distrito_norte"));
    // book_earliest takes it
    let a = book
        .book_earliest("padron", Some("triana"), &person(7), ChannelKind::Web, now)
        .unwrap();
    assert_eq!(a.office, s[0].office);
}

#[test]
fn typed_errors() {
    let book = Appointments::new(offices(), Arc::new(MemoryAppointmentStore::default()));
    let now = t(1, 8, 0);
    let c = person(1);
    fn e<T: std::fmt::Debug>(r: Result<T, AppointmentError>) -> AppointmentError {
        r.unwrap_err()
    }
    assert!(matches!(
        e(book.book("padron", "nope", t(1, 9, 0), &c, ChannelKind::Sms, now)),
        AppointmentError::UnknownOffice(_)
    ));
    assert!(matches!(
        e(book.book(
            "nope",
            "distrito_triana",
            t(1, 9, 0),
            &c,
            ChannelKind::Sms,
            now
        )),
        AppointmentError::UnknownService(_)
    ));
    assert!(matches!(
        e(book.book(
            "vivienda",
            "distrito_triana",
            t(1, 9, 0),
            &c,
            ChannelKind::Sms,
            now
        )),
        AppointmentError::NotOffered { .. }
    ));
    // 09:07 is off the grid; 15:00 closed; the 8th a holiday; yesterday past
    for bad in [t(1, 9, 7), t(1, 15, 0), t(8, 9, 0), t(1, 7, 0)] {
        assert!(matches!(
            e(book.book("padron", "distrito_triana", bad, &c, ChannelKind::Sms, now)),
            AppointmentError::NotASlot { .. }
        ));
    }
    assert!(matches!(
        e(book.offer("padron", Some("atlantis"), now, 1)),
        AppointmentError::UnknownDistrict(_)
    ));
    assert!(matches!(
        e(book.cancel("CP-XXXXXX")),
        AppointmentError::NotFound(_)
    ));
    let a = book
        .book(
            "padron",
            "distrito_triana",
            t(1, 9, 0),
            &c,
            ChannelKind::Sms,
            now,
        )
        .unwrap();
    book.cancel(&a.reference).unwrap();
    assert!(matches!(
        e(book.confirm(&a.reference)),
        AppointmentError::InvalidState { .. }
    ));
    let any: civic_router::Error = AppointmentError::ConversationExpired.into();
    assert_eq!(any.kind().code(), "APPOINTMENT");
    assert!(Offices::from_toml_str(
        "[[office]]\nid = 'a'\nname = 'A'\nhours = ['mon 25:00-26:00']\nservices = ['x']\n",
        "bad.toml"
    )
    .is_err());
}

#[test]
fn move_confirm_and_reminders() {
    let book = Appointments::new(offices(), Arc::new(MemoryAppointmentStore::default()));
    let now = t(1, 8, 0);
    let a = book
        .book(
            "padron",
            "distrito_triana",
            t(2, 9, 0),
            &person(1),
            ChannelKind::Whatsapp,
            now,
        )
        .unwrap();
    let m = book.move_to(&a.reference, t(2, 11, 15), now).unwrap();
    assert_eq!(m.start, t(2, 11, 15));
    book.confirm(&a.reference).unwrap();
    // due within 24 h of the 1st at 12:00: the appointment on the 2nd at 11:15
    let r = book
        .reminders_due(t(1, 12, 0), Duration::hours(24))
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].channel, ChannelKind::Whatsapp);
    assert!(
        r[0].text.contains("miércoles 2 de diciembre a las 11:15"),
        "{}",
        r[0].text
    );
    assert!(r[0].text.contains(&a.reference));
    book.mark_reminded(&a.reference).unwrap();
    assert!(book
        .reminders_due(t(1, 12, 0), Duration::hours(24))
        .unwrap()
        .is_empty());
}

fn talk() -> Conversations {
    Conversations::new(
        Appointments::new(offices(), Arc::new(MemoryAppointmentStore::default())),
        Duration::minutes(15),
    )
}

fn cx(c: &Contact) -> ReplyContext {
    ReplyContext {
        to: c.clone(),
        hours_since_last_inbound: None,
        in_reply_to: Some("CA1:1".into()),
    }
}

#[test]
fn whatsapp_conversation_books_with_buttons() {
    let talk = talk();
    let me = person(1);
    let now = t(1, 10, 0);
    let wa = WhatsApp::new(b"secret".to_vec(), "token");
    let turn = talk
        .handle(
            &me,
            ChannelKind::Whatsapp,
            "quiero cita para empadronarme en Triana",
            Some("triana"),
            now,
        )
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&wa.render(&turn.reply(), &cx(&me)).unwrap().body).unwrap();
    assert_eq!(body["interactive"]["type"], "button");
    let buttons = body["interactive"]["action"]["buttons"].as_array().unwrap();
    assert_eq!(buttons.len(), 3);
    assert_eq!(buttons[0]["reply"]["id"], "opt:1");
    assert_eq!(buttons[0]["reply"]["title"], "mar 1 dic 10:30");
    // the button's id comes back as the message text
    let turn = talk
        .handle(&me, ChannelKind::Whatsapp, "opt:2", None, now)
        .unwrap();
    let a = turn.appointment.clone().unwrap();
    assert_eq!(a.start, t(1, 10, 45));
    assert_eq!(
        a.status,
        civic_router::appointment::AppointmentStatus::Confirmed
    );
    let body: serde_json::Value =
        serde_json::from_str(&wa.render(&turn.reply(), &cx(&me)).unwrap().body).unwrap();
    assert!(body["text"]["body"]
        .as_str()
        .unwrap()
        .contains(&a.reference));
    assert!(!talk.pending(&me, now).unwrap());
}

#[test]
fn sms_conversation_numbered_options_and_change_of_mind() {
    let talk = talk();
    let me = person(2);
    let now = t(1, 10, 0);
    let sms = Sms::new(vec!["token".into()]);
    let turn = talk
        .handle(
            &me,
            ChannelKind::Sms,
            "Quiero cita para el padron",
            Some("triana"),
            now,
        )
        .unwrap();
    let text = sms.reply_text(&turn.reply());
    assert!(text.contains("1) mar 1 dic 10:30"), "{text}");
    assert!(text.contains("3) "), "{text}");
    assert!(text.contains("Responda con el numero"), "{text}");
    // changes mind: another district
    let turn = talk
        .handle(
            &me,
            ChannelKind::Sms,
            "mejor en Nervion",
            Some("nervion"),
            now,
        )
        .unwrap();
    assert!(turn.text.contains("Nervión"), "{}", turn.text);
    // asks for later hours, then picks the first of those
    let turn = talk
        .handle(&me, ChannelKind::Sms, "otra hora", None, now)
        .unwrap();
    assert_eq!(turn.options[0].1, "mar 1 dic 11:15");
    let turn = talk.handle(&me, ChannelKind::Sms, "1", None, now).unwrap();
    let a = turn.appointment.unwrap();
    assert_eq!(
        (a.office.as_str(), a.start),
        ("distrito_nervion", t(1, 11, 15))
    );
    // then changes mind again and cancels
    let turn = talk
        .handle(&me, ChannelKind::Sms, "cancela mi cita", None, now)
        .unwrap();
    assert!(turn.text.starts_with("Cita cancelada"), "{}", turn.text);
    assert!(talk.appointments().for_contact(&me).unwrap().is_empty());
    // a citizen who starts and then gives up
    talk.handle(
        &me,
        ChannelKind::Sms,
        "cita para empadronarme",
        Some("sur"),
        now,
    )
    .unwrap();
    let turn = talk
        .handle(&me, ChannelKind::Sms, "no, déjalo", None, now)
        .unwrap();
    assert!(turn.done);
    assert!(!talk.pending(&me, now).unwrap());
}

#[test]
fn voice_conversation_spoken_options_and_silence() {
    let talk = talk();
    let me = Contact {
        phone: Some("+34955000000".into()),
        ..Contact::default()
    };
    let now = t(1, 10, 0);
    let voice = Voice::new(vec!["token".into()], "https://010.example/voice");
    // no service named: the bot asks which
    let turn = talk
        .handle(
            &me,
            ChannelKind::Voice,
            "hola quería pedir una cita",
            None,
            now,
        )
        .unwrap();
    assert!(turn.text.contains("trámite"));
    let turn = talk
        .handle(
            &me,
            ChannelKind::Voice,
            "para la trabajadora social en cerro amate",
            Some("cerro_amate"),
            now,
        )
        .unwrap();
    let spoken = voice.spoken_text(&turn.reply());
    assert!(spoken.contains("pulse 1"), "{spoken}");
    let xml = voice.render(&turn.reply(), &cx(&me)).unwrap().body;
    assert!(xml.contains("<Gather"), "{xml}");
    assert!(xml.contains("numDigits=\"1\""), "{xml}");
    // says "la segunda"
    let turn = talk
        .handle(&me, ChannelKind::Voice, "la segunda", None, now)
        .unwrap();
    let a = turn.appointment.clone().unwrap();
    assert_eq!(a.office, "distrito_cerro_amate");
    let xml = voice.render(&turn.reply(), &cx(&me)).unwrap().body;
    assert!(xml.contains("<Hangup"), "{xml}");
    // a caller who never answers: the question expires; a late "1" is refused with a typed
    // error, and the slot was never taken
    talk.handle(
        &me,
        ChannelKind::Voice,
        "cita para el padrón",
        Some("triana"),
        now,
    )
    .unwrap();
    let later = now + Duration::minutes(16);
    assert!(!talk.pending(&me, later).unwrap());
    let late = talk.handle(&me, ChannelKind::Voice, "uno", None, later);
    assert!(matches!(late, Err(AppointmentError::ConversationExpired)));
    assert_eq!(talk.appointments().for_contact(&me).unwrap().len(), 1);
    assert_eq!(talk.expire(later).unwrap(), 0);
}

/// Two instances behind a load balancer, each with its own connections to one SQLite file:
/// the request lands on A, the citizen's choice on B, and B books what A offered.
#[test]
fn another_instance_continues_the_conversation_sqlite() {
    let url = format!("sqlite://{}", tmp("two-instances").display());
    let a = Conversations::open(offices(), &url, Duration::minutes(15)).unwrap();
    let b = Conversations::open(offices(), &url, Duration::minutes(15)).unwrap();
    continued_by_another_instance(&a, &b);
}

/// The same with memory stores shared in one process (`with_store`).
#[test]
fn another_instance_continues_the_conversation_shared_memory() {
    let appointments: Arc<dyn AppointmentStore> = Arc::new(MemoryAppointmentStore::default());
    let states: Arc<dyn ConversationStateStore> = Arc::new(MemoryConversationStateStore::default());
    let open = || {
        Conversations::with_store(
            Appointments::new(offices(), appointments.clone()),
            Duration::minutes(15),
            states.clone(),
        )
    };
    continued_by_another_instance(&open(), &open());
}

/// What two instances sharing their stores must do: A asks, B books; B asks, A's late answer
/// is refused as expired; B's sweep forgets A's abandoned question; A cancels what B booked.
/// (`core/tests/postgres.rs` runs the same steps against PostgreSQL.)
fn continued_by_another_instance(a: &Conversations, b: &Conversations) {
    let me = person(77);
    let now = t(1, 10, 0);
    let offered = a
        .handle(
            &me,
            ChannelKind::Whatsapp,
            "quiero cita para empadronarme en Triana",
            Some("triana"),
            now,
        )
        .unwrap();
    assert_eq!(offered.options.len(), 3);
    assert!(b.pending(&me, now).unwrap(), "B does not see A's question");
    let booked = b
        .handle(&me, ChannelKind::Whatsapp, "la segunda", None, now)
        .unwrap();
    let appt = booked.appointment.expect("B booked the slot A offered");
    assert_eq!(
        (appt.office.as_str(), appt.start),
        ("distrito_triana", t(1, 10, 45))
    );
    assert!(booked.done);
    assert!(!a.pending(&me, now).unwrap());
    assert_eq!(a.appointments().for_contact(&me).unwrap().len(), 1);
    // a question asked on B that nobody answers in time: the late answer on A is refused
    b.handle(
        &me,
        ChannelKind::Sms,
        "cita para el padrón",
        Some("triana"),
        now,
    )
    .unwrap();
    let later = now + Duration::minutes(16);
    assert!(!a.pending(&me, later).unwrap());
    assert!(matches!(
        a.handle(&me, ChannelKind::Sms, "1", None, later),
        Err(AppointmentError::ConversationExpired)
    ));
    assert_eq!(b.appointments().for_contact(&me).unwrap().len(), 1);
    // expiry sweeps states left by contacts who never wrote again
    let other = person(78);
    a.handle(&other, ChannelKind::Sms, "cita para el padrón", None, now)
        .unwrap();
    assert_eq!(b.expire(later).unwrap(), 1);
    assert!(!a.pending(&other, now).unwrap());
    // and cancelling on A what was booked through B
    let t = a
        .handle(&me, ChannelKind::Sms, "cancela mi cita", None, later)
        .unwrap();
    assert!(t.text.starts_with("Cita cancelada"), "{}", t.text);
}
