import type { Response } from 'undici'
import { WaybillError } from '../util/errors.js'
import { discardBody } from './fetch.js'

/** A response body larger than the reader accepts: the read stops there. */
export class BodyTooLargeError extends WaybillError {
  constructor(
    readonly url: string,
    readonly maxBytes: number
  ) {
    super(
      `the response from ${hostOf(url)} is larger than ${maxBytes} bytes`,
      'the server sent far more than expected; check the URL'
    )
    this.name = 'BodyTooLargeError'
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

/** The body as bytes, refusing more than `maxBytes` (checked on Content-Length and while reading). */
export async function readBytes(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) {
    await discardBody(res)
    throw new BodyTooLargeError(res.url, maxBytes)
  }
  const { bytes, truncated } = await collect(res, maxBytes)
  if (truncated) throw new BodyTooLargeError(res.url, maxBytes)
  return bytes
}

export async function readText(res: Response, maxBytes: number): Promise<string> {
  return (await readBytes(res, maxBytes)).toString('utf8')
}

/** At most the first `maxBytes` of a body as text, for an error message; never throws. */
export async function readSnippet(res: Response, maxBytes = 64 * 1024): Promise<string> {
  try {
    return (await collect(res, maxBytes)).bytes.toString('utf8')
  } catch {
    return ''
  }
}

/** Reads up to `maxBytes`; a longer body is cancelled there and reported as truncated. */
async function collect(
  res: Response,
  maxBytes: number
): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (!res.body) return { bytes: Buffer.alloc(0), truncated: false }
  const chunks: Uint8Array[] = []
  let size = 0
  // fetch bodies are bytes; the DOM typings leave the chunk type as any.
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return { bytes: Buffer.concat(chunks), truncated: false }
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size))
      await reader.cancel().catch(() => undefined)
      return { bytes: Buffer.concat(chunks), truncated: true }
    }
    size += value.byteLength
    chunks.push(value)
  }
}
