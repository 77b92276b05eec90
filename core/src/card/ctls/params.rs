//! The reader's contactless configuration as data: one row per AID and kernel combination
//! (EMV Contactless Book A §5.7, Book B §3.1), with its limits, its Terminal Transaction
//! Qualifiers and the contact parameters (TACs, application version, DDOL) the kernel shares
//! with the contact kernel. The acquirer's IC-parameter download replaces the table.

use serde::{Deserialize, Serialize};

use crate::card::emv::params::{AidParams, default_aids};

/// Kernel identifiers (EMV Contactless Book B §3.3.2.5, Book A Table 5-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelId {
    /// Kernel 2: Mastercard M/Chip (with CDA).
    Mastercard,
    /// Kernel 3: Visa qVSDC (with fDDA).
    Visa,
    /// Kernel 7: UnionPay qPBOC / QuickPass (with fDDA).
    UnionPay,
}

impl KernelId {
    /// The one-byte identifier a card's directory entry carries in 9F2A.
    pub fn code(self) -> u8 {
        match self {
            KernelId::Mastercard => 0x02,
            KernelId::Visa => 0x03,
            KernelId::UnionPay => 0x07,
        }
    }

    pub fn from_code(code: u8) -> Option<KernelId> {
        match code {
            0x02 => Some(KernelId::Mastercard),
            0x03 => Some(KernelId::Visa),
            0x07 => Some(KernelId::UnionPay),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KernelId::Mastercard => "c2_mastercard",
            KernelId::Visa => "c3_visa",
            KernelId::UnionPay => "qpboc",
        }
    }
}

/// One AID–kernel combination the reader supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtlsAid {
    pub kernel: KernelId,
    /// The contact row of the same AID: AID, label, partial selection, 9F09, TACs, DDOL.
    pub contact: AidParams,
    /// Reader contactless transaction limit: an amount at or above it cannot be tapped (the
    /// card is told to insert). `None`: no limit.
    pub contactless_limit_fen: Option<u64>,
    /// Reader contactless floor limit: above it the card must go online.
    pub floor_limit_fen: u64,
    /// Reader CVM required limit: at or above it a CVM is required; under it no PIN and no
    /// signature (UnionPay QuickPass 小额免密免签).
    pub cvm_required_limit_fen: u64,
    /// A transaction of one currency unit goes online (Book A §3.1.1.2).
    pub status_check: bool,
    /// A zero amount may be tapped (and then goes online); otherwise it is not allowed.
    pub zero_amount_allowed: bool,
    /// 9F66 before pre-processing sets byte 2 (online cryptogram / CVM required).
    #[serde(with = "hex4")]
    pub ttq: [u8; 4],
    /// Kernel C-2 "CVM Capability – CVM Required" (Book C-2 A.1.37, tag DF8118): the CVMs the
    /// reader offers a card over the CVM required limit, coded as byte 2 of Terminal
    /// Capabilities (Book 4 Annex A2). The quick kernels decide from the TTQ instead.
    #[serde(default = "cvm_capability_cvm_required")]
    pub cvm_capability_cvm_required: u8,
    /// Kernel C-2 "CVM Capability – No CVM Required" (A.1.38, DF8119): the same at or under
    /// the limit.
    #[serde(default = "cvm_capability_no_cvm_required")]
    pub cvm_capability_no_cvm_required: u8,
}

/// Over the limit: online PIN (bit 7) or a signature (bit 6), the CVMs a smart POS with a PIN
/// pad and a printer or signature screen performs on a tap (offline PIN cannot be done once the
/// card has gone).
pub const DEFAULT_CVM_CAPABILITY_CVM_REQUIRED: u8 = 0x60;
/// Under the limit: "No CVM required" (bit 4) only, so a card's list settles on no CVM.
pub const DEFAULT_CVM_CAPABILITY_NO_CVM_REQUIRED: u8 = 0x08;

fn cvm_capability_cvm_required() -> u8 {
    DEFAULT_CVM_CAPABILITY_CVM_REQUIRED
}

fn cvm_capability_no_cvm_required() -> u8 {
    DEFAULT_CVM_CAPABILITY_NO_CVM_REQUIRED
}

mod hex4 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8; 4], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 4], D::Error> {
        let v = hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)?;
        <[u8; 4]>::try_from(v.as_slice()).map_err(|_| serde::de::Error::custom("TTQ: 4 bytes"))
    }
}

/// RMB 1,000: UnionPay's QuickPass no-CVM limit (小额免密免签), the default CVM required
/// limit of every row; acquirers configure it per AID.
pub const DEFAULT_NO_CVM_LIMIT_FEN: u64 = 100_000;

/// RMB 5,000: the default reader contactless transaction limit (DF20 in UnionPay's IC
/// parameters), at or over which a card is told to insert. No scheme publishes one figure for a
/// Chinese acquirer's readers; the acquirer's IC-parameter download replaces it. It must stay
/// well over the no-CVM limit, or the tap with online PIN over RMB 1,000 that QuickPass allows
/// could never happen (the sample UnionPay parameters copied through POS SDK demos set DF20
/// equal to their CVM limit, leaving no such room); the demo and the end-to-end tests run with
/// RMB 5,000. A bounded default keeps a reader that never received parameters from taking
/// arbitrarily large taps.
pub const DEFAULT_CONTACTLESS_LIMIT_FEN: u64 = 500_000;

/// TTQ byte 1: qVSDC/qPBOC supported (0x20), contact chip supported (0x10), online PIN (0x04),
/// signature (0x02), ODA for online authorisations (0x01); MSD (0x80) not supported. Byte 3: consumer device CVM supported (0x40).
/// Byte 4: fDDA version 01 supported (0x80). Visa VCPS 2.2 / JR/T 0025.12 Table A.1.
pub const DEFAULT_TTQ: [u8; 4] = [0x37, 0x00, 0x40, 0x80];

/// The default combinations: UnionPay debit, credit and quasi-credit on kernel 7, Visa on
/// kernel 3, Mastercard on kernel 2, each with the contact row of the same AID.
pub fn default_ctls_aids() -> Vec<CtlsAid> {
    let contact = default_aids();
    let row = |aid: &str, kernel| {
        let aid = hex::decode(aid).unwrap_or_default();
        contact.iter().find(|p| p.aid == aid).map(|p| CtlsAid {
            kernel,
            contact: p.clone(),
            contactless_limit_fen: Some(DEFAULT_CONTACTLESS_LIMIT_FEN),
            floor_limit_fen: 0,
            cvm_required_limit_fen: DEFAULT_NO_CVM_LIMIT_FEN,
            status_check: false,
            zero_amount_allowed: false,
            ttq: DEFAULT_TTQ,
            cvm_capability_cvm_required: DEFAULT_CVM_CAPABILITY_CVM_REQUIRED,
            cvm_capability_no_cvm_required: DEFAULT_CVM_CAPABILITY_NO_CVM_REQUIRED,
        })
    };
    [
        ("A000000333010101", KernelId::UnionPay),
        ("A000000333010102", KernelId::UnionPay),
        ("A000000333010103", KernelId::UnionPay),
        ("A0000000031010", KernelId::Visa),
        ("A0000000041010", KernelId::Mastercard),
    ]
    .into_iter()
    .filter_map(|(aid, k)| row(aid, k))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_serde() {
        let t = default_ctls_aids();
        assert_eq!(t.len(), 5);
        assert!(t.iter().all(|a| a.cvm_required_limit_fen == 100_000));
        // Over the no-CVM limit with room for a PIN tap, bounded.
        assert!(t.iter().all(|a| a.contactless_limit_fen == Some(500_000)));
        assert!(
            t.iter().all(|a| a.cvm_capability_cvm_required == 0x60
                && a.cvm_capability_no_cvm_required == 0x08)
        );
        // A table saved before the C-2 capabilities existed still loads, with the defaults.
        let mut old = serde_json::to_value(&t[4]).unwrap();
        let o = old.as_object_mut().unwrap();
        o.remove("cvm_capability_cvm_required");
        o.remove("cvm_capability_no_cvm_required");
        let back: CtlsAid = serde_json::from_value(old).unwrap();
        assert_eq!(back, t[4]);
        let json = serde_json::to_string(&t[0]).unwrap();
        assert!(json.contains("\"37004080\""), "{json}");
        let back: CtlsAid = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t[0]);
        for k in [KernelId::Mastercard, KernelId::Visa, KernelId::UnionPay] {
            assert_eq!(KernelId::from_code(k.code()), Some(k));
        }
    }
}
