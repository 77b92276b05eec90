//! The acquirer dialect as one configuration record: which MAC the acquirer checks, the TPDU and
//! application header every frame carries, whether card data is enciphered, the PIN block format.
//! A new acquirer is a new record, never constants spread through the engine (DESIGN.md, "spec as
//! data"). The default is chosen for safety: ANSI X9.19 MAC, not the UnionPay ECB MAC.
//!
//! Why X9.19 by default: the UnionPay ECB MAC XORs the message's 8-byte blocks before one
//! encryption, so an on-path attacker can change a byte of one block (field 39 "00" → "05") and
//! undo the change in another block at the same offset (a digit of the RRN) and the MAC still
//! verifies. X9.19 chains the blocks through TDES/DES (CBC), so any edit changes the tag.

use crate::codec::iso8583::Tpdu;
use crate::crypto::{MacAlgorithm, PinBlockFormat};

/// One acquirer's message conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquirerDialect {
    /// The MAC of field 64; the host must check the same.
    pub mac: MacAlgorithm,
    pub tpdu: Tpdu,
    /// The 6-byte application header of every frame.
    pub header: [u8; 6],
    /// Fields 2, 35 and 36 enciphered under the TDK, with field 53's flag set.
    pub track_encryption: bool,
    /// The PIN block format of field 52 (field 53.1 says which).
    pub pin_block: PinBlockFormat,
}

impl AcquirerDialect {
    /// A UnionPay-style acquirer with the given MAC; TPDU 60 0001 0000, header 60 22 00 00 00 00,
    /// ISO 9564 format 0 PIN blocks, no track encryption.
    pub fn unionpay(mac: MacAlgorithm) -> AcquirerDialect {
        AcquirerDialect {
            mac,
            tpdu: Tpdu::new(0x0001, 0x0000),
            header: [0x60, 0x22, 0x00, 0x00, 0x00, 0x00],
            track_encryption: false,
            pin_block: PinBlockFormat::Iso0,
        }
    }

    /// Field 53, security-related control information (n16): 53.1 PIN block format (1: ISO 9564
    /// format 0, with the PAN; 2: without it), 53.2 encryption algorithm (6: double-length TDES),
    /// 53.3 track data encrypted (1) or not (0), then zero filler.
    pub fn security_control(&self) -> String {
        let format = match self.pin_block {
            PinBlockFormat::Iso0 => '1',
            _ => '2',
        };
        let tracks = if self.track_encryption { '1' } else { '0' };
        format!("{format}6{tracks}0000000000000")
    }
}

impl Default for AcquirerDialect {
    fn default() -> AcquirerDialect {
        AcquirerDialect::unionpay(MacAlgorithm::X919)
    }
}

/// The MAC algorithm by its name on the command line and in configuration files.
pub fn mac_by_name(name: &str) -> Option<MacAlgorithm> {
    match name {
        "cup-ecb" => Some(MacAlgorithm::CupEcb),
        "x919" => Some(MacAlgorithm::X919),
        "sm4" => Some(MacAlgorithm::Sm4Cbc),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_x919_and_field_53_follows_the_dialect() {
        let d = AcquirerDialect::default();
        assert_eq!(d.mac, MacAlgorithm::X919);
        // The value every request carried before the dialect was a record.
        assert_eq!(d.security_control(), "1600000000000000");
        let encrypted = AcquirerDialect {
            track_encryption: true,
            ..d
        };
        assert_eq!(encrypted.security_control(), "1610000000000000");
        assert_eq!(encrypted.security_control().len(), 16);
    }

    #[test]
    fn mac_names_round_trip_the_cli_words() {
        assert_eq!(mac_by_name("cup-ecb"), Some(MacAlgorithm::CupEcb));
        assert_eq!(mac_by_name("x919"), Some(MacAlgorithm::X919));
        assert_eq!(mac_by_name("sm4"), Some(MacAlgorithm::Sm4Cbc));
        assert_eq!(mac_by_name("X9.19"), None);
    }
}
