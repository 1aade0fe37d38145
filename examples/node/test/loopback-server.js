// A plain-HTTP server on 127.0.0.1 that answers each request as a plan says
// (answer, answer late, hang, stall mid-body, stream a large body, reset the
// connection) and reports every request it receives. It runs in a worker
// thread, so that it answers even while the main thread is blocked: a login
// that blocked the event loop would then finish, and the test that counts
// timer ticks during it would fail rather than hang.
//
// Tests reach it through a managed identity's platform endpoint, the one
// place the flow sends plain HTTP (to a loopback address only).

import { createServer } from 'node:http';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/**
 * Starts the server in a worker thread. Each plan item answers one request,
 * in order: `{status, headers?, body?, delayMs?}`, `{status, headers?,
 * chunks, stall: true}` (sends the chunks, then nothing more), `{status,
 * streamBytes}`, `{hang: true}` or `{reset: true}`. A request beyond the plan
 * is answered 400.
 *
 * @returns {Promise<{port: number, received(): Promise<object[]>, close(): Promise<void>}>}
 *   `received` resolves to every request so far, `{method, url, headers,
 *   body, at}` (`at` in unix milliseconds when it arrived)
 */
export function startLoopbackServer(plan) {
    const worker = new Worker(new URL(import.meta.url), { workerData: plan });
    const requests = [];
    const synced = [];
    // The worker reports a request before it answers it, but its message may
    // arrive after the answer: a round trip through the worker brings every
    // earlier report in first.
    const received = () =>
        new Promise((resolve) => {
            synced.push(() => resolve([...requests]));
            worker.postMessage('sync');
        });
    return new Promise((resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (message) => {
            if (message.port !== undefined) {
                resolve({ port: message.port, received, close: () => worker.terminate().then(() => {}) });
            } else if (message.synced) {
                synced.shift()();
            } else {
                requests.push(message.request);
            }
        });
    });
}

/** Answers one request as `item` says. */
function answer(item, response) {
    if (item.reset) {
        response.socket.destroy();
    } else if (item.hang) {
        // Never answers; the client must give up.
    } else if (item.stall) {
        response.writeHead(item.status, item.headers);
        for (const chunk of item.chunks) {
            response.write(chunk);
        }
    } else if (item.streamBytes !== undefined) {
        response.writeHead(item.status, item.headers);
        const chunk = Buffer.alloc(4096, 'a');
        let left = item.streamBytes;
        const more = () => {
            while (left > 0 && !response.destroyed) {
                left -= chunk.length;
                if (!response.write(chunk)) {
                    response.once('drain', more);
                    return;
                }
            }
            response.end();
        };
        more();
    } else {
        setTimeout(() => response.writeHead(item.status, item.headers).end(item.body ?? ''), item.delayMs ?? 0);
    }
}

if (!isMainThread) {
    const plan = [...workerData];
    const server = createServer((request, response) => {
        const chunks = [];
        request.on('data', (chunk) => chunks.push(chunk));
        request.on('end', () => {
            const { method, url, headers } = request;
            const body = Buffer.concat(chunks).toString();
            parentPort.postMessage({ request: { method, url, headers, body, at: Date.now() } });
            answer(plan.shift() ?? { status: 400, body: '{"error":"unplanned_request"}' }, response);
        });
    });
    parentPort.on('message', () => parentPort.postMessage({ synced: true }));
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
}
