// What the wrapper adds to the transpiled bindings: error classes, body
// conversions, BigInt expiries, options objects and the lazily loaded
// `client` component. No network: `login` is only refused before any request.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as acr from '../acr-auth.js';

/** A response body holding a token whose claims are `claims`. */
function tokenBody(field, claims) {
    const segment = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${segment({ alg: 'RS256', typ: 'JWT' })}.${segment(claims)}.${segment('signature')}`;
    return { token, body: JSON.stringify({ [field]: token }) };
}

/** Asserts that `call` throws an `ErrorClass` with the given fields, and returns it. */
function assertRefused(call, ErrorClass, fields) {
    let refusal;
    assert.throws(call, (error) => {
        refusal = error;
        return true;
    });
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
