import { createHash } from 'node:crypto'

/**
 * Freight aliases: `<adjective>-<animal>`, like Kargo's. The choice is seeded by the freight ID, so
 * the same ID gets the same alias unless that alias is taken, in which case the next seed is tried.
 */
// prettier-ignore
export const ADJECTIVES: readonly string[] = [
  'able', 'agile', 'amber', 'ample', 'ancient', 'arctic', 'azure', 'balmy', 'bold', 'brave',
  'breezy', 'bright', 'brisk', 'bronze', 'busy', 'calm', 'candid', 'careful', 'cheerful', 'clever',
  'cosmic', 'cozy', 'crimson', 'crisp', 'curious', 'dapper', 'daring', 'dashing', 'deft', 'dusty',
  'eager', 'early', 'earnest', 'electric', 'elegant', 'emerald', 'epic', 'fabled', 'fair', 'fancy',
  'fearless', 'fierce', 'fleet', 'fluffy', 'frank', 'frosty', 'gallant', 'gentle', 'giant', 'gifted',
  'gleaming', 'golden', 'graceful', 'grand', 'happy', 'hardy', 'hearty', 'humble', 'icy', 'jolly',
  'jovial', 'keen', 'kind', 'lively', 'loyal', 'lucid', 'lucky', 'lunar', 'merry', 'mighty',
  'misty', 'modest', 'nimble', 'noble', 'olive', 'patient', 'peppy', 'placid', 'plucky', 'polite',
  'proud', 'quick', 'quiet', 'radiant', 'rapid', 'regal', 'rosy', 'rustic', 'sandy', 'scarlet',
  'serene', 'sharp', 'shiny', 'silent', 'silver', 'sleek', 'smooth', 'snowy', 'solar', 'spry',
  'steady', 'stellar', 'stormy', 'sturdy', 'sunny', 'swift', 'tidy', 'tranquil', 'trusty', 'upbeat',
  'valiant', 'vivid', 'warm', 'wily', 'windy', 'wise', 'witty', 'zany', 'zealous', 'zesty'
]

// prettier-ignore
export const ANIMALS: readonly string[] = [
  'albatross', 'alpaca', 'antelope', 'armadillo', 'badger', 'barracuda', 'beaver', 'bison', 'bobcat',
  'buffalo', 'camel', 'capybara', 'caribou', 'cheetah', 'chipmunk', 'cobra', 'condor', 'cougar',
  'coyote', 'crane', 'cricket', 'crow', 'deer', 'dingo', 'dolphin', 'dove', 'dragonfly', 'eagle',
  'eel', 'egret', 'elk', 'emu', 'falcon', 'ferret', 'finch', 'flamingo', 'fox', 'frog', 'gazelle',
  'gecko', 'gibbon', 'giraffe', 'gopher', 'gorilla', 'grouse', 'hamster', 'hare', 'hawk', 'hedgehog',
  'heron', 'hippo', 'hornet', 'hyena', 'ibex', 'ibis', 'iguana', 'impala', 'jackal', 'jaguar',
  'jay', 'kangaroo', 'kestrel', 'kingfisher', 'kiwi', 'koala', 'lemur', 'leopard', 'lion', 'llama',
  'lobster', 'lynx', 'macaw', 'magpie', 'manatee', 'marmot', 'marten', 'meerkat', 'mink', 'mole',
  'moose', 'narwhal', 'newt', 'ocelot', 'octopus', 'okapi', 'orca', 'osprey', 'ostrich', 'otter',
  'owl', 'panda', 'panther', 'parrot', 'pelican', 'penguin', 'pheasant', 'puffin', 'puma', 'quail',
  'rabbit', 'raccoon', 'raven', 'reindeer', 'robin', 'salamander', 'salmon', 'seal', 'shark',
  'sparrow', 'squirrel', 'starling', 'stork', 'swan', 'tapir', 'tiger', 'toucan', 'turtle', 'walrus',
  'weasel', 'wolf', 'wombat', 'woodpecker', 'yak', 'zebra'
]

/** Seeds tried before falling back to a numeric suffix (the word space holds ~14,000 aliases). */
const MAX_WORD_ATTEMPTS = 1000

function candidate(id: string, attempt: number): string {
  const h = createHash('sha1').update(`${id}#${attempt}`).digest()
  const adjective = ADJECTIVES[h.readUInt32BE(0) % ADJECTIVES.length]
  const animal = ANIMALS[h.readUInt32BE(4) % ANIMALS.length]
  return `${adjective}-${animal}`
}

/** A unique alias for a freight ID: deterministic for a given ID and set of taken aliases. */
export function generateAlias(id: string, taken: ReadonlySet<string>): string {
  for (let attempt = 0; attempt < MAX_WORD_ATTEMPTS; attempt++) {
    const alias = candidate(id, attempt)
    if (!taken.has(alias)) return alias
  }
  const base = candidate(id, 0)
  for (let n = 2; ; n++) {
    const alias = `${base}-${n}`
    if (!taken.has(alias)) return alias
  }
}

/** Aliases are lowercase words joined with `-` (also what users may set by hand). */
export function isValidAlias(alias: string): boolean {
  return /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(alias) && alias.length <= 63
}
