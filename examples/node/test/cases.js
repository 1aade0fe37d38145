// The case files every host runs, read and interpreted as the Rust tests
// read them: the conformance cases as `host-tests/src/conformance.rs` builds
// their inputs and compares their results (snake_case keys, `null` for absent
// options), and the scripted logins of `login-flow.json` as
// `tests/login_flow.rs` resolves them.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';

import { AcrAuthError, EntraResponseError, parseCloudEnvironment } from 'acr-auth';

/**
 * The directories that hold case files: the one `ACR_AUTH_CASES_DIR` names (the tests of the
 * installed package run outside the repository, with a copy of the case files), else the
 * repository's `tests/cases/`.
 */
const CASE_DIRS = [
    process.env.ACR_AUTH_CASES_DIR ? pathToFileURL(`${process.env.ACR_AUTH_CASES_DIR}/`) : new URL('../../../tests/cases/', import.meta.url),
];

/** The names of all case files, without `.json`, sorted. */
export function caseFileNames() {
    return CASE_DIRS.filter((dir) => existsSync(dir))
        .flatMap((dir) => readdirSync(dir))
        .filter((file) => file.endsWith('.json'))
        .map((file) => file.slice(0, -'.json'.length))
        .sort();
}

/**
 * The case file `<name>.json`, parsed: every test reads its cases through
 * this one function, wherever the file lives.
 */
export function readCaseFile(name) {
    const [path] = CASE_DIRS.map((dir) => new URL(`${name}.json`, dir)).filter((file) => existsSync(file));
    assert.ok(path, `no case file ${name}.json`);
    return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * A case's string input `key`: a string, or
 * `{"repeat": "<text>", "times": N, "prefix"?, "suffix"?}` for inputs too
 * long to write out; `undefined` when absent or null. Any other JSON value
 * is passed as its JSON text, as the Rust helper does.
 */
export function input(testCase, key) {
    const value = testCase[key];
    if (value === undefined || value === null) {
        return undefined;
    }
    if (typeof value === 'string') {
        return value;
    }
    if (typeof value === 'object' && !Array.isArray(value)) {
        return `${value.prefix ?? ''}${value.repeat.repeat(value.times)}${value.suffix ?? ''}`;
    }
    return JSON.stringify(value);
}

/** A case's list input `key`: an array of strings, or `{"repeat", "times"}` for N copies. */
export function listInput(testCase, key) {
    const value = testCase[key];
    if (Array.isArray(value)) {
        return value;
    }
    if (value !== null && typeof value === 'object') {
        return Array(value.times).fill(value.repeat);
    }
    return [];
}

/** The case's custom cloud (`cloud_environment`), parsed by the component, or `undefined`. */
export function customCloud(testCase) {
    const environment = testCase.cloud_environment;
    return environment == null ? undefined : parseCloudEnvironment(JSON.stringify(environment));
}

/**
 * Encodes `text` as UTF-8 base64: base64url without padding by default, as
 * JWTs are, or with padding / the standard alphabet when the case asks, to
 * check how the component treats them.
 */
function base64(text, { padded, standardAlphabet }) {
    const standard = Buffer.from(text, 'utf8').toString('base64');
    const alphabet = standardAlphabet ? standard : standard.replaceAll('+', '-').replaceAll('/', '_');
    return padded ? alphabet : alphabet.replace(/=+$/, '');
}

/**
 * The JWT a case's `jwt` object describes: its `header` and `payload` as
 * JSON text, and its `signature` text, each base64-encoded.
 *
 * `JSON.stringify` writes the same bytes serde_json does here: object keys
 * in file order (the Rust tests enable serde_json's `preserve_order`), the
 * same string escapes, and the same number text for every number in the
 * case files (`1767232800.999`, `1e+30`, `-1`). The tokens are therefore the
 * ones the Rust tests build.
 */
function jwtOf(testCase) {
    const jwt = testCase.jwt;
    const options = { padded: jwt.padded ?? false, standardAlphabet: jwt.standard_alphabet ?? false };
    const payload = base64(JSON.stringify(jwt.payload), options);
    for (const char of jwt.require_chars ?? '') {
        assert.ok(payload.includes(char), `${testCase.name}: payload segment lacks ${char}`);
    }
    if (options.padded) {
        assert.ok(payload.endsWith('='), `${testCase.name}: payload segment is not padded`);
    }
    return `${base64(JSON.stringify(jwt.header), options)}.${payload}.${base64(jwt.signature, options)}`;
}

/**
 * The response body of a `parse-refresh-token` or `parse-access-token` case
 * and the token it carries: `body` text as given, or a token from
 * `token_segments` (joined with dots) or `jwt`, sent in the JSON field
 * `token_field` (by default `refresh_token`).
 */
export function responseBody(testCase) {
    let token;
    if (testCase.token_segments) {
        token = testCase.token_segments.join('.');
    } else if (testCase.jwt) {
        token = jwtOf(testCase);
    } else {
        return { body: input(testCase, 'body'), token: undefined };
    }
    const field = testCase.token_field ?? 'refresh_token';
    return { body: JSON.stringify({ [field]: token }), token };
}

/** `loginServer` as `login_server`. */
function snakeCase(name) {
    return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `client_id` as `clientId`. */
function camelCase(name) {
    return name.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
}

/** An object with its snake_case keys in camelCase; `null` values become absent. */
export function camelKeys(object) {
    const entries = Object.entries(object ?? {}).filter(([, value]) => value !== null);
    return Object.fromEntries(entries.map(([key, value]) => [camelCase(key), value]));
}

/** A case's managed identity source (`{"app_service": {...}}`, `{"azure_arc": url}`, ...) as the wrapper takes it. */
function managedIdentitySource(source) {
    const entries = Object.entries(source);
    assert.equal(entries.length, 1, `a managed identity source has one case: ${inspect(source)}`);
    const [[kind, value]] = entries;
    const fields = typeof value === 'string' ? { endpoint: value } : camelKeys(value);
    return { kind: kind.replaceAll('_', '-'), ...fields };
}

/**
 * A case's Entra identity as the wrapper takes it. The case's identity holds
 * one key, the WIT case in snake_case (`federated_token`, `client_secret`,
 * `managed_identity`), whose value is that case's fields in snake_case. A
 * managed identity is the WIT record (`{"id": {"client_id": ...} | null,
 * "source": {...}}`), or just its ID fields (or null) for one served by the
 * instance metadata service. The wrapper takes the case as `kind` next to
 * the same fields in camelCase, the ID's field among them.
 */
export function identity(spec) {
    const entries = Object.entries(spec);
    assert.equal(entries.length, 1, `an identity has one case: ${inspect(spec)}`);
    const [[key, fields]] = entries;
    const kind = key.replaceAll('_', '-');
    if (kind !== 'managed-identity' || fields === null || !('id' in fields || 'source' in fields)) {
        return { kind, ...camelKeys(fields) };
    }
    const source = fields.source && managedIdentitySource(fields.source);
    return { kind, ...camelKeys(fields.id), ...(source && { source }) };
}

/** A hand-built WIT `cloud-environment` record of a case (snake_case, `null` for none) as the wrapper takes it. */
export function cloudRecord(record) {
    return camelKeys(record);
}

/**
 * A wrapper result as the JSON the case files expect: snake_case keys,
 * `null` for absent options, numbers for the BigInt WIT `u64`s (each must be
 * exact) and text for byte lists.
 */
function toJson(value) {
    if (value === undefined || value === null) {
        return null;
    }
    if (typeof value === 'bigint') {
        assert.ok(value <= BigInt(Number.MAX_SAFE_INTEGER), `${value} has no exact JSON number`);
        return Number(value);
    }
    if (value instanceof Uint8Array) {
        return new TextDecoder().decode(value);
    }
    if (Array.isArray(value)) {
        return value.map(toJson);
    }
    if (typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [snakeCase(key), toJson(item)]));
    }
    return value;
}

/**
 * Runs `call` (which may return a promise) and returns what it yields as the
 * case files' JSON. An `AcrAuthError` becomes `{error, message, field,
 * status, errors}`, where `error` is the kind, or `<kind>:<reason>` for the
 * variant errors (`input:empty-token`, `malformed:missing-expiry`), as the
 * Rust helper names them; an Entra refusal adds its `error_code` (the OAuth
 * error), `description`, `code`, `trace_id` and `correlation_id`, as there.
 * Anything else thrown fails the test.
 */
export async function observe(call) {
    try {
        return toJson(await call());
    } catch (thrown) {
        if (!(thrown instanceof AcrAuthError)) {
            throw thrown;
        }
        const { kind, reason, message, field, status, errors } = thrown;
        const observed = { error: reason === undefined ? kind : `${kind}:${reason}`, message, field, status, errors };
        if (thrown instanceof EntraResponseError && kind === 'refused') {
            const { error, description, code, traceId, correlationId } = thrown;
            Object.assign(observed, { errorCode: error, description, code, traceId, correlationId });
        }
        return toJson(observed);
    }
}

/**
 * Checks an observation against a case: an `error` case needs that error,
 * every `message_contains` text in the message, no `message_lacks` text, and
 * the `field` when given; any other case needs success with every key of
 * `expect` equal.
 */
export function check(testCase, observed) {
    const name = testCase.name;
    const shown = inspect(observed, { depth: 4 });
    if (testCase.error !== undefined) {
        assert.equal(observed.error, testCase.error, `${name}: ${shown}`);
        for (const needle of testCase.message_contains ?? []) {
            assert.ok(observed.message.includes(needle), `${name}: ${JSON.stringify(observed.message)} lacks ${JSON.stringify(needle)}`);
        }
        for (const secret of testCase.message_lacks ?? []) {
            assert.ok(!observed.message.includes(secret), `${name}: ${JSON.stringify(observed.message)} leaks ${JSON.stringify(secret)}`);
        }
        if (testCase.field !== undefined) {
            assert.deepEqual(observed.field, testCase.field, `${name}: ${shown}`);
        }
    } else {
        assert.ok(testCase.expect, `${name}: the case has neither expect nor error`);
        assert.equal(observed.error, undefined, `${name}: unexpected error ${shown}`);
        for (const [key, want] of Object.entries(testCase.expect)) {
            assert.deepEqual(observed[key], want, `${name}: field ${key} of ${shown}`);
        }
    }
}
