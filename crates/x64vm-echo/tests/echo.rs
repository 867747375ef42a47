//! The three real Echo contracts (`shared/echo/contracts.json`, with a copy in
//! `tests/data/` so the tests do not depend on `shared/`), run with the Echo host.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use x64vm::{Config, Image, LoadError};
use x64vm_echo::{EchoContext, EchoOutcome, EchoValue, call, echo_config, load_echo, parse_echo};

struct Contract {
    code: Vec<u8>,
    calls: Vec<String>,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

fn parse_contracts(text: &str) -> BTreeMap<String, Contract> {
    let json: serde_json::Value = serde_json::from_str(text).expect("contracts.json is JSON");
    let obj = json.as_object().expect("an object of contracts");
    obj.iter()
        .map(|(name, c)| {
            let code = hex(c["code"].as_str().expect("code is a hex string"));
            let calls = c
                .get("calls")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            (name.clone(), Contract { code, calls })
        })
        .collect()
}

/// The contracts: from `shared/echo/` when it is there, else the fixture copy.
fn contracts() -> &'static BTreeMap<String, Contract> {
    static C: OnceLock<BTreeMap<String, Contract>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = dir.join("../../../shared/echo/contracts.json");
        let fixture = dir.join("tests/data/contracts.json");
        let path = if shared.exists() { shared } else { fixture };
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        parse_contracts(&text)
    })
}

fn contract(name: &str) -> &'static Contract {
    contracts()
        .get(name)
        .unwrap_or_else(|| panic!("no contract {name}"))
}

fn image(name: &str) -> Image {
    load_echo(&contract(name).code).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn run(name: &str, line: &str) -> EchoOutcome {
    run_with(name, line, &EchoContext::default(), &echo_config())
}

fn run_with(name: &str, line: &str, ctx: &EchoContext, config: &Config) -> EchoOutcome {
    let img = image(name);
    let a = call(&img, line, ctx, config).unwrap_or_else(|e| panic!("{name} {line}: {e}"));
    // Every call is deterministic: a second run agrees in everything.
    let b = call(&img, line, ctx, config).unwrap_or_else(|e| panic!("{name} {line}: {e}"));
    assert_eq!(a, b, "{name} {line}: two runs differ");
    a
}

fn fib_reference(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}

#[test]
fn the_fixture_copy_matches_shared() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = dir.join("../../../shared/echo/contracts.json");
    let Ok(shared) = std::fs::read_to_string(&shared) else {
        eprintln!("shared/echo/contracts.json not present: nothing to compare");
        return;
    };
    let fixture = std::fs::read_to_string(dir.join("tests/data/contracts.json")).unwrap();
    let (s, f) = (parse_contracts(&shared), parse_contracts(&fixture));
    assert_eq!(s.keys().collect::<Vec<_>>(), f.keys().collect::<Vec<_>>());
    for (name, c) in &s {
        assert_eq!(c.code, f[name].code, "{name}");
    }
}

#[test]
fn the_layout_matches_the_bytes() {
    // Sizes as the README gives them, and the parsed structure.
    assert_eq!(contract("fib").code.len(), 461);
    assert_eq!(contract("contract_x86").code.len(), 5089);
    assert_eq!(contract("wrong_contract").code.len(), 1821);
    let fib = parse_echo(&contract("fib").code).unwrap();
    assert_eq!(fib.entry, 0x401078);
    assert_eq!(
        fib.sections
            .iter()
            .map(|s| (s.kind, s.flags, s.vaddr))
            .collect::<Vec<_>>(),
        vec![(1, 0x06, 0x401000), (6, 0x32, 0x402000)]
    );
    assert_eq!(fib.symbols.len(), 13);
    assert_eq!(fib.image_end(), 0x403008, "_end of fib");
    let wrong = parse_echo(&contract("wrong_contract").code).unwrap();
    assert_eq!(
        wrong
            .sections
            .iter()
            .map(|s| (s.kind, s.flags))
            .collect::<Vec<_>>(),
        vec![(1, 0x06), (2, 0x05), (3, 0x05)]
    );
    assert!(wrong.symbols.is_empty());
    let x86 = parse_echo(&contract("contract_x86").code).unwrap();
    assert_eq!(x86.image_end(), 0x602000, "_end of contract_x86");
}

#[test]
fn fib_small_values() {
    let o = run("fib", "fib(1)");
    assert_eq!(o.error, "none", "{o:?}");
    assert_eq!(o.result, Some(EchoValue::U64(1)));
    assert_eq!(o.output, 1u64.to_le_bytes());
    let o = run("fib", "fib(25)");
    assert_eq!(o.error, "none", "{o:?}");
    assert_eq!(o.result, Some(EchoValue::U64(75025)));
    assert_eq!(o.output, 75025u64.to_le_bytes());
    assert!(o.gas_used > 0);
    for n in 0..=20 {
        let o = run("fib", &format!("fib({n})"));
        assert_eq!(o.result, Some(EchoValue::U64(fib_reference(n))), "fib({n})");
    }
}

#[test]
fn fib_is_recursive_so_huge_inputs_run_out_of_gas() {
    // The contract's fib is gcc's recursive fib (the second call turned into a
    // loop): exponential time, so fib(1000) cannot finish. It must end with
    // out_of_gas, never hang; fib(1000000) first recurses a million frames deep
    // (48 MB of stack, within the profile's 64 MiB) and then runs out of gas too.
    let config = Config {
        gas_limit: 50_000_000,
        ..echo_config()
    };
    for line in &contract("fib").calls {
        let o = run_with("fib", line, &EchoContext::default(), &config);
        match line.as_str() {
            "fib(1)" => assert_eq!(o.result, Some(EchoValue::U64(1))),
            _ => {
                assert_eq!(o.error, "out_of_gas", "{line}: {o:?}");
                assert_eq!(o.gas_used, config.gas_limit, "{line}");
                assert_eq!(o.result, None);
            }
        }
    }
}

#[test]
fn fib_deeper_than_the_stack_ends_with_a_stack_overflow() {
    // Beyond ~1.4 million frames the 64 MiB stack overflows first: the call ends
    // (quickly) with memory_invalid_access, as it would on a real machine.
    let o = run("fib", "fib(100000000)");
    assert_eq!(o.error, "memory_invalid_access", "{o:?}");
    assert!(o.message.unwrap().contains("stack_overflow"));
    assert!(o.gas_used < echo_config().gas_limit);
}

#[test]
fn fib_with_bad_parameters() {
    // Malformed lines never run.
    for line in ["fib(25", "fib 25", "fib(25,)", "fib(x)"] {
        let o = run("fib", line);
        assert_eq!(o.error, "incorrect_parameters", "{line}");
        assert_eq!(o.gas_used, 0);
    }
    // Well-formed but unusable: the contract asks for a u64 and gets none (it then
    // returns nothing), as the original contract code handles it.
    for line in ["fib()", "fib(-1)", "fib(\"25\")", "fib(true)"] {
        let o = run("fib", line);
        assert_eq!(o.error, "none", "{line}");
        assert_eq!(o.result, None, "{line}");
    }
    // Another function name: nothing matches, nothing is returned.
    let o = run("fib", "fob(25)");
    assert_eq!((o.error, o.result), ("none", None));
}

#[test]
fn contract_x86_greet_and_block_number() {
    let o = run("contract_x86", "greet()");
    assert_eq!(o.error, "none", "{o:?}");
    assert_eq!(
        o.result,
        Some(EchoValue::String(b"Hello World from x86-64!!!".to_vec()))
    );
    assert_eq!(o.output, b"Hello World from x86-64!!!");
    for block in [0u32, 1, 12345, u32::MAX] {
        let ctx = EchoContext {
            block_number: block,
            ..EchoContext::default()
        };
        let o = run_with("contract_x86", "block_number()", &ctx, &echo_config());
        assert_eq!(o.error, "none", "{o:?}");
        assert_eq!(o.result, Some(EchoValue::U32(block)));
    }
}

#[test]
fn contract_x86_get_balance_and_missing_functions() {
    let mut ctx = EchoContext::default();
    ctx.balances
        .insert(("1.2.10".into(), "1.3.0".into()), 1_000_000);
    let o = run_with(
        "contract_x86",
        r#"get_balance("1.2.10", "1.3.0")"#,
        &ctx,
        &echo_config(),
    );
    assert_eq!(o.error, "none", "{o:?}");
    assert_eq!(o.result, Some(EchoValue::I64(1_000_000)));
    let o = run_with(
        "contract_x86",
        r#"get_balance("1.2.11", "1.3.0")"#,
        &ctx,
        &echo_config(),
    );
    assert_eq!(o.result, Some(EchoValue::I64(0)));
    // The call listed in contracts.json names a function the contract does not
    // export: it aborts with its own message.
    for line in &contract("contract_x86").calls {
        let o = run("contract_x86", line);
        assert_eq!(o.error, "aborted", "{line}: {o:?}");
        assert_eq!(
            o.message.as_deref(),
            Some("The called function is missing.")
        );
    }
}

#[test]
fn contract_x86_constructor_call() {
    let ctx = EchoContext {
        is_constructor: true,
        ..EchoContext::default()
    };
    let o = run_with("contract_x86", "greet()", &ctx, &echo_config());
    assert_eq!(o.error, "none", "{o:?}");
}

#[test]
fn wrong_contract_call_lines() {
    let o = run("wrong_contract", r#"get_balance("1.2.10", "1.3.0""#);
    assert_eq!(o.error, "incorrect_parameters", "{o:?}");
    assert!(o.message.unwrap().contains("missing `)`"));

    let mut ctx = EchoContext::default();
    ctx.balances.insert(("1.2.10".into(), "1.3.0".into()), -42);
    let o = run_with(
        "wrong_contract",
        r#"get_balance("1.2.10", "1.3.0")"#,
        &ctx,
        &echo_config(),
    );
    assert_eq!(o.error, "none", "{o:?}");
    assert_eq!(o.result, Some(EchoValue::I64(-42)));

    let o = run("wrong_contract", r#"greet("1.2.10", "1.3.0")"#);
    assert_eq!(o.error, "none", "{o:?}");
    assert_eq!(
        o.result,
        Some(EchoValue::String(b"Hello World from x86-64!!!".to_vec()))
    );

    let ctx = EchoContext {
        block_number: 777,
        ..EchoContext::default()
    };
    let o = run_with("wrong_contract", "block_number()", &ctx, &echo_config());
    assert_eq!(o.result, Some(EchoValue::U32(777)));
}

/// A small deterministic generator for the mutation sweep.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn truncated_and_mutated_echo_files_never_panic() {
    let config = Config {
        gas_limit: 200_000,
        ..echo_config()
    };
    let (mut loaded, mut rejected) = (0, 0);
    for name in ["fib", "contract_x86", "wrong_contract"] {
        let base = &contract(name).code;
        for len in 0..base.len() {
            assert!(load_echo(&base[..len]).is_err(), "{name} cut at {len}");
        }
        let mut extra = base.clone();
        extra.push(0);
        assert!(matches!(load_echo(&extra), Err(LoadError::Malformed(_))));
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ base.len() as u64);
        for _ in 0..1500 {
            let mut m = base.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len());
                match rng.below(3) {
                    0 => m[i] ^= 1 << rng.below(8),
                    1 => m[i] = rng.next() as u8,
                    _ => {
                        // Header-ish fields: the counts and sizes.
                        let i = rng.below(m.len().min(64));
                        m[i] = [0, 0xff, 0x7f, 0x80][rng.below(4)];
                    }
                }
            }
            match load_echo(&m) {
                Ok(img) => {
                    loaded += 1;
                    let line = ["fib(5)", "greet()", "block_number()"][rng.below(3)];
                    let _ = call(&img, line, &EchoContext::default(), &config);
                }
                Err(_) => rejected += 1,
            }
        }
    }
    eprintln!("mutants: {loaded} loaded and ran, {rejected} rejected");
    assert!(loaded > 0 && rejected > 0);
}

#[test]
fn format_md_lists_every_echo_service() {
    use x64vm_echo::host::service::*;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/format.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    for n in [
        ALLOC,
        FREE,
        MEMCPY,
        MEMCMP,
        MEMSET,
        GET_BALANCE,
        BLOCK_NUMBER,
        CONTRACT_ID,
        IS_CONSTRUCTOR,
        ABORT,
        FUNCTION_NAME,
    ] {
        let row = format!("\n| {n:#04x} |");
        assert!(
            doc.contains(&row),
            "docs/format.md lacks the row of int {n:#04x}"
        );
    }
    for row in [
        format!("\n| {READ_PARAM:#04x} + k |"),
        format!("\n| {SET_RETURN:#04x} + k |"),
    ] {
        assert!(doc.contains(&row), "docs/format.md lacks {row:?}");
    }
}
