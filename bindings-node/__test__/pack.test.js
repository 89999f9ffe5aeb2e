// The packed package can build outside the repository: `npm pack` ships the Rust sources, the
// install script and a vendored copy of the core crate whose standalone manifest cargo resolves.
// (The full build of a packed tarball in another project is a manual check: see README.md.)
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkg = path.resolve(__dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

test('npm pack ships sources, the install script and the vendored core, not binaries', () => {
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts=false'], { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const files = JSON.parse(out)[0].files.map((f) => f.path)
  for (const f of ['index.js', 'index.d.ts', 'package.json', 'scripts/install.js', 'Cargo.toml', 'build.rs', 'src/lib.rs', 'src/router.rs', 'vendor/Cargo.toml', 'vendor/Cargo.lock', 'vendor/node/Cargo.toml', 'vendor/civic-router/Cargo.toml', 'vendor/civic-router/src/lib.rs']) {
    assert.ok(files.includes(f), `${f} is not packed`)
  }
  assert.ok(!files.some((f) => f.endsWith('.node')), 'a native binary was packed')
  assert.ok(!files.some((f) => f.startsWith('node_modules/') || f.startsWith('__test__/')))
  assert.ok(!fs.existsSync(path.join(pkg, 'vendor')), 'postpack left vendor/ behind')
})

test('the vendored manifest is a standalone workspace that cargo resolves', (t) => {
  execFileSync(process.execPath, [path.join(pkg, 'scripts', 'vendor.js')], { stdio: 'ignore' })
  t.after(() => execFileSync(process.execPath, [path.join(pkg, 'scripts', 'vendor.js'), '--clean']))
  let meta
  try {
    meta = JSON.parse(execFileSync('cargo', ['metadata', '--offline', '--format-version', '1', '--manifest-path', path.join(pkg, 'vendor', 'node', 'Cargo.toml')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }))
  } catch (e) {
    if (/no matching package|offline|failed to (get|download)/.test(String(e.stderr))) return t.skip('crates not in the local cargo cache')
    throw new Error(String(e.stderr))
  }
  const core = meta.packages.find((p) => p.name === 'civic-router')
  assert.equal(path.dirname(core.manifest_path), path.join(pkg, 'vendor', 'civic-router'))
  const node = meta.packages.find((p) => p.name === 'civic-router-node')
  assert.equal(path.resolve(node.targets[0].src_path), path.join(pkg, 'src', 'lib.rs'))
  assert.equal(meta.workspace_root, path.join(pkg, 'vendor'))
})
