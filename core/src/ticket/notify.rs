//! Follow-up texts: what a citizen is told when their ticket changes, in Spanish, with the
//! reference.
//!
//! One template per event (the statuses, plus `reopened`, `recategorised`, `status_reply` —
//! the answer to "¿cómo va mi aviso …?" — and `unknown_reference`). The configuration's
//! `[tickets.templates]` overrides any of them; an empty template sends nothing for that event.
//!
//! ```
//! use civic_router::ticket::notify::Templates;
//! use std::collections::BTreeMap;
//! let t = Templates::with_overrides(&BTreeMap::new()).unwrap();
//! let text = t.render("resolved", &|k| match k {
//!     "reference" => Some("SEV-2026-000001".to_string()),
//!     "note" => Some("Farola reparada.".to_string()),
//!     _ => None,
//! }).unwrap();
//! assert_eq!(text, "Su aviso SEV-2026-000001 ha sido resuelto. Farola reparada.");
//! assert_eq!(t.render("closed", &|_| None), None); // nothing is sent on closing
//! ```

use std::collections::BTreeMap;

use super::Status;

/// The events that have a template.
pub const EVENTS: &[&str] = &[
    "routed",
    "accepted",
    "in_progress",
    "resolved",
    "rejected",
    "duplicate",
    "closed",
    "reopened",
    "recategorised",
    "status_reply",
    "unknown_reference",
];

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "reference",
    "status",
    "status_name",
    "department_name",
    "category_name",
    "note",
    "duplicate_of",
];

fn builtin(event: &str) -> &'static str {
    match event {
        "routed" => "Hemos registrado su aviso {reference} ({category_name}). Lo atenderá {department_name}; le informaremos de cada cambio.",
        "accepted" => "Su aviso {reference} ha sido aceptado por {department_name}.",
        "in_progress" => "Su aviso {reference} está en curso: {department_name} está trabajando en él.",
        "resolved" => "Su aviso {reference} ha sido resuelto. {note}",
        "rejected" => "Su aviso {reference} no será atendido por {department_name}. {note}",
        "duplicate" => "Su aviso {reference} coincide con otro ya registrado ({duplicate_of}); le informaremos de su evolución.",
        "reopened" => "Su aviso {reference} se ha reabierto y vuelve a {department_name}.",
        "recategorised" => "Su aviso {reference} ha pasado a {department_name} ({category_name}).",
        "status_reply" => "Su aviso {reference} está {status_name}. Lo lleva {department_name}.",
        "unknown_reference" => "No encontramos ningún aviso con la referencia {reference}. Revise el número, por favor.",
        _ => "",
    }
}

/// How a status is said to a citizen (`en curso`).
///
/// ```
/// use civic_router::ticket::{Status, notify::status_name};
/// assert_eq!(status_name(Status::InProgress), "en curso");
/// ```
pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Received => "recibido",
        Status::Routed => "enviado al servicio responsable",
        Status::Accepted => "aceptado",
        Status::InProgress => "en curso",
        Status::Resolved => "resuelto",
        Status::Rejected => "rechazado",
        Status::Duplicate => "unido a otro aviso igual",
        Status::Closed => "cerrado",
    }
}

/// The follow-up templates in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    texts: BTreeMap<String, String>,
}

impl Templates {
    /// The built-in texts with the configuration's overrides; refuses unknown events and
    /// placeholders, naming them.
    ///
    /// ```
    /// use civic_router::ticket::notify::Templates;
    /// let bad = [("resuelto".to_string(), "x".to_string())].into_iter().collect();
    /// assert!(Templates::with_overrides(&bad).unwrap_err().contains("resuelto"));
    /// ```
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Templates, String> {
        let mut texts: BTreeMap<String, String> = EVENTS
            .iter()
            .map(|e| (e.to_string(), builtin(e).to_string()))
            .collect();
        for (k, v) in overrides {
            if !EVENTS.contains(&k.as_str()) {
                return Err(format!(
                    "tickets.templates.{k}: unknown event (expected one of {})",
                    EVENTS.join(", ")
                ));
            }
            let known = PLACEHOLDERS.iter().map(|s| s.to_string()).collect();
            crate::rules::check_template_pub(v, Some(&known))
                .map_err(|e| format!("tickets.templates.{k}: {e}"))?;
            texts.insert(k.clone(), v.clone());
        }
        Ok(Templates { texts })
    }

    /// The text for an event, or `None` when nothing is sent for it.
    pub fn render(&self, event: &str, value: &dyn Fn(&str) -> Option<String>) -> Option<String> {
        let t = self.texts.get(event)?;
        if t.trim().is_empty() {
            return None;
        }
        let values: BTreeMap<&str, String> = PLACEHOLDERS
            .iter()
            .filter_map(|p| value(p).map(|v| (*p, v)))
            .collect();
        let out = crate::pipeline::render(t, |k| values.get(k).map(String::as_str));
        Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}
