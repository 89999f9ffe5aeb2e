// The router at the boundary: the same behaviours the Rust pipeline tests and the Python tests
// check, seen from JavaScript.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Router, normalize, version } = require('..')
const { CONFIG, msg, expectCode } = require('./fixtures')

const router = Router.fromToml(CONFIG)

test('category, route and reply', () => {
  const d = router.route(msg('La farola de mi calle no enciende'))
  assert.equal(d.intent, 'incident')
  assert.equal(d.category, 'alumbrado')
  assert.equal(d.department, 'alumbrado')
  assert.equal(d.department_name, 'Servicio de Alumbrado')
  assert.equal(d.explanation.route.entry, 'category:alumbrado')
  assert.deepEqual(d.rules, ['lighting'])
  assert.deepEqual(d.explanation.rules[0].patterns, ['farola*'])
  assert.equal(d.reply, 'Aviso recibido: Alumbrado público. Lo atenderá Servicio de Alumbrado.')
  assert.equal(d.handoff, false)
  assert.equal(d.priority, 'normal')
  assert.equal(d.channel, 'whatsapp')
  assert.equal(d.id, 'm1')
  assert.equal(d.district, null)
  assert.equal(d.confidence, 0.9)
})

test('district from the gazetteer and the district route', () => {
  let d = router.route(msg('¿Hay talleres de cerámica en el Tardón?'))
  assert.equal(d.district, 'triana')
  assert.equal(d.department, 'distrito_triana')
  assert.equal(d.explanation.route.entry, 'district:triana')
  assert.deepEqual(d.explanation.district, { id: 'triana', matched: 'el tardon', source: 'place' })
  d = router.route(msg('¿hay talleres en la Macarena?'))
  assert.equal(d.district, 'macarena')
  assert.equal(d.explanation.route.entry, 'default')
})

test('an override beats the category', () => {
  const d = router.route(msg('Un bache enorme en la SE-30 salida 5'))
  assert.equal(d.department, 'junta_carreteras')
  assert.equal(d.explanation.route.entry, 'override:carretera-autonomica')
  assert.notEqual(router.route(msg('hay talleres junto a la A-4?')).department, 'junta_carreteras')
})

test('an emergency is urgent and stops the rules', () => {
  const d = router.route(msg('huele mucho a gas en el portal, y hay una farola rota'))
  assert.deepEqual([d.intent, d.category, d.department, d.priority], ['emergency', 'emergencias', 'emergencias', 'urgent'])
  assert.deepEqual(d.rules, ['emergency-gas'])
  assert.equal(d.handoff, false)
  assert.equal(d.reply, 'Llame al 112 ahora. (m1)')
})

test('the after-hours fallback reads received_at', () => {
  const text = 'farola caída con cables sueltos, peligro'
  let d = router.route(msg(text, 'm1', 'whatsapp', { received_at: '2026-11-28T23:00:00+01:00' }))
  assert.equal(d.priority, 'high')
  assert.equal(d.department, 'guardia')
  assert.equal(d.explanation.route.after_hours_from, 'alumbrado')
  d = router.route(msg(text, 'm1', 'whatsapp', { received_at: '2026-11-30T09:00:00Z' }))
  assert.equal(d.department, 'alumbrado')
})

test('low confidence goes to a human agent', () => {
  const d = router.route(msg('mucho ruido'))
  assert.equal(d.category, 'medio_ambiente')
  assert.equal(d.handoff, true)
  assert.equal(d.department, 'agentes')
  assert.equal(d.reply, 'Le atiende una persona en breve.')
})

test('an unclassified message gets the defaults and says so', () => {
  const d = router.route(msg('hola buenas'))
  assert.deepEqual([d.intent, d.category, d.confidence, d.handoff], ['other', 'general', 0, true])
  assert.match(d.explanation.notes[0], /intent/)
})

test('captions are routed and tags kept', () => {
  const d = router.route({
    id: 'm2',
    channel: 'app',
    text: '',
    attachments: [{ kind: 'image', mime_type: 'image/jpeg', caption: 'socavón en la acera' }],
    location: { lat: 37.38, lon: -6.0 },
  })
  assert.equal(d.category, 'via_publica')
  assert.deepEqual(d.tags, ['firme'])
})

test('a decision is plain JSON data: it survives JSON.stringify unchanged', () => {
  const d = router.route(msg('bache en la calle Betis', 'm3', 'sms', { contact: { phone: '+34600111222' } }))
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d)
})

test('routeAsync and routeBatch agree with route, in order', async () => {
  const texts = ['farola apagada', 'bache', 'huele a gas', 'hola', 'talleres en Triana', 'mucho ruido']
  const msgs = texts.map((t, i) => msg(t, `b${i}`))
  const sync = msgs.map((m) => router.route(m))
  assert.deepEqual(await Promise.all(msgs.map((m) => router.routeAsync(m))), sync)
  assert.deepEqual(await router.routeBatch(msgs), sync)
  assert.deepEqual(await router.routeBatch([]), [])
})

test('routeBatch rejects with the first failure and its index; routeBatchSettled keeps going', async () => {
  const msgs = [msg('farola', 'a'), { id: 'b', channel: 'fax' }, msg('bache', 'c'), 7]
  await assert.rejects(router.routeBatch(msgs), (e) => {
    assert.equal(e.code, 'INPUT')
    assert.equal(e.index, 1)
    assert.match(e.message, /^message 1 of the batch: not a message: channel: unknown variant `fax`/)
    return true
  })
  const out = await router.routeBatchSettled(msgs)
  assert.equal(out.length, 4)
  assert.equal(out[0].department, 'alumbrado')
  assert.ok(out[1] instanceof Error)
  assert.equal(out[1].code, 'INPUT')
  assert.equal(out[1].index, 1)
  assert.equal(out[2].category, 'via_publica')
  assert.equal(out[3].code, 'INPUT')
  assert.equal(out[3].index, 3)
})

test('dryRun agrees with route', () => {
  const m = msg('farola caída con cables, peligro')
  const trace = router.dryRun(m)
  assert.deepEqual(trace.map((t) => t.id), router.ruleIds)
  const applied = trace.filter((t) => t.applies).map((t) => t.id)
  assert.deepEqual(applied, router.route(m).rules)
  const lighting = trace.find((t) => t.id === 'lighting')
  assert.deepEqual(lighting.patterns, ['farola*'])
  const gas = trace.find((t) => t.id === 'emergency-gas')
  assert.equal(gas.matches, false)
  assert.equal(typeof gas.reason, 'string')
  expectCode(assert, 'INPUT', () => router.dryRun({ id: ' ', channel: 'sms', text: 'x' }))
})

test('reload swaps the configuration; a bad reload keeps the old one', () => {
  const r = Router.fromToml(CONFIG)
  assert.equal(r.route(msg('farola')).department, 'alumbrado')
  r.reloadToml(CONFIG.replace('category.alumbrado = "alumbrado"', 'category.alumbrado = "obras"'))
  assert.equal(r.route(msg('farola')).department, 'obras')
  const e = expectCode(assert, 'CONFIG', () => r.reloadToml(CONFIG.replace('default = "010"', 'default = "nadie"')))
  assert.ok(e.issues.some((i) => i.field.includes('routing')), JSON.stringify(e.issues))
  assert.equal(r.route(msg('farola')).department, 'obras')
})

test('fromFile and reloadFile read a file and the rule files it names', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-router-'))
  const file = path.join(dir, 'router.toml')
  fs.writeFileSync(file, CONFIG)
  const r = Router.fromFile(file)
  assert.equal(r.name, 'Test line')
  fs.writeFileSync(file, CONFIG.replace('name = "Test line"', 'name = "Reloaded"'))
  r.reloadFile(file)
  assert.equal(r.name, 'Reloaded')
  fs.rmSync(dir, { recursive: true })
})

test('introspection', () => {
  assert.equal(router.name, 'Test line')
  assert.deepEqual(router.ruleIds, ['emergency-gas', 'lighting', 'pothole', 'workshops', 'danger-high', 'vague-noise'])
  assert.deepEqual(router.classifierNames, ['rules'])
  assert.equal(router.hasPlugins, false)
  assert.equal(router.departmentName('obras'), 'Vía Pública')
  assert.equal(router.departmentName('nope'), null)
  assert.match(version(), /^\d+\.\d+\.\d+/)
})

test('normalize and tokens', () => {
  assert.equal(normalize('¡La FAROLA está apagadaaaa xq!'), 'la farola esta apagada porque')
  assert.equal(router.normalize('Señal caída'), normalize('Señal caída'))
  assert.deepEqual(router.tokens('Hay un  bache'), ['hay', 'un', 'bache'])
})

test('the configuration rewrites apply to router.normalize only', () => {
  const r = Router.fromToml(CONFIG.replace('[categories]', '[text]\nrewrites = { "sevi" = "sevilla" }\n\n[categories]'))
  assert.equal(r.normalize('sevi centro'), 'sevilla centro')
  assert.equal(normalize('sevi centro'), 'sevi centro')
})
