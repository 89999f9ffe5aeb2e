#!/usr/bin/env node
// civic-router from Node: `route` one message at a time, against the same rules run as the
// JavaScript `RegExp` loop a municipal service writes by hand (every pattern of every rule tried
// on every message), and `routeBatch` scaling with cores.
//
//     cd bindings-node && npm install && npm run build && cd .. && node benches/node/bench-route.js
//
// The rules are synthetic and generated here, deterministically (the generator of
// benches/python/bench_route.py, with a seeded PRNG): 100 rules over Spanish citizen vocabulary,
// each with two word patterns and one regex (300 patterns), in all-match mode so both sides
// report every rule that matches; 20,000 synthetic citizen messages of 15–30 words, about 60%
// naming something a rule knows. Before timing, the script checks that both sides find the same
// rules on the messages. `routeBatch` is timed in child processes with RAYON_NUM_THREADS = 1, 2,
// … up to the number of cores (rayon reads it once, when its pool starts).
//
// Options: --seville also times route() on the Seville configuration's sample messages.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const { Router } = require('../../bindings-node')

const TOPICS = `farola alumbrado bache socavon acera contenedor basura colchon ruido botellon fuga tuberia
alcantarilla arbol poda parque banco columpio semaforo senal trafico autobus parada grafiti pintada
excremento perro rata cucaracha plaga andamio zanja humo olor inundacion charco atasco aparcamiento
grua multa padron cita certificado impuesto recibo tasa licencia ayuda dependencia comedor taller
curso biblioteca piscina polideportivo mercado cementerio fuente papelera escombro vertido mosquito
paloma jardin cesped riego aspersor bordillo asfalto pavimento baldosa rampa escalera ascensor portal
tapa registro cable poste antena toldo terraza velador musica fiesta obra camion furgoneta moto
bicicleta carril patinete taxi metro tranvia peaton paso vado reserva bono empadronamiento vivienda
alquiler desahucio mayores menores violencia`.split(/\s+/)
const QUALIFIERS = 'roto rota caido caida sucio sucia lleno llena apagado apagada atascado levantado suelto abandonado quemado peligroso'.split(' ')
const FILLER = `hola buenas tardes mire le escribo porque en mi calle desde hace dias hay un problema que nadie
arregla y los vecinos estamos hartos de llamar al ayuntamiento por favor pueden venir a verlo cuanto
antes gracias esta mañana según me dijeron en el distrito tenía que mandar un mensaje con la dirección
exacta está al lado del colegio junto a la plaza enfrente de la farmacia`.split(/\s+/)

const N_RULES = 100
const N_MESSAGES = 20_000

/** mulberry32: a small seeded PRNG, so every run sees the same rules and messages. */
function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1))
  const choice = (xs) => xs[Math.floor(next() * xs.length)]
  const sample = (xs, k) => {
    const pool = [...xs]
    const out = []
    for (let i = 0; i < k; i++) out.push(pool.splice(Math.floor(next() * pool.length), 1)[0])
    return out
  }
  return { next, int, choice, sample }
}

function makeRules(seed = 7) {
  const r = rng(seed)
  return Array.from({ length: N_RULES }, (_, i) => {
    const [a, b, c] = r.sample(TOPICS, 3)
    const q = r.choice(QUALIFIERS)
    return { id: `r${String(i).padStart(3, '0')}`, words: [`${a}*`, b], regex: `\\b${c}s? (esta |estan )?${q}`, c, q, category: `c${i % 10}` }
  })
}

function makeMessages(rules, seed = 11) {
  const r = rng(seed)
  const channels = ['whatsapp', 'sms', 'app', 'web', 'voice']
  return Array.from({ length: N_MESSAGES }, (_, i) => {
    const words = Array.from({ length: r.int(15, 30) }, () => r.choice(FILLER))
    if (r.next() < 0.6) {
      const rule = r.choice(rules)
      const kind = r.int(0, 2)
      const hit = kind === 0 ? rule.words[0].slice(0, -1) + r.choice(['', 's', 'es']) : kind === 1 ? rule.words[1] : `${rule.c} esta ${rule.q}`
      words.splice(r.int(0, words.length), 0, r.next() < 0.3 ? hit[0].toUpperCase() + hit.slice(1) : hit)
    }
    return { id: `m${i}`, channel: r.choice(channels), text: words.join(' ') }
  })
}

function configToml(rules) {
  const lines = ['[router]', 'name = "bench"', 'mode = "all_match"', '', '[categories]', 'general = "General"']
  for (let k = 0; k < 10; k++) lines.push(`c${k} = "Category ${k}"`)
  lines.push('', '[[department]]', 'id = "d0"', 'name = "Default"', '', '[routing]', 'default = "d0"', '')
  for (const r of rules) {
    lines.push('[[rule]]', `id = "${r.id}"`, `when.any = [{ any_words = ${JSON.stringify(r.words)} }, { any_text = [${JSON.stringify(r.regex)}] }]`, `then = { intent = "incident", category = "${r.category}" }`, '')
  }
  return lines.join('\n')
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The hand-written service: fold the text, try every pattern of every rule. */
class RegExpLoop {
  constructor(rules) {
    this.rules = rules.map((r) => [
      r.id,
      [
        ...r.words.map((w) => (w.endsWith('*') ? new RegExp(`\\b${escapeRe(w.slice(0, -1))}\\w*`, 'i') : new RegExp(`\\b${escapeRe(w)}\\b`, 'i'))),
        new RegExp(r.regex, 'i'),
      ],
    ])
  }
  route(text) {
    // what a careful hand-written service also does: fold accents so "tubería" meets "tuberia"
    const t = text.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '')
    const fired = []
    for (const [id, pats] of this.rules) {
      let hit = false
      for (const p of pats) if (p.test(t)) hit = true // every pattern is tried: a service wants every hit for its log
      if (hit) fired.push(id)
    }
    return fired
  }
}

/** Messages per second of `fn` (which handles `n` messages), best of repeated runs. */
function rate(n, fn, minSeconds = 1) {
  let best = Infinity
  let total = 0
  let runs = 0
  while (total < minSeconds || runs < 3) {
    const t0 = process.hrtime.bigint()
    fn()
    const dt = Number(process.hrtime.bigint() - t0) / 1e9
    best = Math.min(best, dt)
    total += dt
    runs++
  }
  return n / best
}

async function rateAsync(n, fn, minSeconds = 2) {
  let best = Infinity
  let total = 0
  let runs = 0
  while (total < minSeconds || runs < 3) {
    const t0 = process.hrtime.bigint()
    await fn()
    const dt = Number(process.hrtime.bigint() - t0) / 1e9
    best = Math.min(best, dt)
    total += dt
    runs++
  }
  return n / best
}

async function batchChild() {
  const rules = makeRules()
  const msgs = makeMessages(rules)
  const router = Router.fromToml(configToml(rules))
  await router.routeBatch(msgs.slice(0, 1000)) // start the pool
  const r = await rateAsync(msgs.length, () => router.routeBatch(msgs))
  process.stdout.write(JSON.stringify({ threads: Number(process.env.RAYON_NUM_THREADS), rate: r }) + '\n')
}

const fmt = (x) => Math.round(x).toLocaleString('en-US')

async function main() {
  if (process.argv.includes('--batch-child')) return batchChild()
  const rules = makeRules()
  const msgs = makeMessages(rules)
  const router = Router.fromToml(configToml(rules))
  const loop = new RegExpLoop(rules)
  const nPatterns = loop.rules.reduce((s, [, p]) => s + p.length, 0)

  let agree = 0
  for (const m of msgs) if (JSON.stringify(loop.route(m.text)) === JSON.stringify(router.route(m).rules)) agree++
  console.log(`${rules.length} rules, ${nPatterns} patterns, ${msgs.length} messages; the two sides find the same rules on ${agree}/${msgs.length} messages`)
  if (agree < 0.99 * msgs.length) {
    console.error('error: the RegExp loop and civic-router disagree; the comparison would be unfair')
    process.exit(1)
  }

  const texts = msgs.map((m) => m.text)
  const reRate = rate(texts.length, () => { for (const t of texts) loop.route(t) })
  const routeRate = rate(msgs.length, () => { for (const m of msgs) router.route(m) })
  const routeRead = rate(msgs.length, () => { for (const m of msgs) router.route(m).department })
  const asyncRate = await rateAsync(msgs.length, () => Promise.all(msgs.map((m) => router.routeAsync(m))))

  const rows = [
    ['JS RegExp loop (every pattern)', reRate],
    ['route(message), one at a time', routeRate],
    ['route(message).department', routeRead],
    ['routeAsync, 20,000 in flight', asyncRate],
  ]
  console.log(`${''.padEnd(36)}${'msg/s'.padStart(12)}${'× RegExp'.padStart(12)}`)
  for (const [name, r] of rows) console.log(`${name.padEnd(36)}${fmt(r).padStart(12)}${(r / reRate).toFixed(1).padStart(12)}`)

  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length
  let base = null
  for (let threads = 1; threads <= cores; threads++) {
    const run = spawnSync(process.execPath, [__filename, '--batch-child'], { env: { ...process.env, RAYON_NUM_THREADS: String(threads) }, encoding: 'utf8' })
    if (run.status !== 0) throw new Error(run.stderr)
    const { rate: r } = JSON.parse(run.stdout)
    base = base ?? r
    const name = `routeBatch, ${threads} thread${threads > 1 ? 's' : ''}`
    console.log(`${name.padEnd(36)}${fmt(r).padStart(12)}${(r / reRate).toFixed(1).padStart(12)}   (${(r / base).toFixed(2)}× one thread)`)
  }

  if (process.argv.includes('--seville')) {
    const repo = path.resolve(__dirname, '..', '..')
    const file = path.join(repo, 'examples', 'sevilla', 'messages.jsonl')
    if (fs.existsSync(file)) {
      const seville = Router.fromFile(path.join(repo, 'examples', 'sevilla', 'router.toml'))
      const sample = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
      const r = rate(sample.length, () => { for (const m of sample) seville.route(m) })
      console.log(`Seville configuration (${seville.ruleIds.length} rules), ${sample.length} sample messages: route() ${fmt(r)} msg/s`)
    }
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
