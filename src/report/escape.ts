/**
 * Escaping for every output format reports write. Freight fields (commit subjects, authors, tags,
 * annotations), promotion messages and even resource names reach these outputs, and any of them
 * may be hostile: nothing user-controlled is written without going through one of these.
 */

import { displayText } from '../util/text.js'

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return displayText(text).replace(
    /[&<>"'`]/g,
    (c) =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!
  )
}

/** A URL safe to put in href: http(s) only, otherwise undefined. */
export function safeUrl(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined
  try {
    const u = new URL(url)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined
    return u.href
  } catch {
    return undefined
  }
}

/**
 * Text inside a GitHub-flavoured Markdown paragraph or table cell: HTML-significant characters
 * become entities, Markdown punctuation is backslash-escaped, newlines become spaces.
 */
export function escapeMarkdown(text: unknown): string {
  return displayText(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@/g, '&#64;') // no @mentions from freight fields
}

/** `[text](url)` when the URL is http(s), else the escaped text alone. */
export function markdownLink(text: string, url: unknown): string {
  const safe = safeUrl(url)
  if (!safe) return escapeMarkdown(text)
  const href = safe.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `[${escapeMarkdown(text)}](${href})`
}

/**
 * Text inside a quoted Mermaid label (`id["…"]`). Mermaid decodes `#<code>;` entities; every
 * character that could end the label, start markup or an entity is written that way.
 */
export function escapeMermaid(text: unknown): string {
  return displayText(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[#"<>&`[\](){}|;:\\]/g, (c) => `#${c.charCodeAt(0)};`)
}

/** First line of a text, trimmed and cut to `max` characters. */
export function firstLine(text: unknown, max = 120): string {
  const line = displayText(text).split(/\r?\n/)[0].trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}
