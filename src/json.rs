//! JSON values as `serde_json::Value` reads them, with objects kept as a list
//! of entries instead of a `BTreeMap`.
//!
//! Parsing goes through serde_json's own `deserialize_any`, exactly as
//! `serde_json::Value` does, so what is accepted and refused (syntax, escapes,
//! numbers out of range, nesting deeper than 128, error positions) is
//! unchanged. Only the container differs: looking a key up takes its last
//! occurrence, as `Map::insert` keeps the last one. Dropping `Value` and its
//! `BTreeMap` saves 11,887 bytes of the `pure` core module (see the README).

use core::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value.
pub(crate) enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A non-negative integer that fits in a `u64`.
    U64(u64),
    /// A negative integer that fits in an `i64`.
    I64(i64),
    /// Any other number: finite, as serde_json parses it.
    F64(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(Object),
}

/// A JSON object: its entries in document order, duplicates included.
pub(crate) struct Object(Vec<(String, Json)>);

impl Object {
    /// The value of `key`; the last one when the key is repeated.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Takes the value of `key` out; the last one when the key is repeated.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Json> {
        let at = self.0.iter().rposition(|(k, _)| k == key)?;
        Some(self.0.swap_remove(at).1)
    }
}

impl Json {
    /// The number as a `u64`, as `serde_json::Number::as_u64` gives it.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match *self {
            Self::U64(n) => Some(n),
            Self::I64(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The number as an `f64`, as `serde_json::Number::as_f64` gives it.
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::U64(n) => Some(n as f64),
            Self::I64(n) => Some(n as f64),
            Self::F64(n) => Some(n),
            _ => None,
        }
    }

    /// Whether the value is a number.
    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Self::U64(_) | Self::I64(_) | Self::F64(_))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
        Ok(Json::Bool)
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(if n < 0 { Json::I64(n) } else { Json::U64(n as u64) })
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::U64(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
        // serde_json::Value turns a non-finite number into null; serde_json's
        // parser never produces one.
        Ok(if n.is_finite() { Json::F64(n) } else { Json::Null })
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element()? {
            values.push(value);
        }
        Ok(Json::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Json>()? {
            entries.push(entry);
        }
        Ok(Json::Object(Object(entries)))
    }
}
