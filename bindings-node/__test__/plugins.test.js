// JavaScript classifier plug-ins joined into the Rust pipeline through ThreadsafeFunctions.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const { Router } = require('..')
const { CONFIG, msg, expectCode, expectReject } = require('./fixtures')

const base = Router.fromToml(CONFIG)

test('a function fills what the rules leave open, and gets the context', async () => {
  const seen = []
  const r = base.withClassifier(function greeting(ctx) {
    seen.push(ctx)
    if (ctx.tokens.includes('hola')) return { intent: 'other', category: 'general', confidence: 0.8, tags: ['saludo'] }
    return null
  })
  assert.deepEqual(r.classifierNames, ['rules', 'greeting'])
  assert.equal(r.hasPlugins, true)
  const d = await r.routeAsync(msg('Hola, una farola en Triana', 'p1', 'sms', { received_at: '2026-11-27T10:00:00Z' }))
  assert.equal(d.category, 'alumbrado') // the rules decided first
  assert.deepEqual(d.tags, ['saludo']) // tags accumulate
  const trace = d.explanation.classifiers.find((c) => c.classifier === 'greeting')
  assert.deepEqual(trace.output.tags, ['saludo'])
  assert.deepEqual(trace.applied, []) // intent and category were already decided
  const ctx = seen[0]
  assert.equal(ctx.message.id, 'p1')
  assert.equal(ctx.message.channel, 'sms')
  assert.equal(ctx.text, 'hola una farola en triana')
  assert.deepEqual(ctx.tokens, ['hola', 'una', 'farola', 'en', 'triana'])
  assert.equal(ctx.district, 'triana')
  assert.equal(ctx.local_time, '2026-11-27T11:00:00') // Europe/Madrid
  const other = await r.routeAsync(msg('hola buenas'))
  assert.deepEqual([other.intent, other.category, other.confidence], ['other', 'general', 0.8])
})

test('an async function (a Promise) works the same', async () => {
  const r = base.withClassifier(async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return ctx.tokens.includes('padron') ? { intent: 'information', category: 'general', confidence: 0.7 } : undefined
  }, { name: 'padron' })
  const d = await r.routeAsync(msg('quiero el certificado de padron'))
  assert.deepEqual([d.intent, d.category], ['information', 'general'])
  assert.deepEqual(d.explanation.classifiers.map((c) => c.classifier), ['rules', 'padron'])
  assert.equal((await r.routeAsync(msg('hola'))).intent, 'other')
})

test('first: true runs the plug-in before the rules, and its answer wins', async () => {
  const r = base.withClassifier(() => ({ intent: 'incident', category: 'via_publica', confidence: 0.95 }), { first: true, name: 'model' })
  assert.deepEqual(r.classifierNames, ['model', 'rules'])
  const d = await r.routeAsync(msg('farola apagada'))
  assert.equal(d.category, 'via_publica')
  assert.equal(d.department, 'obras')
})

test('plug-ins chain, and reload keeps them', async () => {
  const r = base.withClassifier(() => ({ tags: ['a'] }), { name: 'a' }).withClassifier(() => ({ tags: ['b'] }), { name: 'b' })
  assert.deepEqual(r.classifierNames, ['rules', 'a', 'b'])
  r.reloadToml(CONFIG.replace('name = "Test line"', 'name = "Reloaded"'))
  assert.equal(r.name, 'Reloaded')
  assert.deepEqual(r.classifierNames, ['rules', 'a', 'b'])
  assert.deepEqual((await r.routeAsync(msg('farola'))).tags, ['a', 'b'])
  assert.deepEqual(base.classifierNames, ['rules']) // withClassifier returned new routers
})

test('sync route with a plug-in is PLUGIN_REQUIRES_ASYNC; dryRun still works', () => {
  let called = false
  const r = base.withClassifier(() => {
    called = true
  })
  const e = expectCode(assert, 'PLUGIN_REQUIRES_ASYNC', () => r.route(msg('farola')))
  assert.match(e.message, /routeAsync/)
  assert.equal(called, false)
  assert.ok(r.dryRun(msg('farola')).some((t) => t.applies))
})

test('a throw in a plug-in rejects with CLASSIFIER; the thrown error, stack and all, is the cause', async () => {
  class PluginBug extends Error {}
  const r = base.withClassifier(function broken() {
    throw new PluginBug('model not loaded')
  })
  const e = await expectReject(assert, 'CLASSIFIER', r.routeAsync(msg('farola')))
  assert.equal(e.classifier, 'broken')
  assert.match(e.message, /^classifier `broken` failed: threw: model not loaded/)
  assert.ok(e.cause instanceof PluginBug)
  assert.equal(e.cause.message, 'model not loaded')
  assert.match(e.cause.stack, /plugins\.test\.js/)
})

test('a rejection in a plug-in rejects with CLASSIFIER and the rejection as the cause', async () => {
  const err = new TypeError('upstream 503')
  const r = base.withClassifier(async () => {
    throw err
  }, { name: 'remote' })
  const e = await expectReject(assert, 'CLASSIFIER', r.routeAsync(msg('farola')))
  assert.equal(e.cause, err)
  assert.match(e.message, /classifier `remote` failed: rejected: upstream 503/)
  // non-Error throws and rejections are kept as they are
  const s = await expectReject(assert, 'CLASSIFIER', base.withClassifier(() => Promise.reject('just a string')).routeAsync(msg('x')))
  assert.equal(s.cause, 'just a string')
  const n = await expectReject(assert, 'CLASSIFIER', base.withClassifier(() => {
    throw 42 // eslint-disable-line no-throw-literal
  }).routeAsync(msg('x')))
  assert.equal(n.cause, 42)
  // and in a batch
  await expectReject(assert, 'CLASSIFIER', r.routeBatch([msg('farola')]))
})

test('garbage from a plug-in is a CLASSIFIER error naming what is wrong', async () => {
  const cases = [
    [{ intnet: 'incident' }, /unknown field `intnet`/],
    [{ intent: 'complaint' }, /intent: unknown variant `complaint`/],
    [{ confidence: 1.5 }, /confidence 1.5 is not between 0 and 1/],
    ['incident', /invalid type: string/],
    [[1, 2], /invalid type/],
    [{ tags: 'a' }, /tags: invalid type/],
  ]
  for (const [out, reason] of cases) {
    const e = await expectReject(assert, 'CLASSIFIER', base.withClassifier(() => out, { name: 'junk' }).routeAsync(msg('farola')))
    assert.match(e.message, reason)
    assert.equal(e.classifier, 'junk')
  }
})

test('routeBatch calls the plug-in from several threads, each call on the JS thread', async () => {
  let calls = 0
  const r = base.withClassifier(async (ctx) => {
    calls++
    await new Promise((resolve) => setImmediate(resolve))
    return { tags: [ctx.message.id] }
  })
  const msgs = Array.from({ length: 200 }, (_, i) => msg(i % 2 ? 'farola' : 'bache', `m${i}`))
  const out = await r.routeBatch(msgs)
  assert.equal(calls, 200)
  out.forEach((d, i) => {
    assert.equal(d.id, `m${i}`)
    assert.ok(d.tags.includes(`m${i}`))
  })
})

test('a router with a plug-in does not keep Node alive (weak ThreadsafeFunction)', () => {
  const script = `
    const { Router } = require(${JSON.stringify(path.resolve(__dirname, '..'))})
    const { CONFIG } = require(${JSON.stringify(path.join(__dirname, 'fixtures.js'))})
    globalThis.keep = Router.fromToml(CONFIG).withClassifier(() => null)
    globalThis.keep.routeAsync({ id: 'a', channel: 'sms', text: 'farola' }).then((d) => console.log(d.department))
  `
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(run.signal, null, 'node hung: the plug-in kept the event loop alive')
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout, 'alumbrado\n')
})
