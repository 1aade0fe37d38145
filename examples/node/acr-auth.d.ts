/**
 * Types of `acr-auth.js`. The records come from the declarations jco
 * generates from the WIT (`npm run build`), so they follow the WIT; this
 * file only describes what the wrapper changes: options objects instead of
 * positional `option` arguments, response bodies as text or bytes, numbers
 * accepted for timeouts and times, an Entra identity as one object with a
 * `kind` instead of nested `{tag, val}` variants, and `Error` subclasses
 * instead of jco's `ComponentError`.
 *
 * WIT `u64` values are `bigint`: `expiresAt` and `issuedAt` are BigInt unix
 * seconds.
 */

import type {
    Audience,
    Cloud,
    CloudEnvironment,
    CloudEnvironmentErrorKind,
    ResolvedScope,
    ScopeErrorKind,
} from './generated/pure/interfaces/acr-auth-scope.js';
import type { InputErrorKind } from './generated/pure/interfaces/acr-auth-exchange.js';
import type { Header, Request } from './generated/pure/interfaces/acr-auth-http.js';
import type { AccessToken, AcrError, Credential, MalformedKind } from './generated/pure/interfaces/acr-auth-token.js';
import type { Challenge, ChallengeErrorKind } from './generated/pure/interfaces/acr-auth-challenge.js';
import type { LoginErrorKind, LoginResult, Stage } from './generated/client/interfaces/acr-auth-login.js';
import type {
    ClientSecret,
    EntraRequestErrorKind,
    EntraToken,
    FederatedToken,
} from './generated/client/interfaces/acr-auth-entra.js';

// Every WIT type the wrapper passes through unchanged, by its WIT name
// (`test/wit-types.test.js` checks that none is missing).
export type {
    AccessToken,
    AcrError,
    Audience,
    Challenge,
    ChallengeErrorKind,
    ClientSecret,
    Cloud,
    CloudEnvironment,
    CloudEnvironmentErrorKind,
    Credential,
    EntraRequestErrorKind,
    EntraToken,
    FederatedToken,
    Header,
    InputErrorKind,
    LoginErrorKind,
    LoginResult,
    MalformedKind,
    Request,
    ResolvedScope,
    ScopeErrorKind,
    Stage,
};

/** A response body: text, or the bytes of a `fetch` response or `Buffer`. */
export type ResponseBody = string | ArrayBuffer | ArrayBufferView;

/**
 * A managed identity, through the instance metadata service: the
 * system-assigned one without an ID, else the user-assigned one that at most
 * one of its IDs names (more than one is a `TypeError`).
 */
export interface ManagedIdentity {
    kind: 'managed-identity';
    /** Its client ID (a GUID). */
    clientId?: string;
    /** Its object (principal) ID (a GUID). */
    objectId?: string;
    /** Its Azure resource ID, `/subscriptions/.../userAssignedIdentities/<name>`. */
    resourceId?: string;
}

/**
 * Who the host is to Entra: the WIT `identity`, its case as `kind` next to
 * the case's fields. The federated token and the client secret are secrets.
 */
export type Identity =
    | ({ kind: 'federated-token' } & FederatedToken)
    | ({ kind: 'client-secret' } & ClientSecret)
    | ManagedIdentity;

/** The base class of every refusal this module throws. */
export class AcrAuthError extends Error {
    constructor(kind: string, message: string, options?: ErrorOptions);
    /** What was wrong, to branch on. */
    kind: string;
}

/** A refused registry reference. */
export class ScopeError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-scope.js').ScopeError);
    kind: ScopeErrorKind;
}

/** A refused custom cloud environment file. */
export class CloudEnvironmentError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-scope.js').CloudEnvironmentError);
    kind: CloudEnvironmentErrorKind;
    /** The JSON field at fault, when there is one. */
    field: string | undefined;
}

/** A request that could not be built: the reference, or a token, tenant or scope. */
export class RequestError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-exchange.js').RequestError);
    /** Which argument was refused. */
    kind: 'reference' | 'input';
    /** Why: a scope-error kind for `reference`, an input-error kind for `input`. */
    reason: ScopeErrorKind | InputErrorKind;
}

/** A registry response that did not yield a token. */
export class ResponseError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-token.js').ResponseError);
    /** `refused`: a status other than 200; `malformed`: a 200 that breaks the protocol. */
    kind: 'refused' | 'malformed';
    /** The HTTP status, for `refused`. */
    status?: number;
    /** Why the response is malformed, for `malformed`. */
    reason?: MalformedKind;
    /** The ACR errors of a refusal's body; empty for `malformed`. */
    errors: AcrError[];
}

/** A refused `WWW-Authenticate` header. */
export class ChallengeError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-challenge.js').ChallengeError);
    kind: ChallengeErrorKind;
    /** Why the realm's host was refused, for `realm-host`; also the `cause`. */
    realmError: ScopeError | undefined;
}

/** A failed login. No field holds a token. */
export class LoginError extends AcrAuthError {
    constructor(payload: import('./generated/client/interfaces/acr-auth-login.js').LoginError);
    kind: LoginErrorKind;
    /** The step that failed. */
    stage: Stage;
    /** The HTTP status, when a response arrived. */
    status: number | undefined;
    /** The ACR errors of the response body. */
    errors: AcrError[];
    /** The response's `x-ms-correlation-request-id`, which support asks for. */
    correlationId: string | undefined;
}

/** A refused argument of `buildEntraTokenRequest`; the message never holds the credential. */
export class EntraRequestError extends AcrAuthError {
    constructor(payload: import('./generated/client/interfaces/acr-auth-entra.js').EntraRequestError);
    kind: EntraRequestErrorKind;
}

/** An Entra answer that did not yield a token. The refusal fields are set for `refused` only. */
export class EntraResponseError extends AcrAuthError {
    constructor(payload: import('./generated/client/interfaces/acr-auth-entra.js').EntraResponseError);
    /** `refused`: a status other than 200; `malformed`: a 200 that cannot be read. */
    kind: 'refused' | 'malformed';
    /** Why the answer is malformed, for `malformed`. */
    reason?: MalformedKind;
    /** The HTTP status. */
    status?: number;
    /** The OAuth error, e.g. `invalid_client`; empty when absent. */
    error?: string;
    /** `error_description`, which starts with the AADSTS code; empty when absent. */
    description?: string;
    /** The AADSTS code, e.g. 7000215 for a wrong client secret, when there is one. */
    code?: number;
    /** `trace_id`, for Microsoft support; empty when absent. */
    traceId?: string;
    /** `correlation_id`, for Microsoft support; empty when absent. */
    correlationId?: string;
}

/** Options of the functions that accept a custom cloud. */
export interface CustomCloudOptions {
    /** A custom cloud from `parseCloudEnvironment`, for its registries. */
    customCloud?: CloudEnvironment;
}

/** Options of `buildExchangeRequest`. */
export interface ExchangeOptions extends CustomCloudOptions {
    /** The Entra tenant, sent when given. */
    tenant?: string;
}

/** Options of `login`. */
export interface LoginOptions extends ExchangeOptions {
    /** Repository scopes to get an access token for; none skips `/oauth2/token`. */
    scopes?: string[];
    /** Whether to confirm the registry's Bearer challenge at `/v2/` first. */
    discover?: boolean;
    /** Connection timeout in milliseconds; default 10000. */
    connectTimeoutMs?: number | bigint;
    /** Time to the first response byte in milliseconds; default 30000. */
    firstByteTimeoutMs?: number | bigint;
    /** Time between response body chunks in milliseconds; default 30000. */
    betweenBytesTimeoutMs?: number | bigint;
}

/** The login server, cloud and Entra scope of a registry reference. @throws {ScopeError} */
export function resolveScope(reference: string, options?: CustomCloudOptions): ResolvedScope;

/** Reads a custom cloud's environment file. @throws {CloudEnvironmentError} */
export function parseCloudEnvironment(json: string): CloudEnvironment;

/** The `/oauth2/exchange` request, as data. @throws {RequestError} */
export function buildExchangeRequest(reference: string, entraToken: string, options?: ExchangeOptions): Request;

/** The `/oauth2/token` request, as data. @throws {RequestError} */
export function buildTokenRequest(
    reference: string,
    refreshToken: string,
    scopes: string[],
    options?: CustomCloudOptions,
): Request;

/** The credential of an `/oauth2/exchange` response. @throws {ResponseError} */
export function parseRefreshToken(status: number, body: ResponseBody): Credential;

/** The access token of an `/oauth2/token` response. @throws {ResponseError} */
export function parseAccessToken(status: number, body: ResponseBody): AccessToken;

/** The Bearer challenge of a `WWW-Authenticate` header. @throws {ChallengeError} */
export function parseChallenge(wwwAuthenticate: string, options?: CustomCloudOptions): Challenge;

/** The whole login over HTTPS; blocks the calling thread while it runs. Rejects with `LoginError`. */
export function login(reference: string, entraToken: string, options?: LoginOptions): Promise<LoginResult>;

/**
 * The request for an Entra token for `scope` with the host's own identity, as
 * data; loads the `client` component on first use. Rejects with
 * `EntraRequestError`.
 */
export function buildEntraTokenRequest(identity: Identity, scope: string, options?: CustomCloudOptions): Promise<Request>;

/**
 * The Entra token of an answer to a request sent at unix time `now`; loads
 * the `client` component on first use. Rejects with `EntraResponseError`.
 */
export function parseEntraTokenResponse(status: number, body: ResponseBody, now: number | bigint): Promise<EntraToken>;
