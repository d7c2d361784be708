/**
 * Our library in every workload, written as a user writes Effect code: layers, `yield* tokens.get`, the
 * `withAccessToken` client. Loaded only by processes that run ours, so that peer processes never import Effect.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Supervisor from "effect/Supervisor"
import type { Control } from "./control.js"
import { SECRET } from "./server.js"
import { SimClock } from "./simClock.js"
import { activeResources, cpuMicros, tick } from "./stats.js"
import {
  botPhases,
  type BotParams,
  boundaryBound,
  boundaryRound,
  coldStartSettings,
  type BoundaryParams,
  type CachedGetParams,
  type ColdStartParams,
  type HerdParams,
  type LoadResult,
  type LongRunParams,
  type MissingExpiryParams,
  heapReader,
  type OverheadParams,
  overheadOrder,
  overheadRound,
  type Profile,
  sinceProcessStart,
  type Round,
  type RoundContext,
  type WorkloadId
} from "./workloads.js"

/** Ours over the bench server, as a user composes it. Logging is off (the peers log nothing). */
export const layer = (
  control: Control,
  endpoint: Partial<Endpoint.Options> = {},
  options: AccessTokens.Options = {},
  http: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici
): Layer.Layer<AccessTokens.AccessTokens | HttpClient.HttpClient> =>
  AccessTokens.layer(options).pipe(
    Layer.provideMerge(
      OAuth2Client.layer({
        endpoint: { provider: "bench", tokenUrl: control.tokenUrl, authMethod: "client_secret_post", ...endpoint },
        credentials: Endpoint.credentials(control.clientId, SECRET)
      }).pipe(Layer.orDie)
    ),
    Layer.provideMerge(http)
  )

export interface Ours {
  readonly tokens: AccessTokens.Service
  /** The plain client (the one the token endpoint uses too). */
  readonly http: HttpClient.HttpClient
  /** `withAccessToken(http, tokens)`. */
  readonly authorised: HttpClient.HttpClient.With<unknown>
}

/** Builds ours in the current scope. */
export const build = (
  control: Control,
  endpoint: Partial<Endpoint.Options> = {},
  options: AccessTokens.Options = {},
  http?: Layer.Layer<HttpClient.HttpClient>
): Effect.Effect<Ours, never, Scope.Scope> =>
  Effect.map(Layer.build(layer(control, endpoint, options, http)), (context) => {
    const tokens = Context.get(context, AccessTokens.AccessTokens)
    const http = Context.get(context, HttpClient.HttpClient)
    return { tokens, http, authorised: OAuth2HttpClient.withAccessToken(http, tokens) }
  })

const quiet = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  effect.pipe(Logger.withMinimumLogLevel(LogLevel.None))

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(quiet(effect))

/** One GET; the status, body read. */
export const status = <E>(client: HttpClient.HttpClient.With<E>, url: string): Effect.Effect<number, E> =>
  Effect.flatMap(client.get(url), (response) => Effect.as(Effect.orDie(response.arrayBuffer), response.status))

/** The token request of the Effect references: a client-credentials POST, the secret in the body. */
export const tokenPost = (control: Control) =>
  HttpClientRequest.post(control.tokenUrl).pipe(
    HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", client_id: control.clientId, client_secret: SECRET })
  )

const counters = (control: Control) => Effect.promise(() => control.counters())

// -- herd ---------------------------------------------------------------------------------------------------------------

/** The ways to start n concurrent gets. */
export type HerdStyle = "all" | "forEach" | "fork"

/** The floor of any Effect herd: n fibers (started with `Effect.all`) awaiting one Deferred completed after the latency. */
export const herdFloor = (params: HerdParams): Effect.Effect<Round> =>
  Effect.gen(function*() {
    const deferred = yield* Deferred.make<number>()
    const start = performance.now()
    yield* Effect.fork(Effect.delay(Deferred.succeed(deferred, 1), Duration.millis(params.latencyMs)))
    yield* Effect.all(Array.from({ length: params.n }, () => Deferred.await(deferred)), { concurrency: "unbounded" })
    return { ms: performance.now() - start, tokenRequests: 0, failures: 0 }
  })

/**
 * The floor of any Effect herd that fetches its token: the same n fibers awaiting one `Deferred`, completed by one
 * `HttpClient` POST to the token endpoint over a new `layerUndici` (a new connection, as a cold client has), started
 * before the herd, with no library. What separates it from {@link herdFloor} is that a request's connection only
 * opens, and its request is only written, once the n fibers' start has let Node's event loop run.
 */
export const herdRequestFloor = (control: Control, params: HerdParams): Effect.Effect<Round> =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() => control.configure({ latencyMs: params.latencyMs }))
    const client = Context.get(yield* Layer.build(NodeHttpClient.layerUndici), HttpClient.HttpClient)
    const deferred = yield* Deferred.make<number>()
    const post = client.execute(tokenPost(control)).pipe(
      Effect.flatMap((response) => response.json),
      Effect.scoped,
      Effect.orDie
    )
    const start = performance.now()
    yield* Effect.fork(Effect.flatMap(post, () => Deferred.succeed(deferred, 1)))
    yield* Effect.all(Array.from({ length: params.n }, () => Deferred.await(deferred)), { concurrency: "unbounded" })
    const ms = performance.now() - start
    const c = yield* counters(control)
    return { ms, tokenRequests: c.tokenRequests, failures: 0 }
  }))

/** n concurrent first gets on a cold client. */
export const herd = (control: Control, params: HerdParams, style: HerdStyle): Effect.Effect<Round> =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() => control.configure({ latencyMs: params.latencyMs }))
    const { tokens } = yield* build(control)
    const n = params.n
    const start = performance.now()
    const exit = yield* Effect.exit(
      style === "all"
        ? Effect.asVoid(Effect.all(Array.from({ length: n }, () => tokens.get), { concurrency: "unbounded" }))
        : style === "forEach"
        ? Effect.forEach(Array.from({ length: n }), () => tokens.get, { concurrency: "unbounded", discard: true })
        : Effect.gen(function*() {
          const fibers = new Array<Fiber.RuntimeFiber<unknown, unknown>>(n)
          for (let i = 0; i < n; i++) fibers[i] = yield* Effect.fork(tokens.get)
          yield* Fiber.joinAll(fibers)
        })
    )
    const ms = performance.now() - start
    const c = yield* counters(control)
    return { ms, tokenRequests: c.tokenRequests, failures: Exit.isSuccess(exit) ? 0 : n }
  }))

// -- cached get ---------------------------------------------------------------------------------------------------------

/** n gets of a cached token in one Effect program, as ops/s; `floor` runs the same loop over `Effect.succeed`. */
export const cachedGet = (
  control: Control,
  params: CachedGetParams,
  style: "get" | "floor" | "runPromise"
): Effect.Effect<Round> =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() => control.configure({ latencyMs: 0 }))
    const { tokens } = yield* build(control)
    const token = yield* Effect.orDie(tokens.get)
    const get = Effect.orDie(tokens.get)
    const loop = (n: number): Effect.Effect<void> =>
      style === "floor"
        ? Effect.gen(function*() {
          for (let i = 0; i < n; i++) yield* Effect.succeed(token)
        })
        : style === "get"
        ? Effect.gen(function*() {
          for (let i = 0; i < n; i++) yield* tokens.get
        }).pipe(Effect.orDie)
        : Effect.flatMap(Effect.runtime<never>(), (runtime) =>
          Effect.promise(async () => {
            const runPromise = Runtime.runPromise(runtime)
            for (let i = 0; i < n; i++) await runPromise(get)
          }))
    yield* loop(params.warmup)
    const start = performance.now()
    yield* loop(params.n)
    const ms = performance.now() - start
    return { opsPerSec: (params.n / ms) * 1000, nsPerGet: (ms * 1e6) / params.n }
  }))

// -- authorised request overhead -------------------------------------------------------------------------------------

/** `concurrency` fibers call `call` until `ms` have passed. */
export const segment = <E>(
  call: Effect.Effect<number, E>,
  ms: number,
  concurrency: number
): Effect.Effect<{ rps: number; cpuUsPerRequest: number; failures: number }> =>
  Effect.suspend(() => {
    let ok = 0
    let failures = 0
    const cpu = process.cpuUsage()
    const start = performance.now()
    const deadline = start + ms
    const loop = Effect.gen(function*() {
      while (performance.now() < deadline) {
        const result = yield* Effect.either(call)
        if (result._tag === "Right" && result.right === 200) ok++
        else failures++
      }
    })
    return Effect.forEach(Array.from({ length: concurrency }), () => loop, {
      concurrency: "unbounded",
      discard: true
    }).pipe(
      Effect.map(() => {
        const elapsed = performance.now() - start
        return { rps: (ok / elapsed) * 1000, cpuUsPerRequest: cpuMicros(cpu) / Math.max(1, ok), failures }
      })
    )
  })

/**
 * The authorised request against the bare one in alternating segments. `bounded`: instead of ours, the bare request
 * bounded the way Effect 3 bounds an effect (`Effect.timeout` over the request and its body, the 30 s of our default
 * `requestTimeout`): the floor of any Effect client that bounds its requests, with no library.
 */
export const overhead = (
  control: Control,
  params: OverheadParams,
  round: number,
  side: "ours" | "bounded" = "ours"
): Effect.Effect<Round> =>
  Effect.scoped(Effect.gen(function*() {
    const staticToken = yield* Effect.promise(() => control.staticToken())
    const { authorised, http, tokens } = yield* build(control)
    yield* Effect.orDie(tokens.get)
    const bareClient = http.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", `Bearer ${staticToken}`)))
    const url = control.resourceUrl
    const bare = status(bareClient, url)
    const auth = side === "ours"
      ? status(authorised, url)
      : Effect.orDie(Effect.timeout(status(bareClient, url), Duration.seconds(30)))
    yield* segment(bare, params.warmupMs, params.concurrency)
    yield* segment(auth, params.warmupMs, params.concurrency)
    const order = overheadOrder(params.segments, round)
    const results = yield* Effect.forEach(order, (isAuth) => segment(isAuth ? auth : bare, params.segmentMs, params.concurrency))
    return overheadRound(order, results)
  }))

// -- refresh boundary ---------------------------------------------------------------------------------------------------

export const boundary = (control: Control, params: BoundaryParams): Effect.Effect<Round> =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() => control.configure({ latencyMs: params.latencyMs, lifetimeSec: params.lifetimeSec }))
    const { authorised, tokens } = yield* build(control)
    yield* Effect.orDie(tokens.get)
    const before = yield* counters(control)
    const latencies: Array<number> = []
    let requests = 0
    let app401 = 0
    let errors = 0
    const deadline = performance.now() + params.durationMs
    const iteration = Effect.gen(function*() {
      const start = performance.now()
      yield* tokens.get
      latencies.push(performance.now() - start)
      requests++
      const code = yield* status(authorised, control.resourceUrl)
      if (code === 401) app401++
      else if (code !== 200) errors++
    }).pipe(
      Effect.catchAll((error) =>
        Effect.sync(() => {
          if (typeof error === "object" && error !== null && "_tag" in error && error._tag === "Unauthorized") app401++
          else errors++
        })
      )
    )
    const worker = Effect.gen(function*() {
      while (performance.now() < deadline) {
        yield* iteration
        yield* Effect.sleep(Duration.millis(params.pauseMs))
      }
    })
    yield* Effect.forEach(Array.from({ length: params.workers }), () => worker, {
      concurrency: "unbounded",
      discard: true
    })
    const after = yield* counters(control)
    return boundaryRound({
      latencies,
      latencyMs: params.latencyMs,
      requests,
      app401,
      errors,
      tokenRequests: after.tokenRequests - before.tokenRequests,
      expiredTokenSent: after.expiredTokenSent - before.expiredTokenSent,
      server401: (after.resourceRequests - after.resourceOk) - (before.resourceRequests - before.resourceOk)
    })
  }))

/** The most token requests ours may make in a boundary run. */
export const boundaryLimit = boundaryBound

// -- missing expires_in -----------------------------------------------------------------------------------------------

export const missingExpiry = (control: Control, params: MissingExpiryParams): Effect.Effect<Round> =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() =>
      control.configure({ latencyMs: params.latencyMs, lifetimeSec: params.lifetimeSec, omitExpiresIn: true })
    )
    const { authorised } = yield* build(control, { defaultLifetime: Duration.seconds(params.lifetimeSec) })
    let failed = 0
    const start = performance.now()
    for (let i = 0; i < params.calls; i++) {
      const wait = start + i * params.intervalMs - performance.now()
      if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
      const code = yield* Effect.either(status(authorised, control.resourceUrl))
      if (code._tag === "Left" || code.right !== 200) failed++
    }
    const c = yield* counters(control)
    return {
      failed,
      calls: params.calls,
      server401: c.resourceRequests - c.resourceOk,
      tokenRequests: c.tokenRequests
    }
  }))

// -- long run -----------------------------------------------------------------------------------------------------------

/** Waits (in real time) until the cached token is no longer `token`. */
const replaced = (tokens: AccessTokens.Service, token: AccessToken.AccessToken) =>
  Effect.gen(function*() {
    const deadline = performance.now() + 10_000
    while (true) {
      const current = yield* tokens.current
      if (Option.isSome(current) && current.value !== token) return
      if (performance.now() > deadline) return yield* Effect.dieMessage("the background refresh did not happen")
      yield* Effect.promise(tick)
    }
  })

/**
 * One client lifetime on a simulated clock: build, `warmupCycles`, then (when `measure`) `cycles` more between two
 * heap readings, then close the scope. Returns the heap readings and the fibers still alive after the close.
 */
const lifetime = (control: Control, params: LongRunParams, cycles: number, heapAfterGc: () => number) =>
  Effect.gen(function*() {
    const supervisor = yield* Supervisor.track
    const perCycle = Math.max(1, Math.floor(params.gets / params.cycles))
    const skewMillis = Math.min(60_000, (params.lifetimeSec * 1000) / 2)
    const clock = new SimClock()
    const inScope = Effect.scoped(Effect.gen(function*() {
      const { tokens } = yield* build(control)
      yield* tokens.get
      const cycle = Effect.gen(function*() {
        for (let g = 0; g < perCycle; g++) yield* tokens.get
        const token = Option.getOrThrow(yield* tokens.current)
        const now = yield* Clock.currentTimeMillis
        // To the refresh point (expiresAt − skew): the background fiber wakes and refreshes for real.
        clock.advance(token.expiresAt - skewMillis - now)
        yield* replaced(tokens, token)
      })
      for (let i = 0; i < params.warmupCycles; i++) yield* cycle
      const heapA = heapAfterGc()
      const start = performance.now()
      for (let i = 0; i < cycles; i++) yield* cycle
      const seconds = (performance.now() - start) / 1000
      return { heapA, heapB: heapAfterGc(), seconds }
    })).pipe(Effect.supervised(supervisor), Effect.withClock(clock))
    const result = yield* Effect.orDie(inScope)
    return { ...result, fibersLeft: (yield* supervisor.value).length, timersLeft: clock.pending }
  })

export const longRun = (control: Control, params: LongRunParams, profile: Profile): Effect.Effect<Round> =>
  Effect.gen(function*() {
    const heapAfterGc = heapReader(profile)
    const pause = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, profile === "quick" ? 0 : 50)))
    yield* Effect.promise(() => control.configure({ latencyMs: 0, lifetimeSec: params.lifetimeSec }))
    // A first client lifetime loads and warms everything a client uses once per process.
    yield* lifetime(control, params, 0, heapAfterGc)
    yield* pause
    const resources = activeResources()
    const heap0 = heapAfterGc()
    const before = yield* counters(control)
    const { fibersLeft, heapA, heapB, seconds, timersLeft } = yield* lifetime(control, params, params.cycles, heapAfterGc)
    yield* pause
    const heapC = heapAfterGc()
    const after = yield* counters(control)
    return {
      heapGrowthMB: (heapB - heapA) / 2 ** 20,
      heapRetainedMB: (heapC - heap0) / 2 ** 20,
      fibersLeft,
      timersLeft,
      handlesLeft: Math.max(0, activeResources() - resources),
      tokenRequests: after.tokenRequests - before.tokenRequests,
      seconds
    }
  })

// -- cold start ---------------------------------------------------------------------------------------------------------

export const coldStart = async (
  { control, freshProcess, params }: RoundContext<ColdStartParams>,
  http: "undici" | "fetch"
): Promise<Round> => {
  coldStartSettings(params)
  const start = performance.now()
  const ms = await run(Effect.scoped(Effect.gen(function*() {
    const { tokens } = yield* build(control, {}, {}, http === "fetch" ? FetchHttpClient.layer : NodeHttpClient.layerUndici)
    yield* tokens.get
    return performance.now() - start
  })))
  return { ms, processMs: sinceProcessStart(start + ms, freshProcess) }
}

/** The floor of any Effect client: one POST through `HttpClient` over `layerUndici`, body decoded, no library. */
export const coldStartFloor = async ({ control, freshProcess, params }: RoundContext<ColdStartParams>): Promise<Round> => {
  coldStartSettings(params)
  const start = performance.now()
  const ms = await run(Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(tokenPost(control))
    yield* response.json
    return performance.now() - start
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie))
  return { ms, processMs: sinceProcessStart(start + ms, freshProcess) }
}

// -- realistic bot ------------------------------------------------------------------------------------------------------

/** Whether a failure of the authorised client is the 401 the caller sees (ours fails with `Unauthorized`). */
const isUnauthorized = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "Unauthorized"

/**
 * `workers` fibers, each keeping `concurrency` calls of `call` in flight until `ms` have passed; every call's latency
 * is kept (the Effect twin of `load` in `workloads.ts`).
 */
export const load = <E>(
  call: Effect.Effect<number, E>,
  shape: Pick<BotParams, "workers" | "concurrency">,
  ms: number
): Effect.Effect<LoadResult> =>
  Effect.suspend(() => {
    const latencies: Array<number> = []
    let ok = 0
    let failed = 0
    let app401 = 0
    const start = performance.now()
    const deadline = start + ms
    const loop = Effect.gen(function*() {
      while (performance.now() < deadline) {
        const t = performance.now()
        const result = yield* Effect.either(call)
        latencies.push(performance.now() - t)
        if (result._tag === "Right" && result.right === 200) ok++
        else {
          failed++
          if (result._tag === "Right" ? result.right === 401 : isUnauthorized(result.left)) app401++
        }
      }
    })
    const worker = Effect.forEach(Array.from({ length: shape.concurrency }), () => loop, {
      concurrency: "unbounded",
      discard: true
    })
    return Effect.forEach(Array.from({ length: shape.workers }), () => worker, {
      concurrency: "unbounded",
      discard: true
    }).pipe(Effect.map(() => ({ latencies, ok, failed, app401, ms: performance.now() - start })))
  })

export const bot = (control: Control, params: BotParams): Effect.Effect<Round> =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() => control.configure({ latencyMs: params.latencyMs, lifetimeSec: params.lifetimeSec }))
    const staticToken = yield* Effect.promise(() => control.staticToken())
    const { authorised, http, tokens } = yield* build(control)
    yield* Effect.orDie(tokens.get)
    const bareClient = http.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", `Bearer ${staticToken}`)))
    const auth = status(authorised, control.resourceUrl)
    const bare = status(bareClient, control.resourceUrl)
    const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
    return yield* Effect.promise(() =>
      botPhases(params, control, {
        auth: (ms) => runPromise(load(auth, params, ms)),
        bare: (ms) => runPromise(load(bare, params, ms))
      })
    )
  }))

// -- dispatch -----------------------------------------------------------------------------------------------------------

/** One round of `workload` for one of our contenders. */
export const runRound = (workload: WorkloadId, contender: string, ctx: RoundContext<unknown>): Promise<Round> => {
  const { control } = ctx
  const params = ctx.params as never
  switch (workload) {
    case "herd1k":
    case "herd10k":
      if (contender === "floor:herd") return run(herdFloor(params))
      if (contender === "floor:herdRequest") return run(herdRequestFloor(control, params))
      return run(herd(control, params, contender === "ours:forEach" ? "forEach" : contender === "ours:fork" ? "fork" : "all"))
    case "cachedGet":
      return run(
        cachedGet(control, params, contender === "floor:succeed" ? "floor" : contender === "ours:runPromise" ? "runPromise" : "get")
      )
    case "overhead":
      return run(overhead(control, params, ctx.round, contender === "floor:bounded" ? "bounded" : "ours"))
    case "boundary":
      return run(boundary(control, params))
    case "missingExpiry":
      return run(missingExpiry(control, params))
    case "longRun":
      return run(longRun(control, params, ctx.profile))
    case "coldStart":
      if (contender === "floor:effectHttp") return coldStartFloor(ctx as RoundContext<ColdStartParams>)
      return coldStart(ctx as RoundContext<ColdStartParams>, contender === "ours:fetch" ? "fetch" : "undici")
    case "bot":
      return run(bot(control, params))
  }
}
