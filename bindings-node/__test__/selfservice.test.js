// Self-service from Node: the knowledge base, auto-answers in decisions, appointments (typed
// errors, 50 concurrent bookings of the last place) and booking conversations.
'use strict'

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Router, KnowledgeBase, Appointments } = require('../index.js')

const SEVILLA = path.join(__dirname, '..', '..', 'examples', 'sevilla')
const OFFICES = path.join(SEVILLA, 'offices.toml')
const NOW = '2026-12-01T10:00:00' // a Tuesday

test('knowledge base: search with typos, gap key, broken file', () => {
  const kb = KnowledgeBase.fromPath(path.join(SEVILLA, 'faq.toml'))
  assert.ok(kb.length >= 60)
  const hits = kb.search('kiero enpadronarme en sevilla', { top: 2, threshold: 0.3 })
  assert.equal(hits[0].entry.id, 'padron-alta')
  assert.equal(hits[0].answers, true)
  assert.equal(kb.gapKey('¿Dónde recogen los MUEBLES viejos?'), 'muebl recog viej')
  assert.throws(() => KnowledgeBase.fromToml("[[entry]]\nid = 'a'\n", 'faq.toml'), (e) => e.code === 'CONFIG')
})

test('a decision is answered automatically', () => {
  const router = Router.fromFile(path.join(SEVILLA, 'router.toml'))
  const d = router.route({ id: 'm1', channel: 'sms', text: '¿a qué hora abre el registro de Triana?' })
  assert.equal(d.auto_answered, true)
  assert.equal(d.answer.entry, 'registro-horario')
})

test('book, confirm, remind, cancel, typed errors', async () => {
  const a = new Appointments(OFFICES)
  const slots = await a.offer('padron', { now: NOW, district: 'triana' })
  assert.equal(slots[0].office, 'distrito_triana')
  const booked = await a.bookSlot('padron', 'distrito_triana', slots[0].start, {
    contact: { phone: '+34600000001' }, channel: 'whatsapp', now: NOW,
  })
  assert.match(booked.reference, /^CP-/)
  assert.equal((await a.confirm(booked.reference)).status, 'confirmed')
  const due = await a.remindersDue({ now: NOW, hours: 24 })
  assert.ok(due[0].text.includes(booked.reference))
  await a.cancel(booked.reference)
  await assert.rejects(a.confirm(booked.reference), (e) => e.code === 'APPOINTMENT')
  await assert.rejects(a.offer('nope', { now: NOW }), (e) => e.code === 'APPOINTMENT')
})

test('50 concurrent bookings of the last place: exactly one succeeds (SQLite)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-appt-'))
  const a = new Appointments(OFFICES, { store: path.join(dir, 'citas.db') })
  const slot = '2026-12-01T12:00:00'
  await a.bookSlot('padron', 'distrito_triana', slot, { contact: { phone: '+34600000000' }, channel: 'sms', now: NOW })
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) =>
    a.bookSlot('padron', 'distrito_triana', slot, { contact: { phone: `+346100${i}` }, channel: 'sms', now: NOW })))
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  assert.ok(results.filter((r) => r.status === 'rejected').every((r) => r.reason.code === 'APPOINTMENT'))
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a conversation books, and an answer after expiry is refused', async () => {
  const a = new Appointments(OFFICES, { conversationMinutes: 15 })
  const me = { phone: '+34600000002' }
  let t = await a.converse('quiero cita para empadronarme en Triana', { contact: me, channel: 'whatsapp', now: NOW, district: 'triana' })
  assert.deepEqual(t.options.map((o) => o[0]), ['opt:1', 'opt:2', 'opt:3'])
  t = await a.converse('opt:1', { contact: me, channel: 'whatsapp', now: NOW })
  assert.equal(t.done, true)
  assert.ok(t.text.includes(t.appointment.reference))
  await a.converse('cita para el padrón', { contact: me, channel: 'sms', now: NOW, district: 'sur' })
  await assert.rejects(a.converse('1', { contact: me, channel: 'sms', now: '2026-12-01T10:30:00' }), (e) => e.code === 'APPOINTMENT')
})
