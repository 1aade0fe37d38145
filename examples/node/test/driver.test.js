// `login`'s own work, with Node's real fetch, timers and sockets against a
// loopback server: what goes on the wire, redirects returned rather than
// followed, each timeout, the body cap, each transport failure mapped to its
// kind, and the event loop running throughout. The server stands in for an
// App Service or Cloud Shell identity endpoint, which the flow reaches over
// plain HTTP on a loopback address; every login here ends at that endpoint
// (stage `entra`), so no registry is needed.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { LoginError, login } from 'acr-auth';
import { startLoopbackServer } from './loopback-server.js';

/** The identity header App Service hands its apps: a secret, sent to the endpoint only. */
const IDENTITY_HEADER = '9f3c2a1b-7e6d-4c5b-8a9f-0e1d2c3b4a59-Az1';

/** Servers to stop when the tests end. */
const servers = [];
after(() => Promise.all(servers.map((server) => server.close())));

/** A server answering as `plan` says, stopped after the tests. */
async function serve(plan) {
    const server = await startLoopbackServer(plan);
    servers.push(server);
    return server;
}

/** App Service's managed identity at `port`. */
function appService(port) {
    return {
        identity: {
            kind: 'managed-identity',
            source: { kind: 'app-service', endpoint: `http://127.0.0.1:${port}/msi/token`, header: IDENTITY_HEADER },
        },
    };
}

/** Logs in to the public cloud registry as App Service's identity at `port`; resolves to the `LoginError`. */
function failedLogin(port, options = {}) {
    return login('myregistry.azurecr.io', appService(port), options).then(
        (result) => assert.fail(`logged in: ${result.loginServer}`),
        (error) => {
            assert.ok(error instanceof LoginError, `${error}`);
            return error;
        },
    );
}

/** An OAuth refusal body. */
const REFUSAL = JSON.stringify({ error: 'invalid_request', error_description: 'refused by the test server' });

describe('login over fetch, against a loopback endpoint', () => {
    it('sends the request exactly as the flow gives it, and returns a redirect to the flow unfollowed', async () => {
        const server = await serve([{ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }]);
        const error = await failedLogin(server.port);
        assert.equal(error.kind, 'redirect', error.message);
        assert.equal(error.stage, 'entra');
        const requests = await server.received();
        assert.equal(requests.length, 1, 'the redirect was followed');
        const [{ method, url, headers, body }] = requests;
        assert.equal(method, 'GET');
        assert.equal(url, '/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fcontainerregistry.azure.net');
        assert.equal(headers['x-identity-header'], IDENTITY_HEADER);
        assert.equal(headers.accept, 'application/json');
        assert.equal(body, '');
        assert.ok(!error.message.includes(IDENTITY_HEADER), error.message);
    });

    it('sends a form body with its Content-Length, not chunked', async () => {
        const server = await serve([{ status: 400, body: REFUSAL }]);
        const identity = {
            kind: 'managed-identity',
            source: { kind: 'cloud-shell', endpoint: `http://127.0.0.1:${server.port}/oauth2/token` },
        };
        const error = await login('myregistry.azurecr.io', { identity }).catch((e) => e);
        assert.equal(error.kind, 'refused', error.message);
        assert.equal(error.status, 400);
        const [{ method, headers, body }] = await server.received();
        assert.equal(method, 'POST');
        assert.equal(body, 'resource=https%3A%2F%2Fcontainerregistry.azure.net');
        assert.equal(headers['content-type'], 'application/x-www-form-urlencoded');
        assert.equal(headers['content-length'], String(body.length));
        assert.equal(headers['transfer-encoding'], undefined);
    });

    it('keeps the event loop running while it waits for a response and for a retry', async () => {
        // The first answer comes late and is retried after a real wait of
        // 200 ms; the second is a refusal that ends the login.
        const server = await serve([
            { status: 500, body: REFUSAL, delayMs: 300 },
            { status: 400, body: REFUSAL },
        ]);
        const ticks = [];
        const timer = setInterval(() => ticks.push(Date.now()), 5);
        const retry = { maxRetries: 0, metadataMaxRetries: 1, firstDelayMs: 200, maxDelayMs: 200, goneWindowMs: 0 };
        try {
            const error = await failedLogin(server.port, { retry });
            assert.equal(error.kind, 'refused', error.message);
            assert.equal(error.status, 400);
        } finally {
            clearInterval(timer);
        }
        const [first, second] = await server.received();
        assert.ok(second, 'the 500 was not retried');
        const between = (from, to) => ticks.filter((tick) => tick > from && tick < to).length;
        // The late answer: 300 ms after the first request arrived; then the wait: 200 ms before the second.
        assert.ok(between(first.at, first.at + 250) > 0, 'no timer fired while the response was awaited');
        assert.ok(between(second.at - 150, second.at) > 0, 'no timer fired during the wait before the retry');
    });

    it('gives up on a response that does not come within the connect and first-byte timeouts', async () => {
        const server = await serve([{ hang: true }, { hang: true }]);
        const error = await failedLogin(server.port, { connectTimeoutMs: 50, firstByteTimeoutMs: 100 });
        assert.equal(error.kind, 'timeout', error.message);
        assert.match(error.message, /within 150 ms/);
        // A GET that timed out is sent once more, as the flow decides.
        assert.equal((await server.received()).length, 2);
    });

    it('gives up on a body that stops for longer than the between-bytes timeout', async () => {
        const stalled = { status: 200, headers: { 'content-type': 'application/json' }, chunks: ['{"access_token":'], stall: true };
        const server = await serve([stalled, stalled]);
        const error = await failedLogin(server.port, { betweenBytesTimeoutMs: 150 });
        assert.equal(error.kind, 'timeout', error.message);
        assert.match(error.message, /body/);
    });

    it('refuses a body over the cap, streamed or declared, and stops reading', async () => {
        const server = await serve([
            { status: 200, streamBytes: 1024 * 1024 },
            // Declared too large, then stalled: waiting for it would be a timeout.
            { status: 200, headers: { 'content-length': '100000' }, chunks: ['{'], stall: true },
        ]);
        for (const body of ['streamed', 'declared']) {
            const error = await failedLogin(server.port, { betweenBytesTimeoutMs: 1000 });
            assert.equal(error.kind, 'too-large', `${body}: ${error.message}`);
            assert.equal(error.stage, 'entra');
        }
        assert.equal((await server.received()).length, 2, 'a body over the cap was asked for again');
    });

    it('reports a connection reset as a transport failure, after one more try', async () => {
        const server = await serve([{ reset: true }, { reset: true }]);
        const error = await failedLogin(server.port);
        assert.equal(error.kind, 'transport', error.message);
        assert.equal((await server.received()).length, 2);
    });

    it('reports a refused connection as connect', async () => {
        // A port that was just free: nothing listens on it.
        const server = await serve([]);
        await server.close();
        const error = await failedLogin(server.port);
        assert.equal(error.kind, 'connect', error.message);
        assert.match(error.message, /ECONNREFUSED/);
    });
});
