//! The C and C++ example contracts (`examples/*/c`, `examples/*/cpp`) and the C
//! SDK's test contracts (`sdk/c/tests`), built at test time from source with gcc
//! and g++ through the documented rules of `sdk/c/contract.mk`, deployed on the
//! in-memory [`TestChain`]: results, storage effects, events, reverts,
//! out-of-gas, nested calls and their rollback, and identical receipts (gas
//! included) across two runs. Also: the header's host-call table against the
//! `x64vm-abi` crate, every optimisation level, the C++ standard containers in
//! a freestanding contract, and a C++ contract using the whole standard
//! library under the Linux profile.
//!
//! The C and C++ versions of an example share one ABI, storage layout, event set
//! and revert messages (with each other and with `examples/*/rust`), so every
//! scenario runs against both builds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use x64vm_runtime::abi::{Abi, selector, topic};
use x64vm_runtime::code::Code;
use x64vm_runtime::{Address, Receipt, ReceiptStatus, TestChain, address_of_name};

const GAS: u64 = 10_000_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The two SDK languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    C,
    Cpp,
}

impl Lang {
    fn dir(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Cpp => "cpp",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Cpp => "cpp",
        }
    }
}

/// A contract source, relative to the workspace root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Src {
    /// e.g. `examples/token/c/token.c`.
    path: &'static str,
}

fn example(name: &str, lang: Lang) -> Src {
    const ALL: [(&str, &str); 8] = [
        ("fib-c", "examples/fib/c/fib.c"),
        ("fib-cpp", "examples/fib/cpp/fib.cpp"),
        ("counter-c", "examples/counter/c/counter.c"),
        ("counter-cpp", "examples/counter/cpp/counter.cpp"),
        ("token-c", "examples/token/c/token.c"),
        ("token-cpp", "examples/token/cpp/token.cpp"),
        ("escrow-c", "examples/escrow/c/escrow.c"),
        ("escrow-cpp", "examples/escrow/cpp/escrow.cpp"),
    ];
    let key = format!("{name}-{}", lang.ext());
    let path = ALL
        .iter()
        .find(|(k, _)| *k == key)
        .unwrap_or_else(|| panic!("no example {key}"))
        .1;
    assert!(path.ends_with(lang.ext()) && path.contains(&format!("/{}/", lang.dir())));
    Src { path }
}

const PROBE_C: Src = Src {
    path: "sdk/c/tests/probe.c",
};
const PROBE_CPP: Src = Src {
    path: "sdk/c/tests/probe.cpp",
};

/// Every freestanding source, built together at -O2.
fn all_sources() -> Vec<Src> {
    let mut v = Vec::new();
    for name in ["fib", "counter", "token", "escrow"] {
        v.push(example(name, Lang::C));
        v.push(example(name, Lang::Cpp));
    }
    v.push(PROBE_C);
    v.push(PROBE_CPP);
    v
}

/// Builds `sources` with `make -f sdk/c/contract.mk` (its `%.elf: %.c` and
/// `%.elf: %.cpp` rules, i.e. exactly the documented flags) at optimisation
/// level `opt`, in a scratch directory where each source is linked in.
fn make(sources: &[Src], opt: &str) -> Result<HashMap<Src, Vec<u8>>, String> {
    make_with(sources, opt, &[format!("X64VM_OPT={opt}")])
}

/// As [`make`], with other `contract.mk` variables set (`label` names the
/// scratch directory).
fn make_with(
    sources: &[Src],
    label: &str,
    vars: &[String],
) -> Result<HashMap<Src, Vec<u8>>, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("c-contracts")
        .join(format!("{}{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut targets = Vec::new();
    for s in sources {
        let src = root().join(s.path);
        // sdk/c/tests/probe.cpp -> sdk_c_tests_probe_cpp.cpp -> sdk_c_tests_probe_cpp.elf
        let (stem, ext) = s.path.rsplit_once('.').expect("a source file name");
        let stem = format!("{}_{ext}", stem.replace('/', "_"));
        let link = dir.join(format!("{stem}.{ext}"));
        std::os::unix::fs::symlink(&src, &link).map_err(|e| format!("{}: {e}", link.display()))?;
        targets.push(dir.join(format!("{stem}.elf")));
    }
    let out = Command::new("make")
        .arg("-s")
        .arg("-j2")
        .arg("-f")
        .arg(root().join("sdk/c/contract.mk"))
        .args(vars)
        .args(&targets)
        .output()
        .map_err(|e| format!("`make` could not be run (it drives gcc/g++ here): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the C/C++ contracts failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut built = HashMap::new();
    for (s, t) in sources.iter().zip(&targets) {
        let bytes = std::fs::read(t).map_err(|e| format!("{}: {e}", t.display()))?;
        built.insert(*s, bytes);
    }
    Ok(built)
}

/// The -O2 ELF of one source (everything is built once per test binary).
fn elf_of(src: Src) -> &'static [u8] {
    static BUILT: OnceLock<Result<HashMap<Src, Vec<u8>>, String>> = OnceLock::new();
    match BUILT.get_or_init(|| make(&all_sources(), "-O2")) {
        Ok(all) => &all[&src],
        Err(e) => panic!("{e}"),
    }
}

fn elf(name: &str, lang: Lang) -> &'static [u8] {
    elf_of(example(name, lang))
}

fn hx(b: &[u8]) -> String {
    x64vm_runtime::hex(b)
}

fn addr(name: &str) -> Address {
    address_of_name(name)
}

fn u128_le(v: u128) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// `name ‖ 0x00 ‖ fields`: a map entry's storage key.
fn map_key(name: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut k = name.as_bytes().to_vec();
    k.push(0);
    for f in fields {
        k.extend_from_slice(f);
    }
    k
}

#[track_caller]
fn ok(r: &Receipt) {
    assert!(r.status.is_success(), "expected success:\n{r}");
}

#[track_caller]
fn reverted(r: &Receipt, message: &str) {
    assert_eq!(
        r.status,
        ReceiptStatus::Reverted(message.into()),
        "expected a revert with {message:?}:\n{r}"
    );
    assert!(r.events.is_empty(), "a reverted call logs nothing:\n{r}");
}

#[track_caller]
fn failed(r: &Receipt, kind: &str) {
    assert_eq!(r.status.name(), kind, "expected {kind}:\n{r}");
}

/// The decoded return value of a successful call.
#[track_caller]
fn out(r: &Receipt) -> &str {
    ok(r);
    r.decoded_output.as_deref().unwrap_or("<no decoded output>")
}

/// The payload of a `bytes` output.
#[track_caller]
fn out_bytes(r: &Receipt) -> Vec<u8> {
    ok(r);
    assert!(r.output.len() >= 4, "{r}");
    let n = u32::from_le_bytes(r.output[..4].try_into().unwrap()) as usize;
    assert_eq!(r.output.len(), 4 + n, "{r}");
    r.output[4..].to_vec()
}

/// Runs `scenario` on two fresh chains: every receipt (status, gas, output,
/// events, debug) and the final state must be identical.
fn twice(scenario: impl Fn(&mut TestChain) -> Vec<Receipt>) -> Vec<Receipt> {
    let mut a = TestChain::new();
    let mut b = TestChain::new();
    let ra = scenario(&mut a);
    let rb = scenario(&mut b);
    assert_eq!(ra.len(), rb.len());
    for (i, (x, y)) in ra.iter().zip(&rb).enumerate() {
        assert_eq!(x, y, "receipt {i} differs between two runs:\n{x}\n{y}");
    }
    assert_eq!(a.state(), b.state(), "final states differ");
    ra
}

/// What must agree between the C and the C++ build of one example: everything
/// but the gas (and where in the code a trap happened).
fn observable(rs: &[Receipt]) -> Vec<String> {
    rs.iter()
        .map(|r| {
            let status = match &r.status {
                ReceiptStatus::Failed { kind, .. } => kind.clone(),
                s => s.to_string(),
            };
            format!(
                "{status} {:?} {:?} {:?}",
                r.output, r.decoded_output, r.events
            )
        })
        .collect()
}

/// Defines `#[test] fn NAME_c()` and `NAME_cpp()` running `NAME(Lang)`.
macro_rules! both {
    ($($name:ident => $c:ident, $cpp:ident;)*) => {$(
        #[test]
        fn $c() {
            $name(Lang::C);
        }
        #[test]
        fn $cpp() {
            $name(Lang::Cpp);
        }
    )*};
}

// ------------------------------------------------------------ the header

/// The service numbers, wrappers and limits of `x64vm.h` agree with the
/// `x64vm-abi` crate (which docs/abi.md is checked against).
#[test]
fn header_agrees_with_the_abi_crate() {
    let text = std::fs::read_to_string(root().join("sdk/c/include/x64vm.h")).expect("x64vm.h");
    let mut defines = HashMap::new();
    let mut wrappers = HashMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["#define", name, value] = words[..]
            && let Some(svc) = name.strip_prefix("X64VM_SVC_")
        {
            let v = u8::from_str_radix(value.trim_start_matches("0x"), 16)
                .unwrap_or_else(|_| panic!("{line}"));
            assert!(defines.insert(svc.to_lowercase(), v).is_none(), "{line}");
        }
        // X64VM__HCn(name, X64VM_SVC_NAME)
        if let Some(rest) = line.strip_prefix("X64VM__HC") {
            let (arity, rest) = rest.split_once('(').expect(line);
            let (name, number) = rest.trim_end_matches(')').split_once(", ").expect(line);
            let arity: usize = arity.parse().expect(line);
            assert_eq!(
                number,
                format!("X64VM_SVC_{}", name.to_uppercase()),
                "wrapper x64vm_hc_{name} uses another service's number"
            );
            assert!(wrappers.insert(name.to_string(), arity).is_none(), "{line}");
        }
    }
    let services: Vec<_> = x64vm_abi::CORE_SERVICES
        .iter()
        .chain(x64vm_abi::CHAIN_SERVICES)
        .collect();
    for s in &services {
        assert_eq!(
            defines.get(s.name),
            Some(&s.number),
            "X64VM_SVC_{} in x64vm.h",
            s.name.to_uppercase()
        );
        assert_eq!(
            wrappers.get(s.name),
            Some(&s.args.len()),
            "x64vm_hc_{} should take {:?}",
            s.name,
            s.args
        );
    }
    assert_eq!(
        defines.len(),
        services.len(),
        "x64vm.h has extra services: {defines:?}"
    );
    assert_eq!(
        wrappers.len(),
        services.len(),
        "x64vm.h has extra wrappers: {wrappers:?}"
    );
    for (define, value) in [
        ("X64VM_MAX_KEY", x64vm_abi::limits::MAX_KEY),
        ("X64VM_MAX_VALUE", x64vm_abi::limits::MAX_VALUE),
        ("X64VM_MAX_EVENT_DATA", x64vm_abi::limits::MAX_EVENT_DATA),
    ] {
        let want = format!("#define {define} {value} ");
        assert!(text.contains(&want), "x64vm.h should have `{want}`");
    }
}

/// The ABI text each example embeds: the same canonical signatures in both
/// languages (and as the Rust versions), with parameter names.
fn embedded_abi(lang: Lang) {
    let abi_of = |name: &str| -> Abi {
        Code::load(elf(name, lang))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .abi
            .unwrap_or_else(|| panic!("{name}: no .x64vm.abi section"))
    };
    let lines = |abi: &Abi| -> Vec<String> {
        let mut v: Vec<String> = abi
            .functions
            .iter()
            .map(|f| {
                let mut s = f.signature();
                if let Some(r) = &f.ret {
                    s += &format!(" -> {r}");
                }
                if f.view {
                    s += " view";
                }
                s
            })
            .chain(
                abi.events
                    .iter()
                    .map(|e| format!("event {}", e.signature())),
            )
            .collect();
        v.sort();
        v
    };
    let sorted = |l: &[&str]| {
        let mut v: Vec<String> = l.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(lines(&abi_of("fib")), sorted(&["fib(u64) -> u64 view"]));
    assert_eq!(
        lines(&abi_of("counter")),
        sorted(&["increment() -> u64", "get() -> u64 view", "reset()"])
    );
    assert_eq!(
        lines(&abi_of("token")),
        sorted(&[
            "name() -> string view",
            "symbol() -> string view",
            "total_supply() -> u128 view",
            "mint(address,u128)",
            "transfer(address,u128) -> bool",
            "balance_of(address) -> u128 view",
            "approve(address,u128) -> bool",
            "allowance(address,address) -> u128 view",
            "transfer_from(address,address,u128) -> bool",
            "event Transfer(address,address,u128)",
            "event Approval(address,address,u128)",
        ])
    );
    assert_eq!(
        lines(&abi_of("escrow")),
        sorted(&[
            "init(address,address)",
            "deposit()",
            "release(u128)",
            "refund()",
            "event Deposited(address,u128)",
            "event Released(address,u128,u128)",
            "event Refunded(address,u128,u128)",
        ])
    );
    let token = abi_of("token");
    let names = |f: &str| -> Vec<Option<String>> {
        token.functions_named(f)[0]
            .params
            .iter()
            .map(|p| p.name.clone())
            .collect()
    };
    assert_eq!(
        names("transfer"),
        [Some("to".into()), Some("amount".into())]
    );
    assert_eq!(
        names("transfer_from"),
        [
            Some("from".into()),
            Some("to".into()),
            Some("amount".into())
        ]
    );
    let fields: Vec<_> = token.events[0]
        .fields
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(fields.len(), 3);
    assert!(fields.iter().all(Option::is_some), "{fields:?}");
}

/// Inputs that do not fit the ABI never reach the function.
fn calls_that_do_not_fit_the_abi(lang: Lang) {
    let mut chain = TestChain::new();
    let c = chain.deploy(elf("counter", lang), "alice").unwrap();
    let alice = addr("alice");
    reverted(
        &chain.call_raw(c, alice, &[1, 2, 3, 4], 0, GAS),
        "x64vm: unknown function selector",
    );
    reverted(
        &chain.call_raw(c, alice, &[1, 2], 0, GAS),
        "x64vm: call input shorter than a selector",
    );
    reverted(
        &chain.call_raw(c, alice, &[], 0, GAS),
        "x64vm: call input shorter than a selector",
    );
    let mut input = selector("increment()").to_vec();
    input.push(0);
    reverted(
        &chain.call_raw(c, alice, &input, 0, GAS),
        "x64vm: malformed call arguments",
    );
    let t = chain.deploy(elf("token", lang), "alice").unwrap();
    let mut input = selector("transfer(address,u128)").to_vec();
    input.extend_from_slice(&[0; 40]); // 48 bytes needed
    reverted(
        &chain.call_raw(t, alice, &input, 0, GAS),
        "x64vm: malformed call arguments",
    );
    // Value sent to a function that is not payable is refused.
    reverted(
        &chain.call(c, "alice", "increment()", 5, GAS),
        "x64vm: function is not payable",
    );
    assert_eq!(chain.balance(&c), 0);
    assert_eq!(chain.storage(&c, b"count"), None);
    // A call line that does not fit is refused before any code runs.
    let r = chain.call(c, "alice", "increment(1)", 0, GAS);
    failed(&r, "bad_call");
    assert_eq!(r.gas_used, 0);
}

// ------------------------------------------------------------------ fib

fn fib(lang: Lang) {
    twice(|chain| {
        let f = chain.deploy(elf("fib", lang), "alice").unwrap();
        let mut rs = Vec::new();
        for (n, want) in [(0, "0"), (1, "1"), (2, "1"), (10, "55"), (25, "75025")] {
            let r = chain.query(f, &format!("fib({n})"));
            assert_eq!(out(&r), want, "fib({n})");
            rs.push(r);
        }
        let r = chain.call(f, "bob", "fib(20)", 0, GAS);
        assert_eq!(out(&r), "6765");
        assert!(r.events.is_empty());
        rs.push(r);
        // Out of gas: all the gas is used, nothing is returned.
        let r = chain.call(f, "bob", "fib(40)", 0, 200_000);
        failed(&r, "out_of_gas");
        assert_eq!(r.gas_used, 200_000);
        assert!(r.output.is_empty());
        rs.push(r);
        rs
    });
}

/// The SDK builds keep the plain `--entry fib --arg 25` way of running working:
/// the exported function is an ordinary C-linkage symbol.
#[test]
fn fib_runs_as_a_plain_entry_too() {
    for lang in [Lang::C, Lang::Cpp] {
        let image = x64vm::load_elf(elf("fib", lang), true).expect("loads");
        let entry = image
            .symbol("fib")
            .expect("a `fib` symbol (C linkage in C++ too)");
        let mut inst = x64vm::Instance::new(&image, &x64vm::Config::default(), &[]).unwrap();
        inst.prepare_call(entry, &[25]).unwrap();
        let o = inst.run(&mut x64vm::NoHost);
        assert_eq!(o.status, x64vm::Status::Success, "{lang:?}");
        assert_eq!(o.rax, 75025, "{lang:?}");
    }
}

// -------------------------------------------------------------- counter

fn counter(lang: Lang) -> Vec<Receipt> {
    twice(|chain| {
        let c = chain.deploy(elf("counter", lang), "alice").unwrap();
        let mut rs = vec![chain.query(c, "get()")];
        assert_eq!(out(&rs[0]), "0");
        for i in 1..=3u64 {
            let r = chain.call(c, "alice", "increment()", 0, GAS);
            assert_eq!(out(&r), i.to_string());
            assert_eq!(chain.storage(&c, b"count"), Some(i.to_le_bytes().to_vec()));
            rs.push(r);
        }
        assert_eq!(out(&chain.query(c, "get()")), "3");
        // A query cannot write: it fails and nothing changes.
        let r = chain.query(c, "increment()");
        failed(&r, "host_error");
        assert_eq!(out(&chain.query(c, "get()")), "3");
        // reset removes the stored value and outputs nothing.
        let r = chain.call(c, "bob", "reset()", 0, GAS);
        ok(&r);
        assert!(r.output.is_empty(), "{r}");
        assert_eq!(chain.storage(&c, b"count"), None);
        assert_eq!(out(&chain.query(c, "get()")), "0");
        rs.push(r);
        // Out of gas one unit short: the increment is not kept; with the exact
        // amount it is.
        ok(&chain.call(c, "alice", "increment()", 0, GAS));
        let need = chain.dry_run(c, "alice", "increment()", 0, GAS).gas_used;
        let r = chain.call(c, "alice", "increment()", 0, need - 1);
        failed(&r, "out_of_gas");
        assert_eq!(r.gas_used, need - 1);
        assert_eq!(out(&chain.query(c, "get()")), "1");
        rs.push(r);
        let r = chain.call(c, "alice", "increment()", 0, need);
        assert_eq!(out(&r), "2");
        assert_eq!(r.gas_used, need);
        rs.push(r);
        rs
    })
}

// ---------------------------------------------------------------- token

fn deploy_token(chain: &mut TestChain, lang: Lang) -> Address {
    let (t, r) = chain
        .deploy_with(elf("token", lang), "alice", r#"mint("alice", 1000)"#)
        .unwrap();
    ok(&r);
    t
}

fn token_metadata_mint_and_ownership(lang: Lang) -> Vec<Receipt> {
    let mut chain = TestChain::new();
    let t = deploy_token(&mut chain, lang);
    let mut rs = Vec::new();
    for (line, want) in [
        ("name()", r#""Example Token""#),
        ("symbol()", r#""EXT""#),
        ("total_supply()", "1000"),
        (r#"balance_of("alice")"#, "1000"),
        (r#"balance_of("bob")"#, "0"),
    ] {
        let r = chain.query(t, line);
        assert_eq!(out(&r), want, "{line}");
        rs.push(r);
    }
    assert_eq!(chain.storage(&t, b"owner"), Some(addr("alice").to_vec()));
    assert_eq!(chain.storage(&t, b"total_supply"), Some(u128_le(1000)));
    assert_eq!(
        chain.storage(&t, &map_key("balances", &[&addr("alice")])),
        Some(u128_le(1000))
    );
    // Mint emits Transfer from the zero address.
    let r = chain.call(t, "alice", r#"mint("bob", 5)"#, 0, GAS);
    ok(&r);
    assert!(r.output.is_empty());
    assert_eq!(r.events.len(), 1);
    let e = &r.events[0];
    assert_eq!(e.address, t);
    assert_eq!(e.topic, topic("Transfer(address,address,u128)"));
    let mut data = vec![0u8; 32];
    data.extend_from_slice(&addr("bob"));
    data.extend_from_slice(&u128_le(5));
    assert_eq!(e.data, data);
    assert_eq!(
        e.decoded.as_deref(),
        Some(
            format!(
                "Transfer(from: {}, to: {}, amount: 5)",
                hx(&[0; 32]),
                hx(&addr("bob"))
            )
            .as_str()
        )
    );
    rs.push(r);
    // Only the owner mints; not to the zero address; no overflow.
    for (from, line, message) in [
        (
            "bob",
            r#"mint("bob", 5)"#.to_string(),
            "token: caller is not the owner",
        ),
        (
            "alice",
            format!("mint({}, 5)", hx(&[0; 32])),
            "token: mint to the zero address",
        ),
        (
            "alice",
            format!(r#"mint("carol", {})"#, u128::MAX),
            "token: total supply overflow",
        ),
    ] {
        let r = chain.call(t, from, &line, 0, GAS);
        reverted(&r, message);
        rs.push(r);
    }
    assert_eq!(out(&chain.query(t, "total_supply()")), "1005");
    assert_eq!(out(&chain.query(t, r#"balance_of("carol")"#)), "0");
    // Exactly up to u128::MAX is fine.
    let r = chain.call(
        t,
        "alice",
        &format!(r#"mint("carol", {})"#, u128::MAX - 1005),
        0,
        GAS,
    );
    ok(&r);
    rs.push(r);
    assert_eq!(
        out(&chain.query(t, "total_supply()")),
        u128::MAX.to_string()
    );
    let r = chain.call(t, "alice", r#"mint("carol", 1)"#, 0, GAS);
    reverted(&r, "token: total supply overflow");
    rs.push(r);
    rs
}

fn token_transfers_allowances_and_events(lang: Lang) -> Vec<Receipt> {
    twice(|chain| {
        let t = deploy_token(chain, lang);
        let mut rs = Vec::new();
        let r = chain.call(t, "alice", r#"transfer("bob", 100)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(r.events.len(), 1);
        assert_eq!(
            r.events[0].decoded.as_deref(),
            Some(
                format!(
                    "Transfer(from: {}, to: {}, amount: 100)",
                    hx(&addr("alice")),
                    hx(&addr("bob"))
                )
                .as_str()
            )
        );
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"balance_of("alice")"#)), "900");
        assert_eq!(
            chain.storage(&t, &map_key("balances", &[&addr("bob")])),
            Some(u128_le(100))
        );
        // Too much: reverted, nothing changes, no events.
        let r = chain.call(t, "bob", r#"transfer("carol", 101)"#, 0, GAS);
        reverted(&r, "token: insufficient balance");
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"balance_of("bob")"#)), "100");
        assert_eq!(out(&chain.query(t, r#"balance_of("carol")"#)), "0");
        // To oneself: nothing changes (but an event is logged).
        let r = chain.call(t, "bob", r#"transfer("bob", 60)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(r.events.len(), 1);
        assert_eq!(out(&chain.query(t, r#"balance_of("bob")"#)), "100");
        rs.push(r);
        // Allowances.
        let r = chain.call(t, "alice", r#"approve("carol", 50)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].topic, topic("Approval(address,address,u128)"));
        let mut data = addr("alice").to_vec();
        data.extend_from_slice(&addr("carol"));
        data.extend_from_slice(&u128_le(50));
        assert_eq!(r.events[0].data, data);
        rs.push(r);
        assert_eq!(
            chain.storage(
                &t,
                &map_key("allowances", &[&addr("alice"), &addr("carol")])
            ),
            Some(u128_le(50))
        );
        assert_eq!(out(&chain.query(t, r#"allowance("alice", "carol")"#)), "50");
        assert_eq!(out(&chain.query(t, r#"allowance("carol", "alice")"#)), "0");
        // Carol spends 30 of it for dave, then cannot spend 21 more.
        let r = chain.call(t, "carol", r#"transfer_from("alice", "dave", 30)"#, 0, GAS);
        assert_eq!(out(&r), "true");
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].topic, topic("Transfer(address,address,u128)"));
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"allowance("alice", "carol")"#)), "20");
        assert_eq!(out(&chain.query(t, r#"balance_of("dave")"#)), "30");
        assert_eq!(out(&chain.query(t, r#"balance_of("alice")"#)), "870");
        let r = chain.call(t, "carol", r#"transfer_from("alice", "dave", 21)"#, 0, GAS);
        reverted(&r, "token: insufficient allowance");
        rs.push(r);
        // Allowance enough, balance not: the allowance is not spent either.
        ok(&chain.call(t, "dave", r#"approve("eve", 1000)"#, 0, GAS));
        let r = chain.call(t, "eve", r#"transfer_from("dave", "eve", 31)"#, 0, GAS);
        reverted(&r, "token: insufficient balance");
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"allowance("dave", "eve")"#)), "1000");
        let r = chain.call(
            t,
            "alice",
            &format!("transfer({}, 1)", hx(&[0; 32])),
            0,
            GAS,
        );
        reverted(&r, "token: transfer to the zero address");
        rs.push(r);
        let r = chain.call(t, "alice", &format!("approve({}, 1)", hx(&[0; 32])), 0, GAS);
        reverted(&r, "token: approve to the zero address");
        rs.push(r);
        // Out of gas in the middle of a transfer: nothing is kept.
        let need = chain
            .dry_run(t, "alice", r#"transfer("bob", 1)"#, 0, GAS)
            .gas_used;
        let r = chain.call(t, "alice", r#"transfer("bob", 1)"#, 0, need - 1);
        failed(&r, "out_of_gas");
        assert!(r.events.is_empty());
        rs.push(r);
        assert_eq!(out(&chain.query(t, r#"balance_of("bob")"#)), "100");
        assert_eq!(out(&chain.query(t, "total_supply()")), "1000");
        rs
    })
}

// --------------------------------------------------------------- escrow

struct Deal {
    token: Address,
    escrow: Address,
}

/// alice deploys the token (1000 to alice) and the escrow (beneficiary bob),
/// gives the escrow 400 tokens and deposits 5000 of value.
fn deal(chain: &mut TestChain, token_lang: Lang, escrow_lang: Lang) -> (Deal, Vec<Receipt>) {
    let token = deploy_token(chain, token_lang);
    let (escrow, r0) = chain
        .deploy_with(
            elf("escrow", escrow_lang),
            "alice",
            &format!(r#"init({}, "bob")"#, hx(&token)),
        )
        .unwrap();
    ok(&r0);
    let r1 = chain.call(
        token,
        "alice",
        &format!("transfer({}, 400)", hx(&escrow)),
        0,
        GAS,
    );
    ok(&r1);
    let r2 = chain.call(escrow, "alice", "deposit()", 5000, GAS);
    ok(&r2);
    assert_eq!(r2.events.len(), 1);
    assert_eq!(r2.events[0].topic, topic("Deposited(address,u128)"));
    let mut data = addr("alice").to_vec();
    data.extend_from_slice(&u128_le(5000));
    assert_eq!(r2.events[0].data, data);
    assert_eq!(chain.balance(&escrow), 5000);
    assert_eq!(chain.storage(&escrow, b"held"), Some(u128_le(5000)));
    assert_eq!(
        chain.storage(&escrow, b"depositor"),
        Some(addr("alice").to_vec())
    );
    assert_eq!(
        chain.storage(&escrow, b"beneficiary"),
        Some(addr("bob").to_vec())
    );
    assert_eq!(chain.storage(&escrow, b"token"), Some(token.to_vec()));
    (Deal { token, escrow }, vec![r0, r1, r2])
}

fn token_balance(chain: &mut TestChain, token: Address, who: &Address) -> String {
    out(&chain.query(token, &format!("balance_of({})", hx(who)))).to_string()
}

fn escrow_release(lang: Lang) -> Vec<Receipt> {
    escrow_release_with(lang, lang)
}

fn escrow_release_with(token_lang: Lang, escrow_lang: Lang) -> Vec<Receipt> {
    twice(|chain| {
        let (d, mut rs) = deal(chain, token_lang, escrow_lang);
        let bob = addr("bob");
        let bob_before = chain.balance(&bob);
        for (from, line, value, message) in [
            (
                "carol",
                "release(10)".to_string(),
                0,
                "escrow: caller is not the depositor",
            ),
            (
                "carol",
                format!(r#"init({}, "carol")"#, hx(&d.token)),
                0,
                "escrow: already initialized",
            ),
            ("alice", "deposit()".to_string(), 0, "escrow: no value sent"),
            (
                "alice",
                "release(1)".to_string(),
                7,
                "x64vm: function is not payable",
            ),
        ] {
            let r = chain.call(d.escrow, from, &line, value, GAS);
            reverted(&r, message);
            rs.push(r);
        }
        let r = chain.call(d.escrow, "alice", "release(300)", 0, GAS);
        ok(&r);
        assert!(r.output.is_empty());
        // The token's Transfer (in the nested frame) comes before Released.
        assert_eq!(r.events.len(), 2, "{r}");
        assert_eq!(r.events[0].address, d.token);
        assert_eq!(r.events[0].topic, topic("Transfer(address,address,u128)"));
        let mut data = d.escrow.to_vec();
        data.extend_from_slice(&bob);
        data.extend_from_slice(&u128_le(300));
        assert_eq!(r.events[0].data, data);
        assert_eq!(r.events[1].address, d.escrow);
        assert_eq!(r.events[1].topic, topic("Released(address,u128,u128)"));
        let mut data = bob.to_vec();
        data.extend_from_slice(&u128_le(300));
        data.extend_from_slice(&u128_le(5000));
        assert_eq!(r.events[1].data, data);
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &bob), "300");
        assert_eq!(token_balance(chain, d.token, &d.escrow), "100");
        assert_eq!(chain.balance(&bob), bob_before + 5000);
        assert_eq!(chain.balance(&d.escrow), 0);
        assert_eq!(chain.storage(&d.escrow, b"held"), Some(u128_le(0)));
        rs
    })
}

fn escrow_failed_nested_transfer_rolls_back(lang: Lang) -> Vec<Receipt> {
    twice(|chain| {
        let (d, mut rs) = deal(chain, lang, lang);
        let bob = addr("bob");
        let bob_before = chain.balance(&bob);
        // The escrow holds 400 tokens: the token's transfer reverts, the escrow
        // sees status 1, reads the token's message and reverts with it; neither
        // the tokens nor the held value move.
        let r = chain.call(d.escrow, "alice", "release(401)", 0, GAS);
        reverted(
            &r,
            "escrow: token transfer reverted: token: insufficient balance",
        );
        assert!(r.gas_used > 0 && r.gas_used < GAS);
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &d.escrow), "400");
        assert_eq!(token_balance(chain, d.token, &bob), "0");
        assert_eq!(chain.balance(&d.escrow), 5000);
        assert_eq!(chain.balance(&bob), bob_before);
        assert_eq!(chain.storage(&d.escrow, b"held"), Some(u128_le(5000)));

        // Out of gas after the nested transfer succeeded: the outer call fails
        // and the token's changes in the nested frame are rolled back with it.
        let full = chain.dry_run(d.escrow, "alice", "release(300)", 0, GAS);
        ok(&full);
        let r = chain.call(d.escrow, "alice", "release(300)", 0, full.gas_used - 1);
        failed(&r, "out_of_gas");
        assert_eq!(r.gas_used, full.gas_used - 1);
        assert!(r.events.is_empty());
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &d.escrow), "400");
        assert_eq!(token_balance(chain, d.token, &bob), "0");
        assert_eq!(chain.balance(&d.escrow), 5000);
        assert_eq!(chain.storage(&d.escrow, b"held"), Some(u128_le(5000)));

        // The escrow's value transfer fails after the token paid: the whole
        // release reverts, the token transfer included.
        chain.set_balance(&d.escrow, 10);
        let r = chain.call(d.escrow, "alice", "release(300)", 0, GAS);
        reverted(&r, "escrow: value transfer failed");
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &bob), "0");
        assert_eq!(chain.storage(&d.escrow, b"held"), Some(u128_le(5000)));
        chain.set_balance(&d.escrow, 5000);

        // With enough gas the same call goes through, with the same receipt.
        let r = chain.call(d.escrow, "alice", "release(300)", 0, full.gas_used);
        ok(&r);
        assert_eq!((r.gas_used, &r.events), (full.gas_used, &full.events));
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &bob), "300");
        rs
    })
}

fn escrow_refund(lang: Lang) -> Vec<Receipt> {
    twice(|chain| {
        let (d, mut rs) = deal(chain, lang, lang);
        let alice = addr("alice");
        let alice_before = chain.balance(&alice);
        let r = chain.call(d.escrow, "bob", "refund()", 0, GAS);
        reverted(&r, "escrow: caller is not the depositor");
        rs.push(r);
        let r = chain.call(d.escrow, "alice", "refund()", 0, GAS);
        ok(&r);
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.events[0].address, d.token);
        assert_eq!(r.events[1].topic, topic("Refunded(address,u128,u128)"));
        let mut data = alice.to_vec();
        data.extend_from_slice(&u128_le(400));
        data.extend_from_slice(&u128_le(5000));
        assert_eq!(r.events[1].data, data);
        rs.push(r);
        assert_eq!(token_balance(chain, d.token, &alice), "1000");
        assert_eq!(token_balance(chain, d.token, &d.escrow), "0");
        assert_eq!(chain.balance(&alice), alice_before + 5000);
        assert_eq!(chain.balance(&d.escrow), 0);
        // Nothing left: a second refund moves nothing and only logs Refunded.
        let r = chain.call(d.escrow, "alice", "refund()", 0, GAS);
        ok(&r);
        assert_eq!(r.events.len(), 1);
        rs.push(r);
        rs
    })
}

fn escrow_with_a_broken_token(lang: Lang) {
    let mut chain = TestChain::new();
    // Before init.
    let e0 = chain.deploy(elf("escrow", lang), "alice").unwrap();
    reverted(
        &chain.call(e0, "alice", "deposit()", 5, GAS),
        "escrow: not initialized",
    );
    reverted(
        &chain.call(e0, "alice", "refund()", 0, GAS),
        "escrow: not initialized",
    );
    let r = chain.call(
        e0,
        "alice",
        &format!("init({}, {})", hx(&[1; 32]), hx(&[0; 32])),
        0,
        GAS,
    );
    reverted(&r, "escrow: zero beneficiary");
    // The "token" is the counter: it knows no `transfer`.
    let counter = chain.deploy(elf("counter", lang), "alice").unwrap();
    let (escrow, _) = chain
        .deploy_with(
            elf("escrow", lang),
            "alice",
            &format!(r#"init({}, "bob")"#, hx(&counter)),
        )
        .unwrap();
    ok(&chain.call(escrow, "alice", "deposit()", 10, GAS));
    let r = chain.call(escrow, "alice", "release(1)", 0, GAS);
    reverted(
        &r,
        "escrow: token transfer reverted: x64vm: unknown function selector",
    );
    // No contract at all: the nested call fails (status 2), the escrow reverts.
    let (escrow2, _) = chain
        .deploy_with(
            elf("escrow", lang),
            "alice",
            &format!(r#"init({}, "bob")"#, hx(&[9; 32])),
        )
        .unwrap();
    reverted(
        &chain.call(escrow2, "alice", "refund()", 0, GAS),
        "escrow: token balance_of failed: call failed",
    );
    reverted(
        &chain.call(escrow2, "alice", "release(1)", 0, GAS),
        "escrow: token transfer failed: call failed",
    );
    assert_eq!(chain.balance(&escrow), 10);
}

both! {
    embedded_abi => embedded_abi_c, embedded_abi_cpp;
    calls_that_do_not_fit_the_abi => calls_that_do_not_fit_the_abi_c, calls_that_do_not_fit_the_abi_cpp;
    fib => fib_c, fib_cpp;
    escrow_with_a_broken_token => escrow_with_a_broken_token_c, escrow_with_a_broken_token_cpp;
}

/// The scenarios that return receipts run for both languages, and the two
/// builds must behave identically except for the gas they use.
macro_rules! same_in_both {
    ($($name:ident => $test:ident;)*) => {$(
        #[test]
        fn $test() {
            let c = $name(Lang::C);
            let cpp = $name(Lang::Cpp);
            assert_eq!(observable(&c), observable(&cpp), "C and C++ builds differ");
        }
    )*};
}

same_in_both! {
    counter => counter_c_and_cpp;
    token_metadata_mint_and_ownership => token_metadata_mint_and_ownership_c_and_cpp;
    token_transfers_allowances_and_events => token_transfers_allowances_and_events_c_and_cpp;
    escrow_release => escrow_release_c_and_cpp;
    escrow_failed_nested_transfer_rolls_back => escrow_failed_nested_transfer_rolls_back_c_and_cpp;
    escrow_refund => escrow_refund_c_and_cpp;
}

/// A C escrow drives a C++ token and the other way round: one ABI.
#[test]
fn escrow_and_token_in_different_languages() {
    let a = escrow_release_with(Lang::Cpp, Lang::C);
    let b = escrow_release_with(Lang::C, Lang::Cpp);
    assert_eq!(observable(&a), observable(&b));
}

// ---------------------------------------------------------------- probes

fn probe(chain: &mut TestChain, src: Src) -> Address {
    chain.deploy(elf_of(src), "alice").unwrap()
}

#[test]
fn probe_c_context_value_and_transfers() {
    let mut chain = TestChain::new();
    let p = probe(&mut chain, PROBE_C);
    let r = chain.call(p, "bob", "context()", 77, GAS);
    let o = out_bytes(&r);
    assert_eq!(o.len(), 32 * 3 + 16 + 8 * 3);
    assert_eq!(&o[..32], &addr("bob"));
    assert_eq!(&o[32..64], &addr("bob"));
    assert_eq!(&o[64..96], &p);
    assert_eq!(&o[96..112], &u128_le(77));
    let u64_at = |i: usize| u64::from_le_bytes(o[i..i + 8].try_into().unwrap());
    assert_eq!(u64_at(112), chain.block().number);
    assert_eq!(u64_at(120), chain.block().timestamp);
    assert!(u64_at(128) > 0 && u64_at(128) < GAS);
    assert_eq!(chain.balance(&p), 77);
    reverted(
        &chain.call(p, "bob", r#"pay("carol", 1)"#, 1, GAS),
        "x64vm: function is not payable",
    );
    assert_eq!(
        out(&chain.query(p, &format!("balance_of({})", hx(&p)))),
        "77"
    );
    let carol = chain.balance(&addr("carol"));
    assert_eq!(
        out(&chain.call(p, "bob", r#"pay("carol", 70)"#, 0, GAS)),
        "true"
    );
    assert_eq!(
        out(&chain.call(p, "bob", r#"pay("carol", 8)"#, 0, GAS)),
        "false"
    );
    assert_eq!(chain.balance(&addr("carol")), carol + 70);
    assert_eq!(chain.balance(&p), 7);
    // Block hashes: known for recent blocks, not for the current or later ones.
    chain.advance_block();
    let n = chain.block().number;
    let h = out_bytes(&chain.query(p, &format!("hash_of_block({})", n - 1)));
    let mut pre = b"x64vm:block:".to_vec();
    pre.extend_from_slice(&(n - 1).to_le_bytes());
    assert_eq!(h, x64vm_runtime::crypto::keccak256(&pre));
    assert!(out_bytes(&chain.query(p, &format!("hash_of_block({n})"))).is_empty());
}

#[test]
fn probe_c_hashes_selectors_and_signatures() {
    let mut chain = TestChain::new();
    let p = probe(&mut chain, PROBE_C);
    // Lengths around the keccak rate (136 bytes): software and service agree.
    for len in [0usize, 1, 3, 135, 136, 137, 271, 272, 300] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
        let h = out_bytes(&chain.query(p, &format!("hashes(0x{})", &hx(&data)[2..])));
        assert_eq!(h.len(), 96);
        use sha2::Digest;
        assert_eq!(
            h[..32],
            sha2::Sha256::digest(&data)[..],
            "sha256 of {len} bytes"
        );
        let k = x64vm_runtime::crypto::keccak256(&data);
        assert_eq!(h[32..64], k, "keccak256 service, {len} bytes");
        assert_eq!(h[64..], k, "keccak256 in software, {len} bytes");
    }
    for sig in ["transfer(address,u128)", "get()", "swap_all(u8,u16,u32)"] {
        let r = chain.query(p, &format!("selector_of({sig:?})"));
        assert_eq!(
            out(&r),
            u32::from_le_bytes(selector(sig)).to_string(),
            "{sig}"
        );
    }
    // RFC 8032, section 7.1, TEST 2.
    let pk = "0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    let sig = "0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
               085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
    assert_eq!(
        out(&chain.query(p, &format!("verify({pk}, {sig}, 0x72)"))),
        "true"
    );
    assert_eq!(
        out(&chain.query(p, &format!("verify({pk}, {sig}, 0x73)"))),
        "false"
    );
    // secp256k1: a signature made here is recovered to its public key.
    use k256::ecdsa::SigningKey;
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let hash = x64vm_runtime::crypto::keccak256(b"x64vm c sdk");
    let (s, rid) = key.sign_prehash_recoverable(&hash).unwrap();
    let public = key.verifying_key().to_encoded_point(false);
    let mut sig65 = s.to_bytes().to_vec();
    sig65.push(rid.to_byte() + 27);
    let got = out_bytes(&chain.query(p, &format!("recover({}, {})", hx(&hash), hx(&sig65))));
    assert_eq!(got, &public.as_bytes()[1..]);
    let got = out_bytes(&chain.query(p, &format!("recover({}, {})", hx(&hash), hx(&[0; 65]))));
    assert!(got.is_empty());
    reverted(
        &chain.query(p, &format!("recover({}, 0x00)", hx(&hash))),
        "sig: 65 bytes",
    );
}

#[test]
fn probe_c_storage() {
    let mut chain = TestChain::new();
    let p = probe(&mut chain, PROBE_C);
    ok(&chain.call(p, "alice", "put(0x6b6579, 0x0102)", 0, GAS));
    assert_eq!(chain.storage(&p, b"key"), Some(vec![1, 2]));
    assert_eq!(out_bytes(&chain.query(p, "fetch(0x6b6579)")), [1, 2]);
    let long: Vec<u8> = (0..=255).collect();
    ok(&chain.call(p, "alice", &format!("put(0x6c, {})", hx(&long)), 0, GAS));
    assert_eq!(out_bytes(&chain.query(p, "fetch(0x6c)")), long);
    ok(&chain.call(p, "alice", "put(0x65, 0x)", 0, GAS));
    assert_eq!(out_bytes(&chain.query(p, "fetch(0x65)")), Vec::<u8>::new());
    assert_eq!(
        out(&chain.call(p, "alice", "erase(0x6b6579)", 0, GAS)),
        "true"
    );
    assert_eq!(
        out(&chain.call(p, "alice", "erase(0x6b6579)", 0, GAS)),
        "false"
    );
    reverted(&chain.query(p, "fetch(0x6b6579)"), "absent");
    // A map of u64 to string: key "n" ‖ 0 ‖ u64, value Borsh (u32 length, bytes).
    assert_eq!(
        out(&chain.call(p, "alice", r#"name_number(7, "seven")"#, 0, GAS)),
        r#""""#
    );
    assert_eq!(
        out(&chain.call(p, "alice", r#"name_number(7, "sept")"#, 0, GAS)),
        r#""seven""#
    );
    let key = map_key("n", &[&7u64.to_le_bytes()]);
    assert_eq!(chain.storage(&p, &key), Some(b"\x04\0\0\0sept".to_vec()));
    ok(&chain.call(p, "alice", r#"name_number(7, "")"#, 0, GAS));
    assert_eq!(chain.storage(&p, &key), None);
    // Every fixed-size type stored and loaded back (absent values load as zero).
    let line = format!(
        "swap_all(255, 65535, 4294967295, 18446744073709551615, {}, -128, -32768, \
         -2147483648, -9223372036854775808, {}, true, \"bob\")",
        u128::MAX,
        i128::MIN
    );
    let first = out_bytes(&chain.call(p, "alice", &line, 0, GAS));
    assert_eq!(
        first,
        vec![0u8; 1 + 2 + 4 + 8 + 16 + 1 + 2 + 4 + 8 + 16 + 1 + 32]
    );
    let second = out_bytes(&chain.call(p, "alice", &line, 0, GAS));
    let mut want = Vec::new();
    want.push(255u8);
    want.extend_from_slice(&u16::MAX.to_le_bytes());
    want.extend_from_slice(&u32::MAX.to_le_bytes());
    want.extend_from_slice(&u64::MAX.to_le_bytes());
    want.extend_from_slice(&u128::MAX.to_le_bytes());
    want.extend_from_slice(&i8::MIN.to_le_bytes());
    want.extend_from_slice(&i16::MIN.to_le_bytes());
    want.extend_from_slice(&i32::MIN.to_le_bytes());
    want.extend_from_slice(&i64::MIN.to_le_bytes());
    want.extend_from_slice(&i128::MIN.to_le_bytes());
    want.push(1);
    want.extend_from_slice(&addr("bob"));
    assert_eq!(second, want);
    assert_eq!(
        chain.storage(&p, b"i64"),
        Some(i64::MIN.to_le_bytes().to_vec())
    );
    assert_eq!(chain.storage(&p, b"bool"), Some(vec![1]));
    // Stored values that do not decode: a bool that is not 0/1, a u64 of 3 bytes.
    ok(&chain.call(p, "alice", "put(0x626f6f6c, 0x02)", 0, GAS));
    reverted(
        &chain.call(p, "alice", &line, 0, GAS),
        "x64vm: stored value does not decode",
    );
    ok(&chain.call(p, "alice", "put(0x626f6f6c, 0x01)", 0, GAS));
    ok(&chain.call(p, "alice", "put(0x753634, 0x010203)", 0, GAS));
    reverted(
        &chain.call(p, "alice", &line, 0, GAS),
        "x64vm: stored value does not decode",
    );
    // Keys over the limit trap, and nothing is kept.
    let r = chain.call(p, "alice", &format!("put({}, 0x01)", hx(&[1; 257])), 0, GAS);
    failed(&r, "limit_exceeded");
}

#[test]
fn probe_c_types_events_debug_heap_and_failures() {
    let mut chain = TestChain::new();
    let p = probe(&mut chain, PROBE_C);
    for src in [PROBE_C, PROBE_CPP] {
        let p = probe(&mut chain, src);
        let r = chain.query(p, "sum(255, 65535, 4294967295, 18446744073709551615, -128, -32768, -2147483648, -9223372036854775808, -170141183460469231731687303715884105728, false)");
        let want: i128 = 255 + 65535 + 4294967295 + 18446744073709551615
            - 128
            - 32768
            - 2147483648
            - 9223372036854775808
            + i128::MIN;
        assert_eq!(out(&r), want.to_string(), "{src:?}");
        assert_eq!(
            out(&chain.query(p, "sum(1, 2, 3, 4, 5, 6, 7, 8, 9, true)")),
            "-45"
        );
        // Events with every type, Borsh data in field order.
        let r = chain.call(
            p,
            "bob",
            r#"ping(9, 0xabcd, "carol", true, -5, "hi")"#,
            0,
            GAS,
        );
        ok(&r);
        assert_eq!(r.events.len(), 2);
        let e = &r.events[0];
        assert_eq!(e.topic, topic("Ping(u64,bytes,address,bool,i128,string)"));
        let mut data = 9u64.to_le_bytes().to_vec();
        data.extend_from_slice(&[2, 0, 0, 0, 0xab, 0xcd]);
        data.extend_from_slice(&addr("carol"));
        data.push(1);
        data.extend_from_slice(&(-5i128).to_le_bytes());
        data.extend_from_slice(&[2, 0, 0, 0, b'h', b'i']);
        assert_eq!(e.data, data);
        assert_eq!(
            e.decoded.as_deref(),
            Some(
                format!(
                    "Ping(n: 9, data: 0xabcd, who: {}, flag: true, big: -5, text: \"hi\")",
                    hx(&addr("carol"))
                )
                .as_str()
            )
        );
        assert_eq!(r.events[1].topic, topic("Pair(u8,i16)"));
        assert_eq!(r.events[1].data, [7, 0xfe, 0xff]);
        // Malformed bool argument.
        let mut input = selector("sum(u8,u16,u32,u64,i8,i16,i32,i64,i128,bool)").to_vec();
        input.extend_from_slice(&[0; 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + 16]);
        input.push(2);
        reverted(
            &chain.query_raw(p, &input),
            "x64vm: malformed call arguments",
        );
    }
    assert_eq!(
        out(&chain.query(p, &format!("max_u128({})", u128::MAX))),
        u128::MAX.to_string()
    );
    for v in [
        0u128,
        9,
        10,
        10_000_000_000_000_000_000,
        u64::MAX as u128 + 1,
        u128::MAX,
    ] {
        assert_eq!(
            out(&chain.query(p, &format!("decimal({v})"))),
            format!("\"{v}\"")
        );
    }
    assert_eq!(
        out(&chain.query(p, r#"echo("héllo", 0x010203)"#)),
        r#""héllo:3""#
    );
    assert_eq!(out(&chain.query(p, "zero_address()")), hx(&[0; 32]));
    let r = chain.call(p, "bob", r#"say("hey")"#, 0, GAS);
    ok(&r);
    assert_eq!(r.debug, b"say: hey (3 bytes)");
    assert_eq!(
        out(&chain.query(p, "alloc_sum(1000)")),
        (999 * 1000 / 2 + 7 * 8 / 2).to_string()
    );
    reverted(&chain.query(p, "fail(0)"), "required");
    let r = chain.query(p, "fail(1)");
    match &r.status {
        ReceiptStatus::Reverted(m) => {
            assert!(m.starts_with("assertion failed: how == 7 ("), "{m}");
            assert!(m.contains(".c:") && m.ends_with(')'), "{m}");
        }
        s => panic!("expected a revert, got {s}"),
    }
    reverted(&chain.query(p, "fail(2)"), "prefix: detail");
    failed(&chain.query(p, "fail(3)"), "invalid_opcode");
    reverted(&chain.query(p, "fail(4)"), "x64vm: out of memory");
    let r = chain.query(p, "fail(5)");
    assert_eq!(r.status.name(), "reverted");
    assert_eq!(r.output, [0xff, 0, 1], "revert data is passed through");
}

#[test]
fn probe_c_nested_calls_roll_back_only_the_callee() {
    twice(|chain| {
        let p = probe(chain, PROBE_C);
        let c = chain.deploy(elf("counter", Lang::C), "alice").unwrap();
        let t = deploy_token(chain, Lang::C);
        let mut rs = Vec::new();
        let inc = hx(&selector("increment()"));
        // Success: the callee's write is kept, its output comes back.
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {inc}, 0, 0)", hx(&c)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "0");
        rs.push(r);
        assert_eq!(out_bytes(&chain.query(p, "last()")), 1u64.to_le_bytes());
        assert_eq!(out(&chain.query(c, "get()")), "1");
        assert_eq!(
            out(&chain.query(p, &format!("counter_get({})", hx(&c)))),
            "1"
        );
        // Out of gas in the callee (capped at 300): it fails (2), its write is
        // rolled back, the caller goes on and its own writes are kept.
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {inc}, 0, 300)", hx(&c)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "2");
        rs.push(r);
        assert_eq!(out(&chain.query(c, "get()")), "1");
        assert_eq!(out(&chain.query(p, "after()")), "2");
        // A revert (1): the message comes back as return data, the callee's
        // events are dropped.
        let mut input = selector("transfer(address,u128)").to_vec();
        input.extend_from_slice(&addr("bob"));
        input.extend_from_slice(&u128_le(1));
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {}, 0, 0)", hx(&t), hx(&input)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "1");
        assert!(r.events.is_empty());
        rs.push(r);
        assert_eq!(
            out_bytes(&chain.query(p, "last()")),
            b"token: insufficient balance"
        );
        assert_eq!(out(&chain.query(p, "after()")), "3");
        // Value along a nested call: to a payable function, and to one that is not.
        ok(&chain.call(p, "alice", "context()", 50, GAS));
        let ctx = hx(&selector("context()"));
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {ctx}, 20, 0)", hx(&p)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "0");
        rs.push(r);
        let inner = out_bytes(&chain.query(p, "last()"));
        assert_eq!(
            &inner[4..36],
            &p,
            "the caller of the nested call is the probe"
        );
        assert_eq!(&inner[36..68], &addr("alice"), "origin");
        assert_eq!(&inner[4 + 96..4 + 112], &u128_le(20));
        let r = chain.call(
            p,
            "alice",
            &format!("forward({}, {inc}, 20, 0)", hx(&c)),
            0,
            GAS,
        );
        assert_eq!(out(&r), "1");
        rs.push(r);
        assert_eq!(
            out_bytes(&chain.query(p, "last()")),
            b"x64vm: function is not payable"
        );
        assert_eq!(chain.balance(&c), 0);
        rs
    });
}

#[test]
fn probe_cpp_compile_time_hashes_runtime_and_storage_templates() {
    twice(|chain| {
        let p = probe(chain, PROBE_CPP);
        let mut rs = Vec::new();
        // Compile-time selector and topic agree with the runtime's keccak256.
        let r = chain.query(p, "selectors()");
        let o = out_bytes(&r);
        assert_eq!(o[..4], selector("transfer(address,u128)"));
        assert_eq!(o[4..36], topic("Transfer(address,address,u128)"));
        assert_eq!(o[36..], topic("Transfer(address,address,u128)"));
        rs.push(r);
        // new/delete on the VM heap, virtual calls.
        let r = chain.query(p, "shapes(10)");
        let want: u64 = (0..10u64)
            .map(|i| if i % 2 == 1 { 2 * i } else { i * i + 1 })
            .sum();
        assert_eq!(out(&r), want.to_string());
        rs.push(r);
        // The static constructor ran (.init_array) and the local static counts.
        let r = chain.query(p, "init_order()");
        assert_eq!(out(&r), "93");
        rs.push(r);
        // Map<u64, String>: the same key and value layout as the C probe.
        assert_eq!(
            out(&chain.call(p, "alice", r#"name_number(7, "seven")"#, 0, GAS)),
            r#""""#
        );
        let r = chain.call(p, "alice", r#"name_number(7, "sept")"#, 0, GAS);
        assert_eq!(out(&r), r#""seven""#);
        rs.push(r);
        let key = map_key("n", &[&7u64.to_le_bytes()]);
        assert_eq!(chain.storage(&p, &key), Some(b"\x04\0\0\0sept".to_vec()));
        ok(&chain.call(p, "alice", r#"name_number(7, "")"#, 0, GAS));
        assert_eq!(chain.storage(&p, &key), None);
        // A nested map: "grid" ‖ 0 ‖ address ‖ Borsh(string).
        ok(&chain.call(p, "alice", r#"grid_set("bob", "b2", 42)"#, 0, GAS));
        assert_eq!(out(&chain.query(p, r#"grid_get("bob", "b2")"#)), "42");
        assert_eq!(out(&chain.query(p, r#"grid_get("bob", "b3")"#)), "0");
        assert_eq!(out(&chain.query(p, r#"grid_get("carol", "b2")"#)), "0");
        let key = map_key("grid", &[&addr("bob"), b"\x02\0\0\0b2"]);
        assert_eq!(chain.storage(&p, &key), Some(42u64.to_le_bytes().to_vec()));
        // Value<int64_t> through its conversion and assignment operators.
        assert_eq!(out(&chain.call(p, "alice", "swap_signed(-9)", 0, GAS)), "0");
        assert_eq!(out(&chain.call(p, "alice", "swap_signed(5)", 0, GAS)), "-9");
        assert_eq!(
            chain.storage(&p, b"signed"),
            Some(5i64.to_le_bytes().to_vec())
        );
        // Call + return_value<T>.
        let c = chain.deploy(elf("counter", Lang::Cpp), "alice").unwrap();
        ok(&chain.call(c, "alice", "increment()", 0, GAS));
        let r = chain.query(p, &format!("counter_get({})", hx(&c)));
        assert_eq!(out(&r), "1");
        rs.push(r);
        // Checked arithmetic.
        assert_eq!(out(&chain.query(p, "add(2, 3)")), "5");
        reverted(
            &chain.query(p, &format!("add({}, 1)", u128::MAX)),
            "probe: overflow",
        );
        rs
    });
}

#[test]
fn probe_cpp_reader_and_writer_round_trip() {
    let mut chain = TestChain::new();
    let p = probe(&mut chain, PROBE_CPP);
    let mut data = vec![0xab];
    data.extend_from_slice(&0x1234u16.to_le_bytes());
    data.extend_from_slice(&0xdead_beefu32.to_le_bytes());
    data.extend_from_slice(&u64::MAX.to_le_bytes());
    data.extend_from_slice(&(u128::MAX - 5).to_le_bytes());
    data.extend_from_slice(&(-1i8).to_le_bytes());
    data.extend_from_slice(&(-300i16).to_le_bytes());
    data.extend_from_slice(&(-70000i32).to_le_bytes());
    data.extend_from_slice(&i64::MIN.to_le_bytes());
    data.extend_from_slice(&(i128::MIN + 1).to_le_bytes());
    data.push(1);
    data.extend_from_slice(&addr("eve"));
    data.extend_from_slice(&[3, 0, 0, 0, 1, 2, 3]);
    data.extend_from_slice(&[2, 0, 0, 0, b'o', b'k']);
    let r = chain.query(p, &format!("roundtrip({})", hx(&data)));
    assert_eq!(out_bytes(&r), data);
    // One byte short, one byte too many, a bad bool: the reader reverts.
    for bad in [&data[..data.len() - 1], &[&data[..], &[0]].concat()[..]] {
        let r = chain.query(p, &format!("roundtrip({})", hx(bad)));
        reverted(&r, "x64vm: malformed data");
    }
    let mut bad_bool = data.clone();
    bad_bool[1 + 2 + 4 + 8 + 16 + 1 + 2 + 4 + 8 + 16] = 2;
    reverted(
        &chain.query(p, &format!("roundtrip({})", hx(&bad_bool))),
        "x64vm: malformed data",
    );
}

// -------------------------------------------------- optimisation levels

/// Every optimisation level builds contracts that behave the same (the gas
/// differs; the outputs, events, storage and messages must not).
#[test]
fn every_optimisation_level_behaves_the_same() {
    let sources: Vec<Src> = ["counter", "token", "escrow"]
        .into_iter()
        .flat_map(|n| [example(n, Lang::C), example(n, Lang::Cpp)])
        .chain([PROBE_C])
        .collect();
    let scenario = |built: &HashMap<Src, Vec<u8>>, lang: Lang| -> Vec<String> {
        let get = |n: &str| built[&example(n, lang)].as_slice();
        let mut chain = TestChain::new();
        let mut rs = Vec::new();
        let c = chain.deploy(get("counter"), "alice").unwrap();
        rs.push(chain.call(c, "alice", "increment()", 0, GAS));
        rs.push(chain.call(c, "alice", "increment()", 0, GAS));
        rs.push(chain.query(c, "get()"));
        let (t, r) = chain
            .deploy_with(get("token"), "alice", r#"mint("alice", 1000)"#)
            .unwrap();
        rs.push(r);
        rs.push(chain.call(t, "alice", r#"transfer("bob", 10)"#, 0, GAS));
        rs.push(chain.call(t, "bob", r#"transfer("carol", 11)"#, 0, GAS));
        rs.push(chain.call(t, "alice", r#"approve("bob", 5)"#, 0, GAS));
        rs.push(chain.call(t, "bob", r#"transfer_from("alice", "carol", 5)"#, 0, GAS));
        rs.push(chain.query(t, "name()"));
        let (e, r) = chain
            .deploy_with(
                get("escrow"),
                "alice",
                &format!(r#"init({}, "bob")"#, hx(&t)),
            )
            .unwrap();
        rs.push(r);
        rs.push(chain.call(t, "alice", &format!("transfer({}, 50)", hx(&e)), 0, GAS));
        rs.push(chain.call(e, "alice", "deposit()", 9, GAS));
        rs.push(chain.call(e, "alice", "release(51)", 0, GAS));
        rs.push(chain.call(e, "alice", "release(20)", 0, GAS));
        rs.push(chain.call(e, "alice", "refund()", 0, GAS));
        let mut seen = observable(&rs);
        for a in [c, t, e] {
            seen.push(format!("{:?}", chain.state().storage_of(&a)));
        }
        for a in [e, addr("alice"), addr("bob")] {
            seen.push(chain.balance(&a).to_string());
        }
        seen
    };
    let reference = make(&sources, "-O2").unwrap_or_else(|e| panic!("{e}"));
    let want_c = scenario(&reference, Lang::C);
    let want_cpp = scenario(&reference, Lang::Cpp);
    assert_eq!(want_c, want_cpp, "C and C++ at -O2");
    for opt in ["-O0", "-O1", "-O3", "-Os"] {
        let built = make(&sources, opt).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scenario(&built, Lang::C), want_c, "C at {opt}");
        assert_eq!(scenario(&built, Lang::Cpp), want_cpp, "C++ at {opt}");
        // The probe's arithmetic and hashing helpers at this level.
        let mut chain = TestChain::new();
        let p = chain.deploy(&built[&PROBE_C], "alice").unwrap();
        assert_eq!(
            out(&chain.query(p, &format!("decimal({})", u128::MAX))),
            format!("\"{}\"", u128::MAX),
            "{opt}"
        );
        let h = out_bytes(&chain.query(p, &format!("hashes({})", hx(&[5; 200]))));
        assert_eq!(h[32..64], h[64..], "keccak256 in software at {opt}");
    }
}

// ------------------------------------------------------- Linux profile

/// A C++ contract built against the real standard library (std::string,
/// std::vector, std::map, exceptions) with `-DX64VM_LINUX`, run under the
/// Linux profile. The runtime does not deploy Linux-profile contracts yet, so
/// this runs the VM directly: the call input arrives on standard input (the
/// SDK's fallback when the VM passes none) and only the core services are used.
#[test]
fn linux_profile_contract_uses_the_standard_library() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("c-contracts")
        .join(format!("{}-linux", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(root().join("sdk/c/tests/linux.cpp"), dir.join("linux.cpp"))
        .unwrap();
    // contract.mk's `%.linux.elf: %.cpp` rule (X64VM_LINUX_CXXFLAGS).
    let exe = dir.join("linux.linux.elf");
    let o = Command::new("make")
        .arg("-s")
        .arg("-f")
        .arg(root().join("sdk/c/contract.mk"))
        .arg(&exe)
        .output()
        .expect("make runs");
    assert!(
        o.status.success(),
        "building sdk/c/tests/linux.cpp for the Linux profile failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let elf = std::fs::read(&exe).unwrap();
    let image = x64vm::load_elf(&elf, false).expect("a static glibc program loads");
    let run = |input: &[u8]| -> x64vm::Outcome {
        let linux = x64vm::linux::LinuxConfig {
            stdin: input.to_vec(),
            ..Default::default()
        };
        let config = x64vm::Config {
            memory_limit: 1 << 30,
            ..x64vm::Config::default()
        };
        let (mut inst, mut host) = x64vm::linux::spawn(&image, &config, &linux).expect("spawn");
        inst.run(&mut host)
    };
    let call = |sig: &str, args: &[x64vm_runtime::Value]| -> x64vm::Outcome {
        let a = run(&x64vm_runtime::abi::encode_call(sig, args));
        let b = run(&x64vm_runtime::abi::encode_call(sig, args));
        assert_eq!(a, b, "two runs of {sig} differ");
        a
    };
    use x64vm_runtime::Value;
    let o = call(
        "word_counts(string)",
        &[Value::String(
            "the quick fox and the lazy dog and the end".into(),
        )],
    );
    assert_eq!(o.status, x64vm::Status::Success, "{o:?}");
    let text = "and=2 dog=1 end=1 fox=1 lazy=1 quick=1 the=3";
    let mut want = (text.len() as u32).to_le_bytes().to_vec();
    want.extend_from_slice(text.as_bytes());
    assert_eq!(o.output, want);
    let o = call("median(bytes)", &[Value::Bytes(vec![9, 1, 5, 3, 7])]);
    assert_eq!(o.status, x64vm::Status::Success);
    assert_eq!(o.output, 5u64.to_le_bytes());
    // Exceptions escaping a function revert with their message.
    let o = call("median(bytes)", &[Value::Bytes(vec![])]);
    assert_eq!(o.status, x64vm::Status::Reverted);
    assert_eq!(o.output, b"median of nothing");
    let o = call(
        "checked_div(u64,u64)",
        &[Value::Uint(64, 84), Value::Uint(64, 2)],
    );
    assert_eq!(o.output, 42u64.to_le_bytes());
    let o = call(
        "checked_div(u64,u64)",
        &[Value::Uint(64, 1), Value::Uint(64, 0)],
    );
    assert_eq!(o.status, x64vm::Status::Reverted);
    assert_eq!(o.output, b"division by zero");
    let o = run(&[1, 2, 3, 4]);
    assert_eq!(o.status, x64vm::Status::Reverted);
    assert_eq!(o.output, b"x64vm: unknown function selector");
}

// ------------------------------------------- the C++ standard library

/// std::string, std::vector, std::map, std::unordered_map, std::function and
/// smart pointers in a freestanding contract (no C library, no Linux profile):
/// `sdk/c/tests/stl.cpp` built by the default rule with X64VM_CXXSTD=c++20.
#[test]
fn freestanding_cpp_uses_standard_containers() {
    const STL: Src = Src {
        path: "sdk/c/tests/stl.cpp",
    };
    let built = make_with(&[STL], "-stl", &["X64VM_CXXSTD=c++20".to_string()])
        .unwrap_or_else(|e| panic!("{e}"));
    twice(|chain| {
        let p = chain.deploy(&built[&STL], "alice").unwrap();
        let mut rs = Vec::new();
        let r = chain.query(
            p,
            r#"word_counts("the quick fox and the lazy dog and the end")"#,
        );
        assert_eq!(out(&r), r#""and=2 dog=1 end=1 fox=1 lazy=1 quick=1 the=3""#);
        rs.push(r);
        let r = chain.query(p, r#"most_frequent("b a b a c")"#);
        assert_eq!(out(&r), r#""a""#);
        rs.push(r);
        let r = chain.query(p, "sorted_at(0x0905030107, 2)");
        assert_eq!(out(&r), "5");
        rs.push(r);
        // std::vector::at out of range: the SDK's __throw_out_of_range_fmt reverts.
        let r = chain.query(p, "sorted_at(0x0905030107, 5)");
        assert_eq!(r.status.name(), "reverted");
        assert!(
            String::from_utf8_lossy(&r.output).starts_with("vector::_M_range_check"),
            "{r}"
        );
        rs.push(r);
        let r = chain.query(p, "pipeline(4)");
        assert_eq!(out(&r), "37002");
        rs.push(r);
        rs
    });
}
