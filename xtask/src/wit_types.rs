//! The shape of the WIT package as JSON, `target/components/acr_auth_wit.json`,
//! for the tests of hosts whose types are written by hand: the Node and
//! Python tests compare their declared kinds, cases and fields with it, so a
//! WIT type, case, field or function that a host does not follow fails a
//! test, whichever interface it is in.
//!
//! ```json
//! {"package": "acr:auth@0.1.0",
//!  "interfaces": [{"name": "scope",
//!                  "types": [{"name": "cloud", "kind": "enum", "cases": ["public", "..."]}],
//!                  "functions": ["resolve-scope", "parse-cloud-environment"]}]}
//! ```
//!
//! A type is `{"name", "kind"}` and, by kind: `record` its `fields`;
//! `variant` and `enum` their `cases`; `flags` its `flags`; `resource` its
//! `functions` (constructor, methods and static functions, by their own
//! names); `alias` (`type a = b`) the `of` it names, as `interface/type`.
//! Other kinds (`list`, `option`, `tuple`, ...) carry no more. A type that an
//! interface `use`s is listed only in the interface that defines it.

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use wit_parser::{FunctionKind, InterfaceId, PackageId, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

/// The package's interfaces, types and functions as JSON.
pub fn describe(resolve: &Resolve, package: PackageId) -> Result<Value> {
    let interfaces = resolve.packages[package]
        .interfaces
        .iter()
        .map(|(name, &id)| {
            let interface = &resolve.interfaces[id];
            let types = interface
                .types
                .iter()
                .filter(|&(_, &ty)| !is_used_from_elsewhere(resolve, ty, id))
                .map(|(name, &ty)| describe_type(resolve, name, ty, interface))
                .collect::<Result<Vec<_>>>()?;
            let functions: Vec<&str> = interface
                .functions
                .values()
                .filter(|f| f.kind.resource().is_none())
                .map(|f| f.name.as_str())
                .collect();
            Ok(json!({ "name": name, "types": types, "functions": functions }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "package": resolve.packages[package].name.to_string(),
        "interfaces": interfaces,
    }))
}

/// Whether `ty`, a type of interface `id`, is one that `id` `use`s from
/// another interface (an alias of a type defined there).
fn is_used_from_elsewhere(resolve: &Resolve, ty: TypeId, id: InterfaceId) -> bool {
    match resolve.types[ty].kind {
        TypeDefKind::Type(Type::Id(of)) => resolve.types[of].owner != TypeOwner::Interface(id),
        _ => false,
    }
}

/// One type defined by `interface`.
fn describe_type(resolve: &Resolve, name: &str, ty: TypeId, interface: &wit_parser::Interface) -> Result<Value> {
    let kind = &resolve.types[ty].kind;
    let names = |items: &mut dyn Iterator<Item = &String>| items.cloned().collect::<Vec<_>>();
    Ok(match kind {
        TypeDefKind::Record(record) => {
            json!({ "name": name, "kind": "record", "fields": names(&mut record.fields.iter().map(|f| &f.name)) })
        }
        TypeDefKind::Variant(variant) => {
            json!({ "name": name, "kind": "variant", "cases": names(&mut variant.cases.iter().map(|c| &c.name)) })
        }
        TypeDefKind::Enum(enum_) => {
            json!({ "name": name, "kind": "enum", "cases": names(&mut enum_.cases.iter().map(|c| &c.name)) })
        }
        TypeDefKind::Flags(flags) => {
            json!({ "name": name, "kind": "flags", "flags": names(&mut flags.flags.iter().map(|f| &f.name)) })
        }
        TypeDefKind::Resource => {
            let functions: Vec<&str> = interface
                .functions
                .values()
                .filter(|f| f.kind.resource() == Some(ty))
                .map(|f| match f.kind {
                    FunctionKind::Constructor(_) => "constructor",
                    _ => f.item_name(),
                })
                .collect();
            json!({ "name": name, "kind": "resource", "functions": functions })
        }
        TypeDefKind::Type(Type::Id(of)) => {
            let of = resolve.types[*of]
                .name
                .as_deref()
                .context("an alias of an unnamed type")?;
            let interface = interface.name.as_deref().unwrap_or_default();
            json!({ "name": name, "kind": "alias", "of": format!("{interface}/{of}") })
        }
        other => json!({ "name": name, "kind": other.as_str() }),
    })
}
