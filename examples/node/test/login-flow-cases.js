// The scripted logins of `login-flow.json`, resolved and checked as
// `tests/login_flow.rs` resolves and checks them. The file's `about`
// describes the format.

import assert from 'node:assert/strict';
import { inspect } from 'node:util';

import { LoginError } from 'acr-auth';
import { camelKeys, identity, readCaseFile } from './cases.js';

/**
 * The most response body bytes a request may be answered with: the 64 KiB
 * cap the WIT documents (`login-error-kind.too-large`).
 */
export const MAX_RESPONSE_LEN = 64 * 1024;

/**
 * The fewest consecutive bytes of a secret that count as the secret: no
 * error text may hold 16 bytes in a row of one.
 */
const MIN_FRAGMENT = 16;

/** A JWT with `claims`, as the file defines `{"jwt": claims}`. */
function jwt(claims) {
    const segment = (text) => Buffer.from(text).toString('base64url');
    return [segment(JSON.stringify({ alg: 'RS256', typ: 'JWT' })), segment(JSON.stringify(claims)), segment('sig')].join('.');
}

/** `text` with each `${name}` or `${name:from:to}` (a byte range) replaced by that secret. */
function substitute(text, secrets) {
    return text.replace(/\$\{([^}:]+)(?::(\d+):(\d+))?\}/g, (_, name, from, to) => {
        assert.ok(name in secrets, `no secret ${name}`);
        const secret = secrets[name];
        return from === undefined ? secret : Buffer.from(secret).subarray(Number(from), Number(to)).toString();
    });
}

/** `value` with its templates replaced by secrets and its `{"jwt": claims}` objects by JWTs. */
function resolve(value, secrets) {
    if (typeof value === 'string') {
        return substitute(value, secrets);
    }
    if (Array.isArray(value)) {
        return value.map((item) => resolve(item, secrets));
    }
    if (value !== null && typeof value === 'object') {
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === 'jwt') {
            return jwt(resolve(value.jwt, secrets));
        }
        return Object.fromEntries(keys.map((key) => [key, resolve(value[key], secrets)]));
    }
    return value;
}

/** The file's cases, every template resolved, and its named secrets. */
export function flowCases() {
    const file = readCaseFile('login-flow');
    const secrets = {};
    for (const [name, spec] of Object.entries(file.secrets)) {
        secrets[name] = resolve(spec, secrets);
        assert.equal(typeof secrets[name], 'string', `secret ${name}`);
    }
    return { cases: file.cases.map((testCase) => resolve(testCase, secrets)), secrets };
}

/** The case's credentials as the wrapper takes them. */
export function credentials(testCase) {
    const given = testCase.credentials;
    return given.entra_token === undefined ? { identity: identity(given.identity) } : { entraToken: given.entra_token };
}

/** The case's login options as the wrapper takes them. */
export function options(testCase) {
    return camelKeys(testCase.options);
}

/**
 * Asserts that a request (the wrapper's `{method, url, headers, body}`, its
 * headers as `[name, value]` pairs) is the one `expected` describes: the
 * form's fields as a form decoder reads them, or else the body text.
 */
export function checkRequest(name, request, expected) {
    assert.equal(request.method, expected.method, `${name}: method`);
    assert.equal(request.url, expected.url, `${name}: URL`);
    assert.deepEqual(request.headers, expected.headers, `${name}: headers`);
    const body = new TextDecoder().decode(request.body ?? new Uint8Array());
    if (expected.form === undefined) {
        assert.equal(body, expected.body, `${name}: body`);
    } else {
        assert.deepEqual([...new URLSearchParams(body)], expected.form, `${name}: form`);
    }
}

/** A script item's response: its status, its headers as pairs, and its body text. */
export function scriptedResponse(item) {
    const { status, headers = [], json, text } = item.respond;
    return { status, headers, body: json === undefined ? (text ?? '') : JSON.stringify(json) };
}

/** The 16-byte windows of `secret`: any one of them in a text leaks it. */
function windows(secret) {
    const bytes = Buffer.from(secret);
    return Array.from({ length: bytes.length - MIN_FRAGMENT + 1 }, (_, i) => bytes.subarray(i, i + MIN_FRAGMENT).toString());
}

/**
 * Asserts that a login ended as the case says: `end` is `{result}` or
 * `{error}`.
 */
export function checkEnd(testCase, secrets, end) {
    const { name, done, failed } = testCase;
    if (done !== undefined) {
        assert.ok(end.result, `${name}: failed with ${inspect(end.error)}`);
        const { loginServer, credential, accessToken } = end.result;
        assert.equal(loginServer, done.login_server, name);
        assert.equal(credential.expiresAt, BigInt(done.expires_at), name);
        assert.deepEqual(credential.audience, done.audience, name);
        assert.equal(credential.password, done.password, name);
        const accessExpiry = done.access_token_expires_at;
        assert.equal(accessToken?.expiresAt, accessExpiry === null ? undefined : BigInt(accessExpiry), name);
        // What console.log shows of the result holds neither token.
        const shown = inspect(end.result, { depth: Infinity });
        for (const secret of [credential.password, accessToken?.token].filter(Boolean)) {
            assert.ok(!shown.includes(secret), `${name}: inspect shows a token: ${shown}`);
        }
        return;
    }
    const { error } = end;
    assert.ok(error instanceof LoginError, `${name}: ended with ${inspect(end)}`);
    assert.equal(error.kind, failed.kind, `${name}: kind (${error.message})`);
    assert.equal(error.stage, failed.stage, `${name}: stage (${error.message})`);
    if ('status' in failed) {
        assert.equal(error.status ?? null, failed.status, `${name}: status`);
    }
    for (const part of failed.message_contains ?? []) {
        assert.ok(error.message.includes(part), `${name}: ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
    }
    if ('errors' in failed) {
        assert.deepEqual(error.errors, failed.errors, `${name}: errors`);
    }
    if ('correlation_id' in failed) {
        assert.equal(error.correlationId ?? null, failed.correlation_id, `${name}: correlation ID`);
    }
    const texts = [
        error.message,
        inspect(error, { depth: Infinity }),
        error.correlationId ?? '',
        ...error.errors.flatMap(({ code, message }) => [code, message]),
    ];
    for (const secretName of failed.lacks ?? []) {
        for (const window of windows(secrets[secretName])) {
            for (const text of texts) {
                assert.ok(!text.includes(window), `${name}: ${JSON.stringify(window)} of ${secretName} in ${text}`);
            }
        }
    }
}
