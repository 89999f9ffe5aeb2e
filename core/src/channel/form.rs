//! `application/x-www-form-urlencoded` decoding that refuses what it cannot decode.

use crate::error::ChannelError;
use crate::message::ChannelKind;

use super::malformed;

/// Most form fields accepted in one body.
const MAX_FIELDS: usize = 1000;

/// Decodes `%XX` escapes and `+` (as a space) into bytes; `None` on a bad escape.
///
/// ```
/// use civic_router::channel::percent_decode;
/// assert_eq!(percent_decode(b"a+b%2Cc").unwrap(), b"a b,c");
/// assert!(percent_decode(b"%G1").is_none());
/// ```
pub fn percent_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = s.get(i + 1..i + 3)?;
                let v = (hex_val(h[0])? << 4) | hex_val(h[1])?;
                out.push(v);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses a form body (or a query string) into name/value pairs, in order. A bad escape or
/// bytes that are not UTF-8 once decoded are an error naming the field.
///
/// ```
/// use civic_router::{channel::parse_form, ChannelKind};
/// let f = parse_form(b"Body=Hola+%C3%B1&From=%2B34600", ChannelKind::Sms, "body").unwrap();
/// assert_eq!(f, vec![("Body".into(), "Hola ñ".into()), ("From".into(), "+34600".into())]);
/// let e = parse_form(b"Body=%FF", ChannelKind::Sms, "body").unwrap_err();
/// assert_eq!(e.field, "Body");
/// ```
pub fn parse_form(
    body: &[u8],
    channel: ChannelKind,
    what: &str,
) -> Result<Vec<(String, String)>, ChannelError> {
    let mut out = Vec::new();
    for (i, pair) in body.split(|&b| b == b'&').enumerate() {
        if pair.is_empty() {
            continue;
        }
        if out.len() >= MAX_FIELDS {
            return Err(ChannelError::new(
                channel,
                what,
                crate::error::ChannelErrorKind::TooLarge,
                format!("more than {MAX_FIELDS} fields"),
            ));
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(p) => (&pair[..p], &pair[p + 1..]),
            None => (pair, &b""[..]),
        };
        let key = percent_decode(k)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                malformed(
                    channel,
                    format!("{what}[{i}]"),
                    "field name is not percent-encoded UTF-8",
                )
            })?;
        let value = percent_decode(v)
            .ok_or_else(|| malformed(channel, key.as_str(), "bad percent escape"))?;
        let value = String::from_utf8(value)
            .map_err(|_| malformed(channel, key.as_str(), "not valid UTF-8"))?;
        out.push((key, value));
    }
    Ok(out)
}

/// The first value of a field.
pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The first non-empty value of a field, or an error naming it.
pub(crate) fn required<'a>(
    form: &'a [(String, String)],
    name: &str,
    channel: ChannelKind,
) -> Result<&'a str, ChannelError> {
    field(form, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| malformed(channel, name, "missing"))
}
