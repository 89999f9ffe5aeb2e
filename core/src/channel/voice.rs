//! The phone bot through Twilio Voice: what a `<Gather input="speech dtmf">` posts back
//! (`SpeechResult`, `Confidence`, `Digits`) becomes a [`Message`]; replies are TwiML —
//! `<Say>` in a Spanish voice, a new `<Gather>` to go on listening, `<Dial>` to hand the call
//! to a human agent, `<Hangup>`.
//!
//! A low recognition confidence is part of the message: `metadata.speech_confidence`, and
//! `metadata.low_confidence = true` below [`Voice::low_confidence_below`].
//!
//! ```
//! use civic_router::channel::{Channel, InboundRequest, Reply, ReplyContext, voice::Voice};
//!
//! let voice = Voice::new(vec!["tok".into()], "https://010.example/ivr/gather");
//! let body = b"CallSid=CA1&From=%2B34600111222&To=%2B34955000010&SpeechResult=quiero+una+cita&Confidence=0.42".to_vec();
//! let msg = &voice.parse(&InboundRequest::post("https://010.example/ivr/gather?turn=2", body)).unwrap().messages[0];
//! assert_eq!((msg.id.as_str(), msg.text.as_str()), ("CA1:2", "quiero una cita"));
//! assert_eq!(msg.metadata["low_confidence"], true);
//!
//! let twiml = voice.render(&Reply::text("Adiós.").ended(), &ReplyContext::replying_to(msg)).unwrap().body;
//! assert!(twiml.ends_with(r#"<Response><Say language="es-ES" voice="Polly.Lucia">Adiós.</Say><Hangup/></Response>"#));
//! ```

use serde_json::Value;

use super::form::field;
use super::signature::sha256_hex;
use super::sms::{twilio_params, twilio_verify};
use super::xml::Xml;
use super::{
    malformed, Channel, ChannelError, DeliveryState, Inbound, InboundRequest, Limits, Phrases,
    Rendered, Reply, ReplyContext, StatusUpdate,
};
use crate::message::{ChannelKind, Contact, Message};

const K: ChannelKind = ChannelKind::Voice;

/// Longest transcript accepted (characters).
pub const MAX_SPEECH_CHARS: usize = 4096;

/// The Twilio Voice channel.
#[derive(Debug, Clone)]
pub struct Voice {
    auth_tokens: Vec<String>,
    shared_keys: Vec<String>,
    /// Input limits.
    pub limits: Limits,
    /// Where `<Gather>` posts the caller's answer.
    pub gather_action: String,
    /// The agents' number `<Dial>` calls on hand-off; without it a hand-off is said, not
    /// dialled.
    pub agent_number: Option<String>,
    /// Below this recognition confidence the message is marked `low_confidence` (default 0.5).
    pub low_confidence_below: f64,
    /// BCP 47 language of `<Say>` and `<Gather>` (default `es-ES`).
    pub language: String,
    /// The text-to-speech voice (default `Polly.Lucia`).
    pub tts_voice: String,
    /// Speech hints for the recogniser (`padrón, cita previa, farola`).
    pub hints: String,
    /// Words added around replies.
    pub phrases: Phrases,
}

impl Voice {
    /// A channel verifying with these Auth Tokens, gathering to `gather_action`.
    pub fn new(auth_tokens: Vec<String>, gather_action: impl Into<String>) -> Self {
        Voice {
            auth_tokens,
            shared_keys: Vec::new(),
            limits: Limits::default(),
            gather_action: gather_action.into(),
            agent_number: None,
            low_confidence_below: 0.5,
            language: "es-ES".into(),
            tts_voice: "Polly.Lucia".into(),
            hints: String::new(),
            phrases: Phrases::default(),
        }
    }

    /// Sets the agents' number for hand-offs.
    pub fn with_agent_number(mut self, number: impl Into<String>) -> Self {
        self.agent_number = Some(number.into());
        self
    }

    /// Also accepts Webhook Rules (HMAC-SHA256) signatures made with these shared keys.
    pub fn with_shared_keys(mut self, keys: Vec<String>) -> Self {
        self.shared_keys = keys;
        self
    }

    /// What is said: the text, the ticket, and one sentence per option.
    pub fn spoken_text(&self, reply: &Reply) -> String {
        let mut s = reply.text.trim().to_string();
        if let Some(t) = &reply.ticket {
            if !s.contains(t.as_str()) {
                s.push(' ');
                s.push_str(&self.phrases.ticket);
                s.push(' ');
                // spelled with spaces so the voice reads it piece by piece
                s.push_str(&t.replace('-', " "));
                s.push('.');
            }
        }
        for (i, o) in reply.options.iter().enumerate() {
            let line = self
                .phrases
                .spoken_option
                .replace("{n}", &(i + 1).to_string())
                .replace("{title}", &o.title);
            s.push(' ');
            s.push_str(&line);
        }
        s.trim().to_string()
    }

    fn say(&self, x: &mut Xml, text: &str) {
        if !text.is_empty() {
            x.leaf(
                "Say",
                &[("language", &self.language), ("voice", &self.tts_voice)],
                text,
            );
        }
    }
}

impl Channel for Voice {
    fn kind(&self) -> ChannelKind {
        K
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn verify(&self, req: &InboundRequest) -> Result<(), ChannelError> {
        twilio_verify(K, &self.auth_tokens, &self.shared_keys, req)
    }

    /// A `<Gather>` result becomes a message whose id is the `CallSid` and the `turn`
    /// query parameter of the action URL (set by [`render`](Channel::render)), or a digest
    /// of what was said when there is none, so a retried post is the same message and the
    /// next answer in the call is a new one. A call without speech or digits (the first
    /// webhook of a call, or a status callback) is a status.
    fn parse(&self, req: &InboundRequest) -> Result<Inbound, ChannelError> {
        let form = twilio_params(K, req)?;
        let sid = field(&form, "CallSid")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(K, "CallSid", "missing"))?;
        let speech = field(&form, "SpeechResult").unwrap_or("").trim();
        let digits = field(&form, "Digits").unwrap_or("").trim();
        let mut inbound = Inbound::default();
        if speech.is_empty() && digits.is_empty() {
            inbound.statuses.push(StatusUpdate {
                channel: K,
                message_id: sid.to_string(),
                state: DeliveryState::Call(
                    field(&form, "CallStatus").unwrap_or("unknown").to_string(),
                ),
                recipient: field(&form, "From").map(str::to_string),
                timestamp: None,
                correlation: None,
                errors: Vec::new(),
            });
            return Ok(inbound);
        }
        if speech.chars().count() > MAX_SPEECH_CHARS {
            return Err(ChannelError::new(
                K,
                "SpeechResult",
                crate::error::ChannelErrorKind::TooLarge,
                format!("more than {MAX_SPEECH_CHARS} characters"),
            ));
        }
        if !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
            || digits.len() > 64
        {
            return Err(malformed(K, "Digits", "not DTMF digits"));
        }
        let turn = req
            .query_params(K)?
            .into_iter()
            .find(|(k, _)| k == "turn")
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty() && v.len() <= 16 && v.bytes().all(|b| b.is_ascii_digit()));
        let id = match turn {
            Some(t) => format!("{sid}:{t}"),
            None => format!(
                "{sid}:{}",
                &sha256_hex(format!("{speech}\u{0}{digits}").as_bytes())[..12]
            ),
        };
        let mut msg = Message::new(id, K, if speech.is_empty() { digits } else { speech });
        msg.language = Some(self.language.clone());
        msg.conversation_id = Some(format!("voice:{sid}"));
        msg.contact = Contact {
            id: None,
            phone: field(&form, "From")
                .or_else(|| field(&form, "Caller"))
                .filter(|f| !f.is_empty())
                .map(str::to_string),
            email: None,
            name: None,
        };
        msg.metadata.insert("call_sid".into(), Value::from(sid));
        if !digits.is_empty() {
            msg.metadata.insert("digits".into(), Value::from(digits));
        }
        if !speech.is_empty() {
            let confidence = match field(&form, "Confidence").filter(|c| !c.is_empty()) {
                None => None,
                Some(c) => Some(
                    c.parse::<f64>()
                        .ok()
                        .filter(|v| (0.0..=1.0).contains(v))
                        .ok_or_else(|| malformed(K, "Confidence", format!("`{c}` is not 0..1")))?,
                ),
            };
            if let Some(c) = confidence {
                msg.metadata
                    .insert("speech_confidence".into(), Value::from(c));
                if c < self.low_confidence_below {
                    msg.metadata
                        .insert("low_confidence".into(), Value::from(true));
                }
            }
        }
        inbound.messages.push(msg);
        Ok(inbound)
    }

    /// TwiML (`text/xml`):
    /// - hand-off with an agent number: `<Say>` the text and the hand-off phrase, `<Dial>`;
    /// - `end`: `<Say>`, `<Hangup/>`;
    /// - otherwise `<Gather input="speech dtmf" language="es-ES">` around the `<Say>` (with
    ///   the options spoken and numbered for the keypad), then a `<Redirect>` so that silence
    ///   asks again.
    fn render(&self, reply: &Reply, cx: &ReplyContext) -> Result<Rendered, ChannelError> {
        let text = self.spoken_text(reply);
        let mut x = Xml::new();
        x.open("Response", &[]);
        match (&self.agent_number, reply.handoff, reply.end) {
            (Some(number), true, _) => {
                self.say(&mut x, format!("{text} {}", self.phrases.handoff).trim());
                x.leaf("Dial", &[("timeout", "20")], number);
            }
            (_, _, true) => {
                self.say(&mut x, &text);
                x.empty("Hangup", &[]);
            }
            _ => {
                let next_turn = next_turn_url(&self.gather_action, cx.in_reply_to.as_deref());
                let mut attrs: Vec<(&str, &str)> = vec![
                    ("input", "speech dtmf"),
                    ("language", &self.language),
                    ("action", &next_turn),
                    ("method", "POST"),
                    ("speechTimeout", "auto"),
                ];
                if !reply.options.is_empty() {
                    attrs.push(("numDigits", "1"));
                }
                if !self.hints.is_empty() {
                    attrs.push(("hints", &self.hints));
                }
                x.open("Gather", &attrs);
                self.say(&mut x, &text);
                x.close("Gather");
                x.leaf("Redirect", &[("method", "POST")], &next_turn);
            }
        }
        x.close("Response");
        Ok(Rendered::ok("text/xml", x.finish()))
    }
}

/// The gather action with the next `turn` parameter: one more than the turn of the message
/// answered (`CA…:2` → 3), 1 for the first, so each answer of a call gets its own id.
fn next_turn_url(action: &str, in_reply_to: Option<&str>) -> String {
    let turn = in_reply_to
        .and_then(|id| id.rsplit_once(':'))
        .and_then(|(_, t)| t.parse::<u32>().ok())
        .map_or(1, |t| t.saturating_add(1));
    let sep = if action.contains('?') { '&' } else { '?' };
    format!("{action}{sep}turn={turn}")
}
