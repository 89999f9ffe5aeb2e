// Channels from Node: provider webhooks verified and parsed from the raw body Buffer, replies
// rendered in each provider's format, and every refusal an Error with code CHANNEL and the
// channel, field, kind and httpStatus of the core's error.
//
// Signatures come from core/tests/fixtures/channels/signatures.json, computed with Python's
// hmac and twilio's RequestValidator (independent of civic-router's own signer).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const { Router, Webhook, segmentInfo } = require('..')
const { expectCode } = require('./fixtures')

const ROOT = path.resolve(__dirname, '..', '..')
const FIXTURES = path.join(ROOT, 'core', 'tests', 'fixtures', 'channels')
const VECTORS = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'signatures.json'), 'utf8'))
const WA_SECRET = 'civic-router-test-app-secret'
const TWILIO_TOKEN = '0123456789abcdef0123456789abcdef'
const SHARED_KEY = 'webhooks-shared-key-secret-0001'
const SEVILLA = path.join(ROOT, 'examples', 'sevilla', 'router.toml')

const whatsapp = () =>
  new Webhook({ provider: 'whatsapp', app_secret: WA_SECRET, verify_token: 'token-010', template: { name: 'incidencia_estado' } })
const sms = () => new Webhook({ provider: 'sms', auth_tokens: [TWILIO_TOKEN], shared_keys: [SHARED_KEY] })
const voice = () =>
  new Webhook({
    provider: 'voice',
    auth_tokens: [TWILIO_TOKEN],
    shared_keys: [SHARED_KEY],
    gather_action: 'https://010.sevilla.example/ivr/gather',
  })
const fixture = (f) => fs.readFileSync(path.join(FIXTURES, f))
const waSig = (body) => 'sha256=' + crypto.createHmac('sha256', WA_SECRET).update(body).digest('hex')

function expectChannel(kind, status, fn) {
  const e = expectCode(assert, 'CHANNEL', fn)
  assert.equal(e.kind, kind, e.message)
  assert.equal(e.httpStatus, status)
  assert.equal(typeof e.channel, 'string')
  assert.equal(typeof e.field, 'string')
  return e
}

test('every WhatsApp fixture verifies with the independent signature', () => {
  const wa = whatsapp()
  for (const v of VECTORS.whatsapp) {
    const body = fixture(v.file)
    const inbound = wa.receive({ body, url: 'https://x/wa', headers: { 'x-hub-signature-256': v.signature } })
    assert.ok(inbound.messages.length + inbound.statuses.length + inbound.ignored.length >= 1, v.file)
  }
})

test('WhatsApp end to end: webhook in, decision, send-message JSON out', () => {
  const body = fixture('whatsapp/text.json')
  const inbound = whatsapp().receive({ body, url: 'https://x/wa', headers: [['X-Hub-Signature-256', waSig(body)]] })
  assert.equal(inbound.messages.length, 1)
  const msg = inbound.messages[0]
  assert.equal(msg.channel, 'whatsapp')
  assert.match(msg.id, /^wamid\./)
  const d = Router.fromFile(SEVILLA).route(msg)
  const rendered = whatsapp().render(d, { to: msg })
  assert.equal(rendered.status, 200)
  assert.equal(rendered.content_type, 'application/json')
  const out = JSON.parse(rendered.body)
  assert.equal(out.messaging_product, 'whatsapp')
  assert.ok(out.to || out.recipient)
})

test('a knowledge-base answer is a link button on WhatsApp and a short text by SMS', () => {
  const router = Router.fromFile(SEVILLA)
  const q = '¿cómo pongo una queja o reclamación al ayuntamiento?'
  const m = { id: 'q1', channel: 'whatsapp', text: q, contact: { phone: '+34600111222' } }
  const d = router.route(m)
  assert.equal(d.auto_answered, true)
  const out = JSON.parse(whatsapp().render(d, { to: m }).body)
  assert.equal(out.type, 'interactive')
  assert.equal(out.interactive.type, 'cta_url')
  assert.deepEqual(out.interactive.action, {
    name: 'cta_url',
    parameters: { display_text: 'Quejas y sugerencias', url: 'https://www.sevilla.example/sugerencias' },
  })
  assert.equal(out.interactive.body.text, d.reply)
  // a reply object asks for the button with link_button
  const reply = {
    text: 'Pida cita en la sede.',
    links: [{ title: 'Cita previa', url: 'https://010.sevilla.example/cita' }],
    link_button: true,
  }
  const own = JSON.parse(whatsapp().render(reply, { to: { phone: '+34600111222' } }).body)
  assert.equal(own.interactive.action.parameters.display_text, 'Cita previa')
  const s = { ...m, id: 'q2', channel: 'sms' }
  assert.match(sms().render(router.route(s), { to: s }).body, /Quejas y sugerencias: https:\/\/www\.sevilla\.example\/sugerencias/)
})

test('statuses are kept apart from messages', () => {
  const body = fixture('whatsapp/status_failed.json')
  const inbound = whatsapp().receive({ body, url: 'https://x/wa', headers: { 'X-Hub-Signature-256': waSig(body) } })
  assert.deepEqual(inbound.messages, [])
  assert.equal(inbound.statuses[0].state, 'failed')
})

test('a forged, changed or unsigned WhatsApp request is refused with 403', () => {
  const body = fixture('whatsapp/text.json')
  const good = waSig(body)
  const changed = Buffer.concat([body, Buffer.from(' ')])
  for (const [b, headers] of [
    [changed, { 'X-Hub-Signature-256': good }],
    [body, { 'X-Hub-Signature-256': 'sha256=' + '0'.repeat(64) }],
    [body, {}],
  ]) {
    const e = expectChannel('unauthorized', 403, () => whatsapp().receive({ body: b, url: 'https://x/wa', headers }))
    assert.equal(e.channel, 'whatsapp')
  }
})

test('WhatsApp handshake; other channels have none', () => {
  const ok = 'https://x/wa?hub.mode=subscribe&hub.verify_token=token-010&hub.challenge=1158201444'
  assert.equal(whatsapp().handshake(ok), '1158201444')
  expectChannel('unauthorized', 403, () => whatsapp().handshake('https://x/wa?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1'))
  expectChannel('unsupported', 405, () => sms().handshake(ok))
})

test('WhatsApp: template past 24 hours, buttons from options, REPLY error without a template', () => {
  const reply = { text: 'Su aviso está en curso.', ticket: 'SEV-2026-000123' }
  const to = { phone: '+34600111222' }
  assert.equal(JSON.parse(whatsapp().render(reply, { to, hoursSinceLastInbound: 30 }).body).type, 'template')
  const bare = new Webhook({ provider: 'whatsapp', app_secret: 's', verify_token: 't' })
  expectChannel('reply', 400, () => bare.render(reply, { to, hoursSinceLastInbound: 30 }))
  const buttons = JSON.parse(
    whatsapp().render({ text: '¿Confirma?', options: [{ id: 'cita:ok', title: 'Sí' }, { id: 'cita:no', title: 'No' }] }, { to }).body,
  )
  assert.deepEqual(
    buttons.interactive.action.buttons.map((b) => b.reply.id),
    ['cita:ok', 'cita:no'],
  )
})

test('Twilio vectors through the SMS and Voice webhooks', () => {
  let checked = 0
  for (const v of VECTORS.twilio) {
    if (v.json_body !== null || !v.body_file) continue
    const body = Buffer.from(new URLSearchParams(v.received_params).toString())
    const headers = { 'X-Twilio-Signature': v.signature }
    if (v.algorithm === 'HMAC_SHA256') headers['X-Twilio-Webhooks-Signature-Settings'] = 'key=webhooks_sharedkey_01,algorithm=HMAC_SHA256'
    const hook = v.channel === 'voice' ? voice() : sms()
    const request = { body, url: v.url_received, headers }
    if (v.valid) {
      hook.receive(request)
      hook.verify(request)
    } else {
      expectChannel('unauthorized', 403, () => hook.receive(request))
    }
    checked++
  }
  assert.ok(checked >= 15, `${checked} vectors`)
})

test('SMS end to end: TwiML with the ticket and the segment count', () => {
  const v = VECTORS.twilio.find((x) => x.name === 'sms/inbound_text')
  const inbound = sms().receive({ body: fixture(v.body_file), url: v.url_received, headers: { 'X-Twilio-Signature': v.signature } })
  const msg = inbound.messages[0]
  assert.equal(msg.channel, 'sms')
  const d = Router.fromFile(SEVILLA).route(msg)
  assert.equal(d.category, 'alumbrado')
  const r = sms().render(d, { to: msg, ticket: 'SEV-2026-000123' })
  assert.match(r.body, /^<\?xml/)
  assert.match(r.body, /<Message>/)
  assert.match(r.body, /SEV-2026-000123/)
  assert.ok(r.segments.segments >= 1)
})

test('Voice end to end: the answer is spoken', () => {
  const v = VECTORS.twilio.find((x) => x.name === 'voice/gather_speech')
  const inbound = voice().receive({ body: fixture(v.body_file), url: v.url_received, headers: { 'X-Twilio-Signature': v.signature } })
  const d = Router.fromFile(SEVILLA).route(inbound.messages[0])
  assert.match(voice().render(d, { to: inbound.messages[0] }).body, /<Say/)
})

test('segmentInfo known answers', () => {
  assert.deepEqual(segmentInfo('Hola'), { encoding: 'gsm7', units: 4, characters: 4, segments: 1, parts: [4], non_gsm: [] })
  assert.equal(segmentInfo('a'.repeat(161)).segments, 2)
  assert.equal(segmentInfo('ñ').encoding, 'gsm7')
  assert.equal(segmentInfo('í').encoding, 'ucs2')
  expectCode(assert, 'INVALID_ARG', () => segmentInfo(3))
})

test('web form bodies: Buffer, Uint8Array, string', () => {
  const web = new Webhook({ provider: 'web' })
  assert.equal(web.provider, 'web')
  assert.equal(web.channel, 'web')
  for (const body of ['{"text":"bache"}', Buffer.from('{"text":"bache"}'), new TextEncoder().encode('{"text":"bache"}')]) {
    assert.equal(web.receive({ body, url: 'https://x/form' }).messages[0].text, 'bache')
  }
})

test('malformed bodies, invalid UTF-8 and a 10 MB body are refused, never a crash', () => {
  const web = new Webhook({ provider: 'web' })
  for (const body of ['{', '[]', '{"text": 3}', Buffer.from([0xff, 0xfe, 0x7b, 0x7d])]) {
    expectChannel('malformed', 400, () => web.receive({ body, url: 'https://x/form' }))
  }
  const huge = Buffer.alloc(10 * 1024 * 1024, 0x20)
  for (const hook of [web, whatsapp(), sms()]) {
    expectChannel('too_large', 413, () => hook.receive({ body: huge, url: 'https://x/in', headers: { 'X-Hub-Signature-256': waSig(huge) } }))
  }
  const small = new Webhook({ provider: 'web', limits: { max_body_bytes: 16 } })
  assert.equal(small.maxBodyBytes, 16)
  expectChannel('too_large', 413, () => small.receive({ body: '{"text":"una farola apagada"}', url: 'https://x/form' }))
})

test('bad settings are CONFIG errors naming the field; wrong argument types are INVALID_ARG', () => {
  for (const [settings, field] of [
    [{ provider: 'fax' }, 'provider'],
    [{}, 'provider'],
    [{ provider: 'sms' }, 'auth_tokens'],
    [{ provider: 'sms', auth_tokens: 't' }, 'auth_tokens'],
    [{ provider: 'web', colour: 'red' }, 'colour'],
  ]) {
    const e = expectCode(assert, 'CONFIG', () => new Webhook(settings))
    assert.ok(e.issues.some((i) => i.field.includes(field) || i.reason.includes(field)), JSON.stringify(e.issues))
  }
  expectCode(assert, 'INVALID_ARG', () => new Webhook('web'))
  const web = new Webhook({ provider: 'web' })
  for (const bad of [undefined, null, 'body', 3, Buffer.from('{}')]) expectCode(assert, 'INVALID_ARG', () => web.receive(bad))
  expectCode(assert, 'INVALID_ARG', () => web.receive({ body: 3, url: 'https://x' }))
  expectCode(assert, 'INVALID_ARG', () => web.receive({ body: '{}' }))
  expectCode(assert, 'INVALID_ARG', () => web.receive({ body: '{}', url: 'https://x', headers: 5 }))
  expectCode(assert, 'INVALID_ARG', () => web.render('hola'))
  expectCode(assert, 'INVALID_ARG', () => web.render({ text: 'x' }, { colour: 1 }))
  expectCode(assert, 'INPUT', () => web.render({ text: 3 }))
})
