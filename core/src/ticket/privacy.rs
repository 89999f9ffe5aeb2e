//! Personal data: redaction for anything that may reach a log line, and pseudonymisation after
//! the retention period ([`TicketStore::pseudonymise`](super::TicketStore::pseudonymise),
//! [`lifecycle::pseudonym`](super::lifecycle::pseudonym)).
//!
//! [`redact`] is the last line of defence over free text (a message, an error from a
//! department's server, a contact key): phone numbers, e-mail addresses and Spanish ID numbers
//! (DNI/NIE) are replaced by a marker. Typed personal data never gets that far:
//! [`Contact`](crate::message::Contact) prints `[REDACTED]` in `Debug`, and so do the
//! tickets, followers, outbox rows and conversation entries that hold one.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

fn patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            (
                r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
                "[email]",
            ),
            (r"\b[XYZxyz][\s.\-]?\d{7}[\s.\-]?[A-Za-z]\b", "[nie]"),
            (r"\b\d{2}[.\s]?\d{3}[.\s]?\d{3}[\s\-]?[A-Za-z]\b", "[dni]"),
            // 9+ digits, with the separators people type; a leading + or 00 country code
            (r"(?:\+|\b00)?\d(?:[\s.\-]?\d){8,}\b", "[phone]"),
        ]
        .into_iter()
        .filter_map(|(p, m)| Regex::new(p).ok().map(|r| (r, m)))
        .collect()
    })
}

/// Replaces phone numbers, e-mail addresses and DNI/NIE numbers in a text.
///
/// ```
/// use civic_router::ticket::privacy::redact;
/// assert_eq!(
///     redact("llamadme al +34 600 111 222 o a ana@example.org, DNI 12345678Z"),
///     "llamadme al [phone] o a [email], DNI [dni]",
/// );
/// assert_eq!(redact("sms:+34600111222"), "sms:[phone]");
/// assert_eq!(redact("farola apagada en el 12"), "farola apagada en el 12");
/// ```
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for (re, marker) in patterns() {
        if re.is_match(&out) {
            out = Cow::Owned(re.replace_all(&out, *marker).into_owned());
        }
    }
    out
}
