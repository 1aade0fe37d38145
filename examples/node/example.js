// Resolves a registry reference, reads an exchange response, and measures
// how long one `resolveScope` call through the component takes.
//
//   npm run build && node example.js

import { performance } from 'node:perf_hooks';

import { parseRefreshToken, resolveScope } from './acr-auth.js';

const WARM_UP_CALLS = 2_000;
const MEASURED_CALLS = 20_000;

const resolved = resolveScope('MyRegistry.azurecr.io/team/app:1.2');
console.log('resolveScope("MyRegistry.azurecr.io/team/app:1.2"):', resolved);

// An `/oauth2/exchange` response as ACR sends it. A JWT is three base64url
// segments; the registry signs it for itself and a client only reads the
// claims, so a made-up signature does here.
const base64url = (text) => Buffer.from(text).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const refreshToken = [
    base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' })),
    base64url(JSON.stringify({ exp: now + 3 * 60 * 60, iat: now, aud: resolved.loginServer })),
    base64url('not a real signature'),
].join('.');
const credential = parseRefreshToken(200, JSON.stringify({ refresh_token: refreshToken }));

// The password is the refresh token, a secret: never print it. `expiresAt`
// is a BigInt (a WIT u64), hence `Number()` before date arithmetic.
console.log('parseRefreshToken:', { ...credential, password: '[redacted]' });
console.log('  expires:', new Date(Number(credential.expiresAt) * 1000).toISOString());

// Each call crosses into the component and back: the arguments are copied
// into its memory and the result record lifted out. The warm-up lets V8
// optimise the glue first; the median is robust to garbage collections.
for (let i = 0; i < WARM_UP_CALLS; i++) {
    resolveScope('myregistry.azurecr.io/team/app:1.2');
}
const samples = new Float64Array(MEASURED_CALLS);
for (let i = 0; i < MEASURED_CALLS; i++) {
    const start = performance.now();
    resolveScope('myregistry.azurecr.io/team/app:1.2');
    samples[i] = performance.now() - start;
}
samples.sort();
const microseconds = (milliseconds) => (milliseconds * 1000).toFixed(2);
const mean = samples.reduce((sum, sample) => sum + sample, 0) / MEASURED_CALLS;
console.log(
    `resolveScope latency over ${MEASURED_CALLS} calls: median ${microseconds(samples[MEASURED_CALLS >> 1])} µs,`,
    `mean ${microseconds(mean)} µs per call`,
);
