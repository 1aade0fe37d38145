//! The `pure` component in wasmtime: calls on one reused instance, calls
//! through [`Embedder`] (a fresh store per call), instantiation with the
//! default and the pooling allocator, linear memory, compile and load times.
//!
//! Engines are configured as [`Embedder`] configures its own (fuel metering
//! on), so that every row here is comparable with the embedder's.

use std::hint::black_box;
use std::time::Instant;

use acr_auth_host::wit::{Pure, PurePre};
use acr_auth_host::{CallError, Embedder, Limits};
use acr_auth_test_support::inputs::{largest_refresh_token_response, maximal_scopes, maximal_token};
use acr_auth_test_support::stack;
use anyhow::{Result, ensure};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

use crate::stats::{Plan, Stat, measure};
use crate::{flow, inputs};

/// Instances the pooling allocator keeps slots for: more than one thread of
/// this benchmark ever holds, as a proxy sizes it to its concurrency.
pub const POOL_INSTANCES: u32 = 16;

/// Core instances per component instance: the encoder adds small shim
/// instances beside the main module.
const POOL_CORE_INSTANCES_PER_COMPONENT: u32 = 8;

/// The pool's linear-memory cap, [`Limits::default`]'s memory limit.
const POOL_MEMORY: usize = 16 << 20;

/// Fuel given to a reused store: enough for every call a run makes.
const REUSED_STORE_FUEL: u64 = u64::MAX / 2;

/// Store data: the linear memory its instance holds, as the limiter sees it
/// (wasmtime reports each memory's creation and growth to the limiter).
#[derive(Default)]
struct State {
    memory_bytes: usize,
}

impl wasmtime::ResourceLimiter for State {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.memory_bytes += desired - current;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// One compiled component and the ways of running it.
struct Host {
    engine: Engine,
    pre: PurePre<State>,
}

impl Host {
    /// Compiles `component` for an engine with [`Embedder`]'s configuration,
    /// and the pooling allocator when `pooling`.
    fn new(component: &[u8], pooling: bool) -> Result<Self> {
        let engine = Engine::new(&config(pooling))?;
        let component = Component::new(&engine, component)?;
        let pre = PurePre::new(Linker::new(&engine).instantiate_pre(&component)?)?;
        Ok(Self { engine, pre })
    }

    /// A fresh store with a fresh instance, as the embedder makes per call.
    fn instantiate(&self) -> Result<(Store<State>, Pure)> {
        let mut store = Store::new(&self.engine, State::default());
        store.limiter(|state| state);
        store.set_fuel(Limits::default().fuel)?;
        let pure = self.pre.instantiate(&mut store)?;
        Ok((store, pure))
    }
}

/// [`Embedder`]'s engine configuration, with the pooling allocator (slots
/// for [`POOL_INSTANCES`]) or not.
fn config(pooling: bool) -> Config {
    if pooling {
        let mut config = pooling_config(POOL_INSTANCES);
        config.consume_fuel(true);
        return config;
    }
    let mut config = Config::new();
    config.consume_fuel(true);
    config
}

/// An engine configuration with the pooling allocator, with slots for
/// `instances` instances of a `pure` component.
pub fn pooling_config(instances: u32) -> Config {
    pooling_config_keeping(instances, 0)
}

/// [`pooling_config`] that keeps the first `resident` bytes of each linear
/// memory mapped when its slot is freed (zeroing them instead), so that the
/// next instance in the slot does not fault them in again.
pub fn pooling_config_keeping(instances: u32, resident: usize) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.linear_memory_keep_resident(resident);
    pool.total_component_instances(instances)
        .total_core_instances(instances * POOL_CORE_INSTANCES_PER_COMPONENT)
        .max_core_instances_per_component(POOL_CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances)
        .total_tables(instances * POOL_CORE_INSTANCES_PER_COMPONENT)
        .max_memory_size(POOL_MEMORY);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// A call through the component that reports whether it succeeded.
type ComponentCall = Box<dyn Fn(&mut Store<State>, &Pure) -> wasmtime::Result<bool>>;

/// The same call through [`Embedder`]'s public API.
type EmbedderCall = Box<dyn Fn(&Embedder) -> Result<bool, acr_auth_host::CallError>>;

/// A pure function with one input, runnable natively and through the
/// component in both ways.
struct Case {
    /// The row name.
    name: String,
    /// Whether the input is accepted: the floor case is refused on purpose.
    accepted: bool,
    /// The native call; `true` when it returned `Ok`.
    native: Box<dyn Fn() -> bool>,
    /// The component call on a given store and instance.
    component: ComponentCall,
    /// The same call through [`Embedder`]'s public API.
    embedder: EmbedderCall,
}

/// The cases: each pure function on realistic input, and the floor.
fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = [
        ("resolve-scope short", inputs::SHORT_REFERENCE.to_owned()),
        ("resolve-scope full", inputs::full_reference()),
        (
            "resolve-scope example (Node/Python input)",
            inputs::EXAMPLE_REFERENCE.to_owned(),
        ),
        ("floor: resolve-scope(\"\") refused", String::new()),
    ]
    .into_iter()
    .map(|(name, reference)| {
        let (r1, r2, r3) = (reference.clone(), reference.clone(), reference.clone());
        Case {
            name: name.to_owned(),
            accepted: !reference.is_empty(),
            native: Box::new(move || black_box(acr_auth::resolve_scope(&r1, None)).is_ok()),
            component: Box::new(move |store, pure| {
                Ok(black_box(pure.acr_auth_scope().call_resolve_scope(store, &r2, None)?).is_ok())
            }),
            embedder: Box::new(move |e| Ok(black_box(e.resolve_scope(&r3, None)?).is_ok())),
        }
    })
    .collect();

    let body = inputs::refresh_token_body();
    let (b1, b2, b3) = (body.clone(), body.clone(), body);
    cases.push(Case {
        name: format!("parse-refresh-token ({} B body)", b1.len()),
        accepted: true,
        native: Box::new(move || black_box(acr_auth::parse_refresh_token(200, &b1, &[])).is_ok()),
        component: Box::new(move |store, pure| {
            Ok(black_box(pure.acr_auth_token().call_parse_refresh_token(store, 200, &b2, &[])?).is_ok())
        }),
        embedder: Box::new(move |e| Ok(black_box(e.parse_refresh_token(200, &b3, &[])?).is_ok())),
    });

    cases.push(Case {
        name: "parse-challenge (ACR header)".to_owned(),
        accepted: true,
        native: Box::new(|| black_box(acr_auth::parse_challenge(inputs::CHALLENGE, None)).is_ok()),
        component: Box::new(|store, pure| {
            Ok(black_box(
                pure.acr_auth_challenge()
                    .call_parse_challenge(store, inputs::CHALLENGE, None)?,
            )
            .is_ok())
        }),
        embedder: Box::new(|e| Ok(black_box(e.parse_challenge(inputs::CHALLENGE, None)?).is_ok())),
    });

    let token = inputs::entra_token();
    let (t1, t2, t3) = (token.clone(), token.clone(), token);
    let (server, tenant) = (inputs::SHORT_REFERENCE, Some(inputs::TENANT));
    cases.push(Case {
        name: format!("build-exchange-request ({} B token)", t1.len()),
        accepted: true,
        native: Box::new(move || black_box(acr_auth::build_exchange_request(server, &t1, tenant, None)).is_ok()),
        component: Box::new(move |store, pure| {
            let exchange = pure.acr_auth_exchange();
            Ok(black_box(exchange.call_build_exchange_request(store, server, &t2, tenant, None)?).is_ok())
        }),
        embedder: Box::new(move |e| Ok(black_box(e.build_exchange_request(server, &t3, tenant, None)?).is_ok())),
    });
    cases
}

/// Measures every case natively, on one reused instance and through the
/// embedder, plus the linear memory a fresh instance holds after one call.
pub fn pure_calls(component: &[u8], plan: &Plan) -> Result<Vec<Stat>> {
    let host = Host::new(component, false)?;
    let embedder = Embedder::new(component, Limits::default()).map_err(anyhow::Error::from)?;
    let (mut store, pure) = host.instantiate()?;
    store.set_fuel(REUSED_STORE_FUEL)?;
    let mut rows = Vec::new();
    let mut memory_bytes = 0;
    for case in cases() {
        ensure!(
            (case.native)() == case.accepted,
            "{}: the native call answered unexpectedly",
            case.name
        );
        ensure!(
            (case.component)(&mut store, &pure)? == case.accepted,
            "{}: the component answered unexpectedly",
            case.name
        );
        ensure!(
            (case.embedder)(&embedder)? == case.accepted,
            "{}: the embedder answered unexpectedly",
            case.name
        );

        let native = measure(format!("{}: native", case.name), plan, &*case.native);
        let reused = measure(format!("{}: wasm, reused instance", case.name), plan, || {
            (case.component)(&mut store, &pure).expect("no trap")
        });
        let fresh = measure(format!("{}: wasm, fresh store (Embedder)", case.name), plan, || {
            (case.embedder)(&embedder).expect("no trap")
        });
        let (reused, fresh) = (reused.versus(&native), fresh.versus(&native));
        rows.extend([native, reused, fresh]);

        let (mut one_call, pure) = host.instantiate()?;
        (case.component)(&mut one_call, &pure)?;
        memory_bytes = memory_bytes.max(one_call.data().memory_bytes);
    }
    rows.push(Stat::single(
        "linear memory per instance after one call (largest over the cases above)",
        "KiB",
        memory_bytes as f64 / 1024.0,
    ));
    Ok(rows)
}

/// Measures a fresh store plus instantiation, with the default and the
/// pooling allocator, without and with one `resolve-scope` call.
pub fn instantiation(component: &[u8], plan: &Plan) -> Result<Vec<Stat>> {
    let [default_instantiate, default_call] = instantiation_with(component, false, plan)?;
    let [pooling_instantiate, pooling_call] = instantiation_with(component, true, plan)?;
    let pooling_instantiate = pooling_instantiate.versus(&default_instantiate);
    let pooling_call = pooling_call.versus(&default_call);
    Ok(vec![
        default_instantiate,
        default_call,
        pooling_instantiate,
        pooling_call,
    ])
}

/// [`instantiation`] with one allocator.
fn instantiation_with(component: &[u8], pooling: bool, plan: &Plan) -> Result<[Stat; 2]> {
    let allocator = if pooling {
        "pooling allocator"
    } else {
        "default allocator"
    };
    let host = Host::new(component, pooling)?;
    let instantiate = measure(format!("instantiate + new Store, {allocator}"), plan, || {
        host.instantiate().expect("instantiates")
    });
    let with_call = measure(format!("instantiate + resolve-scope short, {allocator}"), plan, || {
        let (mut store, pure) = host.instantiate().expect("instantiates");
        pure.acr_auth_scope()
            .call_resolve_scope(&mut store, inputs::SHORT_REFERENCE, None)
            .expect("no trap")
    });
    Ok([instantiate, with_call])
}

/// Measures compiling each component (`Component::new`), precompiling the
/// `pure` one (`Engine::precompile_component`) and loading that back
/// (`Component::deserialize`), which is `unsafe`: wasmtime must trust that
/// the bytes are its own precompiled code.
#[allow(unsafe_code)]
pub fn compile_and_load(pure: &[u8], client: &[u8], plan: &Plan) -> Result<Vec<Stat>> {
    let engine = Engine::new(&config(false))?;
    let compile = |name: &str, bytes: &[u8]| {
        measure(format!("compile {name} component (Component::new)"), plan, || {
            Component::new(&engine, bytes).expect("compiles")
        })
    };
    let compile_pure = compile("pure", pure);
    let compile_client = compile("client", client);
    let start = Instant::now();
    let precompiled = engine.precompile_component(pure)?;
    let precompile = Stat::single(
        "precompile pure component (one run)",
        "µs",
        start.elapsed().as_secs_f64() * 1e6,
    );
    let load = measure("load precompiled pure component (Component::deserialize)", plan, || {
        // SAFETY: the bytes were produced just above by this engine's
        // `precompile_component`, which is what `deserialize` requires.
        unsafe { Component::deserialize(&engine, &precompiled) }.expect("loads")
    })
    .versus(&compile_pure);
    let kib = |bytes: usize| bytes as f64 / 1024.0;
    Ok(vec![
        Stat::single("pure component size", "KiB", kib(pure.len())),
        Stat::single("client component size", "KiB", kib(client.len())),
        Stat::single("pure precompiled artifact size", "KiB", kib(precompiled.len())),
        compile_pure,
        compile_client,
        precompile,
        load,
    ])
}

/// The least shadow stack, to 256 bytes, with which every case above, the
/// largest accepted inputs and a whole login through the flow still answer
/// as with the stack the build chose: found by shrinking the stack in the
/// built component (an overflow traps) and searching by halves.
pub fn stack_needed(component: &[u8]) -> Result<Vec<Stat>> {
    let top = stack::layout(component)?.stack_top;
    let cases = cases();
    let (token, answers) = (flow::entra_token(), flow::answers());
    let (longest_token, scopes) = (maximal_token('e'), maximal_scopes());
    let body = largest_refresh_token_response();
    let overflowed = |e: &CallError| matches!(e, CallError::Trap(_));
    let fits = |size: u32| -> Result<bool> {
        let embedder =
            Embedder::new(&stack::with_stack_size(component, size)?, Limits::default()).map_err(anyhow::Error::from)?;
        let largest: [Box<dyn Fn() -> Result<bool, CallError>>; 3] = [
            Box::new(|| {
                Ok(embedder
                    .build_exchange_request(inputs::SHORT_REFERENCE, &longest_token, None, None)?
                    .is_ok())
            }),
            Box::new(|| {
                Ok(embedder
                    .build_token_request(inputs::SHORT_REFERENCE, &longest_token, &scopes, None)?
                    .is_ok())
            }),
            Box::new(|| Ok(embedder.parse_refresh_token(200, &body, &[])?.is_ok())),
        ];
        let answers_of_cases = cases
            .iter()
            .map(|case| ((case.embedder)(&embedder), case.accepted, case.name.as_str()));
        let answers_of_largest = largest.iter().map(|call| (call(), true, "a largest input"));
        for (answer, accepted, name) in answers_of_cases.chain(answers_of_largest) {
            match answer {
                Ok(answer) => ensure!(
                    answer == accepted,
                    "{name}: answered otherwise with a {size} byte stack"
                ),
                Err(e) if overflowed(&e) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        match flow::component_login(&embedder, &token, &answers) {
            Ok(end) => ensure!(end.is_some(), "the login ended otherwise with a {size} byte stack"),
            Err(e) if e.downcast_ref::<CallError>().is_some_and(overflowed) => return Ok(false),
            Err(e) => return Err(e),
        }
        Ok(true)
    };
    ensure!(fits(top)?, "the cases do not run with the stack the build chose");
    let (mut too_small, mut enough) = (0, top);
    while enough - too_small > 256 {
        let middle = (too_small + enough) / 32 * 16;
        if fits(middle)? {
            enough = middle;
        } else {
            too_small = middle;
        }
    }
    let kib = |bytes: u32| f64::from(bytes) / 1024.0;
    Ok(vec![
        Stat::single("shadow stack the components are built with", "KiB", kib(top)),
        Stat::single(
            "shadow stack the deepest case needs (the cases above, the largest inputs, a login flow)",
            "KiB",
            kib(enough),
        ),
    ])
}
