#!/usr/bin/env node
// The CLI shares the action's bundle: one build, one behaviour.
process.env.WAYBILL_CLI = '1'
await import('../dist/index.js')
