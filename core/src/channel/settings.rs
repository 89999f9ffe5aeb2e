//! A channel described as data: what a deployment file, a Python dict or a JavaScript object
//! gives to build one of the real channels, checked field by field.
//!
//! The bindings build their channels through [`ChannelSettings`], so a WhatsApp endpoint is
//! configured the same way from Rust, Python and Node, and a mistyped field is refused with
//! its name rather than ignored.
//!
//! ```
//! use civic_router::channel::{Channel, InboundRequest, settings::ChannelSettings};
//!
//! let web = ChannelSettings::from_json(r#"{"provider": "web"}"#).unwrap().build();
//! let req = InboundRequest::post("https://010.example/form", br#"{"text": "bache"}"#.to_vec());
//! assert_eq!(web.receive(&req).unwrap().messages[0].text, "bache");
//!
//! let err = ChannelSettings::from_json(r#"{"provider": "whatsapp", "app_secret": "s"}"#)
//!     .unwrap_err();
//! assert!(err.to_string().contains("verify_token"), "{err}");
//! ```

use serde::Deserialize;

use super::open311::{Format, Open311, Service};
use super::sms::Sms;
use super::voice::Voice;
use super::web::WebForm;
use super::whatsapp::{Template, WhatsApp};
use super::{
    Channel, ChannelError, ChannelErrorKind, Inbound, InboundRequest, Limits, Phrases, Rendered,
    Reply, ReplyContext,
};
use crate::error::ConfigError;
use crate::message::ChannelKind;

/// Input limits as settings: each omitted field keeps its default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Bodies larger than this many bytes are refused before parsing (default 1 MiB).
    pub max_body_bytes: Option<usize>,
    /// Most messages plus statuses one request may carry (default 1,000).
    pub max_items: Option<usize>,
}

impl LimitSettings {
    fn limits(self) -> Limits {
        let d = Limits::default();
        Limits {
            max_body_bytes: self.max_body_bytes.unwrap_or(d.max_body_bytes),
            max_items: self.max_items.unwrap_or(d.max_items),
        }
    }
}

/// The approved WhatsApp template for replies outside the 24-hour window.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    /// Template name (`incidencia_estado`).
    pub name: String,
    /// Language code (default `es`).
    #[serde(default = "spanish")]
    pub language: String,
    /// Send only the ticket reference as the template's parameter.
    #[serde(default)]
    pub ticket_only: bool,
}

fn spanish() -> String {
    "es".into()
}

/// One channel's settings. [`from_json`](ChannelSettings::from_json) and
/// [`from_value`](ChannelSettings::from_value) read the flat form the bindings and deployment
/// files use, `{"provider": "sms", "auth_tokens": [...]}`; the derived serde form is the
/// externally tagged `{"sms": {"auth_tokens": [...]}}` (it keeps the path of a bad field,
/// which serde's internally tagged enums lose).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSettings {
    /// WhatsApp Business Cloud API.
    Whatsapp {
        /// The Meta app secret that signs webhooks (`X-Hub-Signature-256`).
        app_secret: String,
        /// The token Meta's subscription handshake must present.
        verify_token: String,
        /// The template for replies outside the 24-hour window.
        #[serde(default)]
        template: Option<TemplateSettings>,
        /// Input limits.
        #[serde(default)]
        limits: LimitSettings,
        /// Words added around replies (Spanish by default).
        #[serde(default)]
        phrases: Option<Phrases>,
    },
    /// Twilio Messaging (SMS, MMS).
    Sms {
        /// Twilio auth tokens accepted (more than one while rotating).
        auth_tokens: Vec<String>,
        /// Keys for the HMAC-SHA256 signature variant, when enabled at Twilio.
        #[serde(default)]
        shared_keys: Vec<String>,
        /// Input limits.
        #[serde(default)]
        limits: LimitSettings,
        /// Words added around replies.
        #[serde(default)]
        phrases: Option<Phrases>,
    },
    /// Twilio Voice: the phone bot's `<Gather>` turns.
    Voice {
        /// Twilio auth tokens accepted.
        auth_tokens: Vec<String>,
        /// The URL Twilio posts the caller's answer to.
        gather_action: String,
        /// The number a hand-off dials.
        #[serde(default)]
        agent_number: Option<String>,
        /// Keys for the HMAC-SHA256 signature variant.
        #[serde(default)]
        shared_keys: Vec<String>,
        /// Input limits.
        #[serde(default)]
        limits: LimitSettings,
        /// Words added around replies.
        #[serde(default)]
        phrases: Option<Phrases>,
    },
    /// Open311 GeoReport v2 (the city app).
    Open311 {
        /// API keys accepted on `POST requests`.
        api_keys: Vec<String>,
        /// The services offered (see [`Open311::from_config`] to derive them from a
        /// configuration).
        #[serde(default)]
        services: Vec<Service>,
        /// `xml` (the spec's default) or `json`: the format replies are rendered in.
        #[serde(default)]
        reply_format: Option<String>,
        /// Input limits.
        #[serde(default)]
        limits: LimitSettings,
    },
    /// A plain JSON web form.
    Web {
        /// Input limits.
        #[serde(default)]
        limits: LimitSettings,
    },
}

impl ChannelSettings {
    /// Settings from JSON text; a missing, unknown or ill-typed field is a [`ConfigError`]
    /// naming it.
    pub fn from_json(text: &str) -> Result<ChannelSettings, ConfigError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::one("channel", ".", e.to_string()))?;
        Self::from_value(value)
    }

    /// Settings from already-parsed JSON data (what the bindings hand over).
    ///
    /// ```
    /// use civic_router::channel::{Channel, settings::ChannelSettings};
    /// let s = ChannelSettings::from_value(serde_json::json!({
    ///     "provider": "sms", "auth_tokens": ["t"], "limits": {"max_body_bytes": 4096}
    /// })).unwrap();
    /// assert_eq!(s.build().limits().max_body_bytes, 4096);
    /// ```
    pub fn from_value(value: serde_json::Value) -> Result<ChannelSettings, ConfigError> {
        let serde_json::Value::Object(mut fields) = value else {
            return Err(ConfigError::one(
                "channel",
                ".",
                "expected an object with a `provider` field",
            ));
        };
        let provider = match fields.remove("provider") {
            Some(serde_json::Value::String(p)) => p,
            Some(other) => {
                return Err(ConfigError::one(
                    "channel",
                    "provider",
                    format!("expected a string, got {other}"),
                ))
            }
            None => {
                return Err(ConfigError::one(
                    "channel",
                    "provider",
                    "missing: one of `whatsapp`, `sms`, `voice`, `open311`, `web`",
                ))
            }
        };
        let tagged = serde_json::json!({ provider.clone(): fields });
        let settings: ChannelSettings = serde_path_to_error::deserialize(tagged).map_err(|e| {
            let path = e.path().to_string();
            // the first segment is the provider tag itself
            let field = match path.split_once('.') {
                Some((_, rest)) if !rest.is_empty() => rest.to_string(),
                _ => "provider".to_string(),
            };
            ConfigError::one("channel", field, e.into_inner().to_string())
        })?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let refuse = |field: &str, reason: &str| Err(ConfigError::one("channel", field, reason));
        let limits = match self {
            ChannelSettings::Whatsapp {
                app_secret,
                verify_token,
                limits,
                ..
            } => {
                if app_secret.is_empty() {
                    return refuse("app_secret", "must not be empty");
                }
                if verify_token.is_empty() {
                    return refuse("verify_token", "must not be empty");
                }
                limits
            }
            ChannelSettings::Sms {
                auth_tokens,
                shared_keys,
                limits,
                ..
            }
            | ChannelSettings::Voice {
                auth_tokens,
                shared_keys,
                limits,
                ..
            } => {
                if auth_tokens.iter().chain(shared_keys).all(|t| t.is_empty()) {
                    return refuse(
                        "auth_tokens",
                        "give at least one non-empty Twilio auth token (or shared key)",
                    );
                }
                limits
            }
            ChannelSettings::Open311 {
                reply_format,
                limits,
                ..
            } => {
                if let Some(f) = reply_format {
                    if f != "xml" && f != "json" {
                        return refuse("reply_format", "expected `xml` or `json`");
                    }
                }
                limits
            }
            ChannelSettings::Web { limits } => limits,
        };
        if limits.max_body_bytes == Some(0) {
            return refuse("limits.max_body_bytes", "must be at least 1");
        }
        if limits.max_items == Some(0) {
            return refuse("limits.max_items", "must be at least 1");
        }
        Ok(())
    }

    /// Builds the channel.
    pub fn build(self) -> AnyChannel {
        match self {
            ChannelSettings::Whatsapp {
                app_secret,
                verify_token,
                template,
                limits,
                phrases,
            } => {
                let mut wa = WhatsApp::new(app_secret.into_bytes(), verify_token);
                if let Some(t) = template {
                    wa = wa.with_template(Template {
                        name: t.name,
                        language: t.language,
                        ticket_only: t.ticket_only,
                    });
                }
                wa.limits = limits.limits();
                if let Some(p) = phrases {
                    wa.phrases = p;
                }
                AnyChannel::Whatsapp(wa)
            }
            ChannelSettings::Sms {
                auth_tokens,
                shared_keys,
                limits,
                phrases,
            } => {
                let mut sms = Sms::new(auth_tokens).with_shared_keys(shared_keys);
                sms.limits = limits.limits();
                if let Some(p) = phrases {
                    sms.phrases = p;
                }
                AnyChannel::Sms(sms)
            }
            ChannelSettings::Voice {
                auth_tokens,
                gather_action,
                agent_number,
                shared_keys,
                limits,
                phrases,
            } => {
                let mut voice =
                    Voice::new(auth_tokens, gather_action).with_shared_keys(shared_keys);
                if let Some(n) = agent_number {
                    voice = voice.with_agent_number(n);
                }
                voice.limits = limits.limits();
                if let Some(p) = phrases {
                    voice.phrases = p;
                }
                AnyChannel::Voice(voice)
            }
            ChannelSettings::Open311 {
                api_keys,
                services,
                reply_format,
                limits,
            } => {
                let mut o = Open311::new(api_keys, services);
                if reply_format.as_deref() == Some("json") {
                    o.reply_format = Format::Json;
                }
                o.limits = limits.limits();
                AnyChannel::Open311(o)
            }
            ChannelSettings::Web { limits } => {
                let mut web = WebForm::new();
                web.limits = limits.limits();
                AnyChannel::Web(web)
            }
        }
    }
}

/// Any of the real channels, as built from [`ChannelSettings`].
#[derive(Debug, Clone)]
pub enum AnyChannel {
    /// WhatsApp Business Cloud API.
    Whatsapp(WhatsApp),
    /// Twilio SMS.
    Sms(Sms),
    /// Twilio Voice.
    Voice(Voice),
    /// Open311 GeoReport v2.
    Open311(Open311),
    /// Web form.
    Web(WebForm),
}

impl AnyChannel {
    fn inner(&self) -> &dyn Channel {
        match self {
            AnyChannel::Whatsapp(c) => c,
            AnyChannel::Sms(c) => c,
            AnyChannel::Voice(c) => c,
            AnyChannel::Open311(c) => c,
            AnyChannel::Web(c) => c,
        }
    }

    /// The provider's name as [`ChannelSettings`] tags it (`whatsapp`, `sms`, `voice`,
    /// `open311`, `web`).
    pub fn provider(&self) -> &'static str {
        match self {
            AnyChannel::Whatsapp(_) => "whatsapp",
            AnyChannel::Sms(_) => "sms",
            AnyChannel::Voice(_) => "voice",
            AnyChannel::Open311(_) => "open311",
            AnyChannel::Web(_) => "web",
        }
    }

    /// Answers WhatsApp's subscription handshake (the challenge to send back); other
    /// channels have none and refuse with `Unsupported`.
    ///
    /// ```
    /// use civic_router::channel::{InboundRequest, settings::ChannelSettings};
    /// let wa = ChannelSettings::from_json(
    ///     r#"{"provider": "whatsapp", "app_secret": "s", "verify_token": "tok"}"#,
    /// ).unwrap().build();
    /// let req = InboundRequest::get(
    ///     "https://x.example/wa?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=42",
    /// );
    /// assert_eq!(wa.handshake(&req).unwrap(), "42");
    /// ```
    pub fn handshake(&self, req: &InboundRequest) -> Result<String, ChannelError> {
        match self {
            AnyChannel::Whatsapp(wa) => wa.handshake(req),
            other => Err(ChannelError::new(
                other.kind(),
                "method",
                ChannelErrorKind::Unsupported,
                format!(
                    "the {} channel has no subscription handshake",
                    other.provider()
                ),
            )),
        }
    }
}

impl Channel for AnyChannel {
    fn kind(&self) -> ChannelKind {
        self.inner().kind()
    }

    fn limits(&self) -> &Limits {
        self.inner().limits()
    }

    fn verify(&self, req: &InboundRequest) -> Result<(), ChannelError> {
        self.inner().verify(req)
    }

    fn parse(&self, req: &InboundRequest) -> Result<Inbound, ChannelError> {
        self.inner().parse(req)
    }

    fn render(&self, reply: &Reply, cx: &ReplyContext) -> Result<Rendered, ChannelError> {
        self.inner().render(reply, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        ChannelSettings::from_json(json).unwrap_err().to_string()
    }

    #[test]
    fn every_provider_builds_with_its_kind() {
        for (json, kind) in [
            (
                r#"{"provider":"whatsapp","app_secret":"s","verify_token":"t"}"#,
                ChannelKind::Whatsapp,
            ),
            (
                r#"{"provider":"sms","auth_tokens":["t"]}"#,
                ChannelKind::Sms,
            ),
            (
                r#"{"provider":"voice","auth_tokens":["t"],"gather_action":"https://x/g"}"#,
                ChannelKind::Voice,
            ),
            (
                r#"{"provider":"open311","api_keys":["k"]}"#,
                ChannelKind::App,
            ),
            (r#"{"provider":"web"}"#, ChannelKind::Web),
        ] {
            let c = ChannelSettings::from_json(json).unwrap().build();
            assert_eq!(c.kind(), kind, "{json}");
        }
    }

    #[test]
    fn bad_settings_name_the_field() {
        assert!(err(r#"{"provider":"fax"}"#).contains("fax"));
        let fax = ChannelSettings::from_json(r#"{"provider":"fax"}"#).unwrap_err();
        assert_eq!(fax.issues[0].field, "provider");
        let typed = ChannelSettings::from_json(r#"{"provider":"sms","auth_tokens":"t"}"#);
        assert_eq!(typed.unwrap_err().issues[0].field, "auth_tokens");
        assert!(err(r#"{"app_secret":"s"}"#).contains("provider"));
        assert!(err(r#"{"provider":"web","colour":"red"}"#).contains("colour"));
        assert!(err(r#"{"provider":"sms","auth_tokens":"t"}"#).contains("auth_tokens"));
        assert!(err(r#"{"provider":"sms","auth_tokens":[""]}"#).contains("auth_tokens"));
        assert!(
            err(r#"{"provider":"whatsapp","app_secret":"","verify_token":"t"}"#)
                .contains("app_secret")
        );
        assert!(err(r#"{"provider":"web","limits":{"max_body_bytes":0}}"#)
            .contains("limits.max_body_bytes"));
        assert!(
            err(r#"{"provider":"open311","api_keys":[],"reply_format":"csv"}"#)
                .contains("reply_format")
        );
        assert!(err("{").contains("channel"));
        assert!(err(r#"{"provider":"web"} x"#).contains("channel"));
    }

    #[test]
    fn limits_and_template_are_applied() {
        let c = ChannelSettings::from_json(
            r#"{"provider":"whatsapp","app_secret":"s","verify_token":"t",
                "template":{"name":"estado","ticket_only":true},"limits":{"max_items":3}}"#,
        )
        .unwrap()
        .build();
        assert_eq!(c.limits().max_items, 3);
        assert_eq!(
            c.limits().max_body_bytes,
            super::super::DEFAULT_MAX_BODY_BYTES
        );
        match c {
            AnyChannel::Whatsapp(wa) => {
                let t = wa.template.unwrap();
                assert_eq!((t.name.as_str(), t.language.as_str()), ("estado", "es"));
                assert!(t.ticket_only);
            }
            other => panic!("built {}", other.provider()),
        }
    }

    #[test]
    fn only_whatsapp_has_a_handshake() {
        let sms = ChannelSettings::from_json(r#"{"provider":"sms","auth_tokens":["t"]}"#)
            .unwrap()
            .build();
        let e = sms
            .handshake(&InboundRequest::get("https://x/?hub.mode=subscribe"))
            .unwrap_err();
        assert_eq!(e.kind, ChannelErrorKind::Unsupported);
    }
}
