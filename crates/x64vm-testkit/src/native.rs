//! Runs cases on the host CPU through the `x64vm-native-runner` child process.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::proto::{Case, Outcome, Reader, decode_result, encode_cases};

/// Handle on the native runner binary.
#[derive(Clone, Debug)]
pub struct NativeRunner {
    path: PathBuf,
}

impl NativeRunner {
    /// Uses the runner binary at `path` (in this crate's integration tests:
    /// `env!("CARGO_BIN_EXE_x64vm-native-runner")`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        NativeRunner { path: path.into() }
    }

    /// Runs `cases` in one child process, in order, and returns one outcome each.
    ///
    /// # Errors
    /// Fails when the runner cannot be started or dies (which a faulting snippet
    /// does not cause: faults are caught and reported as [`crate::End::Signal`]).
    pub fn run(&self, cases: &[Case]) -> Result<Vec<Outcome>, String> {
        let mut input = Vec::new();
        encode_cases(cases, &mut input);
        let mut child = Command::new(&self.path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.path.display()))?;
        let mut stdin = child.stdin.take().ok_or("runner has no stdin")?;
        // Feed input from another thread so a runner that writes before it has
        // read everything cannot deadlock against us.
        let feeder = std::thread::spawn(move || stdin.write_all(&input));
        let out = child
            .wait_with_output()
            .map_err(|e| format!("waiting for runner: {e}"))?;
        let fed = feeder
            .join()
            .map_err(|_| "input thread panicked".to_string())?;
        let mut r = Reader::new(&out.stdout);
        let mut results = Vec::with_capacity(cases.len());
        while results.len() < cases.len() {
            match decode_result(&mut r) {
                Some(o) => results.push(o),
                None => break,
            }
        }
        if !out.status.success() || results.len() != cases.len() || !r.at_end() {
            let at = cases
                .get(results.len())
                .map(Case::describe)
                .unwrap_or_default();
            return Err(format!(
                "native runner failed ({}; input: {:?}) after {} of {} cases; stderr: {}\nnext {}",
                out.status,
                fed.err(),
                results.len(),
                cases.len(),
                String::from_utf8_lossy(&out.stderr),
                at
            ));
        }
        Ok(results)
    }
}
