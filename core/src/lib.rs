//! # civic-router
//!
//! Routes every message a citizen sends to a city's service line — WhatsApp, SMS, the phone
//! bot, the city app, a web form — to the department that must act, in microseconds and with an
//! explanation anyone can read.
//!
//! The decision is a pure function of (message, configuration): [`Router::route`] normalises the
//! text once ([`text`]), places it in a district ([`route::Gazetteer`]), runs the classifier chain
//! (the compiled [`rules`] first, then any plug-in [`classify::Classifier`]), and picks the
//! department from the layered routing table ([`route`]). I/O lives at the edges.
//!
//! ```
//! use civic_router::{Router, message::{ChannelKind, Message}};
//!
//! let router = Router::from_toml(r#"
//!     [categories]
//!     limpieza = "Limpieza"
//!     general = "General"
//!     [[department]]
//!     id = "lipasam"
//!     name = "LIPASAM"
//!     [[department]]
//!     id = "010"
//!     name = "010"
//!     [routing]
//!     default = "010"
//!     category.limpieza = "lipasam"
//!     [[rule]]
//!     id = "contenedor"
//!     when.any_words = ["contenedor*", "basura"]
//!     then = { intent = "incident", category = "limpieza" }
//! "#).unwrap();
//!
//! let d = router.route(&Message::new("1", ChannelKind::Whatsapp, "el contenedor está lleno")).unwrap();
//! assert_eq!(d.department, "lipasam");
//! assert_eq!(d.rules, vec!["contenedor"]);
//! ```

#![warn(missing_docs)]

pub mod appointment;
#[cfg(feature = "channels")]
pub mod channel;
pub mod classify;
pub mod config;
pub mod error;
pub mod eval;
pub mod faq;
pub mod message;
pub mod pipeline;
pub mod route;
pub mod rules;
pub mod text;
#[cfg(feature = "tickets")]
pub mod ticket;

pub use classify::{Classification, Classifier, Intent, Priority};
pub use config::Config;
pub use error::{
    ChannelError, ConfigError, DeliveryError, Error, ErrorKind, InputError, Result, StoreError,
};
pub use message::{ChannelKind, Message};
pub use pipeline::{Decision, Explanation, Router};
pub use rules::RuleSet;

/// The README's Rust example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
