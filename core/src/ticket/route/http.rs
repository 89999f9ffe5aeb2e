//! The HTTP webhook route.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::Route;
use crate::error::DeliveryError;
use crate::ticket::store::OutboxItem;

/// Posts each row as JSON to a department's webhook.
///
/// Body: `{"idempotency_key", "kind", "event", "reference", "case" | "notification", "text"}`.
/// Headers: `Content-Type: application/json`, `Idempotency-Key` (the row's key, the same on
/// every attempt, so the receiver can drop repeats), and any the deployment adds (an
/// `Authorization` token). Redirects are not followed. A `2xx` is success; a timeout, a
/// connection error, `408`, `425`, `429` or a `5xx` is retried; any other status is final.
///
/// Built on `reqwest` (hyper underneath) with rustls and the Mozilla root certificates
/// compiled in: no OpenSSL, no system store to configure.
///
/// ```no_run
/// use civic_router::ticket::route::HttpRoute;
/// use std::time::Duration;
/// let route = HttpRoute::new("https://lipasam.example/api/avisos")
///     .unwrap()
///     .with_header("Authorization", "Bearer …")
///     .with_timeout(Duration::from_secs(5));
/// # let _ = route;
/// ```
#[derive(Debug, Clone)]
pub struct HttpRoute {
    url: reqwest::Url,
    client: reqwest::Client,
    headers: Vec<(String, String)>,
    timeout: Duration,
}

impl HttpRoute {
    /// A route to `url` (`http` or `https`), with a 10 s overall timeout and 5 s to connect.
    pub fn new(url: &str) -> Result<HttpRoute, DeliveryError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| DeliveryError::permanent(url, format!("bad URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DeliveryError::permanent(url, "only http and https URLs"));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("civic-router/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliveryError::permanent(url, format!("HTTP client: {e}")))?;
        Ok(HttpRoute {
            url: parsed,
            client,
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
        })
    }

    /// Adds a header to every request.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The overall timeout of one attempt (connect, send, answer).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The JSON body for a row.
    pub fn body(item: &OutboxItem) -> serde_json::Value {
        let key = match item.kind {
            crate::ticket::OutboxKind::Delivery => "case",
            crate::ticket::OutboxKind::Notification => "notification",
            crate::ticket::OutboxKind::Reminder => "reminder",
        };
        json!({
            "idempotency_key": item.idempotency_key,
            "kind": item.kind,
            "event": item.event,
            "reference": item.about(),
            key: item.payload,
            "text": item.text,
        })
    }
}

#[async_trait]
impl Route for HttpRoute {
    async fn send(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        let mut req = self
            .client
            .post(self.url.clone())
            .timeout(self.timeout)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &item.idempotency_key);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let body = serde_json::to_vec(&HttpRoute::body(item))
            .map_err(|e| DeliveryError::permanent(&item.target, format!("encode: {e}")))?;
        let resp = req.body(body).send().await.map_err(|e| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "request failed"
            };
            DeliveryError::retryable(&item.target, format!("{what}: {}", self.url))
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = format!("HTTP {} from {}", status.as_u16(), self.url);
        if status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429) {
            Err(DeliveryError::retryable(&item.target, reason))
        } else {
            Err(DeliveryError::permanent(&item.target, reason))
        }
    }
}
