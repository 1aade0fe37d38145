//! Reading the JSON documents this crate receives (token responses, ACR and
//! Entra error bodies, JWT headers and claims, cloud environment files) into
//! typed structs with serde and serde_json.
//!
//! The structs name the members that are read, each a [`Member`]: serde_json
//! checks the document (RFC 8259) and hands over each member's text, which is
//! then read as what the field needs. So a member of the wrong type is an
//! error about that field, not a failure of the whole document, and a number
//! keeps every digit (see [`Number::floor_u64`]). What the readers share:
//!
//! - the document must be one JSON object ([`object`]): serde would also read
//!   a struct from an array, by position;
//! - a member that is read must appear once: a repeated one fails the whole
//!   document (RFC 7519 section 4 lets a JWT reader refuse repeated claims,
//!   and two readers can never disagree about which copy counts); members
//!   that are not read are skipped, repeated or not;
//! - every caller caps the document's size before parsing, and nesting costs
//!   no stack: serde_json captures a member's text with an iterative scan,
//!   and the structs read from that text nest two levels at most.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::prelude::*;

/// Reads `bytes` as one JSON object into `T`. The whole document must be
/// UTF-8 (RFC 8259 section 8.1): serde_json checks the strings it reads,
/// but not those of members it skips.
pub(crate) fn object<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    let text = core::str::from_utf8(bytes)
        .map_err(|_| <serde_json::Error as serde::de::Error>::custom("the document is not UTF-8"))?;
    serde_json::from_str::<ObjectOnly<T>>(text).map(|object| object.0)
}

/// `T` read from a JSON object only, never from an array.
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor(PhantomData)).map(ObjectOnly)
    }
}

/// A member of a JSON object, as its text; [`Member::ABSENT`] when the object
/// does not have it. Fields of this type need `#[serde(borrow, default)]`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Member<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Member<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Not `Option<&RawValue>`, which would read `null` as absent.
        <&'a RawValue>::deserialize(deserializer).map(|raw| Self(Some(raw)))
    }
}

/// What a [`Member`] holds.
pub(crate) enum Json<'a> {
    /// The object has no such member.
    Absent,
    /// `null`.
    Null,
    /// A string, unescaped.
    String(String),
    /// A number, as written.
    Number(Number<'a>),
    /// An array, as written.
    Array(&'a str),
    /// An object, as written.
    Object(&'a str),
    /// `true` or `false`.
    Other,
}

impl<'a> Member<'a> {
    /// The member's value.
    pub(crate) fn value(self) -> Json<'a> {
        let Some(raw) = self.0 else {
            return Json::Absent;
        };
        let text = raw.get();
        match text.as_bytes().first() {
            // serde_json checked the string, so reading it again succeeds.
            Some(b'"') => serde_json::from_str(text).map_or(Json::Other, Json::String),
            Some(b'-' | b'0'..=b'9') => Json::Number(Number(text)),
            Some(b'[') => Json::Array(text),
            Some(b'{') => Json::Object(text),
            Some(b'n') => Json::Null,
            _ => Json::Other,
        }
    }

    /// A string member; `None` when absent or null; `Err` for another type.
    pub(crate) fn text(self) -> Result<Option<String>, WrongType> {
        match self.value() {
            Json::Absent | Json::Null => Ok(None),
            Json::String(s) => Ok(Some(s)),
            _ => Err(WrongType),
        }
    }

    /// An object member read into `T`; `None` when absent or null; `Err` for
    /// another type, or when the object repeats a member `T` reads.
    pub(crate) fn object<T: Deserialize<'a>>(self) -> Result<Option<T>, Misread> {
        match self.value() {
            Json::Absent | Json::Null => Ok(None),
            Json::Object(text) => serde_json::from_str(text).map(Some).map_err(|_| Misread::Repeated),
            _ => Err(Misread::WrongType),
        }
    }

    /// Where the member's value starts in `document`, the text it was read
    /// from, as a 1-based line and column (in bytes).
    pub(crate) fn position_in(self, document: &str) -> Option<(usize, usize)> {
        let start = (self.0?.get().as_ptr() as usize).checked_sub(document.as_ptr() as usize)?;
        let before = document.as_bytes().get(..start)?;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        Some((line, start - line_start + 1))
    }

    /// An array member's elements; `None` when absent or null; `Err` for
    /// another type.
    pub(crate) fn array(self) -> Result<Option<Vec<Member<'a>>>, WrongType> {
        match self.value() {
            Json::Absent | Json::Null => Ok(None),
            Json::Array(text) => serde_json::from_str(text).map(Some).map_err(|_| WrongType),
            _ => Err(WrongType),
        }
    }
}

/// A member of another type than the field needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WrongType;

/// Why an object member could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Misread {
    /// It is not an object.
    WrongType,
    /// It repeats a member that is read.
    Repeated,
}

/// A JSON number's text, as serde_json checked it against RFC 8259.
#[derive(Clone, Copy)]
pub(crate) struct Number<'a>(&'a str);

impl Number<'_> {
    /// The number rounded down to whole units, if it is at least zero and
    /// that fits a `u64`: what a NumericDate (RFC 7519) needs. Exact for any
    /// number of digits and any exponent, which a detour through `f64` is not.
    pub(crate) fn floor_u64(self) -> Option<u64> {
        let text = self.0;
        let (negative, text) = text.strip_prefix('-').map_or((false, text), |rest| (true, rest));
        let (mantissa, exponent) = text.split_once(['e', 'E']).unwrap_or((text, "0"));
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = || whole.bytes().chain(fraction.bytes());
        if negative {
            // Only a negative zero rounds down to a non-negative number.
            return digits().all(|d| d == b'0').then_some(0);
        }
        // Where the decimal point falls in `digits`, moved by the exponent;
        // saturating keeps a thousand-digit exponent from overflowing.
        let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
        let (negative_exponent, exponent) = exponent.strip_prefix('-').map_or((false, exponent), |e| (true, e));
        let shift = exponent
            .bytes()
            .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
        let whole_len = i64::try_from(whole.len()).unwrap_or(i64::MAX);
        let point = whole_len.saturating_add(if negative_exponent { -shift } else { shift });
        let count = whole.len() + fraction.len();
        let mut value = 0u64;
        for (i, digit) in digits().chain(core::iter::repeat(b'0')).enumerate() {
            // Past the written digits only zeros follow: zero stays zero,
            // anything else overflows within twenty of them.
            let position = i64::try_from(i).unwrap_or(i64::MAX);
            if position >= point || (i >= count && value == 0) {
                break;
            }
            value = value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::{Json, Member, object};
    use crate::prelude::*;

    #[derive(Deserialize)]
    struct Doc<'a> {
        #[serde(borrow, default)]
        a: Member<'a>,
        #[serde(borrow, default)]
        b: Member<'a>,
    }

    fn floor(number: &str) -> Option<u64> {
        let text = format!(r#"{{"a": {number}}}"#);
        let doc: Doc<'_> = object(text.as_bytes()).expect("a number");
        match doc.a.value() {
            Json::Number(n) => n.floor_u64(),
            _ => panic!("{number} is not read as a number"),
        }
    }

    #[test]
    fn numbers_round_down_exactly() {
        for (number, expected) in [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("-0.0e5", Some(0)),
            ("1767232800", Some(1_767_232_800)),
            ("1767232800.999999999999999999", Some(1_767_232_800)),
            ("1.7672328009e9", Some(1_767_232_800)),
            ("17672328009E-1", Some(1_767_232_800)),
            ("1e-400", Some(0)),
            ("0e99999999999999999999", Some(0)),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551615.9", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("1e20", None),
            ("1e99999999999999999999", None),
            ("-1", None),
            ("-0.5", None),
        ] {
            assert_eq!(floor(number), expected, "{number}");
        }
    }

    #[test]
    fn members_are_told_apart_by_type() {
        let doc: Doc<'_> = object(br#"{"a": null}"#).expect("an object");
        assert!(matches!(doc.a.value(), Json::Null));
        assert!(matches!(doc.b.value(), Json::Absent));
        assert_eq!(doc.a.text(), Ok(None));
        let doc: Doc<'_> = object(br#"{"a": "x\u0041\n", "b": [1, {"c": 2}]}"#).expect("an object");
        assert_eq!(doc.a.text(), Ok(Some("xA\n".to_owned())));
        let elements = doc.b.array().expect("an array").expect("present");
        assert_eq!(elements.len(), 2);
        assert!(doc.b.text().is_err());
    }

    #[test]
    fn only_objects_with_each_read_member_once_are_read() {
        for bad in [
            &b"[1, 2]"[..],
            b"\"a\"",
            b"",
            b"{\"a\": 1,}",
            b"{\"a\": 1} x",
            b"{\"a\": 1, \"a\": 2}",
            b"{\"a\": \"\xff\"}",
            // Found by the entra_token_response fuzz target: invalid UTF-8 in
            // a member that is skipped was read past.
            b"{\"c\": \"\xff\", \"a\": 1}",
        ] {
            assert!(object::<Doc<'_>>(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // Members that are not read may repeat.
        assert!(object::<Doc<'_>>(br#"{"c": 1, "c": 2, "a": 3}"#).is_ok());
    }

    #[test]
    fn deep_nesting_costs_no_stack() {
        // Members are captured as text by an iterative scan, and the structs
        // read from them nest two levels at most: a document as deep as the
        // 64 KiB cap allows is read without recursing into it.
        let depth = 32 * 1024 - 8;
        let nested = format!(r#"{{"c": {}{}, "a": 1}}"#, "[".repeat(depth), "]".repeat(depth));
        let doc: Doc<'_> = object(nested.as_bytes()).expect("an object");
        assert!(matches!(doc.a.value(), Json::Number(_)));
        let unbalanced = format!(r#"{{"c": {}}}"#, "[".repeat(depth));
        assert!(object::<Doc<'_>>(unbalanced.as_bytes()).is_err());
    }
}
