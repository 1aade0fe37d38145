// The wrapper's declared types (`acr-auth.d.ts`) follow the WIT package: a WIT type, case, field
// or function the wrapper does not follow fails here, not in a user's program.
//
// The WIT's shape is `acr_auth_wit.json`, which `cargo xtask build` writes beside the components
// from `wit/` (with wit-parser): every interface, walked whole, so that a new interface, type,
// case or field is checked without editing this file. From it this test writes TypeScript
// assertions about `acr-auth.d.ts` (an enum type equals its cases, a variant's `kind` equals its
// cases, a record's type has each field, camelCase; a resource is a class with each method) and
// compiles them with `tsc`: whatever the declarations lack is a compile error on the line that
// checks it. Each type is checked under its WIT name in PascalCase, but for the few the wrapper
// renames (RENAMED) or folds into another shape (FOLDED), each listed with the reason.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import * as api from 'acr-auth';

/**
 * The WIT description, `acr_auth_wit.json`: the file `ACR_AUTH_WIT_JSON` names (the tests of the
 * installed package run outside the repository, with a copy), else the one `cargo xtask build`
 * writes beside the components.
 */
const WIT_DESCRIPTION =
    process.env.ACR_AUTH_WIT_JSON ??
    (process.env.ACR_AUTH_COMPONENTS_DIR
        ? `${process.env.ACR_AUTH_COMPONENTS_DIR}/acr_auth_wit.json`
        : fileURLToPath(new URL('../../../target/components/acr_auth_wit.json', import.meta.url)));

/**
 * The directory of the project the tests run in, where `tsc` runs: this package's, or the one the
 * installed package's tests run in. Either way `acr-auth` names the package.
 */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * WIT types the wrapper folds into another declared type: for each, the type it goes into and
 * each field's (or, for a variant, each case's) name there; a field folded into several keys
 * lists them all. A folded variant's case is a key of one of the alternatives of its type.
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
    'managed-identity': [
        { into: 'ManagedIdentity', fields: { id: ['clientId', 'objectId', 'resourceId'], source: 'source' } },
    ],
    // Credentials are `{entraToken}` or `{identity}`: an object whose one key is the case.
    credentials: [{ into: 'Credentials', cases: { 'entra-token': 'entraToken', identity: 'identity' } }],
};

/** WIT types the wrapper declares under another name than their own in PascalCase. */
const RENAMED = {
    // JavaScript has its own `ReferenceError`.
    'reference-error': 'RegistryReferenceError',
    // `Event` is a global class (the DOM's, and Node's).
    event: 'LoginEvent',
    // Named, as `LoginEvent` is, after the login flow it belongs to.
    step: 'LoginStep',
};

/** `cloud-environment-error` is `CloudEnvironmentError`. */
const pascal = (name) => name.split('-').map((part) => part[0].toUpperCase() + part.slice(1)).join('');

/** `login-server` is `loginServer`, as jco names fields and functions. */
const camel = (name) => {
    const word = pascal(name);
    return word[0].toLowerCase() + word.slice(1);
};

/** The name `acr-auth.d.ts` declares a WIT type under. */
const declared = (name) => RENAMED[name] ?? pascal(name);

/** A TypeScript union of string literals. */
const union = (names) => names.map((name) => `'${name}'`).join(' | ');

/** The WIT description `cargo xtask build` wrote. */
function witDescription() {
    return JSON.parse(readFileSync(WIT_DESCRIPTION, 'utf8'));
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
        const name = declared(type.name);
        if (folded) {
            const wanted = type.fields ?? type.cases;
            for (const { into, fields, cases } of folded) {
                const mapped = fields ?? cases;
                if (Object.keys(mapped).join() !== wanted.join()) {
                    problems.push(`${type.name}: WIT has ${wanted.join(', ')}; FOLDED maps ${Object.keys(mapped).join(', ')} into ${into}`);
                }
                for (const key of Object.values(mapped).flat()) {
                    const check = fields ? 'Has' : 'HasSome';
                    assertions.push({ about: `${type.name}: ${into} has ${key}`, ts: `${check}<api.${into}, '${key}'>` });
                }
            }
        } else if (type.kind === 'enum') {
            assertions.push({
                about: `${type.name}: ${name} is ${union(type.cases)}`,
                ts: `Equal<api.${name}, ${union(type.cases)}>`,
            });
        } else if (type.kind === 'variant') {
            assertions.push({
                about: `${type.name}: ${name}['kind'] is ${union(type.cases)}`,
                ts: `Equal<api.${name}['kind'], ${union(type.cases)}>`,
            });
        } else if (type.kind === 'record') {
            keys(name, type.name, type.fields.map(camel));
        } else if (type.kind === 'resource') {
            problems.push(...resourceProblems(type, name));
            assertions.push({ about: `${type.name}: ${name} is a class`, ts: `IsClass<typeof api.${name}>` });
            for (const method of type.functions.filter((f) => f !== 'constructor').map(camel)) {
                assertions.push({ about: `${type.name}: ${name} has ${method}`, ts: `HasMember<typeof api.${name}, '${method}'>` });
            }
        } else if (type.kind !== 'alias') {
            problems.push(`${type.name}: a WIT ${type.kind}, which this test does not check yet: teach it`);
        }
    }
    for (const name of [...Object.keys(FOLDED), ...Object.keys(RENAMED)]) {
        if (!types.some((type) => type.name === name)) {
            problems.push(`${name}: FOLDED or RENAMED names a type the WIT no longer has`);
        }
    }
    for (const { name: iface, functions } of wit.interfaces) {
        for (const name of functions) {
            assertions.push({ about: `${iface}.${name}: ${camel(name)} is exported`, ts: `Has<typeof api, '${camel(name)}'>` });
            if (typeof api[camel(name)] !== 'function') {
                problems.push(`${iface}.${name}: acr-auth.js exports no function ${camel(name)}`);
            }
        }
    }
    return { assertions, problems };
}

/**
 * What `acr-auth.js` lacks of the WIT resource `type`, declared as `name`: the class, or a
 * method (or static function) of it.
 */
function resourceProblems(type, name) {
    const resource = api[name];
    if (typeof resource !== 'function') {
        return [`${type.name}: acr-auth.js exports no class ${name}`];
    }
    return type.functions
        .filter((f) => f !== 'constructor')
        .map(camel)
        .filter((method) => typeof resource.prototype[method] !== 'function' && typeof resource[method] !== 'function')
        .map((method) => `${type.name}: ${name} has no method ${method}`);
}

/** Compiles `assertions` against `acr-auth.d.ts`; returns those that fail. */
function failingAssertions(assertions) {
    const lines = [
        '// Written by test/wit-types.test.js from acr_auth_wit.json; compiles only if acr-auth.d.ts follows the WIT.',
        "import * as api from 'acr-auth';",
        'type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
        'type Has<T, K extends PropertyKey> = K extends keyof T ? true : false;',
        'type HasSome<T, K extends PropertyKey> = K extends (T extends unknown ? keyof T : never) ? true : false;',
        'type IsClass<C> = C extends abstract new (...args: any) => unknown ? true : false;',
        'type HasMember<C, K extends PropertyKey> = C extends abstract new (...args: any) => infer I ? Has<I & C, K> : false;',
    ];
    const first = lines.length + 1;
    assertions.forEach(({ ts }, i) => lines.push(`export const check${i}: ${ts} = true;`));
    mkdirSync(`${PACKAGE_DIR}generated`, { recursive: true });
    const file = 'generated/wit-check.ts';
    writeFileSync(`${PACKAGE_DIR}${file}`, `${lines.join('\n')}\n`);
    // The options of `tsconfig.json`, which names other files.
    const options = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    const lib = ['--lib', 'es2022,esnext.disposable,dom,dom.iterable', '--types', ''];
    const tsc = spawnSync(`${PACKAGE_DIR}node_modules/.bin/tsc`, ['--ignoreConfig', ...options, ...lib, file], {
        cwd: PACKAGE_DIR,
        encoding: 'utf8',
    });
    const errors = tsc.stdout.split('\n').filter((line) => /: error TS\d+/.test(line));
    const elsewhere = errors.filter((line) => !line.startsWith(`${file}(`));
    assert.ok(tsc.status === 0 || (errors.length > 0 && elsewhere.length === 0), `tsc failed on something else:\n${tsc.stdout}${tsc.stderr}`);
    const failing = new Set(errors.map((line) => Number(/\((\d+),\d+\)/.exec(line)[1]) - first));
    return [...failing].sort((a, b) => a - b).map((i) => assertions[i].about);
}

/**
 * A copy of the description whose first type of `kind` (not folded; renamed if `renamed`) `edit`
 * changes; and its name.
 */
function edited(wit, kind, edit, { renamed = false } = {}) {
    const copy = structuredClone(wit);
    const type = copy.interfaces
        .flatMap((i) => i.types)
        .find((t) => t.kind === kind && !(t.name in FOLDED) && (t.name in RENAMED) === renamed);
    edit(type);
    return { copy, name: type.name };
}

describe('the declared types follow the WIT', () => {
    const wit = witDescription();

    it('the description covers every interface', () => {
        assert.equal(wit.package, 'acr:auth@0.1.0');
        const names = wit.interfaces.map((i) => i.name);
        for (const name of ['scope', 'exchange', 'token', 'challenge', 'http', 'entra', 'flow', 'login']) {
            assert.ok(names.includes(name), `no interface ${name} in ${names}`);
        }
    });

    it('every WIT type, case, field and function has its declaration', () => {
        const { assertions, problems } = checks(wit);
        assert.deepEqual(problems, []);
        assert.ok(assertions.length >= 100, `only ${assertions.length} checks`);
        assert.deepEqual(failingAssertions(assertions), []);
    });

    it('a case, field or method the declarations lack fails its check', () => {
        const enumCase = edited(wit, 'enum', (t) => t.cases.push('unheard'));
        const variantCase = edited(enumCase.copy, 'variant', (t) => t.cases.push('unheard'));
        const renamedCase = edited(variantCase.copy, 'variant', (t) => t.cases.push('unheard'), { renamed: true });
        const field = edited(renamedCase.copy, 'record', (t) => t.fields.push('unheard'));
        const method = edited(field.copy, 'resource', (t) => t.functions.push('unheard'));
        const { assertions, problems } = checks(method.copy);
        const failing = failingAssertions(assertions);
        const mutated = [enumCase.name, variantCase.name, renamedCase.name, field.name, method.name];
        assert.equal(failing.length, mutated.length, failing.join('\n'));
        for (const name of mutated) {
            assert.ok(failing.some((about) => about.startsWith(`${name}:`) && /unheard/.test(about)), name);
        }
        assert.deepEqual(problems, [`${method.name}: ${declared(method.name)} has no method unheard`]);
    });

    it('a field or case of a folded type, or a new type or function, fails too', () => {
        const copy = structuredClone(wit);
        const types = copy.interfaces.flatMap((i) => i.types);
        types.find((t) => t.name === 'refusal').fields.push('retry-after');
        types.find((t) => t.name === 'credentials').cases.push('refresh-token');
        copy.interfaces.push({
            name: 'state',
            types: [{ name: 'login-state', kind: 'resource', functions: ['constructor', 'poll'] }],
            functions: ['start-login'],
        });
        const { problems } = checks(copy);
        assert.deepEqual(
            problems.map((p) => p.split(':')[0]),
            ['refusal', 'credentials', 'login-state', 'state.start-login'],
        );
    });
});
