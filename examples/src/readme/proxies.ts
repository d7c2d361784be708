import { FigureMarkets } from "@effect-oauth2/figure-markets"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { type Dispatcher, EnvHttpProxyAgent, ProxyAgent } from "undici"

// Any undici Dispatcher can carry the requests: token endpoint and API calls alike use the HttpClient you provide.
export const layerDispatcher = (make: () => Dispatcher) =>
  NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
    Layer.provide(
      Layer.scoped(
        NodeHttpClient.Dispatcher,
        Effect.acquireRelease(Effect.sync(make), (dispatcher) => Effect.promise(() => dispatcher.destroy()))
      )
    )
  )

// HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment, read the way curl reads them.
export const HttpClientFromEnv = layerDispatcher(() => new EnvHttpProxyAgent())

// One fixed proxy, with credentials and the CA of a TLS-inspecting proxy if you have one.
export const viaProxy = (uri: string, options: { readonly token?: string; readonly ca?: string } = {}) =>
  layerDispatcher(() =>
    new ProxyAgent({
      uri,
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.ca === undefined ? {} : { requestTls: { ca: options.ca } })
    })
  )

export const FigureMarketsLive = FigureMarkets.layerConfig().pipe(Layer.provide(HttpClientFromEnv))
