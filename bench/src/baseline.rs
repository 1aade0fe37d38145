//! `--baseline DIR`: another build's components (say, main's before a
//! change) measured beside this build's, in the same process and run, so
//! that a change's cost is the ratio of two numbers taken on one machine at
//! one time.
//!
//! The two builds may export different interfaces, so nothing here uses the
//! generated bindings: components are instantiated without imports (the
//! `pure` world has none) and called through `Func::call` with dynamic
//! values, which costs the same for both builds.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use wasmtime::component::{Component, Func, Linker, Val};
use wasmtime::{Config, Engine, Store};

use crate::inputs;
use crate::stats::{Plan, Stat, measure};

/// Store data: the linear memory the instance holds.
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

/// Instances held at once for the footprint rows: a proxy with 1,000
/// requests in flight.
const CONCURRENT: usize = 1_000;

/// Bytes of each linear memory the pool keeps resident between instances:
/// all of the current build's memory after a call, a ninth of the baseline's.
const KEEP_RESIDENT: usize = 128 << 10;

/// One build's `pure` component, compiled for the default and the pooling
/// allocator, and a function of it found by name.
struct Build {
    label: &'static str,
    bytes: Vec<u8>,
    client: Vec<u8>,
    engine: Engine,
    component: Component,
    /// The same component in an engine with the pooling allocator, sized
    /// for [`CONCURRENT`] instances.
    pooled: Component,
    /// And with the pool keeping [`KEEP_RESIDENT`] of each memory mapped.
    pooled_resident: Component,
}

impl Build {
    fn new(label: &'static str, bytes: Vec<u8>, client: Vec<u8>) -> Result<Self> {
        let compile = |config: &Config| {
            let engine = Engine::new(config)?;
            let component = Component::new(&engine, &bytes)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("compiling the {label} component"))?;
            anyhow::Ok((engine, component))
        };
        let (engine, component) = compile(&Config::new())?;
        let (_, pooled) = compile(&crate::component::pooling_config(CONCURRENT as u32))?;
        let (_, pooled_resident) = compile(&crate::component::pooling_config_keeping(
            crate::component::POOL_INSTANCES,
            KEEP_RESIDENT,
        ))?;
        Ok(Self {
            label,
            bytes,
            client,
            engine,
            component,
            pooled,
            pooled_resident,
        })
    }

    /// A fresh store with a fresh instance, and `interface`'s `function`.
    fn instantiate(&self, interface: &str, function: &str) -> Result<(Store<State>, Func)> {
        instantiate(&self.component, self.label, interface, function)
    }

    /// [`Build::instantiate`] with the pooling allocator.
    fn instantiate_pooled(&self, interface: &str, function: &str) -> Result<(Store<State>, Func)> {
        instantiate(&self.pooled, self.label, interface, function)
    }

    /// [`Build::instantiate`] with the pooling allocator keeping memory resident.
    fn instantiate_pooled_resident(&self, interface: &str, function: &str) -> Result<(Store<State>, Func)> {
        instantiate(&self.pooled_resident, self.label, interface, function)
    }
}

/// A fresh store with a fresh instance of `component`, and `interface`'s `function`.
fn instantiate(component: &Component, label: &str, interface: &str, function: &str) -> Result<(Store<State>, Func)> {
    let engine = component.engine();
    let mut store = Store::new(engine, State::default());
    store.limiter(|state| state);
    let instance = Linker::new(engine).instantiate(&mut store, component)?;
    let name = format!("acr:auth/{interface}@0.1.0");
    let func = component
        .get_export_index(None, &name)
        .and_then(|exported| component.get_export_index(Some(&exported), function))
        .and_then(|index| instance.get_func(&mut store, index))
        .with_context(|| format!("the {label} component exports no {name}#{function}"))?;
    Ok((store, func))
}

/// Resident memory of this process, from `/proc/self/statm`, in bytes.
fn resident_bytes() -> Result<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .context("statm has no resident field")?
        .parse()?;
    Ok(pages * 4096)
}

/// [`CONCURRENT`] instances alive at once, each after one call made with
/// `instantiate`: the linear memory they hold together (what memory limits
/// must allow) and the resident memory the process gained, in MiB.
fn footprint(instantiate: impl Fn() -> Result<(Store<State>, Func)>, args: &[Val]) -> Result<(f64, f64)> {
    let before = resident_bytes()?;
    let mut alive = Vec::with_capacity(CONCURRENT);
    for _ in 0..CONCURRENT {
        let (mut store, func) = instantiate()?;
        call(&mut store, &func, args)?;
        alive.push(store);
    }
    let resident = resident_bytes()?.saturating_sub(before);
    let linear: usize = alive.iter().map(|store| store.data().memory_bytes).sum();
    let mib = |bytes: usize| bytes as f64 / f64::from(1 << 20);
    Ok((mib(linear), mib(resident)))
}

/// Calls `func` with `args` and drops its result.
fn call(store: &mut Store<State>, func: &Func, args: &[Val]) -> Result<()> {
    let mut result = [Val::Bool(false)];
    func.call(&mut *store, args, &mut result)?;
    if !matches!(&result[0], Val::Result(Ok(_))) {
        bail!("the call was refused: {:?}", result[0]);
    }
    Ok(())
}

/// Measures the baseline's components in `dir` and this build's (`pure`,
/// `client`): sizes, compile time, instantiation, two calls and the linear
/// memory after one. Each current row's ratio is over its baseline row.
pub fn compare(dir: &Path, pure: &[u8], client: &[u8], plan: &Plan) -> Result<Vec<Stat>> {
    let read =
        |file: &str| std::fs::read(dir.join(file)).with_context(|| format!("reading {}", dir.join(file).display()));
    let builds = [
        Build::new("baseline", read("acr_auth.wasm")?, read("acr_auth_client.wasm")?)?,
        Build::new("current", pure.to_vec(), client.to_vec())?,
    ];
    let reference = Val::String(inputs::SHORT_REFERENCE.to_owned());
    let body = Val::List(inputs::refresh_token_body().into_iter().map(Val::U8).collect());
    let scope_args = [reference, Val::Option(None)];
    let token_args = [Val::U16(200), body, Val::List(Vec::new())];
    let mut pairs: Vec<[Stat; 2]> = Vec::new();
    let mut per_build = Vec::new();
    for build in &builds {
        let label = build.label;
        let kib = |bytes: usize| bytes as f64 / 1024.0;
        let mut rows = vec![
            Stat::single(format!("{label}: pure component size"), "KiB", kib(build.bytes.len())),
            Stat::single(
                format!("{label}: client component size"),
                "KiB",
                kib(build.client.len()),
            ),
        ];
        rows.push(measure(format!("{label}: compile pure (Component::new)"), plan, || {
            Component::new(&build.engine, &build.bytes).expect("compiles")
        }));
        rows.push(measure(
            format!("{label}: compile client (Component::new)"),
            plan,
            || Component::new(&build.engine, &build.client).expect("compiles"),
        ));
        rows.push(measure(format!("{label}: instantiate + new Store"), plan, || {
            build.instantiate("scope", "resolve-scope").expect("instantiates")
        }));
        rows.push(measure(
            format!("{label}: instantiate + new Store, pooling allocator"),
            plan,
            || {
                build
                    .instantiate_pooled("scope", "resolve-scope")
                    .expect("instantiates")
            },
        ));
        rows.push(measure(
            format!("{label}: instantiate + resolve-scope short, pooling allocator"),
            plan,
            || {
                let (mut store, resolve) = build
                    .instantiate_pooled("scope", "resolve-scope")
                    .expect("instantiates");
                call(&mut store, &resolve, &scope_args).expect("resolves");
            },
        ));
        rows.push(measure(
            format!(
                "{label}: instantiate + resolve-scope short, pooling allocator keeping {} KiB resident",
                KEEP_RESIDENT >> 10
            ),
            plan,
            || {
                let (mut store, resolve) = build
                    .instantiate_pooled_resident("scope", "resolve-scope")
                    .expect("instantiates");
                call(&mut store, &resolve, &scope_args).expect("resolves");
            },
        ));
        for (allocator, pooled) in [("default allocator", false), ("pooling allocator", true)] {
            let (linear, resident) = footprint(
                || {
                    if pooled {
                        build.instantiate_pooled("scope", "resolve-scope")
                    } else {
                        build.instantiate("scope", "resolve-scope")
                    }
                },
                &scope_args,
            )?;
            rows.push(Stat::single(
                format!("{label}: {CONCURRENT} instances after one call, {allocator}: linear memory"),
                "MiB",
                linear,
            ));
            rows.push(Stat::single(
                format!("{label}: {CONCURRENT} instances after one call, {allocator}: resident memory added"),
                "MiB",
                resident,
            ));
        }
        let (mut store, resolve) = build.instantiate("scope", "resolve-scope")?;
        call(&mut store, &resolve, &scope_args)?;
        rows.push(Stat::single(
            format!("{label}: linear memory after one resolve-scope"),
            "KiB",
            kib(store.data().memory_bytes),
        ));
        rows.push(measure(
            format!("{label}: resolve-scope short, reused instance"),
            plan,
            || call(&mut store, &resolve, &scope_args).expect("resolves"),
        ));
        let (mut store, parse) = build.instantiate("token", "parse-refresh-token")?;
        rows.push(measure(
            format!("{label}: parse-refresh-token, reused instance"),
            plan,
            || call(&mut store, &parse, &token_args).expect("parses"),
        ));
        per_build.push(rows);
    }
    let current = per_build.pop().expect("two builds");
    let baseline = per_build.pop().expect("two builds");
    for (before, after) in baseline.into_iter().zip(current) {
        let after = after.versus(&before);
        pairs.push([before, after]);
    }
    Ok(pairs.into_iter().flatten().collect())
}
