// `custom-cloud-record.json`: custom cloud records a host builds by hand
// instead of reading them with `parseCloudEnvironment`. Every entry point
// that takes one checks it as a file is checked: a refused record fails with
// that entry point's `invalid-cloud` kind (a login with `invalid-input`
// before any request), naming the field, before the reference is read; an
// accepted one works as the parsed file would.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as acr from 'acr-auth';
import { cloudRecord, camelKeys, readCaseFile } from './cases.js';

const { cases } = readCaseFile('custom-cloud-record');

/** An Entra token and a refresh token: only their form matters here. */
const ENTRA_TOKEN = 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJhY3IifQ.c2ln';
const REFRESH_TOKEN = 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJyZWZyZXNoIn0.c2ln';

/**
 * Logs in over a fetch that answers 401 to everything: returns the URLs
 * requested, or throws the login's error if it sent nothing.
 */
async function requestsOfLogin(reference, customCloud) {
    const sent = [];
    const fetch = async (url) => {
        sent.push(url);
        return new Response(null, { status: 401 });
    };
    const error = await acr.login(reference, { entraToken: ENTRA_TOKEN }, { customCloud, io: { fetch } }).catch((e) => e);
    if (sent.length === 0) {
        throw error;
    }
    return sent;
}

/** Runs a `LoginFlow` to its first step; a failed one throws its `LoginError`. */
function firstStep(reference, customCloud) {
    const flow = new acr.LoginFlow(reference, { entraToken: ENTRA_TOKEN }, { customCloud });
    try {
        const step = flow.step(Date.now(), { kind: 'start' });
        if (step.kind === 'failed') {
            throw step.error;
        }
        return step;
    } finally {
        flow[Symbol.dispose]();
    }
}

/**
 * Each entry point that takes a custom cloud: how to call it with a
 * reference and a record, and the refusal it must give for a refused record.
 */
const ENTRY_POINTS = {
    resolveScope: {
        call: (reference, customCloud) => acr.resolveScope(reference, { customCloud }),
        refusal: { class: acr.RegistryReferenceError, kind: 'invalid-cloud' },
    },
    buildExchangeRequest: {
        call: (reference, customCloud) => acr.buildExchangeRequest(reference, ENTRA_TOKEN, { customCloud }),
        refusal: { class: acr.RequestError, kind: 'reference', reason: 'invalid-cloud' },
    },
    buildTokenRequest: {
        call: (reference, customCloud) =>
            acr.buildTokenRequest(reference, REFRESH_TOKEN, ['repository:team/app:pull'], { customCloud }),
        refusal: { class: acr.RequestError, kind: 'reference', reason: 'invalid-cloud' },
    },
    parseChallenge: {
        call: (reference, customCloud) =>
            acr.parseChallenge(`Bearer realm="https://${reference}/oauth2/token",service="${reference}"`, { customCloud }),
        refusal: { class: acr.ChallengeError, kind: 'invalid-cloud' },
    },
    buildEntraTokenRequest: {
        // A federated identity at the record's own authority, for its ACR audience.
        call: (_, customCloud) =>
            acr.buildEntraTokenRequest(
                {
                    kind: 'federated-token',
                    tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
                    clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
                    assertion: ENTRA_TOKEN,
                    authorityHost: customCloud.activeDirectoryEndpoint,
                },
                `${customCloud.acrAudience}/.default`,
                { customCloud },
            ),
        refusal: { class: acr.EntraRequestError, kind: 'invalid-cloud' },
    },
    LoginFlow: {
        call: firstStep,
        refusal: { class: acr.LoginError, kind: 'invalid-input', stage: 'input' },
    },
    login: {
        call: requestsOfLogin,
        refusal: { class: acr.LoginError, kind: 'invalid-input', stage: 'input' },
    },
};

/** What calling an entry point gives: `{value}` or `{error}`. */
async function outcome(call) {
    try {
        return { value: await call() };
    } catch (error) {
        return { error };
    }
}

describe('custom-cloud-record.json', () => {
    it('holds records to refuse and to accept', () => {
        assert.ok(cases.filter((c) => c.error).length >= 8 && cases.some((c) => c.expect), 'cases were lost');
    });

    for (const testCase of cases) {
        const record = cloudRecord(testCase.record);
        for (const [entry, { call, refusal }] of Object.entries(ENTRY_POINTS)) {
            if (testCase.error !== undefined) {
                it(`${testCase.name}: ${entry} refuses it, naming ${testCase.field}`, async () => {
                    // An empty reference is refused too, but the record first.
                    for (const reference of [testCase.reference, '']) {
                        const { error } = await outcome(() => call(reference, record));
                        assert.ok(error instanceof refusal.class, `${entry}(${JSON.stringify(reference)}): ${error}`);
                        for (const [key, value] of Object.entries(refusal).filter(([key]) => key !== 'class')) {
                            assert.equal(error[key], value, `${entry}: ${key} (${error.message})`);
                        }
                        assert.ok(error.message.includes(testCase.field), `${entry}: ${error.message}`);
                    }
                });
            } else {
                it(`${testCase.name}: ${entry} accepts it`, async () => {
                    const { value, error } = await outcome(() => call(testCase.reference, record));
                    assert.equal(error, undefined, `${entry}: ${error?.message}`);
                    const { login_server: loginServer } = testCase.resolved;
                    if (entry === 'resolveScope') {
                        assert.deepEqual(value, camelKeys(testCase.resolved));
                    } else if (entry === 'buildExchangeRequest') {
                        assert.equal(value.url, `https://${loginServer}/oauth2/exchange`);
                    } else if (entry === 'buildTokenRequest') {
                        assert.equal(value.url, `https://${loginServer}/oauth2/token`);
                    } else if (entry === 'parseChallenge') {
                        assert.equal(value.loginServer, loginServer);
                    } else if (entry === 'buildEntraTokenRequest') {
                        const { authority_host: authority } = testCase.resolved;
                        assert.ok(value.url.startsWith(authority), `${value.url} is not at ${authority}`);
                    } else if (entry === 'LoginFlow') {
                        assert.equal(value.kind, 'send');
                        assert.equal(value.request.url, `https://${loginServer}/oauth2/exchange`);
                    } else {
                        assert.deepEqual(value, [`https://${loginServer}/oauth2/exchange`]);
                    }
                });
            }
        }
    }
});
