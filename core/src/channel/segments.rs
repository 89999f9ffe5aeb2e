//! SMS segmentation: what a text costs to send.
//!
//! A text whose every character is in the GSM 03.38 7-bit alphabet is sent as GSM-7: 160
//! septets in a single SMS, 153 per part when concatenated (the header takes the rest).
//! Characters of the extension table (`^ { } \ [ ~ ] | €` and form feed) take two septets
//! (escape + character), and an escape pair is never split between parts. One character
//! outside the alphabet switches the whole text to UCS-2: 70 UTF-16 code units in one SMS,
//! 67 per part, a surrogate pair (an emoji) never split.
//!
//! Spanish text is hit hard: `é ñ ü ¿ ¡` are GSM-7 but `á í ó ú` are not, so one accent
//! can more than double the price. [`fold_to_gsm`] replaces only the characters GSM-7 lacks
//! (`á`→`a`, `“`→`"`, `º`→`o`…), leaving `ñ`, `é`, `¿` as they are.
//!
//! ```
//! use civic_router::channel::segments::{segment_info, fold_to_gsm, Encoding};
//! let s = "Su cita está confirmada";
//! assert_eq!(segment_info(s).encoding, Encoding::Ucs2);
//! let folded = fold_to_gsm(s);
//! assert_eq!(folded, "Su cita esta confirmada");
//! assert_eq!(segment_info(&folded).encoding, Encoding::Gsm7);
//! assert_eq!(segment_info("¿Año? ñ é ü ¡sí!").non_gsm, vec!['í']);
//! ```

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The GSM 03.38 basic character set, in code order.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table (each costs two septets).
const GSM_EXTENSION: &str = "\u{0c}^{}\\[~]|€";

/// Septets one GSM-7 SMS holds.
pub const GSM7_SINGLE: usize = 160;
/// Septets per part of a concatenated GSM-7 SMS.
pub const GSM7_PART: usize = 153;
/// UTF-16 code units one UCS-2 SMS holds.
pub const UCS2_SINGLE: usize = 70;
/// UTF-16 code units per part of a concatenated UCS-2 SMS.
pub const UCS2_PART: usize = 67;

/// How an SMS is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The GSM 03.38 7-bit alphabet.
    Gsm7,
    /// UCS-2 (UTF-16 code units).
    Ucs2,
}

/// Septets a character takes in GSM-7: 1, 2 (extension table) or `None` (not in GSM-7).
///
/// ```
/// use civic_router::channel::segments::gsm_septets;
/// assert_eq!(gsm_septets('ñ'), Some(1));
/// assert_eq!(gsm_septets('€'), Some(2));
/// assert_eq!(gsm_septets('á'), None);
/// ```
pub fn gsm_septets(c: char) -> Option<usize> {
    if c == '\u{1b}' {
        // the escape itself is not a character a text may carry
        None
    } else if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// What a text costs as an SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// The encoding the whole text needs.
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// Characters (Unicode scalar values).
    pub characters: usize,
    /// Number of SMS parts billed (0 for an empty text).
    pub segments: usize,
    /// Units in each part.
    pub parts: Vec<usize>,
    /// The distinct characters that forced UCS-2, in order of appearance.
    pub non_gsm: Vec<char>,
}

/// Counts encoding, units and segments of a text, as Twilio's segment calculator does.
///
/// ```
/// use civic_router::channel::segments::{segment_info, Encoding};
/// assert_eq!(segment_info(&"a".repeat(160)).segments, 1);
/// assert_eq!(segment_info(&"a".repeat(161)).parts, vec![153, 8]);
/// let es = segment_info(&"á".repeat(71));
/// assert_eq!((es.encoding, es.segments), (Encoding::Ucs2, 2));
/// ```
pub fn segment_info(text: &str) -> SegmentInfo {
    let mut non_gsm: Vec<char> = Vec::new();
    for c in text.chars() {
        if gsm_septets(c).is_none() && !non_gsm.contains(&c) {
            non_gsm.push(c);
        }
    }
    let characters = text.chars().count();
    let (encoding, sizes, single, part): (Encoding, Vec<usize>, usize, usize) =
        if non_gsm.is_empty() {
            (
                Encoding::Gsm7,
                text.chars().map(|c| gsm_septets(c).unwrap_or(1)).collect(),
                GSM7_SINGLE,
                GSM7_PART,
            )
        } else {
            (
                Encoding::Ucs2,
                text.chars().map(char::len_utf16).collect(),
                UCS2_SINGLE,
                UCS2_PART,
            )
        };
    let units: usize = sizes.iter().sum();
    let parts = if units == 0 {
        Vec::new()
    } else if units <= single {
        vec![units]
    } else {
        // fill parts without splitting a character's units (escape pair, surrogate pair)
        let mut parts = Vec::new();
        let mut cur = 0;
        for s in sizes {
            if cur + s > part {
                parts.push(cur);
                cur = 0;
            }
            cur += s;
        }
        if cur > 0 {
            parts.push(cur);
        }
        parts
    };
    SegmentInfo {
        encoding,
        units,
        characters,
        segments: parts.len(),
        parts,
        non_gsm,
    }
}

/// The replacement for a character GSM-7 lacks, when a close one exists.
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'á' | 'â' | 'ã' | 'ª' => "a",
        'í' | 'î' | 'ï' => "i",
        'ó' | 'ô' | 'õ' | 'º' => "o",
        'ú' | 'û' => "u",
        'ê' | 'ë' => "e",
        'ç' => "c",
        'ý' | 'ÿ' => "y",
        'Á' | 'À' | 'Â' | 'Ã' => "A",
        'Í' | 'Ì' | 'Î' | 'Ï' => "I",
        'Ó' | 'Ò' | 'Ô' | 'Õ' => "O",
        'Ú' | 'Ù' | 'Û' => "U",
        'È' | 'Ê' | 'Ë' => "E",
        'Ý' => "Y",
        '“' | '”' | '„' | '«' | '»' | '″' => "\"",
        '‘' | '’' | '‚' | '′' | '´' | '`' => "'",
        '–' | '—' | '−' | '‐' => "-",
        '…' => "...",
        '\u{a0}' | '\u{2009}' | '\u{202f}' | '\u{2007}' => " ",
        '\u{200b}' | '\u{feff}' => "",
        _ => return None,
    })
}

/// Replaces only the characters GSM-7 lacks and that have a close GSM-7 equivalent;
/// everything else (GSM-7 characters such as `ñ é ü ¿ ¡`, and emoji, which have none) is
/// kept. Borrowed when nothing changes.
///
/// ```
/// use civic_router::channel::segments::fold_to_gsm;
/// assert_eq!(fold_to_gsm("Señora Núñez, “su” 1ª cita…"), "Señora Nuñez, \"su\" 1a cita...");
/// assert!(matches!(fold_to_gsm("sin cambios ñ"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn fold_to_gsm(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| fold_char(c).is_none()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match fold_char(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The cheaper of the text and its [`fold_to_gsm`] form: the fold, unless it would cost more
/// segments (a text that stays UCS-2 while `…` becomes `...`, say).
///
/// ```
/// use civic_router::channel::segments::{cheapest, segment_info};
/// assert_eq!(cheapest("Cita confirmada, está en Triana"), "Cita confirmada, esta en Triana");
/// let stays = format!("😀{}", "…".repeat(60));
/// assert_eq!(cheapest(&stays), stays);
/// ```
pub fn cheapest(text: &str) -> Cow<'_, str> {
    let folded = fold_to_gsm(text);
    if matches!(folded, Cow::Owned(_))
        && segment_info(&folded).segments > segment_info(text).segments
    {
        Cow::Borrowed(text)
    } else {
        folded
    }
}

/// Cuts a text so that it fits in `max_segments` SMS parts, at a word boundary when one is
/// near, ending with `...`. Returned unchanged when it already fits.
///
/// ```
/// use civic_router::channel::segments::{shorten_to_segments, segment_info};
/// let long = "palabra ".repeat(60);
/// let short = shorten_to_segments(&long, 2);
/// assert!(segment_info(&short).segments <= 2);
/// assert!(short.ends_with("..."));
/// ```
pub fn shorten_to_segments(text: &str, max_segments: usize) -> String {
    let max_segments = max_segments.max(1);
    if segment_info(text).segments <= max_segments {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    // binary search on the number of characters kept
    let (mut lo, mut hi) = (0usize, chars.len());
    let fits = |n: usize| {
        let mut s: String = chars[..n].iter().collect();
        s.push_str("...");
        segment_info(&s).segments <= max_segments
    };
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut keep = lo;
    // back up to a space if one is within the last 20 characters
    if let Some(sp) = chars[..keep].iter().rposition(|c| c.is_whitespace()) {
        if keep - sp <= 20 {
            keep = sp;
        }
    }
    let mut s: String = chars[..keep].iter().collect();
    let trimmed = s.trim_end().len();
    s.truncate(trimmed);
    s.push_str("...");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_sizes() {
        assert_eq!(GSM_BASIC.chars().count(), 128);
        assert_eq!(GSM_EXTENSION.chars().count(), 10);
    }
}
