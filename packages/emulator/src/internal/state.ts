import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { createHash, randomBytes } from "node:crypto"
import type { Provider } from "../Clients.js"
import * as Faults from "../Faults.js"

/** @internal */
export type TokenKind = "access" | "refresh"

/** @internal */
export interface TokenRecord {
  readonly kind: TokenKind
  readonly provider: Provider
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  readonly issuedAt: number
  readonly expiresAt: number | undefined
  readonly revoked: boolean
  /** The authorization code the token came from, for revoking on code replay. */
  readonly code?: string | undefined
  /** The grant (one login, or one imported refresh token) the token belongs to. */
  readonly grant?: string | undefined
  /** How many token requests this (refresh) token was accepted in. */
  readonly uses?: number | undefined
  /** How many token requests presented this (refresh) token and were refused. */
  readonly refusals?: number | undefined
}

/** One request to a broker's token endpoint, as the inspection API reports it. @internal */
export interface TokenRequest {
  /** The endpoint's name (e.g. `saxo.token`). */
  readonly endpoint: string
  readonly provider: Provider
  /** The authenticated client, when the request got that far. */
  readonly clientId: string | undefined
  readonly grantType: string | undefined
  /** The id (`TokenInfo.id`) of the refresh token presented, if any. */
  readonly refreshTokenId: string | undefined
  readonly status: number
  /** The OAuth error answered, if any. */
  readonly error: string | undefined
  /** Emulator time of the request. */
  readonly at: number
}

/** What spending a refresh token found. @internal */
export type Spend =
  | { readonly _tag: "Spent"; readonly record: TokenRecord }
  | { readonly _tag: "Refused"; readonly reason: "missing" | "unknown" | "expired" | "revoked" | "wrong-client" }

/** @internal */
export type Lookup =
  | { readonly _tag: "Valid"; readonly token: string; readonly record: TokenRecord }
  | { readonly _tag: "Invalid"; readonly reason: "missing" | "unknown" | "expired" | "revoked" }

/** @internal */
export interface CodeRecord {
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  readonly redirectUri: string
  readonly expiresAt: number
  readonly used: boolean
  /** What else a provider keeps with the code (a PKCE challenge, an audience, a grant id). */
  readonly extra?: Readonly<Record<string, string>> | undefined
}

/** @internal */
export type CodeRedemption =
  | { readonly _tag: "Redeemed"; readonly record: CodeRecord }
  | {
    readonly _tag: "Rejected"
    readonly reason: "unknown" | "expired" | "used" | "wrong-client" | "redirect-mismatch"
  }

/** @internal */
export interface ConsentRecord {
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  readonly state: string
  readonly redirectUri: string
  readonly expiresAt: number
}

/** @internal */
export type Action =
  | { readonly _tag: "Reset" }
  | { readonly _tag: "RateLimit"; readonly retryAfter: number }
  | { readonly _tag: "FailNext"; readonly status: 500 | 502 | 503; readonly retryAfter: number | undefined }
  | { readonly _tag: "Malformed"; readonly kind: Faults.MalformedKind; readonly status: number }
  | { readonly _tag: "Pass" }

/** @internal */
export type AuthorizationMode = "consent" | "auto-approve" | "auto-deny"

/** @internal */
export interface TokenInfo {
  readonly id: string
  readonly kind: TokenKind
  readonly provider: Provider
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  readonly issuedAt: number
  readonly expiresAt: number | undefined
  readonly revoked: boolean
  readonly expired: boolean
  readonly grant: string | undefined
  readonly uses: number
  readonly refusals: number
}

type FaultTable = Readonly<Partial<Record<Faults.Endpoint, Faults.Faults>>>
type CounterTable = Readonly<Record<Faults.Endpoint, Faults.Counters>>

const zeroCounters = (): CounterTable =>
  Object.fromEntries(Faults.endpoints.map((e) => [e, Faults.emptyCounters])) as unknown as CounterTable

/** An opaque random token: `bytes` crypto-random bytes, base64url. @internal */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString("base64url")

/** A stable id for a token that does not reveal it. @internal */
export const tokenId = (token: string): string => createHash("sha256").update(token).digest("base64url").slice(0, 12)

const normalize = (faults: Faults.Faults): Faults.Faults => {
  const out: {
    -readonly [K in keyof Faults.Faults]: Faults.Faults[K]
  } = {}
  if (faults.latency !== undefined && faults.latency > 0) out.latency = faults.latency
  if (faults.failNext !== undefined) out.failNext = faults.failNext
  if (faults.rateLimit !== undefined) out.rateLimit = faults.rateLimit
  if (faults.reset !== undefined) out.reset = faults.reset
  if (faults.malformed !== undefined) out.malformed = faults.malformed
  return out
}

const decrement = <A extends { readonly count: number }>(a: A): A | undefined =>
  a.count <= 1 ? undefined : { ...a, count: a.count - 1 }

const withField = <K extends keyof Faults.Faults>(
  faults: Faults.Faults,
  key: K,
  value: Faults.Faults[K] | undefined
): Faults.Faults => {
  const copy: Record<string, unknown> = { ...faults }
  if (value === undefined) delete copy[key]
  else copy[key] = value
  return copy as Faults.Faults
}

/** Picks the counted fault the next request meets, and consumes one of its count. @internal */
export const takeAction = (faults: Faults.Faults): readonly [Action, Faults.Faults] => {
  if (faults.reset !== undefined) {
    return [{ _tag: "Reset" }, withField(faults, "reset", decrement(faults.reset))]
  }
  if (faults.rateLimit !== undefined) {
    return [
      { _tag: "RateLimit", retryAfter: faults.rateLimit.retryAfter },
      withField(faults, "rateLimit", decrement(faults.rateLimit))
    ]
  }
  if (faults.failNext !== undefined) {
    return [
      { _tag: "FailNext", status: faults.failNext.status, retryAfter: faults.failNext.retryAfter },
      withField(faults, "failNext", decrement(faults.failNext))
    ]
  }
  if (faults.malformed !== undefined) {
    return [
      { _tag: "Malformed", kind: faults.malformed.kind, status: faults.malformed.status ?? 200 },
      withField(faults, "malformed", decrement(faults.malformed))
    ]
  }
  return [{ _tag: "Pass" }, faults]
}

/** @internal */
export interface State {
  readonly now: Effect.Effect<number>
  readonly skew: Effect.Effect<number>
  readonly setSkew: (millis: number) => Effect.Effect<void>
  readonly issue: (options: {
    readonly kind: TokenKind
    readonly provider: Provider
    readonly clientId: string
    readonly scopes: ReadonlyArray<string>
    readonly lifetimeMillis: number | undefined
    readonly bytes: number
    readonly code?: string | undefined
    readonly grant?: string | undefined
    /** The token itself, when the provider's format is not an opaque random string. Default: random bytes. */
    readonly token?: string | undefined
  }) => Effect.Effect<{ readonly token: string; readonly record: TokenRecord }>
  readonly put: (token: string, record: TokenRecord) => Effect.Effect<void>
  readonly lookup: (token: string | undefined, provider: Provider, kind: TokenKind) => Effect.Effect<Lookup>
  readonly revoke: (token: string) => Effect.Effect<boolean>
  readonly revokeWhere: (predicate: (record: TokenRecord) => boolean) => Effect.Effect<number>
  readonly tokens: Effect.Effect<ReadonlyArray<TokenInfo>>
  /**
   * Presents a refresh token in a token request, atomically: a valid token of `provider` and `clientId` is counted
   * as used (and revoked when `singleUse`); any other is counted as refused.
   */
  readonly spend: (
    token: string | undefined,
    provider: Provider,
    clientId: string,
    singleUse: boolean
  ) => Effect.Effect<Spend>
  readonly recordTokenRequest: (request: Omit<TokenRequest, "at">) => Effect.Effect<void>
  readonly tokenRequests: Effect.Effect<ReadonlyArray<TokenRequest>>
  /** A new code; `format` shapes it from random characters (e.g. Schwab's codes end in `@`). */
  readonly createCode: (
    record: Omit<CodeRecord, "used" | "expiresAt">,
    lifetimeMillis: number,
    format?: (random: string) => string
  ) => Effect.Effect<string>
  /** Marks the code used unless it is rejected; `redirectUri`, when given, must be the authorization request's. */
  readonly redeemCode: (
    code: string,
    clientId: string,
    redirectUri: string | undefined
  ) => Effect.Effect<CodeRedemption>
  readonly createConsent: (record: Omit<ConsentRecord, "expiresAt">, lifetimeMillis: number) => Effect.Effect<string>
  readonly peekConsent: (id: string) => Effect.Effect<Option.Option<ConsentRecord>>
  readonly takeConsent: (id: string) => Effect.Effect<Option.Option<ConsentRecord>>
  readonly authorizationMode: Ref.Ref<AuthorizationMode>
  readonly faults: Effect.Effect<FaultTable>
  readonly faultsFor: (endpoint: Faults.Endpoint) => Effect.Effect<Faults.Faults>
  readonly setFaults: (endpoint: Faults.Endpoint, faults: Faults.Faults) => Effect.Effect<void>
  readonly clearFaults: (endpoint?: Faults.Endpoint | undefined) => Effect.Effect<void>
  readonly nextAction: (endpoint: Faults.Endpoint) => Effect.Effect<Action>
  readonly counters: Effect.Effect<CounterTable>
  readonly resetCounters: Effect.Effect<void>
  readonly countRequest: (endpoint: Faults.Endpoint) => Effect.Effect<void>
  readonly countStatus: (endpoint: Faults.Endpoint, status: number) => Effect.Effect<void>
  readonly countReset: (endpoint: Faults.Endpoint) => Effect.Effect<void>
}

/** @internal */
export const make = (options: {
  readonly skew: number
  readonly faults: Partial<Record<Faults.Endpoint, Faults.Faults>>
  readonly authorizationMode: AuthorizationMode
}): Effect.Effect<State> =>
  Effect.gen(function*() {
    const skewRef = yield* Ref.make(options.skew)
    const tokensRef = yield* Ref.make(HashMap.empty<string, TokenRecord>())
    const codesRef = yield* Ref.make(HashMap.empty<string, CodeRecord>())
    const consentsRef = yield* Ref.make(HashMap.empty<string, ConsentRecord>())
    const initialFaults: Partial<Record<Faults.Endpoint, Faults.Faults>> = {}
    for (const [endpoint, faults] of Object.entries(options.faults)) {
      if (Faults.isEndpoint(endpoint) && faults !== undefined && !Faults.isNone(faults)) {
        initialFaults[endpoint] = normalize(faults)
      }
    }
    const faultsRef = yield* Ref.make<FaultTable>(initialFaults)
    const countersRef = yield* Ref.make<CounterTable>(zeroCounters())
    const authorizationMode = yield* Ref.make(options.authorizationMode)
    const requestsRef = yield* Ref.make<ReadonlyArray<TokenRequest>>([])

    const now = Effect.zipWith(Clock.currentTimeMillis, Ref.get(skewRef), (t, s) => t + s)

    const updateCounters = (endpoint: Faults.Endpoint, f: (c: Faults.Counters) => Faults.Counters) =>
      Ref.update(countersRef, (table) => ({ ...table, [endpoint]: f(table[endpoint]) }))

    const setFaultsIn = (table: FaultTable, endpoint: Faults.Endpoint, faults: Faults.Faults): FaultTable => {
      const copy: Partial<Record<Faults.Endpoint, Faults.Faults>> = { ...table }
      const normalized = normalize(faults)
      if (Faults.isNone(normalized)) delete copy[endpoint]
      else copy[endpoint] = normalized
      return copy
    }

    const state: State = {
      now,
      skew: Ref.get(skewRef),
      setSkew: (millis) => Ref.set(skewRef, millis),
      issue: (o) =>
        Effect.flatMap(now, (issuedAt) => {
          const token = o.token ?? randomToken(o.bytes)
          const record: TokenRecord = {
            kind: o.kind,
            provider: o.provider,
            clientId: o.clientId,
            scopes: o.scopes,
            issuedAt,
            expiresAt: o.lifetimeMillis === undefined ? undefined : issuedAt + o.lifetimeMillis,
            revoked: false,
            code: o.code,
            grant: o.grant
          }
          return Effect.as(Ref.update(tokensRef, HashMap.set(token, record)), { token, record })
        }),
      put: (token, record) => Ref.update(tokensRef, HashMap.set(token, record)),
      lookup: (token, provider, kind) =>
        Effect.gen(function*() {
          if (token === undefined || token === "") return { _tag: "Invalid", reason: "missing" } as const
          const record = HashMap.get(yield* Ref.get(tokensRef), token)
          if (Option.isNone(record) || record.value.provider !== provider || record.value.kind !== kind) {
            return { _tag: "Invalid", reason: "unknown" } as const
          }
          if (record.value.revoked) return { _tag: "Invalid", reason: "revoked" } as const
          const t = yield* now
          if (record.value.expiresAt !== undefined && t >= record.value.expiresAt) {
            return { _tag: "Invalid", reason: "expired" } as const
          }
          return { _tag: "Valid", token, record: record.value } as const
        }),
      revoke: (token) =>
        Ref.modify(tokensRef, (map) => {
          const record = HashMap.get(map, token)
          if (Option.isNone(record) || record.value.revoked) return [false, map]
          return [true, HashMap.set(map, token, { ...record.value, revoked: true })]
        }),
      revokeWhere: (predicate) =>
        Ref.modify(tokensRef, (map) => {
          let n = 0
          const next = HashMap.map(map, (record) => {
            if (record.revoked || !predicate(record)) return record
            n++
            return { ...record, revoked: true }
          })
          return [n, next]
        }),
      tokens: Effect.gen(function*() {
        const t = yield* now
        const map = yield* Ref.get(tokensRef)
        const out: Array<TokenInfo> = []
        for (const [token, r] of map) {
          out.push({
            id: tokenId(token),
            kind: r.kind,
            provider: r.provider,
            clientId: r.clientId,
            scopes: r.scopes,
            issuedAt: r.issuedAt,
            expiresAt: r.expiresAt,
            revoked: r.revoked,
            expired: r.expiresAt !== undefined && t >= r.expiresAt,
            grant: r.grant,
            uses: r.uses ?? 0,
            refusals: r.refusals ?? 0
          })
        }
        return out.sort((a, b) => a.issuedAt - b.issuedAt || a.id.localeCompare(b.id))
      }),
      spend: (token, provider, clientId, singleUse) =>
        Effect.flatMap(now, (t) =>
          Ref.modify(tokensRef, (map): readonly [Spend, HashMap.HashMap<string, TokenRecord>] => {
            if (token === undefined || token === "") return [{ _tag: "Refused", reason: "missing" }, map]
            const found = HashMap.get(map, token)
            if (Option.isNone(found) || found.value.provider !== provider || found.value.kind !== "refresh") {
              return [{ _tag: "Refused", reason: "unknown" }, map]
            }
            const record = found.value
            const refuse = (reason: "expired" | "revoked" | "wrong-client") =>
              [
                { _tag: "Refused", reason } as const,
                HashMap.set(map, token, { ...record, refusals: (record.refusals ?? 0) + 1 })
              ] as const
            if (record.clientId !== clientId) return refuse("wrong-client")
            if (record.revoked) return refuse("revoked")
            if (record.expiresAt !== undefined && t >= record.expiresAt) return refuse("expired")
            const next = { ...record, uses: (record.uses ?? 0) + 1, revoked: singleUse || record.revoked }
            return [{ _tag: "Spent", record: next }, HashMap.set(map, token, next)]
          })
        ),
      recordTokenRequest: (request) =>
        Effect.flatMap(now, (at) => Ref.update(requestsRef, (list) => [...list, { ...request, at }])),
      tokenRequests: Ref.get(requestsRef),
      createCode: (record, lifetimeMillis, format) =>
        Effect.flatMap(now, (t) => {
          const code = format === undefined ? randomToken(24) : format(randomToken(24))
          return Effect.as(
            Ref.update(
              codesRef,
              HashMap.set(code, { ...record, expiresAt: t + lifetimeMillis, used: false } as CodeRecord)
            ),
            code
          )
        }),
      redeemCode: (code, clientId, redirectUri) =>
        Effect.flatMap(now, (t) =>
          Ref.modify(codesRef, (map): readonly [CodeRedemption, HashMap.HashMap<string, CodeRecord>] => {
            const found = HashMap.get(map, code)
            if (Option.isNone(found)) return [{ _tag: "Rejected", reason: "unknown" }, map]
            const record = found.value
            if (record.clientId !== clientId) return [{ _tag: "Rejected", reason: "wrong-client" }, map]
            if (record.used) return [{ _tag: "Rejected", reason: "used" }, map]
            if (t >= record.expiresAt) return [{ _tag: "Rejected", reason: "expired" }, map]
            if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
              return [{ _tag: "Rejected", reason: "redirect-mismatch" }, map]
            }
            return [{ _tag: "Redeemed", record }, HashMap.set(map, code, { ...record, used: true })]
          })
        ),
      createConsent: (record, lifetimeMillis) =>
        Effect.flatMap(now, (t) => {
          const id = randomToken(18)
          return Effect.as(Ref.update(consentsRef, HashMap.set(id, { ...record, expiresAt: t + lifetimeMillis })), id)
        }),
      peekConsent: (id) =>
        Effect.zipWith(
          Ref.get(consentsRef),
          now,
          (map, t) => Option.filter(HashMap.get(map, id), (r) => t < r.expiresAt)
        ),
      takeConsent: (id) =>
        Effect.flatMap(now, (t) =>
          Ref.modify(consentsRef, (map) => [
            Option.filter(HashMap.get(map, id), (r) => t < r.expiresAt),
            HashMap.remove(map, id)
          ])
        ),
      authorizationMode,
      faults: Ref.get(faultsRef),
      faultsFor: (endpoint) => Effect.map(Ref.get(faultsRef), (table) => table[endpoint] ?? Faults.none),
      setFaults: (endpoint, faults) => Ref.update(faultsRef, (table) => setFaultsIn(table, endpoint, faults)),
      clearFaults: (endpoint) =>
        Ref.update(faultsRef, (table) => (endpoint === undefined ? {} : setFaultsIn(table, endpoint, Faults.none))),
      nextAction: (endpoint) =>
        Ref.modify(faultsRef, (table) => {
          const current = table[endpoint]
          if (current === undefined) return [{ _tag: "Pass" } as Action, table]
          const [action, rest] = takeAction(current)
          return [action, action._tag === "Pass" ? table : setFaultsIn(table, endpoint, rest)]
        }),
      counters: Ref.get(countersRef),
      resetCounters: Ref.set(countersRef, zeroCounters()),
      countRequest: (endpoint) => updateCounters(endpoint, (c) => ({ ...c, requests: c.requests + 1 })),
      countStatus: (endpoint, status) =>
        updateCounters(endpoint, (c) =>
          status < 400
            ? { ...c, successes: c.successes + 1 }
            : { ...c, failures: { ...c.failures, [String(status)]: (c.failures[String(status)] ?? 0) + 1 } }),
      countReset: (endpoint) => updateCounters(endpoint, (c) => ({ ...c, resets: c.resets + 1 }))
    }
    return state
  })
