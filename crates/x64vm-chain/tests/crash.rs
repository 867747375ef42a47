//! Crash safety: a real child process is killed with SIGKILL in the middle of
//! a long call; the state file then opens with the last committed state.
//!
//! The child is this test binary again, running `crash_child` (which does
//! nothing unless `X64VM_CRASH_STATE` names a state file).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use x64vm_chain::{Chain, Params, TxOptions};

const ENV: &str = "X64VM_CRASH_STATE";

#[test]
#[ignore = "the child half of sigkill_in_the_middle_of_a_call; runs only when spawned by it"]
fn crash_child() {
    let Ok(path) = std::env::var(ENV) else {
        return;
    };
    let chain = Chain::open(path.as_ref()).expect("child opens the state");
    let c = chain.resolve_contract("bank").expect("bank");
    println!("calling");
    // Runs for hours; the parent kills it long before.
    let opts = TxOptions {
        gas: Some(1 << 50),
        ..TxOptions::from_name("alice")
    };
    let r = chain.call(&c, "spin(1000000000000)", &opts);
    println!("finished {r:?}");
}

#[test]
fn sigkill_in_the_middle_of_a_call() {
    let dir = temp_dir("crash");
    let path = dir.join("state.redb");
    let before = {
        let chain = Chain::init(&path, Params::default(), false).unwrap();
        let alice = TxOptions::from_name("alice");
        let c = chain
            .deploy(bank(), Some("init(1000)"), Some("bank"), &alice)
            .unwrap()
            .to;
        assert!(chain.call(&c, "set(42)", &alice).unwrap().is_success());
        chain.dump().unwrap()
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--ignored", "--nocapture"])
        .env(ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the child");
    // Wait until the child is inside the call, then let it run a while.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) if l.contains("calling") => break,
            Ok(l) => assert!(!l.contains("finished"), "the call ended early: {l}"),
            Err(_) => {
                assert!(
                    Instant::now() < deadline,
                    "the child never started its call"
                );
                if let Ok(Some(st)) = child.try_wait() {
                    panic!("the child exited early: {st}");
                }
            }
        }
    }
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the child must still be in the call"
    );
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
    let status = child.wait().unwrap();
    assert!(!status.success());
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
    }

    // The last committed state, intact and usable.
    let chain = Chain::open(&path).expect("reopens after the crash");
    assert_eq!(chain.dump().unwrap(), before);
    let c = chain.resolve_contract("bank").unwrap();
    assert_eq!(
        chain.query(&c, "get()").unwrap().decoded_output.as_deref(),
        Some("42")
    );
    assert!(chain.storage(&c, Some(b"spin")).unwrap().is_empty());
    let r = chain
        .call(&c, "set(43)", &TxOptions::from_name("alice"))
        .unwrap();
    assert!(r.is_success());
    assert_eq!(r.id, 3);
}
