// Logging in to the local test registry with `login`, the driver of the
// component's login flow over Node's fetch (which must verify the
// registry's certificate), and the same steps driven by hand with the pure
// functions.
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
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect, promisify } from 'node:util';

import {
    EntraResponseError,
    LoginError,
    buildEntraTokenRequest,
    buildExchangeRequest,
    buildTokenRequest,
    defaultIo,
    login,
    parseAccessToken,
    parseChallenge,
    parseEntraTokenResponse,
    parseRefreshToken,
    readIdentityFromEnvironment,
    resolveScope,
} from 'acr-auth';
import { startLoopbackServer } from './loopback-server.js';

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
        body: request.body.length === 0 ? undefined : request.body,
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

/** Everything a refusal shows: its message, fields, stack and `util.inspect` form. */
function everything(error) {
    return [JSON.stringify({ ...error, message: error.message, stack: error.stack }), inspect(error, { depth: Infinity })].join('\n');
}

describe('login against the test registry', () => {
    it('discovers the challenge, exchanges the Entra token and gets an access token', { skip }, async () => {
        const result = await login(host, { entraToken }, { discover: true, repositoryScopes: ['repository:team/app:pull'] });
        const now = unixNow();
        assert.equal(result.loginServer, host);

        const { credential, accessToken } = result;
        assert.equal(credential.username, '00000000-0000-0000-0000-000000000000');
        assert.ok(isJwt(credential.password));
        assert.equal(typeof credential.expiresAt, 'bigint');
        const fromExpected = credential.expiresAt - (now + REFRESH_TOKEN_LIFETIME);
        assert.ok(fromExpected >= -CLOCK_SLACK && fromExpected <= CLOCK_SLACK, `expires at ${credential.expiresAt}, now ${now}`);
        assert.deepEqual(credential.audience, [host]);
        assert.equal(credential.abac, false);

        assert.ok(accessToken, 'scopes were asked for');
        assert.ok(isJwt(accessToken.token));
        assert.notEqual(accessToken.token, credential.password);
        assert.ok(accessToken.expiresAt > now && accessToken.expiresAt <= credential.expiresAt);
        const shown = inspect(result, { depth: Infinity });
        assert.ok(!shown.includes(credential.password) && !shown.includes(accessToken.token), shown);
    });

    it("a client-secret login gets its Entra token from Entra and hands it to the registry with the app's tenant", { skip }, async () => {
        const sent = [];
        const fetch = async (url, init) => {
            const response = await defaultIo.fetch(url, init);
            sent.push({ url, form: [...new URLSearchParams(new TextDecoder().decode(init.body))], status: response.status });
            return response;
        };
        const error = await login(host, { identity: testApp() }, { io: { fetch } }).catch((e) => e);
        const { ACR_TEST_TENANT: tenant, ACR_TEST_CLIENT_ID: clientId, ACR_TEST_CLIENT_SECRET: secret } = process.env;
        assert.deepEqual(sent[0], {
            url: `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`,
            form: [
                ['client_id', clientId],
                ['scope', 'https://containerregistry.azure.net/.default'],
                ['grant_type', 'client_credentials'],
                ['client_secret', secret],
            ],
            status: 200,
        });
        assert.equal(sent[1]?.url, `https://${host}/oauth2/exchange`, inspect(error));
        assert.deepEqual(sent[1].form, [
            ['grant_type', 'access_token'],
            ['service', host],
            ['access_token', entraToken],
            ['tenant', tenant],
        ]);
    });

    it("logs in with an app registration's client secret", { skip }, async () => {
            const result = await login(host, { identity: testApp() }, { discover: true });
            assert.equal(result.loginServer, host);
            assert.ok(isJwt(result.credential.password));
        assert.equal(result.credential.tenant, process.env.ACR_TEST_TENANT);
    });

    it('logs in with a managed identity: its platform endpoint first, then the registry', { skip }, async () => {
        // App Service's identity endpoint, served here on loopback, hands out
        // the Entra token the test registry takes.
        const expiresOn = String(Math.floor(Date.now() / 1000) + 3600);
        const endpoint = await startLoopbackServer([
            { status: 200, body: JSON.stringify({ access_token: entraToken, expires_on: expiresOn, token_type: 'Bearer' }) },
        ]);
        try {
            const identity = {
                kind: 'managed-identity',
                source: { kind: 'app-service', endpoint: `http://127.0.0.1:${endpoint.port}/msi/token`, header: 'identity-header' },
            };
            const result = await login(host, { identity }, { discover: true, repositoryScopes: ['repository:team/app:pull'] });
            assert.equal(result.loginServer, host);
            assert.ok(isJwt(result.credential.password) && isJwt(result.accessToken?.token));
            const requests = await endpoint.received();
            assert.equal(requests.length, 1);
            assert.equal(requests[0].headers['x-identity-header'], 'identity-header');
        } finally {
            await endpoint.close();
        }
    });

    it("logs in as the workload identity the environment names: its token file, Entra, then the registry", { skip }, async () => {
        // The test Entra takes the app's credential as its client assertion.
        const dir = await mkdtemp(join(tmpdir(), 'acr-auth-workload-'));
        try {
            const tokenFile = join(dir, 'azure-identity-token');
            await writeFile(tokenFile, `${process.env.ACR_TEST_CLIENT_SECRET}\n`);
            const identity = await readIdentityFromEnvironment({
                AZURE_TENANT_ID: process.env.ACR_TEST_TENANT,
                AZURE_CLIENT_ID: process.env.ACR_TEST_CLIENT_ID,
                AZURE_FEDERATED_TOKEN_FILE: tokenFile,
            });
            assert.equal(identity.kind, 'federated-token');
            const result = await login(host, { identity }, { repositoryScopes: ['repository:team/app:pull'] });
            assert.equal(result.loginServer, host);
            assert.equal(result.credential.tenant, process.env.ACR_TEST_TENANT);
            assert.ok(isJwt(result.credential.password) && isJwt(result.accessToken?.token));
        } finally {
            await rm(dir, { recursive: true });
        }
    });

    it('reports a refused Entra token with kind, stage, status, ACR error and correlation id, never the token', { skip }, async () => {
        const wrongToken = 'a-wrong-entra-token-5d0c9e8b7a6f5e4d3c2b1a';
        await assert.rejects(login(host, { entraToken: wrongToken }, { discover: true }), (error) => {
            assert.ok(error instanceof LoginError);
            assert.equal(error.kind, 'refused');
            assert.equal(error.stage, 'exchange');
            assert.equal(error.status, 400);
            assert.equal(error.errors[0]?.code, 'BAD_REQUEST');
            assert.equal(typeof error.correlationId, 'string');
            const shown = everything(error);
            assert.ok(!shown.includes(wrongToken.slice(0, 16)), shown);
            assert.ok(!shown.includes(entraToken), shown);
            return true;
        });
    });

    it("reports a wrong client secret with Entra's refusal at stage entra, never the secret", { skip }, async () => {
        const wrongSecret = 'a-wrong-client-secret-8f31a2c4d5e6f7a8b9';
        await assert.rejects(login(host, { identity: testApp(wrongSecret) }), (error) => {
            assert.ok(error instanceof LoginError);
            assert.equal(error.kind, 'refused');
            assert.equal(error.stage, 'entra');
            assert.equal(error.status, 401);
            assert.match(error.message, /AADSTS7000215/);
            assert.ok(error.correlationId, 'Entra names a correlation id');
            assert.ok(!everything(error).includes(wrongSecret.slice(10, 26)), everything(error));
            return true;
        });
    });

    it('keeps the event loop turning while each request of a login is on the wire', { skip }, async () => {
        // A counter that advances once per turn of the event loop. A login
        // that blocked the thread (as a synchronous component import would)
        // would see it stand still across every request.
        let turns = 0;
        let spinning = true;
        const spin = () => {
            turns += 1;
            if (spinning) {
                setImmediate(spin);
            }
        };
        setImmediate(spin);
        const requests = [];
        const fetch = async (url, init) => {
            const request = { url, turnsAtStart: turns };
            requests.push(request);
            const response = await defaultIo.fetch(url, init);
            request.turnsAtHead = turns;
            return response;
        };
        try {
            const result = await login(host, { entraToken }, {
                discover: true,
                repositoryScopes: ['repository:team/app:pull'],
                io: { fetch },
            });
            assert.ok(result.accessToken);
        } finally {
            spinning = false;
        }
        assert.equal(requests.length, 3, 'discovery, exchange, token');
        for (const { url, turnsAtStart, turnsAtHead } of requests) {
            assert.ok(turnsAtHead > turnsAtStart, `the event loop stood still while ${url} was sent`);
        }
    });

    it('fails the TLS handshake without the test CA: certificates are verified', { skip }, async () => {
        // The CA variables are read when Node starts, so this needs a process
        // that starts without them.
        const env = { ...process.env };
        delete env.NODE_EXTRA_CA_CERTS;
        delete env.SSL_CERT_FILE;
        const script = `
            import { login } from ${JSON.stringify(import.meta.resolve('acr-auth'))};
            try {
                await login(process.env.ACR_TEST_HOST, { entraToken: process.env.ACR_TEST_ENTRA_TOKEN });
                console.log(JSON.stringify({ loggedIn: true }));
            } catch (error) {
                console.log(JSON.stringify({ kind: error.kind, stage: error.stage, message: error.message }));
            }`;
        const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script], { env });
        const outcome = JSON.parse(stdout);
        assert.equal(outcome.loggedIn, undefined, 'logged in to a registry whose CA is not trusted');
        assert.equal(outcome.stage, 'exchange');
        assert.equal(outcome.kind, 'tls', outcome.message);
        assert.match(outcome.message, /certificate/);
    });

    it('the pure functions drive the same steps by hand over fetch', { skip }, async () => {
        const discovery = await fetch(`https://${host}/v2/`, { redirect: 'manual' });
        assert.equal(discovery.status, 401);
        assert.equal(parseChallenge(discovery.headers.get('www-authenticate')).loginServer, host);
        const exchanged = await send(buildExchangeRequest(host, entraToken));
        const credential = parseRefreshToken(exchanged.status, await exchanged.arrayBuffer(), [entraToken]);
        assert.ok(isJwt(credential.password));
        const scoped = await send(buildTokenRequest(host, credential.password, ['repository:team/app:pull']));
        const accessToken = parseAccessToken(scoped.status, await scoped.text(), [credential.password]);
        assert.ok(isJwt(accessToken.token));
    });

    it('an app registration gets the Entra token the registry takes, through the Entra functions', { skip }, async () => {
        const { scope } = resolveScope(host);
        const now = unixNow();
        const answer = await send(buildEntraTokenRequest(testApp(), scope));
        const entra = parseEntraTokenResponse(answer.status, await answer.arrayBuffer(), now, [testApp().secret]);
        assert.equal(entra.accessToken, entraToken);
        assert.equal(entra.expiresAt, now + 3599n, 'the test Entra sends expires_in 3599');
    });

    it("the Entra functions report a wrong client secret with Entra's refusal, never the secret", { skip }, async () => {
        const wrongSecret = 'a-wrong-client-secret-8f31a2';
        const answer = await send(buildEntraTokenRequest(testApp(wrongSecret), resolveScope(host).scope));
        const body = await answer.arrayBuffer();
        assert.throws(() => parseEntraTokenResponse(answer.status, body, unixNow(), [wrongSecret]), (error) => {
            assert.ok(error instanceof EntraResponseError);
            assert.equal(error.kind, 'refused');
            assert.equal(error.status, 401);
            assert.equal(error.error, 'invalid_client');
            assert.equal(error.code, 7000215);
            assert.ok(error.correlationId.length > 0);
            assert.ok(!everything(error).includes(wrongSecret), everything(error));
            return true;
        });
    });
});
