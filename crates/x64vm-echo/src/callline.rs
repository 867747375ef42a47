//! Echo call lines such as `fib(25)` or `get_balance("1.2.10", "1.3.0")`: the
//! function's name and untyped literal parameters. The contract asks for the
//! parameters one by one with a type (`int 0x40 + k`), and the host converts the
//! literal to that type then.
//!
//! ```text
//! call    = name "(" [ literal { "," literal } ] ")"      (blanks allowed between tokens)
//! name    = ( letter | "_" ) { letter | digit | "_" }
//! literal = string | integer | "true" | "false"
//! string  = '"' { char | '\"' | '\\' | '\n' | '\t' | '\r' | '\0' } '"'
//! integer = [ "-" | "+" ] ( digits | "0x" hexdigits )
//! ```

use std::fmt;

/// Longest call line accepted.
pub const MAX_CALL_LINE: usize = 64 * 1024;
/// Most parameters in a call line.
pub const MAX_PARAMS: usize = 256;

/// One literal parameter of a call line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// A quoted string (escapes resolved).
    Str(String),
    /// An integer literal (any sign and size that fits i128).
    Int(i128),
    /// `true` or `false`.
    Bool(bool),
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Str(s) => write!(f, "{s:?}"),
            Param::Int(v) => write!(f, "{v}"),
            Param::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A parsed call line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLine {
    /// The function's name.
    pub function: String,
    /// Its parameters, in order.
    pub params: Vec<Param>,
}

/// Why a call line is malformed (the run ends with `incorrect_parameters`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLineError {
    /// Byte offset of the problem.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CallLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed call line at byte {}: {}",
            self.at, self.message
        )
    }
}

impl std::error::Error for CallLineError {}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, CallLineError> {
        Err(CallLineError {
            at: self.pos,
            message: message.into(),
        })
    }

    fn blanks(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), CallLineError> {
        self.blanks();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            match self.peek() {
                Some(other) => self.err(format!(
                    "expected {what} `{}`, found `{}`",
                    c as char, other as char
                )),
                None => self.err(format!("expected {what} `{}`, found the end", c as char)),
            }
        }
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.pos += 1;
        }
        // ASCII only, so always valid UTF-8.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }

    fn string(&mut self) -> Result<Param, CallLineError> {
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        Some(b'r') => b'\r',
                        Some(b'0') => 0,
                        Some(c) => return self.err(format!("unknown escape `\\{}`", c as char)),
                        None => return self.err("unterminated string"),
                    };
                    out.push(c);
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        // The input is a &str and escapes only add ASCII, so this cannot fail.
        match String::from_utf8(out) {
            Ok(s) => Ok(Param::Str(s)),
            Err(_) => self.err("string is not UTF-8"),
        }
    }

    fn integer(&mut self) -> Result<Param, CallLineError> {
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        let digits_at = self.pos;
        let word = self.word().to_string();
        let parsed = match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u128::from_str_radix(hex, 16).ok()
            }
            Some(_) => None,
            None if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) => {
                word.parse::<u128>().ok()
            }
            None => None,
        };
        let Some(magnitude) = parsed else {
            self.pos = digits_at;
            return self.err(format!("`{word}` is not an integer"));
        };
        let value = if negative {
            if magnitude > i128::MAX as u128 + 1 {
                None
            } else {
                Some((magnitude as i128).wrapping_neg())
            }
        } else {
            i128::try_from(magnitude).ok()
        };
        match value {
            Some(v) => Ok(Param::Int(v)),
            None => {
                self.pos = start;
                self.err("integer out of range")
            }
        }
    }

    fn literal(&mut self) -> Result<Param, CallLineError> {
        self.blanks();
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'-' | b'+' | b'0'..=b'9') => self.integer(),
            Some(c) if c.is_ascii_alphabetic() => {
                let at = self.pos;
                match self.word() {
                    "true" => Ok(Param::Bool(true)),
                    "false" => Ok(Param::Bool(false)),
                    w => {
                        let w = w.to_string();
                        self.pos = at;
                        self.err(format!("`{w}` is not a literal (strings are quoted)"))
                    }
                }
            }
            Some(c) => self.err(format!("unexpected `{}`", c as char)),
            None => self.err("expected a parameter, found the end"),
        }
    }
}

/// Parses a call line.
///
/// # Errors
/// [`CallLineError`] for anything that does not follow the grammar above, or
/// exceeds [`MAX_CALL_LINE`] bytes or [`MAX_PARAMS`] parameters.
pub fn parse_call_line(line: &str) -> Result<CallLine, CallLineError> {
    if line.len() > MAX_CALL_LINE {
        return Err(CallLineError {
            at: MAX_CALL_LINE,
            message: format!("longer than {MAX_CALL_LINE} bytes"),
        });
    }
    let mut p = Parser {
        s: line.as_bytes(),
        pos: 0,
    };
    p.blanks();
    if !p
        .peek()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
    {
        return p.err("expected a function name");
    }
    let function = p.word().to_string();
    p.expect(b'(', "")?;
    let mut params = Vec::new();
    p.blanks();
    if p.peek() == Some(b')') {
        p.pos += 1;
    } else {
        loop {
            if params.len() == MAX_PARAMS {
                return p.err(format!("more than {MAX_PARAMS} parameters"));
            }
            params.push(p.literal()?);
            p.blanks();
            match p.peek() {
                Some(b',') => p.pos += 1,
                Some(b')') => {
                    p.pos += 1;
                    break;
                }
                Some(c) => return p.err(format!("expected `,` or `)`, found `{}`", c as char)),
                None => return p.err("missing `)`"),
            }
        }
    }
    p.blanks();
    if let Some(c) = p.peek() {
        return p.err(format!("unexpected `{}` after `)`", c as char));
    }
    Ok(CallLine { function, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed() {
        let c = parse_call_line("fib(25)").unwrap();
        assert_eq!(c.function, "fib");
        assert_eq!(c.params, vec![Param::Int(25)]);
        let c = parse_call_line(r#" get_balance( "1.2.10" ,"1.3.0" ) "#).unwrap();
        assert_eq!(
            c.params,
            vec![Param::Str("1.2.10".into()), Param::Str("1.3.0".into())]
        );
        let c = parse_call_line(r#"f(-5, 0xff, true, false, "a\"b\\c\n")"#).unwrap();
        assert_eq!(
            c.params,
            vec![
                Param::Int(-5),
                Param::Int(255),
                Param::Bool(true),
                Param::Bool(false),
                Param::Str("a\"b\\c\n".into())
            ]
        );
        assert_eq!(parse_call_line("greet()").unwrap().params, vec![]);
        let min = format!("f({})", i128::MIN);
        assert_eq!(
            parse_call_line(&min).unwrap().params,
            vec![Param::Int(i128::MIN)]
        );
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "fib",
            "fib(",
            "fib(25",
            r#"get_balance("1.2.10", "1.3.0""#,
            "fib(25))",
            "fib(25) x",
            "fib(,)",
            "fib(1,)",
            "fib(x)",
            "fib(0x)",
            "fib(12ab)",
            r#"f("abc)"#,
            r#"f("\q")"#,
            "1fib()",
            "f(--1)",
            "f(340282366920938463463374607431768211456)",
            "f(-170141183460469231731687303715884105729)",
        ] {
            assert!(parse_call_line(bad).is_err(), "{bad:?} should be rejected");
        }
        let e = parse_call_line(r#"get_balance("1.2.10", "1.3.0""#).unwrap_err();
        assert!(e.message.contains("missing `)`"), "{e}");
    }
}
