#!/usr/bin/env node
// `npm pack` hooks: makes the package buildable outside the repository.
//
// bindings-node/Cargo.toml is a member of the repository's workspace: it inherits fields and
// dependency versions from the root Cargo.toml and finds the core crate at ../core. A packed
// tarball has neither, so before packing (`prepack`) this writes, under vendor/:
//   vendor/civic-router/   a copy of core/src with a standalone Cargo.toml (inheritance resolved)
//   vendor/node/Cargo.toml the binding crate (sources: ../../src, ../../build.rs), depending on
//                          ../civic-router
//   vendor/Cargo.toml      a workspace of the two, vendor/Cargo.lock the repository's lock file
//                          (the same versions build)
// scripts/install.js builds vendor/node/Cargo.toml when it exists. `--clean` (postpack)
// removes vendor/.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const pkg = path.resolve(__dirname, '..')
const repo = path.resolve(pkg, '..')
const vendor = path.join(pkg, 'vendor')

if (process.argv.includes('--clean')) {
  fs.rmSync(vendor, { recursive: true, force: true })
  process.exit(0)
}

const TOML = require('smol-toml')
const read = (p) => TOML.parse(fs.readFileSync(p, 'utf8'))
const ws = read(path.join(repo, 'Cargo.toml')).workspace

/** Resolves `x.workspace = true` in a [package] table. */
function resolvePackage(p) {
  const out = {}
  for (const [k, v] of Object.entries(p)) {
    out[k] = v && typeof v === 'object' && v.workspace === true ? ws.package[k] : v
  }
  delete out.readme
  return out
}

/** Resolves `dep.workspace = true` (plus local `features`/`optional`) in a dependency table. */
function resolveDeps(deps, overrides = {}) {
  const out = {}
  for (const [name, spec] of Object.entries(deps || {})) {
    if (overrides[name]) {
      out[name] = overrides[name]
      continue
    }
    if (spec && typeof spec === 'object' && spec.workspace === true) {
      const base = ws.dependencies[name]
      const resolved = typeof base === 'string' ? { version: base } : { ...base }
      if (spec.features) resolved.features = [...(resolved.features || []), ...spec.features]
      if (spec.optional) resolved.optional = true
      out[name] = resolved
    } else {
      out[name] = spec
    }
  }
  return out
}

fs.rmSync(vendor, { recursive: true, force: true })

// the core crate: library only (no dev-dependencies, tests or benches)
const core = read(path.join(repo, 'core', 'Cargo.toml'))
const coreOut = {
  package: resolvePackage(core.package),
  lib: core.lib,
  features: core.features,
  dependencies: resolveDeps(core.dependencies),
}
fs.mkdirSync(path.join(vendor, 'civic-router'), { recursive: true })
fs.cpSync(path.join(repo, 'core', 'src'), path.join(vendor, 'civic-router', 'src'), { recursive: true })
fs.writeFileSync(path.join(vendor, 'civic-router', 'Cargo.toml'), TOML.stringify(coreOut) + '\n')

// the binding as a standalone workspace
const node = read(path.join(pkg, 'Cargo.toml'))
const nodeOut = {
  package: { ...resolvePackage(node.package), build: '../../build.rs' },
  lib: { ...node.lib, path: '../../src/lib.rs' },
  features: node.features,
  dependencies: resolveDeps(node.dependencies, {
    'civic-router': { path: '../civic-router' },
  }),
  'build-dependencies': node['build-dependencies'],
}
fs.mkdirSync(path.join(vendor, 'node'), { recursive: true })
fs.writeFileSync(path.join(vendor, 'node', 'Cargo.toml'), TOML.stringify(nodeOut) + '\n')
// the workspace root: both crates are members, so cargo never walks up into the package's own
// (repository-workspace) Cargo.toml looking for one
const root = {
  workspace: { resolver: '2', members: ['node', 'civic-router'] },
  profile: { release: { panic: 'unwind' } },
}
fs.writeFileSync(path.join(vendor, 'Cargo.toml'), TOML.stringify(root) + '\n')
fs.copyFileSync(path.join(repo, 'Cargo.lock'), path.join(vendor, 'Cargo.lock'))
process.stderr.write('civic-router: vendored the core crate under vendor/ for the packed package\n')
