//! Embedding civic-router in a Rust service.
//!
//! Loads the Seville configuration, adds a plug-in classifier after the rules (here: a tiny
//! keyword heuristic standing in for the city's own model), and routes a few messages, printing
//! each decision and why.
//!
//! Run from the repository root: `cargo run -p example-embed`

use std::sync::Arc;

use civic_router::classify::{Classification, ClassifierError, Context};
use civic_router::{ChannelKind, Intent, Message, Router};

/// A plug-in: any closure (or type implementing `Classifier`) can join the chain. It only
/// decides what the rules left open.
fn thanks_classifier(cx: &Context<'_>) -> Result<Option<Classification>, ClassifierError> {
    let thanks = cx.text.tokens().any(|t| t == "gracias");
    Ok(thanks.then(|| Classification {
        intent: Some(Intent::Other),
        category: Some("general".into()),
        confidence: 0.7,
        ..Default::default()
    }))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../sevilla/router.toml");
    let router = Router::from_path(config)?.with_classifier(Arc::new(thanks_classifier));
    let messages = [
        Message::new(
            "w1",
            ChannelKind::Whatsapp,
            "hay una farola apagada en la calle Feria",
        ),
        Message::new("s1", ChannelKind::Sms, "huele muchisimo a gas en el portal"),
        Message::new(
            "v1",
            ChannelKind::Voice,
            "quiero pedir cita para empadronarme en triana",
        ),
        Message::new("w2", ChannelKind::Whatsapp, "muchas gracias!!"),
    ];
    for m in &messages {
        let d = router.route(m)?;
        println!(
            "{:<3} {:<60} → {}/{} → {} [{}] rules={:?}",
            d.id, m.text, d.intent, d.category, d.department, d.explanation.route.entry, d.rules
        );
        if let Some(reply) = &d.reply {
            println!("    reply: {reply}");
        }
    }
    Ok(())
}
