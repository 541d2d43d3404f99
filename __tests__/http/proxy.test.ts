import { describe, expect, it } from '@jest/globals'
import { proxyForUrl } from '../../src/http/proxy.js'

describe('proxyForUrl', () => {
  it("chooses the proxy variable by scheme and applies NO_PROXY's forms (Go's rules)", () => {
    const env = {
      HTTPS_PROXY: 'proxy.corp:3128',
      HTTP_PROXY: 'http://plain.corp:80',
      NO_PROXY: 'internal.corp, .svc.local, 10.0.0.0/8, 192.168.1.5, build.corp:8443, [fd00::1]'
    }
    const p = (u: string) => proxyForUrl(new URL(u), env)?.href
    expect(p('https://ghcr.io/v2/')).toBe('http://proxy.corp:3128/')
    expect(p('http://ghcr.io/v2/')).toBe('http://plain.corp/')
    expect(p('https://internal.corp/')).toBeUndefined()
    expect(p('https://git.internal.corp/')).toBeUndefined()
    expect(p('https://notinternal.corp/')).toBeDefined()
    expect(p('https://a.svc.local/')).toBeUndefined()
    expect(p('https://svc.local/')).toBeDefined()
    expect(p('https://10.1.2.3/')).toBeUndefined()
    expect(p('https://11.1.2.3/')).toBeDefined()
    expect(p('https://192.168.1.5/')).toBeUndefined()
    expect(p('https://build.corp:8443/')).toBeUndefined()
    expect(p('https://build.corp/')).toBeDefined()
    expect(p('https://[fd00::1]/')).toBeUndefined()
    expect(p('https://localhost:8443/')).toBeUndefined()
    expect(p('https://[::1]/')).toBeUndefined()
    expect(proxyForUrl(new URL('https://x.io/'), { ...env, NO_PROXY: '*' })).toBeUndefined()
    expect(proxyForUrl(new URL('https://x.io/'), { HTTP_PROXY: 'http://p:1' })).toBeUndefined()
    expect(proxyForUrl(new URL('https://x.io/'), {})).toBeUndefined()
  })

  it('lower-case variables count when the upper-case ones are unset or empty', () => {
    const env = { HTTPS_PROXY: '', https_proxy: 'http://lower:8080', no_proxy: 'skip.io' }
    expect(proxyForUrl(new URL('https://x.io/'), env)?.href).toBe('http://lower:8080/')
    expect(proxyForUrl(new URL('https://skip.io/'), env)).toBeUndefined()
  })
})
