// The same hand-written loop in Node: every pattern, compiled once as a RegExp, tried on every
// message. Prints one JSON line (see run.sh).
"use strict";
const fs = require("fs");
const path = require("path");

const [dir, secondsArg, checkArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const check = Number(checkArg);
const patterns = JSON.parse(fs.readFileSync(path.join(dir, "patterns.json"), "utf8"));
const texts = fs.readFileSync(path.join(dir, "normalized.txt"), "utf8").split("\n");
if (texts.length && texts[texts.length - 1] === "") texts.pop();
const compiled = patterns.map((p) => new RegExp(p));

function hits(text) {
  let n = 0;
  for (const r of compiled) if (r.test(text)) n++;
  return n;
}

let done = 0;
let checked = 0;
const start = process.hrtime.bigint();
const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
outer: for (;;) {
  for (let i = 0; i < texts.length; i++) {
    const r = hits(texts[i]);
    if (done + i < check) checked += r;
    if ((i & 63) === 63 && done + i + 1 >= check && elapsed() >= seconds) {
      done += i + 1;
      break outer;
    }
  }
  done += texts.length;
  if (done >= check && elapsed() >= seconds) break;
}
console.log(JSON.stringify({ engine: "node-regexp-loop", msgs_per_sec: done / elapsed(),
  hits_first_k: checked, k: check, patterns: patterns.length }));
