export {
  discardBody,
  fetchWithRetry,
  httpFetch,
  HttpNetworkError,
  isPermanentNetworkError,
  withRetry,
  type HttpRequest,
  type HttpRequestOptions,
  type Response,
  type RetryOptions
} from './fetch.js'
export { BodyTooLargeError, readBytes, readSnippet, readText } from './body.js'
export { closeDispatchers, dispatcherFor, type TransportOptions } from './dispatcher.js'
export { proxyForUrl } from './proxy.js'
export { backoffMs, isRetryableStatus, parseRetryAfter } from './retry.js'
