//! Channels: provider fixtures in, typed errors, signatures against independent vectors,
//! replies out, and one end-to-end run per channel.
#![cfg(feature = "channels")]

use std::path::PathBuf;

use civic_router::channel::open311::{
    CaseStatus, Endpoint, Format, Open311, RequestUpdate, ServiceRequest,
};
use civic_router::channel::segments::{fold_to_gsm, segment_info, Encoding};
use civic_router::channel::signature::{
    hub_signature, verify_hub_signature, verify_twilio_signature, TwilioAlgorithm,
};
use civic_router::channel::sms::Sms;
use civic_router::channel::voice::Voice;
use civic_router::channel::web::WebForm;
use civic_router::channel::whatsapp::{Template, WhatsApp};
use civic_router::channel::{
    dedup_key, parse_form, Channel, ChannelErrorKind, Deduplicator, DeliveryState, InboundRequest,
    Limits, Reply, ReplyContext,
};
use civic_router::message::Contact;
use civic_router::{ChannelKind, Router};
use serde_json::Value;

const WA_SECRET: &str = "civic-router-test-app-secret";
const AUTH_TOKEN: &str = "0123456789abcdef0123456789abcdef";
const SHARED_KEY: &str = "webhooks-shared-key-secret-0001";
const API_KEY: &str = "sev-open311-key-0001";
const SMS_URL: &str = "https://010.sevilla.example/sms/inbound";
const VOICE_URL: &str = "https://010.sevilla.example/ivr/gather";

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/channels")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn vectors() -> Value {
    serde_json::from_slice(&fixture("signatures.json")).unwrap()
}

fn wa() -> WhatsApp {
    WhatsApp::new(WA_SECRET.as_bytes().to_vec(), "verify-010")
}

fn wa_req(body: Vec<u8>) -> InboundRequest {
    let sig = hub_signature(WA_SECRET.as_bytes(), &body);
    InboundRequest::post("https://010.sevilla.example/wa", body)
        .with_header("Content-Type", "application/json")
        .with_header("X-Hub-Signature-256", sig)
}

fn wa_fixture(name: &str) -> civic_router::channel::Inbound {
    wa().receive(&wa_req(fixture(&format!("whatsapp/{name}"))))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn twilio_req(url: &str, body: Vec<u8>) -> InboundRequest {
    let params = parse_form(&body, ChannelKind::Sms, "body").unwrap();
    let sig = civic_router::channel::signature::twilio_signature(
        AUTH_TOKEN.as_bytes(),
        url,
        &params,
        TwilioAlgorithm::HmacSha1,
    );
    InboundRequest::post(url, body)
        .with_header("Content-Type", "application/x-www-form-urlencoded")
        .with_header("X-Twilio-Signature", sig)
}

fn sms() -> Sms {
    Sms::new(vec![AUTH_TOKEN.into()]).with_shared_keys(vec![SHARED_KEY.into()])
}

fn voice() -> Voice {
    Voice::new(vec![AUTH_TOKEN.into()], VOICE_URL).with_agent_number("+34955000099")
}

const CONFIG: &str = r#"
[router]
name = "Test 010"
handoff_below = 0.3
[categories]
alumbrado = "Alumbrado público"
limpieza = "Limpieza viaria"
tramites = "Trámites y padrón"
parques_jardines = "Parques y jardines"
emergencias = "Emergencias"
general = "General"
[[department]]
id = "alumbrado"
name = "Servicio de Alumbrado Público"
[[department]]
id = "lipasam"
name = "LIPASAM"
kind = "company"
[[department]]
id = "parques"
name = "Parques y Jardines"
[[department]]
id = "padron"
name = "Padrón municipal"
[[department]]
id = "emergencias"
name = "Emergencias 112"
kind = "emergency"
[[department]]
id = "010"
name = "Atención ciudadana 010"
[routing]
default = "010"
emergency = "emergencias"
category.alumbrado = "alumbrado"
category.limpieza = "lipasam"
category.parques_jardines = "parques"
category.tramites = "padron"
[replies]
emergency = "Llame al 112 ahora mismo."
incident = "Aviso recibido: lo pasamos a {department_name}. Siga su estado en https://010.sevilla.example/avisos"
appointment = "Pida su cita en https://010.sevilla.example/cita o responda aquí."
information = "Consulte https://010.sevilla.example/info"
[[rule]]
id = "farola"
when.any_words = ["farola*", "alumbrado"]
then = { intent = "incident", category = "alumbrado" }
[[rule]]
id = "contenedor"
when.any_words = ["contenedor*", "basura"]
then = { intent = "incident", category = "limpieza" }
[[rule]]
id = "ramas"
when.any_words = ["rama*", "arbol*"]
then = { intent = "incident", category = "parques_jardines" }
[[rule]]
id = "cita-padron"
when.all_words = ["cita", "empadron*"]
then = { intent = "appointment", category = "tramites" }
[[rule]]
id = "gas"
priority = 100
when.any_text = ['huele (mucho )?a gas']
then = { intent = "emergency" }
"#;

fn router() -> Router {
    Router::from_toml(CONFIG).unwrap()
}

// ---- signatures: independent known-answer vectors -----------------------------------------

#[test]
fn whatsapp_signatures_match_python_hmac() {
    let v = vectors();
    let list = v["whatsapp"].as_array().unwrap();
    assert_eq!(list.len(), 15);
    let mut utf8_checked = 0;
    for vec in list {
        let body = fixture(vec["file"].as_str().unwrap());
        let sig = vec["signature"].as_str().unwrap();
        let secret = vec["secret"].as_str().unwrap().as_bytes();
        assert_eq!(hub_signature(secret, &body), sig, "{}", vec["file"]);
        assert!(verify_hub_signature(secret, &body, sig));
        // upper-case hex is the same signature
        assert!(verify_hub_signature(
            secret,
            &body,
            &sig.to_uppercase().replace("SHA256=", "sha256=")
        ));
        // any change of body, key or header is refused
        let mut changed = body.clone();
        let i = changed.len() / 2;
        changed[i] ^= 1;
        assert!(!verify_hub_signature(secret, &changed, sig));
        assert!(!verify_hub_signature(b"other-secret", &body, sig));
        assert!(!verify_hub_signature(
            secret,
            &body,
            &sig.replace("sha256=", "sha1=")
        ));
        assert!(!verify_hub_signature(secret, &body, &sig[..sig.len() - 2]));
        // a body whose \u escapes a proxy decoded still verifies (Meta signs the escaped form)
        if let Some(utf8) = vec["utf8_body"].as_str() {
            assert!(!utf8.is_ascii());
            assert!(
                verify_hub_signature(secret, utf8.as_bytes(), sig),
                "{}",
                vec["file"]
            );
            let parsed = wa().receive(
                &InboundRequest::post("https://x/wa", utf8.as_bytes().to_vec())
                    .with_header("X-Hub-Signature-256", sig),
            );
            assert!(parsed.is_ok(), "{}: {:?}", vec["file"], parsed.err());
            utf8_checked += 1;
        }
    }
    assert!(utf8_checked >= 5);
}

#[test]
fn twilio_signatures_agree_with_twilio_request_validator() {
    let v = vectors();
    let list = v["twilio"].as_array().unwrap();
    assert!(list.len() >= 20);
    let (mut valid, mut invalid) = (0, 0);
    for vec in list {
        let name = vec["name"].as_str().unwrap();
        let key = vec["key"].as_str().unwrap().as_bytes();
        let algorithm = match vec["algorithm"].as_str().unwrap() {
            "HMAC_SHA256" => TwilioAlgorithm::HmacSha256,
            _ => TwilioAlgorithm::HmacSha1,
        };
        let params: Vec<(String, String)> = vec["received_params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
            .collect();
        let json = vec["json_body"].as_str().map(str::as_bytes);
        let sig = vec["signature"].as_str().unwrap();
        let expected = vec["valid"].as_bool().unwrap();
        let got = verify_twilio_signature(
            key,
            vec["url_received"].as_str().unwrap(),
            &params,
            json,
            sig,
            algorithm,
        );
        assert_eq!(got, expected, "vector `{name}`");
        if expected {
            valid += 1;
            // the signed form is computed identically
            if json.is_none() && vec["url_signed"] == vec["url_received"] {
                assert_eq!(
                    civic_router::channel::signature::twilio_signature(
                        key,
                        vec["url_signed"].as_str().unwrap(),
                        &params,
                        algorithm
                    ),
                    sig,
                    "{name}"
                );
            }
        } else {
            invalid += 1;
        }
    }
    assert!(
        valid >= 15 && invalid >= 5,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn twilio_requests_verify_through_the_channels() {
    for vec in vectors()["twilio"].as_array().unwrap() {
        let Some(file) = vec["body_file"].as_str() else {
            continue;
        };
        let received: Vec<(String, String)> = vec["received_params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
            .collect();
        if received != parse_form(&fixture(file), ChannelKind::Sms, "body").unwrap() {
            continue; // a tampered vector: covered above
        }
        let mut req = InboundRequest::post(vec["url_received"].as_str().unwrap(), fixture(file))
            .with_header("X-Twilio-Signature", vec["signature"].as_str().unwrap());
        if vec["algorithm"] == "HMAC_SHA256" {
            req = req.with_header(
                "X-Twilio-Webhooks-Signature-Settings",
                "key=webhooks_sharedkey_01,algorithm=HMAC_SHA256",
            );
        }
        let r = if vec["channel"] == "voice" {
            voice().receive(&req).map(|_| ())
        } else {
            sms().receive(&req).map(|_| ())
        };
        assert_eq!(
            r.is_ok(),
            vec["valid"].as_bool().unwrap(),
            "{}: {r:?}",
            vec["name"]
        );
    }
    // the header announcing HMAC-SHA256 switches keys: an Auth Token signature is refused
    let body = fixture("sms/inbound_text.form");
    let req = twilio_req(SMS_URL, body).with_header(
        "X-Twilio-Webhooks-Signature-Settings",
        "key=k,algorithm=HMAC_SHA256",
    );
    assert_eq!(
        sms().receive(&req).unwrap_err().kind,
        ChannelErrorKind::Unauthorized
    );
    let req = twilio_req(SMS_URL, fixture("sms/inbound_text.form"))
        .with_header("X-Twilio-Webhooks-Signature-Settings", "algorithm=HMAC_MD5");
    assert_eq!(
        sms().receive(&req).unwrap_err().field,
        "X-Twilio-Webhooks-Signature-Settings"
    );
    // no header
    let req = InboundRequest::post(SMS_URL, fixture("sms/inbound_text.form"));
    assert_eq!(sms().receive(&req).unwrap_err().field, "X-Twilio-Signature");
    // a rotated token: the secondary verifies too
    let two = Sms::new(vec!["old-token".into(), AUTH_TOKEN.into()]);
    assert!(two
        .receive(&twilio_req(SMS_URL, fixture("sms/inbound_text.form")))
        .is_ok());
}

// ---- WhatsApp ------------------------------------------------------------------------------

#[test]
fn whatsapp_text_with_escaped_unicode() {
    let i = wa_fixture("text.json");
    assert_eq!(i.messages.len(), 1);
    let m = &i.messages[0];
    assert_eq!(m.channel, ChannelKind::Whatsapp);
    assert_eq!(m.id, "wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQTAxVEVYVA==");
    assert_eq!(
        m.text,
        "Hay una farola apagada en la calle Betis, año tras año igual 😠"
    );
    assert_eq!(m.contact.phone.as_deref(), Some("+34600111222"));
    assert_eq!(m.contact.name.as_deref(), Some("Ana Muñoz"));
    assert_eq!(m.received_at.unwrap().timestamp(), 1_749_416_383);
    assert!(i.statuses.is_empty() && i.ignored.is_empty());
}

#[test]
fn whatsapp_media_location_replies_contacts() {
    let m = &wa_fixture("image.json").messages[0];
    assert_eq!(m.attachments[0].kind, "image");
    assert_eq!(
        m.attachments[0].url.as_deref(),
        Some("whatsapp-media:1479537139650973")
    );
    assert_eq!(
        m.attachments[0].caption.as_deref(),
        Some("Bache enorme en Triana")
    );
    assert_eq!(m.routable_text(), "Bache enorme en Triana");

    let m = &wa_fixture("document.json").messages[0];
    assert_eq!(
        m.attachments[0].mime_type.as_deref(),
        Some("application/pdf")
    );
    assert_eq!(m.metadata["filename"], "justificante.pdf");

    let m = &wa_fixture("audio.json").messages[0];
    assert_eq!(m.attachments[0].kind, "audio");
    assert_eq!(m.metadata["voice_note"], true);

    let m = &wa_fixture("location.json").messages[0];
    let l = m.location.as_ref().unwrap();
    assert_eq!(l.point(), Some((37.3826, -6.0012)));
    // the place name is already in the address: not repeated
    assert_eq!(l.address.as_deref(), Some("Calle Betis 12, 41010 Sevilla"));

    let m = &wa_fixture("interactive_button.json").messages[0];
    assert_eq!(
        (m.text.as_str(), m.metadata["reply_id"].as_str()),
        ("Sí, confirmo", Some("cita:ok"))
    );
    assert_eq!(
        m.metadata["in_reply_to"],
        "wamid.HBgLMzQ5NTUwMDAwMTAVAgARGBJPVVQ5"
    );

    let m = &wa_fixture("interactive_list.json").messages[0];
    assert_eq!(m.text, "Alta en el padrón — Empadronamiento");
    assert_eq!(m.metadata["reply_id"], "padron:alta");

    let m = &wa_fixture("button.json").messages[0];
    assert_eq!(
        (m.text.as_str(), m.metadata["reply_id"].as_str()),
        ("Cancelar cita", Some("cita:cancel"))
    );

    let m = &wa_fixture("contacts.json").messages[0];
    assert_eq!(m.attachments[0].kind, "contact");
    assert_eq!(
        m.metadata["shared_contacts"][0]["name"]["formatted_name"],
        "Lucía Gómez"
    );

    let i = wa_fixture("unsupported.json");
    assert!(i.messages.is_empty());
    assert!(i.ignored[0].reason.contains("131051"), "{:?}", i.ignored);
}

#[test]
fn whatsapp_statuses_are_kept_apart() {
    let i = wa_fixture("status_delivered.json");
    assert!(i.messages.is_empty());
    let s = &i.statuses[0];
    assert_eq!(s.state, DeliveryState::Delivered);
    assert_eq!(s.correlation.as_deref(), Some("ticket=SEV-2026-000123"));
    assert_eq!(s.recipient.as_deref(), Some("34600111222"));

    let s = &wa_fixture("status_failed.json").statuses[0];
    assert_eq!(s.state, DeliveryState::Failed);
    assert_eq!(s.errors[0].code, "131047");
    assert_eq!(s.errors[0].title.as_deref(), Some("Re-engagement message"));

    let i = wa_fixture("batch.json");
    let ids: Vec<&str> = i.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["wamid.BATCH1", "wamid.BATCH2", "wamid.BATCH3"]);
    assert_eq!(i.messages[2].contact.name.as_deref(), Some("Luis"));
    let states: Vec<_> = i.statuses.iter().map(|s| s.state.clone()).collect();
    assert_eq!(states, [DeliveryState::Sent, DeliveryState::Read]);
}

#[test]
fn whatsapp_business_scoped_user_ids_2026() {
    let m = &wa_fixture("bsuid_no_from.json").messages[0];
    assert_eq!(m.contact.phone, None);
    assert_eq!(m.contact.id.as_deref(), Some("ES.13491208655302741918"));
    assert_eq!(m.metadata["user_id"], "ES.13491208655302741918");
    // the reply addresses `recipient`, not `to`
    let out = wa()
        .render(
            &Reply::text("Avisamos a LIPASAM."),
            &ReplyContext::replying_to(m),
        )
        .unwrap();
    let v: Value = serde_json::from_str(&out.body).unwrap();
    assert_eq!(v["recipient"], "ES.13491208655302741918");
    assert!(v.get("to").is_none());

    let m = &wa_fixture("bsuid_with_from.json").messages[0];
    assert_eq!(m.contact.phone.as_deref(), Some("+34600111222"));
    assert_eq!(m.contact.id.as_deref(), Some("ES.13491208655302741918"));
    let out = wa()
        .render(&Reply::text("x"), &ReplyContext::replying_to(m))
        .unwrap();
    let v: Value = serde_json::from_str(&out.body).unwrap();
    assert_eq!(v["to"], "34600111222");
}

fn wa_err(body: &[u8]) -> civic_router::ChannelError {
    wa().receive(&wa_req(body.to_vec())).unwrap_err()
}

#[test]
fn whatsapp_malformed_input_is_a_typed_error() {
    let text = String::from_utf8(fixture("whatsapp/text.json")).unwrap();
    let e = wa_err(b"{not json");
    assert_eq!(
        (e.channel, e.field.as_str(), e.kind),
        (ChannelKind::Whatsapp, "body", ChannelErrorKind::Malformed)
    );
    let e = wa_err(b"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":[{\"from\":\"1\",\"id\":\"x\",\"timestamp\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"\xff\xfe\"}}]}}]}]}");
    assert_eq!(e.kind, ChannelErrorKind::Malformed, "invalid UTF-8: {e}");
    let e = wa_err(text.replace("whatsapp_business_account", "page").as_bytes());
    assert_eq!(e.field, "object");
    let e = wa_err(
        text.replace(
            "\"id\":\"wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQTAxVEVYVA==\",",
            "",
        )
        .as_bytes(),
    );
    assert_eq!(e.field, "entry[0].changes[0].value.messages[0]", "{e}");
    assert!(e.reason.contains("id"), "{e}");
    let e = wa_err(
        text.replace("\"text\":{\"body\"", "\"text\":{\"bod\"")
            .as_bytes(),
    );
    assert_eq!(e.field, "entry[0].changes[0].value.messages[0].text", "{e}");
    let e = wa_err(
        text.replace("\"type\":\"text\",\"text\"", "\"type\":\"text\",\"txt\"")
            .as_bytes(),
    );
    assert_eq!(e.field, "entry[0].changes[0].value.messages[0].text", "{e}");
    let e = wa_err(
        text.replace("\"timestamp\":\"1749416383\"", "\"timestamp\":\"soon\"")
            .as_bytes(),
    );
    assert!(e.field.ends_with("messages[0].timestamp"), "{e}");
    let no_from = String::from_utf8(fixture("whatsapp/bsuid_no_from.json"))
        .unwrap()
        .replace("\"from_user_id\":\"ES.13491208655302741918\",", "")
        .replace(",\"user_id\":\"ES.13491208655302741918\"", "");
    let e = wa_err(no_from.as_bytes());
    assert_eq!(e.field, "entry[0].changes[0].value.messages[0].from", "{e}");
    let long = text.replace("Hay una farola", &"a".repeat(5000));
    assert_eq!(wa_err(long.as_bytes()).kind, ChannelErrorKind::TooLarge);
    // a GET is the handshake, not a message
    let mut get = wa_req(fixture("whatsapp/text.json"));
    get.method = "GET".into();
    assert_eq!(
        wa().receive(&get).unwrap_err().kind,
        ChannelErrorKind::Unsupported
    );
}

#[test]
fn body_limit_is_checked_before_the_signature_and_is_configurable() {
    let mut w = wa();
    w.limits = Limits {
        max_body_bytes: 100,
        ..Limits::default()
    };
    let req = InboundRequest::post("https://x/wa", vec![b'{'; 101])
        .with_header("X-Hub-Signature-256", "sha256=00");
    let e = w.receive(&req).unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_str()),
        (ChannelErrorKind::TooLarge, "body")
    );
    assert_eq!(e.kind.http_status(), 413);
    // the default is 1 MiB
    let big = InboundRequest::post("https://x/wa", vec![b' '; 1024 * 1024 + 1]);
    assert_eq!(
        wa().receive(&big).unwrap_err().kind,
        ChannelErrorKind::TooLarge
    );
    assert_eq!(
        sms().receive(&big).unwrap_err().kind,
        ChannelErrorKind::TooLarge
    );
    assert_eq!(
        WebForm::new().receive(&big).unwrap_err().kind,
        ChannelErrorKind::TooLarge
    );
    let o = Open311::new(vec![API_KEY.into()], vec![]);
    assert_eq!(
        o.receive(&big).unwrap_err().kind,
        ChannelErrorKind::TooLarge
    );
    // and just under the limit, the signature is what fails
    let ok_size = InboundRequest::post("https://x/wa", vec![b' '; 1024 * 1024])
        .with_header("X-Hub-Signature-256", "sha256=00");
    assert_eq!(
        wa().receive(&ok_size).unwrap_err().kind,
        ChannelErrorKind::Unauthorized
    );
}

#[test]
fn whatsapp_handshake() {
    let w = wa();
    let ok = InboundRequest::get(
        "https://x/wa?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-010",
    );
    assert_eq!(w.handshake(&ok).unwrap(), "1158201444");
    for bad in [
        "https://x/wa?hub.mode=subscribe&hub.challenge=1&hub.verify_token=verify-011",
        "https://x/wa?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=verify-010",
        "https://x/wa?hub.challenge=1",
    ] {
        assert_eq!(
            w.handshake(&InboundRequest::get(bad)).unwrap_err().kind,
            ChannelErrorKind::Unauthorized,
            "{bad}"
        );
    }
    let e = w
        .handshake(&InboundRequest::get(
            "https://x/wa?hub.mode=subscribe&hub.verify_token=verify-010",
        ))
        .unwrap_err();
    assert_eq!(e.field, "hub.challenge");
}

fn to_ana() -> ReplyContext {
    ReplyContext {
        to: Contact {
            phone: Some("+34600111222".into()),
            ..Contact::default()
        },
        ..ReplyContext::default()
    }
}

fn rendered_json(ch: &dyn Channel, r: &Reply, cx: &ReplyContext) -> Value {
    serde_json::from_str(&ch.render(r, cx).unwrap().body).unwrap()
}

#[test]
fn whatsapp_replies_within_limits() {
    let w = wa();
    // text with a link: preview on
    let v = rendered_json(
        &w,
        &Reply::text("Consulte https://010.sevilla.example/cita"),
        &to_ana(),
    );
    assert_eq!(
        (v["type"].as_str(), v["to"].as_str()),
        (Some("text"), Some("34600111222"))
    );
    assert_eq!(v["messaging_product"], "whatsapp");
    assert_eq!(v["text"]["preview_url"], true);
    let v = rendered_json(&w, &Reply::text("Gracias"), &to_ana());
    assert_eq!(v["text"]["preview_url"], false);
    let v = rendered_json(&w, &Reply::text("x".repeat(5000)), &to_ana());
    assert_eq!(v["text"]["body"].as_str().unwrap().chars().count(), 4096);

    // buttons: at most 3, titles at most 20 characters
    let r = Reply::text("¿Confirma su cita el lunes a las 10:30?")
        .with_option("cita:ok", "Sí")
        .with_option("cita:chg", "Cambiar la fecha y la hora de la cita")
        .with_ticket("CP-77");
    let v = rendered_json(&w, &r, &to_ana());
    assert_eq!(v["interactive"]["type"], "button");
    let b = v["interactive"]["action"]["buttons"].as_array().unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(b[1]["reply"]["id"], "cita:chg");
    let title = b[1]["reply"]["title"].as_str().unwrap();
    assert_eq!(title.chars().count(), 20);
    assert!(title.ends_with('…'));
    assert!(v["interactive"]["body"]["text"]
        .as_str()
        .unwrap()
        .contains("CP-77"));
    assert_eq!(v["biz_opaque_callback_data"], "ticket=CP-77");

    // 4..=10 options: a list with rows ≤ 24 / descriptions ≤ 72
    let mut r = Reply::text("Elija el trámite");
    for i in 0..7 {
        r = r.with_option(
            format!("t{i}"),
            format!("Trámite número {i} con nombre largo"),
        );
    }
    r.options[0].description = Some("d".repeat(100));
    let v = rendered_json(&w, &r, &to_ana());
    assert_eq!(v["interactive"]["type"], "list");
    let rows = v["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 7);
    assert!(rows
        .iter()
        .all(|r| r["title"].as_str().unwrap().chars().count() <= 24));
    assert_eq!(rows[0]["description"].as_str().unwrap().chars().count(), 72);
    assert!(
        v["interactive"]["action"]["button"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= 20
    );

    // more than 10: numbered text
    let mut r = Reply::text("Oficinas");
    for i in 0..11 {
        r = r.with_option(format!("o{i}"), format!("Oficina {i}"));
    }
    let v = rendered_json(&w, &r, &to_ana());
    assert_eq!(v["type"], "text");
    assert!(v["text"]["body"]
        .as_str()
        .unwrap()
        .contains("\n11. Oficina 10"));
}

#[test]
fn whatsapp_link_button_within_limits_and_its_fallbacks() {
    let w = wa();
    let r = Reply::text("Pida cita en la sede electrónica.")
        .with_link_button(
            "Cita previa en la sede electrónica",
            "https://010.sevilla.example/cita",
        )
        .with_link("Oficinas", "https://010.sevilla.example/oficinas")
        .with_ticket("SEV-2026-000123");
    let v = rendered_json(&w, &r, &to_ana());
    assert_eq!(v["type"], "interactive");
    let i = &v["interactive"];
    assert_eq!(i["type"], "cta_url");
    assert_eq!(i["action"]["name"], "cta_url");
    let p = &i["action"]["parameters"];
    assert_eq!(p["url"], "https://010.sevilla.example/cita");
    let label = p["display_text"].as_str().unwrap();
    assert_eq!(label.chars().count(), 20);
    assert!(label.starts_with("Cita previa") && label.ends_with('…'));
    // the body keeps the other links and the reference; the button's URL is not repeated
    let body = i["body"]["text"].as_str().unwrap();
    assert!(body.starts_with("Pida cita en la sede electrónica."));
    assert!(body.contains("Oficinas: https://010.sevilla.example/oficinas"));
    assert!(body.contains("SEV-2026-000123"));
    assert!(!body.contains("example/cita"), "{body}");
    assert_eq!(v["biz_opaque_callback_data"], "ticket=SEV-2026-000123");

    // a plain link is not a button
    let plain = Reply::text("Pida cita.").with_link("Cita previa", "https://010.sevilla.example/c");
    assert_eq!(rendered_json(&w, &plain, &to_ana())["type"], "text");
    // options win: the link goes into the buttons' body
    let both = Reply::text("¿Quiere cita?")
        .with_link_button("Cita previa", "https://010.sevilla.example/c")
        .with_option("si", "Sí");
    let v = rendered_json(&w, &both, &to_ana());
    assert_eq!(v["interactive"]["type"], "button");
    assert!(v["interactive"]["body"]["text"]
        .as_str()
        .unwrap()
        .contains("https://010.sevilla.example/c"));
    // a body over 1,024 characters is not cut: the whole answer goes as text
    let long = Reply::text("a".repeat(1100))
        .with_link_button("Cita previa", "https://010.sevilla.example/c");
    let v = rendered_json(&w, &long, &to_ana());
    assert_eq!(v["type"], "text");
    assert!(v["text"]["body"]
        .as_str()
        .unwrap()
        .ends_with("Cita previa: https://010.sevilla.example/c"));
    // no title or not a web link: text
    for (title, url) in [(" ", "https://010.sevilla.example/c"), ("Cita", "tel:010")] {
        let r = Reply::text("Pida cita.").with_link_button(title, url);
        assert_eq!(
            rendered_json(&w, &r, &to_ana())["type"],
            "text",
            "{title} {url}"
        );
    }
    // beyond 24 hours only the template goes, as for any reply
    let late = ReplyContext {
        hours_since_last_inbound: Some(30.0),
        ..to_ana()
    };
    assert!(w
        .render(
            &Reply::text("Pida cita.").with_link_button("Cita", "https://x.example/c"),
            &late
        )
        .is_err());
}

#[test]
fn a_knowledge_base_answer_is_a_link_button_on_whatsapp_short_by_sms_and_spoken() {
    let router = Router::from_path(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/sevilla/router.toml"),
    )
    .unwrap();
    let q = "¿cómo pongo una queja o reclamación al ayuntamiento?";
    let ask = |ch: ChannelKind| {
        let mut m = civic_router::Message::new("faq-1", ch, q);
        m.contact = Contact {
            phone: Some("+34600111222".into()),
            ..Contact::default()
        };
        m
    };
    let m = ask(ChannelKind::Whatsapp);
    let d = router.route(&m).unwrap();
    assert!(d.auto_answered, "{:?}", d.explanation.faq);
    let a = d.answer.as_ref().unwrap();
    assert_eq!(a.entry, "sugerencias-quejas");
    let v = rendered_json(
        &wa(),
        &Reply::from_decision(&d, ""),
        &ReplyContext::replying_to(&m),
    );
    assert_eq!(
        (v["type"].as_str(), v["interactive"]["type"].as_str()),
        (Some("interactive"), Some("cta_url"))
    );
    assert_eq!(
        v["interactive"]["action"]["parameters"],
        serde_json::json!({
            "display_text": "Quejas y sugerencias",
            "url": "https://www.sevilla.example/sugerencias",
        })
    );
    assert_eq!(v["interactive"]["body"]["text"], a.text.as_str());

    // by SMS: a short text with the link, no button
    let m = ask(ChannelKind::Sms);
    let d = router.route(&m).unwrap();
    let out = sms()
        .render(
            &Reply::from_decision(&d, ""),
            &ReplyContext::replying_to(&m),
        )
        .unwrap();
    assert!(out.body.contains("<Message>"), "{}", out.body);
    assert!(out
        .body
        .contains("Quejas y sugerencias: https://www.sevilla.example/sugerencias"));
    // spoken by the phone bot: no URL
    let m = ask(ChannelKind::Voice);
    let d = router.route(&m).unwrap();
    assert!(d.auto_answered);
    let out = voice()
        .render(
            &Reply::from_decision(&d, ""),
            &ReplyContext::replying_to(&m),
        )
        .unwrap();
    assert!(out.body.contains("<Say"), "{}", out.body);
    assert!(!out.body.contains("/sugerencias"), "{}", out.body);
}

#[test]
fn whatsapp_template_outside_24_hours() {
    let late = ReplyContext {
        hours_since_last_inbound: Some(30.0),
        ..to_ana()
    };
    let r = Reply::text("Su incidencia está resuelta").with_ticket("SEV-2026-000123");
    let e = wa().render(&r, &late).unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_str()),
        (ChannelErrorKind::Reply, "template")
    );
    let w = wa().with_template(Template {
        name: "incidencia_estado".into(),
        language: "es".into(),
        ticket_only: true,
    });
    let v = rendered_json(&w, &r, &late);
    assert_eq!(v["type"], "template");
    assert_eq!(v["template"]["name"], "incidencia_estado");
    assert_eq!(v["template"]["language"]["code"], "es");
    assert_eq!(
        v["template"]["components"][0]["parameters"][0]["text"],
        "SEV-2026-000123"
    );
    // within the window: free text
    let early = ReplyContext {
        hours_since_last_inbound: Some(23.5),
        ..to_ana()
    };
    assert_eq!(rendered_json(&w, &r, &early)["type"], "text");
    // nobody to send to
    assert_eq!(
        wa().render(&r, &ReplyContext::default()).unwrap_err().field,
        "to"
    );
}

// ---- SMS -----------------------------------------------------------------------------------

fn sms_in(file: &str) -> civic_router::channel::Inbound {
    sms()
        .receive(&twilio_req(SMS_URL, fixture(file)))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn sms_inbound_messages_and_statuses() {
    let i = sms_in("sms/inbound_text.form");
    let m = &i.messages[0];
    assert_eq!(m.id, "SM5f1c0e2a9b8d4c3e2f1a0b9c8d7e6f50");
    assert_eq!(
        m.text,
        "Hay una farola apagada en la calle Betis, número 12. ¿Pueden venir?"
    );
    assert_eq!(m.contact.phone.as_deref(), Some("+34600111222"));
    assert_eq!(m.metadata["to"], "+34955000010");
    assert_eq!(m.metadata["from_country"], "ES");
    assert!(i.statuses.is_empty());

    let m = &sms_in("sms/inbound_mms.form").messages[0];
    assert_eq!(m.attachments.len(), 2);
    assert_eq!(m.attachments[1].mime_type.as_deref(), Some("image/png"));
    assert!(m.attachments[0]
        .url
        .as_deref()
        .unwrap()
        .ends_with("/Media/ME0001"));

    let i = sms_in("sms/status_delivered.form");
    assert!(i.messages.is_empty());
    assert_eq!(i.statuses[0].state, DeliveryState::Delivered);
    let s = &sms_in("sms/status_undelivered.form").statuses[0];
    assert_eq!(
        (s.state.clone(), s.errors[0].code.as_str()),
        (DeliveryState::Failed, "30003")
    );

    let m = &sms_in("sms/whatsapp_location.form").messages[0];
    assert_eq!(m.channel, ChannelKind::Whatsapp);
    assert_eq!(m.contact.phone.as_deref(), Some("+34600111222"));
    assert_eq!(
        m.location.as_ref().unwrap().point(),
        Some((37.3826, -6.0012))
    );
}

#[test]
fn sms_malformed_input_is_a_typed_error() {
    let cases: [(&[u8], &str); 6] = [
        (b"From=%2B34600&Body=hola", "MessageSid"),
        (b"MessageSid=SM1&Body=hola", "From"),
        (b"MessageSid=SM1&From=%2B34600&Body=%FF%FE", "Body"),
        (b"MessageSid=SM1&From=%2B34600&Body=%G1", "Body"),
        (b"MessageSid=SM1&From=%2B34600&NumMedia=99", "NumMedia"),
        (b"MessageSid=SM1&From=%2B34600&NumMedia=1", "MediaUrl0"),
    ];
    for (body, field) in cases {
        let e = sms()
            .parse(&InboundRequest::post(SMS_URL, body.to_vec()))
            .unwrap_err();
        assert_eq!(
            (e.channel, e.field.as_str()),
            (ChannelKind::Sms, field),
            "{e}"
        );
    }
    let long = format!("MessageSid=SM1&From=%2B34600&Body={}", "a".repeat(1601));
    let e = sms()
        .parse(&InboundRequest::post(SMS_URL, long.into_bytes()))
        .unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.kind),
        ("Body", ChannelErrorKind::TooLarge)
    );
    // invalid UTF-8 in the raw body fails the signature check first, never a panic
    let e = sms().receive(
        &twilio_req(SMS_URL, b"MessageSid=SM1&From=1&Body=ok".to_vec()).with_header("x", "y"),
    );
    assert!(e.is_ok());
    let mut bad = twilio_req(SMS_URL, b"MessageSid=SM1&From=1&Body=ok".to_vec());
    bad.body = b"MessageSid=SM1&From=1&Body=\xff".to_vec();
    assert!(sms().receive(&bad).is_err());
}

#[test]
fn sms_segment_counts_known_answers() {
    // Twilio's published rules, as verified with its segment calculator (shared notes §2b)
    let cases: Vec<(String, Encoding, Vec<usize>)> = vec![
        ("a".repeat(160), Encoding::Gsm7, vec![160]),
        ("a".repeat(161), Encoding::Gsm7, vec![153, 8]),
        ("a".repeat(306), Encoding::Gsm7, vec![153, 153]),
        ("a".repeat(307), Encoding::Gsm7, vec![153, 153, 1]),
        ("{".repeat(80), Encoding::Gsm7, vec![160]),
        ("{".repeat(81), Encoding::Gsm7, vec![152, 10]),
        ("á".repeat(70), Encoding::Ucs2, vec![70]),
        ("á".repeat(71), Encoding::Ucs2, vec![67, 4]),
        ("á".repeat(134), Encoding::Ucs2, vec![67, 67]),
        ("á".repeat(135), Encoding::Ucs2, vec![67, 67, 1]),
        (format!("{}😀", "á".repeat(69)), Encoding::Ucs2, vec![67, 4]),
        ("Tasa: 5€".into(), Encoding::Gsm7, vec![9]),
        ("¿Dónde está?".into(), Encoding::Ucs2, vec![12]),
        ("¡Señor Müller, café!".into(), Encoding::Gsm7, vec![20]),
        (String::new(), Encoding::Gsm7, vec![]),
    ];
    for (text, enc, parts) in cases {
        let s = segment_info(&text);
        assert_eq!((s.encoding, &s.parts), (enc, &parts), "{text:?}");
        assert_eq!(s.segments, parts.len());
    }
    let s = segment_info("Su cita está confirmada en Triana. Lleve el DNI y llegue diez minutos antes, por favor; la oficina está en la calle San Jacinto.");
    assert_eq!((s.encoding, s.segments), (Encoding::Ucs2, 2));
    assert_eq!(s.non_gsm, vec!['á']);
    let folded = fold_to_gsm("Su cita está confirmada en Triana. Lleve el DNI y llegue diez minutos antes, por favor; la oficina está en la calle San Jacinto.");
    let f = segment_info(&folded);
    assert_eq!((f.encoding, f.segments), (Encoding::Gsm7, 1));
    // only what GSM-7 lacks is folded
    assert_eq!(fold_to_gsm("ñ é ü ¿ ¡ á í ó ú"), "ñ é ü ¿ ¡ a i o u");
    assert_eq!(
        segment_info(&fold_to_gsm("Aviso 😀 á")).encoding,
        Encoding::Ucs2
    );
}

#[test]
fn sms_reply_twiml_numbered_options_and_cost() {
    let r = Reply::text("¿Qué día prefiere para su cita en la oficina de Triana?")
        .with_option("d1", "Lunes 10:30")
        .with_option("d2", "Martes 9:00")
        .with_ticket("CP-77");
    let out = sms().render(&r, &to_ana()).unwrap();
    assert_eq!(out.content_type, "text/xml");
    assert_eq!(
        out.body,
        // `é` and `¿` are GSM-7 and stay; `í`, `ú`, `ó` are not and are folded
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>¿Qué dia prefiere para su cita en la oficina de Triana?\nReferencia: CP-77\n1) Lunes 10:30\n2) Martes 9:00\nResponda con el numero de su opcion.</Message></Response>"
    );
    let seg = out.segments.unwrap();
    assert_eq!((seg.encoding, seg.segments), (Encoding::Gsm7, 1));
    // without folding the same reply costs UCS-2
    let mut raw = sms();
    raw.fold_to_gsm = false;
    let seg = raw.render(&r, &to_ana()).unwrap().segments.unwrap();
    assert_eq!((seg.encoding, seg.segments), (Encoding::Ucs2, 3));
    // long replies are shortened to max_segments, on purpose
    let long = Reply::text("palabra ".repeat(200));
    let out = sms().render(&long, &to_ana()).unwrap();
    assert_eq!(out.segments.unwrap().segments, 3);
    assert!(out.body.contains("...</Message>"));
    // markup in a reply is escaped
    let out = sms().render(&Reply::text("a < b & c"), &to_ana()).unwrap();
    assert!(out.body.contains("<Message>a &lt; b &amp; c</Message>"));
    // nothing to say: an empty response
    assert!(sms()
        .render(&Reply::default(), &to_ana())
        .unwrap()
        .body
        .ends_with("<Response/>"));
}

// ---- Voice ---------------------------------------------------------------------------------

fn voice_in(file: &str, url: &str) -> civic_router::channel::Inbound {
    voice()
        .receive(&twilio_req(url, fixture(file)))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn voice_gather_results_become_messages() {
    let i = voice_in("voice/incoming_call.form", VOICE_URL);
    assert!(i.messages.is_empty());
    assert_eq!(i.statuses[0].state, DeliveryState::Call("ringing".into()));

    let m = &voice_in("voice/gather_speech.form", &format!("{VOICE_URL}?turn=3")).messages[0];
    assert_eq!(m.id, "CA0f1e2d3c4b5a69788796a5b4c3d2e1f0:3");
    assert_eq!(m.channel, ChannelKind::Voice);
    assert_eq!(m.text, "Quiero pedir cita para empadronarme en Triana");
    assert_eq!(m.metadata["speech_confidence"], 0.9156);
    assert!(m.metadata.get("low_confidence").is_none());
    assert_eq!(m.language.as_deref(), Some("es-ES"));

    let m = &voice_in("voice/gather_low_confidence.form", VOICE_URL).messages[0];
    assert_eq!(m.text, "la farola de mi calle está apagada");
    assert_eq!(m.metadata["low_confidence"], true);
    // without a turn the id is a digest of what was said: retries are the same message
    let again = &voice_in("voice/gather_low_confidence.form", VOICE_URL).messages[0];
    assert_eq!(m.id, again.id);
    assert_ne!(
        m.id,
        voice_in("voice/gather_speech.form", VOICE_URL).messages[0].id
    );

    let m = &voice_in("voice/gather_digits.form", VOICE_URL).messages[0];
    assert_eq!(
        (m.text.as_str(), m.metadata["digits"].as_str()),
        ("2", Some("2"))
    );

    for (body, field) in [
        (&b"From=1&SpeechResult=hola"[..], "CallSid"),
        (b"CallSid=CA1&SpeechResult=hola&Confidence=7", "Confidence"),
        (b"CallSid=CA1&Digits=12ab", "Digits"),
        (b"CallSid=CA1&SpeechResult=%C3", "SpeechResult"),
    ] {
        let e = voice()
            .parse(&InboundRequest::post(VOICE_URL, body.to_vec()))
            .unwrap_err();
        assert_eq!(
            (e.channel, e.field.as_str()),
            (ChannelKind::Voice, field),
            "{e}"
        );
    }
}

#[test]
fn voice_replies_say_gather_dial_hangup() {
    let v = voice();
    let cx = ReplyContext {
        in_reply_to: Some("CA1:3".into()),
        ..ReplyContext::default()
    };
    let r = Reply::text("¿Quiere cita en Triana?")
        .with_option("si", "sí")
        .with_option("no", "no");
    let out = v.render(&r, &cx).unwrap().body;
    assert!(out.contains(r#"<Gather input="speech dtmf" language="es-ES" action="https://010.sevilla.example/ivr/gather?turn=4" method="POST" speechTimeout="auto" numDigits="1">"#), "{out}");
    assert!(out.contains(r#"<Say language="es-ES" voice="Polly.Lucia">¿Quiere cita en Triana? Para sí, diga sí o pulse 1. Para no, diga no o pulse 2.</Say></Gather>"#), "{out}");
    assert!(out.ends_with(r#"<Redirect method="POST">https://010.sevilla.example/ivr/gather?turn=4</Redirect></Response>"#));

    let mut h = Reply::text("No le he entendido bien.");
    h.handoff = true;
    let out = v.render(&h, &cx).unwrap().body;
    assert!(out.ends_with(r#"<Say language="es-ES" voice="Polly.Lucia">No le he entendido bien. Le paso con un agente.</Say><Dial timeout="20">+34955000099</Dial></Response>"#), "{out}");

    let out = v
        .render(
            &Reply::text("Gracias. Adiós.")
                .with_ticket("SEV-2026-000123")
                .ended(),
            &cx,
        )
        .unwrap()
        .body;
    assert!(out.ends_with(r#"<Say language="es-ES" voice="Polly.Lucia">Gracias. Adiós. Referencia: SEV 2026 000123.</Say><Hangup/></Response>"#), "{out}");
    // the first turn of a call
    let out = v
        .render(&Reply::text("Dígame"), &ReplyContext::default())
        .unwrap()
        .body;
    assert!(out.contains("gather?turn=1\""));
}

// ---- Open311 -------------------------------------------------------------------------------

fn open311() -> Open311 {
    let cfg = civic_router::config::Config::from_toml_str(CONFIG, "test.toml").unwrap();
    Open311::from_config(&cfg, vec![API_KEY.into()])
}

fn o311_post(path: &str, file: &str) -> InboundRequest {
    InboundRequest::post(
        format!("https://010.sevilla.example/open311/v2/{path}"),
        fixture(file),
    )
    .with_header(
        "Content-Type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )
}

#[test]
fn open311_services_from_the_configuration() {
    let o = open311();
    let codes: Vec<&str> = o.services.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "alumbrado",
            "general",
            "limpieza",
            "parques_jardines",
            "tramites"
        ]
    );
    let json: Value = serde_json::from_str(&o.services(Format::Json).body).unwrap();
    assert_eq!(json[0]["service_code"], "alumbrado");
    assert_eq!(json[0]["group"], "Servicio de Alumbrado Público");
    assert_eq!(json[0]["metadata"], false);
    assert_eq!(json[0]["type"], "realtime");
    let xml = o.services(Format::Xml);
    assert_eq!(xml.content_type, "text/xml; charset=utf-8");
    assert!(xml.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><services><service><service_code>alumbrado</service_code><service_name>Alumbrado público</service_name>"));
    assert_eq!(xml.body.matches("<service>").count(), 5);
}

#[test]
fn open311_post_request_becomes_a_message() {
    let o = open311();
    let req = o311_post("requests.xml", "open311/create_request.form");
    assert_eq!(
        o.endpoint(&req).unwrap(),
        (Endpoint::CreateRequest, Format::Xml)
    );
    let m = &o.receive(&req).unwrap().messages[0];
    assert_eq!(m.channel, ChannelKind::App);
    assert_eq!(m.text, "Farola apagada desde hace tres noches");
    assert_eq!(m.metadata["service_code"], "alumbrado");
    assert_eq!(m.metadata["attributes"]["poste"], "P-123");
    assert_eq!(m.metadata["jurisdiction_id"], "sevilla.org");
    assert_eq!(m.contact.name.as_deref(), Some("Ana Muñoz"));
    assert_eq!(m.contact.email.as_deref(), Some("ana@example.org"));
    let l = m.location.as_ref().unwrap();
    assert_eq!(l.point(), Some((37.3826, -6.0012)));
    assert_eq!(
        l.address.as_deref(),
        Some("Calle Betis 12, Triana, Sevilla")
    );
    assert_eq!(
        m.attachments[0].url.as_deref(),
        Some("https://cdn.example.org/m/abc.jpg")
    );
    // a retried POST is the same message; a different one is not
    let again = &o.receive(&req).unwrap().messages[0];
    assert_eq!(m.id, again.id);
    let m2 = &o
        .receive(&o311_post(
            "requests.json",
            "open311/create_request_address.form",
        ))
        .unwrap()
        .messages[0];
    assert_ne!(m.id, m2.id);
    assert_eq!(
        m2.metadata["attributes"]["tipo"],
        serde_json::json!(["organico", "envases"])
    );
    assert_eq!(m2.location.as_ref().unwrap().point(), None);
    assert_eq!(m2.contact.id.as_deref(), Some("fms-ios-77"));
}

#[test]
fn open311_errors_in_the_standard_format() {
    let o = open311();
    let body = String::from_utf8(fixture("open311/create_request.form")).unwrap();
    let post =
        |b: String| InboundRequest::post("https://x/open311/v2/requests.json", b.into_bytes());
    let cases = [
        (
            body.replace("sev-open311-key-0001", "sev-open311-key-0002"),
            "api_key",
            403,
        ),
        (
            body.replace("api_key=sev-open311-key-0001&", ""),
            "api_key",
            403,
        ),
        (
            body.replace("service_code=alumbrado", "service_code=LUZ99"),
            "service_code",
            404,
        ),
        (
            body.replace("service_code=alumbrado&", ""),
            "service_code",
            400,
        ),
        (
            body.replace(
                "lat=37.3826&long=-6.0012&address_string=Calle+Betis+12%2C+Triana%2C+Sevilla&",
                "",
            ),
            "lat",
            400,
        ),
        (body.replace("lat=37.3826", "lat=137.3826"), "lat", 400),
        (body.replace("long=-6.0012&", ""), "long", 400),
        (
            body.replace("media_url=https", "media_url=javascript"),
            "media_url",
            400,
        ),
        (
            body.replace("attribute%5Bposte%5D", "attribute%5Bposte"),
            "attribute[poste",
            400,
        ),
        (
            body.replace(
                "description=Farola",
                &format!("description={}", "a".repeat(4001)),
            ),
            "description",
            413,
        ),
        (
            body.replace("first_name=Ana", "first_name=%FF"),
            "first_name",
            400,
        ),
    ];
    for (b, field, status) in cases {
        let e = o.receive(&post(b)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.kind.http_status()),
            (field, status),
            "{e}"
        );
        let json: Value = serde_json::from_str(&o.error(&e, Format::Json).body).unwrap();
        assert_eq!(json[0]["code"], status);
        let xml = o.error(&e, Format::Xml);
        assert_eq!(xml.status, status);
        assert!(xml.body.contains(&format!(
            "<errors><error><code>{status}</code><description>"
        )));
    }
    let e = o
        .endpoint(&InboundRequest::get("https://x/open311/v2/requests.csv"))
        .unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Unsupported);
}

#[test]
fn open311_responses_statuses_and_updates() {
    let o = open311();
    let created = o.created("SEV-2026-000123", Some("Revisión en 48 h"), Format::Json);
    assert_eq!(
        created.body,
        r#"[{"account_id":null,"service_notice":"Revisión en 48 h","service_request_id":"SEV-2026-000123"}]"#
    );
    let created = o.created("SEV-2026-000123", None, Format::Xml);
    assert!(created.body.ends_with("<service_requests><request><service_request_id>SEV-2026-000123</service_request_id><service_notice></service_notice><account_id/></request></service_requests>"));

    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    let mut r = ServiceRequest {
        id: "SEV-2026-000123".into(),
        status: CaseStatus::InProgress,
        status_notes: Some("Brigada asignada".into()),
        service_code: "alumbrado".into(),
        service_name: Some("Alumbrado público".into()),
        description: Some("Farola apagada".into()),
        agency_responsible: Some("Servicio de Alumbrado Público".into()),
        service_notice: None,
        requested: Some(t("2026-03-02T10:15:00+01:00")),
        updated: Some(t("2026-03-03T12:00:00+01:00")),
        expected: None,
        address: Some("Calle Betis 12".into()),
        lat: Some(37.3826),
        lon: Some(-6.0012),
        media_url: None,
    };
    let v: Value =
        serde_json::from_str(&o.requests(std::slice::from_ref(&r), Format::Json).body).unwrap();
    assert_eq!(v[0]["status"], "open");
    assert_eq!(v[0]["service_request_id"], "SEV-2026-000123");
    assert_eq!(v[0]["requested_datetime"], "2026-03-02T10:15:00+01:00");
    assert_eq!(v[0]["lat"], 37.3826);
    for (s, open311, fms) in [
        (CaseStatus::Received, "open", "open"),
        (CaseStatus::Accepted, "open", "investigating"),
        (CaseStatus::InProgress, "open", "in_progress"),
        (CaseStatus::Resolved, "closed", "fixed"),
        (
            CaseStatus::Rejected,
            "closed",
            "not_councils_responsibility",
        ),
        (CaseStatus::Duplicate, "closed", "duplicate"),
        (CaseStatus::Closed, "closed", "closed"),
        (CaseStatus::Reopened, "open", "open"),
    ] {
        r.status = s;
        let xml = o.requests(std::slice::from_ref(&r), Format::Xml).body;
        assert!(
            xml.contains(&format!(
                "<status>{open311}</status><status_notes>Brigada asignada</status_notes>"
            )),
            "{xml}"
        );
        assert_eq!(s.fixmystreet(), fms);
    }
    let u = RequestUpdate {
        update_id: "u-1".into(),
        service_request_id: "SEV-2026-000123".into(),
        status: CaseStatus::Resolved,
        updated: t("2026-03-04T09:00:00+01:00"),
        description: "Lámpara sustituida".into(),
        media_url: None,
        contact: Contact::default(),
    };
    let v: Value =
        serde_json::from_str(&o.updates(std::slice::from_ref(&u), Format::Json).body).unwrap();
    assert_eq!(v["service_request_updates"][0]["status"], "fixed");
    assert!(o.updates(&[u], Format::Xml).body.contains("<request_update><update_id>u-1</update_id><service_request_id>SEV-2026-000123</service_request_id><status>fixed</status>"));

    // FixMyStreet POSTs an update
    let req = o311_post("servicerequestupdates.xml", "open311/post_update.form");
    assert_eq!(o.endpoint(&req).unwrap().0, Endpoint::PostUpdate);
    let up = o.parse_update(&req).unwrap();
    assert_eq!(
        (
            up.update_id.as_str(),
            up.service_request_id.as_str(),
            up.status
        ),
        ("4242", "SEV-2026-000123", CaseStatus::InProgress)
    );
    assert_eq!(up.updated, t("2026-03-03T12:00:00+01:00"));
    assert_eq!(up.contact.name.as_deref(), Some("Ana Muñoz"));
    let body = String::from_utf8(fixture("open311/post_update.form")).unwrap();
    for (b, field) in [
        (body.replace("status=IN_PROGRESS", "status=MAYBE"), "status"),
        (
            body.replace("2026-03-03T12%3A00%3A00%2B01%3A00", "2026-03-03+12%3A00"),
            "updated_datetime",
        ),
        (body.replace("sev-open311-key-0001", "x"), "api_key"),
        (body.replace("update_id_ext=4242&", ""), "update_id_ext"),
    ] {
        let e = o
            .parse_update(&InboundRequest::post(
                "https://x/v2/servicerequestupdates.xml",
                b.into_bytes(),
            ))
            .unwrap_err();
        assert_eq!(e.field, field, "{e}");
    }
    let (e, f) = o
        .endpoint(&InboundRequest::get(
            "https://x/open311/v2/requests/SEV%2D1.xml",
        ))
        .unwrap();
    assert_eq!((e, f), (Endpoint::Request("SEV-1".into()), Format::Xml));
    assert_eq!(
        o.endpoint(&InboundRequest::get(
            "https://x/v2/servicerequestupdates.json?start_date=2026-03-01T00:00:00Z"
        ))
        .unwrap()
        .0,
        Endpoint::Updates
    );
    assert_eq!(
        o.endpoint(&InboundRequest::get("https://x/v2/services/alumbrado.json"))
            .unwrap()
            .0,
        Endpoint::ServiceDefinition("alumbrado".into())
    );
}

// ---- Web -----------------------------------------------------------------------------------

#[test]
fn web_form_json() {
    let web = WebForm::new();
    let m = &web
        .receive(&InboundRequest::post(
            "https://x/f",
            fixture("web/form.json"),
        ))
        .unwrap()
        .messages[0];
    assert_eq!(m.id, "web-2026-0001");
    assert_eq!(m.text, "Hay ramas caídas en el parque de María Luisa");
    assert_eq!(
        m.location.as_ref().unwrap().point(),
        Some((37.3754, -5.9877))
    );
    assert_eq!(m.attachments.len(), 1);
    let a = &web
        .receive(&InboundRequest::post(
            "https://x/f",
            fixture("web/form_no_id.json"),
        ))
        .unwrap()
        .messages[0];
    let b = &web
        .receive(&InboundRequest::post(
            "https://x/f",
            fixture("web/form_no_id.json"),
        ))
        .unwrap()
        .messages[0];
    assert!(a.id.starts_with("web-"));
    assert_eq!(a.id, b.id);
    for (body, field) in [
        (&br#"{"text": 3}"#[..], "text"),
        (br#"{"txt": "hola"}"#, "txt"),
        (br#"{"text": "x", "lat": 37.0}"#, "lat"),
        (
            br#"{"text": "x", "attachments": ["file:///etc/passwd"]}"#,
            "attachments[0]",
        ),
        (b"{\"text\": \"\xff\"}", "body"),
        (b"[1,2", "body"),
        (b"[1,2]", "body"),
    ] {
        let e = web
            .receive(&InboundRequest::post("https://x/f", body.to_vec()))
            .unwrap_err();
        assert_eq!(
            (e.channel, e.field.as_str()),
            (ChannelKind::Web, field),
            "{e}"
        );
    }
}

// ---- de-duplication ------------------------------------------------------------------------

#[test]
fn retried_deliveries_never_yield_two_messages() {
    let d = Deduplicator::new(10_000);
    let first = d.filter(wa_fixture("batch.json"));
    assert_eq!((first.messages.len(), first.statuses.len()), (3, 2));
    let retry = d.filter(wa_fixture("batch.json"));
    assert_eq!((retry.messages.len(), retry.statuses.len()), (0, 0));
    // sent and read of one message are two status events, each once
    let keys: Vec<String> = first.statuses.iter().map(|s| s.dedup_key()).collect();
    assert_eq!(
        keys,
        [
            "whatsapp:status:wamid.OUT10:sent",
            "whatsapp:status:wamid.OUT10:read"
        ]
    );
    // keys are per channel: the same id on another channel is another message
    let sms_msg = civic_router::Message::new("wamid.BATCH1", ChannelKind::Sms, "x");
    assert!(d.first_time(&dedup_key(&sms_msg)));
    let twice = d.filter(sms_in("sms/inbound_text.form"));
    assert_eq!(twice.messages.len(), 1);
    assert_eq!(d.filter(sms_in("sms/inbound_text.form")).messages.len(), 0);
}

// ---- end to end: provider payload → decision → rendered reply ------------------------------

#[test]
fn end_to_end_whatsapp() {
    let router = router();
    let inbound = wa_fixture("text.json");
    let msg = &inbound.messages[0];
    let d = router.route(msg).unwrap();
    assert_eq!(
        (d.department.as_str(), d.category.as_str()),
        ("alumbrado", "alumbrado")
    );
    let reply = Reply::from_decision(&d, "Recibido.").with_ticket("SEV-2026-000001");
    let v = rendered_json(&wa(), &reply, &ReplyContext::replying_to(msg));
    assert_eq!(v["to"], "34600111222");
    assert_eq!(v["text"]["preview_url"], true);
    let body = v["text"]["body"].as_str().unwrap();
    assert!(
        body.starts_with("Aviso recibido: lo pasamos a Servicio de Alumbrado Público."),
        "{body}"
    );
    assert!(body.ends_with("Referencia: SEV-2026-000001"), "{body}");

    // an emergency in a batch gets the 112 reply
    let batch = wa_fixture("batch.json");
    let d = router.route(&batch.messages[2]).unwrap();
    assert_eq!(d.department, "emergencias");
    let v = rendered_json(
        &wa(),
        &Reply::from_decision(&d, ""),
        &ReplyContext::replying_to(&batch.messages[2]),
    );
    assert_eq!(v["text"]["body"], "Llame al 112 ahora mismo.");
    assert_eq!(v["to"], "34600999888");
}

#[test]
fn end_to_end_sms() {
    let router = router();
    let msg = &sms_in("sms/inbound_mms.form").messages[0];
    let d = router.route(msg).unwrap();
    assert_eq!(d.department, "lipasam");
    let out = sms()
        .render(
            &Reply::from_decision(&d, "Recibido."),
            &ReplyContext::replying_to(msg),
        )
        .unwrap();
    assert_eq!(out.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Aviso recibido: lo pasamos a LIPASAM. Siga su estado en https://010.sevilla.example/avisos</Message></Response>");
    let seg = out.segments.unwrap();
    assert_eq!((seg.encoding, seg.segments), (Encoding::Gsm7, 1));
}

#[test]
fn end_to_end_voice() {
    let router = router();
    let msg = &voice_in("voice/gather_speech.form", &format!("{VOICE_URL}?turn=1")).messages[0];
    let d = router.route(msg).unwrap();
    assert_eq!(
        (d.department.as_str(), d.category.as_str()),
        ("padron", "tramites")
    );
    let reply = Reply::from_decision(&d, "")
        .with_option("si", "sí")
        .with_option("no", "no");
    let out = voice()
        .render(&reply, &ReplyContext::replying_to(msg))
        .unwrap()
        .body;
    assert!(out.contains("<Gather input=\"speech dtmf\" language=\"es-ES\" action=\"https://010.sevilla.example/ivr/gather?turn=2\""), "{out}");
    assert!(out.contains("Pida su cita en https://010.sevilla.example/cita o responda aquí. Para sí, diga sí o pulse 1."), "{out}");

    // a garbled transcript: low confidence, the router hands off, the call is dialled through
    let msg = &voice_in("voice/gather_digits.form", VOICE_URL).messages[0];
    let d = router.route(msg).unwrap();
    assert!(d.handoff);
    let out = voice()
        .render(
            &Reply::from_decision(&d, "No le he entendido."),
            &ReplyContext::replying_to(msg),
        )
        .unwrap()
        .body;
    assert!(
        out.ends_with("<Dial timeout=\"20\">+34955000099</Dial></Response>"),
        "{out}"
    );
}

#[test]
fn end_to_end_open311() {
    let router = router();
    let o = open311();
    let msg = &o
        .receive(&o311_post("requests.xml", "open311/create_request.form"))
        .unwrap()
        .messages[0];
    let d = router.route(msg).unwrap();
    assert_eq!(d.department, "alumbrado");
    let out = o
        .render(
            &Reply::from_decision(&d, "").with_ticket("SEV-2026-000124"),
            &ReplyContext::replying_to(msg),
        )
        .unwrap();
    assert!(out.body.contains("<service_request_id>SEV-2026-000124</service_request_id><service_notice>Aviso recibido: lo pasamos a Servicio de Alumbrado Público."), "{}", out.body);
    // an answer without a ticket cannot be an Open311 response
    assert_eq!(
        o.render(&Reply::text("x"), &ReplyContext::default())
            .unwrap_err()
            .kind,
        ChannelErrorKind::Reply
    );
}

#[test]
fn end_to_end_web() {
    let router = router();
    let web = WebForm::new();
    let msg = &web
        .receive(&InboundRequest::post(
            "https://x/f",
            fixture("web/form.json"),
        ))
        .unwrap()
        .messages[0];
    let d = router.route(msg).unwrap();
    assert_eq!(d.department, "parques");
    let out = web
        .render(
            &Reply::from_decision(&d, "").with_ticket("SEV-2026-000125"),
            &ReplyContext::replying_to(msg),
        )
        .unwrap();
    let v: Value = serde_json::from_str(&out.body).unwrap();
    assert_eq!(v["ticket"], "SEV-2026-000125");
    assert_eq!(v["links"][0]["url"], "https://010.sevilla.example/avisos");
    assert!(v["text"].as_str().unwrap().contains("Parques y Jardines"));
}

// ---- WhatsApp outbound: golden files, validated against Meta's schema by the fixture check -

#[test]
fn whatsapp_outbound_matches_golden_files() {
    let w = wa().with_template(Template {
        name: "incidencia_estado".into(),
        language: "es".into(),
        ticket_only: false,
    });
    let mut list = Reply::text("Elija el trámite del padrón");
    for (id, title, d) in [
        ("padron:alta", "Alta", "Empadronamiento"),
        ("padron:cambio", "Cambio de domicilio", "Dentro de Sevilla"),
        (
            "padron:volante",
            "Volante",
            "Certificado de empadronamiento",
        ),
        ("padron:baja", "Baja", "Por traslado fuera de Sevilla"),
    ] {
        list = list.with_option(id, title);
        list.options.last_mut().unwrap().description = Some(d.into());
    }
    let late = ReplyContext {
        hours_since_last_inbound: Some(48.0),
        ..to_ana()
    };
    let cases = [
        (
            "text",
            Reply::text("Su incidencia está registrada: https://010.sevilla.example/i/123"),
            to_ana(),
        ),
        (
            "buttons",
            Reply::text("¿Confirma su cita el lunes a las 10:30?")
                .with_option("cita:ok", "Sí")
                .with_option("cita:chg", "Cambiar")
                .with_ticket("CP-77"),
            to_ana(),
        ),
        ("list", list, to_ana()),
        (
            "template",
            Reply::text("Su incidencia SEV-2026-000123 está resuelta."),
            late,
        ),
        (
            "cta_url",
            Reply::text(
                "Puede pedir cita para el padrón en la sede electrónica o llamando al 010.",
            )
            .with_link_button(
                "Pedir cita previa",
                "https://010.sevilla.example/cita-previa",
            ),
            to_ana(),
        ),
    ];
    for (name, reply, cx) in cases {
        let got: Value = serde_json::from_str(&w.render(&reply, &cx).unwrap().body).unwrap();
        let path = format!("whatsapp/out/{name}.json");
        if std::env::var_os("CIVIC_UPDATE_GOLDEN").is_some() {
            let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/channels")
                .join(&path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        }
        let want: Value = serde_json::from_slice(&fixture(&path)).unwrap();
        assert_eq!(got, want, "{name}");
    }
}
