//! Pre-processing (EMV Contactless Book A §3.1.1): for each combination, before the card is
//! in the field, decide from the amount whether it may be used, whether the card must go online
//! and whether a CVM is required, and prepare the TTQ (9F66) it will be sent.

use super::params::CtlsAid;

/// TTQ byte 2 bit 8 and bit 7 (VCPS 2.2 / JR/T 0025.12 Table A.1).
pub const TTQ_ONLINE_CRYPTOGRAM_REQUIRED: u8 = 0x80;
pub const TTQ_CVM_REQUIRED: u8 = 0x40;
/// TTQ byte 1 bits: offline-only reader, online PIN, signature.
pub const TTQ_OFFLINE_ONLY: u8 = 0x08;
pub const TTQ_ONLINE_PIN: u8 = 0x04;
pub const TTQ_SIGNATURE: u8 = 0x02;
/// TTQ byte 1 bit 1: offline data authentication for online authorisations supported.
pub const TTQ_ODA_FOR_ONLINE: u8 = 0x01;
/// TTQ byte 3 bit 7: consumer device CVM supported.
pub const TTQ_CDCVM: u8 = 0x40;

/// The pre-processing indicators of one combination (Book A Table 5-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indicators {
    pub not_allowed: bool,
    pub status_check: bool,
    pub zero_amount: bool,
    pub contactless_limit_exceeded: bool,
    pub floor_limit_exceeded: bool,
    pub cvm_required_limit_exceeded: bool,
    /// The TTQ with byte 2 set from the indicators.
    pub ttq: [u8; 4],
}

impl Indicators {
    pub fn online_required(&self) -> bool {
        self.ttq[1] & TTQ_ONLINE_CRYPTOGRAM_REQUIRED != 0
    }

    pub fn cvm_required(&self) -> bool {
        self.ttq[1] & TTQ_CVM_REQUIRED != 0
    }
}

/// Book A §3.1.1.1–3.1.1.8 for one combination and amount.
pub fn indicators(aid: &CtlsAid, amount_fen: u64, online_capable: bool) -> Indicators {
    let status_check = aid.status_check && amount_fen == 100;
    let zero_amount = amount_fen == 0;
    let contactless_limit_exceeded = aid
        .contactless_limit_fen
        .is_some_and(|limit| amount_fen >= limit);
    let floor_limit_exceeded = amount_fen > aid.floor_limit_fen;
    let cvm_required_limit_exceeded = amount_fen >= aid.cvm_required_limit_fen;
    let not_allowed = contactless_limit_exceeded || (zero_amount && !aid.zero_amount_allowed);
    let mut ttq = aid.ttq;
    ttq[1] &= !(TTQ_ONLINE_CRYPTOGRAM_REQUIRED | TTQ_CVM_REQUIRED);
    if !online_capable {
        ttq[0] |= TTQ_OFFLINE_ONLY;
        ttq[0] &= !TTQ_ONLINE_PIN;
    }
    if online_capable && (status_check || zero_amount || floor_limit_exceeded) {
        ttq[1] |= TTQ_ONLINE_CRYPTOGRAM_REQUIRED;
    }
    if cvm_required_limit_exceeded {
        ttq[1] |= TTQ_CVM_REQUIRED;
    }
    Indicators {
        not_allowed,
        status_check,
        zero_amount,
        contactless_limit_exceeded,
        floor_limit_exceeded,
        cvm_required_limit_exceeded,
        ttq,
    }
}

#[cfg(test)]
mod tests {
    use super::super::params::default_ctls_aids;
    use super::*;

    fn quickpass() -> CtlsAid {
        let mut a = default_ctls_aids().remove(0);
        a.contactless_limit_fen = Some(500_000);
        a.floor_limit_fen = 50_000;
        a
    }

    /// Book A §3.1.1: each indicator at its boundary (limits "greater than or equal" for the
    /// contactless and CVM required limits, "greater than" for the floor limit).
    #[test]
    fn boundaries() {
        let a = quickpass();
        let i = indicators(&a, 50_000, true);
        assert!(!i.online_required() && !i.cvm_required() && !i.not_allowed);
        assert_eq!(i.ttq, [0x37, 0x00, 0x40, 0x80]);
        let i = indicators(&a, 50_001, true);
        assert!(i.online_required() && !i.cvm_required());
        let i = indicators(&a, 99_999, true);
        assert!(!i.cvm_required(), "RMB 999.99: no CVM (小额免密免签)");
        let i = indicators(&a, 100_000, true);
        assert!(i.cvm_required());
        assert_eq!(i.ttq[1], 0xC0);
        assert!(indicators(&a, 500_000, true).not_allowed);
        assert!(!indicators(&a, 499_999, true).not_allowed);
    }

    #[test]
    fn zero_amount_status_check_and_offline_reader() {
        let mut a = quickpass();
        assert!(indicators(&a, 0, true).not_allowed);
        a.zero_amount_allowed = true;
        let i = indicators(&a, 0, true);
        assert!(!i.not_allowed && i.online_required());
        a.status_check = true;
        a.floor_limit_fen = 1_000;
        assert!(indicators(&a, 100, true).online_required());
        assert!(!indicators(&a, 200, true).online_required());
        let i = indicators(&a, 5_000, false);
        assert!(
            !i.online_required(),
            "an offline-only reader never asks for online"
        );
        assert_eq!(
            i.ttq[0] & (TTQ_OFFLINE_ONLY | TTQ_ONLINE_PIN),
            TTQ_OFFLINE_ONLY
        );
    }
}
