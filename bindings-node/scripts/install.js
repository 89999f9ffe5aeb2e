#!/usr/bin/env node
// `npm install` hook of the civic-router package: makes sure a native module for this platform
// is present, building it from the Rust sources with cargo when it is not.
//
// A binary is present when `civic-router.<platform>.node` sits beside index.js (a previous
// build, or `npm run build` in a checkout) or a prebuilt package `civic-router-<platform>` is
// installed. Otherwise this runs `cargo build --release` on the package's own crate: in a
// checkout of the repository that is bindings-node/Cargo.toml (a workspace member); in a
// package made by `npm pack` it is vendor/node/Cargo.toml, in a standalone workspace that
// `scripts/vendor.js` wrote with a copy of the core crate. Needs only Rust (cargo) and Node.
//
// Environment: CIVIC_ROUTER_SKIP_BUILD=1 skips the build; CIVIC_ROUTER_FORCE_BUILD=1 builds
// even when a binary is present; CARGO_TARGET_DIR is honoured.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')

/** The platform part of napi's file names (`linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`). */
function platformTriple() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const report = process.report && process.report.getReport ? process.report.getReport() : null
    const glibc = report && report.header && report.header.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function log(msg) {
  process.stderr.write(`civic-router: ${msg}\n`)
}

function present(triple) {
  if (fs.existsSync(path.join(root, `civic-router.${triple}.node`))) return 'local file'
  try {
    require.resolve(`civic-router-${triple}`, { paths: [root] })
    return `package civic-router-${triple}`
  } catch {
    return null
  }
}

function build(triple) {
  const vendored = path.join(root, 'vendor', 'node', 'Cargo.toml')
  const manifest = fs.existsSync(vendored) ? vendored : path.join(root, 'Cargo.toml')
  const args = [
    'build',
    '--release',
    '--lib',
    '--manifest-path',
    manifest,
    '--message-format=json-render-diagnostics',
  ]
  log(`no native module for ${triple}; building it with cargo (${path.relative(root, manifest)}), this takes a few minutes`)
  const run = spawnSync('cargo', args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  if (run.error) {
    throw new Error(`could not run cargo (${run.error.message}); install Rust from https://rustup.rs`)
  }
  if (run.status !== 0) throw new Error(`cargo build failed (exit ${run.status})`)
  let artifact = null
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.target && msg.target.name === 'civic_router_node') {
      artifact = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) || artifact
    }
  }
  if (!artifact) throw new Error('cargo built no civic_router_node library')
  const dest = path.join(root, `civic-router.${triple}.node`)
  fs.copyFileSync(artifact, dest)
  log(`built ${path.basename(dest)}`)
  // a standalone build keeps its target directory under vendor/: drop it (hundreds of MB)
  const vendoredTarget = path.join(root, 'vendor', 'target')
  if (manifest === vendored && !process.env.CARGO_TARGET_DIR && fs.existsSync(vendoredTarget)) {
    fs.rmSync(vendoredTarget, { recursive: true, force: true })
  }
}

function main() {
  const triple = platformTriple()
  const force = process.env.CIVIC_ROUTER_FORCE_BUILD === '1'
  const found = present(triple)
  if (found && !force) {
    log(`native module for ${triple} found (${found})`)
  } else if (process.env.CIVIC_ROUTER_SKIP_BUILD === '1') {
    log('CIVIC_ROUTER_SKIP_BUILD=1: not building the native module')
    return
  } else {
    build(triple)
  }
  // check that it loads
  const mod = require(path.join(root, 'index.js'))
  if (typeof mod.Router !== 'function') throw new Error('the native module loaded without a Router')
}

try {
  main()
} catch (e) {
  log(`install failed: ${e.message}`)
  process.exit(1)
}
