//! Hashes and signatures behind the cryptography services, and the hashes the
//! runtime itself uses (selectors, topics, addresses, code hashes).

use sha2::Digest as _;

use crate::Hash;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
    sha2::Sha256::digest(data).into()
}

/// Keccak-256 (the original Keccak padding, as Ethereum uses) of `data`.
pub fn keccak256(data: &[u8]) -> Hash {
    sha3::Keccak256::digest(data).into()
}

/// Keccak-256 of the concatenation of `parts`.
pub fn keccak256_parts(parts: &[&[u8]]) -> Hash {
    let mut h = sha3::Keccak256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Recovers the uncompressed public key (x ‖ y, 64 bytes) that produced the
/// signature `sig` (r ‖ s ‖ v, v ∈ {0, 1, 27, 28}) over the 32-byte `hash`.
/// `None` for any invalid signature (bad v, r or s out of range, no such point).
pub fn secp256k1_recover(hash: &Hash, sig: &[u8; 65]) -> Option<[u8; 64]> {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
    let v = match sig[64] {
        0 | 27 => 0,
        1 | 28 => 1,
        _ => return None,
    };
    let rid = RecoveryId::from_byte(v)?;
    let signature = Signature::from_slice(&sig[..64]).ok()?;
    let key = VerifyingKey::recover_from_prehash(hash, &signature, rid).ok()?;
    let point = key.to_encoded_point(false);
    let bytes = point.as_bytes();
    // Uncompressed SEC1: 0x04 ‖ x ‖ y.
    let xy = bytes.get(1..65)?;
    let mut out = [0u8; 64];
    out.copy_from_slice(xy);
    Some(out)
}

/// Verifies an ed25519 signature (RFC 8032, strict: rejects non-canonical `s`
/// and small-order keys) of `msg` under `pubkey`.
pub fn ed25519_verify(pubkey: &[u8; 32], sig: &[u8; 64], msg: &[u8]) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(pubkey) else {
        return false;
    };
    let signature = ed25519_dalek::Signature::from_bytes(sig);
    key.verify_strict(msg, &signature).is_ok()
}
