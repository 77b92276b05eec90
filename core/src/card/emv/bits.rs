//! Named bits of the EMV bit-field data elements: TVR (Book 3 Annex C5), TSI (Annex C6), AIP
//! (Annex C1), application usage control (Annex C2), terminal capabilities and additional
//! terminal capabilities (Book 4 Annex A2, A3). Each is a table so a decoder can list them.

/// One named bit: byte index (0-based) and mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedBit {
    pub byte: usize,
    pub mask: u8,
    pub name: &'static str,
}

const fn b(byte: usize, mask: u8, name: &'static str) -> NamedBit {
    NamedBit { byte, mask, name }
}

/// The names of the bits set in `value` according to `table`.
pub fn set_bits(table: &[NamedBit], value: &[u8]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|nb| value.get(nb.byte).is_some_and(|v| v & nb.mask != 0))
        .map(|nb| nb.name)
        .collect()
}

/// TVR bits, EMV 4.4 Book 3 Annex C5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TvrBit {
    OdaNotPerformed,
    SdaFailed,
    IccDataMissing,
    CardOnExceptionFile,
    DdaFailed,
    CdaFailed,
    SdaSelected,
    DifferentApplicationVersions,
    ExpiredApplication,
    ApplicationNotYetEffective,
    ServiceNotAllowed,
    NewCard,
    CardholderVerificationFailed,
    UnrecognisedCvm,
    PinTryLimitExceeded,
    PinPadNotWorking,
    PinNotEntered,
    OnlinePinEntered,
    FloorLimitExceeded,
    LowerConsecutiveOfflineLimitExceeded,
    UpperConsecutiveOfflineLimitExceeded,
    RandomlySelectedOnline,
    MerchantForcedOnline,
    DefaultTdolUsed,
    IssuerAuthenticationFailed,
    ScriptFailedBeforeFinalGenerateAc,
    ScriptFailedAfterFinalGenerateAc,
}

impl TvrBit {
    pub const fn position(self) -> (usize, u8) {
        use TvrBit::*;
        match self {
            OdaNotPerformed => (0, 0x80),
            SdaFailed => (0, 0x40),
            IccDataMissing => (0, 0x20),
            CardOnExceptionFile => (0, 0x10),
            DdaFailed => (0, 0x08),
            CdaFailed => (0, 0x04),
            SdaSelected => (0, 0x02),
            DifferentApplicationVersions => (1, 0x80),
            ExpiredApplication => (1, 0x40),
            ApplicationNotYetEffective => (1, 0x20),
            ServiceNotAllowed => (1, 0x10),
            NewCard => (1, 0x08),
            CardholderVerificationFailed => (2, 0x80),
            UnrecognisedCvm => (2, 0x40),
            PinTryLimitExceeded => (2, 0x20),
            PinPadNotWorking => (2, 0x10),
            PinNotEntered => (2, 0x08),
            OnlinePinEntered => (2, 0x04),
            FloorLimitExceeded => (3, 0x80),
            LowerConsecutiveOfflineLimitExceeded => (3, 0x40),
            UpperConsecutiveOfflineLimitExceeded => (3, 0x20),
            RandomlySelectedOnline => (3, 0x10),
            MerchantForcedOnline => (3, 0x08),
            DefaultTdolUsed => (4, 0x80),
            IssuerAuthenticationFailed => (4, 0x40),
            ScriptFailedBeforeFinalGenerateAc => (4, 0x20),
            ScriptFailedAfterFinalGenerateAc => (4, 0x10),
        }
    }
}

/// Terminal verification results (tag 95).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tvr(pub [u8; 5]);

impl Tvr {
    pub fn set(&mut self, bit: TvrBit) {
        let (i, m) = bit.position();
        self.0[i] |= m;
    }

    pub fn is_set(&self, bit: TvrBit) -> bool {
        let (i, m) = bit.position();
        self.0[i] & m != 0
    }

    /// Whether any bit set here is also set in an action code (Book 3 §10.7).
    pub fn matches(&self, action_code: &[u8; 5]) -> bool {
        self.0.iter().zip(action_code).any(|(a, b)| a & b != 0)
    }
}

/// TSI bits, EMV 4.4 Book 3 Annex C6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsiBit {
    OdaPerformed,
    CardholderVerificationPerformed,
    CardRiskManagementPerformed,
    IssuerAuthenticationPerformed,
    TerminalRiskManagementPerformed,
    ScriptProcessingPerformed,
}

impl TsiBit {
    pub const fn position(self) -> (usize, u8) {
        use TsiBit::*;
        match self {
            OdaPerformed => (0, 0x80),
            CardholderVerificationPerformed => (0, 0x40),
            CardRiskManagementPerformed => (0, 0x20),
            IssuerAuthenticationPerformed => (0, 0x10),
            TerminalRiskManagementPerformed => (0, 0x08),
            ScriptProcessingPerformed => (0, 0x04),
        }
    }
}

/// Transaction status information (tag 9B).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tsi(pub [u8; 2]);

impl Tsi {
    pub fn set(&mut self, bit: TsiBit) {
        let (i, m) = bit.position();
        self.0[i] |= m;
    }

    pub fn is_set(&self, bit: TsiBit) -> bool {
        let (i, m) = bit.position();
        self.0[i] & m != 0
    }
}

pub const TVR_BITS: &[NamedBit] = &[
    b(0, 0x80, "offline data authentication was not performed"),
    b(0, 0x40, "SDA failed"),
    b(0, 0x20, "ICC data missing"),
    b(0, 0x10, "card appears on terminal exception file"),
    b(0, 0x08, "DDA failed"),
    b(0, 0x04, "CDA failed"),
    b(0, 0x02, "SDA selected"),
    b(
        1,
        0x80,
        "ICC and terminal have different application versions",
    ),
    b(1, 0x40, "expired application"),
    b(1, 0x20, "application not yet effective"),
    b(1, 0x10, "requested service not allowed for card product"),
    b(1, 0x08, "new card"),
    b(2, 0x80, "cardholder verification was not successful"),
    b(2, 0x40, "unrecognised CVM"),
    b(2, 0x20, "PIN try limit exceeded"),
    b(
        2,
        0x10,
        "PIN entry required and PIN pad not present or not working",
    ),
    b(
        2,
        0x08,
        "PIN entry required, PIN pad present, but PIN was not entered",
    ),
    b(2, 0x04, "online PIN entered"),
    b(3, 0x80, "transaction exceeds floor limit"),
    b(3, 0x40, "lower consecutive offline limit exceeded"),
    b(3, 0x20, "upper consecutive offline limit exceeded"),
    b(
        3,
        0x10,
        "transaction selected randomly for online processing",
    ),
    b(3, 0x08, "merchant forced transaction online"),
    b(4, 0x80, "default TDOL used"),
    b(4, 0x40, "issuer authentication failed"),
    b(4, 0x20, "script processing failed before final GENERATE AC"),
    b(4, 0x10, "script processing failed after final GENERATE AC"),
];

pub const TSI_BITS: &[NamedBit] = &[
    b(0, 0x80, "offline data authentication was performed"),
    b(0, 0x40, "cardholder verification was performed"),
    b(0, 0x20, "card risk management was performed"),
    b(0, 0x10, "issuer authentication was performed"),
    b(0, 0x08, "terminal risk management was performed"),
    b(0, 0x04, "script processing was performed"),
];

/// Application interchange profile (tag 82), Annex C1.
pub const AIP_BITS: &[NamedBit] = &[
    b(0, 0x40, "SDA supported"),
    b(0, 0x20, "DDA supported"),
    b(0, 0x10, "cardholder verification is supported"),
    b(0, 0x08, "terminal risk management is to be performed"),
    b(0, 0x04, "issuer authentication is supported"),
    b(0, 0x02, "on device cardholder verification is supported"),
    b(0, 0x01, "CDA supported"),
    b(1, 0x80, "EMV mode is supported (contactless)"),
];

/// Application usage control (tag 9F07), Annex C2.
pub const AUC_BITS: &[NamedBit] = &[
    b(0, 0x80, "valid for domestic cash transactions"),
    b(0, 0x40, "valid for international cash transactions"),
    b(0, 0x20, "valid for domestic goods"),
    b(0, 0x10, "valid for international goods"),
    b(0, 0x08, "valid for domestic services"),
    b(0, 0x04, "valid for international services"),
    b(0, 0x02, "valid at ATMs"),
    b(0, 0x01, "valid at terminals other than ATMs"),
    b(1, 0x80, "domestic cashback allowed"),
    b(1, 0x40, "international cashback allowed"),
];

/// Terminal capabilities (tag 9F33), Book 4 Annex A2.
pub const TERMINAL_CAPABILITIES_BITS: &[NamedBit] = &[
    b(0, 0x80, "manual key entry"),
    b(0, 0x40, "magnetic stripe"),
    b(0, 0x20, "IC with contacts"),
    b(1, 0x80, "plaintext PIN for ICC verification"),
    b(1, 0x40, "enciphered PIN for online verification"),
    b(1, 0x20, "signature (paper)"),
    b(1, 0x10, "enciphered PIN for offline verification"),
    b(1, 0x08, "no CVM required"),
    b(2, 0x80, "SDA"),
    b(2, 0x40, "DDA"),
    b(2, 0x20, "card capture"),
    b(2, 0x08, "CDA"),
];

/// Additional terminal capabilities (tag 9F40), Book 4 Annex A3.
pub const ADDITIONAL_CAPABILITIES_BITS: &[NamedBit] = &[
    b(0, 0x80, "cash"),
    b(0, 0x40, "goods"),
    b(0, 0x20, "services"),
    b(0, 0x10, "cashback"),
    b(0, 0x08, "inquiry"),
    b(0, 0x04, "transfer"),
    b(0, 0x02, "payment"),
    b(0, 0x01, "administrative"),
    b(1, 0x80, "cash deposit"),
    b(2, 0x80, "numeric keys"),
    b(2, 0x40, "alphabetic and special characters keys"),
    b(2, 0x20, "command keys"),
    b(2, 0x10, "function keys"),
    b(3, 0x80, "print, attendant"),
    b(3, 0x40, "print, cardholder"),
    b(3, 0x20, "display, attendant"),
    b(3, 0x10, "display, cardholder"),
    b(3, 0x02, "code table 10"),
    b(3, 0x01, "code table 9"),
    b(4, 0x80, "code table 8"),
    b(4, 0x40, "code table 7"),
    b(4, 0x20, "code table 6"),
    b(4, 0x10, "code table 5"),
    b(4, 0x08, "code table 4"),
    b(4, 0x04, "code table 3"),
    b(4, 0x02, "code table 2"),
    b(4, 0x01, "code table 1"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every TvrBit lands where Annex C5 puts it, and the decoder table agrees.
    #[test]
    fn tvr_bits_match_the_table() {
        use TvrBit::*;
        let all = [
            OdaNotPerformed,
            SdaFailed,
            IccDataMissing,
            CardOnExceptionFile,
            DdaFailed,
            CdaFailed,
            SdaSelected,
            DifferentApplicationVersions,
            ExpiredApplication,
            ApplicationNotYetEffective,
            ServiceNotAllowed,
            NewCard,
            CardholderVerificationFailed,
            UnrecognisedCvm,
            PinTryLimitExceeded,
            PinPadNotWorking,
            PinNotEntered,
            OnlinePinEntered,
            FloorLimitExceeded,
            LowerConsecutiveOfflineLimitExceeded,
            UpperConsecutiveOfflineLimitExceeded,
            RandomlySelectedOnline,
            MerchantForcedOnline,
            DefaultTdolUsed,
            IssuerAuthenticationFailed,
            ScriptFailedBeforeFinalGenerateAc,
            ScriptFailedAfterFinalGenerateAc,
        ];
        assert_eq!(all.len(), TVR_BITS.len());
        for (bit, row) in all.iter().zip(TVR_BITS) {
            let mut tvr = Tvr::default();
            tvr.set(*bit);
            assert_eq!(bit.position(), (row.byte, row.mask), "{bit:?}");
            assert_eq!(set_bits(TVR_BITS, &tvr.0), vec![row.name]);
        }
        // Annex C5 byte 4 bit 8: '80' in the fourth byte.
        let mut tvr = Tvr::default();
        tvr.set(FloorLimitExceeded);
        assert_eq!(tvr.0, [0, 0, 0, 0x80, 0]);
        assert!(tvr.matches(&[0, 0, 0, 0x80, 0]) && !tvr.matches(&[0xFF, 0xFF, 0xFF, 0x7F, 0xFF]));
    }

    #[test]
    fn tsi_bits() {
        let mut tsi = Tsi::default();
        tsi.set(TsiBit::OdaPerformed);
        tsi.set(TsiBit::TerminalRiskManagementPerformed);
        assert_eq!(tsi.0, [0x88, 0]);
        assert_eq!(set_bits(TSI_BITS, &tsi.0).len(), 2);
    }
}
