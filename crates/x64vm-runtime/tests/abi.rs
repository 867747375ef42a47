//! The call ABI: selectors, Borsh, the ABI description parser, call lines.

use x64vm_runtime::abi::{
    self, Abi, CallError, Type, Value, decode, decode_one, encode, encode_call_line,
    parse_call_line, selector,
};
use x64vm_runtime::{address_of_name, hex};

const TOKEN: &str = "\
# token
fn transfer(address to, u128 amount) -> bool
fn balance_of(address who) -> u128 view
fn name() -> string view
fn set_flags(bool a, i8 b, i128 c, bytes d, u16 e)
event Transfer(address from, address to, u128 amount)
";

fn token() -> Abi {
    Abi::parse(TOKEN).unwrap()
}

#[test]
fn selectors_and_topics_are_keccak_of_the_signature() {
    // Well-known Ethereum values: the hash is the same function.
    assert_eq!(
        selector("transfer(address,uint256)"),
        [0xa9, 0x05, 0x9c, 0xbb]
    );
    assert_eq!(
        hex(&abi::topic("Transfer(address,address,uint256)")),
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    );
    let sel = selector("transfer(address,u128)");
    assert_eq!(
        sel,
        x64vm_runtime::crypto::keccak256(b"transfer(address,u128)")[..4]
    );
    assert_eq!(hex(&sel), "0xf33e6a74");
    let t = token();
    assert_eq!(t.functions[0].signature(), "transfer(address,u128)");
    assert_eq!(t.functions[0].selector(), sel);
    assert_eq!(t.events[0].signature(), "Transfer(address,address,u128)");
    assert_eq!(
        t.event_by_topic(&abi::topic("Transfer(address,address,u128)")),
        Some(&t.events[0])
    );
}

#[test]
fn named_accounts() {
    assert_eq!(
        address_of_name("alice"),
        x64vm_runtime::crypto::keccak256(b"x64vm:account:alice")
    );
    assert_ne!(address_of_name("alice"), address_of_name("bob"));
}

#[test]
fn borsh_round_trips_at_the_edges() {
    let values = vec![
        Value::Uint(8, 255),
        Value::Uint(16, 0),
        Value::Uint(32, u32::MAX as u128),
        Value::Uint(64, u64::MAX as u128),
        Value::Uint(128, u128::MAX),
        Value::Int(8, -128),
        Value::Int(16, i16::MAX as i128),
        Value::Int(32, -1),
        Value::Int(64, i64::MIN as i128),
        Value::Int(128, i128::MIN),
        Value::Bool(true),
        Value::Bool(false),
        Value::Bytes(vec![]),
        Value::Bytes(vec![0, 1, 2, 255]),
        Value::String(String::new()),
        Value::String("héllo \"x\"\n".into()),
        Value::Address(address_of_name("bob")),
    ];
    let types: Vec<Type> = values.iter().map(Value::ty).collect();
    let bytes = encode(&values);
    assert_eq!(decode(&types, &bytes).unwrap(), values);
    // Layout spot checks.
    assert_eq!(encode(&[Value::Uint(16, 0x1234)]), vec![0x34, 0x12]);
    assert_eq!(encode(&[Value::Int(8, -1)]), vec![0xff]);
    assert_eq!(encode(&[Value::Bytes(vec![9])]), vec![1, 0, 0, 0, 9]);
    assert_eq!(
        encode(&[Value::String("ab".into())]),
        vec![2, 0, 0, 0, b'a', b'b']
    );
    assert_eq!(encode(&[Value::Int(128, -2)]).len(), 16);
}

#[test]
fn borsh_rejects_bad_data() {
    use abi::DecodeError;
    assert!(matches!(
        decode(&[Type::Uint(64)], &[1, 2, 3]),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(matches!(
        decode(&[Type::Bool], &[2]),
        Err(DecodeError::BadBool { byte: 2, .. })
    ));
    assert!(matches!(
        decode(&[Type::String], &[2, 0, 0, 0, 0xff, 0xfe]),
        Err(DecodeError::BadUtf8 { .. })
    ));
    assert!(matches!(
        decode(&[Type::Uint(8)], &[1, 2]),
        Err(DecodeError::Trailing { extra: 1 })
    ));
    // A length prefix beyond the data (even u32::MAX) is a clean error.
    assert!(matches!(
        decode(&[Type::Bytes], &[0xff, 0xff, 0xff, 0xff, 1]),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(matches!(
        decode_one(Type::Address, &[0; 31]),
        Err(DecodeError::Truncated { .. })
    ));
    assert_eq!(
        decode_one(Type::Int(16), &[0xfe, 0xff]).unwrap(),
        Value::Int(16, -2)
    );
}

#[test]
fn the_abi_parser_accepts_the_documented_forms() {
    let text = "fn a()\0fn b(u8, u16 x) -> i64 view\n\n  # comment\r\nevent E()\nevent F(string s, bytes)\nfn a()\n";
    let abi = Abi::parse(text).unwrap();
    assert_eq!(
        abi.functions.len(),
        2,
        "a repeated identical line is kept once"
    );
    let b = &abi.functions[1];
    assert_eq!(b.signature(), "b(u8,u16)");
    assert_eq!(b.params[0].name, None);
    assert_eq!(b.params[1].name.as_deref(), Some("x"));
    assert_eq!(b.ret, Some(Type::Int(64)));
    assert!(b.view);
    assert_eq!(abi.events.len(), 2);
    assert_eq!(abi.events[1].signature(), "F(string,bytes)");
    // Display is parseable and round trips.
    assert_eq!(Abi::parse(&abi.to_string()).unwrap(), abi);
    assert_eq!(
        token().functions[3].to_string(),
        "fn set_flags(bool a, i8 b, i128 c, bytes d, u16 e)"
    );
    assert_eq!(Abi::parse("").unwrap(), Abi::default());
}

#[test]
fn the_abi_parser_rejects_malformed_lines_clearly() {
    let cases: &[(&str, &str)] = &[
        ("fn", "expected a function name"),
        ("fn f", "expected \"(\""),
        ("fn f(", "expected a type"),
        ("fn f(u8", "missing \")\""),
        ("fn f(u8 x y)", "expected \",\" or \")\""),
        ("fn f(uint x)", "unknown type \"uint\""),
        ("fn f() ->", "expected a type"),
        ("fn f() -> u8 view extra", "unexpected \"extra\""),
        ("fn f() view -> u8", "unexpected \"->\""),
        ("func f()", "expected \"fn\" or \"event\""),
        ("fn u8()", "reserved word"),
        ("fn f(u8 u16)", "reserved word"),
        ("fn f(u8 x, u8 x)", "used twice"),
        ("fn f(u8 x,)", "expected a type"),
        ("fn f(u8 x) ; ", "unexpected character ';'"),
        ("event E() -> u8", "unexpected \"->\""),
        ("fn f(u8)\nfn f(u8) -> u8", "declared twice"),
        ("event E(u8)\nevent E(u8 x)", "declared twice"),
    ];
    for (text, needle) in cases {
        let e = Abi::parse(text).unwrap_err();
        assert!(
            e.to_string().contains(needle),
            "{text:?}: {e} (expected {needle:?})"
        );
    }
    let e = Abi::parse("fn ok()\n\nfn bad(").unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.to_string().starts_with("ABI description, line 3:"), "{e}");
    let e = Abi::parse_bytes(b"fn a()\n\xff").unwrap_err();
    assert!(e.to_string().contains("not UTF-8"), "{e}");
}

#[test]
fn call_lines_encode_with_the_abi() {
    let t = token();
    let c = encode_call_line(r#"transfer("bob", 100)"#, Some(&t)).unwrap();
    let mut expected = selector("transfer(address,u128)").to_vec();
    expected.extend_from_slice(&address_of_name("bob"));
    expected.extend_from_slice(&100u128.to_le_bytes());
    assert_eq!(c.input, expected);
    assert_eq!(c.function.ret, Some(Type::Bool));
    // Hex addresses, hex and negative integers, '_' separators, escapes.
    let addr = hex(&[0xab; 32]);
    let (_, v) = parse_call_line(&format!("transfer({addr}, 0x_ff)"), Some(&t)).unwrap();
    assert_eq!(v, vec![Value::Address([0xab; 32]), Value::Uint(128, 255)]);
    let (_, v) = parse_call_line(
        "set_flags(true, -128, -170141183460469231731687303715884105728, 0x00ff, 1_000)",
        Some(&t),
    )
    .unwrap();
    assert_eq!(
        v,
        vec![
            Value::Bool(true),
            Value::Int(8, -128),
            Value::Int(128, i128::MIN),
            Value::Bytes(vec![0, 0xff]),
            Value::Uint(16, 1000),
        ]
    );
    let (_, v) = parse_call_line(
        "set_flags(false, 127, 0x7fffffffffffffffffffffffffffffff, 0x, 65535)",
        Some(&t),
    )
    .unwrap();
    assert_eq!(v[2], Value::Int(128, i128::MAX));
    assert_eq!(v[3], Value::Bytes(vec![]));
    let s = Abi::parse("fn f(string s)").unwrap();
    let (_, v) = parse_call_line(r#"f("a\"b\\c\n\t\r\0\x41\u{e9}\u{1F600}")"#, Some(&s)).unwrap();
    assert_eq!(
        v,
        vec![Value::String("a\"b\\c\n\t\r\0A\u{e9}\u{1F600}".into())]
    );
    let (_, v) = parse_call_line("  f ( \"ünï\" )  ", Some(&s)).unwrap();
    assert_eq!(v, vec![Value::String("ünï".into())]);
    let (_, v) = parse_call_line("name()", Some(&t)).unwrap();
    assert!(v.is_empty());
}

#[test]
fn typed_signatures_work_without_an_abi() {
    let c = encode_call_line(r#"transfer(address,u128)("bob", 100)"#, None).unwrap();
    assert_eq!(
        c.input,
        encode_call_line(r#"transfer("bob", 100)"#, Some(&token()))
            .unwrap()
            .input
    );
    assert_eq!(c.function.ret, None);
    let c = encode_call_line(r#"balance_of(address) -> u128 ("bob")"#, None).unwrap();
    assert_eq!(c.function.ret, Some(Type::Uint(128)));
    let c = encode_call_line("ping()()", None).unwrap();
    assert_eq!(c.input, selector("ping()").to_vec());
    let c = encode_call_line("ping() -> bool ()", None).unwrap();
    assert_eq!(c.function.ret, Some(Type::Bool));
    // With an ABI the typed form picks up names and the return type.
    let c = encode_call_line(r#"transfer(address,u128)("bob", 1)"#, Some(&token())).unwrap();
    assert_eq!(c.function.ret, Some(Type::Bool));
    assert_eq!(c.function.params[0].name.as_deref(), Some("to"));
    // Without an ABI, the plain form cannot be resolved.
    let e = encode_call_line("transfer(1)", None).unwrap_err();
    assert!(matches!(e, CallError::NoAbi { .. }));
    assert!(e.to_string().contains("write the signature"), "{e}");
}

#[test]
fn bad_call_lines_are_clear_errors() {
    let t = token();
    let cases: &[(&str, &str)] = &[
        ("", "empty call line"),
        ("   ", "empty call line"),
        ("transfer", "expected \"(\" after the function name"),
        ("transfer(\"bob\", 1", "missing \")\""),
        ("transfer(\"bob\" 1)", "expected \",\" or \")\""),
        ("transfer(\"bob\",, 1)", "expected a value"),
        ("transfer(\"bob\", 1,)", "expected a value"),
        (
            "transfer(\"bob\", 1) x",
            "unexpected the word x after the arguments",
        ),
        ("transfer(\"bob, 1)", "unterminated string"),
        ("transfer(\"b\\q\", 1)", "unknown escape \\q"),
        ("transfer(\"b\\x\", 1)", "\\x takes two hex digits"),
        ("transfer(\"b\\u{110000}\", 1)", "is not a character"),
        ("transfer(\"bob\", 1) ;", "unexpected character ';'"),
        ("transfer(@)", "unexpected character '@'"),
        ("transfer(\"bob\", -)", "'-' must be followed by digits"),
        ("42(1)", "expected a function name"),
        (
            "mint(1)",
            "unknown function \"mint\"; the contract has: transfer(address,u128)",
        ),
        (
            "transfer(\"bob\")",
            "transfer(address,u128) takes 2 arguments, 1 given",
        ),
        ("name(1)", "name() takes 0 arguments, 1 given"),
        (
            "transfer(\"bob\", \"100\")",
            "argument 2 (amount) must be an integer (u128), found the string \"100\"",
        ),
        ("transfer(bob, 100)", "argument 1 (to) must be an address"),
        ("transfer(0x1234, 100)", "4 hex digits (an address has 64)"),
        ("transfer(\"\", 100)", "an empty account name"),
        (
            "transfer(\"bob\", -1)",
            "argument 2 (amount) = -1 is out of range for u128",
        ),
        (
            "transfer(\"bob\", 340282366920938463463374607431768211456)",
            "out of range for u128",
        ),
        (
            "transfer(\"bob\", 0x1_00000000_00000000_00000000_00000000)",
            "out of range for u128",
        ),
        ("transfer(\"bob\", 12ab)", "the malformed number 12ab"),
        ("transfer(\"bob\", 0x)", "the malformed number 0x"),
        ("transfer(\"bob\", 0xfg)", "the malformed number 0xfg"),
        ("transfer(\"bob\", true)", "found true"),
        (
            "set_flags(1, 0, 0, 0x, 0)",
            "argument 1 (a) must be true or false, found the number 1",
        ),
        (
            "set_flags(true, 128, 0, 0x, 0)",
            "argument 2 (b) = 128 is out of range for i8",
        ),
        (
            "set_flags(true, -129, 0, 0x, 0)",
            "= -129 is out of range for i8",
        ),
        (
            "set_flags(true, 0, 170141183460469231731687303715884105728, 0x, 0)",
            "out of range for i128",
        ),
        (
            "set_flags(true, 0, 0, 0x123, 0)",
            "the malformed number 0x123",
        ),
        (
            "set_flags(true, 0, 0, \"x\", 0)",
            "must be bytes written 0x",
        ),
        (
            "set_flags(true, 0, 0, 0x, 65536)",
            "65536 is out of range for u16",
        ),
        ("transfer(address,u128", "missing \")\""),
        (
            "transfer(address,u128)(\"bob\")",
            "takes 2 arguments, 1 given",
        ),
        (
            "transfer(address,uint)(\"bob\", 1)",
            "expected a type in the signature",
        ),
        ("transfer(address) -> (\"bob\")", "expected a return type"),
        (
            "transfer(address) -> x (\"bob\")",
            "unknown return type \"x\"",
        ),
        (
            "transfer(address)(\"bob\")(1)",
            "unexpected \"(\" after the arguments",
        ),
    ];
    for (line, needle) in cases {
        let e = encode_call_line(line, Some(&t)).unwrap_err();
        assert!(
            e.to_string().contains(needle),
            "{line:?}: {e} (expected {needle:?})"
        );
    }
    // Columns point at the problem.
    match encode_call_line("transfer(\"bob\", 1) ;", Some(&t)).unwrap_err() {
        CallError::Syntax { column, .. } => assert_eq!(column, 20),
        e => panic!("{e:?}"),
    }
    // Overloads resolve by arity, else ask for the signature.
    let o = Abi::parse("fn f(u8)\nfn f(u16)\nfn f(u8, u8)").unwrap();
    assert_eq!(
        parse_call_line("f(1, 2)", Some(&o)).unwrap().0.signature(),
        "f(u8,u8)"
    );
    let e = parse_call_line("f(1)", Some(&o)).unwrap_err();
    assert!(matches!(e, CallError::Ambiguous { .. }), "{e}");
    assert_eq!(
        parse_call_line("f(u16)(1)", Some(&o))
            .unwrap()
            .0
            .signature(),
        "f(u16)"
    );
}

#[test]
fn outputs_and_events_display_as_call_line_values() {
    let t = token();
    let transfer = &t.events[0];
    let data = encode(&[
        Value::Address([1; 32]),
        Value::Address([2; 32]),
        Value::Uint(128, 100),
    ]);
    assert_eq!(
        abi::display_event(transfer, &data).unwrap(),
        format!(
            "Transfer(from: {}, to: {}, amount: 100)",
            hex(&[1; 32]),
            hex(&[2; 32])
        )
    );
    assert_eq!(abi::display_event(transfer, &data[1..]), None);
    let name = &t.functions[2];
    let out = encode(&[Value::String("Tok \"en\"".into())]);
    assert_eq!(abi::display_output(name, &out).unwrap(), r#""Tok \"en\"""#);
    assert_eq!(Value::Int(32, -5).to_string(), "-5");
    assert_eq!(Value::Bytes(vec![0xab]).to_string(), "0xab");
}

/// A small deterministic generator (xorshift), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Mutations of valid inputs: every prefix, and random insertions, deletions
/// and replacements drawn from characters that matter to the grammars.
fn mutants(seeds: &[&str], rng: &mut Rng) -> Vec<String> {
    const ALPHABET: &[char] = &[
        '(', ')', ',', '"', '\\', '-', '>', '0', 'x', '9', 'f', 'u', '{', '}', ' ', '\n', '\0',
        '#', 'é', '😀', 'a', '_',
    ];
    let mut out = Vec::new();
    for seed in seeds {
        let chars: Vec<char> = seed.chars().collect();
        for i in 0..=chars.len() {
            out.push(chars[..i].iter().collect());
        }
        for _ in 0..300 {
            let mut c = chars.clone();
            for _ in 0..1 + rng.below(3) {
                let pos = rng.below(c.len() + 1);
                let ch = ALPHABET[rng.below(ALPHABET.len())];
                match rng.below(3) {
                    0 => c.insert(pos, ch),
                    1 if pos < c.len() => {
                        c.remove(pos);
                    }
                    _ if pos < c.len() => c[pos] = ch,
                    _ => c.push(ch),
                }
            }
            out.push(c.into_iter().collect());
        }
    }
    out
}

#[test]
fn parsers_never_panic_on_mangled_input() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let t = token();
    let lines = [
        r#"transfer("bob", 100)"#,
        r#"transfer(address,u128) -> bool ("b\u{e9}\x41", 0x_ff)"#,
        "set_flags(true, -128, -0x10, 0x00ff, 1_000)",
    ];
    for line in mutants(&lines, &mut rng) {
        let _ = encode_call_line(&line, Some(&t));
        let _ = encode_call_line(&line, None);
    }
    for text in mutants(&[TOKEN], &mut rng) {
        if let Ok(abi) = Abi::parse(&text) {
            // Whatever parses displays as text that parses to the same ABI.
            assert_eq!(Abi::parse(&abi.to_string()).as_ref(), Ok(&abi), "{text:?}");
        }
    }
    let types = [
        Type::Uint(8),
        Type::Int(128),
        Type::Bool,
        Type::Bytes,
        Type::String,
        Type::Address,
    ];
    for _ in 0..2000 {
        let len = rng.below(48);
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let k = 1 + rng.below(3);
        let tys: Vec<Type> = (0..k).map(|_| types[rng.below(types.len())]).collect();
        if let Ok(values) = decode(&tys, &data) {
            assert_eq!(encode(&values), data, "decode then encode is the identity");
        }
    }
}
