/**
 * The little of oidc-provider's API the interop suite uses. The package ships no type declarations, and adding
 * `@types/oidc-provider` would be a dependency for a handful of members.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http"

  export interface StoredToken {
    readonly isValid: boolean
    readonly clientId: string
    readonly accountId?: string | undefined
    readonly scope?: string | undefined
    readonly exp?: number | undefined
  }

  /** The Koa context a middleware sees (the members the suite uses). */
  export interface MiddlewareContext {
    readonly method: string
    readonly path: string
    body: unknown
  }

  export interface TokenModel {
    find(value: string): Promise<StoredToken | undefined>
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>)
    readonly issuer: string
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    on(event: string, listener: (...args: Array<any>) => void): this
    use(middleware: (ctx: MiddlewareContext, next: () => Promise<void>) => Promise<void>): this
    readonly AccessToken: TokenModel
    readonly ClientCredentials: TokenModel
    readonly RefreshToken: TokenModel
  }
}
