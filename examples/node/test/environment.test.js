// `identityFromEnvironment` and `readIdentityFromEnvironment`: the identity the Azure SDKs'
// environment variables describe, in `DefaultAzureCredential`'s order (client secret, client
// certificate, workload identity, then the platform's managed identity), a half-set credential
// refused by name, and a workload identity's token file read for login. No network.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';

import * as acr from 'acr-auth';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const ACR_SCOPE = 'https://containerregistry.azure.net/.default';
/** A client secret as Entra issues them: 40 characters. */
const SECRET = 'Xq8Q~3vBz.kPm4TnW7yRcD2sFgH9jL5aE1uO6iN0';
/** App Service's `IDENTITY_HEADER`: a GUID the platform sets. */
const IDENTITY_HEADER = 'b1d7f8a2-9c3e-4f6a-8d5b-2e7c1a9f4b36';
/** A workload identity's token file, as AKS mounts it. */
const TOKEN_FILE = '/var/run/secrets/azure/tokens/azure-identity-token';
/** A service principal with its client secret. */
const APP_WITH_SECRET = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT_ID, AZURE_CLIENT_SECRET: SECRET };
const APP_SERVICE_ENDPOINT = 'http://127.0.0.1:41741/msi/token';
const ARC_ENDPOINT = 'http://localhost:40342/metadata/identity/oauth2/token';
const CLOUD_SHELL_ENDPOINT = 'http://localhost:50342/oauth2/token';

/** A service-account token as Kubernetes projects it, signed with a 4096-bit RSA key: about 1.6 KB. */
function serviceAccountToken() {
    const segment = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = {
        aud: ['api://AzureADTokenExchange'],
        exp: 1767225599,
        iat: 1767221999,
        iss: 'https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5e6f7a8b-1c2d-4e3f-9a0b-c1d2e3f4a5b6/',
        jti: '3c1f9e2a-7b4d-4e8f-a6c5-0d9b8e7f6a5b',
        'kubernetes.io': {
            namespace: 'team-app',
            node: { name: 'aks-nodepool1-27318490-vmss000003', uid: 'e4d3c2b1-a0f9-4e8d-b7c6-5a4b3c2d1e0f' },
            pod: { name: 'app-7d9f8c6b5-x2x4z', uid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' },
            serviceaccount: { name: 'app', uid: '9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4' },
        },
        nbf: 1767221999,
        sub: 'system:serviceaccount:team-app:app',
    };
    return `${segment({ alg: 'RS256', kid: 'Zx3yT1u2v3w4x5y6z7a8b9c0d1e2f3g4h5i6j7k8l9m' })}.${segment(claims)}.${'s'.repeat(683)}`;
}

/** Asserts that `call` throws an `EnvironmentError` of `kind` naming `names`, and returns it. */
function assertEnvironmentError(call, kind, names) {
    let refusal;
    assert.throws(call, (error) => {
        refusal = error;
        return true;
    });
    assert.ok(refusal instanceof acr.EnvironmentError, `${refusal?.name} is not an EnvironmentError`);
    assert.ok(refusal instanceof acr.AcrAuthError);
    assert.equal(refusal.name, 'EnvironmentError');
    assert.equal(refusal.kind, kind);
    for (const name of names) {
        assert.ok(refusal.message.includes(name), `${name} is not in: ${refusal.message}`);
    }
    return refusal;
}

/** The decoded form body of a request. */
const form = (request) => Object.fromEntries(new URLSearchParams(new TextDecoder().decode(request.body)));

describe('identityFromEnvironment', () => {
    const everything = {
        AZURE_TENANT_ID: TENANT,
        AZURE_CLIENT_ID: CLIENT_ID,
        AZURE_CLIENT_SECRET: SECRET,
        AZURE_CLIENT_CERTIFICATE_PATH: '/etc/app/certificate.pem',
        AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE,
        AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
        IDENTITY_ENDPOINT: APP_SERVICE_ENDPOINT,
        IDENTITY_HEADER,
    };
    const without = (...names) => Object.fromEntries(Object.entries(everything).filter(([name]) => !names.includes(name)));

    it("follows DefaultAzureCredential's order: secret, certificate, token file, managed identity", () => {
        const secret = acr.identityFromEnvironment(everything);
        assert.equal(secret.kind, 'ready');
        assert.deepEqual({ ...secret.identity }, {
            kind: 'client-secret',
            tenant: TENANT,
            clientId: CLIENT_ID,
            secret: SECRET,
            authorityHost: 'https://login.microsoftonline.us/',
        });
        assert.deepEqual(acr.identityFromEnvironment(without('AZURE_CLIENT_SECRET')), {
            kind: 'client-certificate',
            tenant: TENANT,
            clientId: CLIENT_ID,
            path: '/etc/app/certificate.pem',
            sendChain: false,
            authorityHost: 'https://login.microsoftonline.us/',
        });
        assert.deepEqual(acr.identityFromEnvironment(without('AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH')), {
            kind: 'workload-identity',
            tenant: TENANT,
            clientId: CLIENT_ID,
            path: TOKEN_FILE,
            authorityHost: 'https://login.microsoftonline.us/',
        });
        const managed = acr.identityFromEnvironment(
            without('AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE'),
        );
        assert.deepEqual(JSON.parse(JSON.stringify(managed)), {
            kind: 'ready',
            identity: {
                kind: 'managed-identity',
                clientId: CLIENT_ID,
                source: { kind: 'app-service', endpoint: APP_SERVICE_ENDPOINT, header: IDENTITY_HEADER },
            },
        });
    });

    it('the platform endpoint picks the managed identity source; AZURE_CLIENT_ID makes it user-assigned', () => {
        const source = (variables) => {
            const found = acr.identityFromEnvironment(variables);
            assert.equal(found.kind, 'ready');
            assert.equal(found.identity.kind, 'managed-identity');
            return { ...found.identity, source: { ...found.identity.source } };
        };
        assert.deepEqual(source({ IDENTITY_ENDPOINT: APP_SERVICE_ENDPOINT, IDENTITY_HEADER }), {
            kind: 'managed-identity',
            source: { kind: 'app-service', endpoint: APP_SERVICE_ENDPOINT, header: IDENTITY_HEADER },
        });
        assert.deepEqual(source({ IDENTITY_ENDPOINT: ARC_ENDPOINT, IMDS_ENDPOINT: 'http://localhost:40342' }), {
            kind: 'managed-identity',
            source: { kind: 'azure-arc', endpoint: ARC_ENDPOINT },
        });
        assert.deepEqual(source({ MSI_ENDPOINT: CLOUD_SHELL_ENDPOINT }), {
            kind: 'managed-identity',
            source: { kind: 'cloud-shell', endpoint: CLOUD_SHELL_ENDPOINT },
        });
        // As in the Azure SDKs, an endpoint alone names no platform.
        assert.deepEqual(source({ IDENTITY_ENDPOINT: APP_SERVICE_ENDPOINT }), { kind: 'managed-identity', source: { kind: 'imds' } });
        assert.deepEqual(source({}), { kind: 'managed-identity', source: { kind: 'imds' } });
        assert.deepEqual(source({ AZURE_CLIENT_ID: CLIENT_ID, AZURE_TENANT_ID: TENANT }), {
            kind: 'managed-identity',
            clientId: CLIENT_ID,
            source: { kind: 'imds' },
        });
    });

    it('the identity it returns is the one buildEntraTokenRequest and LoginFlow take', () => {
        const { identity } = acr.identityFromEnvironment({
            IDENTITY_ENDPOINT: APP_SERVICE_ENDPOINT,
            IDENTITY_HEADER,
            AZURE_CLIENT_ID: CLIENT_ID,
        });
        const request = acr.buildEntraTokenRequest(identity, ACR_SCOPE);
        assert.equal(
            request.url,
            `${APP_SERVICE_ENDPOINT}?api-version=2019-08-01&resource=https%3A%2F%2Fcontainerregistry.azure.net&client_id=${CLIENT_ID}`,
        );
        assert.deepEqual(request.headers[0], { name: 'x-identity-header', value: IDENTITY_HEADER });
        const secret = acr.identityFromEnvironment(APP_WITH_SECRET);
        const posted = acr.buildEntraTokenRequest(secret.identity, ACR_SCOPE);
        assert.equal(posted.url, `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`);
        assert.equal(form(posted).client_secret, SECRET);
        const flow = new acr.LoginFlow('myregistry.azurecr.io', { identity: secret.identity });
        try {
            const step = flow.step(0, { kind: 'start' });
            assert.equal(step.kind, 'send');
            assert.equal(step.request.url, posted.url);
        } finally {
            flow[Symbol.dispose]();
        }
    });

    it('a half-set credential is refused as incomplete, naming the variables and no value', () => {
        for (const [variables, set, missing] of [
            [{ AZURE_CLIENT_SECRET: SECRET, AZURE_CLIENT_ID: CLIENT_ID }, 'AZURE_CLIENT_SECRET', 'AZURE_TENANT_ID'],
            [
                { AZURE_CLIENT_CERTIFICATE_PATH: '/etc/app/certificate.pem', AZURE_TENANT_ID: TENANT },
                'AZURE_CLIENT_CERTIFICATE_PATH',
                'AZURE_CLIENT_ID',
            ],
            [
                { AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE, AZURE_CLIENT_ID: CLIENT_ID, IDENTITY_ENDPOINT: APP_SERVICE_ENDPOINT, IDENTITY_HEADER },
                'AZURE_FEDERATED_TOKEN_FILE',
                'AZURE_TENANT_ID',
            ],
        ]) {
            const error = assertEnvironmentError(() => acr.identityFromEnvironment(variables), 'incomplete', [set, missing]);
            for (const value of Object.values(variables)) {
                assert.ok(!error.message.includes(value), `${error.message} shows a value`);
            }
        }
    });

    it('what cannot be done is refused as unsupported, naming the variable and no value', () => {
        const base = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT_ID };
        for (const [extra, variable] of [
            [
                { AZURE_CLIENT_CERTIFICATE_PATH: '/etc/app/certificate.pfx', AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pfx-password-4f1c' },
                'AZURE_CLIENT_CERTIFICATE_PASSWORD',
            ],
            [{ AZURE_USERNAME: 'ops@contoso.example', AZURE_PASSWORD: 'user-password-4f1c' }, 'AZURE_USERNAME'],
            [
                {
                    IDENTITY_ENDPOINT: 'https://localhost:2377/metadata/identity/oauth2/token',
                    IDENTITY_HEADER,
                    IDENTITY_SERVER_THUMBPRINT: 'AB12CD34',
                },
                'IDENTITY_SERVER_THUMBPRINT',
            ],
            [{ MSI_ENDPOINT: 'http://127.0.0.1:46808/MSI/token/', MSI_SECRET: 'msi-secret-4f1c' }, 'MSI_SECRET'],
        ]) {
            const error = assertEnvironmentError(() => acr.identityFromEnvironment({ ...base, ...extra }), 'unsupported', [variable]);
            for (const value of Object.values(extra)) {
                assert.ok(!error.message.includes(value), `${error.message} shows a value`);
            }
        }
    });

    it('takes process.env-like objects, Maps and pairs; an empty value is unset, the last of a name counts', () => {
        const pairs = [
            ['AZURE_CLIENT_SECRET', SECRET],
            ['AZURE_TENANT_ID', TENANT],
            ['AZURE_CLIENT_ID', CLIENT_ID],
            ['AZURE_CLIENT_SECRET', ''],
            ['MSI_ENDPOINT', CLOUD_SHELL_ENDPOINT],
        ];
        const cloudShell = { kind: 'cloud-shell', endpoint: CLOUD_SHELL_ENDPOINT };
        for (const variables of [pairs, new Map(pairs), Object.fromEntries(pairs)]) {
            const found = acr.identityFromEnvironment(variables);
            assert.deepEqual(found, { kind: 'ready', identity: { kind: 'managed-identity', clientId: CLIENT_ID, source: cloudShell } });
        }
        const found = acr.identityFromEnvironment({ AZURE_CLIENT_SECRET: undefined, MSI_ENDPOINT: CLOUD_SHELL_ENDPOINT });
        assert.deepEqual(found.identity.source, cloudShell);
        const sendChain = (value) =>
            acr.identityFromEnvironment({
                AZURE_TENANT_ID: TENANT,
                AZURE_CLIENT_ID: CLIENT_ID,
                AZURE_CLIENT_CERTIFICATE_PATH: '/etc/app/certificate.pem',
                AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: value,
            }).sendChain;
        assert.deepEqual(['1', 'true', 'True', '0', 'yes', ''].map(sendChain), [true, true, true, false, false, false]);
    });

    it('anything but names and string values is a TypeError that shows no value', () => {
        const wrong = [
            undefined,
            null,
            'AZURE_CLIENT_SECRET=x',
            [['AZURE_CLIENT_SECRET']],
            [['AZURE_CLIENT_SECRET', 42]],
            { AZURE_CLIENT_SECRET: 42 },
        ];
        for (const variables of wrong) {
            assert.throws(
                () => acr.identityFromEnvironment(variables),
                (error) => error instanceof TypeError && !(error instanceof acr.AcrAuthError) && !/42|=x/.test(error.message),
            );
        }
    });

    it('util.inspect shows no client secret or identity header; the values themselves are whole', () => {
        const secret = acr.identityFromEnvironment(APP_WITH_SECRET);
        const appService = acr.identityFromEnvironment({ IDENTITY_ENDPOINT: APP_SERVICE_ENDPOINT, IDENTITY_HEADER });
        for (const [found, hidden] of [
            [secret, SECRET],
            [appService, IDENTITY_HEADER],
        ]) {
            const shown = inspect(found, { depth: 5 });
            assert.ok(!shown.includes(hidden), shown);
            assert.match(shown, /\[redacted\]/);
            assert.ok(JSON.stringify(found).includes(hidden));
        }
    });
});

describe('readIdentityFromEnvironment', () => {
    let dir;
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), 'acr-auth-environment-'));
    });
    after(() => rm(dir, { recursive: true }));

    const workload = (path) => ({ AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE: path });

    it("reads a workload identity's token file into a federated-token identity, without its line break", async () => {
        const token = serviceAccountToken();
        assert.ok(token.length > 1500 && token.length < 4096, `${token.length} bytes`);
        const path = join(dir, 'azure-identity-token');
        await writeFile(path, `${token}\r\n`);
        const identity = await acr.readIdentityFromEnvironment({
            ...workload(path),
            AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
        });
        assert.deepEqual({ ...identity }, {
            kind: 'federated-token',
            tenant: TENANT,
            clientId: CLIENT_ID,
            assertion: token,
            authorityHost: 'https://login.microsoftonline.us/',
        });
        assert.ok(!inspect(identity).includes(token.slice(-40)), inspect(identity));
        const request = acr.buildEntraTokenRequest(identity, ACR_SCOPE);
        assert.equal(request.url, `https://login.microsoftonline.us/${TENANT}/oauth2/v2.0/token`);
        assert.equal(form(request).client_assertion, token);
        assert.equal(form(request).client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    });

    it('reads process.env when given no variables', async () => {
        const path = join(dir, 'from-process-env');
        await writeFile(path, 'header.payload.signature\n');
        const saved = process.env;
        process.env = workload(path);
        try {
            const identity = await acr.readIdentityFromEnvironment();
            assert.equal(identity.kind, 'federated-token');
            assert.equal(identity.assertion, 'header.payload.signature');
        } finally {
            process.env = saved;
        }
    });

    it('reads through io.readFile, at most 64 KiB; a longer or missing file rejects', async () => {
        const read = [];
        const readFile = async (path, maxLen) => {
            read.push([path, maxLen]);
            return 'a.b.c';
        };
        const identity = await acr.readIdentityFromEnvironment(workload(TOKEN_FILE), { io: { readFile } });
        assert.equal(identity.assertion, 'a.b.c');
        assert.deepEqual(read, [[TOKEN_FILE, 65536]]);
        const long = join(dir, 'long-token');
        await writeFile(long, 'x'.repeat(65537));
        await assert.rejects(acr.readIdentityFromEnvironment(workload(long)), /larger than 65536 bytes/);
        await assert.rejects(acr.readIdentityFromEnvironment(workload(join(dir, 'missing'))), { code: 'ENOENT' });
    });

    it('a ready identity is returned as it is; no file is read', async () => {
        const readFile = () => assert.fail('no file to read');
        const identity = await acr.readIdentityFromEnvironment({ MSI_ENDPOINT: CLOUD_SHELL_ENDPOINT }, { io: { readFile } });
        assert.deepEqual(identity, { kind: 'managed-identity', source: { kind: 'cloud-shell', endpoint: CLOUD_SHELL_ENDPOINT } });
    });

    it('a client certificate, or a refused environment, rejects with an EnvironmentError', async () => {
        const certificate = {
            AZURE_TENANT_ID: TENANT,
            AZURE_CLIENT_ID: CLIENT_ID,
            AZURE_CLIENT_CERTIFICATE_PATH: '/etc/app/certificate.pem',
        };
        await assert.rejects(acr.readIdentityFromEnvironment(certificate), (error) => {
            assertEnvironmentError(() => { throw error; }, 'unsupported', ['AZURE_CLIENT_CERTIFICATE_PATH']);
            return !error.message.includes('/etc/app');
        });
        await assert.rejects(acr.readIdentityFromEnvironment({ AZURE_FEDERATED_TOKEN_FILE: TOKEN_FILE }), (error) => {
            assertEnvironmentError(() => { throw error; }, 'incomplete', ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_TENANT_ID']);
            return true;
        });
    });
});
