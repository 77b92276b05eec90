//! Card keys: an issuer master key per card family derives each card's ICC master keys
//! (option A, EMV 4.4 Book 2 §A1.4.1), and those the per-transaction session keys. The
//! cryptography itself is `smartpos_core::crypto::emv_ac`; this module only decides which key
//! and which diversification value each use takes.

use smartpos_core::card::Pan;
use smartpos_core::crypto::{
    EmvAcError, SecretKey, SessionKeyDerivation, application_cryptogram, derive_common_session_key,
    derive_icc_master_key, derive_session_key,
};

/// The issuer's master keys for one card family (one BIN range), as its HSM would hold them.
#[derive(Debug)]
pub struct IssuerMasterKeys {
    /// For application cryptograms (ARQC/TC/AAC) and the ARPC.
    pub ac: SecretKey,
    /// For secure-messaging integrity (the MAC on issuer script commands).
    pub smi: SecretKey,
    /// For secure-messaging confidentiality (kept for completeness; no script here enciphers).
    pub smc: SecretKey,
    pub derivation: SessionKeyDerivation,
}

impl IssuerMasterKeys {
    /// The ICC master keys of the card with this PAN and PAN sequence number.
    pub fn card_keys(&self, pan: &Pan, psn: Option<u8>) -> Result<CardKeys, EmvAcError> {
        let digits = pan.expose_digits();
        Ok(CardKeys {
            ac: derive_icc_master_key(&self.ac, digits, psn)?,
            smi: derive_icc_master_key(&self.smi, digits, psn)?,
            smc: derive_icc_master_key(&self.smc, digits, psn)?,
            derivation: self.derivation,
        })
    }
}

/// One card's ICC master keys (MK_AC, MK_SMI, MK_SMC). `Debug` shows no key material.
#[derive(Debug)]
pub struct CardKeys {
    pub ac: SecretKey,
    pub smi: SecretKey,
    pub smc: SecretKey,
    pub derivation: SessionKeyDerivation,
}

impl Clone for CardKeys {
    fn clone(&self) -> CardKeys {
        CardKeys {
            ac: self.ac.duplicate(),
            smi: self.smi.duplicate(),
            smc: self.smc.duplicate(),
            derivation: self.derivation,
        }
    }
}

impl CardKeys {
    /// The AC session key for this ATC.
    pub fn ac_session(&self, atc: u16) -> Result<SecretKey, EmvAcError> {
        derive_session_key(&self.ac, atc.to_be_bytes(), self.derivation)
    }

    /// The secure-messaging integrity session key. With the EMV common session key derivation
    /// the diversification value R is the application cryptogram of the transaction (Book 2
    /// §A1.3.1, "for secure messaging R = the AC returned in the GENERATE AC"); PBOC cards derive
    /// it from MK_SMI with the ATC exactly as the AC session key.
    pub fn smi_session(&self, atc: u16, cryptogram: &[u8; 8]) -> Result<SecretKey, EmvAcError> {
        match self.derivation {
            SessionKeyDerivation::EmvCommon => {
                let mut r = vec![0u8; block_len(&self.smi)];
                r[..8].copy_from_slice(cryptogram);
                derive_common_session_key(&self.smi, &r)
            }
            _ => derive_session_key(&self.smi, atc.to_be_bytes(), self.derivation),
        }
    }
}

fn block_len(key: &SecretKey) -> usize {
    if key.algorithm() == smartpos_core::crypto::KeyAlgorithm::Sm4 {
        16
    } else {
        8
    }
}

/// The MAC of an issuer script command under secure messaging (EMV 4.4 Book 2 §9.2.3, format
/// 1): over CLA INS P1 P2 Lc (Lc counting the MAC), then — chaining the command to this
/// transaction as PBOC 3.0 part 5 and the Common Core Definitions do — the ATC and the
/// application cryptogram of the first GENERATE AC, then the command data. ISO 9797-1 MAC
/// algorithm 3 with padding method 2 (SM4: algorithm 1) under the SMI session key; the
/// leftmost 4 bytes are sent, as UnionPay cards expect.
pub fn script_mac(
    smi_session: &SecretKey,
    header: [u8; 4],
    lc: u8,
    atc: u16,
    cryptogram: &[u8; 8],
    data: &[u8],
) -> Result<[u8; 4], EmvAcError> {
    let mut input = Vec::with_capacity(16 + data.len());
    input.extend_from_slice(&header);
    input.push(lc);
    input.extend_from_slice(&atc.to_be_bytes());
    input.extend_from_slice(cryptogram);
    input.extend_from_slice(data);
    let full = application_cryptogram(smi_session, &input)?;
    let mut out = [0u8; 4];
    out.copy_from_slice(&full[..4]);
    Ok(out)
}

/// The data the application cryptogram covers, in this order (EMV 4.4 Book 2 §8.1.1, table 26,
/// the recommended minimum set): amount authorised 9F02, amount other 9F03, terminal country
/// 9F1A, TVR 95, transaction currency 5F2A, date 9A, type 9C, unpredictable number 9F37 —
/// these eight as the terminal sent them (CDOL1, or CDOL2 where it repeats them) — then AIP 82,
/// ATC 9F36 and the CVR from the IAD (9F10 bytes 4-7: the CVR length byte and three CVR
/// bytes, as UnionPay and Visa CVN 10 both take them). The issuer rebuilds the same string from
/// the field-55 tags of the same names.
pub const AC_TERMINAL_TAGS: [(u32, usize); 8] = [
    (0x9F02, 6),
    (0x9F03, 6),
    (0x9F1A, 2),
    (0x95, 5),
    (0x5F2A, 2),
    (0x9A, 3),
    (0x9C, 1),
    (0x9F37, 4),
];

/// Builds the cryptogram input; `None` when a terminal value is missing or of the wrong length.
pub fn ac_input<'a>(
    terminal: impl Fn(u32) -> Option<&'a [u8]>,
    aip: [u8; 2],
    atc: u16,
    iad: &[u8],
) -> Option<Vec<u8>> {
    let mut input = Vec::with_capacity(43);
    for (tag, len) in AC_TERMINAL_TAGS {
        let v = terminal(tag)?;
        if v.len() != len {
            return None;
        }
        input.extend_from_slice(v);
    }
    input.extend_from_slice(&aip);
    input.extend_from_slice(&atc.to_be_bytes());
    input.extend_from_slice(iad.get(3..7)?);
    Some(input)
}
