//! Webhook signatures: Meta's `X-Hub-Signature-256` and Twilio's `X-Twilio-Signature`,
//! computed over the raw bytes and compared in constant time.
//!
//! ```
//! use civic_router::channel::signature::{hub_signature, verify_hub_signature};
//! // HMAC-SHA256(key "secret", "test"), a published vector
//! let sig = hub_signature(b"secret", b"test");
//! assert_eq!(sig, "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914");
//! assert!(verify_hub_signature(b"secret", b"test", &sig));
//! assert!(!verify_hub_signature(b"secret", b"tesT", &sig));
//! ```

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Constant-time equality of two byte strings (a length mismatch is refused at once; the
/// length of a signature is public).
///
/// ```
/// use civic_router::channel::signature::ct_eq;
/// assert!(ct_eq(b"abc", b"abc"));
/// assert!(!ct_eq(b"abc", b"abd"));
/// assert!(!ct_eq(b"abc", b"ab"));
/// ```
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let v = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
            Some((v(p[0])? << 4) | v(p[1])?)
        })
        .collect()
}

/// The lowercase hex SHA-256 of a body (Twilio's `bodySHA256`).
///
/// ```
/// assert_eq!(
///     civic_router::channel::signature::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
/// );
/// ```
pub fn sha256_hex(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

/// `sha256=<hex HMAC-SHA256(app secret, body)>`, the value of `X-Hub-Signature-256`.
pub fn hub_signature(app_secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex(&hmac_sha256(app_secret, &[body])))
}

/// Whether `header` (`sha256=<hex>`) signs `body`: first the raw bytes, then — because
/// Meta signs the payload with non-ASCII escaped as `\uXXXX` (lowercase hex) — the escaped
/// form of a body that carries raw UTF-8 (a proxy that decoded the escapes). Constant time.
pub fn verify_hub_signature(app_secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| unhex(&h.to_ascii_lowercase()))
    else {
        return false;
    };
    if ct_eq(&hmac_sha256(app_secret, &[body]), &given) {
        return true;
    }
    if body.is_ascii() {
        return false;
    }
    match std::str::from_utf8(body) {
        Ok(text) => ct_eq(
            &hmac_sha256(app_secret, &[escape_unicode(text).as_bytes()]),
            &given,
        ),
        Err(_) => false,
    }
}

/// Escapes every non-ASCII character as `\uXXXX` with lowercase hex, astral characters as
/// surrogate pairs: the form Meta signs.
///
/// ```
/// use civic_router::channel::signature::escape_unicode;
/// assert_eq!(escape_unicode("año 😀"), "a\\u00f1o \\ud83d\\ude00");
/// ```
pub fn escape_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Twilio's signing algorithm: HMAC-SHA1 with the Auth Token (the default), or HMAC-SHA256
/// with a Webhook Rules shared key, announced by `X-Twilio-Webhooks-Signature-Settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwilioAlgorithm {
    /// `HMAC_SHA1`.
    HmacSha1,
    /// `HMAC_SHA256`.
    HmacSha256,
}

impl TwilioAlgorithm {
    /// The algorithm the settings header names; `None` for an algorithm this library does
    /// not know (the request must then be refused). A missing header, or one without
    /// `algorithm=`, means HMAC-SHA1.
    ///
    /// ```
    /// use civic_router::channel::signature::TwilioAlgorithm;
    /// assert_eq!(TwilioAlgorithm::from_settings(None), Some(TwilioAlgorithm::HmacSha1));
    /// assert_eq!(
    ///     TwilioAlgorithm::from_settings(Some("key=webhooks_sk_1,algorithm=HMAC_SHA256")),
    ///     Some(TwilioAlgorithm::HmacSha256),
    /// );
    /// assert_eq!(TwilioAlgorithm::from_settings(Some("algorithm=HMAC_MD5")), None);
    /// ```
    pub fn from_settings(header: Option<&str>) -> Option<TwilioAlgorithm> {
        let named = header.unwrap_or("").split(',').find_map(|part| {
            let (k, v) = part.split_once('=')?;
            (k.trim() == "algorithm" && !v.trim().is_empty()).then(|| v.trim())
        });
        match named.map(str::to_ascii_uppercase).as_deref() {
            None | Some("HMAC_SHA1") => Some(TwilioAlgorithm::HmacSha1),
            Some("HMAC_SHA256") => Some(TwilioAlgorithm::HmacSha256),
            Some(_) => None,
        }
    }
}

/// The string Twilio signs: the URL, then each parameter sorted by name as `name` + `value`
/// (a repeated name contributes each distinct value, sorted).
pub fn twilio_signing_string(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut s = String::with_capacity(url.len() + 64 * sorted.len());
    s.push_str(url);
    for (k, v) in sorted {
        s.push_str(k);
        s.push_str(v);
    }
    s
}

/// The base64 signature Twilio sends in `X-Twilio-Signature`.
///
/// ```
/// use civic_router::channel::signature::{twilio_signature, TwilioAlgorithm};
/// let params: Vec<(String, String)> = [
///     ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
///     ("From", "+12349013030"), ("To", "+18005551212"),
/// ].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
/// // Twilio's documented example
/// assert_eq!(
///     twilio_signature(b"12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params,
///                      TwilioAlgorithm::HmacSha1),
///     "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
/// );
/// ```
pub fn twilio_signature(
    key: &[u8],
    url: &str,
    params: &[(String, String)],
    algorithm: TwilioAlgorithm,
) -> String {
    let s = twilio_signing_string(url, params);
    let b64 = base64::engine::general_purpose::STANDARD;
    match algorithm {
        TwilioAlgorithm::HmacSha1 => b64.encode(hmac_sha1(key, &[s.as_bytes()])),
        TwilioAlgorithm::HmacSha256 => b64.encode(hmac_sha256(key, &[s.as_bytes()])),
    }
}

/// The URL with its port removed (any port) and with the scheme's default port added (when
/// none): Twilio's validators accept a signature over either form.
///
/// ```
/// use civic_router::channel::signature::url_port_variants;
/// assert_eq!(
///     url_port_variants("https://a.example/x?y=1"),
///     ("https://a.example/x?y=1".to_string(), "https://a.example:443/x?y=1".to_string()),
/// );
/// assert_eq!(
///     url_port_variants("http://u:p@a.example:8080/x"),
///     ("http://u:p@a.example/x".to_string(), "http://u:p@a.example:8080/x".to_string()),
/// );
/// ```
pub fn url_port_variants(url: &str) -> (String, String) {
    let Some(i) = url.find("://") else {
        return (url.to_string(), url.to_string());
    };
    let scheme = &url[..i];
    let rest = &url[i + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(j) => authority.split_at(j + 1),
        None => ("", authority),
    };
    // an IPv6 literal keeps its colons inside brackets
    let port_at = match hostport.rfind(']') {
        Some(b) => hostport[b..].find(':').map(|p| p + b),
        None => hostport.find(':'),
    };
    let (host, port) = match port_at {
        Some(p) => (&hostport[..p], Some(&hostport[p + 1..])),
        None => (hostport, None),
    };
    let without = format!("{scheme}://{userinfo}{host}{tail}");
    let with = match port {
        Some(_) => url.to_string(),
        None => {
            let default = if scheme.eq_ignore_ascii_case("https") {
                443
            } else {
                80
            };
            format!("{scheme}://{userinfo}{host}:{default}{tail}")
        }
    };
    (without, with)
}

/// Verifies a Twilio webhook signature the way Twilio's own validators do: over the URL
/// with and without its port, with form `params`; for a JSON body (the URL carries
/// `bodySHA256`), over the URL alone and with the body's SHA-256 checked against it.
/// Every comparison is constant-time.
pub fn verify_twilio_signature(
    key: &[u8],
    url: &str,
    params: &[(String, String)],
    json_body: Option<&[u8]>,
    signature: &str,
    algorithm: TwilioAlgorithm,
) -> bool {
    let mut params = params;
    let mut body_ok = true;
    if let Some(body) = json_body {
        let query = url.split('#').next().unwrap_or("").split_once('?');
        let expected = query.and_then(|(_, q)| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == "bodySHA256").then_some(v)
            })
        });
        body_ok = match expected {
            Some(h) => ct_eq(sha256_hex(body).as_bytes(), h.as_bytes()),
            None => false,
        };
        params = &[];
    }
    let (without, with) = url_port_variants(url);
    let a = ct_eq(
        twilio_signature(key, &without, params, algorithm).as_bytes(),
        signature.trim().as_bytes(),
    );
    let b = ct_eq(
        twilio_signature(key, &with, params, algorithm).as_bytes(),
        signature.trim().as_bytes(),
    );
    body_ok & (a | b)
}
