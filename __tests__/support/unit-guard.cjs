// Loaded for the `unit` jest project only (jest.config.js). A unit test starts no servers, opens
// no network connections and runs none of the heavy tools; when one does, it fails at once and
// names the list it belongs on, so a slow test cannot hide in `npm run test:unit`. Core modules
// are shared by every test file of a worker, so everything is put back after the file.
// Long enough for a loaded 2-core machine; short enough that a hung unit test fails the loop.
jest.setTimeout(120_000)

const net = require('node:net')
const cp = require('node:child_process')
const path = require('node:path')

const HEAVY_TOOLS = new Set([
  'helm',
  'docker-registry',
  'registry',
  'htpasswd',
  'chromium',
  'chromium-browser',
  'google-chrome',
  'chrome'
])
const GIT_SERVERS = new Set(['daemon', 'http-backend', 'upload-pack', 'receive-pack'])

function refuse(what) {
  throw new Error(
    `a unit test ${what}: list this file in INTEGRATION in jest.config.js (CONTRIBUTING.md, Tests)`
  )
}

function checkCommand(file, args) {
  const tool = path.basename(String(file))
  if (HEAVY_TOOLS.has(tool)) refuse(`ran ${tool}`)
  if (tool === 'git' && Array.isArray(args) && args.some((a) => GIT_SERVERS.has(String(a))))
    refuse(`ran a git server (git ${args.join(' ')})`)
}

const saved = {
  listen: net.Server.prototype.listen,
  connect: net.Socket.prototype.connect,
  spawn: cp.ChildProcess.prototype.spawn,
  spawnSync: cp.spawnSync,
  execFileSync: cp.execFileSync,
  execSync: cp.execSync
}

net.Server.prototype.listen = function () {
  refuse('started a server')
}
net.Socket.prototype.connect = function () {
  refuse('opened a network connection')
}
cp.ChildProcess.prototype.spawn = function (options) {
  checkCommand(options && options.file, options && options.args && options.args.slice(1))
  return saved.spawn.apply(this, arguments)
}
cp.spawnSync = function (file, args) {
  checkCommand(file, args)
  return saved.spawnSync.apply(this, arguments)
}
cp.execFileSync = function (file, args) {
  checkCommand(file, args)
  return saved.execFileSync.apply(this, arguments)
}
cp.execSync = function (command) {
  checkCommand(String(command).trim().split(/\s+/)[0], [])
  return saved.execSync.apply(this, arguments)
}

afterAll(() => {
  net.Server.prototype.listen = saved.listen
  net.Socket.prototype.connect = saved.connect
  cp.ChildProcess.prototype.spawn = saved.spawn
  cp.spawnSync = saved.spawnSync
  cp.execFileSync = saved.execFileSync
  cp.execSync = saved.execSync
})
