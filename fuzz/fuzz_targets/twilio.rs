//! Twilio SMS and Voice: form decoding, signature verification (URL and port variants) and
//! both parsers on arbitrary bytes; parsed messages render as TwiML.
#![no_main]
use civic_router::channel::signature::{twilio_signature, url_port_variants, TwilioAlgorithm};
use civic_router::channel::sms::Sms;
use civic_router::channel::voice::Voice;
use civic_router::channel::{parse_form, Channel, InboundRequest, Reply, ReplyContext};
use civic_router::ChannelKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // first line: a URL; the rest: the form body
    let (url, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => ("https://x.example/sms".to_string(), data),
    };
    let _ = url_port_variants(&url);
    let sms = Sms::new(vec!["tok".into()]);
    let voice = Voice::new(vec!["tok".into()], "https://x.example/ivr");
    let req = match parse_form(body, ChannelKind::Sms, "body") {
        Ok(params) => {
            let sig = twilio_signature(b"tok", &url, &params, TwilioAlgorithm::HmacSha1);
            InboundRequest::post(url.clone(), body.to_vec()).with_header("X-Twilio-Signature", sig)
        }
        Err(_) => InboundRequest::post(url.clone(), body.to_vec()),
    };
    for ch in [&sms as &dyn Channel, &voice as &dyn Channel] {
        if let Ok(inbound) = ch.receive(&req) {
            for m in &inbound.messages {
                let r = Reply::text(m.text.clone()).with_option("1", m.text.clone());
                let out = ch.render(&r, &ReplyContext::replying_to(m)).expect("renders");
                assert!(out.body.starts_with("<?xml"));
            }
        }
        let _ = ch.parse(&InboundRequest::post(url.clone(), body.to_vec()));
        let _ = ch.parse(&InboundRequest::get(format!("{url}?{}", String::from_utf8_lossy(body))));
    }
});
