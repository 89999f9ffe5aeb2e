// Many routing calls in flight at once: results match the synchronous ones, in the right order.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')

const { Router } = require('..')
const { CONFIG, msg } = require('./fixtures')

const router = Router.fromToml(CONFIG)
const TEXTS = ['farola apagada', 'bache en la SE-30', 'huele a gas', 'hola', 'talleres en el Tardón', 'mucho ruido', 'cable suelto, peligro']

test('1,000 concurrent routeAsync calls resolve to what route says', async () => {
  const msgs = Array.from({ length: 1000 }, (_, i) => msg(TEXTS[i % TEXTS.length], `c${i}`))
  const expected = msgs.map((m) => router.route(m))
  const got = await Promise.all(msgs.map((m) => router.routeAsync(m)))
  assert.deepEqual(got, expected)
})

test('1,000 concurrent routeAsync calls with an async plug-in', async () => {
  let calls = 0
  let inFlight = 0
  let peak = 0
  const r = router.withClassifier(async (ctx) => {
    calls++
    inFlight++
    peak = Math.max(peak, inFlight)
    await new Promise((resolve) => setTimeout(resolve, 1))
    inFlight--
    return { tags: [ctx.message.id] }
  })
  const msgs = Array.from({ length: 1000 }, (_, i) => msg(TEXTS[i % TEXTS.length], `p${i}`))
  const got = await Promise.all(msgs.map((m) => r.routeAsync(m)))
  got.forEach((d, i) => {
    assert.equal(d.id, `p${i}`)
    // an emergency rule stops the chain: the plug-in is not asked
    if (d.intent !== 'emergency') assert.ok(d.tags.includes(`p${i}`), JSON.stringify(d.tags))
    assert.equal(d.department, router.route(msgs[i]).department)
  })
  assert.equal(calls, got.filter((d) => d.intent !== 'emergency').length)
  assert.ok(peak > 1, `the plug-in calls never overlapped (peak ${peak})`)
})

test('routing goes on while another call reloads the configuration', async () => {
  const r = Router.fromToml(CONFIG)
  const other = CONFIG.replace('category.alumbrado = "alumbrado"', 'category.alumbrado = "obras"')
  const pending = []
  for (let i = 0; i < 200; i++) {
    pending.push(r.routeAsync(msg('farola', `r${i}`)))
    if (i % 20 === 0) r.reloadToml(i % 40 === 0 ? other : CONFIG)
  }
  for (const d of await Promise.all(pending)) assert.ok(['alumbrado', 'obras'].includes(d.department), d.department)
})
