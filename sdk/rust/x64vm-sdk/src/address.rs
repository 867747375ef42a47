//! 32-byte account and contract addresses.

use core::fmt;

/// A 32-byte account or contract address (`address` in the ABI).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 32]);

impl Address {
    /// The all-zero address (never a real account; handy as "unset").
    pub const ZERO: Address = Address([0; 32]);

    /// The address from its bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Address(bytes)
    }

    /// Its bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether it is [`Address::ZERO`].
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }

    /// The address a named account stands for in call lines and test chains:
    /// `keccak256("x64vm:account:" ‖ name)` (computed with the host service).
    pub fn from_name(name: &str) -> Self {
        let mut buf = alloc::vec::Vec::with_capacity(14 + name.len());
        buf.extend_from_slice(b"x64vm:account:");
        buf.extend_from_slice(name.as_bytes());
        Address(crate::host::keccak256(&buf))
    }
}

impl From<[u8; 32]> for Address {
    fn from(b: [u8; 32]) -> Self {
        Address(b)
    }
}

impl From<Address> for [u8; 32] {
    fn from(a: Address) -> Self {
        a.0
    }
}

impl AsRef<[u8]> for Address {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `0x` and 64 lower-case hex digits, as call lines write addresses.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn displays_as_hex() {
        let mut b = [0u8; 32];
        b[0] = 0xab;
        b[31] = 1;
        let s = format!("{}", Address(b));
        assert_eq!(s.len(), 66);
        assert!(s.starts_with("0xab00"));
        assert!(s.ends_with("01"));
        assert!(Address::ZERO.is_zero());
        assert!(!Address(b).is_zero());
    }
}
