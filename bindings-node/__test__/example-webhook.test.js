// The webhook example: a JSON message POST and a Twilio-style form POST answer with the decision.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')

const { Router } = require('..')
const { createServer, messageFromTwilio } = require('../examples/webhook-server')
const { CONFIG } = require('./fixtures')

async function withServer(fn) {
  const lines = []
  const server = createServer(Router.fromToml(CONFIG), { log: (l) => lines.push(l) })
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

test('a Twilio-style form gets TwiML with the reply, or JSON with ?format=json', () =>
  withServer(async (base) => {
    const form = new URLSearchParams({ MessageSid: 'SM1', From: 'whatsapp:+34600000001', To: '+34955000000', Body: 'huele a gas en el portal' })
    let r = await fetch(`${base}/twilio`, { method: 'POST', body: form })
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-type'), /application\/xml/)
    assert.equal(await r.text(), '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Llame al 112 ahora. (SM1)</Message></Response>')
    r = await fetch(`${base}/twilio?format=json`, { method: 'POST', body: new URLSearchParams({ MessageSid: 'SM2', From: '+34600000002', Body: 'bache' }) })
    const d = await r.json()
    assert.deepEqual([d.id, d.channel, d.department], ['SM2', 'sms', 'obras'])
  }))

test('bad requests are 400 with the error code; unknown paths 404; huge bodies 413', () =>
  withServer(async (base) => {
    let r = await fetch(`${base}/messages`, { method: 'POST', body: '{"id": "x"' })
    assert.equal(r.status, 400)
    r = await fetch(`${base}/messages`, { method: 'POST', body: '{"id": "x", "channel": "fax"}' })
    assert.equal(r.status, 400)
    assert.equal((await r.json()).code, 'INPUT')
    r = await fetch(`${base}/twilio`, { method: 'POST', body: 'Body=hola' }) // no MessageSid: no id
    assert.equal(r.status, 400)
    r = await fetch(`${base}/nope`, { method: 'POST', body: '{}' })
    assert.equal(r.status, 404)
    r = await fetch(`${base}/messages`, { method: 'POST', body: 'x'.repeat(2 << 20) }).catch((e) => e)
    assert.ok(r instanceof Error || r.status === 413)
    r = await fetch(`${base}/health`)
    assert.deepEqual(await r.json(), { status: 'ok', router: 'Test line', rules: 6 })
  }))

test('messageFromTwilio reads media and location', () => {
  const m = messageFromTwilio(new URLSearchParams({
    MessageSid: 'MM1', From: 'whatsapp:+34600', Body: 'mire', NumMedia: '1',
    MediaUrl0: 'https://x/1', MediaContentType0: 'image/jpeg', Latitude: '37.38', Longitude: '-5.99',
  }))
  assert.deepEqual(m.attachments, [{ kind: 'image', url: 'https://x/1', mime_type: 'image/jpeg' }])
  assert.deepEqual(m.location, { lat: 37.38, lon: -5.99 })
  assert.equal(m.channel, 'whatsapp')
  assert.equal(Router.fromToml(CONFIG).route(m).id, 'MM1')
})
