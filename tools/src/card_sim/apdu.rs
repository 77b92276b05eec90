//! Command APDUs as a card reads them (ISO/IEC 7816-4:2020 §5.1 command-response pairs; EMV 4.4
//! Book 1 §9.4 for the cases T=0 and T=1 carry) and the status words a card answers with
//! (EMV 4.4 Book 3 §6.3.5 and Annex A, ISO 7816-4 §5.6).

/// Status words this card uses. Each is named by its meaning in ISO 7816-4 §5.6 / EMV Book 3.
pub mod sw {
    pub const OK: u16 = 0x9000;
    /// Selected file deactivated / application blocked (EMV Book 1 §12.3.3: the terminal
    /// skips the application).
    pub const SELECTED_FILE_INVALIDATED: u16 = 0x6283;
    /// Verification failed, `x` tries left (ISO 7816-4 §5.6 table 5, "63Cx").
    pub const fn verify_failed(tries_left: u8) -> u16 {
        0x63C0 | (tries_left as u16 & 0x0F)
    }
    pub const WRONG_LENGTH: u16 = 0x6700;
    pub const SECURITY_STATUS_NOT_SATISFIED: u16 = 0x6982;
    /// Authentication method (PIN) blocked.
    pub const AUTH_METHOD_BLOCKED: u16 = 0x6983;
    /// Referenced data invalidated (PIN tries exhausted at VERIFY with a blocked counter).
    pub const REFERENCE_DATA_INVALIDATED: u16 = 0x6984;
    pub const CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
    pub const WRONG_DATA: u16 = 0x6A80;
    pub const FUNCTION_NOT_SUPPORTED: u16 = 0x6A81;
    pub const FILE_NOT_FOUND: u16 = 0x6A82;
    pub const RECORD_NOT_FOUND: u16 = 0x6A83;
    pub const INCORRECT_P1_P2: u16 = 0x6A86;
    pub const REFERENCED_DATA_NOT_FOUND: u16 = 0x6A88;
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
    /// Issuer authentication failed at EXTERNAL AUTHENTICATE (EMV 4.4 Book 3 §6.5.4.4).
    pub const AUTHENTICATION_FAILED: u16 = 0x6300;
    /// Secure messaging data objects incorrect (a script MAC that does not verify).
    pub const SM_DATA_INCORRECT: u16 = 0x6988;
    pub const NO_PRECISE_DIAGNOSIS: u16 = 0x6F00;
}

/// One parsed command. `data` is empty for cases 1 and 2; `le` is `None` for cases 1 and 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: &'a [u8],
    pub le: Option<usize>,
}

/// Why a byte string is not a command APDU; the card answers 6700 (wrong length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl<'a> Command<'a> {
    /// Parses the short-length forms (ISO 7816-4 §5.1, cases 1 to 4 with Lc/Le on one byte);
    /// EMV uses no extended lengths. Le = 00 means 256.
    pub fn parse(bytes: &'a [u8]) -> Result<Command<'a>, Malformed> {
        let (header, body) = bytes.split_at_checked(4).ok_or(Malformed)?;
        let [cla, ins, p1, p2] = [header[0], header[1], header[2], header[3]];
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let (data, le) = match body {
            [] => (&body[..0], None),
            [le] => (&body[..0], Some(short_le(*le))),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                if lc == 0 {
                    return Err(Malformed);
                }
                match rest.len() {
                    n if n == lc => (rest, None),
                    n if n == lc + 1 => (&rest[..lc], Some(short_le(rest[lc]))),
                    _ => return Err(Malformed),
                }
            }
        };
        Ok(Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }

    /// Whether CLA announces secure messaging (ISO 7816-4 §5.4.1: b4-b3 of an interindustry
    /// CLA, or the proprietary 8x class with b3 set, as EMV Book 3 §6.3.2 issuer scripts use).
    pub fn secure_messaging(&self) -> bool {
        self.cla & 0x0C != 0
    }
}

/// A response: data then SW1 SW2.
pub fn respond(data: &[u8], status: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(&status.to_be_bytes());
    out
}

pub fn status(status: u16) -> Vec<u8> {
    respond(&[], status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_cases() {
        let c1 = Command::parse(&[0x00, 0x84, 0, 0]).expect("case 1");
        assert_eq!((c1.data.len(), c1.le), (0, None));
        let c2 = Command::parse(&[0x00, 0x84, 0, 0, 0x00]).expect("case 2");
        assert_eq!(c2.le, Some(256));
        let c3 = Command::parse(&[0x00, 0x20, 0, 0x80, 2, 0xAA, 0xBB]).expect("case 3");
        assert_eq!((c3.data, c3.le), (&[0xAA, 0xBB][..], None));
        let c4 = Command::parse(&[0x00, 0xA4, 4, 0, 2, 0xAA, 0xBB, 0]).expect("case 4");
        assert_eq!((c4.data, c4.le), (&[0xAA, 0xBB][..], Some(256)));
    }

    #[test]
    fn refuses_inconsistent_lengths() {
        assert_eq!(Command::parse(&[0x00, 0xA4, 4]), Err(Malformed));
        assert_eq!(Command::parse(&[0x00, 0xA4, 4, 0, 5, 1, 2]), Err(Malformed));
        assert_eq!(Command::parse(&[0x00, 0xA4, 4, 0, 0, 0]), Err(Malformed));
    }
}
