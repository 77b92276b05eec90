//! The kernel's only way to the card: one command APDU out, one response APDU back. T=0
//! procedure bytes are handled here (61xx: GET RESPONSE; 6Cxx: resend with Le = xx, ISO 7816-3
//! and EMV 4.4 Book 1 §9.3), so the steps above see one response per command.

use zeroize::Zeroizing;

use crate::ports::{CardReader, DeviceFault};

/// Bounds what a card can make the kernel send: the whole transaction, and GET RESPONSE chains.
pub const MAX_COMMANDS: usize = 300;
const MAX_GET_RESPONSE: usize = 16;

pub trait IccChannel {
    /// Sends one C-APDU, returns the R-APDU (data + SW1 SW2).
    fn exchange(&mut self, c_apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault>;
}

/// The `CardReader` port as a channel.
#[allow(missing_debug_implementations)]
pub struct ReaderChannel<'a, R: CardReader + ?Sized>(pub &'a R);

impl<R: CardReader + ?Sized> IccChannel for ReaderChannel<'_, R> {
    fn exchange(&mut self, c_apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        self.0.transceive(c_apdu)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    #[error("card reader: {0}")]
    Device(#[from] DeviceFault),
    #[error("response APDU shorter than a status word")]
    NoStatusWord,
    #[error("the card asked for more than {MAX_COMMANDS} commands")]
    TooManyCommands,
}

/// A response APDU split into data and status word.
pub struct Response {
    pub data: Zeroizing<Vec<u8>>,
    pub sw: u16,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Response({} bytes, SW {:04X})", self.data.len(), self.sw)
    }
}

impl Response {
    pub fn ok(&self) -> bool {
        self.sw == 0x9000
    }
}

/// The channel with the T=0 handling and a bound on the commands a card can cause.
#[allow(missing_debug_implementations)]
pub struct Card<'a> {
    channel: &'a mut dyn IccChannel,
    sent: usize,
}

impl<'a> Card<'a> {
    pub fn new(channel: &'a mut dyn IccChannel) -> Card<'a> {
        Card { channel, sent: 0 }
    }

    fn raw(&mut self, apdu: &[u8]) -> Result<Response, ChannelError> {
        self.sent += 1;
        if self.sent > MAX_COMMANDS {
            return Err(ChannelError::TooManyCommands);
        }
        let mut r = self.channel.exchange(apdu)?;
        if r.len() < 2 {
            return Err(ChannelError::NoStatusWord);
        }
        let n = r.len();
        let sw = u16::from_be_bytes([r[n - 2], r[n - 1]]);
        r.truncate(n - 2);
        Ok(Response { data: r, sw })
    }

    /// Sends a case 1–4 command and follows 61xx / 6Cxx.
    pub fn send(&mut self, apdu: &[u8]) -> Result<Response, ChannelError> {
        let mut resp = self.raw(apdu)?;
        if resp.sw >> 8 == 0x6C && apdu.len() >= 4 {
            let mut again = apdu.to_vec();
            let le = (resp.sw & 0xFF) as u8;
            if apdu.len() == 5 || (apdu.len() > 5 && apdu.len() == 6 + usize::from(apdu[4])) {
                if let Some(last) = again.last_mut() {
                    *last = le;
                }
            } else {
                again.push(le);
            }
            resp = self.raw(&again)?;
        }
        let mut data = Zeroizing::new(Vec::new());
        let mut chained = 0;
        while resp.sw >> 8 == 0x61 {
            chained += 1;
            if chained > MAX_GET_RESPONSE {
                return Err(ChannelError::TooManyCommands);
            }
            data.extend_from_slice(&resp.data);
            let le = (resp.sw & 0xFF) as u8;
            resp = self.raw(&[apdu[0] & 0x03, 0xC0, 0x00, 0x00, le])?;
        }
        if !data.is_empty() {
            data.extend_from_slice(&resp.data);
            resp.data = data;
        }
        Ok(resp)
    }
}

/// Command builders (EMV 4.4 Book 3 §6.5).
pub mod cmd {
    pub fn select(aid: &[u8], next: bool) -> Vec<u8> {
        let mut c = vec![
            0x00,
            0xA4,
            0x04,
            if next { 0x02 } else { 0x00 },
            aid.len() as u8,
        ];
        c.extend_from_slice(aid);
        c.push(0x00);
        c
    }

    pub fn read_record(sfi: u8, record: u8) -> Vec<u8> {
        vec![0x00, 0xB2, record, (sfi << 3) | 0x04, 0x00]
    }

    pub fn gpo(pdol_data: &[u8]) -> Vec<u8> {
        let mut c = vec![0x80, 0xA8, 0x00, 0x00, (pdol_data.len() + 2) as u8, 0x83];
        c.push(pdol_data.len() as u8);
        c.extend_from_slice(pdol_data);
        c.push(0x00);
        c
    }

    pub fn get_data(tag: u16) -> Vec<u8> {
        let [p1, p2] = tag.to_be_bytes();
        vec![0x80, 0xCA, p1, p2, 0x00]
    }

    pub fn generate_ac(p1: u8, data: &[u8]) -> Vec<u8> {
        let mut c = vec![0x80, 0xAE, p1, 0x00, data.len() as u8];
        c.extend_from_slice(data);
        c.push(0x00);
        c
    }

    pub fn internal_authenticate(data: &[u8]) -> Vec<u8> {
        let mut c = vec![0x00, 0x88, 0x00, 0x00, data.len() as u8];
        c.extend_from_slice(data);
        c.push(0x00);
        c
    }

    pub fn external_authenticate(data: &[u8]) -> Vec<u8> {
        let mut c = vec![0x00, 0x82, 0x00, 0x00, data.len() as u8];
        c.extend_from_slice(data);
        c
    }

    pub fn get_challenge() -> Vec<u8> {
        vec![0x00, 0x84, 0x00, 0x00, 0x00]
    }
}

#[cfg(test)]
pub(crate) mod script {
    //! A card that answers from a script, for the step tests.
    use super::*;
    use std::collections::VecDeque;

    /// Answers each command with the first unused pair whose recorded command is a prefix of
    /// the one sent; 6A82 when none is left.
    pub struct ScriptedCard {
        pub pairs: VecDeque<(Vec<u8>, Vec<u8>)>,
        pub sent: Vec<Vec<u8>>,
    }

    impl ScriptedCard {
        pub fn new(pairs: &[(&str, &str)]) -> ScriptedCard {
            ScriptedCard {
                pairs: pairs
                    .iter()
                    .map(|(c, r)| (hex::decode(c).unwrap(), hex::decode(r).unwrap()))
                    .collect(),
                sent: Vec::new(),
            }
        }
    }

    impl IccChannel for ScriptedCard {
        fn exchange(&mut self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
            self.sent.push(c.to_vec());
            let pos = self
                .pairs
                .iter()
                .position(|(rc, _)| !rc.is_empty() && c.starts_with(rc));
            Ok(Zeroizing::new(
                match pos.and_then(|p| self.pairs.remove(p)) {
                    Some((_, r)) => r,
                    None => vec![0x6A, 0x82],
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::script::ScriptedCard;
    use super::*;

    /// T=0: 61xx fetches the rest with GET RESPONSE; 6Cxx resends with the right Le.
    #[test]
    fn procedure_bytes() {
        let mut sc = ScriptedCard::new(&[
            ("00B2010C00", "6C05"),
            ("00B2010C05", "70035001419000"),
            ("00A4040007A0000000031010", "6110"),
            ("00C0000010", "6F0E8407A00000000310109000"),
        ]);
        let mut card = Card::new(&mut sc);
        let r = card.send(&cmd::read_record(1, 1)).unwrap();
        assert_eq!((r.sw, r.data.len()), (0x9000, 5));
        let r = card
            .send(&cmd::select(&hex::decode("A0000000031010").unwrap(), false))
            .unwrap();
        assert_eq!(r.sw, 0x9000);
        assert_eq!(r.data[0], 0x6F);
        assert_eq!(sc.sent[1], hex::decode("00B2010C05").unwrap());
    }

    #[test]
    fn too_short_and_too_many() {
        struct Short;
        impl IccChannel for Short {
            fn exchange(&mut self, _: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
                Ok(Zeroizing::new(vec![0x61]))
            }
        }
        let mut s = Short;
        assert_eq!(
            Card::new(&mut s).send(&[0, 0, 0, 0]).unwrap_err(),
            ChannelError::NoStatusWord
        );
        struct Endless;
        impl IccChannel for Endless {
            fn exchange(&mut self, _: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
                Ok(Zeroizing::new(vec![0x61, 0x01]))
            }
        }
        let mut e = Endless;
        assert_eq!(
            Card::new(&mut e).send(&[0, 0, 0, 0]).unwrap_err(),
            ChannelError::TooManyCommands
        );
    }
}
