// A TypeScript example, checked by `tsc --noEmit` against index.d.ts (npm run typecheck):
// route a few messages from the Seville example, with a classifier plug-in, and print why.
//
//     npx tsc -p . && node examples/route.js     (or run it with any TypeScript runner)
import * as path from 'node:path'

import { Model, Router, normalize } from '..'
import type {
  CivicRouterError,
  Classification,
  CorpusRecord,
  Decision,
  Evaluation,
  Message,
  PluginContext,
  Prediction,
} from '..'

const config = path.resolve(__dirname, '..', '..', 'examples', 'sevilla', 'router.toml')

/** A plug-in: greetings are `other`, the rules decide the rest. */
function greetings(ctx: PluginContext): Classification | null {
  return ctx.tokens.includes('hola') && ctx.tokens.length <= 3
    ? { intent: 'other', category: 'general', confidence: 0.6 }
    : null
}

function explain(d: Decision): string {
  const why = d.explanation.rules.map((r) => `${r.id} (${r.patterns.join(', ')})`).join('; ')
  return `${d.id}: ${d.intent}/${d.category} -> ${d.department_name} [${d.explanation.route.entry}] ${why}`
}

async function main(): Promise<void> {
  const router: Router = Router.fromFile(config).withClassifier(greetings, { name: 'greetings' })
  const messages: Message[] = [
    { id: 'ts-1', channel: 'whatsapp', text: 'La farola de la calle Feria lleva tres días apagada' },
    { id: 'ts-2', channel: 'sms', text: 'hola buenas' },
    { id: 'ts-3', channel: 'app', attachments: [{ kind: 'image', caption: 'contenedor lleno en Triana' }] },
  ]
  for (const d of await router.routeBatch(messages)) console.log(explain(d))
  try {
    router.route(messages[0]) // a router with a JS plug-in only routes asynchronously
  } catch (e) {
    const err = e as CivicRouterError
    console.log(`route: ${err.code}`)
  }
  const settled = await router.routeBatchSettled([...messages, { id: '', channel: 'web' }])
  for (const r of settled) console.log(r instanceof Error ? `error ${r.code} at ${r.index}` : r.department)
  console.log(normalize('¡Q farola más rotaaa!'))

  // the statistical classifier: train on labelled records (or a JSON Lines path), predict, score
  const labelled: CorpusRecord[] = [
    { id: 'c1', channel: 'sms', text: 'farola apagada', intent: 'incident', category: 'alumbrado' },
    { id: 'c2', channel: 'sms', text: 'la farola no luce', intent: 'incident', category: 'alumbrado' },
    { id: 'c3', channel: 'web', text: 'horario del registro', intent: 'information', category: 'tramites' },
    { id: 'c4', channel: 'web', text: 'cuando abre el registro', intent: 'information', category: 'tramites' },
  ]
  const model: Model = await Model.train(labelled, { minCount: 1, seed: 1 })
  const p: Prediction = model.predict('farola sin luz', 'whatsapp')
  const features = p.category.top_features.map(([f]) => f).join(' ')
  console.log(`${p.category.label} ${p.category.probability.toFixed(2)} (${features}); ${model.featureCount} features`)
  const ev: Evaluation = await Router.fromFile(config).evaluate(labelled)
  console.log(`category accuracy ${ev.category_accuracy}`)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
