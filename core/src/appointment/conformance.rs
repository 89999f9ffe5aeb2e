//! The contract every [`AppointmentStore`] keeps, as one function a store's tests call (the
//! memory and SQLite stores here; a PostgreSQL store later).
//!
//! ```
//! use std::sync::Arc;
//! use civic_router::appointment::{conformance, MemoryAppointmentStore};
//! conformance::check_store(Arc::new(MemoryAppointmentStore::default())).unwrap();
//! ```

use super::*;

fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2030, 3, d)
        .and_then(|x| x.and_hms_opt(h, m, 0))
        .expect("valid test time")
}

fn appt(reference: &str, office: &str, start: NaiveDateTime, phone: &str) -> Appointment {
    Appointment {
        reference: reference.into(),
        office: office.into(),
        service: "padron".into(),
        start,
        end: start + Duration::minutes(15),
        status: AppointmentStatus::Booked,
        contact: Contact {
            phone: Some(phone.into()),
            ..Contact::default()
        },
        channel: ChannelKind::Whatsapp,
        urgent: false,
        created_at: Utc::now(),
        reminded: false,
    }
}

macro_rules! ensure {
    ($c:expr, $($m:tt)*) => {
        if !$c {
            return Err(format!($($m)*));
        }
    };
}

/// Runs the whole contract against a store (which should be empty; office ids are unique to
/// this check). `Err` names the broken promise.
pub fn check_store(store: Arc<dyn AppointmentStore>) -> Result<(), String> {
    let suffix = new_reference();
    let office = format!("conformance-{suffix}");
    let r = |n: u32| format!("{suffix}-{n}");
    // insert, get, limit
    let a = appt(&r(1), &office, at(4, 9, 0), "+34600000001");
    store.insert_if_free(&a, 2).map_err(|e| e.to_string())?;
    let got = store.get(&r(1)).map_err(|e| e.to_string())?;
    ensure!(got == a, "get returned {got:?}, not what was inserted");
    store
        .insert_if_free(&appt(&r(2), &office, at(4, 9, 0), "+34600000002"), 2)
        .map_err(|e| e.to_string())?;
    let third = store.insert_if_free(&appt(&r(3), &office, at(4, 9, 0), "+34600000003"), 2);
    ensure!(
        matches!(third, Err(AppointmentError::SlotTaken { .. })),
        "a third booking of a slot of 2 places was {third:?}"
    );
    ensure!(
        matches!(store.get("nope"), Err(AppointmentError::NotFound(_))),
        "an unknown reference was found"
    );
    // cancelling frees the place
    let c = store
        .set_status(&r(2), AppointmentStatus::Cancelled)
        .map_err(|e| e.to_string())?;
    ensure!(c.status == AppointmentStatus::Cancelled, "status not set");
    store
        .insert_if_free(&appt(&r(3), &office, at(4, 9, 0), "+34600000003"), 2)
        .map_err(|e| format!("a cancelled place was not freed: {e}"))?;
    // taken counts active only
    let t = store
        .taken(&office, at(4, 0, 0), at(5, 0, 0))
        .map_err(|e| e.to_string())?;
    ensure!(
        t.get(&at(4, 9, 0)) == Some(&2),
        "taken() counted {t:?}, expected 2 at 09:00"
    );
    // move: to a full slot refused, to a free one done
    let full = store.move_if_free(&r(1), at(4, 9, 0), at(4, 9, 15), 2);
    ensure!(
        matches!(full, Err(AppointmentError::SlotTaken { .. })),
        "moved into a full slot: {full:?}"
    );
    let moved = store
        .move_if_free(&r(1), at(4, 10, 0), at(4, 10, 15), 2)
        .map_err(|e| e.to_string())?;
    ensure!(moved.start == at(4, 10, 0), "move did not change the start");
    // by contact, reminders
    let mine = store
        .for_contact("+34600000001")
        .map_err(|e| e.to_string())?;
    ensure!(
        mine.len() == 1 && mine[0].reference == r(1),
        "for_contact gave {mine:?}"
    );
    let due = store
        .unreminded(at(4, 0, 0), at(4, 23, 0))
        .map_err(|e| e.to_string())?;
    ensure!(
        due.iter().filter(|a| a.office == office).count() == 2,
        "unreminded gave {} rows",
        due.len()
    );
    store.mark_reminded(&r(1)).map_err(|e| e.to_string())?;
    let due = store
        .unreminded(at(4, 0, 0), at(4, 23, 0))
        .map_err(|e| e.to_string())?;
    ensure!(
        due.iter().all(|a| a.reference != r(1)),
        "a reminded appointment is still due"
    );
    // marking the reminder of a time the appointment no longer has changes nothing
    let moved_away = store
        .mark_reminded_at(&r(3), at(4, 11, 0))
        .map_err(|e| e.to_string())?;
    ensure!(
        !moved_away,
        "marked the reminder of a time r3 does not have"
    );
    let due = store
        .unreminded(at(4, 0, 0), at(4, 23, 0))
        .map_err(|e| e.to_string())?;
    ensure!(
        due.iter().any(|a| a.reference == r(3)),
        "a reminder of another time marked r3 reminded"
    );
    let marked = store
        .mark_reminded_at(&r(3), at(4, 9, 0))
        .map_err(|e| e.to_string())?;
    ensure!(marked, "the reminder of r3 at its own time was not marked");
    let due = store
        .unreminded(at(4, 0, 0), at(4, 23, 0))
        .map_err(|e| e.to_string())?;
    ensure!(
        due.iter().all(|a| a.reference != r(3)),
        "r3 is still due after mark_reminded_at"
    );
    ensure!(
        matches!(
            store.mark_reminded_at("nope", at(4, 9, 0)),
            Err(AppointmentError::NotFound(_))
        ),
        "mark_reminded_at of an unknown reference"
    );
    // the race: 50 threads, one place
    let last = at(6, 12, 0);
    let wins = std::sync::atomic::AtomicUsize::new(0);
    let taken = std::sync::atomic::AtomicUsize::new(0);
    let other = Mutex::new(Vec::new());
    let barrier = std::sync::Barrier::new(50);
    std::thread::scope(|s| {
        for i in 0..50u32 {
            let store = &store;
            let (wins, taken, other, barrier, office) = (&wins, &taken, &other, &barrier, &office);
            let reference = r(100 + i);
            s.spawn(move || {
                let a = appt(&reference, office, last, &format!("+3461{i:07}"));
                barrier.wait();
                match store.insert_if_free(&a, 1) {
                    Ok(()) => wins.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
                    Err(AppointmentError::SlotTaken { .. }) => {
                        taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                    }
                    Err(e) => {
                        other.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                        0
                    }
                };
            });
        }
    });
    let other = other.into_inner().unwrap_or_else(|p| p.into_inner());
    ensure!(other.is_empty(), "racing bookers failed: {other:?}");
    let (w, t) = (wins.into_inner(), taken.into_inner());
    ensure!(
        w == 1 && t == 49,
        "50 threads on the last place: {w} booked, {t} refused"
    );
    let t = store
        .taken(&office, last, last + Duration::minutes(1))
        .map_err(|e| e.to_string())?;
    ensure!(
        t.get(&last) == Some(&1),
        "the raced slot holds {t:?} bookings"
    );
    Ok(())
}
