// The baseline a city's Node team would build: nlp.js (its NLU with the Spanish language
// package), one classifier for the intent and one for the category, trained and scored on the
// same stratified folds as civic-router.
//
// Usage: node nlpjs_baseline.js CORPUS.jsonl FOLDS.jsonl
// Prints one JSON object: accuracy, macro-F1, emergency recall, messages/second (one message
// at a time).
'use strict';
const fs = require('node:fs');
const { containerBootstrap } = require('@nlpjs/core');
const { LangEs } = require('@nlpjs/lang-es');
const { NluNeural } = require('@nlpjs/nlu');

const lines = (p) => fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

async function train(container, docs, field) {
  const nlu = new NluNeural({ locale: 'es', log: false }, container);
  const corpus = docs.map((d) => ({ utterance: d.text, intent: d[field] }));
  await nlu.train(corpus);
  return nlu;
}

function macroF1(gold, pred) {
  const classes = [...new Set(gold)];
  let sum = 0;
  for (const c of classes) {
    let tp = 0, fp = 0, fn = 0;
    gold.forEach((g, i) => {
      if (pred[i] === c && g === c) tp++;
      else if (pred[i] === c) fp++;
      else if (g === c) fn++;
    });
    const p = tp + fp ? tp / (tp + fp) : 0;
    const r = tp + fn ? tp / (tp + fn) : 0;
    sum += p + r ? (2 * p * r) / (p + r) : 0;
  }
  return sum / classes.length;
}

async function main() {
  const corpus = lines(process.argv[2]);
  const folds = new Map(lines(process.argv[3]).map((d) => [d.id, d.fold]));
  const k = Math.max(...folds.values()) + 1;
  const container = await containerBootstrap();
  container.use(LangEs);
  const gi = [], gc = [], pi = [], pc = [];
  let elapsed = 0n;
  for (let f = 0; f < k; f++) {
    const trainSet = corpus.filter((m) => folds.get(m.id) !== f);
    const test = corpus.filter((m) => folds.get(m.id) === f);
    const ni = await train(container, trainSet, 'intent');
    const nc = await train(container, trainSet, 'category');
    for (const m of test) {
      const t0 = process.hrtime.bigint();
      const ri = await ni.process(m.text);
      const rc = await nc.process(m.text);
      elapsed += process.hrtime.bigint() - t0;
      pi.push(ri.classifications[0].intent);
      pc.push(rc.classifications[0].intent);
      gi.push(m.intent);
      gc.push(m.category);
    }
  }
  const n = gi.length;
  const em = gi.map((g, i) => [g, pi[i]]).filter(([g]) => g === 'emergency');
  console.log(JSON.stringify({
    engine: 'nlp.js NluNeural (lang-es)',
    messages: n,
    intent_accuracy: gi.filter((g, i) => g === pi[i]).length / n,
    category_accuracy: gc.filter((g, i) => g === pc[i]).length / n,
    category_macro_f1: macroF1(gc, pc),
    emergency_recall: em.filter(([, p]) => p === 'emergency').length / Math.max(em.length, 1),
    messages_per_second: n / (Number(elapsed) / 1e9),
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
