//! Statistics over a store: conversations and tickets per month, channel, department and
//! district; the share answered automatically; time to first reply and to resolution.
//!
//! A conversation is the entries sharing a conversation key (the channel's thread id, else
//! the contact and the day); it counts in the month, channel, department and district of its
//! first inbound message. It is *answered automatically* when it got a reply and every reply
//! was the router's (no message in it was handed to a human agent). Time to first reply runs
//! from its first inbound message to the first outbound one; time to resolution from a
//! ticket's creation to its first `resolved`. Medians and 90th percentiles interpolate
//! linearly between ranks (NumPy's default), in seconds.
//!
//! ```
//! use civic_router::ticket::report::percentile;
//! assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
//! assert_eq!(percentile(&[10.0, 20.0, 30.0, 40.0, 50.0], 0.9), Some(46.0));
//! assert_eq!(percentile(&[], 0.5), None);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::store::{ConversationEntry, Direction};
use super::{Ticket, TicketStore};
use crate::config::Config;
use crate::error::StoreError;

/// Counts along each dimension.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// All of them.
    pub total: u64,
    /// Per month (`YYYY-MM`, UTC).
    pub by_month: BTreeMap<String, u64>,
    /// Per channel.
    pub by_channel: BTreeMap<String, u64>,
    /// Per department id.
    pub by_department: BTreeMap<String, u64>,
    /// Per district id (`(none)` when unknown).
    pub by_district: BTreeMap<String, u64>,
}

impl Counts {
    fn add(&mut self, month: &str, channel: &str, department: &str, district: Option<&str>) {
        self.total += 1;
        *self.by_month.entry(month.to_string()).or_default() += 1;
        *self.by_channel.entry(channel.to_string()).or_default() += 1;
        *self
            .by_department
            .entry(department.to_string())
            .or_default() += 1;
        *self
            .by_district
            .entry(district.unwrap_or("(none)").to_string())
            .or_default() += 1;
    }
}

/// A distribution of durations, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Durations {
    /// How many were measured.
    pub count: u64,
    /// The median.
    pub median_s: Option<f64>,
    /// The 90th percentile.
    pub p90_s: Option<f64>,
}

impl Durations {
    fn of(mut v: Vec<f64>) -> Durations {
        v.sort_by(f64::total_cmp);
        Durations {
            count: v.len() as u64,
            // to the millisecond: the durations are measured in milliseconds
            median_s: percentile(&v, 0.5).map(|x| (x * 1000.0).round() / 1000.0),
            p90_s: percentile(&v, 0.9).map(|x| (x * 1000.0).round() / 1000.0),
        }
    }
}

/// The `p` quantile (0–1) of sorted values, interpolating linearly between ranks.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = p.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (pos - lo as f64))
}

/// A dimension's title and its conversation and ticket counts.
type Dimension<'a> = (
    &'static str,
    &'a BTreeMap<String, u64>,
    &'a BTreeMap<String, u64>,
);

/// The figures a manager reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The month the report is restricted to, if any.
    pub month: Option<String>,
    /// Conversations.
    pub conversations: Counts,
    /// Tickets.
    pub tickets: Counts,
    /// Tickets per current status.
    pub tickets_by_status: BTreeMap<String, u64>,
    /// Conversations answered automatically.
    pub answered_automatically: u64,
    /// Their share of all conversations (0–1).
    pub automatic_share: f64,
    /// Time to first reply.
    pub first_reply: Durations,
    /// Time from a ticket's creation to its resolution.
    pub resolution: Durations,
    /// Department id → name, for display.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub department_names: BTreeMap<String, String>,
}

impl Report {
    /// Computes the report from a store's tickets and conversation entries.
    pub async fn from_store(
        store: &dyn TicketStore,
        month: Option<&str>,
        config: Option<&Config>,
    ) -> Result<Report, StoreError> {
        let tickets = store.tickets().await?;
        let entries = store.entries().await?;
        let mut r = Report::compute(&tickets, &entries, month);
        if let Some(c) = config {
            r.department_names = c
                .departments
                .iter()
                .map(|d| (d.id.clone(), d.name.clone()))
                .collect();
        }
        Ok(r)
    }

    /// Computes the report from tickets and entries (pure).
    pub fn compute(
        tickets: &[Ticket],
        entries: &[ConversationEntry],
        month: Option<&str>,
    ) -> Report {
        let mut r = Report {
            month: month.map(str::to_string),
            ..Default::default()
        };
        let mut by_conv: HashMap<&str, Vec<&ConversationEntry>> = HashMap::new();
        for e in entries {
            by_conv.entry(e.conversation.as_str()).or_default().push(e);
        }
        let mut first_reply = Vec::new();
        for es in by_conv.values() {
            let Some(first) = es
                .iter()
                .filter(|e| e.direction == Direction::Inbound)
                .min_by_key(|e| e.at)
            else {
                continue;
            };
            let m = first.at.format("%Y-%m").to_string();
            if month.is_some_and(|x| x != m) {
                continue;
            }
            r.conversations.add(
                &m,
                first.channel.as_str(),
                first.department.as_deref().unwrap_or("(none)"),
                first.district.as_deref(),
            );
            let reply = es
                .iter()
                .filter(|e| e.direction == Direction::Outbound && e.at >= first.at)
                .min_by_key(|e| e.at);
            if let Some(reply) = reply {
                first_reply.push((reply.at - first.at).num_milliseconds() as f64 / 1000.0);
                let human = es.iter().any(|e| {
                    (e.direction == Direction::Inbound && e.handoff)
                        || (e.direction == Direction::Outbound && !e.automatic)
                });
                if !human {
                    r.answered_automatically += 1;
                }
            }
        }
        r.automatic_share = if r.conversations.total == 0 {
            0.0
        } else {
            r.answered_automatically as f64 / r.conversations.total as f64
        };
        r.first_reply = Durations::of(first_reply);
        let mut resolution = Vec::new();
        for t in tickets {
            let m = t.created_at.format("%Y-%m").to_string();
            if month.is_some_and(|x| x != m) {
                continue;
            }
            r.tickets
                .add(&m, t.channel.as_str(), &t.department, t.district.as_deref());
            *r.tickets_by_status
                .entry(t.status.as_str().to_string())
                .or_default() += 1;
            if let Some(done) = t.resolved_at() {
                resolution.push((done - t.created_at).num_milliseconds() as f64 / 1000.0);
            }
        }
        r.resolution = Durations::of(resolution);
        r
    }

    /// A plain-text table for the terminal.
    ///
    /// ```
    /// use civic_router::ticket::report::Report;
    /// let text = Report::default().to_table();
    /// assert!(text.contains("conversations: 0"));
    /// ```
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "civic-router report{}",
            self.month
                .as_deref()
                .map(|m| format!(" — {m}"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "conversations: {}   answered automatically: {} ({:.1}%)",
            self.conversations.total,
            self.answered_automatically,
            self.automatic_share * 100.0
        );
        let _ = writeln!(s, "tickets: {}", self.tickets.total);
        let _ = writeln!(
            s,
            "time to first reply: median {}, p90 {} (n={})",
            fmt_secs(self.first_reply.median_s),
            fmt_secs(self.first_reply.p90_s),
            self.first_reply.count
        );
        let _ = writeln!(
            s,
            "time to resolution:  median {}, p90 {} (n={})",
            fmt_secs(self.resolution.median_s),
            fmt_secs(self.resolution.p90_s),
            self.resolution.count
        );
        for (title, a, b) in self.dimensions() {
            let _ = writeln!(
                s,
                "\n{:<28} {:>13} {:>8}",
                title, "conversations", "tickets"
            );
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let _ = writeln!(
                    s,
                    "  {:<26} {:>13} {:>8}",
                    k,
                    a.get(k).copied().unwrap_or(0),
                    b.get(k).copied().unwrap_or(0)
                );
            }
        }
        if !self.tickets_by_status.is_empty() {
            let _ = writeln!(s, "\ntickets by status");
            for (k, v) in &self.tickets_by_status {
                let _ = writeln!(s, "  {k:<26} {v:>8}");
            }
        }
        s
    }

    fn dimensions(&self) -> [Dimension<'_>; 4] {
        [
            (
                "month",
                &self.conversations.by_month,
                &self.tickets.by_month,
            ),
            (
                "channel",
                &self.conversations.by_channel,
                &self.tickets.by_channel,
            ),
            (
                "department",
                &self.conversations.by_department,
                &self.tickets.by_department,
            ),
            (
                "district",
                &self.conversations.by_district,
                &self.tickets.by_district,
            ),
        ]
    }

    /// A self-contained HTML page (inline SVG charts, no script, no network) a manager can
    /// open in any browser.
    ///
    /// ```
    /// use civic_router::ticket::report::Report;
    /// let html = Report::default().to_html();
    /// assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    /// assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
    /// ```
    pub fn to_html(&self) -> String {
        let mut s = String::new();
        let title = match &self.month {
            Some(m) => format!("Informe de atención ciudadana — {m}"),
            None => "Informe de atención ciudadana".to_string(),
        };
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\"><title>{t}</title>\
             <style>body{{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}}\
             .kpis{{display:flex;gap:1em;flex-wrap:wrap}}.kpi{{border:1px solid #ccc;border-radius:6px;padding:.8em 1.2em}}\
             .kpi b{{display:block;font-size:1.6em}}h2{{margin-top:1.6em}}svg text{{font-size:12px}}</style></head><body>\n\
             <h1>{t}</h1>\n<div class=\"kpis\">",
            t = esc(&title)
        );
        for (label, value) in [
            ("Conversaciones", self.conversations.total.to_string()),
            ("Avisos (tickets)", self.tickets.total.to_string()),
            (
                "Respondidas automáticamente",
                format!("{:.1} %", self.automatic_share * 100.0),
            ),
            (
                "Primera respuesta (mediana / p90)",
                format!(
                    "{} / {}",
                    fmt_secs(self.first_reply.median_s),
                    fmt_secs(self.first_reply.p90_s)
                ),
            ),
            (
                "Resolución (mediana / p90)",
                format!(
                    "{} / {}",
                    fmt_secs(self.resolution.median_s),
                    fmt_secs(self.resolution.p90_s)
                ),
            ),
        ] {
            let _ = write!(
                s,
                "<div class=\"kpi\">{}<b>{}</b></div>",
                esc(label),
                esc(&value)
            );
        }
        s.push_str("</div>\n");
        let names = &self.department_names;
        for (title, a, b) in [
            (
                "Por mes",
                &self.conversations.by_month,
                &self.tickets.by_month,
            ),
            (
                "Por canal",
                &self.conversations.by_channel,
                &self.tickets.by_channel,
            ),
            (
                "Por servicio",
                &self.conversations.by_department,
                &self.tickets.by_department,
            ),
            (
                "Por distrito",
                &self.conversations.by_district,
                &self.tickets.by_district,
            ),
        ] {
            let _ = writeln!(s, "<h2>{}</h2>", esc(title));
            s.push_str(&bar_chart(a, b, names));
        }
        if !self.tickets_by_status.is_empty() {
            s.push_str("<h2>Avisos por estado</h2>\n");
            s.push_str(&bar_chart(
                &BTreeMap::new(),
                &self.tickets_by_status,
                &BTreeMap::new(),
            ));
        }
        s.push_str("<p><small>Generado por civic-router. Conversaciones en azul, avisos en naranja.</small></p>\n</body></html>\n");
        s
    }
}

fn fmt_secs(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(s) if s < 120.0 => format!("{s:.0} s"),
        Some(s) if s < 7_200.0 => format!("{:.1} min", s / 60.0),
        Some(s) if s < 172_800.0 => format!("{:.1} h", s / 3_600.0),
        Some(s) => format!("{:.1} d", s / 86_400.0),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal paired bars: conversations (blue) and tickets (orange) per key.
fn bar_chart(
    a: &BTreeMap<String, u64>,
    b: &BTreeMap<String, u64>,
    names: &BTreeMap<String, String>,
) -> String {
    let keys: Vec<&String> = a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let max = a
        .values()
        .chain(b.values())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (label_w, bar_w, row_h) = (260.0, 560.0, 30.0);
    let h = (keys.len().max(1) as f64) * row_h + 10.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{h}\" role=\"img\">\n",
        label_w + bar_w + 60.0
    );
    for (i, k) in keys.iter().enumerate() {
        let y = i as f64 * row_h + 5.0;
        let label = names.get(*k).map_or(k.as_str(), String::as_str);
        let label: String = if label.chars().count() > 38 {
            label.chars().take(37).collect::<String>() + "…"
        } else {
            label.to_string()
        };
        let _ = writeln!(
            s,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{}</text>",
            label_w - 6.0,
            y + 17.0,
            esc(&label)
        );
        for (j, (map, colour)) in [(a, "#3b6fb6"), (b, "#e08a2c")].into_iter().enumerate() {
            let v = map.get(*k).copied().unwrap_or(0);
            if map.is_empty() {
                continue;
            }
            let w = (v as f64 / max * bar_w).max(if v > 0 { 1.0 } else { 0.0 });
            let yy = y + j as f64 * 12.0;
            let _ = writeln!(
                s,
                "<rect x=\"{label_w:.0}\" y=\"{yy:.0}\" width=\"{w:.1}\" height=\"11\" fill=\"{colour}\"><title>{v}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.0}\">{v}</text>",
                label_w + w + 4.0,
                yy + 10.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
