//! `Webhook`: one provider's channel (WhatsApp, Twilio SMS and Voice, Open311, web form) as a
//! JavaScript class, built from the core's `ChannelSettings`, and `segmentInfo`.
//!
//! A request crosses as the provider sent it — the raw body `Buffer`, the headers, the full
//! URL — and the core verifies the signature over those bytes and parses them; nothing is
//! decoded or re-serialised here. Refusals are `Error`s with code `CHANNEL` and the
//! `channel`, `field`, `kind` and `httpStatus` of the core's error.

use std::sync::Arc;

use civic_router::channel::segments::segment_info as core_segment_info;
use civic_router::channel::settings::{AnyChannel, ChannelSettings};
use civic_router::channel::{Channel, InboundRequest, Reply, ReplyContext};
use civic_router::message::Contact;
use civic_router::{Decision, Error, Message};
use napi::bindgen_prelude::{Buffer, JsObjectValue, Object, Unknown};
use napi::{Env, JsValue, ValueType};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{json_from_js, string_arg, to_js, type_name};
use crate::errors::{from_napi, guard_sync, Failure, INVALID_ARG};

/// The raw body: a `Buffer`/`Uint8Array` or a string.
fn body_arg(v: &Unknown<'_>) -> Result<Vec<u8>, Failure> {
    match v.get_type() {
        Ok(ValueType::String) => Ok(string_arg("request.body", v)?.into_bytes()),
        Ok(ValueType::Object) if v.is_buffer().unwrap_or(false) || is_typedarray(v) => {
            // SAFETY: checked to be a Buffer / Uint8Array.
            let b = unsafe { v.cast::<Buffer>() }
                .map_err(|e| from_napi(INVALID_ARG, "request.body", e))?;
            Ok(b.to_vec())
        }
        _ => Err(Failure::invalid_arg(
            "request.body",
            "a Buffer, a Uint8Array or a string",
            type_name(v),
        )),
    }
}

fn is_typedarray(v: &Unknown<'_>) -> bool {
    let mut out = false;
    // SAFETY: env and value come from a live `Unknown`.
    let status = unsafe { napi::sys::napi_is_typedarray(v.value().env, v.value().value, &mut out) };
    status == napi::sys::Status::napi_ok && out
}

/// Headers: `req.headers` (values a string or an array of strings) or `[name, value]` pairs.
fn headers_arg(v: Option<Unknown<'_>>) -> Result<Vec<(String, String)>, Failure> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    if matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null)) {
        return Ok(Vec::new());
    }
    let bad = || {
        Failure::new(
            INVALID_ARG,
            "`request.headers` must be an object of strings (or string arrays) or [name, value] pairs",
        )
    };
    let json = json_from_js(&v).map_err(|e| from_napi(INVALID_ARG, "request.headers", e))?;
    let mut out = Vec::new();
    match json {
        Value::Object(map) => {
            for (name, value) in map {
                match value {
                    Value::String(s) => out.push((name, s)),
                    Value::Array(items) => {
                        for item in items {
                            let Value::String(s) = item else {
                                return Err(bad());
                            };
                            out.push((name.clone(), s));
                        }
                    }
                    Value::Null => {}
                    _ => return Err(bad()),
                }
            }
        }
        Value::Array(pairs) => {
            for pair in pairs {
                match pair {
                    Value::Array(p) if p.len() == 2 => match (&p[0], &p[1]) {
                        (Value::String(n), Value::String(s)) => out.push((n.clone(), s.clone())),
                        _ => return Err(bad()),
                    },
                    _ => return Err(bad()),
                }
            }
        }
        _ => return Err(bad()),
    }
    Ok(out)
}

/// `{body, url, headers?, method?}` as the core's request.
fn request_arg(v: &Unknown<'_>) -> Result<InboundRequest, Failure> {
    if !matches!(v.get_type(), Ok(ValueType::Object)) || v.is_buffer().unwrap_or(false) {
        return Err(Failure::invalid_arg(
            "request",
            "an object {body, url, headers?, method?}",
            type_name(v),
        ));
    }
    // SAFETY: checked to be an object.
    let obj: Object<'_> = unsafe { v.cast() }.map_err(|e| from_napi(INVALID_ARG, "request", e))?;
    let get = |name: &str| -> Result<Option<Unknown<'_>>, Failure> {
        let value: Unknown<'_> = obj
            .get_named_property(name)
            .map_err(|e| from_napi(INVALID_ARG, name, e))?;
        Ok(match value.get_type() {
            Ok(ValueType::Undefined) => None,
            _ => Some(value),
        })
    };
    let body = match get("body")? {
        Some(b) => body_arg(&b)?,
        None => Vec::new(),
    };
    let url = match get("url")? {
        Some(u) => string_arg("request.url", &u)?,
        None => return Err(Failure::invalid_arg("request.url", "a string", "undefined")),
    };
    let method = match get("method")? {
        Some(m) => string_arg("request.method", &m)?.to_ascii_uppercase(),
        None => "POST".to_string(),
    };
    Ok(InboundRequest {
        method,
        url,
        headers: headers_arg(get("headers")?)?,
        body,
    })
}

/// The reply argument: a decision (a plain object with `intent`) or a reply object.
fn reply_arg(v: &Unknown<'_>, fallback: &str) -> Result<Reply, Failure> {
    if !matches!(v.get_type(), Ok(ValueType::Object)) {
        return Err(Failure::invalid_arg(
            "reply",
            "a decision or a reply object",
            type_name(v),
        ));
    }
    let json = json_from_js(v).map_err(|e| from_napi(INVALID_ARG, "reply", e))?;
    if json.get("intent").is_some() {
        let d: Decision = serde_json::from_value(json)
            .map_err(|e| Failure::malformed(format!("reply (a decision): {e}")))?;
        Ok(Reply::from_decision(&d, fallback))
    } else {
        serde_json::from_value(json).map_err(|e| Failure::malformed(format!("reply: {e}")))
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RenderOptions {
    to: Option<Value>,
    hours_since_last_inbound: Option<f64>,
    in_reply_to: Option<String>,
    fallback: Option<String>,
    ticket: Option<String>,
}

/// One provider's webhook endpoint: verifies and parses what the provider posts, and renders
/// replies in the provider's format. `new Webhook({provider: 'whatsapp', app_secret, verify_token})`;
/// providers: `whatsapp`, `sms`, `voice`, `open311`, `web`.
#[napi]
pub struct Webhook {
    inner: Arc<AnyChannel>,
}

#[napi]
impl Webhook {
    /// Builds the channel; throws `CONFIG` (with `issues`) for bad settings.
    #[napi(constructor, catch_unwind, ts_args_type = "settings: ChannelSettings")]
    pub fn new(env: Env, settings: Unknown<'_>) -> napi::Result<Webhook> {
        guard_sync(&env, || {
            if !matches!(settings.get_type(), Ok(ValueType::Object)) {
                return Err(Failure::invalid_arg(
                    "settings",
                    "an object {provider, …}",
                    type_name(&settings),
                ));
            }
            let json =
                json_from_js(&settings).map_err(|e| from_napi(INVALID_ARG, "settings", e))?;
            let built = ChannelSettings::from_value(json)
                .map_err(|e| Failure::from(Error::Config(e)))?
                .build();
            Ok(Webhook {
                inner: Arc::new(built),
            })
        })
    }

    /// The provider (`whatsapp`, `sms`, `voice`, `open311`, `web`).
    #[napi(getter, ts_return_type = "Provider")]
    pub fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    /// The channel its messages carry (`whatsapp`, `sms`, `voice`, `app`, `web`).
    #[napi(getter, ts_return_type = "ChannelKind")]
    pub fn channel(&self) -> &'static str {
        self.inner.kind().as_str()
    }

    /// Bodies larger than this are refused before parsing.
    #[napi(getter)]
    pub fn max_body_bytes(&self) -> u32 {
        u32::try_from(self.inner.limits().max_body_bytes).unwrap_or(u32::MAX)
    }

    /// Size check, signature check, parse: what a webhook endpoint calls with the raw body.
    /// Throws `CHANNEL` (`kind` `unauthorized`, `malformed`, `too_large`, …).
    #[napi(
        catch_unwind,
        ts_args_type = "request: WebhookRequest",
        ts_return_type = "Inbound"
    )]
    pub fn receive<'e>(&self, env: &'e Env, request: Unknown<'e>) -> napi::Result<Unknown<'e>> {
        guard_sync(env, || {
            let req = request_arg(&request)?;
            let inbound = self
                .inner
                .receive(&req)
                .map_err(|e| Failure::from(Error::from(e)))?;
            to_js(env, &inbound)
        })
    }

    /// Checks the size and the signature (or API key) only.
    #[napi(catch_unwind, ts_args_type = "request: WebhookRequest")]
    pub fn verify(&self, env: Env, request: Unknown<'_>) -> napi::Result<()> {
        guard_sync(&env, || {
            let req = request_arg(&request)?;
            req.check_size(self.inner.kind(), self.inner.limits())
                .and_then(|()| self.inner.verify(&req))
                .map_err(|e| Failure::from(Error::from(e)))
        })
    }

    /// WhatsApp's subscription handshake: the challenge to answer (200, text/plain) for the
    /// `GET` URL Meta calls; throws `CHANNEL` (`httpStatus` 403) on a wrong verify token.
    #[napi(catch_unwind, ts_args_type = "url: string")]
    pub fn handshake(&self, env: Env, url: Unknown<'_>) -> napi::Result<String> {
        guard_sync(&env, || {
            let req = InboundRequest::get(string_arg("url", &url)?);
            self.inner
                .handshake(&req)
                .map_err(|e| Failure::from(Error::from(e)))
        })
    }

    /// Renders a reply (a decision, or a reply object) in the channel's format.
    #[napi(
        catch_unwind,
        ts_args_type = "reply: Decision | Reply, context?: ReplyContext",
        ts_return_type = "Rendered"
    )]
    pub fn render<'e>(
        &self,
        env: &'e Env,
        reply: Unknown<'e>,
        context: Option<Unknown<'e>>,
    ) -> napi::Result<Unknown<'e>> {
        guard_sync(env, || {
            let opts: RenderOptions = match context {
                Some(c) if !matches!(c.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                    if !matches!(c.get_type(), Ok(ValueType::Object)) {
                        return Err(Failure::invalid_arg("context", "an object", type_name(&c)));
                    }
                    let json =
                        json_from_js(&c).map_err(|e| from_napi(INVALID_ARG, "context", e))?;
                    serde_json::from_value(json)
                        .map_err(|e| Failure::new(INVALID_ARG, format!("`context`: {e}")))?
                }
                _ => RenderOptions {
                    to: None,
                    hours_since_last_inbound: None,
                    in_reply_to: None,
                    fallback: None,
                    ticket: None,
                },
            };
            let fallback = opts
                .fallback
                .as_deref()
                .unwrap_or("Hemos recibido su mensaje.");
            let mut reply = reply_arg(&reply, fallback)?;
            if opts.ticket.is_some() {
                reply.ticket = opts.ticket;
            }
            let mut cx = match opts.to {
                // a message (it has a channel) answers that message; otherwise a contact
                Some(to) if to.get("channel").is_some() => {
                    let m: Message = serde_json::from_value(to)
                        .map_err(|e| Failure::malformed(format!("context.to: {e}")))?;
                    ReplyContext::replying_to(&m)
                }
                Some(to) => ReplyContext {
                    to: serde_json::from_value::<Contact>(to)
                        .map_err(|e| Failure::malformed(format!("context.to: {e}")))?,
                    ..ReplyContext::default()
                },
                None => ReplyContext::default(),
            };
            cx.hours_since_last_inbound = opts.hours_since_last_inbound;
            if opts.in_reply_to.is_some() {
                cx.in_reply_to = opts.in_reply_to;
            }
            let rendered = self
                .inner
                .render(&reply, &cx)
                .map_err(|e| Failure::from(Error::from(e)))?;
            to_js(env, &rendered)
        })
    }
}

/// How an SMS text is encoded and how many segments it costs (Twilio's rules: GSM-7 with its
/// extension table, else UCS-2).
#[napi(
    catch_unwind,
    ts_args_type = "text: string",
    ts_return_type = "SegmentInfo"
)]
pub fn segment_info<'e>(env: &'e Env, text: Unknown<'e>) -> napi::Result<Unknown<'e>> {
    guard_sync(env, || {
        let text = string_arg("text", &text)?;
        to_js(env, &core_segment_info(&text))
    })
}
