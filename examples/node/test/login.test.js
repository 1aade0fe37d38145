// Logging in to the local test registry: `login` through the `client`
// component, whose HTTP goes through @bytecodealliance/preview2-shim's
// wasi:http (that is `node:https`, which must verify the registry's
// certificate), and the same flow driven by the pure functions over fetch.
//
// Runs under `host-tests/with-test-acr.sh`, which serves the test registry at
// https://$ACR_TEST_HOST (port 443, resolved to 127.0.0.1 in a private
// network namespace), points NODE_EXTRA_CA_CERTS at its CA and sets
// ACR_TEST_ENTRA_TOKEN to the Entra token it accepts. The same server answers
// Entra's token endpoint as login.microsoftonline.com for one app
// registration (ACR_TEST_TENANT, ACR_TEST_CLIENT_ID, ACR_TEST_CLIENT_SECRET),
// selling that token. Skipped elsewhere.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import {
    EntraResponseError,
    LoginError,
    buildEntraTokenRequest,
    buildExchangeRequest,
    buildTokenRequest,
    login,
    parseAccessToken,
    parseChallenge,
    parseEntraTokenResponse,
    parseRefreshToken,
    resolveScope,
} from '../acr-auth.js';

const host = process.env.ACR_TEST_HOST;
const entraToken = process.env.ACR_TEST_ENTRA_TOKEN;
const skip =
    host === undefined &&
    'ACR_TEST_HOST is not set: run this under host-tests/with-test-acr.sh to log in to the local test registry';

/** The lifetime of the test registry's refresh tokens, as ACR's: 3 hours. */
const REFRESH_TOKEN_LIFETIME = 3n * 60n * 60n;
/** How far an expiry may be from the expected one: the time a test takes. */
const CLOCK_SLACK = 60n;

/** Now, in the BigInt unix seconds of `expiresAt`. */
function unixNow() {
    return BigInt(Math.floor(Date.now() / 1000));
}

/** Whether `token` has the three dot-separated segments of a JWT. */
function isJwt(token) {
    return typeof token === 'string' && token.split('.').length === 3;
}

/** Sends a request the component built, with fetch, following no redirect. */
function send(request) {
    return fetch(request.url, {
        method: request.method,
        headers: request.headers.map(({ name, value }) => [name, value]),
        body: request.body,
        redirect: 'manual',
    });
}

/** The test app registration, signing in with its client secret, or with `secret` instead. */
function testApp(secret = process.env.ACR_TEST_CLIENT_SECRET) {
    return {
        kind: 'client-secret',
        tenant: process.env.ACR_TEST_TENANT,
        clientId: process.env.ACR_TEST_CLIENT_ID,
        secret,
    };
}

describe('login against the test registry', () => {
    it('discovers the challenge, exchanges the Entra token and gets an access token', { skip }, async () => {
        const result = await login(host, entraToken, { discover: true, scopes: ['repository:team/app:pull'] });
        const now = unixNow();
        assert.equal(result.loginServer, host);

        const { credential, accessToken } = result;
        assert.equal(credential.username, '00000000-0000-0000-0000-000000000000');
        assert.ok(isJwt(credential.password));
        assert.equal(typeof credential.expiresAt, 'bigint');
        const fromExpected = credential.expiresAt - (now + REFRESH_TOKEN_LIFETIME);
        assert.ok(fromExpected >= -CLOCK_SLACK && fromExpected <= CLOCK_SLACK, `expires at ${credential.expiresAt}, now ${now}`);
        assert.equal(credential.loginServer, host);

        assert.ok(accessToken, 'scopes were asked for');
        assert.ok(isJwt(accessToken.token));
        assert.notEqual(accessToken.token, credential.password);
        assert.ok(accessToken.expiresAt > now && accessToken.expiresAt <= credential.expiresAt);
    });

    it('accepts request-option timeouts as numbers or BigInts', { skip }, async () => {
        const result = await login(host, entraToken, {
            connectTimeoutMs: 5_000,
            firstByteTimeoutMs: 5_000n,
            betweenBytesTimeoutMs: 5_000,
        });
        assert.equal(result.loginServer, host);
        assert.equal(result.accessToken, undefined, 'no scopes, no access token');
    });

    it('reports a refused Entra token with the status, ACR error and correlation id, never the token', { skip }, async () => {
        const wrongToken = 'a-wrong-entra-token-5d0c9e';
        await assert.rejects(login(host, wrongToken, { discover: true }), (error) => {
            assert.ok(error instanceof LoginError);
            assert.equal(error.kind, 'refused');
            assert.equal(error.stage, 'exchange');
            assert.equal(error.status, 400);
            assert.equal(error.errors[0]?.code, 'BAD_REQUEST');
            assert.equal(typeof error.correlationId, 'string');
            const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
            assert.ok(!everything.includes(wrongToken), everything);
            assert.ok(!everything.includes(entraToken), everything);
            return true;
        });
    });

    it('the pure functions drive the same flow over fetch', { skip }, async () => {
        // The sans-IO way: the component builds each request and reads each
        // response; the caller sends them, here with fetch, following no redirect.
        const discovery = await fetch(`https://${host}/v2/`, { redirect: 'manual' });
        assert.equal(discovery.status, 401);
        assert.equal(parseChallenge(discovery.headers.get('www-authenticate')).loginServer, host);
        const exchanged = await send(buildExchangeRequest(host, entraToken));
        const credential = parseRefreshToken(exchanged.status, await exchanged.arrayBuffer());
        assert.ok(isJwt(credential.password));
        const scoped = await send(buildTokenRequest(host, credential.password, ['repository:team/app:pull']));
        const accessToken = parseAccessToken(scoped.status, await scoped.text());
        assert.ok(isJwt(accessToken.token));
    });

    it('an app registration gets the Entra token the registry takes, through the Entra functions', { skip }, async () => {
        const { scope } = resolveScope(host);
        const now = unixNow();
        const answer = await send(await buildEntraTokenRequest(testApp(), scope));
        const entra = await parseEntraTokenResponse(answer.status, await answer.arrayBuffer(), now);
        assert.equal(entra.accessToken, entraToken);
        assert.equal(entra.expiresAt, now + 3599n, 'the test Entra sends expires_in 3599');
        const result = await login(host, entra.accessToken, { discover: true });
        assert.ok(isJwt(result.credential.password));
    });

    it("reports a wrong client secret with Entra's refusal, never the secret", { skip }, async () => {
        const wrongSecret = 'a-wrong-client-secret-8f31a2';
        const answer = await send(await buildEntraTokenRequest(testApp(wrongSecret), resolveScope(host).scope));
        const body = await answer.arrayBuffer();
        await assert.rejects(parseEntraTokenResponse(answer.status, body, unixNow()), (error) => {
            assert.ok(error instanceof EntraResponseError);
            assert.equal(error.kind, 'refused');
            assert.equal(error.status, 401);
            assert.equal(error.error, 'invalid_client');
            assert.equal(error.code, 7000215);
            assert.ok(error.correlationId.length > 0);
            const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
            assert.ok(!everything.includes(wrongSecret), everything);
            return true;
        });
    });

    it('fails the TLS handshake without the test CA: certificates are verified', { skip }, async () => {
        // The CA variables are read when Node starts, so this needs a process
        // that starts without them.
        const env = { ...process.env };
        delete env.NODE_EXTRA_CA_CERTS;
        delete env.SSL_CERT_FILE;
        const script = `
            import { login } from ${JSON.stringify(new URL('../acr-auth.js', import.meta.url).href)};
            try {
                await login(process.env.ACR_TEST_HOST, process.env.ACR_TEST_ENTRA_TOKEN);
                console.log(JSON.stringify({ loggedIn: true }));
            } catch (error) {
                console.log(JSON.stringify({ kind: error.kind, stage: error.stage, message: error.message }));
            }`;
        const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script], { env });
        const outcome = JSON.parse(stdout);
        assert.equal(outcome.loggedIn, undefined, 'logged in to a registry whose CA is not trusted');
        assert.equal(outcome.stage, 'exchange');
        // preview2-shim reports Node's TLS errors as `internal-error`, which
        // the component counts as `transport`; `tls` would be more precise.
        assert.ok(['tls', 'transport'].includes(outcome.kind), outcome.kind);
        assert.match(outcome.message, /certificate/);
    });
});
