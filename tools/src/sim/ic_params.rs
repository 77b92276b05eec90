//! The acquirer's side of the IC parameter and CA public key downloads (60.3 = 372/370/371,
//! 382/380/381; formats in `smartpos_core::txn::ic_download`): it lists and serves its
//! configured tables, by default the card simulator's test CA keys and the built-in AID table,
//! and can be scripted to corrupt one key's checksum for tests.

use std::sync::{Mutex, MutexGuard};

use smartpos_core::card::emv::default_aids;
use smartpos_core::card::oda::{CaPublicKey, Rid};
use smartpos_core::codec::iso8583::cups::Field60;
use smartpos_core::codec::iso8583::{Message, response_mti};
use smartpos_core::txn::ic_download::{
    ChipSet, IcParameters, Listed, Step, download_response, encode_ca_key, encode_ic_parameters,
    parse_download_request, parse_status_request, status_response,
};

/// Entries listed per status answer: a longer table takes several queries (the '2' answer).
const PAGE: usize = 3;

#[derive(Debug, Default)]
struct Tables {
    ca_keys: Vec<CaPublicKey>,
    parameters: Vec<IcParameters>,
    /// Keys whose checksum is sent with one bit flipped.
    corrupt: Vec<(Rid, u8)>,
    /// Protocol faults in force.
    faults: Vec<ProtocolFault>,
    /// Completed sessions (end messages answered), per set.
    ends: [u32; 2],
}

/// A host that breaks the download protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolFault {
    /// Every download answer carries the first entry's record, whatever was asked.
    WrongRecord,
    /// Every status answer says more entries follow, listing the same entries round again.
    EndlessPages,
    /// Download answers say '0': the listed entry is not there.
    ListedButMissing,
}

/// The tables the acquirer serves to terminals.
#[derive(Debug)]
pub struct IcParamServer {
    tables: Mutex<Tables>,
}

impl Default for IcParamServer {
    fn default() -> Self {
        Self::new()
    }
}

fn set_slot(set: ChipSet) -> usize {
    match set {
        ChipSet::CaKeys => 0,
        ChipSet::IcParameters => 1,
    }
}

impl IcParamServer {
    /// The card simulator's test CA keys (RSA under UnionPay, Visa and Mastercard, SM2 under
    /// UnionPay) and the built-in AID table.
    pub fn new() -> Self {
        let ca_keys = crate::card_sim::test_ca_keys()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_else(|e| {
                log::error!("sim: test CA keys unavailable: {e}");
                Vec::new()
            });
        let parameters = default_aids()
            .iter()
            .map(IcParameters::from_aid_params)
            .collect();
        IcParamServer {
            tables: Mutex::new(Tables {
                ca_keys,
                parameters,
                ..Tables::default()
            }),
        }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_ca_keys(&self, keys: Vec<CaPublicKey>) {
        self.tables().ca_keys = keys;
    }

    pub fn set_parameters(&self, parameters: Vec<IcParameters>) {
        self.tables().parameters = parameters;
    }

    pub fn ca_keys(&self) -> Vec<CaPublicKey> {
        self.tables().ca_keys.clone()
    }

    pub fn parameters(&self) -> Vec<IcParameters> {
        self.tables().parameters.clone()
    }

    /// From now on the key `rid` / `index` is sent with a wrong checksum (DF03).
    pub fn corrupt_checksum(&self, rid: Rid, index: u8) {
        self.tables().corrupt.push((rid, index));
    }

    /// From now on the host breaks the protocol as `fault` says.
    pub fn break_protocol(&self, fault: ProtocolFault) {
        self.tables().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        let mut t = self.tables();
        t.corrupt.clear();
        t.faults.clear();
    }

    /// Download sessions of `set` the host saw through to their end message.
    pub fn completed(&self, set: ChipSet) -> u32 {
        self.tables().ends[set_slot(set)]
    }

    /// The answer to a download message; `None` when `req` is not one.
    pub fn answer(&self, req: &Message) -> Option<Message> {
        if !matches!(req.mti(), "0800" | "0820") {
            return None;
        }
        let f60 = req.text(60).and_then(|d| Field60::parse(d).ok())?;
        let (set, step) = ChipSet::from_code(&f60.net_mgmt)?;
        let mut resp = Message::new(&response_mti(req.mti()).unwrap_or_default());
        for n in [11u8, 41, 42, 60] {
            resp.copy_field_from(req, n);
        }
        let field62 = req.bytes(62).unwrap_or_default();
        let answer = match step {
            Step::Status => self.status(set, field62),
            Step::Download => self.download(set, field62),
            Step::End => {
                self.tables().ends[set_slot(set)] += 1;
                Ok(None)
            }
        };
        match answer {
            Ok(field) => {
                if let Some(f) = field {
                    resp.set_bytes(62, f);
                }
                resp.set_text(39, "00");
            }
            Err(why) => {
                log::warn!("sim: {} {step:?}: {why}", set.name());
                resp.set_text(39, "30");
            }
        }
        Some(resp)
    }

    fn listed(&self, set: ChipSet) -> Vec<Listed> {
        let t = self.tables();
        match set {
            ChipSet::CaKeys => t
                .ca_keys
                .iter()
                .map(|k| Listed {
                    id: k.rid.to_vec(),
                    index: Some(k.index),
                })
                .collect(),
            ChipSet::IcParameters => t
                .parameters
                .iter()
                .map(|p| Listed {
                    id: p.aid.clone(),
                    index: None,
                })
                .collect(),
        }
    }

    fn status(&self, set: ChipSet, field62: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let from = parse_status_request(field62).map_err(|e| e.to_string())?;
        let all = self.listed(set);
        let endless = self.tables().faults.contains(&ProtocolFault::EndlessPages);
        if endless {
            // The same entries again and again, always "more follow".
            let page: Vec<Listed> = all.iter().cycle().skip(from).take(PAGE).cloned().collect();
            return Ok(Some(status_response(&page, true)));
        }
        let page: Vec<Listed> = all.iter().skip(from).take(PAGE).cloned().collect();
        let more = from + page.len() < all.len();
        Ok(Some(status_response(&page, more)))
    }

    fn download(&self, set: ChipSet, field62: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let asked = parse_download_request(field62).map_err(|e| e.to_string())?;
        let faults = self.tables().faults.clone();
        if faults.contains(&ProtocolFault::ListedButMissing) {
            return Ok(Some(download_response(None)));
        }
        let wanted = if faults.contains(&ProtocolFault::WrongRecord) {
            self.listed(set).into_iter().next().unwrap_or(asked)
        } else {
            asked
        };
        self.record_for(set, &wanted)
    }

    fn record_for(&self, set: ChipSet, wanted: &Listed) -> Result<Option<Vec<u8>>, String> {
        let t = self.tables();
        let record = match set {
            ChipSet::CaKeys => t
                .ca_keys
                .iter()
                .find(|k| k.rid.as_slice() == wanted.id && Some(k.index) == wanted.index)
                .map(|k| {
                    let mut key = k.clone();
                    if t.corrupt.contains(&(k.rid, k.index))
                        && let Some(b) = key.checksum.first_mut()
                    {
                        *b ^= 0x01;
                    }
                    encode_ca_key(&key)
                }),
            ChipSet::IcParameters => t
                .parameters
                .iter()
                .find(|p| p.aid == wanted.id)
                .map(encode_ic_parameters),
        };
        Ok(Some(download_response(record.as_deref())))
    }
}

/// A CA key named as RID:INDEX in hex (`A000000333:F9`), as the command line gives it.
pub fn parse_key_id(text: &str) -> Result<(Rid, u8), String> {
    let bad = || format!("{text:?} is not RID:INDEX in hex (e.g. A000000333:F9)");
    let (rid, index) = text.split_once(':').ok_or_else(bad)?;
    let rid: Rid = hex::decode(rid)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let index = u8::from_str_radix(index, 16).map_err(|_| bad())?;
    Ok((rid, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::txn::ic_download::{
        decode_ca_key, parse_download_response, parse_status_response, status_request,
    };

    fn request(mti: &str, code: &str, field62: Option<Vec<u8>>) -> Message {
        let mut m = Message::new(mti);
        m.set_digits(11, "000001");
        m.set_text(41, "12345678");
        m.set_digits(60, &format!("00000001{code}"));
        if let Some(f) = field62 {
            m.set_bytes(62, f);
        }
        m
    }

    #[test]
    fn key_ids_parse_from_the_command_line() {
        assert_eq!(
            parse_key_id("A000000333:F9"),
            Ok(([0xA0, 0, 0, 3, 0x33], 0xF9))
        );
        assert!(parse_key_id("A000000333").is_err());
        assert!(parse_key_id("A0000003:F9").is_err());
        assert!(parse_key_id("A000000333:XYZ").is_err());
    }

    #[test]
    fn serves_its_test_keys_page_by_page_and_a_corrupted_one_on_demand() {
        let server = IcParamServer::new();
        let keys = server.ca_keys();
        assert_eq!(keys.len(), 4, "RSA under three RIDs and one SM2 key");
        let first = server
            .answer(&request("0820", "372", Some(status_request(0))))
            .unwrap();
        assert_eq!(first.mti(), "0830");
        assert_eq!(first.field_text(39).as_deref(), Some("00"));
        let page = parse_status_response(first.bytes(62).unwrap()).unwrap();
        assert!(page.more);
        assert_eq!(page.entries.len(), PAGE);
        let rest = server
            .answer(&request("0820", "372", Some(status_request(PAGE))))
            .unwrap();
        let page2 = parse_status_response(rest.bytes(62).unwrap()).unwrap();
        assert!(!page2.more);
        assert_eq!(page2.entries.len(), keys.len() - PAGE);

        let entry = &page.entries[0];
        let get = || {
            let resp = server
                .answer(&request(
                    "0800",
                    "370",
                    Some(smartpos_core::txn::ic_download::download_request(entry)),
                ))
                .unwrap();
            parse_download_response(resp.bytes(62).unwrap())
                .unwrap()
                .unwrap()
                .to_vec()
        };
        assert!(decode_ca_key(&get(), "261204").is_ok());
        server.corrupt_checksum(keys[0].rid, keys[0].index);
        assert!(decode_ca_key(&get(), "261204").is_err());

        server.answer(&request("0800", "371", None)).unwrap();
        assert_eq!(server.completed(ChipSet::CaKeys), 1);
        assert!(server.answer(&request("0800", "004", None)).is_none());
        let broken = server
            .answer(&request("0820", "382", Some(b"x".to_vec())))
            .unwrap();
        assert_eq!(broken.field_text(39).as_deref(), Some("30"));
    }
}
