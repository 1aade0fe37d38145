// Resolves a registry reference, steps a login flow by hand with a made-up
// registry answer (what `login` does over fetch), and measures what the
// component costs per call: one `resolveScope`, and the flow's whole work
// for one login (the steps of an exchange and a token request).
//
//   npm run build && node example.js

import { performance } from 'node:perf_hooks';

import { LoginFlow, resolveScope } from 'acr-auth';

const MEASURED = 20_000;

const resolved = resolveScope('MyRegistry.azurecr.io/team/app:1.2');
console.log('resolveScope("MyRegistry.azurecr.io/team/app:1.2"):', resolved);

// Tokens as ACR issues them: JWTs whose claims say when they expire. The
// registry signs them for itself and a client only reads the claims, so a
// made-up signature does here.
const base64url = (text) => Buffer.from(text).toString('base64url');
const now = Date.now();
const jwt = (claims) =>
    [base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' })), base64url(JSON.stringify(claims)), base64url('sig')].join('.');
const seconds = Math.floor(now / 1000);
const aud = resolved.loginServer;
const answers = {
    '/oauth2/exchange': JSON.stringify({ refresh_token: jwt({ exp: seconds + 3 * 60 * 60, iat: seconds, aud }) }),
    '/oauth2/token': JSON.stringify({ access_token: jwt({ exp: seconds + 75 * 60, iat: seconds, aud }) }),
};
const entraToken = jwt({ aud: 'https://containerregistry.azure.net', exp: seconds + 3600 });

/** One login through the flow, each request answered from `answers`; `show` prints each step. */
function loginByHand(show) {
    const flow = new LoginFlow(resolved.loginServer, { entraToken }, { repositoryScopes: ['repository:team/app:pull'] });
    try {
        let event = { kind: 'start' };
        for (;;) {
            const step = flow.step(now, event);
            show?.(step);
            if (step.kind !== 'send') {
                return step;
            }
            const body = answers[new URL(step.request.url).pathname];
            event = { kind: 'response', status: 200, headers: [['content-type', 'application/json']], body };
        }
    } finally {
        flow[Symbol.dispose]();
    }
}

// util.inspect (console.log) shows no token: request bodies, passwords and
// access tokens are redacted in what it prints, never in the values.
const end = loginByHand((step) => console.log('step:', step));
console.log('  refresh token expires:', new Date(Number(end.result.credential.expiresAt) * 1000).toISOString());

// Each call crosses into the component and back: the arguments are copied
// into its memory and the result lifted out. The warm-up lets V8 optimise
// the glue first; the median is robust to garbage collections.
function measure(name, calls, run) {
    for (let i = 0; i < calls / 10; i++) {
        run();
    }
    const samples = new Float64Array(calls);
    for (let i = 0; i < calls; i++) {
        const start = performance.now();
        run();
        samples[i] = performance.now() - start;
    }
    samples.sort();
    const microseconds = (milliseconds) => (milliseconds * 1000).toFixed(1);
    const mean = samples.reduce((sum, sample) => sum + sample, 0) / calls;
    console.log(`${name} over ${calls} runs: median ${microseconds(samples[calls >> 1])} µs, mean ${microseconds(mean)} µs`);
}

measure('resolveScope', MEASURED, () => resolveScope('myregistry.azurecr.io/team/app:1.2'));
measure('one login through LoginFlow (exchange and token request, 4 steps)', MEASURED / 10, () => loginByHand());
