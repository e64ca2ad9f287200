// Without the `u` flag a pattern sees UTF-16 code units, so a half of a pair can be matched alone.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Text Postgres and JSON can both carry. Postgres refuses U+0000 in `text` and `jsonb`, and a lone
 * UTF-16 surrogate has no UTF-8 form at all: either one, stored or recorded, fails far from where
 * it came in (a projection that retries forever), so it is refused where it arrives.
 */
export function isSafeText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text)
}

/**
 * `text` with every U+0000 and lone surrogate replaced by U+FFFD: for words about a refused value
 * (a reason that quotes a bad key) that are themselves stored.
 */
export function storableText(text: string): string {
  return isSafeText(text) ? text : text.replaceAll('\u0000', '\ufffd').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd')
}

const pointerToken = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * The JSON pointer (`''` for the value itself, `/name`, `/items/0/ref`) of a string or property
 * name in `value` that is not safe text, or undefined when every one is. Walks without
 * recursion, so a deeply nested value cannot overflow the stack.
 */
export function unsafeTextPath(value: unknown): string | undefined {
  const pending: Array<[unknown, string]> = [[value, '']]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, path] = next
    if (typeof item === 'string') {
      if (!isSafeText(item)) return path
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) pending.push([item[i], `${path}/${i}`])
    } else if (typeof item === 'object' && item !== null) {
      const keys = Object.keys(item)
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!
        const at = `${path}/${pointerToken(key)}`
        if (!isSafeText(key)) return at
        pending.push([(item as Record<string, unknown>)[key], at])
      }
    }
  }
  return undefined
}
