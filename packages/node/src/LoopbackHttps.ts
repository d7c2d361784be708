/**
 * An HTTPS loopback `HttpServer` for the authorization-code login's callback, for providers that only redirect to an
 * `https://127.0.0.1:<port>` callback (Schwab): a self-signed certificate for `127.0.0.1` and `localhost` is made at
 * run time and kept in memory (the private key is never written anywhere), and a Node HTTPS server serves it.
 *
 * The browser warns about the certificate (it is signed by nobody it trusts): the user checks that the address is the
 * registered callback (`https://127.0.0.1:<port>`) and proceeds. Say so in what you print; {@link browserWarning} is
 * a sentence for it. The certificate's SHA-256 fingerprint is there to compare with the one the browser shows.
 *
 * The certificate is made with `@peculiar/x509` (and its `reflect-metadata` polyfill), optional peers of this package
 * loaded only when a certificate is made, so that programs that never log in do not load them (nor the global
 * `Reflect` polyfill). Without them, making one fails with `InvalidConfiguration` saying what to install.
 *
 * ```ts
 * import { LoopbackHttps } from "@effect-oauth2/node"
 * import * as AuthorizationCode from "@effect-oauth2/core/AuthorizationCode"
 * import { Effect } from "effect"
 *
 * AuthorizationCode.login({ redirectUri: "https://127.0.0.1:8182", onAuthorizeUrl: (url) => Effect.log(url) }).pipe(
 *   Effect.provide(LoopbackHttps.layerFor("https://127.0.0.1:8182"))
 * )
 * ```
 *
 * @since 0.2.0
 */
import { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as Etag from "@effect/platform/Etag"
import type * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { createHash, webcrypto } from "node:crypto"
import type * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"

/**
 * A self-signed certificate made in memory. Its private key is `Redacted`: printing it never shows the key.
 *
 * @since 0.2.0
 * @category models
 */
export interface Certificate {
  /** The certificate, PEM. Give it to a client that must trust this server (a test's `ca`). */
  readonly certificate: string
  /** Its private key, PEM (PKCS#8, ECDSA P-256). */
  readonly privateKey: Redacted.Redacted<string>
  /** The SHA-256 fingerprint, as browsers show it (`AB:CD:...`). */
  readonly fingerprint256: string
  /** When it stops being valid (epoch milliseconds). */
  readonly notAfter: number
}

/**
 * The options of {@link makeCertificate}.
 *
 * @since 0.2.0
 * @category models
 */
export interface CertificateOptions {
  /** How long it is valid, from now. Default: 1 day (a login takes minutes; the certificate lives in memory only). */
  readonly validity?: Duration.DurationInput | undefined
}

/** The names the certificate covers: the loopback callback's hosts. */
const ALT_NAMES = [
  { type: "ip", value: "127.0.0.1" },
  { type: "ip", value: "::1" },
  { type: "dns", value: "localhost" }
] as const

const missingPeers = (cause: unknown) =>
  new InvalidConfiguration({
    provider: "loopback-https",
    source: "configuration",
    description: `making the callback's self-signed certificate needs the packages @peculiar/x509 and reflect-metadata ${
      cause instanceof Error && /Cannot find (module|package)/.test(cause.message) ? "(not installed)" : "(failed to load)"
    }: install them next to @effect-oauth2/node.`
  })

const toPem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`

/**
 * Makes a self-signed ECDSA P-256 certificate for `127.0.0.1`, `::1` and `localhost` (server authentication), and its
 * private key, in memory. Fails with `InvalidConfiguration` when `@peculiar/x509` or `reflect-metadata` is missing.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeCertificate = (options?: CertificateOptions): Effect.Effect<Certificate, InvalidConfiguration> =>
  Effect.gen(function*() {
    const x509 = yield* Effect.tryPromise({
      try: async () => {
        // @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill first.
        await import("reflect-metadata")
        const module = await import("@peculiar/x509")
        module.cryptoProvider.set(webcrypto as unknown as Crypto)
        return module
      },
      catch: missingPeers
    })
    const validity = Duration.toMillis(Duration.decode(options?.validity ?? Duration.days(1)))
    return yield* Effect.promise(async (): Promise<Certificate> => {
      const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
        "sign",
        "verify"
      ]) as CryptoKeyPair
      const now = Date.now()
      const notAfter = now + validity
      const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1")
      const certificate = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial,
        name: "CN=127.0.0.1, O=effect-oauth2 login callback",
        keys,
        signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
        // An hour back, for a clock that is a little behind the browser's.
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(notAfter),
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
          new x509.SubjectAlternativeNameExtension(ALT_NAMES.map((n) => ({ type: n.type, value: n.value })))
        ]
      })
      const der = Buffer.from(certificate.rawData)
      const fingerprint256 = createHash("sha256").update(der).digest("hex").toUpperCase().match(/.{2}/g)!.join(":")
      const privateKey = toPem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey))
      return {
        certificate: certificate.toString("pem"),
        privateKey: Redacted.make(privateKey),
        fingerprint256,
        notAfter
      }
    })
  }).pipe(Effect.withSpan("LoopbackHttps.makeCertificate"))

/**
 * The options of {@link layer}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The port: the registered callback's (`8182` for `https://127.0.0.1:8182`). `0`: any free port. */
  readonly port: number
  /** The loopback address to listen on. Default: `"127.0.0.1"`. */
  readonly host?: string | undefined
  /** The certificate to serve. Default: a fresh one ({@link makeCertificate}). */
  readonly certificate?: Certificate | undefined
  /**
   * How long closing the server waits for open connections to end before it cuts them ({@link withBoundedClose}).
   * Default: 1 second.
   */
  readonly shutdownGrace?: Duration.DurationInput | undefined
}

/**
 * Makes closing `server` end within `grace`: connections still open `grace` after `close()` was called are
 * destroyed, so that `close()`'s callback (and the scope that waits for it) comes at the latest then.
 *
 * Node's `close()` waits for every connection to end. It closes idle keep-alive connections at once, but not a socket
 * that connected and sent nothing, a request whose headers never finish, or a TLS handshake that stalls: a browser's
 * speculative connection to the callback, or a tab left on its warning page, kept a login's listener (and the command
 * that waits for it) open for up to two minutes. The login's answer has been written by the time the listener closes;
 * the grace lets it reach the browser. Returns `server`.
 *
 * @since 0.2.0
 * @category utils
 */
export const withBoundedClose = <S extends Net.Server>(server: S, grace: Duration.DurationInput = "1 second"): S => {
  const millis = Duration.toMillis(Duration.decode(grace))
  const sockets = new Set<Net.Socket>()
  server.on("connection", (socket: Net.Socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  const close = server.close.bind(server)
  const bounded = (callback?: (error?: Error) => void): S => {
    const timer = setTimeout(() => {
      for (const socket of sockets) socket.destroy()
    }, millis)
    timer.unref()
    close((error) => {
      clearTimeout(timer)
      callback?.(error)
    })
    return server
  }
  server.close = bounded
  return server
}

/**
 * What {@link layer} provides: the `HttpServer` (and what `NodeHttpServer.layer` provides with it).
 *
 * @since 0.2.0
 * @category models
 */
export type Services = HttpServer.HttpServer | HttpPlatform.HttpPlatform | Etag.Generator | NodeContext.NodeContext

/**
 * An HTTPS `HttpServer` on a loopback address, serving a self-signed certificate (a fresh one unless given). It
 * listens while the layer's scope is open; closing the scope ends within `shutdownGrace` ({@link withBoundedClose}). Fails with `ServeError` when the port is taken, and with
 * `InvalidConfiguration` for a host that is not loopback or a missing certificate library.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Services, HttpServerError.ServeError | InvalidConfiguration> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    if (!/^(127(\.\d{1,3}){3}|::1|localhost)$/.test(host)) {
      return yield* new InvalidConfiguration({
        provider: "loopback-https",
        source: "configuration",
        description: `the callback listener must be on a loopback address (127.0.0.1), not "${host.slice(0, 64)}".`
      })
    }
    const certificate = options.certificate ?? (yield* makeCertificate())
    return NodeHttpServer.layer(
      () =>
        withBoundedClose(
          Https.createServer({
            cert: certificate.certificate,
            key: Redacted.value(certificate.privateKey),
            minVersion: "TLSv1.2"
          }),
          options.shutdownGrace
        ) as unknown as Http.Server,
      { host, port: options.port }
    )
  }))

/**
 * {@link layer} for a registered callback URL such as `"https://127.0.0.1:8182"`: its port (443 when it names none,
 * which usually needs root) on `127.0.0.1`. Fails with `InvalidConfiguration` for a URL that is not `https` on a
 * loopback host.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFor = (
  redirectUri: string,
  options?: { readonly certificate?: Certificate | undefined }
): Layer.Layer<Services, HttpServerError.ServeError | InvalidConfiguration> =>
  Layer.unwrapEffect(Effect.suspend(() => {
    let url: URL | undefined
    try {
      url = new URL(redirectUri)
    } catch {
      url = undefined
    }
    if (url === undefined || url.protocol !== "https:" || !/^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/.test(url.hostname)) {
      return Effect.fail(
        new InvalidConfiguration({
          provider: "loopback-https",
          source: "configuration",
          description: "the registered callback for an HTTPS listener must be https:// on a loopback host, e.g. " +
            "https://127.0.0.1:8182."
        })
      )
    }
    const host = url.hostname === "[::1]" ? "::1" : url.hostname === "localhost" ? "127.0.0.1" : url.hostname
    return Effect.succeed(
      layer({ port: url.port === "" ? 443 : Number(url.port), host, certificate: options?.certificate })
    )
  }))

/**
 * What to tell the user before the browser reaches the callback: the warning they will see and how to get past it.
 *
 * @since 0.2.0
 * @category constants
 */
export const browserWarning = (redirectUri: string, certificate?: Certificate | undefined): string =>
  `The browser will warn that the connection to ${redirectUri} is not private: the login's callback uses a ` +
  "certificate made on this machine a moment ago, which no authority signed. Check that the address is exactly " +
  `${redirectUri}, then choose Advanced > Proceed (Chrome) or Accept the Risk (Firefox).${
    certificate === undefined ? "" : ` Its SHA-256 fingerprint is ${certificate.fingerprint256}.`
  }`
