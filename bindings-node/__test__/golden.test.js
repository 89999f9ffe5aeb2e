// The golden routing corpus (tests/data/routing/*.jsonl), read by the Rust integration tests, by
// pytest and here, so Rust, Python and Node route identically. One test per case; the file's
// absence is a skip, not a pass (the inline-config suites always run).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { Router } = require('..')
const { REPO_ROOT } = require('./fixtures')

const DIR = path.join(REPO_ROOT, 'tests', 'data', 'routing')

/** Every case of every corpus file, with where it came from. */
function readCases() {
  if (!fs.existsSync(DIR)) return []
  const cases = []
  for (const file of fs.readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).sort()) {
    const lines = fs.readFileSync(path.join(DIR, file), 'utf8').split('\n')
    lines.forEach((line, i) => {
      if (!line.trim()) return
      cases.push({ at: `${file}:${i + 1}`, ...JSON.parse(line) })
    })
  }
  return cases
}

const cases = readCases()
const routers = new Map()
const routerFor = (config) => {
  if (!routers.has(config)) routers.set(config, Router.fromFile(path.join(REPO_ROOT, config)))
  return routers.get(config)
}

test('the corpus reader reads the format', { skip: cases.length === 0 && 'no tests/data/routing/*.jsonl yet' }, () => {
  for (const c of cases) {
    assert.equal(typeof c.name, 'string', c.at)
    assert.equal(typeof c.config, 'string', c.at)
    assert.equal(typeof c.message, 'object', c.at)
    for (const k of ['intent', 'category', 'department', 'district']) assert.ok(k in c.expect, `${c.at}: expect.${k}`)
  }
})

for (const c of cases) {
  test(`golden ${c.at} ${c.name}`, () => {
    const d = routerFor(c.config).route(c.message)
    const e = c.expect
    assert.deepEqual(
      { intent: d.intent, category: d.category, department: d.department, district: d.district },
      { intent: e.intent, category: e.category, department: e.department, district: e.district },
    )
    if (e.route !== undefined) assert.equal(d.explanation.route.entry, e.route)
    if (e.handoff !== undefined) assert.equal(d.handoff, e.handoff)
    for (const r of e.rules || []) assert.ok(d.rules.includes(r), `rule ${r} did not fire (fired: ${d.rules})`)
  })
}

test('routeBatch over the corpus agrees with route', { skip: cases.length === 0 && 'no corpus' }, async () => {
  for (const config of new Set(cases.map((c) => c.config))) {
    const r = routerFor(config)
    const msgs = cases.filter((c) => c.config === config).map((c) => c.message)
    assert.deepEqual(await r.routeBatch(msgs), msgs.map((m) => r.route(m)))
  }
})
