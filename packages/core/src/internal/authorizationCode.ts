/**
 * Helpers of the authorization-code module: secure random strings, a constant-time comparison, the callback page.
 * Nothing here ever logs or returns a secret in an error.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"

/** The characters RFC 7636 §4.1 allows in a code verifier (`unreserved` of RFC 3986). @internal */
export const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/

/** `n` bytes from the platform's cryptographically secure generator (Web Crypto). @internal */
export const randomBytes = (n: number): Uint8Array => {
  const bytes = new Uint8Array(n)
  // getRandomValues fills at most 65536 bytes per call; callers ask for far less.
  globalThis.crypto.getRandomValues(bytes)
  return bytes
}

/**
 * A base64url string (no padding) of exactly `length` characters, carrying `6 * length` random bits. Every character
 * is in `[A-Za-z0-9_-]`, a subset of RFC 7636's verifier alphabet. @internal
 */
export const randomBase64Url = (length: number): string =>
  Encoding.encodeBase64Url(randomBytes(Math.ceil((length * 6) / 8))).slice(0, length)

/** `BASE64URL(SHA-256(ASCII(input)))` with Web Crypto (RFC 7636 §4.2). @internal */
export const sha256Base64Url = async (input: string): Promise<string> => {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(input))
  return Encoding.encodeBase64Url(new Uint8Array(digest))
}

const encoder = new TextEncoder()

/**
 * Compares two strings in time that depends only on their lengths, not on where they differ, so that a forged
 * callback learns nothing about the expected state from the time the comparison takes. @internal
 */
export const timingSafeEqual = (a: string, b: string): boolean => {
  const x = encoder.encode(a)
  const y = encoder.encode(b)
  const n = Math.max(x.length, y.length)
  let diff = x.length ^ y.length
  for (let i = 0; i < n; i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  }
  return diff === 0
}

/** Escapes text for an HTML text node or attribute. @internal */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\"" ? "&quot;" : "&#39;")

/**
 * The headers of every callback page: no caching (the URL carried a code), no referrer (the page must not leak the
 * callback URL anywhere), nothing loaded from anywhere. @internal
 */
export const pageHeaders: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY"
}

/** A small self-contained HTML page. Both arguments are escaped. @internal */
export const page = (title: string, detail: string): string =>
  "<!doctype html>\n" +
  "<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">" +
  `<title>${escapeHtml(title)}</title>` +
  "<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style>" +
  `</head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></body></html>\n`

/** A host as written in a URL: IPv6 literals in brackets. @internal */
export const urlHost = (hostname: string): string =>
  hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname

/** A registered loopback redirect URI, checked against the listener's port. @internal */
export interface RegisteredRedirect {
  /** The URI exactly as given. */
  readonly uri: string
  readonly host: string
  readonly path: string
  /** The port a browser leaves out of the `Host` header for this scheme. */
  readonly defaultPort: number
}

/**
 * Checks a registered redirect URI for a loopback listener on `port`: absolute `http`/`https`, a loopback host, the
 * listener's port, no query, fragment or credentials. Fails with what is wrong (a sentence). @internal
 */
export const parseRegisteredRedirect = (uri: string, port: number): Effect.Effect<RegisteredRedirect, string> => {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return Effect.fail("redirectUri is not an absolute URL.")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Effect.fail(`redirectUri must be an http or https URL, not ${url.protocol}.`)
  }
  if (url.search !== "" || url.hash !== "" || uri.includes("#") || url.username !== "" || url.password !== "") {
    return Effect.fail("redirectUri may carry no query, fragment or credentials.")
  }
  const host = url.hostname
  const loopback = host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host)
  if (!loopback) {
    return Effect.fail(`redirectUri's host "${host.slice(0, 64)}" is not a loopback name (127.0.0.1, localhost, [::1]).`)
  }
  const defaultPort = url.protocol === "https:" ? 443 : 80
  const registeredPort = url.port === "" ? defaultPort : Number(url.port)
  if (registeredPort !== port) {
    return Effect.fail(
      `redirectUri ${url.origin} is on port ${registeredPort}, but the callback listener is on port ${port}: listen on ` +
        `port ${registeredPort}${
          registeredPort === 443 ? " (443 usually needs root: register a callback with a port, e.g. https://127.0.0.1:8182)" : ""
        }, or register the listener's address.`
    )
  }
  return Effect.succeed({ uri, host, path: url.pathname === "" ? "/" : url.pathname, defaultPort })
}
