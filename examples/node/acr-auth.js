/**
 * acr-auth for Node: the acr-auth WebAssembly components, transpiled by jco
 * (`npm run build`), behind plain functions that take and return plain
 * objects and throw `Error` subclasses.
 *
 * - The pure functions run in the `pure` component, which imports nothing:
 *   no file, network, clock or randomness is reachable from it.
 * - `login` runs in the `client` component, whose only import is
 *   `wasi:http`; `@bytecodealliance/preview2-shim` implements it with
 *   `node:https`. The client is loaded on the first call of `login`, so code
 *   that never logs in never loads it or the shim; that is why `login`
 *   returns a promise.
 *
 * Values follow jco's mapping of the WIT types: record fields are camelCase
 * (`login-server` is `loginServer`), an absent `option` is `undefined`, a
 * `list<u8>` is a `Uint8Array`, and a WIT `u64` is a `BigInt`. So
 * `expiresAt` and `issuedAt` are BigInt unix seconds: compare them with
 * `BigInt(Math.floor(Date.now() / 1000))`, or convert with `Number()`, which
 * is exact below 2^53 seconds (some 285 million years).
 *
 * @module acr-auth
 */

import { challenge, entra, exchange, scope, token } from './generated/pure/acr_auth.js';

/**
 * The base class of every refusal this module throws, so that one
 * `instanceof` tells a refused input or response from a bug (a `TypeError`
 * for an argument of the wrong type, or a WebAssembly trap).
 *
 * `kind` is the value to branch on; `message` is for people and never holds
 * a token.
 */
export class AcrAuthError extends Error {
    /**
     * @param {string} kind what was wrong, to branch on
     * @param {string} message what was wrong, for people
     * @param {ErrorOptions} [options] the standard `cause`
     */
    constructor(kind, message, options) {
        super(message, options);
        this.name = new.target.name;
        this.kind = kind;
    }
}

/**
 * A refused registry reference, from `resolveScope`: `kind` is the WIT
 * `scope-error-kind`, e.g. `unsupported-scheme` or `unrecognised-host`.
 */
export class ScopeError extends AcrAuthError {
    /** @param {{kind: string, message: string}} payload the WIT `scope-error` */
    constructor(payload) {
        super(payload.kind, payload.message);
    }
}

/**
 * A refused custom cloud environment file, from `parseCloudEnvironment`:
 * `kind` is the WIT `cloud-environment-error-kind`, `field` the JSON field at
 * fault when there is one.
 */
export class CloudEnvironmentError extends AcrAuthError {
    /** @param {{kind: string, field?: string, message: string}} payload the WIT `cloud-environment-error` */
    constructor(payload) {
        super(payload.kind, payload.message);
        this.field = payload.field;
    }
}

/**
 * A request that could not be built, from `buildExchangeRequest` or
 * `buildTokenRequest`; always caller misuse, never a server answer.
 *
 * `kind` says which argument was refused: `reference` (the registry
 * reference; `reason` is a `scope-error-kind`) or `input` (the token, tenant
 * or scopes; `reason` is an `input-error-kind` such as `empty-token`).
 */
export class RequestError extends AcrAuthError {
    /** @param {{tag: 'reference' | 'input', val: {kind: string, message: string}}} payload the WIT `request-error` */
    constructor(payload) {
        super(payload.tag, payload.val.message);
        this.reason = payload.val.kind;
    }
}

/**
 * A registry response that did not yield a token, from `parseRefreshToken`
 * or `parseAccessToken`.
 *
 * `kind` is `refused` (a status other than 200: `status` holds it, `errors`
 * the ACR error codes and messages of the body) or `malformed` (a 200
 * response that breaks the protocol: `reason` is the WIT `malformed-kind`,
 * e.g. `missing-expiry`, and `errors` is empty).
 */
export class ResponseError extends AcrAuthError {
    /** @param {{tag: 'refused' | 'malformed', val: object}} payload the WIT `response-error` */
    constructor(payload) {
        super(payload.tag, payload.val.message);
        if (payload.tag === 'refused') {
            this.status = payload.val.status;
            this.errors = payload.val.errors;
        } else {
            this.reason = payload.val.kind;
            this.errors = [];
        }
    }
}

/**
 * A refused `WWW-Authenticate` header, from `parseChallenge`: `kind` is the
 * WIT `challenge-error-kind`. For `realm-host`, `realmError` (also the
 * error's `cause`) is the `ScopeError` that refused the realm's host.
 */
export class ChallengeError extends AcrAuthError {
    /** @param {{kind: string, realmError?: {kind: string, message: string}, message: string}} payload the WIT `challenge-error` */
    constructor(payload) {
        const realmError = payload.realmError && new ScopeError(payload.realmError);
        super(payload.kind, payload.message, realmError && { cause: realmError });
        this.realmError = realmError;
    }
}

/**
 * A failed `login`: `kind` is the WIT `login-error-kind` (`refused`,
 * `connect`, `timeout`, ...), `stage` the step that failed (`input`,
 * `discovery`, `exchange`, `token`), `status` the HTTP status when a
 * response arrived, `errors` the ACR errors of its body and `correlationId`
 * its `x-ms-correlation-request-id`, which Azure support asks for.
 */
export class LoginError extends AcrAuthError {
    /** @param {{kind: string, stage: string, message: string, status?: number, errors: object[], correlationId?: string}} payload the WIT `login-error` */
    constructor(payload) {
        super(payload.kind, payload.message);
        this.stage = payload.stage;
        this.status = payload.status;
        this.errors = payload.errors;
        this.correlationId = payload.correlationId;
    }
}

/**
 * A refused argument of `buildEntraTokenRequest`; always caller misuse, never
 * a server answer. `kind` is the WIT `entra-request-error-kind`, e.g.
 * `unknown-authority` or `invalid-credential`. The message never holds the
 * federated token or client secret.
 */
export class EntraRequestError extends AcrAuthError {
    /** @param {{kind: string, message: string}} payload the WIT `entra-request-error` */
    constructor(payload) {
        super(payload.kind, payload.message);
    }
}

/**
 * An Entra (or instance metadata service) answer that did not yield a
 * token, from `parseEntraTokenResponse`.
 *
 * `kind` is `refused` (a status other than 200) or `malformed` (a 200 that
 * cannot be read: `reason` is the WIT `malformed-kind`, e.g.
 * `missing-expiry`). A refusal carries what Entra said, each text bounded,
 * with control characters replaced and empty when absent: `status`, `error`
 * (the OAuth error, e.g. `invalid_client`), `description`
 * (`error_description`), `code` (the AADSTS code, e.g. 7000215 for a wrong
 * client secret, when there is one), and `traceId` and `correlationId`,
 * which Microsoft support asks for.
 */
export class EntraResponseError extends AcrAuthError {
    /** @param {{tag: 'refused' | 'malformed', val: object}} payload the WIT `entra-response-error` */
    constructor(payload) {
        super(payload.tag, payload.val.message);
        if (payload.tag === 'refused') {
            this.status = payload.val.status;
            this.error = payload.val.error;
            this.description = payload.val.description;
            this.code = payload.val.code;
            this.traceId = payload.val.traceId;
            this.correlationId = payload.val.correlationId;
        } else {
            this.reason = payload.val.kind;
        }
    }
}

/**
 * Calls a component export and turns the error half of its WIT `result` into
 * `ErrorClass`. jco throws that half as a `ComponentError` whose `payload` is
 * the WIT error value; anything else thrown is passed on unchanged.
 */
function unwrap(call, ErrorClass) {
    try {
        return call();
    } catch (error) {
        if (error !== null && typeof error === 'object' && 'payload' in error) {
            throw new ErrorClass(error.payload);
        }
        throw error;
    }
}

/**
 * A response body as the bytes the component reads: text is encoded as
 * UTF-8, so a `fetch` response's `text()`, `arrayBuffer()` or `bytes()` all
 * work, as does a `Buffer`.
 */
function toBytes(body) {
    if (typeof body === 'string') {
        return new TextEncoder().encode(body);
    }
    if (body instanceof Uint8Array) {
        return body;
    }
    if (body instanceof ArrayBuffer) {
        return new Uint8Array(body);
    }
    if (ArrayBuffer.isView(body)) {
        return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    }
    throw new TypeError('a response body must be a string, an ArrayBuffer or a typed array');
}

/**
 * A whole number (milliseconds, unix seconds) as the BigInt a WIT `u64`
 * needs; `undefined` stays absent. jco would silently wrap a negative or
 * too large value modulo 2^64, so those throw a `RangeError` here, as
 * `BigInt` does for a fraction.
 */
function toU64(value) {
    if (value === undefined) {
        return undefined;
    }
    const converted = BigInt(value);
    if (BigInt.asUintN(64, converted) !== converted) {
        throw new RangeError('a u64 value must be a whole number from 0 to 2^64 - 1');
    }
    return converted;
}

/**
 * Resolves what a user typed (a host, an image reference with path, tag or
 * digest, an `oci://` or `https://` URL, any letter case, an explicit `:443`)
 * to the registry's login server and the Entra scope to request a token for.
 * Built-in clouds use the ACR audience, which registries that disable
 * `authentication-as-arm` require.
 *
 * @param {string} reference what the user typed
 * @param {{customCloud?: object}} [options] `customCloud` (from
 *   `parseCloudEnvironment`) adds that cloud's registry suffix
 * @returns {{loginServer: string, cloud: string, scope: string, audience: string, authorityHost: string}}
 * @throws {ScopeError} when the reference is not an ACR login server
 */
export function resolveScope(reference, { customCloud } = {}) {
    return unwrap(() => scope.resolveScope(reference, customCloud), ScopeError);
}

/**
 * Reads a custom cloud's environment file (the one
 * `AZURE_ENVIRONMENT_FILEPATH` names), for registries outside the public,
 * China and US Government clouds. Pass the result as `customCloud`.
 *
 * @param {string} json the file's text
 * @returns {{name?: string, containerRegistryDnsSuffix: string, resourceManagerEndpoint: string, activeDirectoryEndpoint: string, acrAudience?: string}}
 * @throws {CloudEnvironmentError} when a required field is missing or invalid
 */
export function parseCloudEnvironment(json) {
    return unwrap(() => scope.parseCloudEnvironment(json), CloudEnvironmentError);
}

/**
 * Builds, as data, the `POST https://<login-server>/oauth2/exchange` request
 * that trades an Entra access token for an ACR refresh token. Send it as
 * given (the token is in the body, never in the URL) and pass the answer to
 * `parseRefreshToken`. The body holds the token: do not log it.
 *
 * @param {string} reference the registry, as `resolveScope` accepts it
 * @param {string} entraToken an Entra access token for the scope `resolveScope` returned
 * @param {{tenant?: string, customCloud?: object}} [options] `tenant` is sent when given
 * @returns {{method: string, url: string, headers: {name: string, value: string}[], body: Uint8Array}}
 * @throws {RequestError} when the reference, token or tenant is refused
 */
export function buildExchangeRequest(reference, entraToken, { tenant, customCloud } = {}) {
    return unwrap(() => exchange.buildExchangeRequest(reference, entraToken, tenant, customCloud), RequestError);
}

/**
 * Builds, as data, the `POST https://<login-server>/oauth2/token` request
 * that trades an ACR refresh token for an access token limited to `scopes`.
 * Pass the answer to `parseAccessToken`. The body holds the token.
 *
 * @param {string} reference the registry, as `resolveScope` accepts it
 * @param {string} refreshToken the `password` of a credential from `parseRefreshToken`
 * @param {string[]} scopes 1 to 32 of `repository:<name>:<actions>` or `registry:catalog:*`
 * @param {{customCloud?: object}} [options]
 * @returns {{method: string, url: string, headers: {name: string, value: string}[], body: Uint8Array}}
 * @throws {RequestError} when the reference, token or a scope is refused
 */
export function buildTokenRequest(reference, refreshToken, scopes, { customCloud } = {}) {
    return unwrap(() => exchange.buildTokenRequest(reference, refreshToken, scopes, customCloud), RequestError);
}

/**
 * Reads an `/oauth2/exchange` response into the credential `docker login`
 * needs and the time it expires. The JWT signature is not verified (only the
 * registry can); its claims only say when to refresh.
 *
 * @param {number} status the HTTP status
 * @param {string | ArrayBuffer | ArrayBufferView} body the response body
 * @returns {{username: string, password: string, expiresAt: bigint, issuedAt?: bigint, loginServer?: string, tenant?: string}}
 *   `expiresAt` and `issuedAt` are BigInt unix seconds
 * @throws {ResponseError} when the registry refused or the response breaks the protocol
 */
export function parseRefreshToken(status, body) {
    return unwrap(() => token.parseRefreshToken(status, toBytes(body)), ResponseError);
}

/**
 * Reads an `/oauth2/token` response into the repository access token (sent
 * as `Authorization: Bearer <token>`) and the time it expires.
 *
 * @param {number} status the HTTP status
 * @param {string | ArrayBuffer | ArrayBufferView} body the response body
 * @returns {{token: string, expiresAt: bigint, issuedAt?: bigint, loginServer?: string}}
 *   `expiresAt` and `issuedAt` are BigInt unix seconds
 * @throws {ResponseError} when the registry refused or the response breaks the protocol
 */
export function parseAccessToken(status, body) {
    return unwrap(() => token.parseAccessToken(status, toBytes(body)), ResponseError);
}

/**
 * Reads the `WWW-Authenticate` header of a registry's `401` answer to
 * `GET /v2/` (RFC 7235) and returns its Bearer challenge, with the exchange
 * URL of the login server its realm names. Refuses realms that are not
 * `https://` or whose host is not an ACR login server.
 *
 * @param {string} wwwAuthenticate the header's value
 * @param {{customCloud?: object}} [options]
 * @returns {{realm: string, service: string, scopes: string[], loginServer: string, exchangeUrl: string}}
 * @throws {ChallengeError} when the header holds no acceptable Bearer challenge
 */
export function parseChallenge(wwwAuthenticate, { customCloud } = {}) {
    return unwrap(() => challenge.parseChallenge(wwwAuthenticate, customCloud), ChallengeError);
}

/** The `client` component's module, imported on first use. */
let client;

/**
 * The `client` component, imported and instantiated on the first call that
 * needs it; later calls share that one instance, as the pure functions share
 * the `pure` one.
 */
function clientComponent() {
    client ??= import('./generated/client/acr_auth_client.js');
    return client;
}

/**
 * The managed identity ID fields of an `Identity`, each with its WIT
 * `managed-identity-id` case.
 */
const MANAGED_IDENTITY_IDS = [
    ['clientId', 'client-id'],
    ['objectId', 'object-id'],
    ['resourceId', 'resource-id'],
];

/**
 * An `Identity` as the WIT `identity` variant. `kind` is the case; the
 * other fields are its record, or for a managed identity the one ID that
 * names it (none for the system-assigned identity).
 */
function toWitIdentity(identity) {
    const kind = identity?.kind;
    if (kind === 'federated-token' || kind === 'client-secret') {
        return { tag: kind, val: identity };
    }
    if (kind === 'managed-identity') {
        const given = MANAGED_IDENTITY_IDS.filter(([field]) => identity[field] !== undefined);
        if (given.length > 1) {
            throw new TypeError('a managed identity is named by at most one of clientId, objectId and resourceId');
        }
        const [[field, tag] = []] = given;
        return { tag: kind, val: field && { tag, val: identity[field] } };
    }
    throw new TypeError("an identity's kind must be 'federated-token', 'client-secret' or 'managed-identity'");
}

/**
 * Builds, as data, the request for an Entra access token for `scope` (as
 * `resolveScope` returned it), made with the host's own identity:
 *
 * - `{kind: 'federated-token', tenant, clientId, assertion, authorityHost?}`
 *   (workload identity federation, e.g. a Kubernetes service-account token)
 *   or `{kind: 'client-secret', tenant, clientId, secret, authorityHost?}`
 *   (a service principal): `POST <authority><tenant>/oauth2/v2.0/token`
 *   with the client-credentials form. The authority
 *   (`https://login.microsoftonline.com/` when absent) must be a built-in
 *   cloud's Entra host or the custom cloud's `activeDirectoryEndpoint`.
 * - `{kind: 'managed-identity', clientId? | objectId? | resourceId?}`: `GET
 *   http://169.254.169.254/metadata/identity/oauth2/token?...` with the
 *   header `metadata: true`, for the system-assigned identity or the
 *   user-assigned one the ID names. Plain HTTP to the link-local metadata
 *   service: the one request that is not HTTPS.
 *
 * Send it as given, following no redirect, and pass the answer to
 * `parseEntraTokenResponse`. The body holds the credential: do not log it.
 *
 * @param {object} identity who the host is to Entra, as above
 * @param {string} scope the Entra scope, `https://<resource>/.default`
 * @param {{customCloud?: object}} [options] `customCloud` (from
 *   `parseCloudEnvironment`) adds that cloud's authority
 * @returns {{method: string, url: string, headers: {name: string, value: string}[], body: Uint8Array}}
 * @throws {EntraRequestError} when the scope, authority,
 *   tenant, client ID, managed identity ID or credential is refused; a
 *   `TypeError` for an identity of no known `kind`
 */
export function buildEntraTokenRequest(identity, scope, { customCloud } = {}) {
    const witIdentity = toWitIdentity(identity);
    return unwrap(() => entra.buildEntraTokenRequest(witIdentity, scope, customCloud), EntraRequestError);
}

/**
 * Reads the answer to a request of `buildEntraTokenRequest` into the Entra
 * access token (for `buildExchangeRequest` or `login`) and its expiry: from
 * `expires_on` (absolute) or else `expires_in` (relative to `now`), each a
 * number or a string of digits, as the metadata service sends them.
 *
 * @param {number} status the HTTP status
 * @param {string | ArrayBuffer | ArrayBufferView} body the response body
 * @param {number | bigint} now when the request was sent, in unix seconds:
 *   `Math.floor(Date.now() / 1000)` taken before sending
 * @returns {{accessToken: string, expiresAt: bigint}} `expiresAt`
 *   is BigInt unix seconds; `accessToken` is a secret
 * @throws {EntraResponseError} when Entra refused or the answer cannot be read
 */
export function parseEntraTokenResponse(status, body, now) {
    const bytes = toBytes(body);
    const sentAt = toU64(now);
    return unwrap(() => entra.parseEntraTokenResponse(status, bytes, sentAt), EntraResponseError);
}

/**
 * Logs in to the registry `reference` names: optionally confirms its Bearer
 * challenge at `/v2/`, trades the Entra token for a refresh token and,
 * with `scopes`, the refresh token for an access token. Tokens go only to the
 * login server `resolveScope` accepts, over HTTPS, in request bodies;
 * redirects are never followed.
 *
 * Requests go through `node:https`, which trusts Node's CA store plus
 * `NODE_EXTRA_CA_CERTS`. The component waits for each response
 * synchronously (the shim runs the I/O on a worker thread), so the calling
 * thread is blocked until the returned promise settles: run logins in a
 * `worker_threads` worker if the event loop must stay responsive.
 *
 * @param {string} reference the registry, as `resolveScope` accepts it
 * @param {string} entraToken an Entra access token for the scope `resolveScope` returned
 * @param {object} [options]
 * @param {string} [options.tenant] the Entra tenant, sent with the exchange
 * @param {string[]} [options.scopes] repository scopes to get an access token for; none skips `/oauth2/token`
 * @param {boolean} [options.discover] whether to confirm the `/v2/` challenge first
 * @param {object} [options.customCloud] from `parseCloudEnvironment`
 * @param {number | bigint} [options.connectTimeoutMs] default 10000
 * @param {number | bigint} [options.firstByteTimeoutMs] default 30000
 * @param {number | bigint} [options.betweenBytesTimeoutMs] default 30000
 * @returns {Promise<{loginServer: string, credential: object, accessToken?: object}>}
 *   the credential of `parseRefreshToken` and, with scopes, the access token of `parseAccessToken`
 * @throws {LoginError} (as a rejection) for any failure; no field holds a token
 */
export async function login(reference, entraToken, options = {}) {
    const component = await clientComponent();
    const witOptions = {
        tenant: options.tenant,
        scopes: options.scopes ?? [],
        discover: options.discover ?? false,
        customCloud: options.customCloud,
        connectTimeoutMs: toU64(options.connectTimeoutMs),
        firstByteTimeoutMs: toU64(options.firstByteTimeoutMs),
        betweenBytesTimeoutMs: toU64(options.betweenBytesTimeoutMs),
    };
    return unwrap(() => component.login.login(reference, entraToken, witOptions), LoginError);
}
