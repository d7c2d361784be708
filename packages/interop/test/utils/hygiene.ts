/**
 * Secret hygiene: run a program while capturing everything it could leak a secret through, then look for every
 * secret, in every form it could take, in all of it.
 *
 * Captured:
 * - every log line (the default logger replaced, minimum level All), rendered as logfmt and JSON, with annotations,
 *   spans and the cause rendered by `Cause.pretty`;
 * - every span (a recording `Tracer`): name, attributes, events, links, and its end (status, and for a failure the
 *   rendered cause and error messages);
 * - whatever the program writes to `console` directly;
 * - the program's outcome: for every error, `message`, `String`, `JSON.stringify`, `util.inspect`, the Schema-encoded
 *   `OAuth2Error`, and `Cause.pretty` of the whole cause; for a success, `String`, `JSON.stringify` and `inspect`.
 *
 * A provider package adds its own failure paths by calling {@link collectAndCheck} with its secrets and programs.
 */
import { assert } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import { inspect } from "node:util"
import { ClientAuth, OAuth2Error } from "@effect-oauth2/core"

/** A secret to look for: a name for the report, and its value. */
export interface Secret {
  readonly name: string
  readonly value: string
}

/** One captured text and where it came from (`log`, `span OAuth2Client.requestToken attribute http.url`, ...). */
export interface Captured {
  readonly where: string
  readonly text: string
}

/** A secret found in a captured text. The excerpt shows the secret replaced by its name. */
export interface Leak {
  readonly secret: string
  readonly form: string
  readonly where: string
  readonly excerpt: string
}

/** Every form a secret may take on its way out: as is, URL- and form-encoded, base64, base64url, JSON-escaped. */
export const formsOf = (value: string): ReadonlyArray<readonly [form: string, text: string]> => {
  const forms: Array<readonly [string, string]> = [
    ["as is", value],
    ["percent-encoded", encodeURIComponent(value)],
    ["form-encoded", new URLSearchParams([["", value]]).toString().slice(1)],
    ["base64", Encoding.encodeBase64(value)],
    ["base64url", Encoding.encodeBase64Url(value)],
    ["JSON-escaped", JSON.stringify(value).slice(1, -1)],
    ["HTML-escaped", value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")]
  ]
  const seen = new Set<string>()
  return forms.filter(([, text]) => text.length >= 8 && !seen.has(text) && (seen.add(text), true))
}

/** The client secret's own forms, plus the Basic credentials it travels in (both encodings). */
export const clientSecretForms = (clientId: string, clientSecret: string): ReadonlyArray<Secret> => [
  { name: "client secret", value: clientSecret },
  ...(["form", "raw"] as const).map((encoding) => ({
    name: `Basic credentials (${encoding})`,
    value: ClientAuth.basicHeader(clientId, clientSecret, encoding).slice("Basic ".length)
  }))
]

const render = (u: unknown): string => {
  if (typeof u === "string") return u
  try {
    return `${inspect(u, { depth: 8 })} ${JSON.stringify(u, (_k, v) => (typeof v === "bigint" ? String(v) : v)) ?? ""}`
  } catch {
    return inspect(u, { depth: 8 })
  }
}

const renderExit = (exit: Exit.Exit<unknown, unknown>): Array<string> => {
  if (Exit.isSuccess(exit)) return [render(exit.value), String(exit.value)]
  const out = [Cause.pretty(exit.cause, { renderErrorCause: true }), render(exit.cause)]
  for (const error of [...Cause.failures(exit.cause), ...Cause.defects(exit.cause)]) {
    out.push(String(error), render(error))
    if (error instanceof Error) out.push(error.message, error.stack ?? "")
    if (OAuth2Error.isOAuth2Error(error)) {
      out.push(JSON.stringify(Schema.encodeSync(OAuth2Error.OAuth2Error)(error)))
    }
  }
  return out
}

/**
 * What a tracer exports of a span's end: its status and, for a failure, the rendered cause and each error's message
 * (as OpenTelemetry's exception events do). A success's value is not exported by tracers, so it is not looked at.
 */
const renderSpanEnd = (exit: Exit.Exit<unknown, unknown>): Array<string> => {
  if (Exit.isSuccess(exit)) return ["ok"]
  const out = [Cause.pretty(exit.cause, { renderErrorCause: true })]
  for (const error of [...Cause.failures(exit.cause), ...Cause.defects(exit.cause)]) {
    out.push(String(error))
    if (error instanceof Error) out.push(error.message)
  }
  return out
}

/** A tracer that records everything a span is told. */
const recordingTracer = (captured: Array<Captured>): Tracer.Tracer => {
  let ids = 0
  return Tracer.make({
    span(name, parent, context, links, startTime, kind) {
      const attributes = new Map<string, unknown>()
      const where = `span ${name}`
      captured.push({ where, text: name })
      for (const link of links) captured.push({ where: `${where} link`, text: render(link.attributes) })
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${++ids}`,
        traceId: "trace-hygiene",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links: [...links],
        sampled: true,
        kind,
        end(endTime, exit) {
          ;(span as { status: Tracer.SpanStatus }).status = { _tag: "Ended", startTime, endTime, exit }
          for (const text of renderSpanEnd(exit)) captured.push({ where: `${where} end`, text })
        },
        attribute(key, value) {
          attributes.set(key, value)
          captured.push({ where: `${where} attribute ${key}`, text: render(value) })
        },
        event(eventName, _time, eventAttributes) {
          captured.push({ where: `${where} event ${eventName}`, text: `${eventName} ${render(eventAttributes ?? {})}` })
        },
        addLinks(more) {
          for (const link of more) captured.push({ where: `${where} link`, text: render(link.attributes) })
        }
      }
      return span
    },
    context: (f) => f()
  })
}

/** A logger that records every line, rendered every way the standard loggers render it. */
const recordingLogger = (captured: Array<Captured>) =>
  Logger.make((options) => {
    const where = `log ${options.logLevel.label}`
    captured.push({ where, text: Logger.logfmtLogger.log(options) })
    captured.push({ where, text: render(Logger.jsonLogger.log(options)) })
    captured.push({ where, text: render(Logger.structuredLogger.log(options)) })
    if (!Cause.isEmpty(options.cause)) captured.push({ where: `${where} cause`, text: Cause.pretty(options.cause) })
  })

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const

/**
 * Runs `program` with every output captured (see the module documentation). Returns its exit and what was captured.
 * The program's own failure is not a failure here: the failure paths are the point.
 */
export const collect = <A, E, R>(
  program: Effect.Effect<A, E, R>
): Effect.Effect<{ readonly exit: Exit.Exit<A, E>; readonly captured: ReadonlyArray<Captured> }, never, R> =>
  Effect.suspend(() => {
    const captured: Array<Captured> = []
    const original = CONSOLE_METHODS.map((method) => [method, console[method]] as const)
    const patch = Effect.sync(() => {
      for (const method of CONSOLE_METHODS) {
        console[method] = (...args: Array<unknown>) =>
          void captured.push({ where: `console.${method}`, text: args.map(render).join(" ") })
      }
    })
    const restore = Effect.sync(() => {
      for (const [method, f] of original) console[method] = f
    })
    return Effect.acquireUseRelease(patch, () =>
      program.pipe(
        Logger.withMinimumLogLevel(LogLevel.All),
        Effect.provide(Layer.mergeAll(
          Logger.replace(Logger.defaultLogger, recordingLogger(captured)),
          Layer.setTracer(recordingTracer(captured))
        )),
        Effect.exit,
        Effect.map((exit) => {
          for (const text of renderExit(exit)) captured.push({ where: "outcome", text })
          return { exit, captured }
        })
      ), () => restore)
  })

/** Every occurrence of every secret, in every form, in the captured texts. */
export const findLeaks = (secrets: Iterable<Secret>, captured: ReadonlyArray<Captured>): Array<Leak> => {
  const leaks: Array<Leak> = []
  const all = [...secrets].filter((s) => s.value.length > 0)
  for (const secret of all) {
    for (const [form, text] of formsOf(secret.value)) {
      for (const item of captured) {
        const at = item.text.indexOf(text)
        if (at < 0) continue
        let excerpt = item.text.slice(Math.max(0, at - 60), at + text.length + 60)
        for (const other of all) {
          for (const [, t] of formsOf(other.value)) excerpt = excerpt.split(t).join(`«${other.name}»`)
        }
        leaks.push({ secret: secret.name, form, where: item.where, excerpt })
      }
    }
  }
  return leaks
}

/**
 * Runs `program` with everything captured and fails the test when any secret appears anywhere, naming where (the
 * report never prints a secret: occurrences are replaced by the secret's name). `secrets` may be a function, called
 * after the run, for secrets only known then (a generated state or PKCE verifier, as the server received it).
 * Returns the program's exit and how many texts were looked at, so that the caller can check the failure path ran.
 */
export const collectAndCheck = <A, E, R>(
  secrets: Iterable<Secret> | (() => Iterable<Secret>),
  program: Effect.Effect<A, E, R>
): Effect.Effect<{ readonly exit: Exit.Exit<A, E>; readonly texts: number; readonly captured: ReadonlyArray<Captured> }, never, R> =>
  Effect.map(collect(program), ({ captured, exit }) => {
    const list = [...(typeof secrets === "function" ? secrets() : secrets)]
    assert.isAbove(list.length, 0, "no secret to look for")
    const leaks = findLeaks(list, captured)
    assert.deepStrictEqual(
      leaks.map((l) => `${l.secret} (${l.form}) in ${l.where}: …${l.excerpt}…`),
      [],
      "secrets leaked"
    )
    return { exit, texts: captured.length, captured }
  })

/** The typed failure of an exit, or undefined. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
