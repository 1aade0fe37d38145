/**
 * acr-auth for Node: the acr-auth `pure` WebAssembly component, transpiled by
 * jco (`npm run build`), behind plain functions that take and return plain
 * objects and throw `Error` subclasses, and `login`, a driver of the
 * component's login flow over `fetch`.
 *
 * The component imports nothing: no file, network, clock or randomness is
 * reachable from it. It decides every request of a login and reads every
 * answer (discovery, redirect refusal, retries and their waits, redaction,
 * error mapping); `login` only sends the bytes, sleeps and reads the one file
 * the flow may ask for, without blocking the event loop.
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

import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { inspect } from 'node:util';

import { challenge, entra, exchange, flow, scope, token } from './generated/pure/acr_auth.js';

/**
 * The base class of every refusal this module throws, so that one
 * `instanceof` tells a refused input or response from a bug (a `TypeError`
 * for an argument of the wrong type, or a WebAssembly trap).
 *
 * `kind` is the value to branch on; `message` is for people and never holds
 * a secret.
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
 * A refused registry reference (the WIT `reference-error`), from
 * `resolveScope`: `kind` is the WIT `reference-error-kind`, e.g.
 * `unsupported-scheme`, `unrecognised-host` or, for a custom cloud record
 * that does not check out, `invalid-cloud`. (Not `ReferenceError`, which is
 * JavaScript's own.)
 */
export class RegistryReferenceError extends AcrAuthError {
    /** @param {{kind: string, message: string}} payload the WIT `reference-error` */
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
 * reference or the custom cloud; `reason` is a `reference-error-kind`) or
 * `input` (the token, tenant or scopes; `reason` is an `input-error-kind`
 * such as `empty-token`).
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
 * error's `cause`) is the `RegistryReferenceError` that refused the realm's
 * host.
 */
export class ChallengeError extends AcrAuthError {
    /** @param {{kind: string, realmError?: {kind: string, message: string}, message: string}} payload the WIT `challenge-error` */
    constructor(payload) {
        const realmError = payload.realmError && new RegistryReferenceError(payload.realmError);
        super(payload.kind, payload.message, realmError && { cause: realmError });
        this.realmError = realmError;
    }
}

/**
 * A refused argument of `buildEntraTokenRequest`; always caller misuse, never
 * a server answer. `kind` is the WIT `entra-request-error-kind`, e.g.
 * `unknown-authority` or `invalid-credential`. The message never holds the
 * federated token, client secret or identity header.
 */
export class EntraRequestError extends AcrAuthError {
    /** @param {{kind: string, message: string}} payload the WIT `entra-request-error` */
    constructor(payload) {
        super(payload.kind, payload.message);
    }
}

/**
 * An Entra (or managed identity endpoint) answer that did not yield a token,
 * from `parseEntraTokenResponse`.
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
 * Environment variables that name no usable identity, from
 * `identityFromEnvironment`: `kind` is the WIT `environment-error-kind`,
 * `incomplete` (a variable is set without another it needs, such as a client
 * secret without `AZURE_TENANT_ID`) or `unsupported` (a certificate password,
 * a user's name and password, Service Fabric, Azure Machine Learning; and,
 * from `readIdentityFromEnvironment`, a client certificate). The message
 * names variables, never their values.
 */
export class EnvironmentError extends AcrAuthError {
    /** @param {{kind: string, message: string}} payload the WIT `environment-error` */
    constructor(payload) {
        super(payload.kind, payload.message);
    }
}

/**
 * A failed login, from `login` or a `LoginFlow` step: `kind` is the WIT
 * `login-error-kind` (`refused`, `connect`, `timeout`, `invalid-input`,
 * ...), `stage` the step that failed (`input`, `entra`, `discovery`,
 * `exchange`, `token`), `status` the HTTP status when a response arrived,
 * `errors` the ACR errors of its body and `correlationId` the registry's
 * `x-ms-correlation-request-id` or Entra's `correlation_id`, which support
 * asks for. No field holds a secret the login handled, whole or in part.
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

/** What `util.inspect` (and so `console.log`) shows instead of a secret. */
const REDACTED = '[redacted]';

/**
 * Request headers whose values are never secrets; `util.inspect` shows the
 * others' values (an identity header, an `Authorization` key) as redacted.
 */
const PLAIN_HEADERS = new Set(['content-type', 'accept', 'metadata']);

/**
 * Gives `value` a `util.inspect` form in which `conceal` has replaced its
 * secrets in a copy. The value itself, its JSON and its spread copies keep
 * every field: the property is a non-enumerable symbol.
 */
function concealed(value, conceal) {
    Object.defineProperty(value, inspect.custom, {
        value() {
            return conceal({ ...this });
        },
    });
    return value;
}

/** A request whose `util.inspect` form shows no body and no secret header value. */
function concealedRequest(request) {
    return concealed(request, (shown) => ({
        ...shown,
        headers: shown.headers.map(({ name, value }) => ({ name, value: PLAIN_HEADERS.has(name) ? value : REDACTED })),
        body: `[${shown.body.length} bytes, redacted]`,
    }));
}

/** A credential whose `util.inspect` form shows no password. */
function concealedCredential(credential) {
    return concealed(credential, (shown) => ({ ...shown, password: REDACTED }));
}

/** An access token whose `util.inspect` form shows no token. */
function concealedAccessToken(accessToken) {
    return accessToken && concealed(accessToken, (shown) => ({ ...shown, token: REDACTED }));
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
function toU64(value, name) {
    if (value === undefined) {
        return undefined;
    }
    const converted = BigInt(value);
    if (BigInt.asUintN(64, converted) !== converted) {
        throw new RangeError(`${name} must be a whole number from 0 to 2^64 - 1`);
    }
    return converted;
}

/** A whole number from 0 to 2^32 - 1, as a WIT `u32` needs (jco would wrap others). */
function toU32(value, name) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
        throw new RangeError(`${name} must be a whole number from 0 to 2^32 - 1`);
    }
    return value;
}

/** `sent` as the WIT `list<string>`; required, so that no caller forgets it. */
function secretsSent(sent) {
    if (!Array.isArray(sent)) {
        throw new TypeError('sent must list the secrets the request carried (an empty array if none)');
    }
    return sent;
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
 *   `parseCloudEnvironment`, or built by hand and then checked the same way)
 *   adds that cloud's registry suffix
 * @returns {{loginServer: string, cloud: string, scope: string, audience: string, authorityHost: string}}
 * @throws {RegistryReferenceError} when the reference is not an ACR login
 *   server, or the custom cloud is refused (`invalid-cloud`)
 */
export function resolveScope(reference, { customCloud } = {}) {
    return unwrap(() => scope.resolveScope(reference, customCloud), RegistryReferenceError);
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
 * @throws {RequestError} when the reference, custom cloud, token or tenant is refused
 */
export function buildExchangeRequest(reference, entraToken, { tenant, customCloud } = {}) {
    const request = unwrap(
        () => exchange.buildExchangeRequest(reference, entraToken, tenant, customCloud),
        RequestError,
    );
    return concealedRequest(request);
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
 * @throws {RequestError} when the reference, custom cloud, token or a scope is refused
 */
export function buildTokenRequest(reference, refreshToken, scopes, { customCloud } = {}) {
    const request = unwrap(
        () => exchange.buildTokenRequest(reference, refreshToken, scopes, customCloud),
        RequestError,
    );
    return concealedRequest(request);
}

/**
 * Reads an `/oauth2/exchange` response into the credential `docker login`
 * needs and the time it expires. The JWT signature is not verified (only the
 * registry can); its claims only say when to refresh and whether the
 * registry grants access per repository (`abac`).
 *
 * @param {number} status the HTTP status
 * @param {string | ArrayBuffer | ArrayBufferView} body the response body
 * @param {string[]} sent the secrets the request carried (the Entra token):
 *   no error text repeats them, whole or in part
 * @returns {{username: string, password: string, expiresAt: bigint, issuedAt?: bigint, audience: string[], tenant?: string, abac: boolean}}
 *   `expiresAt` and `issuedAt` are BigInt unix seconds
 * @throws {ResponseError} when the registry refused or the response breaks the protocol
 */
export function parseRefreshToken(status, body, sent) {
    const bytes = toBytes(body);
    const credential = unwrap(() => token.parseRefreshToken(status, bytes, secretsSent(sent)), ResponseError);
    return concealedCredential(credential);
}

/**
 * Reads an `/oauth2/token` response into the repository access token (sent
 * as `Authorization: Bearer <token>`) and the time it expires.
 *
 * @param {number} status the HTTP status
 * @param {string | ArrayBuffer | ArrayBufferView} body the response body
 * @param {string[]} sent the secrets the request carried (the refresh token)
 * @returns {{token: string, expiresAt: bigint, issuedAt?: bigint, audience: string[]}}
 *   `expiresAt` and `issuedAt` are BigInt unix seconds
 * @throws {ResponseError} when the registry refused or the response breaks the protocol
 */
export function parseAccessToken(status, body, sent) {
    const bytes = toBytes(body);
    const accessToken = unwrap(() => token.parseAccessToken(status, bytes, secretsSent(sent)), ResponseError);
    return concealedAccessToken(accessToken);
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
 * @throws {ChallengeError} when the header holds no acceptable Bearer
 *   challenge, or the custom cloud is refused (`invalid-cloud`)
 */
export function parseChallenge(wwwAuthenticate, { customCloud } = {}) {
    return unwrap(() => challenge.parseChallenge(wwwAuthenticate, customCloud), ChallengeError);
}

/** The managed identity ID fields of an `Identity`, each with its WIT `managed-identity-id` case. */
const MANAGED_IDENTITY_IDS = [
    ['clientId', 'client-id'],
    ['objectId', 'object-id'],
    ['resourceId', 'resource-id'],
];

/** A managed identity's `source` as the WIT `managed-identity-source`; IMDS when absent. */
function toWitSource(source = { kind: 'imds' }) {
    switch (source?.kind) {
        case 'imds':
            return { tag: 'imds' };
        case 'app-service':
            return { tag: 'app-service', val: { endpoint: source.endpoint, header: source.header } };
        case 'azure-arc':
        case 'cloud-shell':
            return { tag: source.kind, val: source.endpoint };
        default:
            throw new TypeError(
                "a managed identity's source.kind must be 'imds', 'app-service', 'azure-arc' or 'cloud-shell'",
            );
    }
}

/**
 * An `Identity` as the WIT `identity` variant. `kind` is the case; the
 * other fields are its record, or for a managed identity the one ID that
 * names it (none for the system-assigned identity) and its `source`.
 */
function toWitIdentity(identity) {
    const kind = identity?.kind;
    if (kind === 'federated-token') {
        const { tenant, clientId, assertion, authorityHost } = identity;
        return { tag: kind, val: { tenant, clientId, assertion, authorityHost } };
    }
    if (kind === 'client-secret') {
        const { tenant, clientId, secret, authorityHost } = identity;
        return { tag: kind, val: { tenant, clientId, secret, authorityHost } };
    }
    if (kind === 'managed-identity') {
        const given = MANAGED_IDENTITY_IDS.filter(([field]) => identity[field] !== undefined);
        if (given.length > 1) {
            throw new TypeError('a managed identity is named by at most one of clientId, objectId and resourceId');
        }
        const [[field, tag] = []] = given;
        const id = field && { tag, val: identity[field] };
        return { tag: kind, val: { id, source: toWitSource(identity.source) } };
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
 * - `{kind: 'managed-identity', clientId? | objectId? | resourceId?, source?}`:
 *   the system-assigned identity, or the user-assigned one the ID names,
 *   from `source`: `{kind: 'imds'}` (the default: `GET
 *   http://169.254.169.254/metadata/identity/oauth2/token?...` with
 *   `metadata: true`), `{kind: 'app-service', endpoint, header}`
 *   (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`), `{kind: 'azure-arc', endpoint}`
 *   or `{kind: 'cloud-shell', endpoint}` (`MSI_ENDPOINT`). An endpoint is
 *   plain HTTP only to a loopback address.
 *
 * Send it as given, following no redirect, and pass the answer to
 * `parseEntraTokenResponse`. The body and some headers hold the credential:
 * do not log them.
 *
 * @param {object} identity who the host is to Entra, as above
 * @param {string} scope the Entra scope, `https://<resource>/.default`
 * @param {{customCloud?: object}} [options] `customCloud` (from
 *   `parseCloudEnvironment`) adds that cloud's authority
 * @returns {{method: string, url: string, headers: {name: string, value: string}[], body: Uint8Array}}
 * @throws {EntraRequestError} when the scope, authority, tenant, client ID,
 *   managed identity ID or endpoint, credential or custom cloud is refused; a
 *   `TypeError` for an identity or source of no known `kind`
 */
export function buildEntraTokenRequest(identity, scope, { customCloud } = {}) {
    const witIdentity = toWitIdentity(identity);
    const request = unwrap(
        () => entra.buildEntraTokenRequest(witIdentity, scope, customCloud),
        EntraRequestError,
    );
    return concealedRequest(request);
}

/**
 * The claims of the client assertion a service principal signs with its
 * certificate, as JSON text for the host to sign (RS256, with the
 * certificate's `x5t#S256` thumbprint in the header): `aud` the token
 * endpoint `<authority><tenant>/oauth2/v2.0/token`, `iss` and `sub` the
 * client ID, `jti` the GUID `id` (draw it at random, e.g.
 * `crypto.randomUUID()`), `iat` and `nbf` `now` and `exp` ten minutes later.
 * The signed assertion is then a `federated-token` identity's assertion.
 *
 * @param {string} tenant the app's tenant (GUID or domain)
 * @param {string} clientId the app's client ID (GUID)
 * @param {number | bigint} now unix seconds
 * @param {string} id the assertion's GUID
 * @param {{authorityHost?: string, customCloud?: object}} [options] the Entra
 *   authority (`AZURE_AUTHORITY_HOST`) and a custom cloud whose authority it may be
 * @returns {string} the claims, a JSON object
 * @throws {EntraRequestError} when the tenant, client ID, ID, authority or
 *   custom cloud is refused
 */
export function clientAssertionClaims(tenant, clientId, now, id, { authorityHost, customCloud } = {}) {
    const at = toU64(now, 'now');
    return unwrap(
        () => entra.clientAssertionClaims(tenant, clientId, authorityHost, customCloud, at, id),
        EntraRequestError,
    );
}

/**
 * Reads the answer to a request of `buildEntraTokenRequest` into the Entra
 * access token (for `buildExchangeRequest`) and its expiry: from
 * `expires_on` (absolute) or else `expires_in` (relative to `now`), each a
 * number or a string of digits, as the metadata services send them.
 *
 * @param {number} status the HTTP status
 * @param {string | ArrayBuffer | ArrayBufferView} body the response body
 * @param {number | bigint} now when the request was sent, in unix seconds:
 *   `Math.floor(Date.now() / 1000)` taken before sending
 * @param {string[]} sent the secrets the request carried (the federated
 *   token or client secret): no refusal text repeats them, whole or in part
 * @returns {{accessToken: string, expiresAt: bigint}} `expiresAt`
 *   is BigInt unix seconds; `accessToken` is a secret
 * @throws {EntraResponseError} when Entra refused or the answer cannot be read
 */
export function parseEntraTokenResponse(status, body, now, sent) {
    const bytes = toBytes(body);
    const sentAt = toU64(now, 'now');
    const entraToken = unwrap(
        () => entra.parseEntraTokenResponse(status, bytes, sentAt, secretsSent(sent)),
        EntraResponseError,
    );
    return concealed(entraToken, (shown) => ({ ...shown, accessToken: REDACTED }));
}

/** The WIT `managed-identity-source` as a source with a `kind`, App Service's header concealed. */
function fromWitSource({ tag, val }) {
    switch (tag) {
        case 'imds':
            return { kind: tag };
        case 'app-service':
            return concealed({ kind: tag, endpoint: val.endpoint, header: val.header }, (shown) => ({
                ...shown,
                header: REDACTED,
            }));
        case 'azure-arc':
        case 'cloud-shell':
            return { kind: tag, endpoint: val };
        default:
            throw new TypeError(`the component returned a managed identity source of unknown kind ${tag}`);
    }
}

/** The WIT `identity` variant as an `Identity`, its secret concealed from `util.inspect`. */
function fromWitIdentity({ tag, val }) {
    switch (tag) {
        case 'federated-token':
            return concealed({ kind: tag, ...val }, (shown) => ({ ...shown, assertion: REDACTED }));
        case 'client-secret':
            return concealed({ kind: tag, ...val }, (shown) => ({ ...shown, secret: REDACTED }));
        case 'managed-identity': {
            const [field] = MANAGED_IDENTITY_IDS.find(([, idTag]) => idTag === val.id?.tag) ?? [];
            return { kind: tag, ...(field && { [field]: val.id.val }), source: fromWitSource(val.source) };
        }
        default:
            throw new TypeError(`the component returned an identity of unknown kind ${tag}`);
    }
}

/**
 * Environment variables as the WIT `list<tuple<string, string>>`: an
 * object's entries (an `undefined` value is unset) or an iterable's
 * `[name, value]` pairs. The error never shows a value.
 */
function toWitVariables(variables) {
    if (variables === null || typeof variables !== 'object') {
        throw new TypeError('variables are an object of names and values, or an iterable of [name, value] pairs');
    }
    const pairs =
        Symbol.iterator in variables
            ? Array.from(variables)
            : Object.entries(variables).filter(([, value]) => value !== undefined);
    for (const pair of pairs) {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
            throw new TypeError('each variable is a name and a value, both strings');
        }
    }
    return pairs;
}

/**
 * The identity the environment `variables` describe, in
 * `DefaultAzureCredential`'s order: a client secret (`AZURE_TENANT_ID`,
 * `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`), else a client certificate
 * (`AZURE_CLIENT_CERTIFICATE_PATH`), else workload identity
 * (`AZURE_FEDERATED_TOKEN_FILE`), else a managed identity from the endpoint
 * the platform names: `IDENTITY_ENDPOINT` with `IDENTITY_HEADER` (App
 * Service), `IDENTITY_ENDPOINT` with `IMDS_ENDPOINT` (Azure Arc),
 * `MSI_ENDPOINT` (Cloud Shell), else the instance metadata service;
 * user-assigned when `AZURE_CLIENT_ID` is set. `AZURE_AUTHORITY_HOST` names
 * the Entra cloud. An empty value counts as unset. A half-configured
 * credential is refused, never skipped. The component chooses; this reads no
 * variable and no file itself.
 *
 * @param {Record<string, string | undefined> | Iterable<[string, string]>} variables
 *   `process.env`, or `[name, value]` pairs (the last of a name given twice counts)
 * @returns {object} by its `kind`: `ready` (with `identity`, for `login`),
 *   `client-certificate` (`tenant`, `clientId`, `path`, `sendChain`,
 *   `authorityHost`) or `workload-identity` (`tenant`, `clientId`, `path`,
 *   `authorityHost`)
 * @throws {EnvironmentError} `incomplete` or `unsupported`; the message names
 *   variables, never values
 */
export function identityFromEnvironment(variables) {
    const pairs = toWitVariables(variables);
    const { tag, val } = unwrap(() => entra.identityFromEnvironment(pairs), EnvironmentError);
    switch (tag) {
        case 'ready':
            return { kind: tag, identity: fromWitIdentity(val) };
        case 'client-certificate':
        case 'workload-identity':
            return { kind: tag, ...val };
        default:
            throw new TypeError(`the component returned an environment identity of unknown kind ${tag}`);
    }
}

/**
 * The most bytes of a federated token file that are read: twice the longest
 * token the component takes (32 KiB), so that the component, not this read,
 * refuses a token that is too long.
 */
const MAX_TOKEN_FILE_LEN = 64 * 1024;

/**
 * The identity the environment describes, ready for `login` or `LoginFlow`:
 * `identityFromEnvironment`, with a workload identity's token file read (at
 * most 64 KiB, trailing line breaks dropped) into a `federated-token`
 * identity. Call it for each login: the platform rotates the token.
 *
 * @param {Record<string, string | undefined> | Iterable<[string, string]>} [variables] `process.env` when absent
 * @param {{signal?: AbortSignal, io?: {readFile?: Function}}} [options]
 *   `signal` aborts the read; `io.readFile` replaces `defaultIo.readFile`
 * @returns {Promise<object>} the identity
 * @throws {EnvironmentError} (as a rejection) as `identityFromEnvironment`
 *   throws, and `unsupported` for a client certificate, which the caller
 *   signs a client assertion with; or the error of reading the file
 */
export async function readIdentityFromEnvironment(variables = process.env, { signal, io } = {}) {
    const found = identityFromEnvironment(variables);
    if (found.kind === 'ready') {
        return found.identity;
    }
    if (found.kind === 'client-certificate') {
        throw new EnvironmentError({
            kind: 'unsupported',
            message:
                'AZURE_CLIENT_CERTIFICATE_PATH names a client certificate, which is not read here: sign a client ' +
                "assertion with it and log in with a 'federated-token' identity",
        });
    }
    const { readFile } = { ...defaultIo, ...io };
    const token = await readFile(found.path, MAX_TOKEN_FILE_LEN, signal);
    const { tenant, clientId, authorityHost } = found;
    const assertion = token.replace(/[\r\n]+$/, '');
    return fromWitIdentity({ tag: 'federated-token', val: { tenant, clientId, assertion, authorityHost } });
}

/** `{entraToken}` or `{identity}` as the WIT `credentials` variant. */
function toWitCredentials(credentials) {
    const given = Object.keys(credentials ?? {});
    if (given.length === 1 && given[0] === 'entraToken') {
        return { tag: 'entra-token', val: credentials.entraToken };
    }
    if (given.length === 1 && given[0] === 'identity') {
        return { tag: 'identity', val: toWitIdentity(credentials.identity) };
    }
    throw new TypeError('credentials are {entraToken} or {identity}');
}

/** The fields of a retry policy, each required when one is given. */
const RETRY_FIELDS = ['maxRetries', 'metadataMaxRetries', 'firstDelayMs', 'maxDelayMs', 'goneWindowMs'];

/** A `retry` option as the WIT `retry-policy`: all five fields, so that no default is copied here. */
function toWitRetry(retry) {
    const missing = RETRY_FIELDS.filter((field) => retry[field] === undefined);
    if (missing.length > 0) {
        throw new TypeError(`a retry policy names all of ${RETRY_FIELDS.join(', ')}; missing: ${missing.join(', ')}`);
    }
    return {
        maxRetries: toU32(retry.maxRetries, 'retry.maxRetries'),
        metadataMaxRetries: toU32(retry.metadataMaxRetries, 'retry.metadataMaxRetries'),
        firstDelayMs: toU64(retry.firstDelayMs, 'retry.firstDelayMs'),
        maxDelayMs: toU64(retry.maxDelayMs, 'retry.maxDelayMs'),
        goneWindowMs: toU64(retry.goneWindowMs, 'retry.goneWindowMs'),
    };
}

/** Login options as the WIT `login-options`. */
function toWitLoginOptions(options) {
    return {
        tenant: options.tenant,
        repositoryScopes: options.repositoryScopes ?? [],
        discover: options.discover ?? false,
        customCloud: options.customCloud,
        connectTimeoutMs: toU64(options.connectTimeoutMs, 'connectTimeoutMs'),
        firstByteTimeoutMs: toU64(options.firstByteTimeoutMs, 'firstByteTimeoutMs'),
        betweenBytesTimeoutMs: toU64(options.betweenBytesTimeoutMs, 'betweenBytesTimeoutMs'),
        retry: options.retry === undefined ? undefined : toWitRetry(options.retry),
    };
}

/**
 * Response headers as the WIT `list<header>`: a `Headers` object (or any
 * iterable of `[name, value]` pairs), or `{name, value}` records.
 */
function toWitHeaders(headers = []) {
    return Array.from(headers, (header) => (Array.isArray(header) ? { name: header[0], value: header[1] } : header));
}

/** An event as the WIT `event` variant. */
function toWitEvent(event) {
    switch (event?.kind) {
        case 'start':
        case 'woke':
            return { tag: event.kind };
        case 'response': {
            const { status, headers, body = new Uint8Array() } = event;
            return { tag: 'response', val: { status, headers: toWitHeaders(headers), body: toBytes(body) } };
        }
        case 'transport-failed':
            return { tag: 'transport-failed', val: { kind: event.error.kind, message: event.error.message } };
        case 'file-read':
            return { tag: 'file-read', val: event.contents };
        case 'file-failed':
            return { tag: 'file-failed', val: event.reason };
        default:
            throw new TypeError(
                "an event's kind must be 'start', 'response', 'transport-failed', 'woke', 'file-read' or 'file-failed'",
            );
    }
}

/** A WIT `login-result` with its secrets concealed from `util.inspect`. */
function fromWitResult({ loginServer, credential, accessToken }) {
    return { loginServer, credential: concealedCredential(credential), accessToken: concealedAccessToken(accessToken) };
}

/** The WIT `step` variant as a plain object with a `kind`. */
function fromWitStep({ tag, val }) {
    switch (tag) {
        case 'send':
            return { kind: tag, ...val, request: concealedRequest(val.request) };
        case 'wait':
            return { kind: tag, untilMs: val };
        case 'read-file':
            return { kind: tag, path: val.path, maxLen: val.maxLen };
        case 'done':
            return { kind: tag, result: fromWitResult(val) };
        case 'failed':
            return { kind: tag, error: new LoginError(val) };
        default:
            throw new TypeError(`the flow returned a step of unknown kind ${tag}`);
    }
}

/**
 * A login in progress, as a state machine: it says what to send and when to
 * wake it; the caller sends, sleeps and feeds back what happened. The flow
 * holds every rule of the login (discovery, redirect refusal, retries and
 * their waits, redaction, error mapping); `login` below is a driver of it.
 *
 * ```js
 * const flow = new LoginFlow(reference, credentials, options);
 * let event = { kind: 'start' };
 * for (;;) {
 *     const step = flow.step(Date.now(), event);
 *     // send   -> event = {kind: 'response', status, headers, body} or {kind: 'transport-failed', error}
 *     // wait   -> sleep until step.untilMs; event = {kind: 'woke'}
 *     // read-file -> event = {kind: 'file-read', contents} or {kind: 'file-failed', reason}
 *     // done   -> step.result; failed -> step.error (a LoginError)
 * }
 * ```
 *
 * Time is an argument: unix milliseconds, a number or a BigInt. The flow
 * holds component memory until it is disposed (`flow[Symbol.dispose]()`, or
 * `using`) or garbage-collected.
 */
export class LoginFlow {
    /** The component's `login-flow` resource. */
    #flow;

    /**
     * @param {string} reference the registry, as `resolveScope` accepts it
     * @param {{entraToken: string} | {identity: object}} credentials an Entra
     *   token for the scope `resolveScope` returns, or the host's identity (as
     *   `buildEntraTokenRequest` takes it), with which the flow gets one first
     * @param {object} [options] as `login` takes them, without `signal` and `io`
     */
    constructor(reference, credentials, options = {}) {
        this.#flow = new flow.LoginFlow(reference, toWitCredentials(credentials), toWitLoginOptions(options));
    }

    /**
     * Takes what happened since the last step, at `nowMs` (unix
     * milliseconds), and returns what to do next. The first call takes
     * `{kind: 'start'}`; after `send`, the request's outcome; after `wait`,
     * `{kind: 'woke'}` (an early wake is told to wait again). Any other event
     * fails the login with `misuse`.
     *
     * @param {number | bigint} nowMs unix milliseconds
     * @param {object} event what happened
     * @returns {object} the next step, by its `kind`: `send` (with `request`,
     *   the timeouts and `maxResponseLen`), `wait` (`untilMs`), `read-file`
     *   (`path`, `maxLen`), `done` (`result`) or `failed` (`error`)
     */
    step(nowMs, event) {
        return fromWitStep(this.#flow.step(toU64(nowMs, 'nowMs'), toWitEvent(event)));
    }

    /** Frees the flow's component memory; the flow cannot step afterwards. */
    [Symbol.dispose]() {
        this.#flow[Symbol.dispose]();
    }
}

// ---------------------------------------------------------------------------
// The login driver: sends what the flow says over fetch, sleeps with timers
// and reads files with fs.promises. No protocol logic lives here.

/** The longest delay `setTimeout` takes (about 24.8 days); longer ones are cut to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The I/O `login` performs, each replaceable through its `io` option (to
 * send through a proxy, with other CAs, or on a virtual clock in tests).
 */
export const defaultIo = Object.freeze({
    /** `fetch` as the global one is when called. */
    fetch: (url, init) => globalThis.fetch(url, init),
    /** Unix milliseconds. */
    now: () => Date.now(),
    /** Resolves after `ms`, or rejects when `signal` aborts. */
    sleep: (ms, signal) => sleepFor(Math.min(ms, MAX_TIMER_MS), undefined, { signal }),
    /** The text of the file at `path`, refused if longer than `maxLen` bytes. */
    readFile: readAtMost,
});

/**
 * Logs in to the registry `reference` names, driving a `LoginFlow` over
 * `fetch` without blocking the event loop: each request is sent as the flow
 * gives it (method, URL, headers and body; redirects are returned to the
 * flow, never followed), each wait is a timer, and the Azure Arc key file the
 * flow may name is read with `fs.promises`.
 *
 * Requests go over HTTPS, or over plain HTTP to two places only: the instance
 * metadata service (`http://169.254.169.254`) and the loopback endpoint
 * (`localhost`, `127.0.0.0/8`, `[::1]`; that host and port) that a managed
 * identity's `source` names, which App Service, Azure Arc and Cloud Shell
 * serve without TLS. Any other plain-HTTP request is refused unsent, as a
 * `connect` failure. The only file read is an Azure Arc key file, a `.key`
 * file directly in the agent's token directory, `/var/opt/azcmagent/tokens`
 * (`arcKeyDirectory` says where that directory is on this machine), at most
 * the length the flow gives; any other path is refused unread.
 *
 * @param {string} reference the registry, as `resolveScope` accepts it
 * @param {{entraToken: string} | {identity: object}} credentials an Entra token, or the host's identity
 * @param {object} [options]
 * @param {string} [options.tenant] the Entra tenant, sent with the exchange
 * @param {string[]} [options.repositoryScopes] repository scopes to get an access token for; none skips `/oauth2/token`
 * @param {boolean} [options.discover] whether to confirm the `/v2/` challenge first
 * @param {object} [options.customCloud] from `parseCloudEnvironment`
 * @param {number | bigint} [options.connectTimeoutMs] default 10000
 * @param {number | bigint} [options.firstByteTimeoutMs] default 30000
 * @param {number | bigint} [options.betweenBytesTimeoutMs] default 30000
 * @param {object} [options.retry] a whole retry policy (`maxRetries`,
 *   `metadataMaxRetries`, `firstDelayMs`, `maxDelayMs`, `goneWindowMs`)
 * @param {string} [options.arcKeyDirectory] the directory that holds the
 *   Azure Arc agent's key files, which its endpoint names as in
 *   `/var/opt/azcmagent/tokens` (the default)
 * @param {AbortSignal} [options.signal] aborts the login: the promise
 *   rejects with the signal's reason
 * @param {object} [options.io] replaces any of `defaultIo`'s functions
 * @returns {Promise<{loginServer: string, credential: object, accessToken?: object}>}
 * @throws {LoginError} (as a rejection) for any failure; no field holds a secret
 */
export async function login(reference, credentials, options = {}) {
    const { signal, arcKeyDirectory = ARC_KEY_DIRECTORY } = options;
    const io = { ...defaultIo, ...options.io };
    signal?.throwIfAborted();
    const loginFlow = new LoginFlow(reference, credentials, options);
    const plainHttp = plainHttpOrigins(credentials);
    try {
        let event = { kind: 'start' };
        for (;;) {
            signal?.throwIfAborted();
            const step = loginFlow.step(io.now(), event);
            if (step.kind === 'send') {
                event = plainHttpRefusal(step.request.url, plainHttp) ?? (await send(step, io.fetch, signal));
            } else if (step.kind === 'wait') {
                await io.sleep(Math.max(0, Number(step.untilMs) - io.now()), signal);
                event = { kind: 'woke' };
            } else if (step.kind === 'read-file') {
                event = await readArcKey(step, arcKeyDirectory, io.readFile, signal);
            } else if (step.kind === 'done') {
                return step.result;
            } else {
                throw step.error;
            }
        }
    } catch (error) {
        throw signal?.aborted ? signal.reason : error;
    } finally {
        loginFlow[Symbol.dispose]();
    }
}

/** The instance metadata service, which every login may reach over plain HTTP. */
const METADATA_ORIGIN = 'http://169.254.169.254';

/** Whether `hostname` (as `URL` normalises it) names this machine's loopback interface. */
function isLoopback(hostname) {
    return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * The origins a login with `credentials` may reach over plain HTTP: the
 * metadata service and, for a managed identity whose `source` names an
 * `http://` endpoint on a loopback address, that endpoint's origin (host and
 * port), exactly.
 */
function plainHttpOrigins(credentials) {
    const origins = new Set([METADATA_ORIGIN]);
    const endpoint = credentials?.identity?.kind === 'managed-identity' ? credentials.identity.source?.endpoint : undefined;
    if (typeof endpoint === 'string' && URL.canParse(endpoint)) {
        const url = new URL(endpoint);
        if (url.protocol === 'http:' && isLoopback(url.hostname)) {
            origins.add(url.origin);
        }
    }
    return origins;
}

/**
 * The `transport-failed` event that refuses a request to `url` unsent, if it
 * is plain HTTP to an origin not in `allowed`; `undefined` if it may go.
 */
function plainHttpRefusal(url, allowed) {
    // A URL fetch cannot parse fails there, as a transport failure.
    const { protocol, origin } = URL.canParse(url) ? new URL(url) : {};
    if (protocol !== 'http:' || allowed.has(origin)) {
        return undefined;
    }
    const message = `refused to send plain HTTP to ${origin}: only the metadata service and the managed identity's loopback endpoint are reached without TLS`;
    return { kind: 'transport-failed', error: { kind: 'connect', message } };
}

/** Where the Azure Arc agent keeps the key files its endpoint's challenge names, on Linux. */
const ARC_KEY_DIRECTORY = '/var/opt/azcmagent/tokens';

/**
 * Reads the file a `read-file` step names, if it is an Azure Arc key file
 * (a `.key` file directly in `ARC_KEY_DIRECTORY`), from `directory`, with
 * `readFile`; returns the `file-read` or `file-failed` event.
 */
async function readArcKey({ path, maxLen }, directory, readFile, signal) {
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    if (path.slice(0, slash) !== ARC_KEY_DIRECTORY || !name.endsWith('.key') || /[\\\0]/.test(name)) {
        const reason = `the host reads only the Azure Arc agent's key files, in ${ARC_KEY_DIRECTORY}`;
        return { kind: 'file-failed', reason };
    }
    return readFile(join(directory, name), maxLen, signal).then(
        (contents) => ({ kind: 'file-read', contents }),
        (error) => ({ kind: 'file-failed', reason: String(error?.message ?? error) }),
    );
}

/**
 * Sends one request of a `send` step and returns the event for its outcome:
 * the response, its body read to at most `maxResponseLen` bytes, or the
 * transport failure.
 */
async function send({ request, connectTimeoutMs, firstByteTimeoutMs, betweenBytesTimeoutMs, maxResponseLen }, fetch, signal) {
    const controller = new AbortController();
    const abort = () => controller.abort(signal.reason);
    signal?.addEventListener('abort', abort, { once: true });
    try {
        const init = {
            method: request.method,
            headers: request.headers.map(({ name, value }) => [name, value]),
            body: request.body.length === 0 ? undefined : request.body,
            redirect: 'manual',
            signal: controller.signal,
        };
        const headWithin = Number(connectTimeoutMs + firstByteTimeoutMs);
        const response = await within(fetch(request.url, init), headWithin, controller, 'no response');
        const body = await readBody(response, maxResponseLen, Number(betweenBytesTimeoutMs), controller);
        return { kind: 'response', status: response.status, headers: response.headers, body };
    } catch (error) {
        if (signal?.aborted) {
            throw signal.reason;
        }
        return { kind: 'transport-failed', error: transportError(error) };
    } finally {
        signal?.removeEventListener('abort', abort);
    }
}

/**
 * `promise`, or a `TimeoutError` (which also aborts `controller`, closing the
 * connection) if it does not settle within `ms`.
 */
async function within(promise, ms, controller, what) {
    let timer;
    const expired = new Promise((_, reject) => {
        timer = setTimeout(() => {
            const error = new DOMException(`${what} within ${ms} ms`, 'TimeoutError');
            controller.abort(error);
            reject(error);
        }, Math.min(ms, MAX_TIMER_MS));
    });
    // After a timeout, the abandoned promise's own rejection is expected.
    promise.catch(() => {});
    try {
        return await Promise.race([promise, expired]);
    } finally {
        clearTimeout(timer);
    }
}

/** A transport failure the driver itself detects. */
class TransportFailure extends Error {
    constructor(kind, message) {
        super(message);
        this.kind = kind;
    }
}

/**
 * Reads a response body, at most `max` bytes, each chunk within
 * `betweenBytesMs`; a longer body (declared or read) is refused and the rest
 * is not read.
 */
async function readBody(response, max, betweenBytesMs, controller) {
    const tooLarge = () =>
        new TransportFailure('too-large', `the response body is larger than the ${max} bytes allowed; the rest was not read`);
    const reader = response.body?.getReader();
    if (reader === undefined) {
        return new Uint8Array();
    }
    const chunks = [];
    let length = 0;
    try {
        if (Number(response.headers.get('content-length') ?? 0) > max) {
            throw tooLarge();
        }
        for (;;) {
            const { done, value } = await within(reader.read(), betweenBytesMs, controller, 'no response body bytes');
            if (done) {
                return Buffer.concat(chunks, length);
            }
            length += value.byteLength;
            if (length > max) {
                throw tooLarge();
            }
            chunks.push(value);
        }
    } catch (error) {
        reader.cancel().catch(() => {});
        controller.abort(error);
        throw error;
    }
}

/** Error codes of a connection that was never made: nothing reached the server. */
const CONNECT_CODES = new Set([
    'ECONNREFUSED',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EAI_FAIL',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EHOSTDOWN',
    'ENETDOWN',
    'EADDRNOTAVAIL',
]);

/** Error codes of undici's and the socket's own timeouts. */
const TIMEOUT_CODES = new Set([
    'ETIMEDOUT',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Whether an error code is a failed TLS handshake: Node's `ERR_TLS_*`,
 * OpenSSL's `ERR_SSL_*`, or an X.509 verification error (Node's names for
 * OpenSSL's `X509_V_ERR_*`, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 * `SELF_SIGNED_CERT_IN_CHAIN`, `CERT_HAS_EXPIRED`, `HOSTNAME_MISMATCH`).
 */
function isTlsCode(code) {
    return /^ERR_(TLS|SSL)_|CERT|CRL|ISSUER|^UNABLE_TO_|^HOSTNAME_MISMATCH$|^INVALID_(CA|PURPOSE)$|^PATH_LENGTH_EXCEEDED$/.test(
        code,
    );
}

/** `error` and its causes (undici wraps the socket's error in `cause`; Happy Eyeballs in `errors`). */
function* causes(error) {
    for (let depth = 0; error instanceof Object && depth < 8; depth++) {
        yield error;
        if (Array.isArray(error.errors)) {
            yield* error.errors.filter((inner) => inner instanceof Object);
        }
        error = error.cause;
    }
}

/** A failure of `fetch` or of reading the body as the WIT `transport-error`. */
function transportError(error) {
    if (error instanceof TransportFailure) {
        return { kind: error.kind, message: error.message };
    }
    const chain = [...causes(error)];
    const message = [...new Set(chain.map((e) => e.message).filter(Boolean))].join(': ') || String(error);
    if (error?.name === 'TimeoutError') {
        return { kind: 'timeout', message };
    }
    const code = chain.map((e) => e.code).find((c) => typeof c === 'string');
    let kind = 'protocol';
    if (CONNECT_CODES.has(code)) {
        kind = 'connect';
    } else if (TIMEOUT_CODES.has(code)) {
        kind = 'timeout';
    } else if (code !== undefined && isTlsCode(code)) {
        kind = 'tls';
    }
    return { kind, message: code === undefined || message.includes(code) ? message : `${message} (${code})` };
}

/** The text of the file at `path`, read to at most `maxLen` bytes; a longer file is refused. */
async function readAtMost(path, maxLen) {
    const file = await open(path, 'r');
    try {
        const buffer = Buffer.alloc(maxLen + 1);
        let length = 0;
        for (;;) {
            const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
            length += bytesRead;
            if (bytesRead === 0 || length === buffer.length) {
                break;
            }
        }
        if (length > maxLen) {
            throw new Error(`${path} is larger than ${maxLen} bytes`);
        }
        return buffer.toString('utf8', 0, length);
    } finally {
        await file.close();
    }
}
