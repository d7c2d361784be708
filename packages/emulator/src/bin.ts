#!/usr/bin/env node
/**
 * `pnpm emulator`: runs the emulator until SIGINT/SIGTERM, printing its URLs and the demo clients' credentials.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import * as Clients from "./Clients.js"
import * as Emulator from "./Emulator.js"

const usage = `Usage: pnpm emulator [options]

Runs a loopback server that behaves like Figure Markets, Figure Pay, Tradier and Openmarkets.

Options:
  --port <n>             port to listen on (default 4010; 0 picks a free port)
  --host <address>       interface to listen on (default 127.0.0.1: loopback only)
  --provider <name>      print only one provider's URLs and clients:
                         figure-markets | figure-pay | tradier | openmarkets
  --auto-approve         Tradier authorize redirects straight to the callback with a code
  --auto-deny            Tradier authorize redirects straight to the callback with error=access_denied
  --token-lifetime <s>   access-token lifetime in seconds for every provider
                         (default: 86399 Figure Markets and Tradier, 3600 Figure Pay and Openmarkets)
  --code-lifetime <s>    Tradier authorization-code lifetime in seconds (default 600)
  -h, --help             print this help

The control API (faults, counters, tokens, clock) is under {base}/_emulator.
`

const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${usage}`)
  process.exit(2)
}

const parse = () => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        provider: { type: "string" },
        "auto-approve": { type: "boolean" },
        "auto-deny": { type: "boolean" },
        "token-lifetime": { type: "string" },
        "code-lifetime": { type: "string" },
        help: { type: "boolean", short: "h" }
      }
    }).values
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e))
  }
}

const integer = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) return fail(`--${name} must be an integer from ${min} to ${max}`)
  return n
}

const values = parse()
if (values.help === true) {
  process.stdout.write(usage)
  process.exit(0)
}
if (values["auto-approve"] === true && values["auto-deny"] === true) fail("--auto-approve and --auto-deny exclude each other")
const provider = values.provider
if (provider !== undefined && !(Clients.providers as ReadonlyArray<string>).includes(provider)) {
  fail(`--provider must be one of ${Clients.providers.join(", ")}`)
}
const port = integer("port", values.port, 0, 65535) ?? 4010
const tokenLifetime = integer("token-lifetime", values["token-lifetime"], 1, 10 * 365 * 86400)
const codeLifetime = integer("code-lifetime", values["code-lifetime"], 1, 86400)
const host = values.host ?? "127.0.0.1"

const options: Emulator.Options = {
  port,
  host,
  tradierAuthorization: values["auto-approve"] === true
    ? "auto-approve"
    : values["auto-deny"] === true
    ? "auto-deny"
    : "consent",
  tokenLifetime: tokenLifetime === undefined ? undefined : `${tokenLifetime} seconds`,
  authorizationCodeLifetime: codeLifetime === undefined ? undefined : `${codeLifetime} seconds`
}

const describe = (emulator: Emulator.Emulator, only: string | undefined): string => {
  const { clients, urls } = emulator
  const show = (p: Clients.Provider) => only === undefined || only === p
  const lines: Array<string> = [
    `effect-oauth2 emulator listening on ${emulator.baseUrl}${
      host === "127.0.0.1" || host === "localhost" || host === "::1" ? " (loopback only)" : ""
    }`,
    ""
  ]
  if (show("figure-markets")) {
    lines.push(
      "Figure Markets (client_secret_post, scope required)",
      `  main host     ${urls.figureMarkets.main}`,
      `  token         POST ${urls.figureMarkets.main}/auth/oauth2/token`,
      `  revoke        POST ${urls.figureMarkets.main}/auth/oauth2/revoke`,
      `  trading host  ${urls.figureMarkets.trade}`,
      `  trading       POST ${urls.figureMarkets.trade}/api/v1/get_who_am_i  (also list_accounts, place_order)`,
      ...clients.figureMarkets.map((c) => `  client        ${c.clientId} / ${c.clientSecret}  scopes: ${c.scopes.join(" ")}`),
      ""
    )
  }
  if (show("figure-pay")) {
    lines.push(
      "Figure Pay (client_secret_post, no scope)",
      `  api host      ${urls.figurePay.api}`,
      `  token         POST ${urls.figurePay.api}/oauth2/token`,
      `  profiles      GET  ${urls.figurePay.api}/profiles`,
      ...clients.figurePay.map((c) => `  client        ${c.clientId} / ${c.clientSecret}`),
      ""
    )
  }
  if (show("tradier")) {
    lines.push(
      "Tradier (authorization code, client_secret_basic)",
      `  api host      ${urls.tradier.api}`,
      `  authorize     GET  ${urls.tradier.api}/v1/oauth/authorize?client_id=...&scope=read,trade&state=...`,
      `  token         POST ${urls.tradier.api}/v1/oauth/accesstoken`,
      `  refresh       POST ${urls.tradier.api}/v1/oauth/refreshtoken  (partners only)`,
      `  profile       GET  ${urls.tradier.api}/v1/user/profile`,
      ...clients.tradier.map((c) =>
        `  client        ${c.clientId} / ${c.clientSecret}  callback: ${c.callbackUrl}${
          c.partner === true ? "  (partner: refresh tokens)" : ""
        }`
      ),
      ...clients.tradierStaticTokens.map((t) => `  static token  ${t.token}`),
      `  authorize mode: ${options.tradierAuthorization}`,
      ""
    )
  }
  if (show("openmarkets")) {
    lines.push(
      "Openmarkets (client_secret_basic, raw base64(id:secret))",
      `  identity host ${urls.openmarkets.identity}`,
      `  token         POST ${urls.openmarkets.identity}/connect/token`,
      `  api host      ${urls.openmarkets.api}`,
      `  quotes        GET  ${urls.openmarkets.api}/v1/market-data/quotes?symbols=BHP`,
      `  news          GET  ${urls.openmarkets.api}/v1/news`,
      ...clients.openmarkets.map((c) => `  client        ${c.clientId} / ${c.clientSecret}  plan: ${c.plan.join(" ")}`),
      ""
    )
  }
  lines.push(`Control API: ${urls.control}  (faults, counters, tokens, clock)`, "Press Ctrl+C to stop.")
  return lines.join("\n")
}

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make(options)
  yield* Effect.addFinalizer(() => Console.log("\nemulator stopped"))
  yield* Console.log(describe(emulator, provider))
  return yield* Effect.never
}).pipe(
  Effect.scoped,
  Effect.catchTag("ServeError", (e) =>
    Effect.sync(() => {
      process.stderr.write(`cannot listen on ${host}:${port}: ${String((e.cause as Error | undefined)?.message ?? e.cause)}\n`)
      process.exitCode = 1
    }))
)

NodeRuntime.runMain(program, { disablePrettyLogger: true })
