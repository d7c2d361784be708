/**
 * How a confidential client proves its identity to the token, revocation and introspection endpoints (RFC 6749
 * §2.3.1). Exactly one method is applied to a request: never a Basic header and body credentials together.
 *
 * @since 0.1.0
 */
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"

/**
 * How the client id and secret are put in a Basic header.
 *
 * - `"form"` (RFC 6749 §2.3.1): each is `application/x-www-form-urlencoded` first, then `id:secret` is base64-encoded.
 * - `"raw"`: `id:secret` is base64-encoded as is, for servers that do not form-decode (Openmarkets' sample does this).
 *
 * The two agree for ids and secrets made only of `[A-Za-z0-9._~-]`.
 *
 * @since 0.1.0
 * @category models
 */
export type BasicEncoding = "form" | "raw"

/**
 * `client_secret_basic`: the credentials in an `Authorization: Basic` header.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientSecretBasic {
  readonly _tag: "ClientSecretBasic"
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly encoding: BasicEncoding
}

/**
 * `client_secret_post`: `client_id` and `client_secret` in the form body.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientSecretPost {
  readonly _tag: "ClientSecretPost"
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
}

/**
 * `none`: a public client, identified by `client_id` in the body, with no secret.
 *
 * @since 0.1.0
 * @category models
 */
export interface None {
  readonly _tag: "None"
  readonly clientId: string
}

/**
 * @since 0.1.0
 * @category models
 */
export type ClientAuth = ClientSecretBasic | ClientSecretPost | None

/**
 * The name of a client authentication method, as in RFC 8414's `token_endpoint_auth_methods_supported`.
 *
 * @since 0.1.0
 * @category models
 */
export type Method = "client_secret_basic" | "client_secret_post" | "none"

/**
 * @since 0.1.0
 * @category constructors
 */
export const basic = (
  clientId: string,
  clientSecret: Redacted.Redacted<string>,
  encoding: BasicEncoding = "form"
): ClientSecretBasic => ({ _tag: "ClientSecretBasic", clientId, clientSecret, encoding })

/**
 * @since 0.1.0
 * @category constructors
 */
export const post = (clientId: string, clientSecret: Redacted.Redacted<string>): ClientSecretPost => ({
  _tag: "ClientSecretPost",
  clientId,
  clientSecret
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const none = (clientId: string): None => ({ _tag: "None", clientId })

/**
 * Builds the client authentication for a method name. A secret is required for the two secret methods.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromMethod = (options: {
  readonly method: Method
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  readonly basicEncoding?: BasicEncoding | undefined
}): ClientAuth => {
  switch (options.method) {
    case "none":
      return none(options.clientId)
    case "client_secret_post":
      return post(options.clientId, options.clientSecret ?? Redacted.make(""))
    case "client_secret_basic":
      return basic(options.clientId, options.clientSecret ?? Redacted.make(""), options.basicEncoding ?? "form")
  }
}

/**
 * `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 Appendix B asks: spaces become `+`, every
 * character outside `[A-Za-z0-9*._~-]` is percent-encoded. `~` (an RFC 3986 unreserved character, which form decoders
 * read either way) is left as is, so that the `"form"` and `"raw"` Basic encodings agree for `[A-Za-z0-9._~-]`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const formEncode = (value: string): string =>
  // URLSearchParams escapes "~" as "%7E"; a literal "%" comes out as "%25", so "%7E" only ever stands for "~".
  new URLSearchParams([["", value]]).toString().slice(1).replace(/%7E/g, "~")

/**
 * The value of the `Authorization: Basic` header for a client id and secret.
 *
 * @since 0.1.0
 * @category encoding
 */
export const basicHeader = (clientId: string, clientSecret: string, encoding: BasicEncoding = "form"): string => {
  const pair = encoding === "form"
    ? `${formEncode(clientId)}:${formEncode(clientSecret)}`
    : `${clientId}:${clientSecret}`
  return `Basic ${Encoding.encodeBase64(pair)}`
}

/**
 * What a client authentication adds to a request: headers and form parameters. The secret is unwrapped here, at the
 * HTTP boundary, and nowhere else.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toRequestParts = (
  auth: ClientAuth
): { readonly headers: Record<string, string>; readonly params: ReadonlyArray<readonly [string, string]> } => {
  switch (auth._tag) {
    case "ClientSecretBasic":
      return {
        headers: { authorization: basicHeader(auth.clientId, Redacted.value(auth.clientSecret), auth.encoding) },
        params: []
      }
    case "ClientSecretPost":
      return {
        headers: {},
        params: [["client_id", auth.clientId], ["client_secret", Redacted.value(auth.clientSecret)]]
      }
    case "None":
      return { headers: {}, params: [["client_id", auth.clientId]] }
  }
}

/**
 * The method name of a client authentication.
 *
 * @since 0.1.0
 * @category getters
 */
export const method = (auth: ClientAuth): Method =>
  auth._tag === "ClientSecretBasic" ? "client_secret_basic" : auth._tag === "ClientSecretPost" ? "client_secret_post" : "none"
