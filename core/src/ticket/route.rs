//! Where outbox rows go: a [`Route`] per department (the case) and per channel (the
//! citizen's follow-up).
//!
//! * [`MailRoute`] renders the case as an e-mail (RFC 5322, UTF-8 plain text) and writes it as
//!   an `.eml` file to a directory a mail relay or a department's mailbox picks up — for
//!   departments without an API;
//! * `HttpRoute` (feature `delivery`) posts the case as JSON to a department's webhook, with
//!   an `Idempotency-Key` header per delivery and timeouts;
//! * any type implementing [`Route`] — the host's own (a WhatsApp sender, a queue), or a
//!   closure through [`FnRoute`].
//!
//! The `Relay` (feature `delivery`) takes due rows from the store's outbox, sends each through
//! its route with per-target concurrency limits, and retries failures with exponential
//! backoff and jitter until the dead-letter table.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::store::{OutboxItem, OutboxKind};
use crate::error::DeliveryError;

#[cfg(feature = "delivery")]
mod http;
#[cfg(feature = "delivery")]
mod relay;
#[cfg(feature = "delivery")]
pub use http::HttpRoute;
#[cfg(feature = "delivery")]
pub use relay::{Relay, RelayReport, RetryPolicy};

/// Sends one outbox row somewhere. Must be idempotent per `item.idempotency_key`: the relay
/// delivers at least once, and a row may come again after a crash or a lost answer.
#[async_trait]
pub trait Route: Send + Sync {
    /// Delivers the row, or says why not and whether to retry.
    async fn send(&self, item: &OutboxItem) -> Result<(), DeliveryError>;
}

/// A route made of a closure: the quickest way for a host to plug in its own sender.
///
/// ```
/// use civic_router::ticket::route::{FnRoute, Route};
/// let route = FnRoute::new(|item| {
///     println!("would send {}", item.idempotency_key);
///     Ok(())
/// });
/// # let _ = route;
/// ```
pub struct FnRoute<F>(F);

impl<F> FnRoute<F>
where
    F: Fn(&OutboxItem) -> Result<(), DeliveryError> + Send + Sync,
{
    /// Wraps a closure.
    pub fn new(f: F) -> Self {
        FnRoute(f)
    }
}

#[async_trait]
impl<F> Route for FnRoute<F>
where
    F: Fn(&OutboxItem) -> Result<(), DeliveryError> + Send + Sync,
{
    async fn send(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        (self.0)(item)
    }
}

/// Writes each row as an e-mail file (`<idempotency key>.eml`) into a directory.
///
/// The message is RFC 5322 with a UTF-8 `text/plain` body (8bit), encoded-word subject
/// (RFC 2047), a `Message-ID` derived from the idempotency key (so a resent row is the same
/// message, which mail systems drop as a duplicate) and an `X-Idempotency-Key` header. The
/// file is written to a temporary name and renamed, so a reader never sees half a message
/// and a repeat overwrites the same file.
///
/// ```
/// use civic_router::ticket::route::{MailRoute, Route};
/// use civic_router::ticket::{block_on, OutboxItem, OutboxKind, Reference};
/// let dir = std::env::temp_dir().join(format!("civic-mail-{}", std::process::id()));
/// let route = MailRoute::new(&dir, "010@sevilla.example")
///     .with_recipient("alumbrado", "averias@alumbrado.example");
/// let item = OutboxItem {
///     id: 1, kind: OutboxKind::Delivery, target: "alumbrado".into(),
///     reference: Some("SEV-2026-000001".parse().unwrap()), appointment: None, event: "new".into(),
///     idempotency_key: "SEV-2026-000001:1:d:alumbrado:new".into(), to: None,
///     payload: serde_json::json!({}), text: "Nuevo aviso: SEV-2026-000001\n\nFarola apagada\n".into(),
///     attempts: 0, next_attempt_at: chrono::Utc::now(), created_at: chrono::Utc::now(),
///     last_error: None,
/// };
/// block_on(route.send(&item)).unwrap();
/// let eml = std::fs::read_to_string(route.path_for(&item)).unwrap();
/// assert!(eml.contains("To: averias@alumbrado.example\r\n"));
/// assert!(eml.contains("Subject: [SEV-2026-000001] Nuevo aviso\r\n"));
/// assert!(eml.ends_with("Farola apagada\r\n"));
/// # std::fs::remove_dir_all(&dir).ok();
/// ```
#[derive(Debug, Clone)]
pub struct MailRoute {
    dir: PathBuf,
    from: String,
    recipients: std::collections::BTreeMap<String, String>,
}

impl MailRoute {
    /// Writes into `dir` (created when needed), sending as `from`.
    pub fn new(dir: impl AsRef<Path>, from: impl Into<String>) -> Self {
        MailRoute {
            dir: dir.as_ref().to_path_buf(),
            from: from.into(),
            recipients: Default::default(),
        }
    }

    /// The address of a target (a department id); without one, `<target>@invalid`.
    pub fn with_recipient(mut self, target: impl Into<String>, address: impl Into<String>) -> Self {
        self.recipients.insert(target.into(), address.into());
        self
    }

    /// The file a row is written to.
    pub fn path_for(&self, item: &OutboxItem) -> PathBuf {
        let name: String = item
            .idempotency_key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{name}.eml"))
    }

    /// The e-mail for a row.
    pub fn render(&self, item: &OutboxItem) -> String {
        let to = self
            .recipients
            .get(&item.target)
            .cloned()
            .unwrap_or_else(|| format!("{}@invalid", item.target));
        let first = item.text.lines().next().unwrap_or("");
        let what = first.split(':').next().unwrap_or(first).trim();
        let subject = match item.kind {
            OutboxKind::Delivery => format!("[{}] {what}", item.about()),
            OutboxKind::Notification => format!("[{}] Su aviso", item.about()),
            OutboxKind::Reminder => format!("[{}] Recordatorio de cita", item.about()),
        };
        let msgid: String = item
            .idempotency_key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-.".contains(c) {
                    c
                } else {
                    '.'
                }
            })
            .collect();
        let mut s = String::new();
        for (k, v) in [
            ("From", self.from.clone()),
            ("To", sanitize_header(&to)),
            ("Subject", encode_word(&subject)),
            ("Date", item.created_at.to_rfc2822()),
            ("Message-ID", format!("<{msgid}@civic-router>")),
            ("X-Idempotency-Key", sanitize_header(&item.idempotency_key)),
            ("MIME-Version", "1.0".into()),
            ("Content-Type", "text/plain; charset=utf-8".into()),
            ("Content-Transfer-Encoding", "8bit".into()),
        ] {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        for line in item.text.lines() {
            // a lone "." line is harmless in a file but not over SMTP: stuff it
            if line.starts_with('.') {
                s.push('.');
            }
            s.push_str(line);
            s.push_str("\r\n");
        }
        s
    }
}

fn sanitize_header(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).collect()
}

/// RFC 2047 encoded-word (Q encoding) when the text is not plain ASCII.
fn encode_word(s: &str) -> String {
    let s = sanitize_header(s);
    if s.is_ascii() {
        return s;
    }
    let mut out = String::from("=?UTF-8?Q?");
    for b in s.bytes() {
        match b {
            b' ' => out.push('_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'[' | b']' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out.push_str("?=");
    out
}

#[async_trait]
impl Route for MailRoute {
    async fn send(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        let fail =
            |e: std::io::Error| DeliveryError::retryable(&item.target, format!("mail file: {e}"));
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let path = self.path_for(item);
        let tmp = path.with_extension("eml.tmp");
        std::fs::write(&tmp, self.render(item)).map_err(fail)?;
        std::fs::rename(&tmp, &path).map_err(fail)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::encode_word;

    #[test]
    fn encoded_words() {
        assert_eq!(
            encode_word("[SEV-2026-000001] Nuevo aviso"),
            "[SEV-2026-000001] Nuevo aviso"
        );
        assert_eq!(encode_word("Categoría"), "=?UTF-8?Q?Categor=C3=ADa?=");
    }
}
