// Every test process finds the project's own helm/kubectl/kustomize first.
const path = require('node:path')
process.env.PATH =
  path.join(__dirname, '..', '..', '.tools', 'bin') + path.delimiter + process.env.PATH
process.env.GIT_AUTHOR_NAME = process.env.GIT_AUTHOR_NAME || 'Waybill Test'
process.env.GIT_AUTHOR_EMAIL = process.env.GIT_AUTHOR_EMAIL || 'test@waybill.invalid'
process.env.GIT_COMMITTER_NAME = process.env.GIT_COMMITTER_NAME || 'Waybill Test'
process.env.GIT_COMMITTER_EMAIL = process.env.GIT_COMMITTER_EMAIL || 'test@waybill.invalid'
process.env.GIT_CONFIG_GLOBAL = process.env.GIT_CONFIG_GLOBAL || path.join(__dirname, 'gitconfig')
