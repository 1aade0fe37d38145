// What the wrapper adds to the transpiled bindings: error classes, body
// conversions, BigInt expiries, options objects, Entra identities as one
// object with a `kind`, and the lazily loaded `client` component. No
// network: `login` is only refused before any request.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as acr from '../acr-auth.js';

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

describe('errors', () => {
    it('a refused reference is a ScopeError', () => {
        assertRefused(() => acr.resolveScope('http://myregistry.azurecr.io'), acr.ScopeError, {
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
        assertRefused(() => acr.parseRefreshToken(401, body), acr.ResponseError, {
            kind: 'refused',
            reason: undefined,
            status: 401,
            errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
        });
    });

    it('a malformed response is a ResponseError with the reason', () => {
        const { body } = tokenBody('access_token', { iat: 1767222000 });
        assertRefused(() => acr.parseAccessToken(200, body), acr.ResponseError, {
            kind: 'malformed',
            reason: 'missing-expiry',
            status: undefined,
            errors: [],
        });
    });

    it('a realm on a foreign host is a ChallengeError caused by a ScopeError', () => {
        const header = 'Bearer realm="https://myregistry.azurecr.io.evil.example/oauth2/token",service="x"';
        const error = assertRefused(() => acr.parseChallenge(header), acr.ChallengeError, { kind: 'realm-host' });
        assert.ok(error.realmError instanceof acr.ScopeError);
        assert.equal(error.realmError.kind, 'unrecognised-host');
        assert.equal(error.cause, error.realmError);
    });

    it('an argument of the wrong type is a TypeError, not a refusal', () => {
        assert.throws(() => acr.resolveScope(42), (error) => error instanceof TypeError && !(error instanceof acr.AcrAuthError));
        assert.throws(() => acr.parseRefreshToken(200, 42), TypeError);
    });
});

describe('values', () => {
    it('expiresAt and issuedAt are BigInt unix seconds, rounded down', () => {
        const { token, body } = tokenBody('refresh_token', { exp: 1767232800.9, iat: 1767222000, aud: 'myregistry.azurecr.io' });
        const credential = acr.parseRefreshToken(200, body);
        assert.equal(credential.expiresAt, 1767232800n);
        assert.equal(credential.issuedAt, 1767222000n);
        assert.equal(credential.password, token);
        assert.equal(credential.tenant, undefined);
    });

    it('a body may be text, a Buffer, an ArrayBuffer or a view into a larger buffer', () => {
        const { body } = tokenBody('access_token', { exp: 1767226500 });
        const bytes = Buffer.from(body);
        const padded = new Uint8Array(bytes.length + 6);
        padded.set(bytes, 3);
        const expected = acr.parseAccessToken(200, body);
        for (const form of [bytes, new Uint8Array(bytes).buffer, new DataView(padded.buffer, 3, bytes.length)]) {
            assert.deepEqual(acr.parseAccessToken(200, form), expected);
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
        assertRefused(() => acr.resolveScope('myregistry.azurecr.contoso.example'), acr.ScopeError, {
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

    it('an identity of no known kind, or with two managed identity IDs, is a TypeError', async () => {
        for (const identity of [
            undefined,
            { kind: 'password', tenant: TENANT },
            { kind: 'managed-identity', clientId: CLIENT_ID, objectId: TENANT },
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
            assert.deepEqual(acr.parseEntraTokenResponse(200, form, now), {
                accessToken: 'entra-token',
                expiresAt: 1767225599n,
            });
        }
    });

    it('a `now` that is negative, too large or a fraction is a RangeError, not a wrapped u64', async () => {
        const body = JSON.stringify({ access_token: 'entra-token', expires_in: 1 });
        for (const now of [-1, 2n ** 64n, 1.5]) {
            assert.throws(() => acr.parseEntraTokenResponse(200, body, now), RangeError);
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
        assertRefused(() => acr.parseEntraTokenResponse(401, body, 1767222000), acr.EntraResponseError, {
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
        assertRefused(() => acr.parseEntraTokenResponse(200, body, 1767222000), acr.EntraResponseError, {
            kind: 'malformed',
            reason: 'missing-expiry',
            status: undefined,
            code: undefined,
        });
    });
});

describe('login without a registry', () => {
    it('rejects a refused reference with a LoginError before any request', async () => {
        await assert.rejects(acr.login('http://myregistry.azurecr.io', 'entra-token', { discover: true }), (error) => {
            assert.ok(error instanceof acr.LoginError);
            assert.equal(error.kind, 'invalid-input');
            assert.equal(error.stage, 'input');
            assert.equal(error.status, undefined);
            assert.deepEqual(error.errors, []);
            assert.equal(error.correlationId, undefined);
            return true;
        });
    });

    it('rejects a refused token without echoing it', async () => {
        const token = 'entra token with spaces';
        await assert.rejects(acr.login('myregistry.azurecr.io', token), (error) => {
            assert.ok(error instanceof acr.LoginError);
            assert.equal(error.kind, 'invalid-input');
            assert.ok(!error.message.includes(token));
            return true;
        });
    });
});
