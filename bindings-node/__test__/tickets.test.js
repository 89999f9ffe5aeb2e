// Cases from Node: ingestion (idempotent), status changes and their errors, delivery (a
// JavaScript sender over claimDue/markSent/markFailed, and e-mail files), conversation
// history, the report, retention.
'use strict'

const { test, after } = require('node:test')
const { spawnSync } = require('node:child_process')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Router, Desk, Appointments } = require('../index.js')

const OFFICES = path.join(__dirname, '..', '..', 'examples', 'sevilla', 'offices.toml')

const CONFIG = `
[tickets]
reference_prefix = "SEV"
retention_days = 30
[categories]
alumbrado = "Alumbrado público"
limpieza = "Limpieza"
general = "General"
[[department]]
id = "alumbrado"
name = "Servicio de Alumbrado"
email = "averias@alumbrado.example"
[[department]]
id = "lipasam"
name = "LIPASAM"
[[department]]
id = "010"
name = "010"
[routing]
default = "010"
category.alumbrado = "alumbrado"
category.limpieza = "lipasam"
[[rule]]
id = "farola"
when.any_words = ["farola*"]
then = { intent = "incident", category = "alumbrado" }
[[rule]]
id = "contenedor"
when.any_words = ["contenedor*"]
then = { intent = "incident", category = "limpieza" }
`

const T0 = '2026-03-02T10:00:00Z'
const msg = (id, text, phone = '+34600000001') => ({ id, channel: 'whatsapp', text, contact: { phone } })
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'civic-node-'))

// PostgreSQL, opened by URL like any store, when the test machine gives a server: each desk in
// a schema of its own, dropped when the tests end
const PG_URL = process.env.CIVIC_ROUTER_POSTGRES_URL || ''
const pgSchemas = []
if (!PG_URL) test('postgres: skipped (CIVIC_ROUTER_POSTGRES_URL is not set)', { skip: true }, () => {})
after(() => {
  for (const s of pgSchemas) spawnSync('psql', [PG_URL, '-c', `DROP SCHEMA IF EXISTS ${s} CASCADE`])
})
function pgUrl() {
  const schema = `civic_node_${process.pid}_${pgSchemas.length}`
  pgSchemas.push(schema)
  return `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`
}

for (const kind of PG_URL ? ['memory', 'sqlite', 'postgres'] : ['memory', 'sqlite']) {
  const open = () =>
    new Desk(Router.fromToml(CONFIG), kind === 'sqlite' ? path.join(tmp(), 'c.db') : kind === 'postgres' ? pgUrl() : undefined)

  test(`${kind}: the same webhook 10 times is one ticket and one notification`, async () => {
    const desk = open()
    const outs = []
    for (let i = 0; i < 10; i++) outs.push(await desk.ingest(msg('wamid.1', 'farola apagada'), { at: T0 }))
    assert.deepEqual(new Set(outs.map((o) => o.ticket.reference)), new Set(['SEV-2026-000001']))
    assert.deepEqual(outs.map((o) => o.duplicate_delivery), [false, ...Array(9).fill(true)])
    const notes = (await desk.pending()).filter((p) => p.kind === 'notification')
    assert.equal(notes.length, 1)
    assert.match(notes[0].text, /SEV-2026-000001/)
  })

  test(`${kind}: transitions, refused ones and unknown references reject with STORE`, async () => {
    const desk = open()
    const { ticket } = await desk.ingest(msg('m1', 'farola apagada'), { at: T0 })
    const t = await desk.changeStatus(ticket.reference, 'accepted', { actor: 'alumbrado', note: 'brigada' })
    assert.equal(t.status, 'accepted')
    assert.equal(t.history.at(-1).note, 'brigada')
    await assert.rejects(desk.changeStatus(ticket.reference, 'closed', { actor: 'x' }), (e) => e.code === 'STORE' && /cannot go from `accepted` to `closed`/.test(e.message))
    await assert.rejects(desk.ticket('SEV-2026-000099'), (e) => e.code === 'STORE' && /unknown ticket/.test(e.message))
    await assert.rejects(desk.changeStatus(ticket.reference, 'accepted', {}), (e) => e.code === 'INVALID_ARG')
    await assert.rejects(desk.ingest(42), (e) => e.code === 'INPUT')
    const r = await desk.recategorise(ticket.reference, 'limpieza', { actor: 'agente' })
    assert.equal(r.department, 'lipasam')
  })

  test(`${kind}: a JavaScript sender: fails 3 times then succeeds once; another ends in dead letters`, async () => {
    const desk = open()
    await desk.ingest(msg('m1', 'farola apagada'), { at: T0 })
    await desk.ingest(msg('m2', 'contenedor lleno', '+34600000002'), { at: T0 })
    const calls = {}
    let now = Date.parse(T0)
    for (let pass = 0; pass < 10; pass++) {
      const at = new Date(now).toISOString()
      for (const row of await desk.claimDue({ at })) {
        calls[row.target] = (calls[row.target] || 0) + 1
        const fail = row.target === 'lipasam' || (row.target === 'alumbrado' && calls.alumbrado <= 3)
        if (!fail) await desk.markSent(row.id)
        else if (row.attempts + 1 >= 5) await desk.markFailed(row.id, 'HTTP 503')
        else await desk.markFailed(row.id, 'HTTP 503', { retryAt: new Date(now + 1000).toISOString() })
      }
      now += 60_000
    }
    assert.equal(calls.alumbrado, 4)
    assert.equal(calls.lipasam, 5)
    assert.equal(calls.whatsapp, 2)
    const dead = await desk.deadLetters()
    assert.deepEqual(dead.map((d) => d.item.target), ['lipasam'])
    assert.deepEqual(await desk.pending(), [])
  })

  test(`${kind}: appointment reminders go through the outbox once, to a JavaScript sender`, async () => {
    const desk = open()
    const appts = new Appointments(OFFICES, { store: path.join(tmp(), 'citas.db') })
    const ana = { phone: '+34600000009' }
    // Tuesday 1 December 2026, 10:00 in Seville (09:00 UTC): the earliest slot is within a day
    const a = await appts.bookEarliest('padron', { contact: ana, channel: 'sms', now: '2026-12-01T10:00:00', district: 'triana' })
    const at = '2026-12-01T09:00:00Z'
    const r = await desk.scheduleReminders(appts, { hours: 24, at })
    assert.deepEqual(r, { due: 1, enqueued: 1, already_queued: 0, marked: 1, moved: 0 })
    assert.equal((await desk.scheduleReminders(appts, { at })).due, 0)
    const sent = []
    for (const minutes of [0, 10, 60]) {
      const now = new Date(Date.parse(at) + minutes * 60_000).toISOString()
      for (const row of await desk.claimDue({ at: now })) {
        sent.push(row)
        await desk.markSent(row.id)
      }
      await desk.scheduleReminders(appts, { at: now })
    }
    assert.equal(sent.length, 1)
    const row = sent[0]
    assert.equal(row.kind, 'reminder')
    assert.equal(row.appointment, a.reference)
    assert.equal(row.reference, undefined)
    assert.equal(row.target, 'sms')
    assert.equal(row.to.phone, '+34600000009')
    assert.match(row.text, new RegExp(`^Recordatorio: .*${a.reference}`))
    assert.deepEqual(await desk.pending(), [])
    const conv = await desk.conversationOf('sms', ana)
    assert.equal(conv.length, 1)
    assert.equal(conv[0].direction, 'outbound')
    assert.equal(conv[0].ticket, undefined)
    await assert.rejects(desk.scheduleReminders(appts, { hours: 100000 }), (e) => e.code === 'INVALID_ARG')
    await assert.rejects(desk.scheduleReminders(appts, { at: 'tomorrow' }), (e) => e.code === 'INVALID_ARG')
  })

  test(`${kind}: relayOnce writes e-mail files; conversation, report, retention`, async () => {
    const desk = open()
    const { ticket } = await desk.ingest(msg('m1', 'farola apagada'), { at: T0 })
    const dir = tmp()
    const r = await desk.relayOnce({ mailDir: dir, at: '2026-03-02T10:00:30Z' })
    assert.deepEqual(r, { claimed: 2, sent: 2, retried: 0, dead: 0 })
    const emls = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    assert.ok(emls.some((e) => e.includes('To: averias@alumbrado.example\r\n')))
    const conv = await desk.conversationOf('whatsapp', { phone: '+34600000001' })
    assert.deepEqual(conv.map((e) => e.direction), ['inbound', 'outbound'])
    assert.equal((await desk.conversationOfTicket(ticket.reference)).length, 2)
    assert.equal((await desk.ticketsOf('whatsapp', { phone: '+34600000001' })).length, 1)
    for (const s of ['accepted', 'resolved', 'closed']) {
      await desk.changeStatus(ticket.reference, s, { actor: 'alumbrado', at: '2026-03-03T10:00:00Z' })
    }
    const before = await desk.report()
    assert.equal(before.first_reply.median_s, 30)
    assert.equal(before.resolution.median_s, 86400)
    assert.match(await desk.report({ format: 'html' }), /<svg/)
    await assert.rejects(desk.applyRetention('short'), (e) => e.code === 'INVALID_ARG')
    assert.equal(await desk.applyRetention('0123456789abcdef', { at: '2026-06-01T00:00:00Z' }), 1)
    assert.deepEqual(await desk.report(), before)
    assert.doesNotMatch(JSON.stringify(await desk.ticket(ticket.reference)), /600000001/)
  })
}

test('a corrupt store file is a STORE error', () => {
  const p = path.join(tmp(), 'junk.db')
  fs.writeFileSync(p, 'not a database, just some text that is long enough')
  assert.throws(() => new Desk(Router.fromToml(CONFIG), p), (e) => e.code === 'STORE' && /not a civic-router store/.test(e.message))
})
