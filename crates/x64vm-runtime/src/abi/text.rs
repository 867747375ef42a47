//! The ABI description embedded in contracts (section `.x64vm.abi`):
//!
//! ```text
//! fn NAME(TYPE [PARAM], ...) [-> TYPE] [view]
//! event NAME(TYPE [FIELD], ...)
//! ```
//!
//! Lines are separated by `\n` or NUL; blank lines and lines starting with `#`
//! are ignored; a line repeated verbatim (the same fragment linked in twice) is
//! kept once.

use std::fmt;

use super::types::Type;

/// A function parameter or event field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its type.
    pub ty: Type,
    /// Its name, if the description gives one.
    pub name: Option<String>,
}

/// An exported function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Name.
    pub name: String,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// Return type (none: the function outputs nothing).
    pub ret: Option<Type>,
    /// Declared `view` (does not write state).
    pub view: bool,
}

fn signature_of(name: &str, params: &[Param]) -> String {
    let types: Vec<&str> = params.iter().map(|p| p.ty.name()).collect();
    format!("{name}({})", types.join(","))
}

impl Function {
    /// The canonical signature, e.g. `transfer(address,u128)`.
    pub fn signature(&self) -> String {
        signature_of(&self.name, &self.params)
    }

    /// The 4-byte selector of the signature.
    pub fn selector(&self) -> [u8; 4] {
        super::selector(&self.signature())
    }

    /// Parameter types in order.
    pub fn param_types(&self) -> Vec<Type> {
        self.params.iter().map(|p| p.ty).collect()
    }
}

/// An event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Name.
    pub name: String,
    /// Fields in order (the event data is their Borsh encoding).
    pub fields: Vec<Param>,
}

impl Event {
    /// The canonical signature, e.g. `Transfer(address,address,u128)`.
    pub fn signature(&self) -> String {
        signature_of(&self.name, &self.fields)
    }

    /// The topic: keccak256 of the signature.
    pub fn topic(&self) -> [u8; 32] {
        super::topic(&self.signature())
    }
}

/// A parsed ABI description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Abi {
    /// Exported functions in order of appearance.
    pub functions: Vec<Function>,
    /// Events in order of appearance.
    pub events: Vec<Event>,
}

/// A malformed ABI description: the line (1-based) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbiError {
    /// 1-based line number (0 when not tied to a line).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "ABI description: {}", self.message)
        } else {
            write!(f, "ABI description, line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for AbiError {}

/// Tokens of one line: identifiers and the punctuation `( ) , ->`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Ident(&'a str),
    Punct(&'static str),
}

fn tokenize(line: &str) -> Result<Vec<Tok<'_>>, String> {
    let mut toks = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'(' || c == b')' || c == b',' {
            toks.push(Tok::Punct(match c {
                b'(' => "(",
                b')' => ")",
                _ => ",",
            }));
            i += 1;
        } else if line[i..].starts_with("->") {
            toks.push(Tok::Punct("->"));
            i += 2;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            toks.push(Tok::Ident(&line[start..i]));
        } else {
            let ch = line[i..].chars().next().unwrap_or('?');
            return Err(format!("unexpected character {ch:?} at column {}", i + 1));
        }
    }
    Ok(toks)
}

struct Cursor<'a> {
    toks: Vec<Tok<'a>>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn ident(&mut self, what: &str) -> Result<&'a str, String> {
        match self.next() {
            Some(Tok::Ident(s)) => Ok(s),
            Some(Tok::Punct(p)) => Err(format!("expected {what}, found {p:?}")),
            None => Err(format!("expected {what}, found the end of the line")),
        }
    }

    fn punct(&mut self, p: &'static str) -> Result<(), String> {
        match self.next() {
            Some(Tok::Punct(q)) if q == p => Ok(()),
            Some(Tok::Punct(q)) => Err(format!("expected {p:?}, found {q:?}")),
            Some(Tok::Ident(s)) => Err(format!("expected {p:?}, found {s:?}")),
            None => Err(format!("expected {p:?}, found the end of the line")),
        }
    }

    fn ty(&mut self) -> Result<Type, String> {
        let s = self.ident("a type")?;
        Type::parse(s).ok_or_else(|| {
            format!(
                "unknown type {s:?} (types: u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 bool bytes string address)"
            )
        })
    }

    /// `( TYPE [NAME], ... )`
    fn params(&mut self) -> Result<Vec<Param>, String> {
        self.punct("(")?;
        let mut params = Vec::new();
        if self.peek() == Some(&Tok::Punct(")")) {
            self.pos += 1;
            return Ok(params);
        }
        loop {
            let ty = self.ty()?;
            let name = match self.peek() {
                Some(Tok::Ident(n)) => {
                    if !is_name(n) {
                        return Err(format!("{n:?} is a reserved word, not a parameter name"));
                    }
                    let n = n.to_string();
                    self.pos += 1;
                    Some(n)
                }
                _ => None,
            };
            if let Some(n) = &name
                && params.iter().any(|p: &Param| p.name.as_deref() == Some(n))
            {
                return Err(format!("parameter name {n:?} is used twice"));
            }
            params.push(Param { ty, name });
            match self.next() {
                Some(Tok::Punct(",")) => {}
                Some(Tok::Punct(")")) => return Ok(params),
                Some(Tok::Punct(p)) => return Err(format!("expected \",\" or \")\", found {p:?}")),
                Some(Tok::Ident(s)) => {
                    return Err(format!("expected \",\" or \")\", found {s:?}"));
                }
                None => return Err("missing \")\"".into()),
            }
        }
    }

    fn end(&mut self) -> Result<(), String> {
        match self.next() {
            None => Ok(()),
            Some(Tok::Ident(s)) => Err(format!("unexpected {s:?} at the end of the line")),
            Some(Tok::Punct(p)) => Err(format!("unexpected {p:?} at the end of the line")),
        }
    }
}

fn is_name(s: &str) -> bool {
    Type::parse(s).is_none() && !matches!(s, "fn" | "event" | "view")
}

fn parse_line(line: &str, abi: &mut Abi) -> Result<(), String> {
    let mut c = Cursor {
        toks: tokenize(line)?,
        pos: 0,
    };
    match c.ident("\"fn\" or \"event\"")? {
        "fn" => {
            let name = c.ident("a function name")?;
            if !is_name(name) {
                return Err(format!("{name:?} is a reserved word, not a function name"));
            }
            let params = c.params()?;
            let mut ret = None;
            if c.peek() == Some(&Tok::Punct("->")) {
                c.pos += 1;
                ret = Some(c.ty()?);
            }
            let mut view = false;
            if c.peek() == Some(&Tok::Ident("view")) {
                c.pos += 1;
                view = true;
            }
            c.end()?;
            let f = Function {
                name: name.to_string(),
                params,
                ret,
                view,
            };
            if let Some(old) = abi
                .functions
                .iter()
                .find(|g| g.signature() == f.signature())
            {
                if *old == f {
                    return Ok(());
                }
                return Err(format!(
                    "function {} is declared twice, differently",
                    f.signature()
                ));
            }
            if let Some(old) = abi.functions.iter().find(|g| g.selector() == f.selector()) {
                return Err(format!(
                    "functions {} and {} have the same selector",
                    old.signature(),
                    f.signature()
                ));
            }
            abi.functions.push(f);
        }
        "event" => {
            let name = c.ident("an event name")?;
            if !is_name(name) {
                return Err(format!("{name:?} is a reserved word, not an event name"));
            }
            let fields = c.params()?;
            c.end()?;
            let e = Event {
                name: name.to_string(),
                fields,
            };
            if let Some(old) = abi.events.iter().find(|g| g.signature() == e.signature()) {
                if *old == e {
                    return Ok(());
                }
                return Err(format!(
                    "event {} is declared twice, differently",
                    e.signature()
                ));
            }
            abi.events.push(e);
        }
        other => return Err(format!("expected \"fn\" or \"event\", found {other:?}")),
    }
    Ok(())
}

impl Abi {
    /// Parses an ABI description.
    ///
    /// # Errors
    /// [`AbiError`] naming the first bad line.
    pub fn parse(text: &str) -> Result<Abi, AbiError> {
        let mut abi = Abi::default();
        for (i, line) in text.split(['\n', '\0']).enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            parse_line(line, &mut abi).map_err(|message| AbiError {
                line: i + 1,
                message,
            })?;
        }
        Ok(abi)
    }

    /// Parses the raw bytes of an ABI section (must be UTF-8).
    ///
    /// # Errors
    /// [`AbiError`] for non-UTF-8 bytes or a bad line.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Abi, AbiError> {
        let text = std::str::from_utf8(bytes).map_err(|e| AbiError {
            line: 0,
            message: format!("not UTF-8 (byte {})", e.valid_up_to()),
        })?;
        Abi::parse(text)
    }

    /// Functions named `name` (several when overloaded).
    pub fn functions_named(&self, name: &str) -> Vec<&Function> {
        self.functions.iter().filter(|f| f.name == name).collect()
    }

    /// The function with this selector.
    pub fn function_by_selector(&self, sel: [u8; 4]) -> Option<&Function> {
        self.functions.iter().find(|f| f.selector() == sel)
    }

    /// The event with this topic.
    pub fn event_by_topic(&self, topic: &[u8; 32]) -> Option<&Event> {
        self.events.iter().find(|e| &e.topic() == topic)
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fn {}(", self.name)?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(p.ty.name())?;
            if let Some(n) = &p.name {
                write!(f, " {n}")?;
            }
        }
        f.write_str(")")?;
        if let Some(r) = self.ret {
            write!(f, " -> {r}")?;
        }
        if self.view {
            f.write_str(" view")?;
        }
        Ok(())
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {}(", self.name)?;
        for (i, p) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(p.ty.name())?;
            if let Some(n) = &p.name {
                write!(f, " {n}")?;
            }
        }
        f.write_str(")")
    }
}

/// One line per function and event, parseable by [`Abi::parse`].
impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for func in &self.functions {
            writeln!(f, "{func}")?;
        }
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}
