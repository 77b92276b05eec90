//! Application selection (EMV 4.4 Book 1 §12): the candidate list from the PSE directory or
//! from the terminal's AID list, ordered by priority, then the final SELECT.

use serde::{Deserialize, Serialize};

use super::channel::{Card, ChannelError, cmd};
use super::params::{AidParams, match_aid};
use crate::codec::tlv::{self, Tlv};
use crate::ports::DeviceFault;

const PSE: &[u8] = b"1PAY.SYS.DDF01";
/// Bounds directory walking on a misbehaving card.
const MAX_DIRECTORY_RECORDS: u8 = 32;
const MAX_SELECT_NEXT: usize = 16;
/// DDFs below the PSE that are followed (Book 1 leaves the depth to the card; real cards use
/// one level, if any).
const MAX_DDF_DEPTH: u8 = 3;

/// One mutually supported application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The card's ADF name.
    pub adf: Vec<u8>,
    /// 9F12 when the code table allows, else 50, else the terminal's label.
    pub label: String,
    /// Low nibble of tag 87 (1 highest); `None` when absent or zero.
    pub priority: Option<u8>,
    /// Tag 87 bit 8: the cardholder must confirm.
    pub needs_confirmation: bool,
    /// Index of the terminal's AID row.
    pub aid_index: usize,
}

/// Asks the cardholder to confirm an application; mirrors `ports::Prompt::confirm`, which the
/// engine adapts.
pub trait ApplicationChooser {
    fn confirm(&mut self, candidate: &Candidate) -> Result<bool, DeviceFault>;
}

/// Accepts every application (unattended use and tests).
#[derive(Debug)]
pub struct AcceptFirst;

impl ApplicationChooser for AcceptFirst {
    fn confirm(&mut self, _: &Candidate) -> Result<bool, DeviceFault> {
        Ok(true)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionEnd {
    /// 6A81 to SELECT PSE.
    CardBlocked,
    NoCandidates,
    CardholderDeclined,
    NoneAccepted,
    Channel(ChannelError),
}

impl From<ChannelError> for SelectionEnd {
    fn from(e: ChannelError) -> Self {
        SelectionEnd::Channel(e)
    }
}

fn text(v: Option<&[u8]>) -> Option<String> {
    let v = v?;
    let s: String = v
        .iter()
        .filter(|b| b.is_ascii_graphic() || **b == b' ')
        .map(|&b| char::from(b))
        .collect();
    (!s.trim().is_empty()).then(|| s.trim().to_owned())
}

fn candidate_from(objs: &[Tlv], adf: Vec<u8>, aid_index: usize, aids: &[AidParams]) -> Candidate {
    let get = |t| tlv::find(objs, t).and_then(Tlv::bytes);
    // 9F12 is shown only when the terminal supports the issuer's code table (9F11); ASCII
    // printable text is accepted from any table.
    let label = text(get(0x9F12))
        .or_else(|| text(get(0x50)))
        .unwrap_or_else(|| {
            aids.get(aid_index)
                .map(|a| a.label.clone())
                .unwrap_or_default()
        });
    let api = get(0x87).and_then(|v| v.first().copied()).unwrap_or(0);
    Candidate {
        adf,
        label,
        priority: (api & 0x0F != 0).then_some(api & 0x0F),
        needs_confirmation: api & 0x80 != 0,
        aid_index,
    }
}

/// Book 1 §12.3.2: the PSE directory. `Ok(None)` means "use the list of AIDs".
fn from_pse(card: &mut Card, aids: &[AidParams]) -> Result<Option<Vec<Candidate>>, SelectionEnd> {
    let r = card.send(&cmd::select(PSE, false))?;
    if r.sw == 0x6A81 {
        return Err(SelectionEnd::CardBlocked);
    }
    if !r.ok() {
        return Ok(None);
    }
    let Some(sfi) = directory_sfi(&r.data) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let mut budget = MAX_DIRECTORY_RECORDS;
    if read_directory(card, sfi, aids, 0, &mut budget, &mut out)? == Walk::Broken {
        return Ok(None);
    }
    Ok((!out.is_empty()).then_some(out))
}

/// The SFI of the directory (tag 88 in the FCI), when it is a valid one.
fn directory_sfi(fci: &[u8]) -> Option<u8> {
    let fci = tlv::parse(fci).ok()?;
    let sfi = *tlv::find(&fci, 0x88).and_then(Tlv::bytes)?.first()?;
    (1..=30).contains(&sfi).then_some(sfi)
}

#[derive(Debug, PartialEq, Eq)]
enum Walk {
    Read,
    /// The card answered out of the rules: Book 1 says to fall back to the list of AIDs.
    Broken,
}

/// Reads the directory in `sfi`: ADF entries (4F) become candidates; a DDF entry (9D) is
/// selected and its own directory read before the walk resumes (Book 1 §12.3.2 step 3), up to
/// `MAX_DDF_DEPTH` levels and `budget` records in all, so a card cannot keep the terminal
/// reading.
fn read_directory(
    card: &mut Card,
    sfi: u8,
    aids: &[AidParams],
    depth: u8,
    budget: &mut u8,
    out: &mut Vec<Candidate>,
) -> Result<Walk, SelectionEnd> {
    for rec in 1..=MAX_DIRECTORY_RECORDS {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let r = card.send(&cmd::read_record(sfi, rec))?;
        if r.sw == 0x6A83 {
            break;
        }
        if !r.ok() {
            return Ok(Walk::Broken);
        }
        let Ok(objs) = tlv::parse(&r.data) else {
            return Ok(Walk::Broken);
        };
        let Some(record) = objs.iter().find(|o| o.tag == 0x70) else {
            return Ok(Walk::Broken);
        };
        for entry in record.children().iter().filter(|o| o.tag == 0x61) {
            if let Some(adf) = tlv::find(entry.children(), 0x4F).and_then(Tlv::bytes) {
                if let Some(p) = match_aid(aids, adf) {
                    let idx = aids.iter().position(|a| std::ptr::eq(a, p)).unwrap_or(0);
                    out.push(candidate_from(entry.children(), adf.to_vec(), idx, aids));
                }
                continue;
            }
            let Some(ddf) = tlv::find(entry.children(), 0x9D).and_then(Tlv::bytes) else {
                continue;
            };
            if depth >= MAX_DDF_DEPTH {
                continue;
            }
            let selected = card.send(&cmd::select(ddf, false))?;
            // A DDF that cannot be selected or has no directory is skipped, not fatal.
            let Some(inner) = selected
                .ok()
                .then(|| directory_sfi(&selected.data))
                .flatten()
            else {
                continue;
            };
            if read_directory(card, inner, aids, depth + 1, budget, out)? == Walk::Broken {
                return Ok(Walk::Broken);
            }
        }
    }
    Ok(Walk::Read)
}

/// Book 1 §12.3.3: SELECT each terminal AID, with SELECT NEXT for partial matches.
fn from_aid_list(card: &mut Card, aids: &[AidParams]) -> Result<Vec<Candidate>, SelectionEnd> {
    let mut out = Vec::new();
    for (idx, a) in aids.iter().enumerate() {
        let mut next = false;
        for _ in 0..MAX_SELECT_NEXT {
            let r = card.send(&cmd::select(&a.aid, next))?;
            if r.sw == 0x6A81 {
                return Err(SelectionEnd::CardBlocked);
            }
            // 6283: the application is blocked; skip it but keep looking for other
            // occurrences of a partial AID.
            if !r.ok() && r.sw != 0x6283 {
                break;
            }
            let Ok(fci) = tlv::parse(&r.data) else { break };
            let Some(df) = tlv::find(&fci, 0x84).and_then(Tlv::bytes) else {
                break;
            };
            let exact = df == a.aid.as_slice();
            let partial = a.partial_selection && df.len() > a.aid.len() && df.starts_with(&a.aid);
            if r.ok() && (exact || partial) && !out.iter().any(|c: &Candidate| c.adf == df) {
                out.push(candidate_from(&fci, df.to_vec(), idx, aids));
            }
            if exact || !partial {
                break;
            }
            next = true;
        }
    }
    Ok(out)
}

/// The candidate list in the order to offer (Book 1 §12.4): by priority, 1 first, then the
/// ones without priority in the order found. Those needing confirmation are dropped when the
/// terminal cannot ask.
pub fn candidates(
    card: &mut Card,
    aids: &[AidParams],
    can_confirm: bool,
) -> Result<Vec<Candidate>, SelectionEnd> {
    let mut list = match from_pse(card, aids)? {
        Some(list) => list,
        None => from_aid_list(card, aids)?,
    };
    if !can_confirm {
        list.retain(|c| !c.needs_confirmation);
    }
    if list.is_empty() {
        return Err(SelectionEnd::NoCandidates);
    }
    list.sort_by_key(|c| c.priority.unwrap_or(16));
    Ok(list)
}

/// The first candidate the cardholder accepts (a single candidate without the confirmation
/// bit is taken as is), removed from the list.
pub fn choose(
    list: &mut Vec<Candidate>,
    chooser: &mut dyn ApplicationChooser,
    can_confirm: bool,
) -> Result<Candidate, SelectionEnd> {
    let mut i = 0;
    while i < list.len() {
        let c = &list[i];
        let ask = can_confirm && (c.needs_confirmation || list.len() > 1);
        let ok = !ask
            || chooser
                .confirm(c)
                .map_err(|e| SelectionEnd::Channel(ChannelError::Device(e)))?;
        if ok {
            return Ok(list.remove(i));
        }
        i += 1;
    }
    list.clear();
    Err(SelectionEnd::CardholderDeclined)
}

/// The final SELECT (Book 1 §12.4): the FCI on success, `None` when the card refuses it.
pub fn final_select(card: &mut Card, c: &Candidate) -> Result<Option<Vec<Tlv>>, ChannelError> {
    let r = card.send(&cmd::select(&c.adf, false))?;
    if !r.ok() {
        return Ok(None);
    }
    match tlv::parse(&r.data) {
        Ok(fci) if fci.iter().any(|o| o.tag == 0x6F) => Ok(Some(fci)),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::channel::script::ScriptedCard;
    use super::super::params::default_aids;
    use super::*;

    fn tlv_hex(tag: &str, body: &str) -> String {
        format!("{tag}{:02X}{body}", body.len() / 2)
    }

    fn fci(aid: &str, api: &str) -> String {
        let a5 = format!("500456495341{api}");
        let a5 = format!("A5{:02X}{a5}", a5.len() / 2);
        let body = format!("84{:02X}{aid}{a5}", aid.len() / 2);
        format!("6F{:02X}{body}9000", body.len() / 2)
    }

    fn run(pairs: &[(&str, &str)]) -> Result<Vec<Candidate>, SelectionEnd> {
        let mut sc = ScriptedCard::new(pairs);
        let mut card = Card::new(&mut sc);
        candidates(&mut card, &default_aids(), true)
    }

    const SEL_PSE: &str = "00A404000E315041592E5359532E444446303100";

    /// Book 1 §12.3.2: PSE with one directory record holding two entries, priorities 2 and 1.
    #[test]
    fn pse_directory_orders_by_priority() {
        let e1 = tlv_hex("61", "4F07A0000000031010500456495341870102");
        let e2 = tlv_hex("61", "4F08A000000333010102500443524544870101");
        let rec = format!("{}9000", tlv_hex("70", &(e1 + &e2)));
        let l = run(&[
            (
                SEL_PSE,
                "6F1A840E315041592E5359532E4444463031A5088801015F2D027A689000",
            ),
            ("00B2010C00", &rec),
            ("00B2020C00", "6A83"),
        ])
        .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(hex::encode_upper(&l[0].adf), "A000000333010102");
        assert_eq!(l[0].priority, Some(1));
        assert_eq!(l[1].label, "VISA");
    }

    /// Book 1 §12.3.2 step 3: a directory entry naming a DDF (9D) is selected and its own
    /// directory read, then the PSE's walk goes on; a DDF the card refuses is skipped.
    #[test]
    fn pse_directory_follows_a_nested_ddf() {
        let ddf_entry = tlv_hex("61", "9D0AA0000003330101DDF001");
        let missing_ddf = tlv_hex("61", "9D05A0000003FF");
        let visa = tlv_hex("61", "4F07A0000000031010500456495341870102");
        let pse_rec = format!("{}9000", tlv_hex("70", &(ddf_entry + &missing_ddf + &visa)));
        let debit = tlv_hex("61", "4F08A000000333010101500444454249870101");
        let ddf_rec = format!("{}9000", tlv_hex("70", &debit));
        let l = run(&[
            (
                SEL_PSE,
                "6F1A840E315041592E5359532E4444463031A5088801015F2D027A689000",
            ),
            ("00B2010C00", &pse_rec),
            (
                "00A404000AA0000003330101DDF00100",
                "6F14840AA0000003330101DDF001A506880102BF0C009000",
            ),
            ("00B2011400", &ddf_rec),
            ("00B2021400", "6A83"),
            ("00A4040005A0000003FF00", "6A82"),
            ("00B2020C00", "6A83"),
        ])
        .unwrap();
        let adfs: Vec<_> = l.iter().map(|c| hex::encode_upper(&c.adf)).collect();
        assert_eq!(adfs, ["A000000333010101", "A0000000031010"]);
    }

    #[test]
    fn pse_6a81_is_card_blocked() {
        assert_eq!(run(&[(SEL_PSE, "6A81")]), Err(SelectionEnd::CardBlocked));
    }

    /// No PSE: the list of AIDs; a partial match followed by SELECT NEXT; 6283 skipped.
    #[test]
    fn list_of_aids_with_partial_match_and_blocked() {
        let visa_long = fci("A0000000031010FF", "870101");
        let blocked = fci("A0000000031010EE", "870102").replace("9000", "6283");
        let l = run(&[
            (SEL_PSE, "6A82"),
            ("00A4040007A0000000031010", &visa_long),
            ("00A4040207A0000000031010", &blocked),
            ("00A4040207A0000000031010", "6A82"),
        ])
        .unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(hex::encode_upper(&l[0].adf), "A0000000031010FF");
    }

    #[test]
    fn nothing_in_common() {
        assert_eq!(run(&[(SEL_PSE, "6A82")]), Err(SelectionEnd::NoCandidates));
    }

    #[test]
    fn confirmation_and_refusal() {
        struct Refuse(usize);
        impl ApplicationChooser for Refuse {
            fn confirm(&mut self, _: &Candidate) -> Result<bool, DeviceFault> {
                self.0 += 1;
                Ok(self.0 > 1)
            }
        }
        let c = |p| Candidate {
            adf: vec![p],
            label: String::new(),
            priority: Some(p),
            needs_confirmation: false,
            aid_index: 0,
        };
        let mut list = vec![c(1), c(2)];
        let got = choose(&mut list, &mut Refuse(0), true).unwrap();
        assert_eq!(got.adf, [2]);
        let mut list = vec![c(1)];
        assert_eq!(
            choose(&mut list, &mut Refuse(0), true),
            Ok(c(1)),
            "a single candidate without the confirmation bit is not asked"
        );
    }
}
