//! The component's work grows linearly with its input: no quadratic path an
//! attacker could feed. Work is counted in wasmtime fuel (one unit per wasm
//! instruction, roughly), which is deterministic, so the bound holds on any
//! machine: for each input family, an input four times larger must cost more
//! than twice the fuel (so it was really processed, not refused at a size
//! cap) and at most six times (linear work gives about four; quadratic,
//! sixteen). Sizes stay under the input caps.

use std::sync::OnceLock;

use acr_auth_host::wit::Pure;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

/// How much more fuel an input four times larger may use.
const MAX_GROWTH: f64 = 6.0;
/// How much more fuel it must use, to show it was processed in full.
const MIN_GROWTH: f64 = 2.0;

/// The `pure` component, compiled once with fuel metering.
fn compiled() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).expect("engine");
        let component = Component::new(&engine, acr_auth_host::COMPONENT).expect("component");
        (engine, component)
    })
}

/// The fuel one call uses, on a fresh instance.
fn fuel(call: impl FnOnce(&mut Store<()>, &Pure) -> wasmtime::Result<()>) -> u64 {
    let (engine, component) = compiled();
    let mut store = Store::new(engine, ());
    store.set_fuel(u64::MAX / 2).expect("fuel");
    let pure = Pure::instantiate(&mut store, component, &Linker::new(engine)).expect("instance");
    let before = store.get_fuel().expect("fuel");
    call(&mut store, &pure).expect("no trap");
    before - store.get_fuel().expect("fuel")
}

/// Checks that `input(4 * n)` costs between [`MIN_GROWTH`] and
/// [`MAX_GROWTH`] times `input(n)`.
fn assert_linear(family: &str, n: usize, cost: impl Fn(usize) -> u64) {
    let (small, large) = (cost(n), cost(4 * n));
    let growth = large as f64 / small as f64;
    println!(
        "{family}: fuel {small} for size {n}, {large} for size {} ({growth:.2}x)",
        4 * n
    );
    assert!(
        (MIN_GROWTH..=MAX_GROWTH).contains(&growth),
        "{family}: fuel {small} for size {n}, {large} for size {} ({growth:.1}x)",
        4 * n
    );
}

/// A family of inputs: its name, the size to measure from, and the input of
/// a given size.
type Family<T> = (&'static str, usize, fn(usize) -> T);

/// A refresh-token response whose JWT payload is `payload`.
fn refresh_body(payload: &str) -> Vec<u8> {
    use base64::Engine as _;
    let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let token = format!("{}.{}.c2ln", encode(r#"{"alg":"RS256"}"#), encode(payload));
    format!(r#"{{"refresh_token":"{token}"}}"#).into_bytes()
}

#[test]
fn resolve_scope_is_linear() {
    // References are capped at 4096 bytes.
    let families: [Family<String>; 3] = [
        ("path segments", 450, |n| {
            format!("myregistry.azurecr.io/{}app", "a/".repeat(n))
        }),
        ("tag and digest text", 450, |n| {
            format!("myregistry.azurecr.io/app:{}", "9".repeat(n))
        }),
        ("repeated at signs", 450, |n| {
            format!("{}myregistry.azurecr.io", "u@".repeat(n))
        }),
    ];
    for (family, n, reference) in families {
        assert_linear(family, n, |n| {
            fuel(|store, pure| {
                pure.acr_auth_scope()
                    .call_resolve_scope(store, &reference(n), None)
                    .map(drop)
            })
        });
    }
}

#[test]
fn parse_challenge_is_linear() {
    const START: &str = r#"Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io""#;
    // Headers are capped at 8 KiB.
    let families: [Family<String>; 3] = [
        ("many parameters", 300, |n| format!("{START}{}", ",p=\"v\"".repeat(n))),
        ("escapes in a quoted value", 900, |n| {
            format!("{START},p=\"{}\"", "\\\"".repeat(n))
        }),
        ("many challenges", 100, |n| {
            format!("{}{START}", "Basic realm=\"x\", ".repeat(n))
        }),
    ];
    for (family, n, header) in families {
        assert_linear(family, n, |n| {
            fuel(|store, pure| {
                pure.acr_auth_challenge()
                    .call_parse_challenge(store, &header(n), None)
                    .map(drop)
            })
        });
    }
}

#[test]
fn parse_refresh_token_is_linear() {
    // Bodies are capped at 64 KiB.
    let families: [Family<Vec<u8>>; 4] = [
        ("claims with many keys", 600, |n| {
            let keys: String = (0..n).map(|i| format!(r#""k{i}":{i},"#)).collect();
            refresh_body(&format!(r#"{{{keys}"exp":1767232800}}"#))
        }),
        ("repeated keys", 1000, |n| {
            refresh_body(&format!("{{{}\"exp\":1}}", "\"exp\":1,".repeat(n)))
        }),
        ("whitespace", 1500, |n| {
            format!("{{{}\"refresh_token\":\"a.b.c\"}}", " ".repeat(n)).into_bytes()
        }),
        ("long exponent", 1500, |n| {
            refresh_body(&format!(r#"{{"exp":1e{}}}"#, "0".repeat(n)))
        }),
    ];
    for (family, n, body) in families {
        assert_linear(family, n, |n| {
            fuel(|store, pure| {
                pure.acr_auth_token()
                    .call_parse_refresh_token(store, 200, &body(n), &[])
                    .map(drop)
            })
        });
    }
    // An error body with many ACR errors (only eight are kept).
    assert_linear("ACR errors", 400, |n| {
        let body = format!(r#"{{"errors":[{}{{}}]}}"#, r#"{"code":"C","message":"m"},"#.repeat(n));
        fuel(|store, pure| {
            pure.acr_auth_token()
                .call_parse_refresh_token(store, 401, body.as_bytes(), &[])
                .map(drop)
        })
    });
}

#[test]
fn parse_cloud_environment_is_linear() {
    assert_linear("many fields", 400, |n| {
        let fields: String = (0..n).map(|i| format!(r#""field{i}":"https://x{i}","#)).collect();
        let file = format!(
            r#"{{{fields}"resourceManagerEndpoint":"https://management.contoso.private/","activeDirectoryEndpoint":"https://login.contoso.private/","containerRegistryDNSSuffix":"azurecr.contoso.private"}}"#
        );
        fuel(|store, pure| {
            pure.acr_auth_scope()
                .call_parse_cloud_environment(store, &file)
                .map(drop)
        })
    });
}

#[test]
fn building_requests_is_linear_in_the_token() {
    // Tokens are capped at 32 KiB.
    assert_linear("exchange token", 2000, |n| {
        let token = "a%+".repeat(n);
        fuel(|store, pure| {
            pure.acr_auth_exchange()
                .call_build_exchange_request(store, "myregistry.azurecr.io", &token, None, None)
                .map(drop)
        })
    });
    assert_linear("refresh token", 2000, |n| {
        let token = "b=&".repeat(n);
        let scopes = ["repository:team/app:pull".to_owned()];
        fuel(|store, pure| {
            pure.acr_auth_exchange()
                .call_build_token_request(store, "myregistry.azurecr.io", &token, &scopes, None)
                .map(drop)
        })
    });
}
