// The wrapper's declared types (`acr-auth.d.ts`) follow the WIT package: a WIT type, case, field
// or function the wrapper does not follow fails here, not in a user's program.
//
// The WIT's shape is `acr_auth_wit.json`, which `cargo xtask build` writes beside the components
// from `wit/` (with wit-parser): every interface, walked whole, so that a new interface, type,
// case or field is checked without editing this file. From it this test writes TypeScript
// assertions about `acr-auth.d.ts` (an enum type equals its cases, a variant's `kind` equals its
// cases, a record's type has each field, camelCase) and compiles them with `tsc`: whatever the
// declarations lack is a compile error on the line that checks it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import * as api from '../acr-auth.js';

/** Where `cargo xtask build` writes the components and the WIT description. */
const COMPONENTS_DIR = process.env.ACR_AUTH_COMPONENTS_DIR
    ? `${process.env.ACR_AUTH_COMPONENTS_DIR}/`
    : fileURLToPath(new URL('../../../target/components/', import.meta.url));

/** This package's directory, where `tsc` runs. */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * WIT types the wrapper folds into another declared type: for each, the type it goes into and
 * each field's (or, for a variant, each case's) name there.
 */
const FOLDED = {
    'input-error': [{ into: 'RequestError', fields: { kind: 'reason', message: 'message' } }],
    refusal: [{ into: 'ResponseError', fields: { status: 'status', errors: 'errors', message: 'message' } }],
    malformed: [
        { into: 'ResponseError', fields: { kind: 'reason', message: 'message' } },
        { into: 'EntraResponseError', fields: { kind: 'reason', message: 'message' } },
    ],
    'entra-refusal': [
        {
            into: 'EntraResponseError',
            fields: {
                status: 'status',
                error: 'error',
                description: 'description',
                code: 'code',
                'trace-id': 'traceId',
                'correlation-id': 'correlationId',
                message: 'message',
            },
        },
    ],
    // A managed identity is one object whose one optional key names the ID.
    'managed-identity-id': [
        { into: 'ManagedIdentity', cases: { 'client-id': 'clientId', 'object-id': 'objectId', 'resource-id': 'resourceId' } },
    ],
};

/** WIT functions the wrapper does not offer, and why. */
const NOT_WRAPPED = {
    'login-with-identity':
        'not offered yet: callers get the Entra token with buildEntraTokenRequest and parseEntraTokenResponse, then call login',
};

/** `cloud-environment-error` is `CloudEnvironmentError`. */
const pascal = (name) => name.split('-').map((part) => part[0].toUpperCase() + part.slice(1)).join('');

/** `login-server` is `loginServer`, as jco names fields and functions. */
const camel = (name) => {
    const word = pascal(name);
    return word[0].toLowerCase() + word.slice(1);
};

/** A TypeScript union of string literals. */
const union = (names) => names.map((name) => `'${name}'`).join(' | ');

/** The WIT description `cargo xtask build` wrote. */
function witDescription() {
    return JSON.parse(readFileSync(`${COMPONENTS_DIR}acr_auth_wit.json`, 'utf8'));
}

/**
 * The checks of a WIT description: TypeScript assertions, each with what it checks, and the
 * mismatches found without TypeScript (folded names out of step, kinds not checked yet).
 */
function checks(wit) {
    const assertions = [];
    const problems = [];
    const keys = (type, wit, names) => {
        for (const name of names) {
            assertions.push({ about: `${wit}: ${type} has ${name}`, ts: `Has<api.${type}, '${name}'>` });
        }
    };
    const types = wit.interfaces.flatMap((i) => i.types);
    for (const type of types) {
        const folded = FOLDED[type.name];
        if (folded) {
            const wanted = type.fields ?? type.cases;
            for (const { into, fields, cases } of folded) {
                const mapped = fields ?? cases;
                if (Object.keys(mapped).join() !== wanted.join()) {
                    problems.push(`${type.name}: WIT has ${wanted.join(', ')}; FOLDED maps ${Object.keys(mapped).join(', ')} into ${into}`);
                }
                keys(into, type.name, Object.values(mapped));
            }
        } else if (type.kind === 'enum') {
            assertions.push({
                about: `${type.name}: ${pascal(type.name)} is ${union(type.cases)}`,
                ts: `Equal<api.${pascal(type.name)}, ${union(type.cases)}>`,
            });
        } else if (type.kind === 'variant') {
            assertions.push({
                about: `${type.name}: ${pascal(type.name)}['kind'] is ${union(type.cases)}`,
                ts: `Equal<api.${pascal(type.name)}['kind'], ${union(type.cases)}>`,
            });
        } else if (type.kind === 'record') {
            keys(pascal(type.name), type.name, type.fields.map(camel));
        } else if (type.kind !== 'alias') {
            problems.push(`${type.name}: a WIT ${type.kind}, which this test does not check yet: teach it`);
        }
    }
    for (const name of Object.keys(FOLDED)) {
        if (!types.some((type) => type.name === name)) {
            problems.push(`${name}: FOLDED names a type the WIT no longer has`);
        }
    }
    for (const { name: iface, functions } of wit.interfaces) {
        for (const name of functions.filter((f) => !(f in NOT_WRAPPED))) {
            assertions.push({ about: `${iface}.${name}: ${camel(name)} is exported`, ts: `Has<typeof api, '${camel(name)}'>` });
            if (typeof api[camel(name)] !== 'function') {
                problems.push(`${iface}.${name}: acr-auth.js exports no function ${camel(name)}`);
            }
        }
    }
    return { assertions, problems };
}

/** Compiles `assertions` against `acr-auth.d.ts`; returns those that fail. */
function failingAssertions(assertions) {
    const lines = [
        '// Written by test/wit-types.test.js from acr_auth_wit.json; compiles only if acr-auth.d.ts follows the WIT.',
        "import * as api from '../acr-auth.js';",
        'type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
        'type Has<T, K extends PropertyKey> = K extends keyof T ? true : false;',
    ];
    const first = lines.length + 1;
    assertions.forEach(({ ts }, i) => lines.push(`export const check${i}: ${ts} = true;`));
    mkdirSync(`${PACKAGE_DIR}generated`, { recursive: true });
    const file = 'generated/wit-check.ts';
    writeFileSync(`${PACKAGE_DIR}${file}`, `${lines.join('\n')}\n`);
    const tsc = spawnSync(
        `${PACKAGE_DIR}node_modules/.bin/tsc`,
        ['--ignoreConfig', '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', file],
        { cwd: PACKAGE_DIR, encoding: 'utf8' },
    );
    const failing = new Set();
    for (const match of tsc.stdout.matchAll(/wit-check\.ts\((\d+),\d+\): error/g)) {
        failing.add(Number(match[1]) - first);
    }
    assert.ok(tsc.status === 0 || failing.size > 0, `tsc failed on something else:\n${tsc.stdout}${tsc.stderr}`);
    return [...failing].sort((a, b) => a - b).map((i) => assertions[i].about);
}

/** A copy of the description whose first type of `kind` (not folded) `edit` changes; and its name. */
function edited(wit, kind, edit) {
    const copy = structuredClone(wit);
    const type = copy.interfaces.flatMap((i) => i.types).find((t) => t.kind === kind && !(t.name in FOLDED));
    edit(type);
    return { copy, name: type.name };
}

describe('the declared types follow the WIT', () => {
    const wit = witDescription();

    it('the description covers every interface', () => {
        assert.equal(wit.package, 'acr:auth@0.1.0');
        const names = wit.interfaces.map((i) => i.name);
        for (const name of ['scope', 'exchange', 'token', 'challenge', 'http', 'entra', 'login']) {
            assert.ok(names.includes(name), `no interface ${name} in ${names}`);
        }
    });

    it('every WIT type, case, field and function has its declaration', () => {
        const { assertions, problems } = checks(wit);
        assert.deepEqual(problems, []);
        assert.ok(assertions.length >= 100, `only ${assertions.length} checks`);
        assert.deepEqual(failingAssertions(assertions), []);
    });

    it('a case or field the declarations lack fails its check', () => {
        const enumCase = edited(wit, 'enum', (t) => t.cases.push('unheard'));
        const variantCase = edited(enumCase.copy, 'variant', (t) => t.cases.push('unheard'));
        const field = edited(variantCase.copy, 'record', (t) => t.fields.push('unheard'));
        const failing = failingAssertions(checks(field.copy).assertions);
        assert.equal(failing.length, 3, failing.join('\n'));
        for (const name of [enumCase.name, variantCase.name, field.name]) {
            assert.ok(failing.some((about) => about.startsWith(`${name}:`) && /unheard/.test(about)), name);
        }
    });

    it('a field of a folded record, or a new type or function, fails too', () => {
        const copy = structuredClone(wit);
        copy.interfaces.flatMap((i) => i.types).find((t) => t.name === 'refusal').fields.push('retry-after');
        copy.interfaces.push({
            name: 'state',
            types: [{ name: 'login-state', kind: 'resource', functions: ['constructor', 'poll'] }],
            functions: ['start-login'],
        });
        const { problems } = checks(copy);
        assert.deepEqual(
            problems.map((p) => p.split(':')[0]),
            ['refusal', 'login-state', 'state.start-login'],
        );
    });
});
