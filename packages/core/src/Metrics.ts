/**
 * Metrics, with Effect's `Metric`: token requests by outcome, refresh failures, cache hits and misses, and when the
 * refresh token dies. Every metric is tagged with the provider; none carries a secret.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"

/**
 * Token requests sent, tagged `provider`, `grant_type` and `outcome` (`success` or `failure`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const tokenRequestsTotal: Metric.Metric.Counter<number> = Metric.counter("oauth2_token_requests_total", {
  description: "Token requests sent to the token endpoint",
  incremental: true
})

/**
 * Background refreshes that failed, tagged `provider` and `error` (the error's tag).
 *
 * @since 0.1.0
 * @category metrics
 */
export const refreshFailuresTotal: Metric.Metric.Counter<number> = Metric.counter("oauth2_refresh_failures_total", {
  description: "Background refresh attempts that failed",
  incremental: true
})

/**
 * `AccessTokens.get` calls answered from the cache, tagged `provider`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const cacheHitsTotal: Metric.Metric.Counter<number> = Metric.counter("oauth2_cache_hits_total", {
  description: "Token gets answered from the cache with no I/O",
  incremental: true
})

/**
 * `AccessTokens.get` calls that had to wait for an acquisition, tagged `provider`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const cacheMissesTotal: Metric.Metric.Counter<number> = Metric.counter("oauth2_cache_misses_total", {
  description: "Token gets that waited for a token request",
  incremental: true
})

/**
 * When the cached token's refresh token dies, as a Unix timestamp in seconds (the Prometheus convention for
 * instants: alert on `oauth2_refresh_token_expiry_timestamp_seconds - time() < 12 * 3600`), tagged `provider`.
 * Set whenever the death instant changes (see `RefreshTokenLifetime`); `+Inf` once the cached token has a refresh
 * token whose death nobody knows, or none at all. Unset until the service has had a token.
 *
 * @since 0.2.0
 * @category metrics
 */
export const refreshTokenExpiryTimestamp: Metric.Metric.Gauge<number> = Metric.gauge(
  "oauth2_refresh_token_expiry_timestamp_seconds",
  { description: "When the refresh token dies, in Unix seconds (+Inf: no known death)" }
)

/** @internal */
export const tokenRequests = (provider: string, grantType: string, outcome: "success" | "failure") =>
  Metric.increment(
    Metric.taggedWithLabels(tokenRequestsTotal, [
      MetricLabel.make("provider", provider),
      MetricLabel.make("grant_type", grantType),
      MetricLabel.make("outcome", outcome)
    ])
  )

/** @internal */
export const refreshFailure = (provider: string, error: string): Effect.Effect<void> =>
  Metric.increment(
    Metric.taggedWithLabels(refreshFailuresTotal, [
      MetricLabel.make("provider", provider),
      MetricLabel.make("error", error)
    ])
  )
