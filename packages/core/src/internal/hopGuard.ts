/**
 * A check on every request a client sends for one `execute`, redirects its own wrappers follow included.
 *
 * A user's client wrapped in `HttpClient.followRedirects` re-sends the request, headers and body as they are, to
 * wherever a `Location` points, inside the client: a caller of `execute` never sees the hops. The one place every hop
 * of every platform transport (fetch, undici, node:http: all are built with `HttpClient.make`) passes before it is
 * sent is the tracer's `currentTracerDisabledWhen` predicate, which `HttpClient.make` asks about each request before
 * it hands the request to the transport. The guard installs a predicate that checks the hop first (a refused hop
 * throws, so the transport never sees it) and then answers as the predicate in place would have, so tracing is what
 * it was. The throw surfaces as a defect, which {@link guardedExit} turns back into the caller's typed error.
 *
 * Were a client to set its own predicate (`HttpClient.withTracerDisabledWhen`) or turn tracing off *inside* its own
 * wrappers, the check would not run; the callers therefore also look at the answer's request (the last hop) and
 * refuse an answer that did not come from where the request was sent.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { exitWithin, type Local } from "./deadline.js"

class HopRefused {
  constructor(readonly request: HttpClientRequest.HttpClientRequest, readonly id: object) {}
}

/**
 * Runs `effect` (an `execute` of a client, on the authorised client or a request to an authorization server's
 * endpoint) with every request the client sends for it checked by `allow` before it is sent, and with the request's
 * deadline: a refused request is not sent. `effect` runs in a fiber of its own (see `deadline.ts`) that holds the
 * hop check (and `redact`'s header names, for the spans the client makes) in its own `FiberRef`s from its start, so
 * there is nothing to set and restore around it in the caller. Its outcome comes back as an `Exit`: a refused hop as
 * `Exit.fail(refuse(request))`, a timeout as `Exit.fail(onTimeout())`.
 *
 * @internal
 */
export const guardedExit = <A, E, R, E2, E3>(
  effect: Effect.Effect<A, E, R>,
  options: {
    readonly allow: (request: HttpClientRequest.HttpClientRequest) => boolean
    readonly refuse: (request: HttpClientRequest.HttpClientRequest) => E2
    readonly redact: (names: ReadonlyArray<string | RegExp>) => ReadonlyArray<string | RegExp>
    readonly timeout: Duration.Duration
    readonly onTimeout: () => E3
  }
): Effect.Effect<Exit.Exit<A, E | E2 | E3>, never, R> =>
  Effect.withFiberRuntime((parent) => {
    const id = {}
    const enabled = parent.getFiberRef(FiberRef.currentTracerEnabled)
    const disabledWhen = parent.getFiberRef(HttpClient.currentTracerDisabledWhen)
    const names = parent.getFiberRef(Headers.currentRedactedNames)
    const { allow } = options
    const predicate = (request: HttpClientRequest.HttpClientRequest) => {
      if (!allow(request)) throw new HopRefused(request, id)
      // The predicate is only asked while tracing is on; whether a span is made is still decided as before.
      return !enabled || disabledWhen(request)
    }
    // Set in the child, which ends with the request: nothing to restore.
    const locals: ReadonlyArray<Local> = [
      [HttpClient.currentTracerDisabledWhen, predicate],
      [FiberRef.currentTracerEnabled, true],
      [Headers.currentRedactedNames, options.redact(names)]
    ]
    return Effect.map(exitWithin(effect, options.timeout, options.onTimeout, locals), (exit) => {
      if (Exit.isSuccess(exit)) return exit
      const refused = Cause.find(exit.cause, (c) =>
        Cause.isDieType(c) && c.defect instanceof HopRefused && c.defect.id === id
          ? Option.some(c.defect.request)
          : Option.none())
      return Option.isSome(refused) ? Exit.fail(options.refuse(refused.value)) : exit
    })
  })
