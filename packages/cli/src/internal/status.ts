/**
 * `effect-oauth2 status`: every token in the encrypted token file, with when its access token expires and when its
 * refresh token dies (and the warning reached), never a secret.
 *
 * @internal
 */
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import { type InvalidConfiguration, TokenStoreError } from "@effect-oauth2/core/OAuth2Error"
import * as RefreshTokenLifetime from "@effect-oauth2/core/RefreshTokenLifetime"
import type * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { isStatic, remaining, shown } from "./format.js"

/** One entry of the token file: its key, and its token or why it cannot be read. @internal */
export interface Entry {
  /** The entry's name in the file (`TokenStore.keyToString`). */
  readonly name: string
  readonly key: TokenStore.Key | undefined
  readonly token: AccessToken.AccessToken | undefined
  readonly problem: string | undefined
}

/** A store key back from its string form (`provider/environment/clientId/scopes`, each part URI-encoded). */
const parseKey = (name: string): TokenStore.Key | undefined => {
  const parts = name.split("/")
  if (parts.length !== 4) return undefined
  try {
    const [provider, environment, clientId, scopes] = parts.map(decodeURIComponent) as [string, string, string, string]
    return { provider, environment, clientId, scopes: scopes === "" ? [] : scopes.split(" ") }
  } catch {
    return undefined
  }
}

const decodeFile = Schema.decodeUnknownEither(Schema.parseJson(FileTokenStore.TokenFile))

/** A key no entry has, to make the store check the file as a whole (format, version, key) and find nothing. */
const probe: TokenStore.Key = { provider: "effect-oauth2 status", environment: "-", clientId: "-", scopes: [] }

/**
 * Every entry of the token file at `path`, read with `key`; `undefined` when there is no file. Fails with the
 * store's own `TokenStoreError` for a file it cannot use at all (another key, not a token file, damaged), and
 * `InvalidConfiguration` for a key that is no key.
 *
 * @internal
 */
export const read = (
  path: string,
  key: Redacted.Redacted<string> | TokenCipher.Secret
): Effect.Effect<
  ReadonlyArray<Entry> | undefined,
  TokenStoreError | InvalidConfiguration,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const store = yield* FileTokenStore.make({ path, key })
    const text = yield* fs.readFileString(path).pipe(
      Effect.map((text): string | undefined => text),
      Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "NotFound", () => Effect.succeed(undefined)),
      Effect.mapError((error) =>
        new TokenStoreError({
          source: "token-store",
          operation: "get",
          description: `cannot read ${path}: ${error.message}. Check its permissions.`
        })
      )
    )
    if (text === undefined) return undefined
    // The store checks the whole file (and says what is wrong with it) before any entry is looked at.
    yield* store.get(probe)
    const file = decodeFile(text)
    if (Either.isLeft(file)) {
      return yield* new TokenStoreError({
        source: "token-store",
        operation: "get",
        description: `${path} changed while it was being read; run the command again.`
      })
    }
    const entries: Array<Entry> = []
    for (const name of Object.keys(file.right.tokens).sort()) {
      const parsed = parseKey(name)
      if (parsed === undefined) {
        entries.push({ name, key: undefined, token: undefined, problem: "not an entry this version can read" })
        continue
      }
      const got = yield* Effect.either(store.get(parsed))
      entries.push(
        Either.isLeft(got)
          ? { name, key: parsed, token: undefined, problem: got.left.description }
          : { name, key: parsed, token: Option.getOrUndefined(got.right), problem: undefined }
      )
    }
    return entries
  })

const iso = (millis: number) => new Date(millis).toISOString()

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

/**
 * The lead times of `--warn`: comma-separated durations, each a number and a unit (`ms`, `s`, `m`, `h`, `d`, `w`),
 * or several run together (`1h30m`), e.g. `72h,6h` or `3d,12h,30m`. Answers the durations, or what is wrong.
 *
 * @internal
 */
export const parseLeadTimes = (text: string): { readonly leadTimes: ReadonlyArray<Duration.Duration> } | {
  readonly problem: string
} => {
  const parts = text.split(",").map((part) => part.trim())
  const leadTimes: Array<Duration.Duration> = []
  for (const part of parts) {
    if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/.test(part)) {
      return {
        problem: `--warn takes comma-separated durations such as 72h,6h (units ms, s, m, h, d, w); ${
          part === "" ? "one is empty" : `${JSON.stringify(shown(part, 40))} is not one`
        }.`
      }
    }
    let millis = 0
    for (const [, amount, unit] of part.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) millis += Number(amount) * UNITS[unit!]!
    if (!(millis > 0) || !Number.isFinite(millis)) {
      return { problem: `--warn lead times must be longer than zero (got ${JSON.stringify(shown(part, 40))}).` }
    }
    leadTimes.push(Duration.millis(Math.round(millis)))
  }
  return { leadTimes }
}

/** What `status` says of one token. @internal */
export interface Described {
  readonly lines: ReadonlyArray<string>
  readonly json: Record<string, unknown>
  /** Nothing can be had from it any more without a login. */
  readonly needsLogin: boolean
}

/**
 * One token's status: its access token's expiry, its refresh token's death (and the lead time reached, of
 * `leadTimes`, default `RefreshTokenLifetime.defaultWarnings`), and whether a login is needed. `loginCommand` is the
 * command that logs in to its provider, when the CLI has one.
 *
 * @internal
 */
export const describe = (
  key: TokenStore.Key,
  token: AccessToken.AccessToken,
  now: number,
  loginCommand: string | undefined,
  leadTimes?: ReadonlyArray<Duration.DurationInput> | undefined
): Described => {
  const status = RefreshTokenLifetime.statusOf(token, now, leadTimes)
  const never = isStatic(token)
  const expired = !never && token.isExpiredAt(now)
  const loginAgain = loginCommand === undefined ? "log in again" : `log in again (${loginCommand})`
  const access = never
    ? "never expires (static API token)"
    : expired
    ? `expired at ${iso(token.expiresAt)}`
    : `expires in ${remaining(token.expiresAt - now)} (${iso(token.expiresAt)})`
  const loggedIn = token.authorizedAt === undefined ? "" : `, logged in ${iso(token.authorizedAt)}`
  const refresh = RefreshTokenLifetime.Status.$match(status, {
    NoRefreshToken: () => `none: ${expired ? loginAgain : `${loginAgain} once the access token expires`}`,
    Unknown: () => `lifetime unknown (neither the server nor a provider rule says)${loggedIn}`,
    Alive: ({ diesAt }) => `dies in ${remaining(diesAt - now)} (${iso(diesAt)})${loggedIn}`,
    Dead: ({ diesAt }) => `dead since ${iso(diesAt)}: ${loginAgain}`
  })
  const lines = [
    `${shown(key.provider, 100)} (${shown(key.environment, 100)}, client ${shown(key.clientId, 200)}${
      key.scopes.length === 0 ? "" : `, scopes ${shown(key.scopes.join(" "), 500)}`
    })`,
    `  access token: ${access}`,
    `  refresh token: ${refresh}`
  ]
  if (status._tag === "Alive" && status.warning !== undefined) {
    lines.push(`  warning: the refresh token dies within ${Duration.format(status.warning)}: ${loginAgain} before then`)
  }
  const needsLogin = status._tag === "Dead" || (status._tag === "NoRefreshToken" && expired)
  const seconds = (millis: number) => Math.max(0, Math.round(millis / 1000))
  const json = {
    provider: key.provider,
    environment: key.environment,
    clientId: key.clientId,
    scopes: key.scopes,
    accessToken: {
      expiresAt: never ? null : iso(token.expiresAt),
      expiresInSeconds: never ? null : seconds(token.expiresAt - now),
      expired
    },
    refreshToken: {
      state: status._tag === "NoRefreshToken"
        ? "none"
        : status._tag === "Unknown"
        ? "unknown"
        : status._tag === "Alive"
        ? "alive"
        : "dead",
      diesAt: status._tag === "Alive" || status._tag === "Dead" ? iso(status.diesAt) : null,
      diesInSeconds: status._tag === "Alive" ? seconds(status.diesAt - now) : status._tag === "Dead" ? 0 : null,
      warningSeconds: status._tag === "Alive" && status.warning !== undefined
        ? seconds(Duration.toMillis(status.warning))
        : null
    },
    authorizedAt: token.authorizedAt === undefined ? null : iso(token.authorizedAt),
    needsLogin
  }
  return { lines, json, needsLogin }
}
