//! Where random bytes come from: ring's system generator in production, fixed bytes in tests.

use super::CryptoError;

/// A source of random bytes. ring's `SecureRandom` is sealed, so this small trait lets tests
/// substitute fixed bytes and get deterministic PIN blocks and nonces.
pub trait RandomSource {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// The operating system's CSPRNG through `ring::rand::SystemRandom`.
#[derive(Debug)]
pub struct SystemRandomSource(ring::rand::SystemRandom);

impl SystemRandomSource {
    pub fn new() -> Self {
        Self(ring::rand::SystemRandom::new())
    }
}

impl Default for SystemRandomSource {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomSource for SystemRandomSource {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        ring::rand::SecureRandom::fill(&self.0, dest).map_err(|_| CryptoError::RandomFailure)
    }
}

/// Replays the given bytes cyclically: deterministic PIN blocks and nonces for test vectors.
/// Test builds only — a fixed nonce under AES-GCM would let anyone who sees two sealed blobs
/// recover their XOR, so no shipped code path can be handed one.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct FixedRandom(pub Vec<u8>);

#[cfg(test)]
impl RandomSource for FixedRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        if self.0.is_empty() {
            return Err(CryptoError::RandomFailure);
        }
        for (d, s) in dest.iter_mut().zip(self.0.iter().cycle()) {
            *d = *s;
        }
        Ok(())
    }
}
