//! WhatsApp: signature check, payload parser and handshake on arbitrary bytes; every parsed
//! message renders back without error.
#![no_main]
use civic_router::channel::signature::{hub_signature, verify_hub_signature};
use civic_router::channel::whatsapp::WhatsApp;
use civic_router::channel::{Channel, InboundRequest, Reply, ReplyContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let wa = WhatsApp::new(b"fuzz-secret".to_vec(), "tok");
    // a correctly signed body reaches the parser; it must never panic
    let sig = hub_signature(b"fuzz-secret", data);
    assert!(verify_hub_signature(b"fuzz-secret", data, &sig));
    let req = InboundRequest::post("https://x.example/wa", data.to_vec())
        .with_header("X-Hub-Signature-256", sig);
    if let Ok(inbound) = wa.receive(&req) {
        for m in &inbound.messages {
            assert!(!m.id.is_empty());
            let r = Reply::text(m.text.clone()).with_option("a", m.text.clone());
            wa.render(&r, &ReplyContext::replying_to(m)).expect("a parsed sender can be answered");
        }
    }
    // the bytes as a signature header and as a handshake URL
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = verify_hub_signature(b"k", b"{}", s);
        let _ = wa.handshake(&InboundRequest::get(format!("https://x.example/wa?{s}")));
    }
});
