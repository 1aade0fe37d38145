// `clientAssertionClaims`: the claims a service principal's certificate signs, written by the
// component so that every host asks Entra alike. The expected JSON is written out by hand from
// RFC 7523 section 3 and Microsoft's certificate credential claims. No network.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as acr from 'acr-auth';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const ID = '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';

describe('clientAssertionClaims', () => {
    it('names the token endpoint, the app as issuer and subject, and lasts ten minutes', () => {
        const claims = acr.clientAssertionClaims(TENANT, CLIENT_ID, 1767222000, ID);
        assert.equal(
            claims,
            `{"aud":"https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token","iss":"${CLIENT_ID}",` +
                `"sub":"${CLIENT_ID}","jti":"${ID}","iat":1767222000,"nbf":1767222000,"exp":1767222600}`,
        );
        const us = JSON.parse(
            acr.clientAssertionClaims('contoso.onmicrosoft.us', CLIENT_ID, 0n, ID, {
                authorityHost: 'https://login.microsoftonline.us/',
            }),
        );
        assert.equal(us.aud, 'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token');
        assert.equal(us.exp, 600);
    });

    it('refuses what a token request would refuse, with the kind', () => {
        for (const [args, options, kind] of [
            [[TENANT, CLIENT_ID, 0, ID], { authorityHost: 'https://login.example.com/' }, 'unknown-authority'],
            [['../other', CLIENT_ID, 0, ID], {}, 'invalid-tenant'],
            [[TENANT, 'not-a-guid', 0, ID], {}, 'invalid-client-id'],
            [[TENANT, CLIENT_ID, 0, 'x","exp":9'], {}, 'invalid-assertion-id'],
        ]) {
            assert.throws(
                () => acr.clientAssertionClaims(...args, options),
                (error) => error instanceof acr.EntraRequestError && error.kind === kind,
                kind,
            );
        }
    });
});
