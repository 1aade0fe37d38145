// What the wrapper adds to the transpiled bindings: error classes, body
// conversions, BigInt expiries, options objects, identities, events and
// steps as one object with a `kind`, secrets concealed from `util.inspect`,
// and the `LoginFlow` class. No network.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

import * as acr from 'acr-auth';

/** A response body holding a token whose claims are `claims`. */
function tokenBody(field, claims) {
    const segment = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${segment({ alg: 'RS256', typ: 'JWT' })}.${segment(claims)}.${segment('signature')}`;
    return { token, body: JSON.stringify({ [field]: token }) };
}

/** Asserts that `refusal` is an `ErrorClass` with the given fields, and returns it. */
function assertRefusal(refusal, ErrorClass, fields) {
    assert.ok(refusal instanceof ErrorClass, `${refusal?.name} is not a ${ErrorClass.name}`);
    assert.ok(refusal instanceof acr.AcrAuthError);
    assert.ok(refusal instanceof Error);
    assert.equal(refusal.name, ErrorClass.name);
    assert.ok(refusal.message.length > 0);
    for (const [key, value] of Object.entries(fields)) {
        assert.deepEqual(refusal[key], value, key);
    }
    return refusal;
}

/** Asserts that `call` throws an `ErrorClass` with the given fields, and returns it. */
function assertRefused(call, ErrorClass, fields) {
    let refusal;
    assert.throws(call, (error) => {
        refusal = error;
        return true;
    });
    return assertRefusal(refusal, ErrorClass, fields);
}

const CUSTOM_CLOUD_JSON = JSON.stringify({
    name: 'ContosoStack',
    resourceManagerEndpoint: 'https://management.contoso.example/',
    activeDirectoryEndpoint: 'https://login.contoso.example/',
    containerRegistryDNSSuffix: 'azurecr.contoso.example',
    resourceIdentifiers: { containerRegistry: 'https://containerregistry.contoso.example' },
});

it('acr-auth.d.ts declares exactly the values the module exports', () => {
    const declarations = readFileSync(new URL('acr-auth.d.ts', import.meta.resolve('acr-auth')), 'utf8');
    const declared = [...declarations.matchAll(/^export (?:class|function|const) (\w+)/gm)].map(([, name]) => name);
    assert.deepEqual(declared.sort(), Object.keys(acr).sort());
});

describe('errors', () => {
    it('a refused reference is a RegistryReferenceError', () => {
        assertRefused(() => acr.resolveScope('http://myregistry.azurecr.io'), acr.RegistryReferenceError, {
            kind: 'unsupported-scheme',
        });
    });

    it('a refused environment file is a CloudEnvironmentError naming the field', () => {
        const file = { ...JSON.parse(CUSTOM_CLOUD_JSON), resourceManagerEndpoint: undefined };
        assertRefused(() => acr.parseCloudEnvironment(JSON.stringify(file)), acr.CloudEnvironmentError, {
            kind: 'missing-field',
            field: 'resourceManagerEndpoint',
        });
    });

    it('a refused request argument is a RequestError saying which argument and why', () => {
        assertRefused(() => acr.buildExchangeRequest('myregistry.azurecr.io:8443', 'token'), acr.RequestError, {
            kind: 'reference',
            reason: 'port',
        });
        assertRefused(() => acr.buildTokenRequest('myregistry.azurecr.io', 'token', []), acr.RequestError, {
            kind: 'input',
            reason: 'scope-count',
        });
    });

    it('a refusal is a ResponseError with the status and the ACR errors', () => {
        const body = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
        assertRefused(() => acr.parseRefreshToken(401, body, []), acr.ResponseError, {
            kind: 'refused',
            reason: undefined,
            status: 401,
            errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
        });
    });

    it('a malformed response is a ResponseError with the reason', () => {
        const { body } = tokenBody('access_token', { iat: 1767222000 });
        assertRefused(() => acr.parseAccessToken(200, body, []), acr.ResponseError, {
            kind: 'malformed',
            reason: 'missing-expiry',
            status: undefined,
            errors: [],
        });
    });

    it('a realm on a foreign host is a ChallengeError caused by a RegistryReferenceError', () => {
        const header = 'Bearer realm="https://myregistry.azurecr.io.evil.example/oauth2/token",service="x"';
        const error = assertRefused(() => acr.parseChallenge(header), acr.ChallengeError, { kind: 'realm-host' });
        assert.ok(error.realmError instanceof acr.RegistryReferenceError);
        assert.equal(error.realmError.kind, 'unrecognised-host');
        assert.equal(error.cause, error.realmError);
    });

    it('an argument of the wrong type is a TypeError, not a refusal', () => {
        assert.throws(() => acr.resolveScope(42), (error) => error instanceof TypeError && !(error instanceof acr.AcrAuthError));
        assert.throws(() => acr.parseRefreshToken(200, 42, []), TypeError);
    });

    it('the secrets a request carried are a required argument of every response parser', () => {
        const body = JSON.stringify({ access_token: 'entra-token', expires_in: 1 });
        assert.throws(() => acr.parseRefreshToken(200, '{}'), TypeError);
        assert.throws(() => acr.parseAccessToken(200, '{}'), TypeError);
        assert.throws(() => acr.parseEntraTokenResponse(200, body, 1767222000), TypeError);
    });

    it('a secret passed as sent is kept out of a refusal that echoes it, whole or in part', () => {
        const entraToken = tokenBody('access_token', { exp: 1767226500, oid: 'a'.repeat(64) }).token;
        const echo = `token ${entraToken} refused; fragment ${entraToken.slice(20, 60)}`;
        const body = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: echo }] });
        const error = assertRefused(() => acr.parseRefreshToken(401, body, [entraToken]), acr.ResponseError, {
            kind: 'refused',
        });
        const texts = [error.message, ...error.errors.map((e) => e.message)].join(' ');
        assert.ok(!texts.includes(entraToken.slice(20, 36)), texts);
        assert.ok(texts.includes('[redacted]'), texts);
    });
});

describe('values', () => {
    it('expiresAt and issuedAt are BigInt unix seconds, rounded down', () => {
        const { token, body } = tokenBody('refresh_token', { exp: 1767232800.9, iat: 1767222000, aud: 'myregistry.azurecr.io' });
        const credential = acr.parseRefreshToken(200, body, []);
        assert.equal(credential.expiresAt, 1767232800n);
        assert.equal(credential.issuedAt, 1767222000n);
        assert.equal(credential.password, token);
        assert.equal(credential.tenant, undefined);
        assert.deepEqual(credential.audience, ['myregistry.azurecr.io']);
        assert.equal(credential.abac, false);
    });

    it('a body may be text, a Buffer, an ArrayBuffer or a view into a larger buffer', () => {
        const { body } = tokenBody('access_token', { exp: 1767226500 });
        const bytes = Buffer.from(body);
        const padded = new Uint8Array(bytes.length + 6);
        padded.set(bytes, 3);
        const expected = acr.parseAccessToken(200, body, []);
        for (const form of [bytes, new Uint8Array(bytes).buffer, new DataView(padded.buffer, 3, bytes.length)]) {
            assert.deepEqual(acr.parseAccessToken(200, form, []), expected);
        }
    });

    it('a request body is bytes and its headers are ordered name/value records', () => {
        const request = acr.buildExchangeRequest('myregistry.azurecr.io', 'entra-token', { tenant: 'contoso.onmicrosoft.com' });
        assert.equal(request.method, 'POST');
        assert.deepEqual(request.headers, [
            { name: 'content-type', value: 'application/x-www-form-urlencoded' },
            { name: 'accept', value: 'application/json' },
        ]);
        assert.ok(request.body instanceof Uint8Array);
        assert.equal(
            new TextDecoder().decode(request.body),
            'grant_type=access_token&service=myregistry.azurecr.io&access_token=entra-token&tenant=contoso.onmicrosoft.com',
        );
    });

    it('a custom cloud passes through the options object', () => {
        const customCloud = acr.parseCloudEnvironment(CUSTOM_CLOUD_JSON);
        const resolved = acr.resolveScope('myregistry.azurecr.contoso.example', { customCloud });
        assert.equal(resolved.cloud, 'custom');
        assert.equal(resolved.scope, 'https://containerregistry.contoso.example/.default');
        assertRefused(() => acr.resolveScope('myregistry.azurecr.contoso.example'), acr.RegistryReferenceError, {
            kind: 'unrecognised-host',
        });
        const request = acr.buildTokenRequest('myregistry.azurecr.contoso.example', 'refresh', ['registry:catalog:*'], {
            customCloud,
        });
        assert.equal(request.url, 'https://myregistry.azurecr.contoso.example/oauth2/token');
        const challenge = acr.parseChallenge(
            'Bearer realm="https://myregistry.azurecr.contoso.example/oauth2/token",service="myregistry.azurecr.contoso.example"',
            { customCloud },
        );
        assert.equal(challenge.exchangeUrl, 'https://myregistry.azurecr.contoso.example/oauth2/exchange');
    });
});

/** The Entra scope of the public cloud's registries. */
const ACR_SCOPE = 'https://containerregistry.azure.net/.default';
/** A tenant and an app's client ID, both GUIDs. */
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

describe('Entra token requests', () => {
    it('a client secret is posted as the client-credentials form, to the authority given', async () => {
        const identity = {
            kind: 'client-secret',
            tenant: TENANT,
            clientId: CLIENT_ID,
            secret: 'not-a-real-secret',
            authorityHost: 'https://login.microsoftonline.us/',
        };
        const request = acr.buildEntraTokenRequest(identity, ACR_SCOPE);
        assert.equal(request.method, 'POST');
        assert.equal(request.url, `https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/token`);
        assert.ok(request.body instanceof Uint8Array);
        assert.deepEqual(
            [...new URLSearchParams(new TextDecoder().decode(request.body))],
            [
                ['client_id', CLIENT_ID],
                ['scope', ACR_SCOPE],
                ['grant_type', 'client_credentials'],
                ['client_secret', 'not-a-real-secret'],
            ],
        );
    });

    it('a managed identity is named by the one ID given, or by none', async () => {
        const base =
            'http://169.254.169.254/metadata/identity/oauth2/token' +
            '?api-version=2018-02-01&resource=https%3A%2F%2Fcontainerregistry.azure.net';
        const system = acr.buildEntraTokenRequest({ kind: 'managed-identity' }, ACR_SCOPE);
        assert.equal(system.url, base);
        const byObject = acr.buildEntraTokenRequest({ kind: 'managed-identity', objectId: TENANT }, ACR_SCOPE);
        assert.equal(byObject.url, `${base}&object_id=${TENANT}`);
        assert.deepEqual(byObject.headers, [
            { name: 'metadata', value: 'true' },
            { name: 'accept', value: 'application/json' },
        ]);
    });

    it('a refused argument is an EntraRequestError that does not echo the credential', async () => {
        const assertion = 'header.payload with a space.signature';
        const identity = { kind: 'federated-token', tenant: TENANT, clientId: CLIENT_ID, assertion };
        const error = assertRefused(() => acr.buildEntraTokenRequest(identity, ACR_SCOPE), acr.EntraRequestError, {
            kind: 'invalid-credential',
        });
        assert.ok(!error.message.includes('payload with a space'), error.message);
        const foreign = { ...identity, assertion: 'a.b.c', authorityHost: 'https://login.contoso.example/' };
        assertRefused(() => acr.buildEntraTokenRequest(foreign, ACR_SCOPE), acr.EntraRequestError, {
            kind: 'unknown-authority',
        });
        const customCloud = acr.parseCloudEnvironment(CUSTOM_CLOUD_JSON);
        const request = acr.buildEntraTokenRequest(foreign, ACR_SCOPE, { customCloud });
        assert.equal(request.url, `https://login.contoso.example/${TENANT}/oauth2/v2.0/token`);
    });

    it('a managed identity source is the platform endpoint given, exactly', () => {
        const resource = 'resource=https%3A%2F%2Fcontainerregistry.azure.net';
        const appService = acr.buildEntraTokenRequest(
            {
                kind: 'managed-identity',
                clientId: CLIENT_ID,
                source: { kind: 'app-service', endpoint: 'http://127.0.0.1:41000/msi/token', header: 'identity-header' },
            },
            ACR_SCOPE,
        );
        assert.equal(appService.url, `http://127.0.0.1:41000/msi/token?api-version=2019-08-01&${resource}&client_id=${CLIENT_ID}`);
        assert.deepEqual(appService.headers[0], { name: 'x-identity-header', value: 'identity-header' });
        const arc = acr.buildEntraTokenRequest(
            { kind: 'managed-identity', source: { kind: 'azure-arc', endpoint: 'http://localhost:40342/metadata/identity/oauth2/token' } },
            ACR_SCOPE,
        );
        assert.equal(arc.url, `http://localhost:40342/metadata/identity/oauth2/token?api-version=2020-06-01&${resource}`);
        const cloudShell = acr.buildEntraTokenRequest(
            { kind: 'managed-identity', source: { kind: 'cloud-shell', endpoint: 'http://localhost:50342/oauth2/token' } },
            ACR_SCOPE,
        );
        assert.equal(cloudShell.method, 'POST');
        assert.equal(new TextDecoder().decode(cloudShell.body), resource);
    });

    it('a user-assigned identity where only the system-assigned one is served is refused', () => {
        const identity = {
            kind: 'managed-identity',
            clientId: CLIENT_ID,
            source: { kind: 'cloud-shell', endpoint: 'http://localhost:50342/oauth2/token' },
        };
        assertRefused(() => acr.buildEntraTokenRequest(identity, ACR_SCOPE), acr.EntraRequestError, {
            kind: 'user-assigned-unsupported',
        });
    });

    it('an identity or source of no known kind, or with two managed identity IDs, is a TypeError', async () => {
        for (const identity of [
            undefined,
            { kind: 'password', tenant: TENANT },
            { kind: 'managed-identity', clientId: CLIENT_ID, objectId: TENANT },
            { kind: 'managed-identity', source: { kind: 'vm' } },
            { kind: 'managed-identity', source: 'imds' },
        ]) {
            assert.throws(
                () => acr.buildEntraTokenRequest(identity, ACR_SCOPE),
                (error) => error instanceof TypeError && !(error instanceof acr.AcrAuthError),
            );
        }
    });
});

describe('Entra token responses', () => {
    it('the expiry is BigInt unix seconds, from a number or BigInt `now` and any body type', async () => {
        const body = JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'entra-token' });
        for (const [now, form] of [
            [1767222000, body],
            [1767222000n, Buffer.from(body)],
            [1767222000n, new TextEncoder().encode(body).buffer],
        ]) {
            assert.deepEqual(acr.parseEntraTokenResponse(200, form, now, []), {
                accessToken: 'entra-token',
                expiresAt: 1767225599n,
            });
        }
    });

    it('a `now` that is negative, too large or a fraction is a RangeError, not a wrapped u64', async () => {
        const body = JSON.stringify({ access_token: 'entra-token', expires_in: 1 });
        for (const now of [-1, 2n ** 64n, 1.5]) {
            assert.throws(() => acr.parseEntraTokenResponse(200, body, now, []), RangeError);
        }
    });

    it("a refusal is an EntraResponseError with Entra's error, AADSTS code and IDs", async () => {
        const body = JSON.stringify({
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided.',
            error_codes: [7000215],
            trace_id: '0b7c1f4e-2f33-4f0e-9c1a-6b9d2a5e1a00',
            correlation_id: '5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
        });
        assertRefused(() => acr.parseEntraTokenResponse(401, body, 1767222000, []), acr.EntraResponseError, {
            kind: 'refused',
            reason: undefined,
            status: 401,
            error: 'invalid_client',
            description: 'AADSTS7000215: Invalid client secret provided.',
            code: 7000215,
            traceId: '0b7c1f4e-2f33-4f0e-9c1a-6b9d2a5e1a00',
            correlationId: '5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
        });
    });

    it('a malformed answer is an EntraResponseError with the reason and no refusal fields', async () => {
        const body = JSON.stringify({ access_token: 'entra-token' });
        assertRefused(() => acr.parseEntraTokenResponse(200, body, 1767222000, []), acr.EntraResponseError, {
            kind: 'malformed',
            reason: 'missing-expiry',
            status: undefined,
            code: undefined,
        });
    });
});


describe('secrets in util.inspect', () => {
    it('a request shows its URL and plain headers, never its body or a secret header', () => {
        const token = tokenBody('access_token', { exp: 1767226500 }).token;
        const request = acr.buildExchangeRequest('myregistry.azurecr.io', token);
        const shown = inspect(request);
        assert.ok(shown.includes('https://myregistry.azurecr.io/oauth2/exchange'), shown);
        assert.ok(shown.includes('application/x-www-form-urlencoded'), shown);
        assert.ok(!shown.includes(token), shown);
        // The value itself, its spread copies and its JSON are whole.
        assert.ok(new TextDecoder().decode({ ...request }.body).includes(token));
        const identity = {
            kind: 'managed-identity',
            source: { kind: 'app-service', endpoint: 'http://localhost:8081/msi/token', header: 'identity-header-value' },
        };
        const entraRequest = acr.buildEntraTokenRequest(identity, ACR_SCOPE);
        assert.ok(!inspect(entraRequest).includes('identity-header-value'), inspect(entraRequest));
        assert.ok(JSON.stringify(entraRequest).includes('identity-header-value'));
    });

    it('a credential, an access token and an Entra token show no token', () => {
        const refresh = tokenBody('refresh_token', { exp: 1767232800, aud: 'myregistry.azurecr.io' });
        const access = tokenBody('access_token', { exp: 1767226500 });
        const credential = acr.parseRefreshToken(200, refresh.body, []);
        const accessToken = acr.parseAccessToken(200, access.body, []);
        const entraToken = acr.parseEntraTokenResponse(200, JSON.stringify({ access_token: access.token, expires_in: 1 }), 1, []);
        for (const [value, secret] of [
            [credential, refresh.token],
            [accessToken, access.token],
            [entraToken, access.token],
            [{ nested: { deeper: credential } }, refresh.token],
        ]) {
            const shown = inspect(value, { depth: Infinity });
            assert.ok(!shown.includes(secret) && shown.includes('[redacted]'), shown);
        }
        assert.ok(inspect(credential).includes('1767232800n'), 'the expiry is shown');
        assert.equal({ ...credential }.password, refresh.token);
    });
});

/** The Entra credentials of the flow tests: only their form matters. */
const ENTRA = { entraToken: tokenBody('access_token', { exp: 1767226500 }).token };

describe('LoginFlow', () => {
    it('refused arguments fail the first step with invalid-input, before any request', () => {
        const flow = new acr.LoginFlow('http://myregistry.azurecr.io', ENTRA);
        const step = flow.step(0, { kind: 'start' });
        assert.equal(step.kind, 'failed');
        assertRefusal(step.error, acr.LoginError, { kind: 'invalid-input', stage: 'input', status: undefined });
        flow[Symbol.dispose]();
    });

    it('an event the flow did not ask for fails it with misuse', () => {
        for (const [started, event] of [
            [false, { kind: 'woke' }],
            [false, { kind: 'response', status: 200 }],
            [true, { kind: 'start' }],
            [true, { kind: 'file-read', contents: 'key' }],
        ]) {
            const flow = new acr.LoginFlow('myregistry.azurecr.io', ENTRA);
            if (started) {
                assert.equal(flow.step(0, { kind: 'start' }).kind, 'send');
            }
            const step = flow.step(0, event);
            assert.equal(step.kind, 'failed', event.kind);
            assert.equal(step.error.kind, 'misuse', step.error.message);
            flow[Symbol.dispose]();
        }
    });

    it('response headers may be a Headers object, [name, value] pairs or {name, value} records', () => {
        const id = 'c0ffee00-1111-2222-3333-444455556666';
        for (const headers of [
            new Headers({ 'x-ms-correlation-request-id': id }),
            [['x-ms-correlation-request-id', id]],
            [{ name: 'x-ms-correlation-request-id', value: id }],
        ]) {
            const flow = new acr.LoginFlow('myregistry.azurecr.io', ENTRA);
            flow.step(0n, { kind: 'start' });
            const step = flow.step(0n, { kind: 'response', status: 401, headers, body: Buffer.from('{}') });
            assertRefusal(step.error, acr.LoginError, { kind: 'refused', stage: 'exchange', status: 401, correlationId: id });
            flow[Symbol.dispose]();
        }
    });

    it('a retry policy, given whole, is the one the flow follows', () => {
        const retry = { maxRetries: 1, metadataMaxRetries: 0, firstDelayMs: 5, maxDelayMs: 10n, goneWindowMs: 0 };
        const flow = new acr.LoginFlow('myregistry.azurecr.io', ENTRA, { retry });
        assert.equal(flow.step(1000, { kind: 'start' }).kind, 'send');
        assert.deepEqual(flow.step(1000, { kind: 'response', status: 503 }), { kind: 'wait', untilMs: 1005n });
        assert.equal(flow.step(1005, { kind: 'woke' }).kind, 'send');
        const step = flow.step(1005, { kind: 'response', status: 503 });
        assertRefusal(step.error, acr.LoginError, { kind: 'refused', status: 503 });
        flow[Symbol.dispose]();
        assert.throws(() => new acr.LoginFlow('myregistry.azurecr.io', ENTRA, { retry: { maxRetries: 1 } }), TypeError);
        assert.throws(() => new acr.LoginFlow('myregistry.azurecr.io', ENTRA, { retry: { ...retry, maxRetries: -1 } }), RangeError);
    });

    it('arguments of the wrong shape are TypeErrors or RangeErrors, not refusals', () => {
        for (const credentials of [undefined, {}, { token: 'x' }, { ...ENTRA, identity: { kind: 'managed-identity' } }]) {
            assert.throws(() => new acr.LoginFlow('myregistry.azurecr.io', credentials), TypeError);
        }
        const flow = new acr.LoginFlow('myregistry.azurecr.io', ENTRA);
        assert.throws(() => flow.step(0, { kind: 'begin' }), TypeError);
        assert.throws(() => flow.step(-1, { kind: 'start' }), RangeError);
        flow[Symbol.dispose]();
    });

    it('a disposed flow cannot step', () => {
        const flow = new acr.LoginFlow('myregistry.azurecr.io', ENTRA);
        flow[Symbol.dispose]();
        assert.throws(() => flow.step(0, { kind: 'start' }), (error) => !(error instanceof acr.AcrAuthError));
    });
});

describe('login arguments and I/O', () => {
    /** A fetch that fails the test: these logins must not send anything. */
    const noFetch = async (url) => assert.fail(`unexpected request to ${url}`);

    it('rejects refused arguments with a LoginError before any request, without echoing a token', async () => {
        const token = 'entra token with spaces';
        await assert.rejects(acr.login('myregistry.azurecr.io', { entraToken: token }, { io: { fetch: noFetch } }), (error) => {
            assertRefusal(error, acr.LoginError, { kind: 'invalid-input', stage: 'input' });
            assert.ok(!error.message.includes(token));
            return true;
        });
    });

    it('an aborted signal ends the login, also while it waits to retry', async () => {
        const aborted = AbortSignal.abort(new Error('shutting down'));
        await assert.rejects(acr.login('myregistry.azurecr.io', ENTRA, { signal: aborted, io: { fetch: noFetch } }), /shutting down/);
        const controller = new AbortController();
        let requests = 0;
        const fetch = async () => {
            requests += 1;
            setTimeout(() => controller.abort(new Error('cancelled during the wait')), 20);
            return new Response(null, { status: 503, headers: { 'retry-after': '30' } });
        };
        const started = Date.now();
        await assert.rejects(acr.login('myregistry.azurecr.io', ENTRA, { signal: controller.signal, io: { fetch } }), /cancelled/);
        assert.equal(requests, 1);
        assert.ok(Date.now() - started < 30_000, 'the 30 s wait was not cut short');
    });

    it("reads Azure Arc's key file with fs.promises: a missing file fails the login with key-file", async () => {
        const key = `/var/opt/azcmagent/tokens/missing-${process.pid}-${Date.now()}.key`;
        const fetch = async () => new Response(null, { status: 401, headers: { 'www-authenticate': `Basic realm=${key}` } });
        const identity = {
            kind: 'managed-identity',
            source: { kind: 'azure-arc', endpoint: 'http://localhost:40342/metadata/identity/oauth2/token' },
        };
        await assert.rejects(acr.login('myregistry.azurecr.io', { identity }, { io: { fetch } }), (error) => {
            assertRefusal(error, acr.LoginError, { kind: 'key-file', stage: 'entra' });
            assert.match(error.message, /ENOENT/);
            return true;
        });
    });

    it('the default file reader reads at most maxLen bytes and refuses a longer file', async () => {
        const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
        const { join } = await import('node:path');
        const { tmpdir } = await import('node:os');
        const dir = await mkdtemp(join(tmpdir(), 'acr-auth-'));
        try {
            const file = join(dir, 'agent.key');
            await writeFile(file, 'k'.repeat(4096));
            assert.equal(await acr.defaultIo.readFile(file, 4096), 'k'.repeat(4096));
            await assert.rejects(acr.defaultIo.readFile(file, 4095), /larger than 4095 bytes/);
            await writeFile(file, '');
            assert.equal(await acr.defaultIo.readFile(file, 4096), '');
        } finally {
            await rm(dir, { recursive: true });
        }
    });
});
