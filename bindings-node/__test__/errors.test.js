// Bad inputs and failures: every one is an `Error` with a stable `code`, and none can abort Node.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const native = require('..')
const { Router } = native
const { CONFIG, msg, expectCode, expectReject } = require('./fixtures')

const router = Router.fromToml(CONFIG)

test('a value that is not a message is an INPUT error, sync and async', async () => {
  for (const bad of [undefined, null, 3, 'farola', true, [], [msg('farola')], () => {}, Symbol('x'), 10n]) {
    const e = expectCode(assert, 'INPUT', () => router.route(bad))
    assert.match(e.message, /^not a message: expected an object like \{id, channel, text\}, got /)
    await expectReject(assert, 'INPUT', router.routeAsync(bad))
  }
  // no argument at all
  expectCode(assert, 'INPUT', () => router.route())
})

test('a malformed message is an INPUT error naming the field', () => {
  const cases = [
    [{ channel: 'sms', text: 'x' }, /missing field `id`/],
    [{ id: 'a', text: 'x' }, /missing field `channel`/],
    [{ id: 3, channel: 'sms' }, /^not a message: id: invalid type: integer `3`, expected a string/],
    [{ id: 'a', channel: 'fax' }, /channel: unknown variant `fax`/],
    [{ id: 'a', channel: 'sms', text: 42 }, /text: invalid type/],
    [{ id: 'a', channel: 'sms', colour: 'red' }, /unknown field `colour`/],
    [{ id: 'a', channel: 'sms', contact: { phone: 600 } }, /contact.phone: invalid type/],
    [{ id: 'a', channel: 'sms', received_at: 'yesterday' }, /received_at/],
    [{ id: 'a', channel: 'sms', location: { lat: 'north' } }, /location.lat/],
    [{ id: 'a', channel: 'sms', attachments: [{ caption: 'x' }] }, /attachments\[0\]: missing field `kind`/],
    [{ id: 'a', channel: 'sms', metadata: { f: () => 1 } }, /functions cannot be represented/],
  ]
  for (const [bad, reason] of cases) {
    const e = expectCode(assert, 'INPUT', () => router.route(bad))
    assert.match(e.message, reason)
  }
})

test('a missing or blank id is an INPUT error', () => {
  for (const id of ['', '   ']) {
    const e = expectCode(assert, 'INPUT', () => router.route({ id, channel: 'sms', text: 'farola' }))
    assert.equal(e.message, 'a message needs a non-empty id')
  }
})

test('a huge text is an INPUT error, not a crash', async () => {
  const huge = 'farola '.repeat(3_000_000) // 21 MB
  const e = expectCode(assert, 'INPUT', () => router.route(msg(huge, 'big')))
  assert.match(e.message, /^message `big`: text is 21000000 bytes; the limit is \d+$/)
  await expectReject(assert, 'INPUT', router.routeAsync(msg(huge, 'big')))
  const [out] = await router.routeBatchSettled([msg(huge, 'big')])
  assert.equal(out.code, 'INPUT')
  // a huge caption counts too
  expectCode(assert, 'INPUT', () => router.route({ id: 'c', channel: 'app', attachments: [{ kind: 'image', caption: huge }] }))
})

test('lone surrogates in the text are routed (replaced), not a crash', () => {
  const d = router.route(msg('farola \ud800 apagada'))
  assert.equal(d.category, 'alumbrado')
})

test('deeply nested or cyclic metadata is refused, not a stack overflow', () => {
  let deep = {}
  const top = deep
  for (let i = 0; i < 100_000; i++) deep = deep.x = {}
  let e = expectCode(assert, 'INPUT', () => router.route(msg('farola', 'd', 'sms', { metadata: top })))
  assert.match(e.message, /depth/)
  const cyclic = { a: 1 }
  cyclic.self = cyclic
  e = expectCode(assert, 'INPUT', () => router.route(msg('farola', 'd', 'sms', { metadata: cyclic })))
  assert.match(e.message, /depth/)
})

test('a getter that throws inside a message is an INPUT error, not a crash', () => {
  const m = msg('farola')
  Object.defineProperty(m, 'text', { enumerable: true, get() { throw new Error('getter boom') } })
  const e = expectCode(assert, 'INPUT', () => router.route(m))
  assert.match(e.message, /^not a message: .*`text`/)
  assert.equal(router.route(msg('farola')).department, 'alumbrado')
})

test('configuration refusals are CONFIG errors listing every issue', () => {
  let e = expectCode(assert, 'CONFIG', () => Router.fromToml('[router]\nname = 3\n'))
  assert.deepEqual(e.issues.map((i) => i.field), ['router.name'])
  assert.match(e.message, /^invalid configuration \(1 problem\)\n  - <string>: router.name: /)
  const bad = CONFIG.replace('default = "010"', 'default = "nadie"').replace("['farola*'", "['farola*'").replace(
    'when.any_words = ["bache*", "socavon"]',
    'when.any_text = ["(unclosed"]',
  )
  e = expectCode(assert, 'CONFIG', () => Router.fromToml(bad))
  assert.ok(e.issues.length >= 2, JSON.stringify(e.issues))
  assert.ok(e.issues.some((i) => i.field.startsWith('rule `pothole`')), JSON.stringify(e.issues))
  for (const i of e.issues) assert.deepEqual(Object.keys(i).sort(), ['field', 'file', 'reason'])
  e = expectCode(assert, 'CONFIG', () => Router.fromFile(path.join(__dirname, 'no-such-file.toml')))
  assert.match(e.message, /no-such-file\.toml/)
})

test('arguments of the wrong type are INVALID_ARG', () => {
  for (const bad of [undefined, null, 42, {}, ['x']]) {
    expectCode(assert, 'INVALID_ARG', () => Router.fromToml(bad))
    expectCode(assert, 'INVALID_ARG', () => Router.fromFile(bad))
    expectCode(assert, 'INVALID_ARG', () => router.reloadToml(bad))
    expectCode(assert, 'INVALID_ARG', () => router.normalize(bad))
    expectCode(assert, 'INVALID_ARG', () => native.normalize(bad))
    expectCode(assert, 'INVALID_ARG', () => router.withClassifier(bad))
  }
  expectCode(assert, 'INVALID_ARG', () => router.withClassifier(() => null, 'first'))
  const e = expectCode(assert, 'INVALID_ARG', () => router.withClassifier(() => null, { frist: true }))
  assert.match(e.message, /unknown field `frist`/)
})

test('routeBatch needs an array', async () => {
  for (const bad of [undefined, null, 'x', { length: 1, 0: msg('farola') }]) {
    await expectReject(assert, 'INVALID_ARG', router.routeBatch(bad))
    await expectReject(assert, 'INVALID_ARG', router.routeBatchSettled(bad))
  }
})

test('a panic is an INTERNAL Error and the process lives on', async () => {
  const e = expectCode(assert, 'INTERNAL', () => native.__panicForTesting('sync'))
  assert.match(e.message, /^internal error \(a bug in civic-router, please report it\): deliberate panic \(sync\)/)
  const r = await expectReject(assert, 'INTERNAL', native.__panicForTesting('async'))
  assert.match(r.message, /deliberate panic \(async\)/)
  // and the module still works
  assert.equal(router.route(msg('farola')).department, 'alumbrado')
  assert.equal((await router.routeAsync(msg('bache'))).category, 'via_publica')
})

test('a panic does not abort a fresh Node process either (exit code 0, output after it)', () => {
  const script = `
    const n = require(${JSON.stringify(path.resolve(__dirname, '..'))})
    try { n.__panicForTesting('sync') } catch (e) { console.log('caught', e.code) }
    n.__panicForTesting('async').catch((e) => console.log('rejected', e.code)).then(() => console.log('alive'))
  `
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, RUST_BACKTRACE: '0' }, timeout: 30_000 })
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout, 'caught INTERNAL\nrejected INTERNAL\nalive\n')
})

test('every error is an Error with a string code and the core message', () => {
  const e = expectCode(assert, 'INPUT', () => router.route({ id: 'x' }))
  assert.equal(e.name, 'Error')
  assert.equal(typeof e.stack, 'string')
  assert.equal(e.message, 'not a message: missing field `channel`')
})
