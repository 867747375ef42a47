//! The committed seed corpus: `fuzz/corpus/<target>/` at the workspace root.

use std::path::{Path, PathBuf};

/// The corpus root (`fuzz/corpus`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// The corpus directory of one target.
pub fn dir(target: &str) -> PathBuf {
    root().join(target)
}

/// Every file of a target's corpus, sorted by name, with its bytes. A missing
/// directory yields nothing.
pub fn load(target: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir(target)) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                return None;
            }
            std::fs::read(e.path()).ok().map(|b| (name, b))
        })
        .collect();
    files.sort();
    files
}
