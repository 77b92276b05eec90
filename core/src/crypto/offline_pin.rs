//! Offline PIN verification as the chip kernel will ask it of the PED (EMV Book 3, VERIFY).
//!
//! The shapes follow what vendor PEDs offer (PAX `PedVerifyPlainPin`/`PedVerifyCipherPin`,
//! Sunmi and Newland equivalents): the PED prompts, forms the ISO 9564 format-2 block and sends
//! VERIFY to the card over the ICC slot it controls, so the PIN never reaches the core. The core
//! gives what only the kernel knows (the card's PIN key and challenge) and reads back the card's
//! status word.

use std::time::Duration;

/// The card's RSA key for enciphered offline PIN (the ICC PIN encipherment key, or the ICC key
/// when the card has no separate one), recovered and verified by the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IccPinKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
    /// The 8-byte unpredictable number from GET CHALLENGE, enciphered with the PIN block so a
    /// captured VERIFY cannot be replayed.
    pub challenge: [u8; 8],
}

/// How the PIN goes to the card.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfflinePinMode {
    /// VERIFY with P2 = 0x80: the format-2 block in clear on the ICC contacts.
    Plaintext,
    /// VERIFY with P2 = 0x88: the block enciphered under the card's key.
    Enciphered(IccPinKey),
}

/// One offline PIN attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflinePinRequest {
    pub mode: OfflinePinMode,
    /// The card's PIN try counter when the kernel read it, for the PED's "last try" prompt.
    pub tries_left: Option<u8>,
    pub amount_fen: u64,
    pub timeout: Duration,
}

/// What came of the attempt; the kernel interprets the status word (9000, 63Cx, 6983, 6984).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfflinePinResult {
    /// The card answered VERIFY with this SW1 SW2.
    CardAnswered { status_word: u16 },
    /// The cardholder bypassed PIN entry on the PED.
    Bypassed,
}
