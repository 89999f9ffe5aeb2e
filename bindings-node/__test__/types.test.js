// The data interfaces of index.d.ts (from src/wire-types.d.ts) describe what the module really
// returns: every key of a real decision, explanation, trace and error is declared, and every
// required key is present. Catches drift between the core's serde format and the declarations.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const os = require('node:os')
const { Model, Router, crossValidate } = require('..')
const { CONFIG, msg } = require('./fixtures')

const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')

/** The keys of `interface name { … }`: { all, required }. */
function declared(name) {
  const m = dts.match(new RegExp(`export interface ${name}(?: extends \\w+)? \\{([\\s\\S]*?)\\n\\}`))
  assert.ok(m, `interface ${name} not in index.d.ts`)
  const all = new Set()
  const required = new Set()
  for (const line of m[1].split('\n')) {
    const k = line.match(/^ {2}(\w+)(\?)?:/)
    if (!k) continue
    all.add(k[1])
    if (!k[2]) required.add(k[1])
  }
  return { all, required }
}

function check(name, value) {
  const { all, required } = declared(name)
  for (const k of Object.keys(value)) assert.ok(all.has(k), `${name}.${k} is returned but not declared`)
  for (const k of required) assert.ok(k in value, `${name}.${k} is declared required but missing`)
}

test('a decision and its explanation match the declarations', async () => {
  const router = Router.fromToml(CONFIG).withClassifier(() => ({ tags: ['t'], evidence: [{ source: 's', detail: ['d'] }] }), { name: 'p' })
  const d = await router.routeAsync(msg('farola caída con cables, peligro, en el Tardón', 'm1', 'sms', { received_at: '2026-11-28T23:00:00+01:00' }))
  check('Decision', d)
  check('Explanation', d.explanation)
  check('RouteTrace', d.explanation.route)
  check('DistrictMatch', d.explanation.district)
  for (const r of d.explanation.rules) check('FiredRule', r)
  for (const c of d.explanation.classifiers) {
    check('ClassifierTrace', c)
    if (c.output) check('Classification', c.output)
  }
  for (const t of Router.fromToml(CONFIG).dryRun(msg('farola'))) check('RuleTrace', t)
})

test('a CONFIG error matches the declarations', () => {
  try {
    Router.fromToml('[router]\nname = 3\n')
    assert.fail('no error')
  } catch (e) {
    for (const i of e.issues) check('ConfigIssue', i)
    assert.ok(dts.includes(`| '${e.code}'`))
  }
})

/** `check` for `interface name extends parent`: the parent's keys count too. */
function checkExtends(name, parent, value) {
  const own = declared(name)
  const inherited = declared(parent)
  for (const k of Object.keys(value)) {
    assert.ok(own.all.has(k) || inherited.all.has(k), `${name}.${k} is returned but not declared`)
  }
  for (const k of [...own.required, ...inherited.required]) assert.ok(k in value, `${name}.${k} is declared required but missing`)
}

test('a prediction, an evaluation, a cross-validation and a MODEL error match the declarations', async () => {
  const records = []
  for (const [text, intent, category] of [
    ['farola apagada', 'incident', 'alumbrado'],
    ['la farola no luce', 'incident', 'alumbrado'],
    ['talleres de verano', 'information', 'actividades'],
    ['cursos y talleres', 'information', 'actividades'],
  ]) {
    for (let i = 0; i < 2; i++) records.push({ id: `r${records.length}`, channel: 'sms', text, intent, category })
  }
  for (const r of records) checkExtends('CorpusRecord', 'Message', r)
  const model = await Model.train(records, { minCount: 1 })
  const p = model.predict('farola', 'sms')
  check('Prediction', p)
  check('Scored', p.intent)
  check('Scored', p.category)
  const ev = await Router.fromToml(CONFIG).evaluate(records)
  check('Evaluation', ev)
  for (const s of Object.values(ev.category)) check('ClassScore', s)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-types-'))
  fs.writeFileSync(path.join(dir, 'router.toml'), CONFIG)
  const cv = await crossValidate(path.join(dir, 'router.toml'), records, { k: 2 })
  checkExtends('CrossValidation', 'Evaluation', cv)
  fs.rmSync(dir, { recursive: true, force: true })
  try {
    Model.fromJson('{}')
    assert.fail('no error')
  } catch (e) {
    assert.equal(e.code, 'MODEL')
    assert.ok(dts.includes(`| '${e.code}'`))
  }
})
