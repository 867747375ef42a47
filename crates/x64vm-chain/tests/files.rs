//! State files: corrupt, foreign and other-version files give clear errors
//! (never a panic, never silent loss); dump and load round-trip.

mod common;

use common::*;
use x64vm_chain::store::Store;
use x64vm_chain::{Chain, ChainError, Params, TxOptions};

fn alice() -> TxOptions {
    TxOptions::from_name("alice")
}

fn populated(path: &std::path::Path) -> Chain {
    let chain = Chain::init(path, Params::default(), false).unwrap();
    let c = chain
        .deploy(bank(), Some("init(1000)"), Some("bank"), &alice())
        .unwrap()
        .to;
    assert!(
        chain
            .call(&c, r#"transfer("bob", 5)"#, &alice())
            .unwrap()
            .is_success()
    );
    assert!(
        chain
            .call(&c, "set_then_fail(1, 0)", &alice())
            .unwrap()
            .status
            == "reverted"
    );
    chain.mine(2).unwrap();
    chain
}

#[test]
fn missing_empty_and_foreign_files() {
    let dir = temp_dir("foreign");
    let missing = dir.join("missing.redb");
    assert!(matches!(
        Chain::open(&missing),
        Err(ChainError::NotFound(_))
    ));
    assert!(!missing.exists(), "open never creates");

    let empty = dir.join("empty.redb");
    std::fs::write(&empty, b"").unwrap();
    let e = Chain::open(&empty).unwrap_err();
    assert!(matches!(e, ChainError::Foreign(_)), "{e}");

    // Not a database at all: a JSON file, random bytes, a short file.
    for (name, bytes) in [
        ("json.redb", br#"{"format": "x64vm-state"}"#.to_vec()),
        (
            "random.redb",
            (0..20_000u32).map(|i| (i * 7919 % 251) as u8).collect(),
        ),
        ("short.redb", b"redb".to_vec()),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, &bytes).unwrap();
        let e = Chain::open(&p).unwrap_err();
        assert!(
            matches!(e, ChainError::Foreign(_) | ChainError::Corrupt(_)),
            "{name}: {e:?}"
        );
        assert!(!e.to_string().is_empty());
        // Untouched: nothing is silently overwritten.
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name}");
        // init refuses it too.
        assert!(matches!(
            Chain::init(&p, Params::default(), false),
            Err(ChainError::Exists(_))
        ));
    }

    // A redb database that is not an x64vm state file.
    let other = dir.join("other.redb");
    {
        let db = redb::Database::create(&other).unwrap();
        let t = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("x");
            let mut table = t.open_table(def).unwrap();
            table.insert("a", 1).unwrap();
        }
        t.commit().unwrap();
    }
    let e = Chain::open(&other).unwrap_err();
    assert!(matches!(e, ChainError::Foreign(_)), "{e:?}");
    assert!(e.to_string().contains("not an x64vm state file"), "{e}");
}

#[test]
fn wrong_version_is_refused() {
    let dir = temp_dir("version");
    let p = dir.join("state.redb");
    drop(populated(&p));
    Store::open(&p)
        .unwrap()
        .set_format_version_for_tests(99)
        .unwrap();
    let e = Chain::open(&p).unwrap_err();
    assert!(matches!(e, ChainError::Version(_)), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("version 99") && m.contains("reads version 1"),
        "{m}"
    );
}

#[test]
fn corrupt_files_give_errors_not_panics() {
    let dir = temp_dir("corrupt");
    let good = dir.join("good.redb");
    drop(populated(&good));
    let bytes = std::fs::read(&good).unwrap();
    // Truncations and overwritten regions at several places: every outcome
    // must be an error or a usable chain, never a panic.
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [16, 512, 4096, bytes.len() / 2, bytes.len() - 1] {
        cases.push((format!("truncated at {cut}"), bytes[..cut].to_vec()));
    }
    for at in [0, 64, 4096, bytes.len() / 3, bytes.len() / 2] {
        let mut b = bytes.clone();
        for x in b.iter_mut().skip(at).take(512) {
            *x ^= 0x5a;
        }
        cases.push((format!("garbled at {at}"), b));
    }
    for (i, (what, b)) in cases.iter().enumerate() {
        let p = dir.join(format!("case{i}.redb"));
        std::fs::write(&p, b).unwrap();
        let r = std::panic::catch_unwind(|| match Chain::open(&p) {
            Ok(chain) => {
                // If the damage missed everything that open reads, reading
                // the whole state either works or fails cleanly.
                let _ = chain.dump();
                let _ = chain.accounts();
                "opened".to_string()
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                e.kind().to_string()
            }
        });
        match r {
            Ok(outcome) => eprintln!("{what}: {outcome}"),
            Err(_) => panic!("{what}: panicked"),
        }
    }
}

#[test]
fn dump_load_round_trip() {
    let dir = temp_dir("dump");
    let p = dir.join("a.redb");
    let chain = populated(&p);
    let dump = chain.dump().unwrap();
    assert_eq!(dump.format, "x64vm-state");
    assert_eq!(dump.version, 1);
    assert_eq!(dump.receipts.len(), 3);
    assert_eq!(dump.head, 5);
    let text = serde_json::to_vec_pretty(&dump).unwrap();

    let parsed = Chain::parse_dump(&text).unwrap();
    assert_eq!(parsed, dump);
    let q = dir.join("b.redb");
    let loaded = Chain::load(&q, &parsed, false).unwrap();
    assert_eq!(loaded.dump().unwrap(), dump);
    // The loaded chain goes on where the dumped one was.
    let c = loaded.resolve_contract("bank").unwrap();
    let q1 = loaded.query(&c, r#"balance_of("bob")"#).unwrap();
    assert_eq!(q1.decoded_output.as_deref(), Some("5"));
    let r = loaded.call(&c, "set(3)", &alice()).unwrap();
    assert!(r.is_success());
    assert_eq!((r.id, r.block), (4, 6));
    // Loading never overwrites without --force.
    assert!(matches!(
        Chain::load(&q, &parsed, false),
        Err(ChainError::Exists(_))
    ));
    // In memory too.
    let m = Chain::load_in_memory(&parsed).unwrap();
    assert_eq!(m.dump().unwrap(), dump);

    // Wrong format or version, malformed or inconsistent dumps.
    let mut v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    v["version"] = 2.into();
    let e = Chain::parse_dump(v.to_string().as_bytes()).unwrap_err();
    assert!(matches!(e, ChainError::Version(_)), "{e}");
    v["version"] = 1.into();
    v["format"] = "something-else".into();
    assert!(matches!(
        Chain::parse_dump(v.to_string().as_bytes()),
        Err(ChainError::Version(_))
    ));
    assert!(matches!(
        Chain::parse_dump(b"{not json"),
        Err(ChainError::BadInput(_))
    ));
    let mut bad = dump.clone();
    bad.codes[0].code.push(0);
    let t = serde_json::to_vec(&bad).unwrap();
    assert!(matches!(
        Chain::parse_dump(&t),
        Err(ChainError::BadInput(_))
    ));
    let mut bad = dump.clone();
    bad.blocks.remove(2);
    assert!(matches!(
        Chain::parse_dump(&serde_json::to_vec(&bad).unwrap()),
        Err(ChainError::BadInput(_))
    ));
}
