//! A small strict JSON parser for the encoder's model files: safetensors headers,
//! `config.json`, the sentence-transformers configs and `tokenizer.json`.
//!
//! Why not a crate: the core is `no_std` and every input here is untrusted. The parser is a
//! plain recursive descent over a byte slice that
//!
//! - accepts only RFC 8259 JSON (no trailing commas, comments, NaN, leading zeros, raw
//!   control characters in strings, lone surrogates, or anything after the value),
//! - limits nesting depth ([`MAX_DEPTH`]), so a hostile `[[[[...` cannot overflow the stack,
//! - limits the input size ([`MAX_INPUT`]), and allocates only in proportion to the input it
//!   has actually read: strings without escapes are borrowed from the input, numbers are
//!   kept as their text, and the number of values is capped at one per 4 input bytes
//!   (real model files spend 10-20 bytes per value), so a hostile `[0,0,0,...]` cannot
//!   make a tree 16 times its size: the tree stays within ~14 bytes per input byte,
//!   ~28 while a vector doubles,
//! - never panics: every malformed input is an [`Error::CorruptFile`] naming the byte
//!   offset and what was expected.
//!
//! Objects keep their members in input order, duplicates included; the consumers (the
//! safetensors header, the vocabulary) check duplicates where they matter.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{Error, Result};

/// Deepest nesting of arrays and objects accepted. Model files nest 4-6 levels deep.
pub const MAX_DEPTH: usize = 64;

/// Largest input accepted, in bytes (safetensors' own header limit is 100 MB; a
/// `tokenizer.json` is well under 20 MB).
pub const MAX_INPUT: usize = 100 << 20;

/// A parsed JSON value, borrowing from the input where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, kept as its (validated) text so integers up to `u64::MAX` stay exact; read
    /// it with [`Value::as_u64`] or [`Value::as_f64`].
    Number(&'a str),
    /// A string: borrowed when it has no escapes, owned otherwise.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object: members in input order.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

impl<'a> Value<'a> {
    /// The first member named `key` of an object (`None` for a missing key or a non-object).
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Value<'a>)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The elements of an array.
    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A non-negative integer that fits `u64`, written without fraction or exponent (`3`,
    /// not `3.0` or `3e0`): the form every size and offset in a model file has.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(text) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
            _ => None,
        }
    }

    /// Any number, as an `f64`: the nearest one when the number has at most 15 significant
    /// digits and a decimal exponent within ±22 once they are read as an integer (`1e-12`,
    /// `0.02`: every value a model's configuration holds), otherwise within a few ulp.
    ///
    /// Not `str::parse`: its correctly rounded parser carries a 10 KB table of powers of
    /// five into the wasm encoder modules, for the one float a model file has (LayerNorm's
    /// epsilon, used as an f32).
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(text) => Some(number_f64(text)),
            _ => None,
        }
    }

    /// A short name of the kind of value, for error messages.
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Parses one JSON document. `what` names the file in error messages (e.g.
/// `"config.json"`).
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub fn parse<'a>(input: &'a [u8], what: &str) -> Result<Value<'a>> {
    if input.len() > MAX_INPUT {
        return Err(Error::CorruptFile(format!(
            "{what}: {} bytes of JSON is more than the {MAX_INPUT} accepted",
            input.len()
        )));
    }
    // Validating UTF-8 once up front lets strings be borrowed as `&str` without re-checking.
    let text = core::str::from_utf8(input).map_err(|e| {
        Error::CorruptFile(format!(
            "{what}: not valid UTF-8 at byte {}",
            e.valid_up_to()
        ))
    })?;
    let mut p = Parser {
        text,
        bytes: input,
        pos: 0,
        what,
        values_left: input.len() / 4 + 16,
    };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos != input.len() {
        return Err(p.error("end of input after the value"));
    }
    Ok(value)
}

struct Parser<'a, 'w> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    what: &'w str,
    /// How many more values the input's size allows (see the module docs).
    values_left: usize,
}

impl<'a> Parser<'a, '_> {
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn error(&self, expected: &str) -> Error {
        let found = match self.bytes.get(self.pos) {
            None => String::from("end of input"),
            Some(b) if b.is_ascii_graphic() => format!("'{}'", *b as char),
            Some(b) => format!("byte 0x{b:02x}"),
        };
        Error::CorruptFile(format!(
            "{}: invalid JSON at byte {}: expected {expected}, found {found}",
            self.what, self.pos
        ))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn expect_literal(&mut self, literal: &str) -> Result<()> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            Ok(())
        } else {
            Err(self.error(literal))
        }
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn value(&mut self, depth: usize) -> Result<Value<'a>> {
        if self.values_left == 0 {
            return Err(Error::CorruptFile(format!(
                "{}: more than one JSON value per 4 bytes of input at byte {}",
                self.what, self.pos
            )));
        }
        self.values_left -= 1;
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.expect_literal("true").map(|_| Value::Bool(true)),
            Some(b'f') => self.expect_literal("false").map(|_| Value::Bool(false)),
            Some(b'n') => self.expect_literal("null").map(|_| Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("a JSON value")),
        }
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::CorruptFile(format!(
                "{}: JSON nested deeper than {MAX_DEPTH} levels at byte {}",
                self.what, self.pos
            )));
        }
        Ok(())
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn array(&mut self, depth: usize) -> Result<Value<'a>> {
        self.check_depth(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("',' or ']'")),
            }
        }
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn object(&mut self, depth: usize) -> Result<Value<'a>> {
        self.check_depth(depth)?;
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("a member name string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("':'"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error("',' or '}'")),
            }
        }
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn number(&mut self) -> Result<Value<'a>> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("a digit after '.'"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("a digit in the exponent"));
            }
            self.digits();
        }
        // All ASCII, so `start..pos` are char boundaries.
        Ok(Value::Number(&self.text[start..self.pos]))
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn hex4(&mut self) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.error("4 hex digits after \\u")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn string(&mut self) -> Result<Cow<'a, str>> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // Fast path: no escapes, borrow the input.
        loop {
            match self.peek() {
                None => return Err(self.error("'\"' closing the string")),
                Some(b'"') => {
                    let s = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => return Err(self.error("no raw control character in a string")),
                Some(_) => self.pos += 1,
            }
        }
        // Escapes: copy into an owned string, which is never longer than the input read.
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                None => return Err(self.error("'\"' closing the string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(0..=0x1f) => return Err(self.error("no raw control character in a string")),
                Some(b'\\') => {
                    self.pos += 1;
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
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.error("a valid escape")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => {
                    // Copy one UTF-8 character (the input is valid UTF-8, so `pos` is on a
                    // char boundary here).
                    let rest = &self.text[self.pos..];
                    let c = rest.chars().next().unwrap_or('\u{fffd}');
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// The character of a `\uXXXX` escape (after the `u`), joining surrogate pairs; a lone
    /// surrogate is an error (it is not a character, and Rust strings cannot hold it).
    #[cfg_attr(ferrovec_optimize_size, optimize(size))]
    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.bytes[self.pos..].starts_with(b"\\u") {
                return Err(self.error("a low surrogate escape after a high surrogate"));
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.error("a low surrogate (\\uDC00-\\uDFFF)"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else if (0xDC00..0xE000).contains(&hi) {
            return Err(self.error("no lone low surrogate"));
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| self.error("a valid code point"))
    }
}

/// Helpers the model-file readers share: a member of a required type, with an error that
/// names the file and the key.
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub(crate) fn field<'v, 'a>(obj: &'v Value<'a>, key: &str, what: &str) -> Result<&'v Value<'a>> {
    obj.get(key)
        .ok_or_else(|| Error::CorruptFile(format!("{what}: missing \"{key}\"")))
}

/// A required non-negative integer member.
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
pub(crate) fn field_u64(obj: &Value<'_>, key: &str, what: &str) -> Result<u64> {
    let v = field(obj, key, what)?;
    v.as_u64().ok_or_else(|| {
        Error::CorruptFile(format!(
            "{what}: \"{key}\" must be a non-negative integer, got {}",
            v.kind()
        ))
    })
}

/// The value of a JSON number (`text` passed the parser's grammar: `-? int frac? exp?`):
/// up to 19 significant digits as an integer `m` and a decimal exponent `e`, then
/// `m * 10^e` in f64, exactly rounded when `m < 2^53` and `|e| <= 22` (both factors exact,
/// one rounding), otherwise one rounding per power of ten.
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn number_f64(text: &str) -> f64 {
    let b = text.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg {
        i = 1;
    }
    let (mut m, mut e) = (0u64, 0i32);
    let mut fraction = false;
    while i < b.len() {
        match b[i] {
            d @ b'0'..=b'9' => {
                if m < 1_000_000_000_000_000_000 {
                    m = m * 10 + u64::from(d - b'0');
                    e -= i32::from(fraction);
                } else {
                    e += i32::from(!fraction);
                }
            }
            b'.' => fraction = true,
            _ => break,
        }
        i += 1;
    }
    if i < b.len() {
        // `e` or `E`, a sign, digits; saturated far past where f64 over- or underflows.
        let exp = &b[i + 1..];
        let (sign, digits) = match exp.first() {
            Some(b'-') => (-1, &exp[1..]),
            Some(b'+') => (1, &exp[1..]),
            _ => (1, exp),
        };
        let x = digits
            .iter()
            .fold(0i32, |x, d| (x * 10 + i32::from(d - b'0')).min(10_000));
        e += sign * x;
    }
    let mut v = m as f64;
    if m < (1 << 53) && (-22..=22).contains(&e) {
        let mut p = 1.0f64;
        for _ in 0..e.unsigned_abs() {
            p *= 10.0;
        }
        v = if e < 0 { v / p } else { v * p };
    } else if v != 0.0 {
        for _ in 0..e.unsigned_abs().min(400) {
            v = if e < 0 { v / 10.0 } else { v * 10.0 };
        }
    }
    if neg {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let v = parse(
            br#" {"a": [1, -2.5e3, "x\u00e9\ud83d\ude00", true, null], "b": {}} "#,
            "t",
        )
        .unwrap();
        let a = v.get("a").unwrap().as_array().unwrap();
        assert_eq!(a[0].as_u64(), Some(1));
        assert_eq!(a[1].as_f64(), Some(-2500.0));
        // The fast path is exactly rounded (the same bits as `str::parse`); the slow one
        // within a few ulp; over- and underflow saturate.
        for text in [
            "0",
            "-0",
            "1e-12",
            "1E-12",
            "0.02",
            "1e+5",
            "123.456e-7",
            "1e-5",
            "3",
            "-2.5",
            "1e22",
            "0.000001",
        ] {
            let want: f64 = text.parse().unwrap();
            assert_eq!(Value::Number(text).as_f64(), Some(want), "{text}");
        }
        for text in [
            "9.999999999999999e-13",
            "12345678901234567890123",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "1e-300",
            "3.3e200",
        ] {
            let want: f64 = text.parse().unwrap();
            let got = Value::Number(text).as_f64().unwrap();
            assert!(
                ((got - want) / want).abs() < 1e-13,
                "{text}: {got} vs {want}"
            );
        }
        assert_eq!(Value::Number("1e400").as_f64(), Some(f64::INFINITY));
        assert_eq!(Value::Number("1e-400").as_f64(), Some(0.0));
        assert_eq!(a[2].as_str(), Some("xé😀"));
        for bad in [
            &b"[1,]"[..],
            b"{\"a\":1,}",
            b"01",
            b"1.",
            b"\"\\ud800\"",
            b"\"a\nb\"",
            b"[1] x",
            b"",
            b"nul",
            b"\"\\x\"",
            b"-",
            b"{\"a\" 1}",
            b"\xff",
        ] {
            assert!(parse(bad, "t").is_err(), "{:?}", core::str::from_utf8(bad));
        }
        let deep = "[   ".repeat(MAX_DEPTH + 1);
        let err = parse(deep.as_bytes(), "t").unwrap_err();
        assert!(alloc::format!("{err}").contains("nested deeper"), "{err}");
        let ok = alloc::format!("{}{}", "[   ".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes(), "t").is_ok());
    }
}
