//! The city app: Open311 GeoReport v2, the open standard for service requests, in XML (the
//! format the spec requires and FixMyStreet speaks) and JSON.
//!
//! - `GET services.{xml,json}`: the configuration's categories as services ([`Open311::services`]);
//! - `POST requests.{xml,json}` (form-encoded, `api_key` checked in constant time): a
//!   [`Message`] ([`Channel::parse`]); the answer carries `service_request_id` and
//!   `service_notice` ([`Open311::created`]);
//! - `GET requests/{id}.{xml,json}` and `GET requests.{xml,json}`: [`Open311::requests`],
//!   the internal [`CaseStatus`] mapped down to `open`/`closed` with `status_notes`;
//! - the `servicerequestupdates` extension FixMyStreet uses to sync both ways:
//!   [`Open311::updates`] (GET) and [`Open311::parse_update`] (POST);
//! - the standard error format ([`Open311::error`]). Ids and codes are always strings.
//!
//! ```
//! use civic_router::channel::{Channel, InboundRequest, open311::{Format, Open311, Service}};
//!
//! let o = Open311::new(vec!["KEY".into()], vec![Service::new("alumbrado", "Alumbrado público")]);
//! let req = InboundRequest::post(
//!     "https://010.example/open311/v2/requests.xml",
//!     b"api_key=KEY&service_code=alumbrado&lat=37.3826&long=-6.0012&description=Farola+apagada".to_vec(),
//! );
//! let msg = &o.receive(&req).unwrap().messages[0];
//! assert_eq!(msg.text, "Farola apagada");
//! assert_eq!(msg.metadata["service_code"], "alumbrado");
//!
//! let bad_key = InboundRequest::post("https://010.example/open311/v2/requests.xml", b"api_key=nope".to_vec());
//! let err = o.receive(&bad_key).unwrap_err();
//! assert_eq!(err.kind.http_status(), 403);
//! assert!(o.error(&err, Format::Xml).body.contains("<errors><error><code>403</code>"));
//! ```

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::form::field;
use super::signature::{ct_eq, sha256_hex};
use super::xml::Xml;
use super::{
    malformed, parse_form, Channel, ChannelError, ChannelErrorKind, Inbound, InboundRequest,
    Limits, Rendered, Reply, ReplyContext,
};
use crate::config::Config;
use crate::message::{ChannelKind, Contact, Location, Message};

const K: ChannelKind = ChannelKind::App;

/// Longest `description` the spec allows (characters).
pub const MAX_DESCRIPTION: usize = 4000;
/// Most `attribute[…]` values accepted in one request.
pub const MAX_ATTRIBUTES: usize = 50;

/// The response format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `.xml` (required by the spec).
    Xml,
    /// `.json`.
    Json,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET services.{fmt}`
    Services,
    /// `GET services/{code}.{fmt}`
    ServiceDefinition(String),
    /// `POST requests.{fmt}`
    CreateRequest,
    /// `GET requests.{fmt}`
    Requests,
    /// `GET requests/{id}.{fmt}`
    Request(String),
    /// `GET servicerequestupdates.{fmt}`
    Updates,
    /// `POST servicerequestupdates.{fmt}`
    PostUpdate,
}

/// One service: a category of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// `service_code`: the category id.
    pub code: String,
    /// `service_name`: the category's human name.
    pub name: String,
    /// `description`.
    #[serde(default)]
    pub description: String,
    /// `group`: the department that handles it, when the routing table says.
    #[serde(default)]
    pub group: Option<String>,
    /// `keywords`.
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl Service {
    /// A service with a code and a name (also its description).
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        let name = name.into();
        Service {
            code: code.into(),
            description: name.clone(),
            name,
            group: None,
            keywords: Vec::new(),
        }
    }
}

/// The internal status of a case, richer than Open311's `open`/`closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Received, not yet routed.
    Received,
    /// Sent to the department.
    Routed,
    /// The department accepted it.
    Accepted,
    /// Work under way.
    InProgress,
    /// Fixed.
    Resolved,
    /// Not the city's to fix, or refused.
    Rejected,
    /// Another report of a known problem.
    Duplicate,
    /// Closed.
    Closed,
    /// Reopened after closing.
    Reopened,
}

impl CaseStatus {
    /// Open311's two values.
    ///
    /// ```
    /// use civic_router::channel::open311::CaseStatus;
    /// assert_eq!(CaseStatus::InProgress.open311(), "open");
    /// assert_eq!(CaseStatus::Duplicate.open311(), "closed");
    /// ```
    pub fn open311(self) -> &'static str {
        match self {
            CaseStatus::Received
            | CaseStatus::Routed
            | CaseStatus::Accepted
            | CaseStatus::InProgress
            | CaseStatus::Reopened => "open",
            CaseStatus::Resolved
            | CaseStatus::Rejected
            | CaseStatus::Duplicate
            | CaseStatus::Closed => "closed",
        }
    }

    /// FixMyStreet's extended status (`servicerequestupdates`).
    pub fn fixmystreet(self) -> &'static str {
        match self {
            CaseStatus::Received | CaseStatus::Routed | CaseStatus::Reopened => "open",
            CaseStatus::Accepted => "investigating",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Resolved => "fixed",
            CaseStatus::Rejected => "not_councils_responsibility",
            CaseStatus::Duplicate => "duplicate",
            CaseStatus::Closed => "closed",
        }
    }

    /// Reads an Open311 or FixMyStreet status (any case).
    ///
    /// ```
    /// use civic_router::channel::open311::CaseStatus;
    /// assert_eq!(CaseStatus::from_external("FIXED"), Some(CaseStatus::Resolved));
    /// assert_eq!(CaseStatus::from_external("action_scheduled"), Some(CaseStatus::Accepted));
    /// assert_eq!(CaseStatus::from_external("whatever"), None);
    /// ```
    pub fn from_external(s: &str) -> Option<CaseStatus> {
        Some(match s.to_ascii_lowercase().replace(' ', "_").as_str() {
            "open" => CaseStatus::Routed,
            "investigating" | "action_scheduled" => CaseStatus::Accepted,
            "in_progress" => CaseStatus::InProgress,
            "fixed" => CaseStatus::Resolved,
            "not_councils_responsibility" | "no_further_action" | "internal_referral" => {
                CaseStatus::Rejected
            }
            "duplicate" => CaseStatus::Duplicate,
            "closed" => CaseStatus::Closed,
            _ => return None,
        })
    }
}

/// A service request as `GET requests` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRequest {
    /// `service_request_id` (the ticket reference).
    pub id: String,
    /// The internal status.
    pub status: CaseStatus,
    /// `status_notes`.
    pub status_notes: Option<String>,
    /// `service_code`.
    pub service_code: String,
    /// `service_name`.
    pub service_name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `agency_responsible`: the department.
    pub agency_responsible: Option<String>,
    /// `service_notice`.
    pub service_notice: Option<String>,
    /// `requested_datetime`.
    pub requested: Option<DateTime<FixedOffset>>,
    /// `updated_datetime`.
    pub updated: Option<DateTime<FixedOffset>>,
    /// `expected_datetime`.
    pub expected: Option<DateTime<FixedOffset>>,
    /// `address`.
    pub address: Option<String>,
    /// `lat`.
    pub lat: Option<f64>,
    /// `long`.
    pub lon: Option<f64>,
    /// `media_url`.
    pub media_url: Option<String>,
}

/// One update of a request (`servicerequestupdates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestUpdate {
    /// `update_id` (or FixMyStreet's `update_id_ext` on a POST).
    pub update_id: String,
    /// `service_request_id`.
    pub service_request_id: String,
    /// The status after the update.
    pub status: CaseStatus,
    /// `updated_datetime`.
    pub updated: DateTime<FixedOffset>,
    /// `description`.
    pub description: String,
    /// `media_url`.
    pub media_url: Option<String>,
    /// Who wrote it (POSTed updates).
    #[serde(default)]
    pub contact: Contact,
}

/// The Open311 GeoReport v2 endpoint of the city.
#[derive(Debug, Clone)]
pub struct Open311 {
    api_keys: Vec<String>,
    /// The services offered.
    pub services: Vec<Service>,
    /// Input limits.
    pub limits: Limits,
    /// The format [`Channel::render`] answers in (default XML, as the spec requires).
    pub reply_format: Format,
}

impl Open311 {
    /// An endpoint accepting these API keys and offering these services.
    pub fn new(api_keys: Vec<String>, services: Vec<Service>) -> Self {
        Open311 {
            api_keys,
            services,
            limits: Limits::default(),
            reply_format: Format::Xml,
        }
    }

    /// The services of a configuration: every category but `emergencias` (emergencies are
    /// for 112, not a service request), grouped by the department the routing table sends
    /// the category to.
    ///
    /// ```
    /// use civic_router::{config::Config, channel::open311::Open311};
    /// let cfg = Config::from_toml_str(r#"
    ///     [categories]
    ///     alumbrado = "Alumbrado público"
    ///     emergencias = "Emergencias"
    ///     [[department]]
    ///     id = "luz"
    ///     name = "Servicio de Alumbrado"
    ///     [routing]
    ///     default = "luz"
    ///     category.alumbrado = "luz"
    /// "#, "x.toml").unwrap();
    /// let o = Open311::from_config(&cfg, vec!["k".into()]);
    /// assert_eq!(o.services.len(), 1);
    /// assert_eq!(o.services[0].group.as_deref(), Some("Servicio de Alumbrado"));
    /// ```
    pub fn from_config(config: &Config, api_keys: Vec<String>) -> Self {
        let services = config
            .categories
            .iter()
            .filter(|(code, _)| code.as_str() != "emergencias")
            .map(|(code, name)| {
                let mut s = Service::new(code, name);
                s.group = config
                    .routing
                    .category
                    .get(code)
                    .and_then(|d| config.departments.iter().find(|x| &x.id == d))
                    .map(|d| d.name.clone());
                s
            })
            .collect();
        Open311::new(api_keys, services)
    }

    /// Which endpoint a request is for, from its method and the end of its path
    /// (`…/services.json`, `…/requests/SEV-1.xml`).
    ///
    /// ```
    /// use civic_router::channel::{InboundRequest, open311::{Endpoint, Format, Open311}};
    /// let o = Open311::new(vec![], vec![]);
    /// let r = InboundRequest::get("https://x.example/open311/v2/requests/SEV-2026-000123.json");
    /// assert_eq!(o.endpoint(&r).unwrap(), (Endpoint::Request("SEV-2026-000123".into()), Format::Json));
    /// assert!(o.endpoint(&InboundRequest::get("https://x.example/v2/other.json")).is_err());
    /// ```
    pub fn endpoint(&self, req: &InboundRequest) -> Result<(Endpoint, Format), ChannelError> {
        let path = req.path();
        let unsupported = || {
            ChannelError::new(
                K,
                "path",
                ChannelErrorKind::Unsupported,
                format!("{} {path}", req.method),
            )
        };
        let (stem, ext) = path.rsplit_once('.').ok_or_else(unsupported)?;
        let format = match ext {
            "xml" => Format::Xml,
            "json" => Format::Json,
            _ => return Err(unsupported()),
        };
        let segs: Vec<&str> = stem.rsplit('/').take(2).collect();
        let last = segs.first().copied().unwrap_or("");
        let parent = segs.get(1).copied().unwrap_or("");
        let get = req.method.eq_ignore_ascii_case("GET");
        let post = req.method.eq_ignore_ascii_case("POST");
        let decode = |s: &str| {
            super::percent_decode(s.as_bytes())
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|s| !s.is_empty() && s.len() <= 128)
                .ok_or_else(|| malformed(K, "path", "bad id"))
        };
        let e = match (last, parent) {
            ("services", _) if get => Endpoint::Services,
            ("requests", _) if get => Endpoint::Requests,
            ("requests", _) if post => Endpoint::CreateRequest,
            ("servicerequestupdates", _) if get => Endpoint::Updates,
            ("servicerequestupdates", _) if post => Endpoint::PostUpdate,
            (code, "services") if get => Endpoint::ServiceDefinition(decode(code)?),
            (id, "requests") if get => Endpoint::Request(decode(id)?),
            _ => return Err(unsupported()),
        };
        Ok((e, format))
    }

    fn check_key(&self, form: &[(String, String)]) -> Result<(), ChannelError> {
        let given = field(form, "api_key").unwrap_or("");
        // every key compared, whatever matched, so timing says nothing about which
        let ok = self
            .api_keys
            .iter()
            .filter(|k| !k.is_empty())
            .fold(false, |acc, k| acc | ct_eq(given.as_bytes(), k.as_bytes()));
        if given.is_empty() || !ok {
            return Err(ChannelError::new(
                K,
                "api_key",
                ChannelErrorKind::Unauthorized,
                "Invalid api_key received -- can't proceed",
            ));
        }
        Ok(())
    }

    fn service(&self, code: &str) -> Result<&Service, ChannelError> {
        self.services
            .iter()
            .find(|s| s.code == code)
            .ok_or_else(|| {
                ChannelError::new(
                    K,
                    "service_code",
                    ChannelErrorKind::NotFound,
                    format!("unknown service_code `{code}`"),
                )
            })
    }

    /// `GET services.{fmt}`.
    pub fn services(&self, format: Format) -> Rendered {
        match format {
            Format::Json => {
                let list: Vec<Value> = self
                    .services
                    .iter()
                    .map(|s| {
                        json!({
                            "service_code": s.code, "service_name": s.name,
                            "description": s.description, "metadata": false, "type": "realtime",
                            "keywords": s.keywords.join(","), "group": s.group.clone().unwrap_or_default(),
                        })
                    })
                    .collect();
                Rendered::ok(format.content_type(), Value::Array(list).to_string())
            }
            Format::Xml => {
                let mut x = Xml::new();
                x.open("services", &[]);
                for s in &self.services {
                    x.open("service", &[])
                        .leaf("service_code", &[], &s.code)
                        .leaf("service_name", &[], &s.name)
                        .leaf("description", &[], &s.description)
                        .leaf("metadata", &[], "false")
                        .leaf("type", &[], "realtime")
                        .leaf("keywords", &[], &s.keywords.join(","))
                        .leaf("group", &[], s.group.as_deref().unwrap_or(""))
                        .close("service");
                }
                x.close("services");
                Rendered::ok(format.content_type(), x.finish())
            }
        }
    }

    /// The answer to `POST requests`: `service_request_id` and `service_notice`.
    pub fn created(&self, request_id: &str, notice: Option<&str>, format: Format) -> Rendered {
        match format {
            Format::Json => Rendered::ok(
                format.content_type(),
                json!([{"service_request_id": request_id, "service_notice": notice, "account_id": null}])
                    .to_string(),
            ),
            Format::Xml => {
                let mut x = Xml::new();
                x.open("service_requests", &[])
                    .open("request", &[])
                    .leaf("service_request_id", &[], request_id)
                    .leaf("service_notice", &[], notice.unwrap_or(""))
                    .empty("account_id", &[])
                    .close("request")
                    .close("service_requests");
                Rendered::ok(format.content_type(), x.finish())
            }
        }
    }

    /// `GET requests/{id}` (a one-element list) and `GET requests`.
    pub fn requests(&self, requests: &[ServiceRequest], format: Format) -> Rendered {
        let ts = |t: &Option<DateTime<FixedOffset>>| t.map(|t| t.to_rfc3339());
        match format {
            Format::Json => {
                let list: Vec<Value> = requests
                    .iter()
                    .map(|r| {
                        json!({
                            "service_request_id": r.id, "status": r.status.open311(),
                            "status_notes": r.status_notes, "service_name": r.service_name,
                            "service_code": r.service_code, "description": r.description,
                            "agency_responsible": r.agency_responsible, "service_notice": r.service_notice,
                            "requested_datetime": ts(&r.requested), "updated_datetime": ts(&r.updated),
                            "expected_datetime": ts(&r.expected), "address": r.address,
                            "address_id": null, "zipcode": null, "lat": r.lat, "long": r.lon,
                            "media_url": r.media_url,
                        })
                    })
                    .collect();
                Rendered::ok(format.content_type(), Value::Array(list).to_string())
            }
            Format::Xml => {
                let mut x = Xml::new();
                x.open("service_requests", &[]);
                for r in requests {
                    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
                    let num = |v: Option<f64>| v.map(|f| f.to_string()).unwrap_or_default();
                    x.open("request", &[])
                        .leaf("service_request_id", &[], &r.id)
                        .leaf("status", &[], r.status.open311())
                        .leaf("status_notes", &[], &opt(&r.status_notes))
                        .leaf("service_name", &[], &opt(&r.service_name))
                        .leaf("service_code", &[], &r.service_code)
                        .leaf("description", &[], &opt(&r.description))
                        .leaf("agency_responsible", &[], &opt(&r.agency_responsible))
                        .leaf("service_notice", &[], &opt(&r.service_notice))
                        .leaf("requested_datetime", &[], &opt(&ts(&r.requested)))
                        .leaf("updated_datetime", &[], &opt(&ts(&r.updated)))
                        .leaf("expected_datetime", &[], &opt(&ts(&r.expected)))
                        .leaf("address", &[], &opt(&r.address))
                        .empty("address_id", &[])
                        .empty("zipcode", &[])
                        .leaf("lat", &[], &num(r.lat))
                        .leaf("long", &[], &num(r.lon))
                        .leaf("media_url", &[], &opt(&r.media_url))
                        .close("request");
                }
                x.close("service_requests");
                Rendered::ok(format.content_type(), x.finish())
            }
        }
    }

    /// `GET servicerequestupdates` (FixMyStreet's extension), statuses in FixMyStreet's
    /// extended vocabulary.
    pub fn updates(&self, updates: &[RequestUpdate], format: Format) -> Rendered {
        match format {
            Format::Json => {
                let list: Vec<Value> = updates
                    .iter()
                    .map(|u| {
                        json!({
                            "update_id": u.update_id, "service_request_id": u.service_request_id,
                            "status": u.status.fixmystreet(), "updated_datetime": u.updated.to_rfc3339(),
                            "description": u.description, "media_url": u.media_url,
                        })
                    })
                    .collect();
                Rendered::ok(
                    format.content_type(),
                    json!({ "service_request_updates": list }).to_string(),
                )
            }
            Format::Xml => {
                let mut x = Xml::new();
                x.open("service_request_updates", &[]);
                for u in updates {
                    x.open("request_update", &[])
                        .leaf("update_id", &[], &u.update_id)
                        .leaf("service_request_id", &[], &u.service_request_id)
                        .leaf("status", &[], u.status.fixmystreet())
                        .leaf("updated_datetime", &[], &u.updated.to_rfc3339())
                        .leaf("description", &[], &u.description)
                        .leaf("media_url", &[], u.media_url.as_deref().unwrap_or(""))
                        .close("request_update");
                }
                x.close("service_request_updates");
                Rendered::ok(format.content_type(), x.finish())
            }
        }
    }

    /// An update POSTed by FixMyStreet (`servicerequestupdates`): size, `api_key`, fields.
    ///
    /// ```
    /// use civic_router::channel::{InboundRequest, open311::{CaseStatus, Open311}};
    /// let o = Open311::new(vec!["K".into()], vec![]);
    /// let req = InboundRequest::post("https://x.example/v2/servicerequestupdates.xml",
    ///     b"api_key=K&update_id_ext=77&service_request_id=SEV-1&status=FIXED&updated_datetime=2026-03-03T12%3A00%3A00%2B01%3A00&description=Arreglado".to_vec());
    /// let u = o.parse_update(&req).unwrap();
    /// assert_eq!((u.update_id.as_str(), u.status), ("77", CaseStatus::Resolved));
    /// ```
    pub fn parse_update(&self, req: &InboundRequest) -> Result<RequestUpdate, ChannelError> {
        req.check_size(K, &self.limits)?;
        let form = parse_form(&req.body, K, "body")?;
        self.check_key(&form)?;
        let req_field = |n: &str| {
            field(&form, n)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| malformed(K, n, "missing"))
        };
        let update_id = field(&form, "update_id_ext")
            .or_else(|| field(&form, "update_id"))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| malformed(K, "update_id_ext", "missing"))?;
        let status_s = req_field("status")?;
        let status = CaseStatus::from_external(status_s)
            .ok_or_else(|| malformed(K, "status", format!("unknown status `{status_s}`")))?;
        let when = req_field("updated_datetime")?;
        let updated = DateTime::parse_from_rfc3339(when).map_err(|e| {
            malformed(
                K,
                "updated_datetime",
                format!("`{when}`: {e} (ISO 8601 with a time zone)"),
            )
        })?;
        let description = field(&form, "description").unwrap_or("").to_string();
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(ChannelError::new(
                K,
                "description",
                ChannelErrorKind::TooLarge,
                format!("more than {MAX_DESCRIPTION} characters"),
            ));
        }
        let name = [field(&form, "first_name"), field(&form, "last_name")]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(RequestUpdate {
            update_id: update_id.to_string(),
            service_request_id: req_field("service_request_id")?.to_string(),
            status,
            updated,
            description,
            media_url: media_url(&form)?,
            contact: Contact {
                id: None,
                phone: None,
                email: field(&form, "email")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                name: (!name.is_empty()).then_some(name),
            },
        })
    }

    /// The standard error format, with the HTTP status of the error's kind.
    pub fn error(&self, err: &ChannelError, format: Format) -> Rendered {
        let code = err.kind.http_status();
        let description = if err.field == "api_key" {
            err.reason.clone()
        } else {
            format!("{}: {}", err.field, err.reason)
        };
        let body = match format {
            Format::Json => json!([{"code": code, "description": description}]).to_string(),
            Format::Xml => {
                let mut x = Xml::new();
                x.open("errors", &[])
                    .open("error", &[])
                    .leaf("code", &[], &code.to_string())
                    .leaf("description", &[], &description)
                    .close("error")
                    .close("errors");
                x.finish()
            }
        };
        Rendered {
            status: code,
            content_type: format.content_type().into(),
            body,
            segments: None,
        }
    }
}

fn media_url(form: &[(String, String)]) -> Result<Option<String>, ChannelError> {
    match field(form, "media_url").filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(u) if (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2048 => {
            Ok(Some(u.to_string()))
        }
        Some(_) => Err(malformed(K, "media_url", "not an http(s) URL")),
    }
}

fn coordinate(
    form: &[(String, String)],
    name: &str,
    range: f64,
) -> Result<Option<f64>, ChannelError> {
    match field(form, name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && x.abs() <= range)
            .map(Some)
            .ok_or_else(|| malformed(K, name, format!("`{v}` is not a coordinate"))),
    }
}

impl Channel for Open311 {
    fn kind(&self) -> ChannelKind {
        K
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    /// `api_key` in the form body, compared in constant time with every configured key.
    fn verify(&self, req: &InboundRequest) -> Result<(), ChannelError> {
        let form = parse_form(&req.body, K, "body")?;
        self.check_key(&form)
    }

    /// `POST requests.{fmt}` → a message. Its id is a digest of the parameters (without
    /// `api_key`), since Open311 gives none: a retried POST is the same message.
    fn parse(&self, req: &InboundRequest) -> Result<Inbound, ChannelError> {
        if !req.method.eq_ignore_ascii_case("POST") {
            return Err(ChannelError::new(
                K,
                "method",
                ChannelErrorKind::Unsupported,
                "service requests are created by POST",
            ));
        }
        let form = parse_form(&req.body, K, "body")?;
        let code = field(&form, "service_code")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(K, "service_code", "missing"))?;
        let service = self.service(code)?;
        let lat = coordinate(&form, "lat", 90.0)?;
        let lon = coordinate(&form, "long", 180.0)?;
        if lat.is_some() != lon.is_some() {
            return Err(malformed(
                K,
                if lat.is_some() { "long" } else { "lat" },
                "missing: lat and long go together",
            ));
        }
        let address = field(&form, "address_string").filter(|s| !s.is_empty());
        let address_id = field(&form, "address_id").filter(|s| !s.is_empty());
        if lat.is_none() && address.is_none() && address_id.is_none() {
            return Err(malformed(
                K,
                "lat",
                "a location is required: lat and long, address_string or address_id",
            ));
        }
        let description = field(&form, "description").unwrap_or("");
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(ChannelError::new(
                K,
                "description",
                ChannelErrorKind::TooLarge,
                format!("more than {MAX_DESCRIPTION} characters"),
            ));
        }
        let mut signed: Vec<&(String, String)> =
            form.iter().filter(|(k, _)| k != "api_key").collect();
        signed.sort();
        let digest_input: String = signed
            .iter()
            .map(|(k, v)| format!("{k}={v}\u{0}"))
            .collect();
        let id = format!("open311-{}", &sha256_hex(digest_input.as_bytes())[..20]);
        let text = if description.trim().is_empty() {
            service.name.as_str()
        } else {
            description
        };
        let mut msg = Message::new(id, K, text);
        let name = [field(&form, "first_name"), field(&form, "last_name")]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let nonempty = |n: &str| {
            field(&form, n)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        msg.contact = Contact {
            id: nonempty("account_id").or_else(|| nonempty("device_id")),
            phone: nonempty("phone"),
            email: nonempty("email"),
            name: (!name.is_empty()).then_some(name),
        };
        msg.location = Some(Location {
            lat,
            lon,
            address: address.map(str::to_string),
        });
        if let Some(url) = media_url(&form)? {
            msg.attachments.push(crate::message::Attachment {
                kind: "image".into(),
                mime_type: None,
                url: Some(url),
                caption: None,
            });
        }
        msg.metadata
            .insert("service_code".into(), Value::from(service.code.clone()));
        for (k, meta) in [
            ("jurisdiction_id", "jurisdiction_id"),
            ("address_id", "address_id"),
            ("device_id", "device_id"),
        ] {
            if let Some(v) = nonempty(k) {
                msg.metadata.insert(meta.into(), Value::from(v));
            }
        }
        let mut attributes = serde_json::Map::new();
        for (k, v) in &form {
            let Some(code) = k.strip_prefix("attribute[") else {
                continue;
            };
            let (code, multi) = match code.strip_suffix("][]") {
                Some(c) => (c, true),
                None => (
                    code.strip_suffix(']')
                        .ok_or_else(|| malformed(K, k.as_str(), "expected attribute[code]"))?,
                    false,
                ),
            };
            if code.is_empty() || code.len() > 64 {
                return Err(malformed(K, k.as_str(), "bad attribute code"));
            }
            if attributes.len() >= MAX_ATTRIBUTES && !attributes.contains_key(code) {
                return Err(ChannelError::new(
                    K,
                    k.as_str(),
                    ChannelErrorKind::TooLarge,
                    format!("more than {MAX_ATTRIBUTES} attributes"),
                ));
            }
            if multi {
                let e = attributes
                    .entry(code.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                match e {
                    Value::Array(a) => a.push(Value::from(v.clone())),
                    _ => return Err(malformed(K, k.as_str(), "both single and multiple values")),
                }
            } else {
                attributes.insert(code.to_string(), Value::from(v.clone()));
            }
        }
        if !attributes.is_empty() {
            msg.metadata
                .insert("attributes".into(), Value::Object(attributes));
        }
        Ok(Inbound {
            messages: vec![msg],
            ..Inbound::default()
        })
    }

    /// The `POST requests` answer in [`reply_format`](Open311::reply_format): the reply's
    /// ticket as `service_request_id`, its text as `service_notice`.
    fn render(&self, reply: &Reply, _cx: &ReplyContext) -> Result<Rendered, ChannelError> {
        let ticket = reply.ticket.as_deref().ok_or_else(|| {
            ChannelError::new(
                K,
                "service_request_id",
                ChannelErrorKind::Reply,
                "an Open311 answer needs the ticket reference",
            )
        })?;
        let notice = Some(reply.text.as_str()).filter(|t| !t.is_empty());
        Ok(self.created(ticket, notice, self.reply_format))
    }
}
