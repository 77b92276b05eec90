//! CVM processing, one row per EMV 4.4 Book 3 §10.5 case (codes and conditions: Annex C3).

use super::bits::{Tsi, Tvr};
use super::channel::Card;
use super::channel::script::ScriptedCard;
use super::cvm::*;
use super::data::TagStore;
use super::params::TerminalParams;
use super::txn_data::TransactionData;
use crate::card::Pan;
use crate::crypto::{OfflinePinRequest, OfflinePinResult};
use crate::ports::DeviceFault;

#[derive(Clone, Copy)]
enum Ped {
    Enter,
    Bypass,
    Broken,
    /// VERIFY answers in turn.
    Answers(&'static [u16]),
}

struct Handler(Ped, usize);

impl CvmHandler for Handler {
    fn online_pin(&mut self, _: &Pan, _: u64) -> Result<OnlinePinEntry, DeviceFault> {
        match self.0 {
            Ped::Bypass => Ok(OnlinePinEntry::Bypassed),
            Ped::Broken => Err(DeviceFault::PinPadFailure {
                message: "x".into(),
            }),
            _ => Ok(OnlinePinEntry::Entered),
        }
    }
    fn offline_pin(&mut self, _: &OfflinePinRequest) -> Result<OfflinePinResult, DeviceFault> {
        match self.0 {
            Ped::Bypass => Ok(OfflinePinResult::Bypassed),
            Ped::Broken => Err(DeviceFault::PinPadFailure {
                message: "x".into(),
            }),
            Ped::Enter => Ok(OfflinePinResult::CardAnswered {
                status_word: 0x9000,
            }),
            Ped::Answers(sws) => {
                let sw = sws.get(self.1).copied().unwrap_or(0x6983);
                self.1 += 1;
                Ok(OfflinePinResult::CardAnswered { status_word: sw })
            }
        }
    }
}

struct Row {
    what: &'static str,
    aip: &'static str,
    list: Option<&'static str>,
    amount: u64,
    ped: Ped,
    ptc: &'static str,
    tvr: &'static str,
    results: &'static str,
    signature: bool,
}

const NO: &str = "6A88";

#[test]
fn table() {
    let rows = [
        Row {
            what: "AIP without CVM",
            aip: "0800",
            list: Some("0000000000000000 1F00"),
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000000000",
            results: "3F0000",
            signature: false,
        },
        Row {
            what: "no CVM list: ICC data missing",
            aip: "1000",
            list: None,
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "2000000000",
            results: "3F0000",
            signature: false,
        },
        Row {
            what: "online PIN entered",
            aip: "1000",
            list: Some("0000000000000000 4203 1F00"),
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000040000",
            results: "420300",
            signature: false,
        },
        Row {
            what: "online PIN bypassed, next rule signature",
            aip: "1000",
            list: Some("0000000000000000 4203 1E03"),
            amount: 1,
            ped: Ped::Bypass,
            ptc: NO,
            tvr: "0000080000",
            results: "1E0300",
            signature: true,
        },
        Row {
            what: "PIN pad broken, no apply-next: fails",
            aip: "1000",
            list: Some("0000000000000000 0200 1F00"),
            amount: 1,
            ped: Ped::Broken,
            ptc: NO,
            tvr: "0000900000",
            results: "020001",
            signature: false,
        },
        Row {
            what: "plaintext offline PIN ok",
            aip: "1000",
            list: Some("0000000000000000 0100"),
            amount: 1,
            ped: Ped::Enter,
            ptc: "9F170103 9000",
            tvr: "0000000000",
            results: "010002",
            signature: false,
        },
        Row {
            what: "PIN try counter 0",
            aip: "1000",
            list: Some("0000000000000000 4100 1F00"),
            amount: 1,
            ped: Ped::Enter,
            ptc: "9F170100 9000",
            tvr: "0000200000",
            results: "1F0002",
            signature: false,
        },
        Row {
            what: "wrong PIN then right (63C2, 9000)",
            aip: "1000",
            list: Some("0000000000000000 0100"),
            amount: 1,
            ped: Ped::Answers(&[0x63C2, 0x9000]),
            ptc: NO,
            tvr: "0000000000",
            results: "010002",
            signature: false,
        },
        Row {
            what: "PIN blocked during entry (63C0)",
            aip: "1000",
            list: Some("0000000000000000 0100"),
            amount: 1,
            ped: Ped::Answers(&[0x63C0]),
            ptc: NO,
            tvr: "0000A00000",
            results: "010001",
            signature: false,
        },
        Row {
            what: "6983 blocked",
            aip: "1000",
            list: Some("0000000000000000 0100"),
            amount: 1,
            ped: Ped::Answers(&[0x6983]),
            ptc: NO,
            tvr: "0000A00000",
            results: "010001",
            signature: false,
        },
        Row {
            what: "unrecognised CVM, apply next",
            aip: "1000",
            list: Some("0000000000000000 7500 1F00"),
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000400000",
            results: "1F0002",
            signature: false,
        },
        Row {
            what: "fail CVM",
            aip: "1000",
            list: Some("0000000000000000 0000 1F00"),
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000800000",
            results: "000001",
            signature: false,
        },
        Row {
            what: "no condition satisfied",
            aip: "1000",
            list: Some("0000000000000000 0101"),
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000800000",
            results: "3F0001",
            signature: false,
        },
        Row {
            what: "under X (X = 100.00): no CVM",
            aip: "1000",
            list: Some("0000271000000000 1F06 0200"),
            amount: 9_999,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000000000",
            results: "1F0602",
            signature: false,
        },
        Row {
            what: "over X: online PIN",
            aip: "1000",
            list: Some("0000271000000000 1F06 0207"),
            amount: 10_001,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000040000",
            results: "020700",
            signature: false,
        },
        Row {
            what: "offline PIN and signature",
            aip: "1000",
            list: Some("0000000000000000 0300"),
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000000000",
            results: "030000",
            signature: true,
        },
        Row {
            what: "enciphered offline PIN without the card key fails",
            aip: "1000",
            list: Some("0000000000000000 0400"),
            amount: 1,
            ped: Ped::Enter,
            ptc: NO,
            tvr: "0000800000",
            results: "040001",
            signature: false,
        },
    ];
    for r in rows {
        let mut store = TagStore::default();
        store.set_card(0x82, &hex::decode(r.aip).unwrap());
        store.set_card(0x9F42, &[0x01, 0x56]);
        if let Some(l) = r.list {
            store.set_card(0x8E, &hex::decode(l.replace(' ', "")).unwrap());
        }
        let ptc = r.ptc.replace(' ', "");
        let mut sc = ScriptedCard::new(&[("80CA9F17", ptc.as_str())]);
        let mut card = Card::new(&mut sc);
        let terminal = TerminalParams::unionpay_attended();
        let txn = TransactionData {
            amount_fen: r.amount,
            other_amount_fen: 0,
            transaction_type: 0,
            date: [0x26, 0x12, 0x04],
            time: [0; 3],
            unpredictable_number: [0; 4],
            sequence_counter: 1,
            merchant_forced_online: false,
        };
        let pan = Pan::parse("6222021234567890123").unwrap();
        let ctx = CvmContext {
            store: &store,
            terminal: &terminal,
            txn: &txn,
            pan: Some(&pan),
            pin_key: None,
        };
        let (mut tvr, mut tsi) = (Tvr::default(), Tsi::default());
        let out = perform(&mut card, &ctx, &mut Handler(r.ped, 0), &mut tvr, &mut tsi).unwrap();
        assert_eq!(hex::encode_upper(tvr.0), r.tvr, "{}", r.what);
        assert_eq!(hex::encode_upper(out.results), r.results, "{}", r.what);
        assert_eq!(out.signature_required, r.signature, "{}", r.what);
    }
}
