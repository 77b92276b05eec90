//! Terminal action analysis (EMV 4.4 Book 3 §10.7): the TVR against the issuer and terminal
//! action codes decides which cryptogram to ask for.

use super::bits::Tvr;
use super::data::TagStore;
use super::outcome::AcType;
use super::params::AidParams;

/// The issuer's codes with Book 3's defaults for absent ones: denial all zeros, online and
/// default all ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionCodes {
    pub denial: [u8; 5],
    pub online: [u8; 5],
    pub default: [u8; 5],
}

impl ActionCodes {
    pub fn issuer(store: &TagStore) -> ActionCodes {
        let code = |tag, absent: u8| {
            store
                .card(tag)
                .and_then(|v| <[u8; 5]>::try_from(v).ok())
                .unwrap_or([absent; 5])
        };
        ActionCodes {
            denial: code(0x9F0E, 0x00),
            online: code(0x9F0F, 0xFF),
            default: code(0x9F0D, 0xFF),
        }
    }

    pub fn terminal(aid: &AidParams) -> ActionCodes {
        ActionCodes {
            denial: aid.tac_denial,
            online: aid.tac_online,
            default: aid.tac_default,
        }
    }
}

/// §10.7 for the first GENERATE AC.
pub fn first_ac(tvr: &Tvr, iac: &ActionCodes, tac: &ActionCodes, online_capable: bool) -> AcType {
    if tvr.matches(&iac.denial) || tvr.matches(&tac.denial) {
        return AcType::Aac;
    }
    if online_capable {
        if tvr.matches(&iac.online) || tvr.matches(&tac.online) {
            AcType::Arqc
        } else {
            AcType::Tc
        }
    } else {
        default_action(tvr, iac, tac)
    }
}

/// §10.7: when the terminal cannot go online (offline-only, or the host did not answer).
pub fn default_action(tvr: &Tvr, iac: &ActionCodes, tac: &ActionCodes) -> AcType {
    if tvr.matches(&iac.default) || tvr.matches(&tac.default) {
        AcType::Aac
    } else {
        AcType::Tc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: [u8; 5] = [0; 5];
    const ALL: [u8; 5] = [0xFF; 5];
    const FLOOR: [u8; 5] = [0, 0, 0, 0x80, 0];

    fn codes(denial: [u8; 5], online: [u8; 5], default: [u8; 5]) -> ActionCodes {
        ActionCodes {
            denial,
            online,
            default,
        }
    }

    /// Rows: TVR, IAC, TAC, online capable, expected (Book 3 §10.7 steps in order).
    #[test]
    fn table() {
        let none = codes(ZERO, ZERO, ZERO);
        let rows = [
            (ZERO, none, none, true, AcType::Tc),
            (FLOOR, codes(FLOOR, ZERO, ZERO), none, true, AcType::Aac),
            (FLOOR, none, codes(FLOOR, ZERO, ZERO), true, AcType::Aac),
            (FLOOR, codes(ZERO, FLOOR, ZERO), none, true, AcType::Arqc),
            (FLOOR, none, codes(ZERO, FLOOR, ZERO), true, AcType::Arqc),
            (FLOOR, none, none, true, AcType::Tc),
            (FLOOR, none, codes(ZERO, ALL, FLOOR), false, AcType::Aac),
            (FLOOR, none, codes(ZERO, ALL, ZERO), false, AcType::Tc),
        ];
        for (tvr, iac, tac, online, want) in rows {
            assert_eq!(
                first_ac(&Tvr(tvr), &iac, &tac, online),
                want,
                "{tvr:?} {iac:?} {tac:?}"
            );
        }
    }

    #[test]
    fn absent_issuer_codes_take_the_book_defaults() {
        let iac = ActionCodes::issuer(&TagStore::default());
        assert_eq!(iac, codes(ZERO, ALL, ALL));
        // Any TVR bit then sends the transaction online, or declines when it cannot go.
        let tac = codes(ZERO, ZERO, ZERO);
        assert_eq!(first_ac(&Tvr(FLOOR), &iac, &tac, true), AcType::Arqc);
        assert_eq!(default_action(&Tvr(FLOOR), &iac, &tac), AcType::Aac);
        assert_eq!(default_action(&Tvr(ZERO), &iac, &tac), AcType::Tc);
    }
}
