//! Secrets and digests, one place for each: random bytes from the operating system (ring's
//! `SystemRandom`), SHA-256 for tokens and published files, argon2id for passwords.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use ring::rand::{SecureRandom, SystemRandom};

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    SystemRandom::new().fill(&mut buf).expect("the operating system's random source answers");
    buf
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// SHA-256 of `bytes`, as 64 hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// A new API token: `cong_` and 32 random bytes in hex. Shown once; only its SHA-256 is kept.
pub fn new_token() -> String {
    format!("cong_{}", hex(&random_bytes::<32>()))
}

/// A generated password: 20 letters and digits without look-alikes, in four groups
/// (`k7mq2-…`), about 100 bits.
pub fn new_password() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let bytes = random_bytes::<20>();
    let mut out = String::with_capacity(23);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(ALPHABET[usize::from(b & 31)] as char);
    }
    out
}

/// The argon2id hash of `password` in PHC form (`$argon2id$v=19$m=19456,t=2,p=1$…`), with a
/// fresh salt; the parameters are argon2's defaults (the OWASP minimum).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes make a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Whether `password` matches `phc`, a hash from [`hash_password`]; a malformed hash
/// matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Compare two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_tokens() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let (a, b) = (new_token(), new_token());
        assert!(a.starts_with("cong_") && a.len() == 5 + 64 && a != b);
        let p = new_password();
        assert_eq!(p.len(), 23);
        assert_eq!(p.matches('-').count(), 3);
    }

    #[test]
    fn constant_time_eq_table() {
        for (a, b, eq) in
            [("secret", "secret", true), ("secret", "secreT", false), ("secret", "secret1", false), ("", "", true)]
        {
            assert_eq!(constant_time_eq(a.as_bytes(), b.as_bytes()), eq, "{a} {b}");
        }
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("mật khẩu đủ dài");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("mật khẩu đủ dài", &h));
        assert!(!verify_password("mật khẩu đủ dài ", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("mật khẩu đủ dài"), "a fresh salt each time");
    }
}
