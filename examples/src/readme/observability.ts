import { NodeSdk } from "@effect/opentelemetry"
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect } from "effect"
import { program } from "./quick-start.js"

// Effect's spans and metrics, handed to the OpenTelemetry SDK. In production pass OTLP exporters
// (@opentelemetry/exporter-trace-otlp-http, @opentelemetry/exporter-metrics-otlp-http) instead of the console ones.
export const telemetry = (spans: SpanExporter, metrics: PushMetricExporter) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: "trading-bot" },
    spanProcessor: new BatchSpanProcessor(spans),
    metricReader: new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 60_000 })
  }))

// The quick start's bot, traced: AccessTokens.acquire > OAuth2Client.requestToken, then FigureMarkets.Trader.get_who_am_i.
export const observed = program.pipe(
  Effect.provide(telemetry(new ConsoleSpanExporter(), new ConsoleMetricExporter()))
)
