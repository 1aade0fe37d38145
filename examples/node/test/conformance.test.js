// Every conformance case file through the Node wrapper, with the
// expectations the Rust host tests (`host-tests/tests/*.rs`) assert for the
// same case through the native library and through wasmtime. The files that
// describe whole logins and hand-built cloud records have their own tests.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as acr from 'acr-auth';
import {
    caseFileNames,
    check,
    customCloud,
    identity,
    input,
    listInput,
    observe,
    readCaseFile,
    responseBody,
} from './cases.js';

/** A request with its headers as `[name, value]` pairs, as the case files write them. */
function requestJson(request) {
    return { ...request, headers: request.headers.map(({ name, value }) => [name, value]) };
}

/** The fields of a form body, decoded independently of the component. */
function formFields(body) {
    return [...new URLSearchParams(body)];
}

/**
 * Runs a token-response case: the case's expectations, the refusal it
 * expects, and the token, which a success must return under `tokenKey` and
 * an error message must not contain any segment of.
 */
async function checkResponseCase(testCase, parse, tokenKey) {
    const { body, token } = responseBody(testCase);
    const observed = await observe(() => parse(testCase.status, body, []));
    check(testCase, observed);
    if (testCase.expect_refusal) {
        assert.equal(observed.status, testCase.expect_refusal.status, testCase.name);
        assert.deepEqual(observed.errors, testCase.expect_refusal.errors, testCase.name);
    }
    if (token === undefined) {
        return;
    }
    if (observed.error === undefined) {
        assert.equal(observed[tokenKey], token, testCase.name);
    } else {
        for (const segment of token.split('.').filter((s) => s.length >= 4)) {
            assert.ok(!observed.message.includes(segment), `${testCase.name}: the message leaks the token`);
        }
    }
}

/**
 * Each case file: the fewest cases it may hold (the Rust tests' minimum, so
 * that lost cases fail) and how to run one case.
 */
const SUITES = {
    scope: {
        minCases: 60,
        async run(testCase) {
            const options = { customCloud: customCloud(testCase) };
            const observed = await observe(() => acr.resolveScope(input(testCase, 'reference'), options));
            check(testCase, observed);
            if (observed.error === undefined) {
                // Resolving the login server it returned changes nothing.
                const again = await observe(() => acr.resolveScope(observed.login_server, options));
                assert.deepEqual(again, observed, testCase.name);
            }
        },
    },
    'cloud-environment': {
        minCases: 19,
        async run(testCase) {
            check(testCase, await observe(() => acr.parseCloudEnvironment(input(testCase, 'json'))));
        },
    },
    'exchange-request': {
        minCases: 22,
        async run(testCase) {
            const token = input(testCase, 'token');
            const tenant = input(testCase, 'tenant');
            const observed = await observe(() =>
                requestJson(
                    acr.buildExchangeRequest(input(testCase, 'reference'), token, {
                        tenant,
                        customCloud: customCloud(testCase),
                    }),
                ),
            );
            check(testCase, observed);
            if (observed.error === undefined) {
                // The form holds exactly the protocol's fields, with the
                // inputs as given, and the URL holds no token.
                const service = /^https:\/\/(.+)\/oauth2\/exchange$/.exec(observed.url)?.[1];
                assert.ok(service, `${testCase.name}: not an https exchange URL: ${observed.url}`);
                const expected = [
                    ['grant_type', 'access_token'],
                    ['service', service],
                    ['access_token', token],
                    ...(tenant === undefined ? [] : [['tenant', tenant]]),
                ];
                assert.deepEqual(formFields(observed.body), expected, testCase.name);
                assert.ok(!observed.url.includes(token), `${testCase.name}: the token is in the URL`);
            }
        },
    },
    'token-request': {
        minCases: 19,
        async run(testCase) {
            const token = input(testCase, 'token');
            const scopes = listInput(testCase, 'scopes');
            const observed = await observe(() =>
                requestJson(
                    acr.buildTokenRequest(input(testCase, 'reference'), token, scopes, {
                        customCloud: customCloud(testCase),
                    }),
                ),
            );
            check(testCase, observed);
            if (observed.error === undefined) {
                // One `scope` field per scope, in order, between the service
                // and the refresh token; the URL is the service's token endpoint.
                const fields = formFields(observed.body);
                const service = fields[1][1];
                const expected = [
                    ['grant_type', 'refresh_token'],
                    ['service', service],
                    ...scopes.map((scope) => ['scope', scope]),
                    ['refresh_token', token],
                ];
                assert.deepEqual(fields, expected, testCase.name);
                assert.equal(observed.url, `https://${service}/oauth2/token`, testCase.name);
            }
        },
    },
    'refresh-token': {
        minCases: 38,
        run: (testCase) => checkResponseCase(testCase, acr.parseRefreshToken, 'password'),
    },
    'access-token': {
        minCases: 7,
        run: (testCase) => checkResponseCase(testCase, acr.parseAccessToken, 'token'),
    },
    challenge: {
        minCases: 30,
        async run(testCase) {
            const options = { customCloud: customCloud(testCase) };
            check(testCase, await observe(() => acr.parseChallenge(input(testCase, 'header'), options)));
        },
    },
    'entra-token-request': {
        minCases: 25,
        async run(testCase) {
            const options = { customCloud: customCloud(testCase) };
            const observed = await observe(async () =>
                requestJson(acr.buildEntraTokenRequest(identity(testCase.identity), input(testCase, 'scope'), options)),
            );
            check(testCase, observed);
            if (testCase.form !== undefined) {
                // The form holds exactly the case's fields, in order.
                assert.deepEqual(formFields(observed.body), testCase.form, testCase.name);
            }
        },
    },
    'entra-token-response': {
        minCases: 17,
        async run(testCase) {
            const body = input(testCase, 'body');
            const observed = await observe(() => acr.parseEntraTokenResponse(testCase.status, body, testCase.now, []));
            check(testCase, observed);
            // In `expect_refusal`, `error` is the OAuth error.
            for (const [key, want] of Object.entries(testCase.expect_refusal ?? {})) {
                const observedKey = key === 'error' ? 'error_code' : key;
                assert.deepEqual(observed[observedKey], want, `${testCase.name}: refusal field ${key}`);
            }
        },
    },
};

/** The case files other tests run: each name with its test file. */
const OTHER_SUITES = {
    'custom-cloud-record': 'custom-cloud-record.test.js',
    'login-flow': 'login-flow.test.js',
};

it('has a suite for every case file', () => {
    assert.deepEqual(caseFileNames(), Object.keys({ ...SUITES, ...OTHER_SUITES }).sort());
});

for (const [file, { minCases, run }] of Object.entries(SUITES)) {
    describe(file, () => {
        const all = readCaseFile(file);
        it(`holds at least ${minCases} cases (has ${all.length})`, () => {
            assert.ok(all.length >= minCases, `${file}.json lost cases`);
        });
        for (const testCase of all) {
            it(testCase.name, () => run(testCase));
        }
    });
}
