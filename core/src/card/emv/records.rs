//! Initiate application processing and read application data (EMV 4.4 Book 3 §10.1, §10.2):
//! GET PROCESSING OPTIONS with the PDOL, then READ RECORD per the AFL, collecting the static
//! data to be authenticated.

use super::channel::{Card, ChannelError, cmd};
use super::data::TagStore;
use super::dol;
use super::outcome::TerminationReason;
use crate::codec::tlv::{self, Tlv};
use crate::ports::DeviceFault;

/// What GPO returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpo {
    pub aip: [u8; 2],
    pub afl: Vec<AflEntry>,
}

/// One AFL entry (Book 3 §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AflEntry {
    pub sfi: u8,
    pub first: u8,
    pub last: u8,
    pub oda_count: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpoEnd {
    /// 6985: drop this application and go back to selection (Book 3 §10.1).
    ConditionsNotSatisfied,
    Terminate(TerminationReason),
    Channel(ChannelError),
}

impl From<ChannelError> for GpoEnd {
    fn from(e: ChannelError) -> Self {
        GpoEnd::Channel(e)
    }
}

pub fn parse_afl(afl: &[u8]) -> Option<Vec<AflEntry>> {
    if !afl.len().is_multiple_of(4) {
        return None;
    }
    afl.chunks_exact(4)
        .map(|c| {
            let e = AflEntry {
                sfi: c[0] >> 3,
                first: c[1],
                last: c[2],
                oda_count: c[3],
            };
            let valid = c[0] & 0x07 == 0
                && (1..=30).contains(&e.sfi)
                && e.first >= 1
                && e.last >= e.first
                && u16::from(e.oda_count) <= u16::from(e.last - e.first) + 1;
            valid.then_some(e)
        })
        .collect()
}

/// GPO with the PDOL data (an empty PDOL sends `83 00`).
pub fn get_processing_options(card: &mut Card, store: &mut TagStore) -> Result<Gpo, GpoEnd> {
    let pdol = match store.card(0x9F38) {
        Some(p) => dol::parse(p).map_err(|_| GpoEnd::Terminate(TerminationReason::GpoFailed))?,
        None => Vec::new(),
    };
    let data = dol::build(&pdol, |t| store.get(t));
    if data.len() > 250 {
        return Err(GpoEnd::Terminate(TerminationReason::GpoFailed));
    }
    let r = card.send(&cmd::gpo(&data))?;
    if r.sw == 0x6985 {
        return Err(GpoEnd::ConditionsNotSatisfied);
    }
    let fail = GpoEnd::Terminate(TerminationReason::GpoFailed);
    if !r.ok() {
        return Err(fail);
    }
    let objs = tlv::parse(&r.data).map_err(|_| fail.clone())?;
    let (aip, afl) = match objs.as_slice() {
        [o] if o.tag == 0x80 => {
            let v = o.bytes().unwrap_or_default();
            if v.len() < 2 {
                return Err(fail);
            }
            store.set_card(0x82, &v[..2]);
            store.set_card(0x94, &v[2..]);
            ([v[0], v[1]], v[2..].to_vec())
        }
        [o] if o.tag == 0x77 => {
            let aip = tlv::find(o.children(), 0x82).and_then(Tlv::bytes);
            let afl = tlv::find(o.children(), 0x94).and_then(Tlv::bytes);
            let (Some(aip), Some(afl)) = (aip, afl) else {
                return Err(fail);
            };
            if aip.len() != 2 {
                return Err(fail);
            }
            let (aip, afl) = ([aip[0], aip[1]], afl.to_vec());
            store
                .add_card_objects(o.children())
                .map_err(|_| GpoEnd::Terminate(TerminationReason::DuplicateData))?;
            (aip, afl)
        }
        _ => return Err(fail),
    };
    let afl = parse_afl(&afl).filter(|a| !a.is_empty()).ok_or(fail)?;
    Ok(Gpo { aip, afl })
}

/// The static data to be authenticated and whether it could be built as Book 3 §10.3 asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticData {
    pub bytes: Vec<u8>,
    /// An ODA record was not a '70' template, or 9F4A named something other than '82':
    /// offline data authentication fails.
    pub malformed: bool,
}

/// READ RECORD for every AFL entry; stores the data and returns the static data.
pub fn read_records(
    card: &mut Card,
    store: &mut TagStore,
    afl: &[AflEntry],
) -> Result<StaticData, TerminationReason> {
    let mut sd = StaticData::default();
    for e in afl {
        for rec in e.first..=e.last {
            let r = card
                .send(&cmd::read_record(e.sfi, rec))
                .map_err(channel_reason)?;
            if !r.ok() {
                return Err(TerminationReason::ReadRecordFailed);
            }
            let for_oda = u16::from(rec - e.first) < u16::from(e.oda_count);
            let objs = tlv::parse(&r.data).ok();
            let template = objs.as_deref().and_then(|o| match o {
                [t] if t.tag == 0x70 => Some(t),
                _ => None,
            });
            match template {
                Some(t) => {
                    store
                        .add_card_objects(t.children())
                        .map_err(|_| TerminationReason::DuplicateData)?;
                    if for_oda {
                        if e.sfi <= 10 {
                            sd.bytes.extend_from_slice(template_value(&r.data));
                        } else {
                            sd.bytes.extend_from_slice(&r.data);
                        }
                    }
                }
                // Book 3 §10.3: an ODA record in SFI 1–10 outside a '70' template fails
                // ODA; one in SFI 11–30 is signed as a whole whatever it holds.
                None if for_oda && e.sfi <= 10 => sd.malformed = true,
                None if for_oda => sd.bytes.extend_from_slice(&r.data),
                None if e.sfi <= 10 => return Err(TerminationReason::ReadRecordFailed),
                None => {}
            }
        }
    }
    Ok(sd)
}

pub(crate) fn template_value(record: &[u8]) -> &[u8] {
    // Tag 70 then a 1–3 byte length; parse() already checked the structure.
    let len_len = match record.get(1) {
        Some(l) if l & 0x80 != 0 => 1 + usize::from(l & 0x7F),
        _ => 1,
    };
    record.get(1 + len_len..).unwrap_or_default()
}

pub(crate) fn channel_reason(e: ChannelError) -> TerminationReason {
    match e {
        ChannelError::Device(DeviceFault::CardRemovedTooEarly) => TerminationReason::CardRemoved,
        ChannelError::Device(_) => TerminationReason::ReaderFault,
        ChannelError::NoStatusWord => TerminationReason::CardProtocolError,
        ChannelError::TooManyCommands => TerminationReason::TooManyCommands,
    }
}

/// Book 3 §10.3: the AIP joins the static data when 9F4A lists it, and 9F4A may list nothing
/// else.
pub fn add_tag_list(store: &TagStore, sd: &mut StaticData) {
    if let Some(list) = store.card(0x9F4A) {
        match (list, store.card(0x82)) {
            ([0x82], Some(aip)) => sd.bytes.extend_from_slice(aip),
            _ => sd.malformed = true,
        }
    }
}

/// Book 3 §10.2: expiry, PAN, CDOL1 and CDOL2 must be present.
pub fn check_mandatory(store: &TagStore) -> Result<(), TerminationReason> {
    for tag in [0x5F24, 0x5A, 0x8C, 0x8D] {
        if !store.has_card(tag) {
            return Err(TerminationReason::MandatoryDataMissing);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::channel::script::ScriptedCard;
    use super::*;

    #[test]
    fn a_card_pulled_out_and_a_failing_reader_are_told_apart() {
        let reason = |fault| channel_reason(ChannelError::Device(fault));
        assert_eq!(
            reason(DeviceFault::CardRemovedTooEarly),
            TerminationReason::CardRemoved
        );
        for fault in [
            DeviceFault::ReaderFailure {
                message: "contact fault".into(),
            },
            DeviceFault::NoCardPresented,
        ] {
            assert_eq!(reason(fault), TerminationReason::ReaderFault);
        }
    }

    #[test]
    fn afl_rules() {
        assert_eq!(
            parse_afl(&[0x08, 1, 3, 2]),
            Some(vec![AflEntry {
                sfi: 1,
                first: 1,
                last: 3,
                oda_count: 2
            }])
        );
        assert_eq!(parse_afl(&[0x08, 0, 3, 0]), None, "record 0");
        assert_eq!(parse_afl(&[0x08, 3, 2, 0]), None, "last before first");
        assert_eq!(
            parse_afl(&[0x08, 1, 1, 2]),
            None,
            "more ODA records than records"
        );
        assert_eq!(parse_afl(&[0xF8, 1, 1, 0]), None, "SFI 31");
        assert_eq!(parse_afl(&[0x08, 1, 1]), None);
    }

    fn gpo(resp: &str) -> Result<Gpo, GpoEnd> {
        let mut sc = ScriptedCard::new(&[("80A8000002830000", resp)]);
        let mut card = Card::new(&mut sc);
        get_processing_options(&mut card, &mut TagStore::default())
    }

    /// Format 1 (tag 80: AIP then AFL) and format 2 (77 with 82 and 94), Book 3 §6.5.8.4.
    #[test]
    fn gpo_formats() {
        let g = gpo("800A5C00080101001001020190 00".replace(' ', "").as_str()).unwrap();
        assert_eq!(g.aip, [0x5C, 0x00]);
        assert_eq!(g.afl.len(), 2);
        let g = gpo("770E82027C00940808010100100102019000").unwrap();
        assert_eq!(g.aip, [0x7C, 0x00]);
        assert_eq!(gpo("6985"), Err(GpoEnd::ConditionsNotSatisfied));
        assert_eq!(
            gpo("6A88"),
            Err(GpoEnd::Terminate(TerminationReason::GpoFailed))
        );
        assert_eq!(
            gpo("80015C9000"),
            Err(GpoEnd::Terminate(TerminationReason::GpoFailed))
        );
    }

    /// SFI 1–10 records contribute their value without the 70 tag and length; SFI 11–30 the
    /// whole record; only the first `oda_count` records of an entry (Book 3 §10.3).
    #[test]
    fn static_data_to_authenticate() {
        let mut sc = ScriptedCard::new(&[
            ("00B2010C00", "70045F2501269000"),
            ("00B2020C00", "70055F280201569000"),
            ("00B2015C00", "70049F0801019000"),
        ]);
        let mut card = Card::new(&mut sc);
        let mut store = TagStore::default();
        let afl = parse_afl(&[0x08, 1, 2, 1, 0x58, 1, 1, 1]).unwrap();
        let sd = read_records(&mut card, &mut store, &afl).unwrap();
        assert_eq!(hex::encode_upper(&sd.bytes), "5F25012670049F080101");
        assert!(!sd.malformed);
    }

    #[test]
    fn non_template_records() {
        let mut store = TagStore::default();
        let afl = parse_afl(&[0x08, 1, 1, 1]).unwrap();
        let mut sc = ScriptedCard::new(&[("00B2010C00", "5F2501019000")]);
        let sd = read_records(&mut Card::new(&mut sc), &mut store, &afl).unwrap();
        assert!(sd.malformed, "an ODA record outside 70 fails ODA");
        let afl = parse_afl(&[0x08, 1, 1, 0]).unwrap();
        let mut sc = ScriptedCard::new(&[("00B2010C00", "5F2501019000")]);
        assert_eq!(
            read_records(&mut Card::new(&mut sc), &mut store, &afl),
            Err(TerminationReason::ReadRecordFailed)
        );
        let mut sc = ScriptedCard::new(&[("00B2010C00", "6A83")]);
        assert_eq!(
            read_records(&mut Card::new(&mut sc), &mut store, &afl),
            Err(TerminationReason::ReadRecordFailed)
        );
    }
}
