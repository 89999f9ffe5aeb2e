//! Open311: endpoint routing, request and update parsers on arbitrary bytes; parsed
//! requests render in both formats.
#![no_main]
use civic_router::channel::open311::{Format, Open311, Service};
use civic_router::channel::{Channel, InboundRequest, Reply, ReplyContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let o = Open311::new(
        vec!["KEY".into()],
        vec![Service::new("alumbrado", "Alumbrado"), Service::new("limpieza", "Limpieza")],
    );
    let mut body = b"api_key=KEY&".to_vec();
    body.extend_from_slice(data);
    let req = InboundRequest::post("https://x.example/v2/requests.xml", body.clone());
    if let Ok(inbound) = o.receive(&req) {
        let m = &inbound.messages[0];
        assert!(m.id.starts_with("open311-"));
        let r = Reply::text(m.text.clone()).with_ticket(m.id.clone());
        o.render(&r, &ReplyContext::replying_to(m)).expect("renders");
        let _ = o.created(&m.id, Some(&m.text), Format::Json);
    }
    if let Err(e) = o.parse_update(&InboundRequest::post("https://x.example/v2/servicerequestupdates.xml", body)) {
        let _ = o.error(&e, Format::Xml);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        for method in ["GET", "POST"] {
            let mut r = InboundRequest::get(format!("https://x.example/{s}"));
            r.method = method.into();
            let _ = o.endpoint(&r);
        }
    }
});
