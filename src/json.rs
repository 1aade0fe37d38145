//! A strict, bounded JSON reader (RFC 8259) for the few documents this crate
//! reads: token responses, ACR error bodies, JWT headers and claims, and cloud
//! environment files.
//!
//! It is hand-written rather than serde_json because serde_json and serde
//! were a quarter of the component: replacing them saved 33,424 bytes of the
//! `pure` component (see the README's "Size"). What it accepts is RFC
//! 8259 exactly (tests compare it with serde_json on every case file and on
//! generated input): UTF-8 text, one value, no trailing commas, no comments,
//! strings without raw control characters or lone surrogates, nesting at most
//! [`MAX_DEPTH`] deep. Numbers are kept as their checked text, so a value
//! never loses precision on the way to the field that reads it. Strings and
//! numbers borrow from the document unless they hold escapes, so reading a
//! token response copies the token once, into the result.

use alloc::borrow::Cow;

use crate::prelude::*;

/// The deepest nesting of arrays and objects accepted (serde_json's default
/// recursion limit accepts one level less).
pub(crate) const MAX_DEPTH: usize = 128;

/// A JSON value, borrowing from the document it was read from.
pub(crate) enum Json<'t> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number, as its text in the document.
    Number(Number<'t>),
    /// A string.
    String(Cow<'t, str>),
    /// An array.
    Array(Vec<Json<'t>>),
    /// An object.
    Object(Object<'t>),
}

/// A JSON number's text, checked against the RFC 8259 grammar.
pub(crate) struct Number<'t>(&'t str);

impl Number<'_> {
    /// The number rounded down to whole units, if it is at least zero and
    /// that fits a `u64`: what a NumericDate (RFC 7519) needs. Exact for any
    /// number of digits and any exponent.
    pub(crate) fn floor_u64(&self) -> Option<u64> {
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
        let point = (whole.len() as i64).saturating_add(if negative_exponent { -shift } else { shift });
        let count = whole.len() + fraction.len();
        let mut value = 0u64;
        for (i, digit) in digits().chain(core::iter::repeat(b'0')).enumerate() {
            // Past the written digits only zeros follow: zero stays zero,
            // anything else overflows within twenty of them.
            if i as i64 >= point || (i >= count && value == 0) {
                break;
            }
            value = value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
        }
        Some(value)
    }
}

/// A JSON object: its entries in document order, duplicates included.
pub(crate) struct Object<'t>(Vec<(Cow<'t, str>, Json<'t>)>);

impl<'t> Object<'t> {
    /// The value of `key`; the last one when the key is repeated, as most
    /// JSON readers (serde_json's `Value` among them) resolve duplicates.
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'t>> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Takes the value of `key` out; the last one when the key is repeated.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Json<'t>> {
        let at = self.0.iter().rposition(|(k, _)| k == key)?;
        Some(self.0.swap_remove(at).1)
    }
}

/// Where a document stops being JSON: a byte offset into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// The offset of the first byte that cannot be read, or the length of
    /// the document when it ends too early.
    pub(crate) offset: usize,
}

impl SyntaxError {
    /// The 1-based line and column (in bytes) of the error in `text`.
    pub(crate) fn line_column(self, text: &[u8]) -> (usize, usize) {
        let before = &text[..self.offset.min(text.len())];
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        (line, before.len() - line_start + 1)
    }
}

/// Reads `text` as one JSON value.
pub(crate) fn parse(text: &[u8]) -> Result<Json<'_>, SyntaxError> {
    let text = core::str::from_utf8(text).map_err(|e| SyntaxError {
        offset: e.valid_up_to(),
    })?;
    let mut reader = Reader { text, at: 0 };
    let value = reader.value(0)?;
    reader.skip_whitespace();
    if reader.at == text.len() {
        Ok(value)
    } else {
        Err(reader.error())
    }
}

/// A position in a document known to be UTF-8.
struct Reader<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Reader<'t> {
    fn error(&self) -> SyntaxError {
        SyntaxError { offset: self.at }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    /// Consumes `byte`, which must be next.
    fn expect(&mut self, byte: u8) -> Result<(), SyntaxError> {
        if self.eat(byte) { Ok(()) } else { Err(self.error()) }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes a run of ASCII digits; returns how many.
    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    /// One value, preceded by whitespace, nested `depth` containers deep.
    fn value(&mut self, depth: usize) -> Result<Json<'t>, SyntaxError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') | Some(b'[') if depth == MAX_DEPTH => Err(self.error()),
            Some(b'{') => self.object(depth + 1).map(Json::Object),
            Some(b'[') => self.array(depth + 1).map(Json::Array),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            _ => {
                let rest = &self.text[self.at..];
                let (word, value) = [("null", Json::Null), ("true", Json::Bool), ("false", Json::Bool)]
                    .into_iter()
                    .find(|(word, _)| rest.starts_with(word))
                    .ok_or_else(|| self.error())?;
                self.at += word.len();
                Ok(value)
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Object<'t>, SyntaxError> {
        self.expect(b'{')?;
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Object(entries));
        }
        loop {
            self.skip_whitespace();
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            entries.push((key, self.value(depth)?));
            self.skip_whitespace();
            if self.eat(b'}') {
                return Ok(Object(entries));
            }
            self.expect(b',')?;
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Json<'t>>, SyntaxError> {
        self.expect(b'[')?;
        let mut values = Vec::new();
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(values);
        }
        loop {
            values.push(self.value(depth)?);
            self.skip_whitespace();
            if self.eat(b']') {
                return Ok(values);
            }
            self.expect(b',')?;
        }
    }

    fn number(&mut self) -> Result<Number<'t>, SyntaxError> {
        let start = self.at;
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error()),
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(self.error());
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return Err(self.error());
            }
        }
        Ok(Number(&self.text[start..self.at]))
    }

    fn string(&mut self) -> Result<Cow<'t, str>, SyntaxError> {
        self.expect(b'"')?;
        let mut out = Cow::Borrowed("");
        loop {
            let start = self.at;
            let bytes = self.text.as_bytes();
            // A plain loop: the component is built for size, where an
            // iterator adapter per byte would not be inlined.
            while self.at < bytes.len() && !matches!(bytes[self.at], b'"' | b'\\' | 0..0x20) {
                self.at += 1;
            }
            // Stops only at ASCII bytes, so both ends are char boundaries.
            let run = &self.text[start..self.at];
            match out {
                Cow::Borrowed("") => out = Cow::Borrowed(run),
                _ => out.to_mut().push_str(run),
            }
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = self.escape()?;
                    out.to_mut().push(c);
                }
                _ => return Err(self.error()),
            }
        }
    }

    /// The character an escape (after its backslash) stands for.
    fn escape(&mut self) -> Result<char, SyntaxError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.at += 1;
                return self.unicode_escape();
            }
            _ => return Err(self.error()),
        };
        self.at += 1;
        Ok(c)
    }

    /// A `\u` escape (after its `u`): one code point, or a surrogate pair
    /// written as two escapes. A lone surrogate is an error.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let start = self.at;
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !(self.eat(b'\\') && self.eat(b'u')) {
                    return Err(self.error());
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(SyntaxError { offset: start });
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            _ => first,
        };
        char::from_u32(code).ok_or(SyntaxError { offset: start })
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error())?;
            code = code * 16 + digit;
            self.at += 1;
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor(text: &str) -> Option<u64> {
        match parse(text.as_bytes()) {
            Ok(Json::Number(n)) => n.floor_u64(),
            _ => panic!("{text} is not a number"),
        }
    }

    #[test]
    fn numbers_round_down_exactly() {
        assert_eq!(floor("0"), Some(0));
        assert_eq!(floor("-0"), Some(0));
        assert_eq!(floor("-0.0e5"), Some(0));
        assert_eq!(floor("-1"), None);
        assert_eq!(floor("-0.5"), None);
        assert_eq!(floor("1767232800.999"), Some(1_767_232_800));
        assert_eq!(floor("1.7672328e9"), Some(1_767_232_800));
        assert_eq!(floor("17672328000E-1"), Some(1_767_232_800));
        assert_eq!(floor("1.9999999999999999999999"), Some(1));
        assert_eq!(floor("5e-1"), Some(0));
        assert_eq!(floor("5e-99999999999999999999999"), Some(0));
        assert_eq!(floor("18446744073709551615"), Some(u64::MAX));
        assert_eq!(floor("18446744073709551616"), None);
        assert_eq!(floor("1.8446744073709551615e19"), Some(u64::MAX));
        assert_eq!(floor("1e30"), None);
        assert_eq!(floor("1e99999999999999999999999"), None);
        assert_eq!(floor("0e99999999999999999999999"), Some(0));
    }

    #[test]
    fn strings_decode_every_escape() {
        let Ok(Json::String(s)) = parse(br#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\u0000""#) else {
            panic!("not a string");
        };
        assert_eq!(s, "a\"\\/\u{8}\u{c}\n\r\té😀\0");
    }

    #[test]
    fn errors_give_the_offset_and_its_line_and_column() {
        for (text, offset) in [
            (&b""[..], 0),
            (b"{\"a\":", 5),
            (b"[1,]", 3),
            (b"{\"a\" 1}", 5),
            (b"01", 1),
            (b"1.", 2),
            (b"1e+", 3),
            (b"\"\\ud800\"", 7),
            (b"\"\\udc00\"", 3),
            (b"\"\\ud800\\u0041\"", 3),
            (b"\"a\tb\"", 2),
            (b"\"\xff\"", 1),
            (b"nul", 0),
            (b"{} x", 3),
        ] {
            assert_eq!(
                parse(text).err(),
                Some(SyntaxError { offset }),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        assert_eq!(SyntaxError { offset: 6 }.line_column(b"{\n  \"a\"\n}"), (2, 5));
        assert_eq!(SyntaxError { offset: 9 }.line_column(b"{\n  \"a\"\n}"), (3, 2));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(parse(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(
            parse(deep(MAX_DEPTH + 1).as_bytes()).err(),
            Some(SyntaxError { offset: MAX_DEPTH })
        );
    }

    #[test]
    fn the_last_of_repeated_keys_wins() {
        let Ok(Json::Object(mut object)) = parse(br#"{"a":1,"b":true,"a":"x"}"#) else {
            panic!("not an object");
        };
        assert!(matches!(object.get("a"), Some(Json::String(s)) if s == "x"));
        assert!(matches!(object.remove("a"), Some(Json::String(_))));
        assert!(matches!(object.get("a"), Some(Json::Number(_))));
        assert!(matches!(object.get("b"), Some(Json::Bool)));
    }

    #[test]
    fn accepts_exactly_what_serde_json_accepts() {
        // Every byte string built from these pieces, up to three of them.
        let pieces: [&[u8]; 24] = [
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b":",
            b"\"",
            b"\\",
            b"\"a\"",
            b"1",
            b"-",
            b"0",
            b".",
            b"e",
            b"+",
            b"true",
            b"nul",
            b"null",
            b" ",
            b"\n",
            b"\\u00",
            b"\\ud83d",
            b"\t",
            b"\xc3\xa9",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = [a, b, c].concat();
                    for text in [text.clone(), [b"[".as_slice(), &text, b"]"].concat()] {
                        let ours = parse(&text).is_ok();
                        let theirs = serde_json::from_slice::<serde_json::Value>(&text).is_ok();
                        assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(&text));
                    }
                }
            }
        }
    }
}
