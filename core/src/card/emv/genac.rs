//! GENERATE AC (EMV 4.4 Book 3 §6.5.5, §9.3): the request with CDOL data, the response in
//! format 1 or 2, and the card's answer checked against what was asked.

use super::channel::{Card, cmd};
use super::data::TagStore;
use super::dol;
use super::outcome::{AcRecord, AcType, TerminationReason};
use super::records::channel_reason;
use crate::codec::tlv::{self, Tlv};

/// P1 bit asking for a CDA signature.
pub const CDA_REQUESTED: u8 = 0x10;

/// The card's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcResponse {
    pub requested: AcType,
    pub kind: AcType,
    pub cid: u8,
    pub atc: [u8; 2],
    /// The cryptogram; with CDA it is inside the signature until ODA recovers it.
    pub cryptogram: Option<[u8; 8]>,
    /// 9F4B with CDA.
    pub sdad: Option<Vec<u8>>,
    /// The CDOL data sent, for the CDA transaction data hash.
    pub cdol_data: Vec<u8>,
    /// The format 2 template's value as the card sent it, for the CDA hash.
    pub template: Vec<u8>,
}

impl AcResponse {
    pub fn record(&self) -> AcRecord {
        AcRecord {
            requested: self.requested,
            cid: self.cid,
            cryptogram: self.cryptogram.unwrap_or_default(),
            atc: self.atc,
        }
    }
}

/// Sends GENERATE AC for `requested` with the data of the DOL in `cdol_tag` (8C or 8D).
pub fn generate_ac(
    card: &mut Card,
    store: &mut TagStore,
    requested: AcType,
    cda: bool,
    cdol_tag: u32,
) -> Result<AcResponse, TerminationReason> {
    let fail = TerminationReason::GenerateAcFailed;
    let cdol = store
        .card(cdol_tag)
        .map(dol::parse)
        .transpose()
        .map_err(|_| fail)?
        .unwrap_or_default();
    let data = dol::build(&cdol, |t| store.get(t));
    if data.len() > 255 {
        return Err(fail);
    }
    let p1 = requested.p1() | if cda { CDA_REQUESTED } else { 0 };
    let r = card
        .send(&cmd::generate_ac(p1, &data))
        .map_err(channel_reason)?;
    if !r.ok() {
        return Err(fail);
    }
    let objs = tlv::parse(&r.data).map_err(|_| fail)?;
    let mut resp = match objs.as_slice() {
        [o] if o.tag == 0x80 => {
            let v = o.bytes().unwrap_or_default();
            if v.len() < 11 {
                return Err(fail);
            }
            store.set_card(0x9F10, &v[11..]);
            AcResponse {
                requested,
                kind: AcType::Aac,
                cid: v[0],
                atc: [v[1], v[2]],
                cryptogram: <[u8; 8]>::try_from(&v[3..11]).ok(),
                sdad: None,
                cdol_data: data,
                template: Vec::new(),
            }
        }
        [o] if o.tag == 0x77 => {
            let mut resp = format2(o.children(), requested, data, store).ok_or(fail)?;
            resp.template = super::records::template_value(&r.data).to_vec();
            resp
        }
        _ => return Err(fail),
    };
    resp.kind = AcType::from_cid(resp.cid).ok_or(fail)?;
    // §9.3: the card may answer with a lower cryptogram (AAC < ARQC < TC), never a higher one.
    if resp.kind > requested {
        return Err(fail);
    }
    store.set_card(0x9F27, &[resp.cid]);
    store.set_card(0x9F36, &resp.atc);
    if let Some(ac) = resp.cryptogram {
        store.set_card(0x9F26, &ac);
    }
    Ok(resp)
}

fn format2(
    children: &[Tlv],
    requested: AcType,
    cdol_data: Vec<u8>,
    store: &mut TagStore,
) -> Option<AcResponse> {
    let get = |t| tlv::find(children, t).and_then(Tlv::bytes);
    let cid = *get(0x9F27)?.first()?;
    let atc = <[u8; 2]>::try_from(get(0x9F36)?).ok()?;
    let cryptogram = get(0x9F26).and_then(|v| <[u8; 8]>::try_from(v).ok());
    let sdad = get(0x9F4B).map(<[u8]>::to_vec);
    if cryptogram.is_none() && sdad.is_none() {
        return None;
    }
    if let Some(iad) = get(0x9F10) {
        store.set_card(0x9F10, iad);
    }
    Some(AcResponse {
        requested,
        kind: AcType::Aac,
        cid,
        atc,
        cryptogram,
        sdad,
        cdol_data,
        template: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::channel::script::ScriptedCard;
    use super::*;

    fn run(resp: &str, requested: AcType) -> Result<AcResponse, TerminationReason> {
        let mut store = TagStore::default();
        store.set_card(0x8C, &hex::decode("9F02069F3704").unwrap());
        store.set_terminal(0x9F02, vec![0, 0, 0, 0, 0x01, 0x00]);
        store.set_terminal(0x9F37, vec![1, 2, 3, 4]);
        let mut sc = ScriptedCard::new(&[("80AE", resp)]);
        let mut card = Card::new(&mut sc);
        let r = generate_ac(&mut card, &mut store, requested, false, 0x8C);
        if r.is_ok() {
            assert_eq!(
                hex::encode_upper(&sc.sent[0]),
                format!("80AE{:02X}000A00000000010001020304 00", requested.p1()).replace(' ', "")
            );
        }
        r
    }

    #[test]
    fn format_1_and_2() {
        // Format 1: CID 80, ATC 0001, AC, IAD.
        let r = run("800F8000011122334455667788060102039000", AcType::Arqc).unwrap();
        assert_eq!((r.kind, r.atc), (AcType::Arqc, [0, 1]));
        assert_eq!(
            r.cryptogram,
            Some([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        );
        let r = run(
            "77149F2701409F360200029F2608A1A2A3A4A5A6A7A89000",
            AcType::Tc,
        )
        .unwrap();
        assert_eq!((r.kind, r.atc), (AcType::Tc, [0, 2]));
    }

    /// §9.3: asking for ARQC and getting TC is a card error; getting AAC is a decline.
    #[test]
    fn higher_cryptogram_than_asked_terminates() {
        assert_eq!(
            run(
                "800F40000111223344556677880601020390 00"
                    .replace(' ', "")
                    .as_str(),
                AcType::Arqc
            )
            .unwrap_err(),
            TerminationReason::GenerateAcFailed
        );
        let r = run("800F0000011122334455667788060102039000", AcType::Arqc).unwrap();
        assert_eq!(r.kind, AcType::Aac);
        assert!(
            run(
                "8005800001112290 00".replace(' ', "").as_str(),
                AcType::Arqc
            )
            .is_err()
        );
        assert!(run("C0009000", AcType::Arqc).is_err());
        assert!(run("6985", AcType::Arqc).is_err());
    }
}
