// The webhook example: a JSON message POST gets its decision; Twilio and WhatsApp webhooks are
// verified (signatures computed here with node:crypto, independently of civic-router), routed,
// and answered in the provider's format.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { once } = require('node:events')

const { Router, Webhook } = require('..')
const { createServer } = require('../examples/webhook-server')
const { CONFIG } = require('./fixtures')

const TOKEN = 'twilio-test-token'
const SECRET = 'meta-test-secret'

/** Twilio's algorithm, written here independently: URL + sorted name/value pairs, HMAC-SHA1. */
function twilioSignature(url, params) {
  const data = url + [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => k + v).join('')
  return crypto.createHmac('sha1', TOKEN).update(data).digest('base64')
}

async function withServer(fn) {
  const lines = []
  const server = createServer(Router.fromToml(CONFIG), {
    log: (l) => lines.push(l),
    twilio: new Webhook({ provider: 'sms', auth_tokens: [TOKEN] }),
    whatsapp: new Webhook({ provider: 'whatsapp', app_secret: SECRET, verify_token: 'vt' }),
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${server.address().port}`
  try {
    await fn(base, lines)
  } finally {
    server.close()
  }
}

test('a JSON message gets its decision; an array is routed as a batch', () =>
  withServer(async (base, lines) => {
    let r = await fetch(`${base}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'm1', channel: 'whatsapp', text: 'farola apagada', contact: { phone: '+34600111222' } }),
    })
    assert.equal(r.status, 200)
    const d = await r.json()
    assert.equal(d.department, 'alumbrado')
    r = await fetch(`${base}/messages`, {
      method: 'POST',
      body: JSON.stringify([{ id: 'a', channel: 'sms', text: 'bache' }, { id: 'b', channel: 'sms', text: 'huele a gas' }]),
    })
    assert.deepEqual((await r.json()).map((x) => x.department), ['obras', 'emergencias'])
    // the access log has no personal data
    assert.ok(lines.every((l) => !l.includes('600111222') && !l.includes('farola')), lines.join('\n'))
  }))

test('a signed Twilio form is verified, routed and answered in TwiML; a forged one is 403', () =>
  withServer(async (base) => {
    const params = [['MessageSid', 'SM1'], ['From', '+34600000001'], ['To', '+34955000000'], ['Body', 'huele a gas en el portal'], ['NumMedia', '0']]
    const url = `${base}/twilio`
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(url, params) }
    let r = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() })
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-type'), /text\/xml/)
    const twiml = await r.text()
    assert.match(twiml, /<Message>[^<]*112/)
    const forged = params.map(([k, v]) => [k, k === 'Body' ? 'otra cosa' : v])
    r = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(forged).toString() })
    assert.equal(r.status, 403)
    assert.equal((await r.json()).kind, 'unauthorized')
  }))

test('WhatsApp: handshake, a signed webhook routed into send-message JSON, a changed body 403', () =>
  withServer(async (base) => {
    let r = await fetch(`${base}/whatsapp?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=77`)
    assert.equal(await r.text(), '77')
    r = await fetch(`${base}/whatsapp?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1`)
    assert.equal(r.status, 403)
    const body = fs.readFileSync(path.join(__dirname, '..', '..', 'core', 'tests', 'fixtures', 'channels', 'whatsapp', 'text.json'))
    const sig = 'sha256=' + crypto.createHmac('sha256', SECRET).update(body).digest('hex')
    r = await fetch(`${base}/whatsapp`, { method: 'POST', headers: { 'x-hub-signature-256': sig }, body })
    assert.equal(r.status, 200)
    const out = await r.json()
    assert.equal(out.messages, 1)
    assert.equal(out.replies[0].messaging_product, 'whatsapp')
    r = await fetch(`${base}/whatsapp`, { method: 'POST', headers: { 'x-hub-signature-256': sig }, body: Buffer.concat([body, Buffer.from(' ')]) })
    assert.equal(r.status, 403)
  }))

test('bad requests are 400 with the error code; unknown paths 404; huge bodies 413', () =>
  withServer(async (base) => {
    let r = await fetch(`${base}/messages`, { method: 'POST', body: '{"id": "x"' })
    assert.equal(r.status, 400)
    r = await fetch(`${base}/messages`, { method: 'POST', body: '{"id": "x", "channel": "fax"}' })
    assert.equal(r.status, 400)
    assert.equal((await r.json()).code, 'INPUT')
    r = await fetch(`${base}/twilio`, { method: 'POST', body: 'Body=hola' }) // unsigned
    assert.equal(r.status, 403)
    r = await fetch(`${base}/nope`, { method: 'POST', body: '{}' })
    assert.equal(r.status, 404)
    r = await fetch(`${base}/messages`, { method: 'POST', body: 'x'.repeat(2 << 20) }).catch((e) => e)
    assert.ok(r instanceof Error || r.status === 413)
    r = await fetch(`${base}/health`)
    assert.deepEqual(await r.json(), { status: 'ok', router: 'Test line', rules: 6 })
  }))
