import { describe, expect, it } from '@jest/globals'
import { isLoopbackHost, isLoopbackUrl } from '../src/util/net.js'

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'localhost:5000',
    'localhost.',
    '127.0.0.1',
    '127.0.0.1:5000',
    '127.1.2.3',
    '127.255.255.255:80',
    '::1',
    '[::1]',
    '[::1]:8080',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1'
  ])('%s is loopback', (host) => expect(isLoopbackHost(host)).toBe(true))

  it.each([
    'ghcr.io',
    'registry.lan:5000',
    '127.example.com',
    '127.0.0.1.nip.io',
    '128.0.0.1',
    '127.0.0.256',
    '10.0.0.1:80',
    '::2',
    '[fe80::1]:80',
    'localhost.example.com',
    ''
  ])('%s is not', (host) => expect(isLoopbackHost(host)).toBe(false))

  it('reads URLs (IPv6 hostnames come bracketed)', () => {
    expect(isLoopbackUrl('http://[::1]:3000/api')).toBe(true)
    expect(isLoopbackUrl('https://127.0.0.1/api/v3')).toBe(true)
    expect(isLoopbackUrl('https://api.github.com')).toBe(false)
    expect(isLoopbackUrl('not a url')).toBe(false)
  })
})
