// Managed identities on every platform the Azure SDKs know, logged in with
// `login` against the test ACR's identity side: App Service, Functions and
// Container Apps (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), Azure Arc (a 401
// naming the agent's key file, read here from a directory of the test's own
// and sent back as `Authorization: Basic`) and Cloud Shell (`MSI_ENDPOINT`).
// Each test starts its own test-acr process (`ACR_TEST_SERVER`) serving one
// platform's endpoint over plain HTTP on a loopback port, with the exact
// protocol of that platform, and reads back every request it received; the
// registry is the one `host-tests/with-test-acr.sh` serves at
// https://$ACR_TEST_HOST, which takes the Entra token the endpoint hands out.
// Skipped elsewhere.
//
// Also, without a network: the driver sends plain HTTP only to the endpoint
// the identity names, and reads only the Arc agent's key files.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';

import { LoginError, defaultIo, login, readIdentityFromEnvironment } from 'acr-auth';
import { startLoopbackServer } from './loopback-server.js';

const host = process.env.ACR_TEST_HOST;
const skip =
    host === undefined &&
    'ACR_TEST_HOST is not set: run this under host-tests/with-test-acr.sh to log in to the local test registry';

/** `IDENTITY_HEADER`: a secret App Service rotates. */
const IDENTITY_HEADER = '7c1f3a9e-5b2d-4e8f-a6c0-1d9b3e5f7a2c';
/** A user-assigned identity's client ID. */
const CLIENT_ID = '2b5e9c1d-7f3a-4e6b-9d8c-0a1f2e3d4c5b';
/** The Arc agent's key file, as the agent names one, and the key it holds. */
const ARC_KEY_NAME = '3c5d7e9f-1a2b-4c6d-8e0f-2a4b6c8d0e1f.key';
const ARC_KEY = 'f3b9a1c7e5d2846a0b9c7e1f3a5d8b2c';
/** The ACR resource, as each platform's request names it. */
const RESOURCE = 'resource=https%3A%2F%2Fcontainerregistry.azure.net';
/** How long a test server may take to start or to stop. */
const SERVER_PATIENCE_MS = 10_000;

/** Temporary directories to remove, and test-acr processes to stop, when the tests end. */
const directories = [];
const servers = [];
after(() => {
    // A test that failed before it asked for the requests leaves its server running.
    servers.forEach((server) => server.kill());
    return Promise.all(directories.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A new temporary directory, removed after the tests. */
async function temporaryDirectory() {
    const dir = await mkdtemp(join(tmpdir(), 'acr-auth-platform-'));
    directories.push(dir);
    return dir;
}

/** Waits for `promise`, or rejects naming `what` after `SERVER_PATIENCE_MS`. */
function patiently(promise, what) {
    let timer;
    const expired = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took over ${SERVER_PATIENCE_MS} ms`)), SERVER_PATIENCE_MS);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Starts a test-acr process serving `platform`'s identity endpoint (its
 * `--platform` value). Resolves to the `endpoint` URL and `requests()`,
 * which stops the server and resolves to every request it received,
 * `{method, path, query, headers, body}` with `headers` as an object of
 * lower-case names.
 */
async function startIdentitySide(platform) {
    const dir = await temporaryDirectory();
    const args = [host, '0', join(dir, 'ca.pem'), '--platform', platform, '--print-requests'];
    const server = spawn(process.env.ACR_TEST_SERVER, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    servers.push(server);
    let output = '';
    server.stdout.setEncoding('utf8').on('data', (text) => (output += text));
    const exited = new Promise((resolve) => server.on('close', resolve));
    const started = new Promise((resolve, reject) => {
        server.stdout.on('data', () => output.includes('\nready ') && resolve());
        server.on('error', reject);
        exited.then(() => reject(new Error(`test-acr ended before it was ready: ${output}`)));
    });
    await patiently(started, 'starting test-acr');
    const endpoint = output.match(/^identity-endpoint (\S+)$/m)[1];
    const requests = async () => {
        server.stdin.end();
        await patiently(exited, 'stopping test-acr');
        return output
            .split('\n')
            .filter((line) => line.startsWith('request '))
            .map((line) => {
                const request = JSON.parse(line.slice('request '.length));
                return { ...request, headers: Object.fromEntries(request.headers) };
            });
    };
    return { endpoint, requests };
}

/**
 * A `fetch` that records every request the login sends (URL, headers and
 * body as text) in `sent`, then sends it with Node's own.
 */
function recordingFetch(sent) {
    return async (url, init) => {
        const body = init.body === undefined ? '' : new TextDecoder().decode(init.body);
        sent.push({ url, headers: Object.fromEntries(init.headers), body });
        return defaultIo.fetch(url, init);
    };
}

/** Fails unless `secret` is only in requests `sent` to `endpoint`'s origin. */
function assertOnlySentTo(sent, endpoint, secret) {
    const { origin } = new URL(endpoint);
    for (const request of sent.filter(({ url }) => new URL(url).origin !== origin)) {
        assert.ok(!JSON.stringify(request).includes(secret), `the secret went to ${request.url}`);
    }
}

/** Checks a login's result: the test registry's refresh token and an access token. */
function assertLoggedIn(result) {
    assert.equal(result.loginServer, host);
    assert.equal(result.credential.password.split('.').length, 3, 'a JWT');
    assert.equal(result.accessToken?.token.split('.').length, 3, 'a JWT');
}

/** What every login here asks of the registry. */
const OPTIONS = { repositoryScopes: ['repository:team/app:pull'] };

describe('managed identities on each platform, against the test ACR', () => {
    for (const clientId of [undefined, CLIENT_ID]) {
        const which = clientId === undefined ? 'system-assigned' : 'user-assigned';
        it(`App Service (${which}): GET with X-IDENTITY-HEADER, api-version 2019-08-01, to its endpoint only`, { skip }, async () => {
            const side = await startIdentitySide(`app-service:${IDENTITY_HEADER}${clientId ? `:${clientId}` : ''}`);
            const identity = {
                kind: 'managed-identity',
                ...(clientId && { clientId }),
                source: { kind: 'app-service', endpoint: side.endpoint, header: IDENTITY_HEADER },
            };
            const sent = [];
            const result = await login(host, { identity }, { ...OPTIONS, io: { fetch: recordingFetch(sent) } });
            assertLoggedIn(result);
            const requests = await side.requests();
            assert.equal(requests.length, 1, inspect(requests));
            const [request] = requests;
            assert.equal(request.method, 'GET');
            assert.equal(request.path, '/msi/token');
            const query = `api-version=2019-08-01&${RESOURCE}${clientId ? `&client_id=${clientId}` : ''}`;
            assert.equal(request.query, query);
            assert.equal(request.headers['x-identity-header'], IDENTITY_HEADER);
            assert.equal(request.headers.accept, 'application/json');
            assert.equal(request.headers.authorization, undefined);
            assert.equal(request.body, '');
            assert.deepEqual(
                sent.map(({ url }) => new URL(url).origin),
                [new URL(side.endpoint).origin, `https://${host}`, `https://${host}`],
            );
            assertOnlySentTo(sent, side.endpoint, IDENTITY_HEADER);
            assert.ok(!inspect(result, { depth: Infinity }).includes(IDENTITY_HEADER));
        });
    }

    it("Azure Arc: the challenge, the agent's key read from its directory, then the keyed request", { skip }, async () => {
        const side = await startIdentitySide(`arc:${ARC_KEY_NAME}:${ARC_KEY}`);
        const keys = await temporaryDirectory();
        await writeFile(join(keys, ARC_KEY_NAME), ARC_KEY);
        const identity = { kind: 'managed-identity', source: { kind: 'azure-arc', endpoint: side.endpoint } };
        const sent = [];
        const read = [];
        const readFile = (path, maxLen, signal) => {
            read.push({ path, maxLen });
            return defaultIo.readFile(path, maxLen, signal);
        };
        const io = { fetch: recordingFetch(sent), readFile };
        const result = await login(host, { identity }, { ...OPTIONS, arcKeyDirectory: keys, io });
        assertLoggedIn(result);
        assert.deepEqual(read, [{ path: join(keys, ARC_KEY_NAME), maxLen: 4096 }]);
        const requests = await side.requests();
        assert.equal(requests.length, 2, 'the challenge, then the keyed request');
        for (const request of requests) {
            assert.equal(request.method, 'GET');
            assert.equal(request.path, '/metadata/identity/oauth2/token');
            assert.equal(request.query, `api-version=2020-06-01&${RESOURCE}`);
            assert.equal(request.headers.metadata, 'true');
            assert.equal(request.body, '');
        }
        assert.equal(requests[0].headers.authorization, undefined);
        assert.equal(requests[1].headers.authorization, `Basic ${ARC_KEY}`);
        assertOnlySentTo(sent, side.endpoint, ARC_KEY);
    });

    it('Azure Arc without the key file: a key-file error naming the file, after the challenge alone', { skip }, async () => {
        const side = await startIdentitySide(`arc:${ARC_KEY_NAME}:${ARC_KEY}`);
        const empty = await temporaryDirectory();
        const identity = { kind: 'managed-identity', source: { kind: 'azure-arc', endpoint: side.endpoint } };
        const sent = [];
        const error = await login(host, { identity }, { arcKeyDirectory: empty, io: { fetch: recordingFetch(sent) } }).then(
            (result) => assert.fail(`logged in: ${result.loginServer}`),
            (e) => e,
        );
        assert.ok(error instanceof LoginError, inspect(error));
        assert.equal(error.kind, 'key-file', error.message);
        assert.equal(error.stage, 'entra');
        assert.ok(error.message.includes(ARC_KEY_NAME), error.message);
        const requests = await side.requests();
        assert.equal(requests.length, 1, 'the challenge alone');
        assert.equal(requests[0].headers.authorization, undefined);
        assert.equal(sent.length, 1, 'nothing went to the registry');
    });

    it('Cloud Shell: a POST of the resource with Metadata: true, and no query', { skip }, async () => {
        const side = await startIdentitySide('cloud-shell');
        const identity = { kind: 'managed-identity', source: { kind: 'cloud-shell', endpoint: side.endpoint } };
        const result = await login(host, { identity }, OPTIONS);
        assertLoggedIn(result);
        const requests = await side.requests();
        assert.equal(requests.length, 1, inspect(requests));
        const [request] = requests;
        assert.equal(request.method, 'POST');
        assert.equal(request.path, '/oauth2/token');
        assert.equal(request.query, null);
        assert.equal(request.headers.metadata, 'true');
        assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
        assert.equal(request.body, RESOURCE);
        assert.equal(request.headers['content-length'], String(RESOURCE.length));
    });

    it('logs in as the App Service identity readIdentityFromEnvironment finds', { skip }, async () => {
        const side = await startIdentitySide(`app-service:${IDENTITY_HEADER}`);
        const identity = await readIdentityFromEnvironment({ IDENTITY_ENDPOINT: side.endpoint, IDENTITY_HEADER });
        assert.equal(identity.source.kind, 'app-service');
        const sent = [];
        assertLoggedIn(await login(host, { identity }, { ...OPTIONS, io: { fetch: recordingFetch(sent) } }));
        const [request, ...more] = await side.requests();
        assert.deepEqual(more, []);
        assert.equal(request.path, '/msi/token');
        assert.equal(request.query, `api-version=2019-08-01&${RESOURCE}`);
        assert.equal(request.headers['x-identity-header'], IDENTITY_HEADER);
        assertOnlySentTo(sent, side.endpoint, IDENTITY_HEADER);
    });
});

describe("the driver's own limits", () => {
    it('sends plain HTTP to no loopback endpoint but the one the identity names', async () => {
        // An identity whose endpoint is one server's when the flow reads it
        // and the other's when the driver does: the flow's request then goes
        // to an endpoint the driver was not told about, and is refused unsent.
        const [first, second] = await Promise.all([startLoopbackServer([]), startLoopbackServer([])]);
        try {
            const endpoints = [first, second].map(({ port }) => `http://127.0.0.1:${port}/oauth2/token`);
            let reads = 0;
            const source = {
                kind: 'cloud-shell',
                get endpoint() {
                    reads += 1;
                    return endpoints[Math.min(reads, 2) - 1];
                },
            };
            const error = await login('myregistry.azurecr.io', { identity: { kind: 'managed-identity', source } }).then(
                (result) => assert.fail(`logged in: ${result.loginServer}`),
                (e) => e,
            );
            assert.equal(reads, 2, 'the flow and the driver each read the endpoint once');
            assert.ok(error instanceof LoginError, inspect(error));
            assert.equal(error.kind, 'connect', error.message);
            assert.match(error.message, /refused to send plain HTTP to http:\/\/127\.0\.0\.1:\d+/);
            assert.deepEqual(await first.received(), []);
            assert.deepEqual(await second.received(), []);
        } finally {
            await Promise.all([first.close(), second.close()]);
        }
    });

    it("reads no key file but the Linux agent's, mapped to arcKeyDirectory", async () => {
        // The flow also accepts the Windows agent's directory; this host
        // reads only the Linux one's.
        const key = 'C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\agent.key';
        const fetch = async () => new Response(null, { status: 401, headers: { 'www-authenticate': `Basic realm=${key}` } });
        const readFile = async (path) => assert.fail(`read ${path}`);
        const identity = {
            kind: 'managed-identity',
            source: { kind: 'azure-arc', endpoint: 'http://localhost:40342/metadata/identity/oauth2/token' },
        };
        const error = await login('myregistry.azurecr.io', { identity }, { io: { fetch, readFile } }).catch((e) => e);
        assert.ok(error instanceof LoginError, inspect(error));
        assert.equal(error.kind, 'key-file', error.message);
        assert.match(error.message, /reads only the Azure Arc agent's key files, in \/var\/opt\/azcmagent\/tokens/);
    });
});
