// Every scripted login of `login-flow.json`, as `tests/login_flow.rs` runs
// it natively: step by step through `LoginFlow` on a virtual clock (each
// request, wait and file read exactly as scripted, then the end), and through
// `login`, the driver over fetch, with a fake fetch, clock, sleep and file
// reader that play the script, so that the driver's own code (sending,
// reading bodies to the cap, mapping undici's failures to transport errors)
// runs every case without a network.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { LoginFlow, login } from 'acr-auth';
import {
    MAX_RESPONSE_LEN,
    checkEnd,
    checkRequest,
    credentials,
    flowCases,
    options,
    scriptedResponse,
} from './login-flow-cases.js';

const { cases, secrets } = flowCases();

/** A request as the flow gives it, its headers as `[name, value]` pairs. */
function pairs(request) {
    return { ...request, headers: request.headers.map(({ name, value }) => [name, value]) };
}

/** The event for what a script item answers to a request. */
function outcome(item) {
    if (item.fail !== undefined) {
        return { kind: 'transport-failed', error: { kind: item.fail.kind, message: item.fail.message ?? '' } };
    }
    return { kind: 'response', ...scriptedResponse(item) };
}

/** The step that ends a login, as `{result}` or `{error}`. */
function ending(name, step) {
    assert.ok(step.kind === 'done' || step.kind === 'failed', `${name}: expected the end, got ${step.kind}`);
    return step.kind === 'done' ? { result: step.result } : { error: step.error };
}

it('the file holds every scripted login (at least the 38 the Rust runner requires)', () => {
    assert.ok(cases.length >= 38, `${cases.length} cases`);
});

describe('login-flow.json step by step', () => {
    for (const testCase of cases) {
        it(testCase.name, () => {
            const { name } = testCase;
            const flow = new LoginFlow(testCase.reference, credentials(testCase), options(testCase));
            try {
                let now = BigInt(testCase.start);
                let event = { kind: 'start' };
                for (const item of testCase.script) {
                    const step = flow.step(now, event);
                    if (item.wait !== undefined) {
                        const until = now + BigInt(item.wait);
                        assert.deepEqual(step, { kind: 'wait', untilMs: until }, name);
                        // Waking early is told to wait again.
                        assert.deepEqual(flow.step(until - 1n, { kind: 'woke' }), { kind: 'wait', untilMs: until }, name);
                        now = until;
                        event = { kind: 'woke' };
                    } else if (item.read_file !== undefined) {
                        assert.deepEqual(step, { kind: 'read-file', path: item.read_file.path, maxLen: item.read_file.max_len }, name);
                        event =
                            item.contents === undefined
                                ? { kind: 'file-failed', reason: item.read_failed }
                                : { kind: 'file-read', contents: item.contents };
                    } else {
                        assert.equal(step.kind, 'send', `${name}: expected a request, got ${step.kind}`);
                        checkRequest(name, pairs(step.request), item.send);
                        assert.equal(step.maxResponseLen, MAX_RESPONSE_LEN, `${name}: body cap`);
                        event = outcome(item);
                    }
                }
                const end = ending(name, flow.step(now, event));
                checkEnd(testCase, secrets, end);
                // The end is the end: every further step returns it again.
                const again = ending(name, flow.step(now + 1n, { kind: 'woke' }));
                assert.deepEqual(again, end, name);
            } finally {
                flow[Symbol.dispose]();
            }
        });
    }
});

/** undici's error codes for each scripted transport failure, as `fetch` rejects with them. */
const UNDICI_CODES = {
    connect: 'ECONNREFUSED',
    tls: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    timeout: 'UND_ERR_HEADERS_TIMEOUT',
    protocol: 'UND_ERR_SOCKET',
};

/**
 * A body stream that never ends, of 4 KiB chunks, and how many were pulled
 * and whether it was cancelled: a driver must stop reading past the cap.
 */
function endlessBody() {
    const state = { pulled: 0, cancelled: false };
    const stream = new ReadableStream({
        pull(controller) {
            state.pulled += 1;
            controller.enqueue(new Uint8Array(4096).fill(0x61));
        },
        cancel() {
            state.cancelled = true;
        },
    });
    return { stream, state };
}

/**
 * The fake I/O that plays a case's script to `login`: `fetch` checks each
 * request and answers as scripted (a transport failure as undici reports
 * it; a body over the cap as an endless stream), the clock is virtual,
 * `sleep` checks each wait, and `readFile` each file read.
 */
function scriptedIo(testCase) {
    const { name } = testCase;
    const script = testCase.script[Symbol.iterator]();
    const next = (what) => {
        const { value, done } = script.next();
        assert.ok(!done, `${name}: an unscripted ${what}`);
        return value;
    };
    const io = {
        clock: testCase.start,
        bodies: [],
        now: () => io.clock,
        async fetch(url, init) {
            const item = next('request');
            assert.ok(item.send, `${name}: a request where the script has ${Object.keys(item)}`);
            assert.equal(init.redirect, 'manual', `${name}: redirects must not be followed`);
            assert.ok(init.signal instanceof AbortSignal, `${name}: no abort signal`);
            checkRequest(name, { url, ...init }, item.send);
            const fail = item.fail;
            if (fail?.kind === 'too-large') {
                const { stream, state } = endlessBody();
                io.bodies.push(state);
                return new Response(stream, { status: 200 });
            }
            if (fail !== undefined) {
                const cause = Object.assign(new Error(fail.message), { code: UNDICI_CODES[fail.kind] });
                throw new TypeError('fetch failed', { cause });
            }
            const { status, headers, body } = scriptedResponse(item);
            return new Response(body, { status, headers });
        },
        async sleep(ms) {
            const item = next('wait');
            assert.equal(ms, item.wait, `${name}: wait`);
            io.clock += ms;
        },
        async readFile(path, maxLen) {
            const item = next('file read');
            assert.deepEqual({ path, maxLen }, { path: item.read_file.path, maxLen: item.read_file.max_len }, name);
            if (item.contents === undefined) {
                throw new Error(item.read_failed);
            }
            return item.contents;
        },
        finished: () => script.next().done,
    };
    return io;
}

describe('login-flow.json through login over a scripted fetch', () => {
    for (const testCase of cases) {
        it(testCase.name, async () => {
            const io = scriptedIo(testCase);
            const end = await login(testCase.reference, credentials(testCase), { ...options(testCase), io }).then(
                (result) => ({ result }),
                (error) => ({ error }),
            );
            assert.ok(io.finished(), `${testCase.name}: the script was not played to its end`);
            checkEnd(testCase, secrets, end);
            for (const body of io.bodies) {
                // 16 chunks fill the cap; the 17th passes it; nothing more is read.
                assert.ok(body.cancelled, `${testCase.name}: the body over the cap was not cancelled`);
                assert.ok(body.pulled <= MAX_RESPONSE_LEN / 4096 + 2, `${testCase.name}: ${body.pulled} chunks read`);
            }
        });
    }
});
