/**
 * @effect-oauth2/core: OAuth 2.0 access tokens for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AccessToken from "./AccessToken.js"
/** @since 0.1.0 */
export * as ClientAuth from "./ClientAuth.js"
/** @since 0.2.0 */
export * as Discovery from "./Discovery.js"
/** @since 0.2.0 */
export * as Dpop from "./Dpop.js"
/** @since 0.1.0 */
export * as Endpoint from "./Endpoint.js"
/** @since 0.1.0 */
export * as FileTokenStore from "./FileTokenStore.js"
/** @since 0.1.0 */
export * as Grant from "./Grant.js"
/** @since 0.1.0 */
export * as Metrics from "./Metrics.js"
/** @since 0.1.0 */
export * as OAuth2Client from "./OAuth2Client.js"
/** @since 0.1.0 */
export * as OAuth2Error from "./OAuth2Error.js"
/** @since 0.1.0 */
export * as AccessTokens from "./AccessTokens.js"
/** @since 0.1.0 */
export * as ApiResponse from "./ApiResponse.js"
/** @since 0.1.0 */
export * as AuthorizationCode from "./AuthorizationCode.js"
/** @since 0.1.0 */
export * as OAuth2HttpClient from "./OAuth2HttpClient.js"
/** @since 0.2.0 */
export * as OAuth2Provider from "./OAuth2Provider.js"
/** @since 0.1.0 */
export * as TokenStore from "./TokenStore.js"
/** @since 0.1.0 */
export * as ProviderConfig from "./ProviderConfig.js"
/** @since 0.1.0 */
export * as TokenCipher from "./TokenCipher.js"
/** @since 0.2.0 */
export * as RefreshTokenLifetime from "./RefreshTokenLifetime.js"
