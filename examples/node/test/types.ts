// Compiled by `npm run typecheck`, never run: uses of the API that
// `acr-auth.d.ts` must accept, and (`@ts-expect-error`) misuses it must
// refuse, so that the declarations stay as exact as the wrapper.

import {
    EnvironmentError,
    LoginError,
    LoginFlow,
    defaultIo,
    identityFromEnvironment,
    login,
    parseEntraTokenResponse,
    parseRefreshToken,
    readIdentityFromEnvironment,
    type Credentials,
    type Identity,
    type LoginEvent,
    type LoginStep,
} from 'acr-auth';

declare const response: Response;

const identities: Identity[] = [
    { kind: 'managed-identity' },
    { kind: 'managed-identity', clientId: 'id', source: { kind: 'app-service', endpoint: 'e', header: 'h' } },
    { kind: 'managed-identity', resourceId: 'id', source: { kind: 'azure-arc', endpoint: 'e' } },
    { kind: 'federated-token', tenant: 't', clientId: 'c', assertion: 'a' },
    { kind: 'client-secret', tenant: 't', clientId: 'c', secret: 's', authorityHost: 'https://login.microsoftonline.us/' },
    // @ts-expect-error: a managed identity is named by at most one ID
    { kind: 'managed-identity', clientId: 'id', objectId: 'id' },
    // @ts-expect-error: a client secret needs its secret
    { kind: 'client-secret', tenant: 't', clientId: 'c' },
];

const credentials: Credentials[] = [{ entraToken: 'token' }, { identity: identities[0] }];

async function drive(): Promise<bigint> {
    const result = await login('myregistry.azurecr.io', credentials[0], {
        repositoryScopes: ['repository:team/app:pull'],
        discover: true,
        retry: { maxRetries: 1, metadataMaxRetries: 1, firstDelayMs: 10, maxDelayMs: 100n, goneWindowMs: 1000 },
        signal: AbortSignal.timeout(60_000),
        io: { now: () => 0, fetch: (url, init) => defaultIo.fetch(url, init) },
    });
    const abac: boolean = result.credential.abac;
    const audience: string[] = result.credential.audience;
    return abac && audience.length > 0 ? result.credential.expiresAt : (result.accessToken?.expiresAt ?? 0n);
}

function step(flow: LoginFlow, event: LoginEvent): string {
    const next: LoginStep = flow.step(Date.now(), event);
    switch (next.kind) {
        case 'send':
            return `${next.request.method} ${next.request.url} within ${next.connectTimeoutMs + next.firstByteTimeoutMs} ms, ${next.maxResponseLen} bytes`;
        case 'wait':
            return `until ${next.untilMs + 0n}`;
        case 'read-file':
            return `${next.path} (${next.maxLen})`;
        case 'done':
            return next.result.loginServer;
        case 'failed': {
            const error: LoginError = next.error;
            return `${error.kind} at ${error.stage}`;
        }
    }
}

{
    using flow = new LoginFlow('myregistry.azurecr.io', { entraToken: 'token' });
    step(flow, { kind: 'start' });
    step(flow, { kind: 'response', status: 200, headers: response.headers, body: new Uint8Array() });
    step(flow, { kind: 'transport-failed', error: { kind: 'timeout', message: 'no response' } });
    // @ts-expect-error: a transport error has one of the WIT kinds
    step(flow, { kind: 'transport-failed', error: { kind: 'reset', message: 'no response' } });
}

declare const environment: { [name: string]: string | undefined };

async function identityForLogin(): Promise<Identity | string> {
    const found = identityFromEnvironment(environment);
    switch (found.kind) {
        case 'ready':
            return found.identity;
        case 'client-certificate':
            return `${found.path} for ${found.clientId}${found.sendChain ? ' with its chain' : ''}`;
        case 'workload-identity':
            return readIdentityFromEnvironment(new Map([['AZURE_FEDERATED_TOKEN_FILE', found.path]]), {
                signal: AbortSignal.timeout(1000),
            });
    }
}

function incompleteMessage(error: unknown): string | undefined {
    return error instanceof EnvironmentError && error.kind === 'incomplete' ? error.message : undefined;
}

identityFromEnvironment([['AZURE_CLIENT_ID', 'id']]);
// @ts-expect-error: a variable's value is a string
identityFromEnvironment({ AZURE_CLIENT_ID: 42 });

parseRefreshToken(200, '{}', ['entra-token']);
parseEntraTokenResponse(200, new ArrayBuffer(0), 1767222000n, []);
// @ts-expect-error: the secrets the request carried are required
parseRefreshToken(200, '{}');

export { drive, identityForLogin, incompleteMessage };
