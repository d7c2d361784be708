/**
 * docs/ADD-A-PROVIDER.md, followed: the README's "any RFC 6749 server" (`myBroker`) is a definition like the four
 * providers', it runs the shared validation cases, and core builds working tokens and an API client from it against a
 * loopback server given as its hosts. The README's provider table names every variable each definition documents.
 */
import { conformance } from "@effect-oauth2/core/conformance"
import { loopbackServer } from "@effect-oauth2/core/provider-testing"
import { AccessTokens, OAuth2Provider } from "@effect-oauth2/core"
import { FigureMarkets } from "@effect-oauth2/figure-markets"
import { FigurePay } from "@effect-oauth2/figure-pay"
import { Openmarkets } from "@effect-oauth2/openmarkets"
import { Saxo } from "@effect-oauth2/saxo"
import { Schwab } from "@effect-oauth2/schwab"
import { Tastytrade } from "@effect-oauth2/tastytrade"
import { TradeStation } from "@effect-oauth2/tradestation"
import { Tradier } from "@effect-oauth2/tradier"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { myBroker } from "../src/readme/core-api.js"

conformance({ definition: myBroker })

describe("Add a provider: the README's generic definition", () => {
  it.live("gets a token and calls its API through core's layer, pointed at a loopback server by hosts", () =>
    Effect.gen(function*() {
      const server = yield* loopbackServer((request) =>
        request.path === "/oauth2/token"
          ? { status: 200, body: JSON.stringify({ access_token: "broker-token", token_type: "Bearer", expires_in: 60 }) }
          : { status: 200, body: JSON.stringify({ path: request.path, auth: request.headers["authorization"] }) }
      )
      const built = yield* OAuth2Provider.make(myBroker, {
        clientId: "my-client",
        clientSecret: "my-secret",
        hosts: { auth: server.url, api: server.url }
      })
      const answer = yield* built.apis.api!.get("/accounts").pipe(Effect.flatMap((r) => r.json), Effect.scoped)
      assert.deepStrictEqual(answer, { path: "/v1/accounts", auth: "Bearer broker-token" })
      const context = yield* Layer.build(
        OAuth2Provider.layer(myBroker, { clientId: "my-client", clientSecret: "my-secret", hosts: { auth: server.url } })
      )
      const token = yield* Context.get(context, AccessTokens.AccessTokens).get
      assert.strictEqual(Redacted.value(token.value), "broker-token")
      assert.deepStrictEqual(
        (yield* server.received).map((r) => `${r.method} ${r.path}`),
        ["POST /oauth2/token", "GET /v1/accounts", "POST /oauth2/token"]
      )
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})

describe("README: the provider table", () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
  for (
    const definition of [
      FigureMarkets.definition,
      FigurePay.definition,
      Tradier.definition,
      Openmarkets.definition,
      Tastytrade.definition,
      TradeStation.definition,
      Saxo.definition,
      Schwab.definition
    ]
  ) {
    it(`names every variable of ${definition.title}`, () => {
      const row = readme.split("\n").find((line) => line.startsWith(`| ${definition.title}`))
      assert.isDefined(row, `no row for ${definition.title}`)
      for (const variable of OAuth2Provider.variables(definition)) {
        const short = variable.name.slice(definition.envPrefix.length)
        assert.isTrue(
          row!.includes(`\`${variable.name}\``) || row!.includes(`\`${short}\``),
          `${variable.name} is missing from the README row of ${definition.title}`
        )
      }
    })
  }
})
