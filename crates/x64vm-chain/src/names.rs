//! Names: the development accounts, `0x` addresses, contract aliases.

use x64vm_runtime::chain::DEV_ACCOUNTS;
use x64vm_runtime::{Address, address_of_name};

use crate::error::ChainError;

/// The name of a development account (`alice`, `bob`, `carol`, `dave`, `eve`).
pub fn label(a: &Address) -> Option<String> {
    DEV_ACCOUNTS
        .iter()
        .find(|n| address_of_name(n) == *a)
        .map(|n| n.to_string())
}

/// `0x` and 64 hex digits.
pub fn parse_address(s: &str) -> Option<Address> {
    let h = s.strip_prefix("0x")?;
    if h.len() != 64 {
        return None;
    }
    crate::receipt::serde_fmt::parse_hex(h)?.try_into().ok()
}

/// Checks an alias: 1 to 64 characters of `A-Z a-z 0-9 _ - .`, not starting
/// with `0x` or a digit-only string.
///
/// # Errors
/// [`ChainError::BadInput`].
pub fn check_alias(s: &str) -> Result<(), ChainError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && !s.starts_with("0x")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !s.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ChainError::BadInput(format!(
            "bad alias {s:?}: use 1 to 64 letters, digits, '_', '-' or '.', not starting with 0x"
        )))
    }
}

/// Turns a file name into an alias candidate (its stem, with other
/// characters replaced by '_').
pub fn alias_from_stem(stem: &str) -> String {
    let s: String = stem
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if check_alias(&s).is_ok() {
        s
    } else {
        format!("c_{}", s.trim_start_matches("0x"))
    }
}

/// `text` with every development account's `0x` address replaced by its name
/// and the zero address shortened to `0x0` (for readable output; JSON keeps
/// the addresses).
pub fn readable(text: &str) -> String {
    let mut out = text.replace(&x64vm_runtime::hex(&[0; 32]), "0x0");
    for n in DEV_ACCOUNTS {
        let h = x64vm_runtime::hex(&address_of_name(n));
        if out.contains(&h) {
            out = out.replace(&h, n);
        }
    }
    out
}
