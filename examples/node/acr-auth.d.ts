/**
 * Types of `acr-auth.js`. The records come from the declarations jco
 * generates from the WIT (`npm run build`), so they follow the WIT; this
 * file only describes what the wrapper changes: options objects instead of
 * positional `option` arguments, response bodies as text or bytes, numbers
 * accepted for times, an identity, a credential source, a login event and a
 * login step as one object with a `kind` instead of nested `{tag, val}`
 * variants, and `Error` subclasses instead of jco's `ComponentError`.
 *
 * Every WIT type is exported under its WIT name in PascalCase, except
 * `RegistryReferenceError` (`reference-error`: JavaScript has its own
 * `ReferenceError`) and `LoginEvent` and `LoginStep` (`event`, `step`:
 * `Event` is a global class), and those the wrapper folds into another
 * shape: the error records into the error classes, `credentials` into
 * `{entraToken}` or `{identity}`, a managed identity's ID into one of three
 * keys. `test/wit-types.test.js` checks all of it against the WIT.
 *
 * WIT `u64` values are `bigint`: `expiresAt` and `issuedAt` are BigInt unix
 * seconds, a step's times BigInt milliseconds.
 */

import type {
    Audience,
    Cloud,
    CloudEnvironment,
    CloudEnvironmentErrorKind,
    ReferenceErrorKind,
    ResolvedScope,
} from './generated/pure/interfaces/acr-auth-scope.js';
import type { InputErrorKind } from './generated/pure/interfaces/acr-auth-exchange.js';
import type { Header, Request, TransportError, TransportErrorKind } from './generated/pure/interfaces/acr-auth-http.js';
import type { AccessToken, AcrError, Credential, MalformedKind } from './generated/pure/interfaces/acr-auth-token.js';
import type { Challenge, ChallengeErrorKind } from './generated/pure/interfaces/acr-auth-challenge.js';
import type {
    AppService,
    CertificateFile,
    ClientSecret,
    EntraRequestErrorKind,
    EntraToken,
    EnvironmentErrorKind,
    FederatedToken,
    FederatedTokenFile,
} from './generated/pure/interfaces/acr-auth-entra.js';
import type { FileToRead, LoginErrorKind, LoginResult, Outgoing, Stage } from './generated/pure/interfaces/acr-auth-flow.js';

// The WIT types the wrapper passes through as jco declares them.
export type {
    AccessToken,
    AcrError,
    AppService,
    Audience,
    CertificateFile,
    Challenge,
    ChallengeErrorKind,
    ClientSecret,
    Cloud,
    CloudEnvironment,
    CloudEnvironmentErrorKind,
    Credential,
    EntraRequestErrorKind,
    EntraToken,
    EnvironmentErrorKind,
    FederatedToken,
    FederatedTokenFile,
    FileToRead,
    Header,
    InputErrorKind,
    LoginErrorKind,
    LoginResult,
    MalformedKind,
    Outgoing,
    ReferenceErrorKind,
    Request,
    ResolvedScope,
    Stage,
    TransportError,
    TransportErrorKind,
};

/** A response body: text, or the bytes of a `fetch` response or `Buffer`. */
export type ResponseBody = string | ArrayBuffer | ArrayBufferView;

/**
 * A response as the login flow reads it: the WIT `response`, with its
 * headers as a `Headers` object, `[name, value]` pairs or `{name, value}`
 * records, and its body as text or bytes (none when absent). Not the fetch
 * API's global `Response`, which `LoginIo.fetch` returns.
 */
export interface Response {
    /** The HTTP status. */
    status: number;
    /** The response headers. */
    headers?: Iterable<[string, string]> | Header[];
    /** The body, at most the length the request allowed. */
    body?: ResponseBody;
}

/** Where a managed identity's tokens come from, as the Azure SDKs choose it from the environment. */
export type ManagedIdentitySource =
    /** The instance metadata service at 169.254.169.254 (VMs, AKS nodes). */
    | { kind: 'imds' }
    /** App Service, Functions, Container Apps: `IDENTITY_ENDPOINT`, and `IDENTITY_HEADER` (a secret). */
    | ({ kind: 'app-service' } & AppService)
    /** Azure Arc: `IDENTITY_ENDPOINT`; system-assigned only. */
    | { kind: 'azure-arc'; endpoint: string }
    /** Cloud Shell: `MSI_ENDPOINT`; system-assigned only. */
    | { kind: 'cloud-shell'; endpoint: string };

/**
 * A managed identity: the system-assigned one without an ID, else the
 * user-assigned one its one ID names; served by `source`, IMDS when absent.
 */
export type ManagedIdentity = { kind: 'managed-identity'; source?: ManagedIdentitySource } & (
    | { clientId?: undefined; objectId?: undefined; resourceId?: undefined }
    /** Its client ID (a GUID). */
    | { clientId: string; objectId?: undefined; resourceId?: undefined }
    /** Its object (principal) ID (a GUID). */
    | { clientId?: undefined; objectId: string; resourceId?: undefined }
    /** Its Azure resource ID, `/subscriptions/.../userAssignedIdentities/<name>`. */
    | { clientId?: undefined; objectId?: undefined; resourceId: string }
);

/**
 * Who the host is to Entra: the WIT `identity`, its case as `kind` next to
 * the case's fields. The federated token and the client secret are secrets.
 */
export type Identity =
    | ({ kind: 'federated-token' } & FederatedToken)
    | ({ kind: 'client-secret' } & ClientSecret)
    | ManagedIdentity;

/** Who logs in: an Entra token the host has (a secret), or its identity. */
export type Credentials = { entraToken: string } | { identity: Identity };

/**
 * The identity the environment describes: the WIT `environment-identity`,
 * its case as `kind` next to that case's fields.
 */
export type EnvironmentIdentity =
    /** Usable as it is: a client secret or a managed identity. */
    | { kind: 'ready'; identity: Identity }
    /** A service principal's certificate and unencrypted key in a PEM file, to sign a client assertion with. */
    | ({ kind: 'client-certificate' } & CertificateFile)
    /** A federated token in a file, to read for each login (the platform rotates it). */
    | ({ kind: 'workload-identity' } & FederatedTokenFile);

/**
 * Environment variables: an object of names and values such as
 * `process.env` (an `undefined` value is unset), or `[name, value]` pairs
 * such as a `Map`'s, of which the last of a name given twice counts. An
 * empty value counts as unset.
 */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>> | Iterable<readonly [string, string]>;

/** The base class of every refusal this module throws. */
export class AcrAuthError extends Error {
    constructor(kind: string, message: string, options?: ErrorOptions);
    /** What was wrong, to branch on. */
    kind: string;
}

/** A refused registry reference, or a refused custom cloud record (`invalid-cloud`). */
export class RegistryReferenceError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-scope.js').ReferenceError);
    kind: ReferenceErrorKind;
}

/** A refused custom cloud environment file. */
export class CloudEnvironmentError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-scope.js').CloudEnvironmentError);
    kind: CloudEnvironmentErrorKind;
    /** The JSON field at fault, when there is one. */
    field: string | undefined;
}

/** A request that could not be built: the reference or custom cloud, or a token, tenant or scope. */
export class RequestError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-exchange.js').RequestError);
    /** Which argument was refused. */
    kind: 'reference' | 'input';
    /** Why: a reference-error kind for `reference`, an input-error kind for `input`. */
    reason: ReferenceErrorKind | InputErrorKind;
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

/** A refused `WWW-Authenticate` header, or a refused custom cloud record (`invalid-cloud`). */
export class ChallengeError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-challenge.js').ChallengeError);
    kind: ChallengeErrorKind;
    /** Why the realm's host was refused, for `realm-host`; also the `cause`. */
    realmError: RegistryReferenceError | undefined;
}

/** A refused argument of `buildEntraTokenRequest`; the message never holds the credential. */
export class EntraRequestError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-entra.js').EntraRequestError);
    kind: EntraRequestErrorKind;
}

/** An Entra answer that did not yield a token. The refusal fields are set for `refused` only. */
export class EntraResponseError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-entra.js').EntraResponseError);
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

/** Environment variables that name no usable identity; the message names variables, never their values. */
export class EnvironmentError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-entra.js').EnvironmentError);
    /** `incomplete`: a variable is set without another it needs; `unsupported`: it asks for what is not supported. */
    kind: EnvironmentErrorKind;
}

/** A failed login. No field holds a secret the login handled, whole or in part. */
export class LoginError extends AcrAuthError {
    constructor(payload: import('./generated/pure/interfaces/acr-auth-flow.js').LoginError);
    kind: LoginErrorKind;
    /** The step that failed. */
    stage: Stage;
    /** The HTTP status, when a response arrived. */
    status: number | undefined;
    /** The ACR errors of the response body. */
    errors: AcrError[];
    /** The registry's `x-ms-correlation-request-id` or Entra's `correlation_id`, which support asks for. */
    correlationId: string | undefined;
}

/** Options of the functions that accept a custom cloud. */
export interface CustomCloudOptions {
    /** A custom cloud from `parseCloudEnvironment` (or built by hand: it is checked the same way). */
    customCloud?: CloudEnvironment;
}

/** Options of `buildExchangeRequest`. */
export interface ExchangeOptions extends CustomCloudOptions {
    /** The Entra tenant, sent when given. */
    tenant?: string;
}

/** When to try a refused request again: the WIT `retry-policy`, every field given. */
export interface RetryPolicy {
    /** Retries after a refusal from a registry or Entra (the flow's default 3). */
    maxRetries: number;
    /** Retries after a refusal from a metadata service (the flow's default 5). */
    metadataMaxRetries: number;
    /** The first backoff; each retry doubles it (the flow's default 1000). */
    firstDelayMs: number | bigint;
    /** The longest single wait (the flow's default 60000). */
    maxDelayMs: number | bigint;
    /** How long a metadata service's 410 is retried (the flow's default 70000). */
    goneWindowMs: number | bigint;
}

/** Options of a `LoginFlow`: the WIT `login-options`. */
export interface LoginOptions extends ExchangeOptions {
    /** Repository scopes to get an access token for; none skips `/oauth2/token`. */
    repositoryScopes?: string[];
    /** Whether to confirm the registry's Bearer challenge at `/v2/` first. */
    discover?: boolean;
    /** Connection timeout in milliseconds; default 10000. */
    connectTimeoutMs?: number | bigint;
    /** Time to the first response byte in milliseconds; default 30000. */
    firstByteTimeoutMs?: number | bigint;
    /** Time between response body chunks in milliseconds; default 30000. */
    betweenBytesTimeoutMs?: number | bigint;
    /** When to retry; the flow's defaults when absent. */
    retry?: RetryPolicy;
}

/** The I/O `login` performs; `defaultIo` holds Node's. */
export interface LoginIo {
    /** Sends a request: called with `redirect: 'manual'` and an abort `signal`. */
    fetch(url: string, init: RequestInit): Promise<globalThis.Response>;
    /** Unix milliseconds. */
    now(): number;
    /** Resolves after `ms` milliseconds, or rejects when `signal` aborts. */
    sleep(ms: number, signal?: AbortSignal): Promise<unknown>;
    /** The text of the file at `path`; rejects if it cannot be read or is longer than `maxLen` bytes. */
    readFile(path: string, maxLen: number, signal?: AbortSignal): Promise<string>;
}

/** Options of `login`. */
export interface LoginDriverOptions extends LoginOptions {
    /** Aborts the login; the promise then rejects with the signal's reason. */
    signal?: AbortSignal;
    /** Replaces any of `defaultIo`'s functions. */
    io?: Partial<LoginIo>;
    /**
     * The directory holding the Azure Arc agent's key files, which its
     * endpoint names as in `/var/opt/azcmagent/tokens` (the default).
     */
    arcKeyDirectory?: string;
}

/** What happened since the last step of a `LoginFlow`. */
export type LoginEvent =
    /** Nothing yet: the first call. */
    | { kind: 'start' }
    /** The response to the request of the last `send` step. */
    | ({ kind: 'response' } & Response)
    /** That request got no response. */
    | { kind: 'transport-failed'; error: TransportError }
    /** The time of the last `wait` step has come. */
    | { kind: 'woke' }
    /** The contents of the file the last `read-file` step named: a secret. */
    | { kind: 'file-read'; contents: string }
    /** That file could not be read, and why. */
    | { kind: 'file-failed'; reason: string };

/** What a `LoginFlow` says to do next. */
export type LoginStep =
    /** Send `request` exactly as given, following no redirect, within the timeouts; read at most `maxResponseLen` body bytes. */
    | ({ kind: 'send' } & Outgoing)
    /** Step with `{kind: 'woke'}` at this unix millisecond or later. */
    | { kind: 'wait'; untilMs: bigint }
    /** Read this file, at most `maxLen` bytes (the Azure Arc agent's key). */
    | ({ kind: 'read-file' } & FileToRead)
    /** Logged in. */
    | { kind: 'done'; result: LoginResult }
    /** The login failed; every further step says so again. */
    | { kind: 'failed'; error: LoginError };

/** A login in progress, as a state machine the caller drives. */
export class LoginFlow implements Disposable {
    constructor(reference: string, credentials: Credentials, options?: LoginOptions);
    /** Takes what happened since the last step, at `nowMs` (unix milliseconds), and returns what to do next. */
    step(nowMs: number | bigint, event: LoginEvent): LoginStep;
    /** Frees the flow's component memory. */
    [Symbol.dispose](): void;
}

/** The login server, cloud and Entra scope of a registry reference. @throws {RegistryReferenceError} */
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

/** The credential of an `/oauth2/exchange` response; `sent`: the secrets the request carried. @throws {ResponseError} */
export function parseRefreshToken(status: number, body: ResponseBody, sent: string[]): Credential;

/** The access token of an `/oauth2/token` response; `sent`: the secrets the request carried. @throws {ResponseError} */
export function parseAccessToken(status: number, body: ResponseBody, sent: string[]): AccessToken;

/** The Bearer challenge of a `WWW-Authenticate` header. @throws {ChallengeError} */
export function parseChallenge(wwwAuthenticate: string, options?: CustomCloudOptions): Challenge;

/** The request for an Entra token for `scope` with the host's own identity, as data. @throws {EntraRequestError} */
export function buildEntraTokenRequest(identity: Identity, scope: string, options?: CustomCloudOptions): Request;

/**
 * The claims of a certificate credential's client assertion, as JSON text to
 * sign (RS256, `x5t#S256`); `now` in unix seconds, `id` a random GUID.
 * @throws {EntraRequestError}
 */
export function clientAssertionClaims(
    tenant: string,
    clientId: string,
    now: number | bigint,
    id: string,
    options?: { authorityHost?: string; customCloud?: CloudEnvironment },
): string;

/**
 * The Entra token of an answer to a request sent at unix time `now`; `sent`:
 * the secrets the request carried. @throws {EntraResponseError}
 */
export function parseEntraTokenResponse(
    status: number,
    body: ResponseBody,
    now: number | bigint,
    sent: string[],
): EntraToken;

/**
 * The identity the environment variables describe, in
 * `DefaultAzureCredential`'s order: a client secret, a client certificate,
 * workload identity, else the managed identity of the platform's endpoint.
 * @throws {EnvironmentError}
 */
export function identityFromEnvironment(variables: EnvironmentVariables): EnvironmentIdentity;

/** Options of `readIdentityFromEnvironment`. */
export interface ReadIdentityOptions {
    /** Aborts reading the token file. */
    signal?: AbortSignal;
    /** Replaces `defaultIo.readFile`. */
    io?: Partial<Pick<LoginIo, 'readFile'>>;
}

/**
 * The identity the environment variables (`process.env` when none) describe,
 * ready for `login`: a workload identity's token file is read (call this for
 * each login: the platform rotates the token). Rejects with `EnvironmentError`
 * (`unsupported` for a client certificate), or as reading the file fails.
 */
export function readIdentityFromEnvironment(variables?: EnvironmentVariables, options?: ReadIdentityOptions): Promise<Identity>;

/** Node's I/O for `login`: global `fetch`, `Date.now`, timers and `fs.promises`. */
export const defaultIo: Readonly<LoginIo>;

/** The whole login, driven over `fetch` without blocking the event loop. Rejects with `LoginError`. */
export function login(reference: string, credentials: Credentials, options?: LoginDriverOptions): Promise<LoginResult>;
