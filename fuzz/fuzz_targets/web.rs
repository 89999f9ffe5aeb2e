//! The web form: the JSON parser on arbitrary bytes; parsed messages render.
#![no_main]
use civic_router::channel::web::WebForm;
use civic_router::channel::{Channel, InboundRequest, Reply, ReplyContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let web = WebForm::new();
    if let Ok(inbound) = web.receive(&InboundRequest::post("https://x.example/f", data.to_vec())) {
        let m = &inbound.messages[0];
        assert!(!m.id.trim().is_empty());
        web.render(&Reply::text(m.text.clone()), &ReplyContext::replying_to(m)).expect("renders");
    }
});
