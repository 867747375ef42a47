//! Call lines: the text form of a call, such as `transfer("bob", 100)`.
//!
//! ```text
//! line      := NAME '(' args ')'                      name resolved in the ABI
//!            | NAME '(' types ')' ['->' TYPE] '(' args ')'   typed signature, no ABI needed
//! args      := [ literal { ',' literal } ]
//! literal   := integer | true | false | "string" | 0xHEX
//! integer   := ['-'] ( decimal | 0x hex ), '_' allowed between digits
//! ```
//!
//! Literals are checked against the parameter types: integers must fit (`u8`
//! takes 0..=255, `i8` takes -128..=127, ...), `bytes` are written `0x…` (an even
//! number of hex digits), an `address` is `0x` and 64 hex digits or a quoted
//! account name (`"bob"` is `keccak256("x64vm:account:bob")`), strings are
//! double-quoted with the escapes `\\ \" \n \r \t \0 \xNN \u{N…}`.

use std::fmt;

use super::borsh::encode;
use super::text::{Abi, Function, Param};
use super::types::{Type, Value};

/// Why a call line was rejected (before any code runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// Malformed text.
    Syntax {
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The line names a function but there is no ABI to resolve it; use the typed form.
    NoAbi {
        /// The function named.
        name: String,
    },
    /// No function of that name in the ABI.
    UnknownFunction {
        /// The name given.
        name: String,
        /// The functions the ABI has (signatures).
        known: Vec<String>,
    },
    /// Several functions of that name take that many arguments.
    Ambiguous {
        /// The name given.
        name: String,
        /// The candidates (signatures).
        candidates: Vec<String>,
    },
    /// Wrong number of arguments.
    Arity {
        /// The function's signature.
        function: String,
        /// Parameters it takes.
        expected: usize,
        /// Arguments given.
        found: usize,
    },
    /// An argument of the wrong kind.
    Type {
        /// The function's signature.
        function: String,
        /// 0-based argument index.
        index: usize,
        /// The parameter's name, if known.
        param: Option<String>,
        /// The parameter's type.
        expected: Type,
        /// What was written instead.
        found: String,
    },
    /// An integer (or hex value) that does not fit the parameter type.
    OutOfRange {
        /// The function's signature.
        function: String,
        /// 0-based argument index.
        index: usize,
        /// The parameter's name, if known.
        param: Option<String>,
        /// The parameter's type.
        ty: Type,
        /// The literal as written.
        literal: String,
    },
}

fn arg_name(index: usize, param: &Option<String>) -> String {
    match param {
        Some(p) => format!("argument {} ({p})", index + 1),
        None => format!("argument {}", index + 1),
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Syntax { column, message } => {
                write!(f, "malformed call line at column {column}: {message}")
            }
            CallError::NoAbi { name } => write!(
                f,
                "the contract has no ABI description, so {name:?} cannot be resolved; \
                 write the signature, e.g. {name}(u64,address)(1, \"bob\")"
            ),
            CallError::UnknownFunction { name, known } => {
                write!(f, "unknown function {name:?}")?;
                if known.is_empty() {
                    write!(f, " (the ABI declares no functions)")
                } else {
                    write!(f, "; the contract has: {}", known.join(", "))
                }
            }
            CallError::Ambiguous { name, candidates } => write!(
                f,
                "{name:?} is overloaded ({}); write the signature, e.g. {}(…)",
                candidates.join(", "),
                candidates.first().map_or(name.as_str(), |c| c.as_str())
            ),
            CallError::Arity {
                function,
                expected,
                found,
            } => write!(
                f,
                "{function} takes {expected} argument{}, {found} given",
                if *expected == 1 { "" } else { "s" }
            ),
            CallError::Type {
                function,
                index,
                param,
                expected,
                found,
            } => write!(
                f,
                "{function}: {} must be {}, found {found}",
                arg_name(*index, param),
                describe(*expected)
            ),
            CallError::OutOfRange {
                function,
                index,
                param,
                ty,
                literal,
            } => write!(
                f,
                "{function}: {} = {literal} is out of range for {ty}",
                arg_name(*index, param)
            ),
        }
    }
}

impl std::error::Error for CallError {}

fn describe(ty: Type) -> String {
    match ty {
        Type::Uint(_) | Type::Int(_) => format!("an integer ({ty})"),
        Type::Bool => "true or false".into(),
        Type::Bytes => "bytes written 0x… (an even number of hex digits)".into(),
        Type::String => "a quoted string".into(),
        Type::Address => "an address (0x and 64 hex digits, or a quoted account name)".into(),
    }
}

/// A call line resolved and encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedCall {
    /// The function called (from the ABI, or built from the typed signature).
    pub function: Function,
    /// The argument values.
    pub args: Vec<Value>,
    /// Selector followed by the Borsh-encoded arguments.
    pub input: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// An integer or hex literal as written (sign included, '_' removed).
    Number(String),
    Str(String),
    Punct(&'static str),
}

fn describe_tok(t: &Tok) -> String {
    match t {
        Tok::Ident(s) if s == "true" || s == "false" => s.clone(),
        Tok::Ident(s) => format!("the word {s}"),
        Tok::Number(n) => format!("the number {n}"),
        Tok::Str(s) => format!("the string {s:?}"),
        Tok::Punct(p) => format!("{p:?}"),
    }
}

fn syntax(column: usize, message: impl Into<String>) -> CallError {
    CallError::Syntax {
        column,
        message: message.into(),
    }
}

/// Splits a line into tokens with their 1-based columns.
fn tokenize(line: &str) -> Result<Vec<(Tok, usize)>, CallError> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let col = |i: usize| chars.get(i).map_or(line.chars().count() + 1, |_| i + 1);
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' || c == ',' {
            toks.push((
                Tok::Punct(match c {
                    '(' => "(",
                    ')' => ")",
                    _ => ",",
                }),
                col(start),
            ));
            i += 1;
        } else if c == '-' && chars.get(i + 1).is_some_and(|&(_, d)| d == '>') {
            toks.push((Tok::Punct("->"), col(start)));
            i += 2;
        } else if c == '-' || c.is_ascii_digit() {
            let mut text = String::new();
            if c == '-' {
                text.push('-');
                i += 1;
            }
            while i < chars.len() && (chars[i].1.is_ascii_alphanumeric() || chars[i].1 == '_') {
                if chars[i].1 != '_' {
                    text.push(chars[i].1);
                }
                i += 1;
            }
            if text == "-" {
                return Err(syntax(col(start), "'-' must be followed by digits"));
            }
            toks.push((Tok::Number(text), col(start)));
        } else if c.is_alphabetic() || c == '_' {
            let mut text = String::new();
            while i < chars.len() && (chars[i].1.is_alphanumeric() || chars[i].1 == '_') {
                text.push(chars[i].1);
                i += 1;
            }
            toks.push((Tok::Ident(text), col(start)));
        } else if c == '"' {
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&(_, ch)) = chars.get(i) else {
                    return Err(syntax(col(start), "unterminated string"));
                };
                i += 1;
                match ch {
                    '"' => break,
                    '\\' => {
                        let Some(&(_, e)) = chars.get(i) else {
                            return Err(syntax(col(start), "unterminated string"));
                        };
                        let esc_col = col(i - 1);
                        i += 1;
                        match e {
                            '\\' => s.push('\\'),
                            '"' => s.push('"'),
                            '\'' => s.push('\''),
                            'n' => s.push('\n'),
                            'r' => s.push('\r'),
                            't' => s.push('\t'),
                            '0' => s.push('\0'),
                            'x' => {
                                let hex: String =
                                    chars.iter().skip(i).take(2).map(|&(_, h)| h).collect();
                                let v = u8::from_str_radix(&hex, 16)
                                    .ok()
                                    .filter(|v| *v < 0x80 && hex.len() == 2)
                                    .ok_or_else(|| {
                                        syntax(esc_col, "\\x takes two hex digits, 00 to 7f")
                                    })?;
                                s.push(char::from(v));
                                i += 2;
                            }
                            'u' => {
                                if chars.get(i).map(|&(_, b)| b) != Some('{') {
                                    return Err(syntax(esc_col, "\\u must be followed by {hex}"));
                                }
                                let close = chars[i..]
                                    .iter()
                                    .position(|&(_, b)| b == '}')
                                    .ok_or_else(|| syntax(esc_col, "\\u{ without }"))?;
                                let hex: String =
                                    chars[i + 1..i + close].iter().map(|&(_, h)| h).collect();
                                let ch = u32::from_str_radix(&hex, 16)
                                    .ok()
                                    .filter(|_| (1..=6).contains(&hex.len()))
                                    .and_then(char::from_u32)
                                    .ok_or_else(|| {
                                        syntax(esc_col, format!("\\u{{{hex}}} is not a character"))
                                    })?;
                                s.push(ch);
                                i += close + 1;
                            }
                            other => {
                                return Err(syntax(
                                    esc_col,
                                    format!("unknown escape \\{other} in a string"),
                                ));
                            }
                        }
                    }
                    ch => s.push(ch),
                }
            }
            toks.push((Tok::Str(s), col(start)));
        } else {
            return Err(syntax(col(start), format!("unexpected character {c:?}")));
        }
    }
    Ok(toks)
}

/// The parts of a call line before type checking.
struct Parsed {
    name: String,
    /// The typed signature, when the line has one: parameter types and return type.
    sig: Option<(Vec<Type>, Option<Type>)>,
    args: Vec<(Tok, usize)>,
}

/// Reads one parenthesised, comma-separated group starting at `toks[*pos]` (`(`).
fn group(
    toks: &[(Tok, usize)],
    pos: &mut usize,
    end_col: usize,
) -> Result<Vec<(Tok, usize)>, CallError> {
    match toks.get(*pos) {
        Some((Tok::Punct("("), _)) => *pos += 1,
        Some((t, c)) => {
            return Err(syntax(
                *c,
                format!("expected \"(\", found {}", describe_tok(t)),
            ));
        }
        None => return Err(syntax(end_col, "expected \"(\" after the function name")),
    }
    let mut items = Vec::new();
    if let Some((Tok::Punct(")"), _)) = toks.get(*pos) {
        *pos += 1;
        return Ok(items);
    }
    loop {
        match toks.get(*pos) {
            Some((Tok::Punct(p), c)) => {
                return Err(syntax(*c, format!("expected a value, found {p:?}")));
            }
            Some(item) => items.push(item.clone()),
            None => return Err(syntax(end_col, "missing \")\"")),
        }
        *pos += 1;
        match toks.get(*pos) {
            Some((Tok::Punct(","), _)) => *pos += 1,
            Some((Tok::Punct(")"), _)) => {
                *pos += 1;
                return Ok(items);
            }
            Some((t, c)) => {
                return Err(syntax(
                    *c,
                    format!("expected \",\" or \")\", found {}", describe_tok(t)),
                ));
            }
            None => return Err(syntax(end_col, "missing \")\"")),
        }
    }
}

fn parse(line: &str) -> Result<Parsed, CallError> {
    let toks = tokenize(line)?;
    let end_col = line.chars().count() + 1;
    let mut pos = 0;
    let name = match toks.first() {
        Some((Tok::Ident(n), _)) if n != "true" && n != "false" => n.clone(),
        Some((t, c)) => {
            return Err(syntax(
                *c,
                format!("expected a function name, found {}", describe_tok(t)),
            ));
        }
        None => return Err(syntax(1, "empty call line")),
    };
    pos += 1;
    let first = group(&toks, &mut pos, end_col)?;
    let typed = matches!(toks.get(pos), Some((Tok::Punct("(" | "->"), _)));
    if !typed {
        if let Some((t, c)) = toks.get(pos) {
            return Err(syntax(
                *c,
                format!("unexpected {} after the arguments", describe_tok(t)),
            ));
        }
        return Ok(Parsed {
            name,
            sig: None,
            args: first,
        });
    }
    let mut types = Vec::new();
    for (t, c) in &first {
        match t {
            Tok::Ident(s) if Type::parse(s).is_some() => types.extend(Type::parse(s)),
            t => {
                return Err(syntax(
                    *c,
                    format!(
                        "expected a type in the signature, found {}",
                        describe_tok(t)
                    ),
                ));
            }
        }
    }
    let mut ret = None;
    if let Some((Tok::Punct("->"), _)) = toks.get(pos) {
        pos += 1;
        match toks.get(pos) {
            Some((Tok::Ident(s), c)) => {
                ret = Some(
                    Type::parse(s)
                        .ok_or_else(|| syntax(*c, format!("unknown return type {s:?}")))?,
                );
                pos += 1;
            }
            Some((t, c)) => {
                return Err(syntax(
                    *c,
                    format!("expected a return type, found {}", describe_tok(t)),
                ));
            }
            None => return Err(syntax(end_col, "expected a return type after \"->\"")),
        }
    }
    let args = group(&toks, &mut pos, end_col)?;
    if let Some((t, c)) = toks.get(pos) {
        return Err(syntax(
            *c,
            format!("unexpected {} after the arguments", describe_tok(t)),
        ));
    }
    Ok(Parsed {
        name,
        sig: Some((types, ret)),
        args,
    })
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, text),
    }
}

/// An unsigned literal (decimal or 0x hex): `Ok(None)` when well-formed but
/// larger than u128, `Err` when malformed.
fn magnitude(text: &str) -> Result<Option<u128>, ()> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(());
    }
    Ok(u128::from_str_radix(digits, radix).ok())
}

fn parse_hex_bytes(text: &str) -> Option<Vec<u8>> {
    let h = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if h.len() % 2 != 0 {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| h.get(i..i + 2).and_then(|d| u8::from_str_radix(d, 16).ok()))
        .collect()
}

/// Converts one literal to a value of `param`'s type.
fn convert(f: &Function, index: usize, param: &Param, tok: &Tok) -> Result<Value, CallError> {
    let wrong = || CallError::Type {
        function: f.signature(),
        index,
        param: param.name.clone(),
        expected: param.ty,
        found: describe_tok(tok),
    };
    let range = |literal: &str| CallError::OutOfRange {
        function: f.signature(),
        index,
        param: param.name.clone(),
        ty: param.ty,
        literal: literal.to_string(),
    };
    let malformed_number = |n: &str| CallError::Type {
        function: f.signature(),
        index,
        param: param.name.clone(),
        expected: param.ty,
        found: format!("the malformed number {n}"),
    };
    match (param.ty, tok) {
        (Type::Uint(bits), Tok::Number(n)) => {
            let (neg, mag) = split_sign(n);
            let v = match magnitude(mag) {
                Err(()) => return Err(malformed_number(n)),
                Ok(None) => return Err(range(n)),
                Ok(Some(v)) => v,
            };
            if (neg && v != 0) || (bits < 128 && v >> bits != 0) {
                return Err(range(n));
            }
            Ok(Value::Uint(bits, v))
        }
        (Type::Int(bits), Tok::Number(n)) => {
            let (neg, mag) = split_sign(n);
            let m = match magnitude(mag) {
                Err(()) => return Err(malformed_number(n)),
                Ok(None) => return Err(range(n)),
                Ok(Some(v)) => v,
            };
            // |min| = 2^(bits-1), max = 2^(bits-1) - 1.
            let limit = 1u128 << (bits.clamp(8, 128) - 1);
            let v = if neg {
                if m > limit {
                    return Err(range(n));
                }
                (m as i128).wrapping_neg()
            } else {
                if m >= limit {
                    return Err(range(n));
                }
                m as i128
            };
            Ok(Value::Int(bits, v))
        }
        (Type::Bool, Tok::Ident(s)) if s == "true" => Ok(Value::Bool(true)),
        (Type::Bool, Tok::Ident(s)) if s == "false" => Ok(Value::Bool(false)),
        (Type::Bytes, Tok::Number(n)) if n.starts_with("0x") || n.starts_with("0X") => {
            parse_hex_bytes(n)
                .map(Value::Bytes)
                .ok_or_else(|| malformed_number(n))
        }
        (Type::String, Tok::Str(s)) => Ok(Value::String(s.clone())),
        (Type::Address, Tok::Str(s)) => {
            if s.is_empty() {
                return Err(CallError::Type {
                    function: f.signature(),
                    index,
                    param: param.name.clone(),
                    expected: param.ty,
                    found: "an empty account name".into(),
                });
            }
            Ok(Value::Address(crate::address_of_name(s)))
        }
        (Type::Address, Tok::Number(n)) if n.starts_with("0x") || n.starts_with("0X") => {
            let b = parse_hex_bytes(n).ok_or_else(|| malformed_number(n))?;
            let a: [u8; 32] = b.try_into().map_err(|_| CallError::Type {
                function: f.signature(),
                index,
                param: param.name.clone(),
                expected: param.ty,
                found: format!("{} hex digits (an address has 64)", n.len() - 2),
            })?;
            Ok(Value::Address(a))
        }
        _ => Err(wrong()),
    }
}

/// Resolves a call line against `abi` (if any) and type-checks its arguments.
///
/// # Errors
/// [`CallError`] for malformed text, an unknown or ambiguous function, wrong
/// arity, wrong argument kinds and out-of-range integers.
pub fn parse_call_line(line: &str, abi: Option<&Abi>) -> Result<(Function, Vec<Value>), CallError> {
    let p = parse(line)?;
    let function = match (&p.sig, abi) {
        (Some((types, ret)), _) => {
            let params: Vec<Param> = types.iter().map(|&ty| Param { ty, name: None }).collect();
            let mut f = Function {
                name: p.name.clone(),
                params,
                ret: *ret,
                view: false,
            };
            // The ABI knows the parameter names and the return type.
            if let Some(known) =
                abi.and_then(|a| a.functions.iter().find(|g| g.signature() == f.signature()))
            {
                let explicit_ret = f.ret;
                f = known.clone();
                if explicit_ret.is_some() {
                    f.ret = explicit_ret;
                }
            }
            f
        }
        (None, None) => return Err(CallError::NoAbi { name: p.name }),
        (None, Some(abi)) => {
            let named = abi.functions_named(&p.name);
            if named.is_empty() {
                return Err(CallError::UnknownFunction {
                    name: p.name,
                    known: abi.functions.iter().map(|f| f.signature()).collect(),
                });
            }
            let fitting: Vec<&&Function> = named
                .iter()
                .filter(|f| f.params.len() == p.args.len())
                .collect();
            match fitting.as_slice() {
                [f] => (**f).clone(),
                [] if named.len() == 1 => {
                    return Err(CallError::Arity {
                        function: named[0].signature(),
                        expected: named[0].params.len(),
                        found: p.args.len(),
                    });
                }
                [] => {
                    return Err(CallError::Arity {
                        function: named
                            .iter()
                            .map(|f| f.signature())
                            .collect::<Vec<_>>()
                            .join(" or "),
                        expected: named[0].params.len(),
                        found: p.args.len(),
                    });
                }
                many => {
                    return Err(CallError::Ambiguous {
                        name: p.name,
                        candidates: many.iter().map(|f| f.signature()).collect(),
                    });
                }
            }
        }
    };
    if function.params.len() != p.args.len() {
        return Err(CallError::Arity {
            function: function.signature(),
            expected: function.params.len(),
            found: p.args.len(),
        });
    }
    let mut values = Vec::with_capacity(p.args.len());
    for (i, (param, (tok, _))) in function.params.iter().zip(&p.args).enumerate() {
        values.push(convert(&function, i, param, tok)?);
    }
    Ok((function, values))
}

/// Resolves, checks and encodes a call line (selector + Borsh arguments).
///
/// # Errors
/// As [`parse_call_line`].
pub fn encode_call_line(line: &str, abi: Option<&Abi>) -> Result<EncodedCall, CallError> {
    let (function, args) = parse_call_line(line, abi)?;
    let mut input = function.selector().to_vec();
    input.extend_from_slice(&encode(&args));
    Ok(EncodedCall {
        function,
        args,
        input,
    })
}
