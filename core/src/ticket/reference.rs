//! Public ticket references: `SEV-2026-004213`.
//!
//! A reference is a prefix (letters, from the configuration), the year the ticket was opened
//! and a sequence number within that year, zero-padded to six digits (longer when a city opens
//! more than a million cases a year). It is short enough to dictate on the phone and
//! unambiguous: only ASCII letters and digits, fixed separators, and a parser that accepts the
//! ways people actually write it back (`sev 2026 4213`, `SEV-2026-004213`, `sev2026004213`).
//!
//! ```
//! use civic_router::ticket::Reference;
//! let r = Reference::new("SEV", 2026, 4213);
//! assert_eq!(r.to_string(), "SEV-2026-004213");
//! assert_eq!("sev 2026 4213".parse::<Reference>().unwrap(), r);
//! assert_eq!(Reference::find_in("¿cómo va mi aviso SEV-2026-004213?", "SEV"), Some(r));
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A ticket's public reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// Upper-case ASCII letters (`SEV`).
    pub prefix: String,
    /// The year the ticket was opened.
    pub year: i32,
    /// The sequence number within the year, from 1.
    pub seq: u32,
}

/// A text that is not a ticket reference.
///
/// ```
/// use civic_router::ticket::Reference;
/// let e = "SEV-26-1".parse::<Reference>().unwrap_err();
/// assert!(e.to_string().contains("SEV-26-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a ticket reference (expected PREFIX-YEAR-NUMBER, e.g. SEV-2026-004213)")]
pub struct BadReference(pub String);

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // letters, optional separator, a four-digit year, optional separator, 1–9 digits
        #[allow(clippy::expect_used)]
        Regex::new(r"(?i)\b([a-z]{2,6})[\s\-_/.]?((?:19|20|21)\d{2})[\s\-_/.]?(\d{1,9})\b")
            .expect("static pattern")
    })
}

impl Reference {
    /// A reference; the prefix is upper-cased.
    pub fn new(prefix: &str, year: i32, seq: u32) -> Reference {
        Reference {
            prefix: prefix.to_ascii_uppercase(),
            year,
            seq,
        }
    }

    /// Whether a configured prefix is usable: 2–6 ASCII letters.
    ///
    /// ```
    /// use civic_router::ticket::Reference;
    /// assert!(Reference::valid_prefix("SEV"));
    /// assert!(!Reference::valid_prefix("S3V"));
    /// ```
    pub fn valid_prefix(prefix: &str) -> bool {
        (2..=6).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_alphabetic())
    }

    /// The first reference with this prefix written in a text, however it is spaced or cased.
    ///
    /// ```
    /// use civic_router::ticket::Reference;
    /// let r = Reference::find_in("hola, el aviso sev 2026 123 sigue igual", "SEV").unwrap();
    /// assert_eq!(r.to_string(), "SEV-2026-000123");
    /// assert_eq!(Reference::find_in("llamé el 2026 a las 10", "SEV"), None);
    /// ```
    pub fn find_in(text: &str, prefix: &str) -> Option<Reference> {
        pattern().captures_iter(text).find_map(|c| {
            let p = c.get(1)?.as_str();
            if !p.eq_ignore_ascii_case(prefix) {
                return None;
            }
            Some(Reference::new(
                prefix,
                c.get(2)?.as_str().parse().ok()?,
                c.get(3)?.as_str().parse().ok()?,
            ))
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", self.prefix, self.year, self.seq)
    }
}

impl FromStr for Reference {
    type Err = BadReference;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let c = pattern()
            .captures(t)
            .filter(|c| {
                c.get(0)
                    .is_some_and(|m| m.start() == 0 && m.end() == t.len())
            })
            .ok_or_else(|| BadReference(s.to_string()))?;
        let part = |i: usize| c.get(i).map(|m| m.as_str()).unwrap_or("");
        let year = part(2).parse().map_err(|_| BadReference(s.to_string()))?;
        let seq: u32 = part(3).parse().map_err(|_| BadReference(s.to_string()))?;
        if seq == 0 {
            return Err(BadReference(s.to_string()));
        }
        Ok(Reference::new(part(1), year, seq))
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        for (r, s) in [
            (Reference::new("sev", 2026, 1), "SEV-2026-000001"),
            (Reference::new("SEV", 2026, 1_234_567), "SEV-2026-1234567"),
        ] {
            assert_eq!(r.to_string(), s);
            assert_eq!(s.parse::<Reference>().unwrap(), r);
        }
        for bad in [
            "",
            "SEV",
            "SEV-2026",
            "SEV-2026-0",
            "SEV-2026-12x",
            "x SEV-2026-1",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
        assert_eq!(
            "sev2026004213".parse::<Reference>().unwrap(),
            Reference::new("SEV", 2026, 4213)
        );
    }

    #[test]
    fn finds_only_its_prefix() {
        assert_eq!(
            Reference::find_in("aviso MAD-2026-1 y SEV-2026-2", "SEV")
                .unwrap()
                .seq,
            2
        );
        assert_eq!(Reference::find_in("MAD-2026-1", "SEV"), None);
    }
}
