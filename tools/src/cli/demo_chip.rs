//! The demo's chip cards: a virtual UnionPay card with real keys goes into the scripted reader,
//! the contact kernel runs against it, and the simulator plays issuer. What the card and the
//! issuer said (the cryptograms, the ARPC) is read from the GENERATE AC and EXTERNAL
//! AUTHENTICATE exchanges only, so the capture never holds track data or a PAN.

use std::sync::{Arc, Mutex};

use smartpos_core::codec::tlv;
use smartpos_core::ports::testing::ScriptedCardReader;
use smartpos_core::ports::{CardPresentation, CardReader};

use super::CliError;
use crate::card_sim::VirtualCard;

const GENERATE_AC: u8 = 0xAE;
const EXTERNAL_AUTHENTICATE: u8 = 0x82;

/// One C-APDU and the card's R-APDU.
type Exchange = (Vec<u8>, Vec<u8>);

/// The GENERATE AC and EXTERNAL AUTHENTICATE exchanges of one inserted card.
#[derive(Debug, Clone, Default)]
pub(super) struct ChipExchanges {
    pairs: Arc<Mutex<Vec<Exchange>>>,
}

/// Puts the catalogue card `name` into the reader's slot.
pub(super) fn insert(reader: &ScriptedCardReader, name: &str) -> Result<ChipExchanges, CliError> {
    let card = VirtualCard::named(name).map_err(|e| CliError::new(format!("chip card: {e}")))?;
    let exchanges = ChipExchanges::default();
    let log = exchanges.pairs.clone();
    reader.present(CardPresentation::ContactChip);
    reader.set_responder(move |apdu| {
        let answer = card.transceive(apdu)?.to_vec();
        if matches!(apdu.get(1), Some(&GENERATE_AC | &EXTERNAL_AUTHENTICATE)) {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((apdu.to_vec(), answer.clone()));
        }
        Ok(answer)
    });
    Ok(exchanges)
}

impl ChipExchanges {
    /// One line per cryptogram the card produced and per ARPC the issuer sent it.
    pub(super) fn lines(&self) -> Vec<String> {
        let pairs = self.pairs.lock().unwrap_or_else(|p| p.into_inner());
        let mut lines = Vec::new();
        let mut gen_ac = 0;
        for (command, answer) in pairs.iter() {
            match command.get(1) {
                Some(&GENERATE_AC) => {
                    gen_ac += 1;
                    if let Some((cid, atc, ac)) = cryptogram(answer) {
                        lines.push(format!(
                            "GENERATE AC {gen_ac}: {} {} (ATC {})",
                            cryptogram_name(cid),
                            hex::encode_upper(ac),
                            hex::encode_upper(atc)
                        ));
                    }
                }
                Some(&EXTERNAL_AUTHENTICATE) => {
                    let arpc = command
                        .get(5..13)
                        .map(hex::encode_upper)
                        .unwrap_or_default();
                    let sw = answer.get(answer.len().saturating_sub(2)..).unwrap_or(&[]);
                    lines.push(format!(
                        "issuer ARPC {arpc} (tag 91), card's EXTERNAL AUTHENTICATE: {}",
                        if sw == [0x90, 0x00] {
                            "verified"
                        } else {
                            "refused"
                        }
                    ));
                }
                _ => {}
            }
        }
        lines
    }
}

/// CID, ATC and AC of a GENERATE AC answer in format 1 (80) or format 2 (77), EMV 4.4 Book 3
/// 6.5.5.4.
fn cryptogram(answer: &[u8]) -> Option<(u8, Vec<u8>, Vec<u8>)> {
    let body = answer.get(..answer.len().checked_sub(2)?)?;
    let objects = tlv::parse(body).ok()?;
    let top = objects.first()?;
    match top.tag {
        0x80 => {
            let v = top.bytes()?;
            Some((*v.first()?, v.get(1..3)?.to_vec(), v.get(3..11)?.to_vec()))
        }
        0x77 => {
            let inner = top.children();
            let get = |tag| tlv::find(inner, tag).and_then(tlv::Tlv::bytes);
            Some((
                *get(0x9F27)?.first()?,
                get(0x9F36)?.to_vec(),
                get(0x9F26)?.to_vec(),
            ))
        }
        _ => None,
    }
}

fn cryptogram_name(cid: u8) -> &'static str {
    match cid & 0xC0 {
        0x80 => "ARQC",
        0x40 => "TC",
        _ => "AAC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_answer_formats_give_the_cryptogram() {
        // Format 1: 80 0B CID ATC(2) AC(8), then 9000.
        let f1 = hex::decode("800B80000511223344556677889000").unwrap_or_default();
        assert_eq!(
            cryptogram(&f1),
            Some((
                0x80,
                vec![0, 5],
                hex::decode("1122334455667788").unwrap_or_default()
            ))
        );
        // Format 2: 77 with 9F27, 9F36, 9F26.
        let f2 =
            hex::decode("77149F2701409F360200069F260811223344556677889000").unwrap_or_default();
        assert_eq!(cryptogram(&f2).map(|c| c.0), Some(0x40));
        assert_eq!(cryptogram_name(0x40), "TC");
        assert_eq!(cryptogram(&[0x90, 0x00]), None);
    }
}
