//! What a chip card leaves the terminal owing the acquirer: the upload of a sale the card
//! approved offline (Y1), the TC of an online approval, and the results of issuer scripts. Each
//! is journaled with the outcome, forwarded store-and-forward, and settlement waits for the
//! money-bearing ones; the acquirer simulator verifies every cryptogram with the card's keys
//! and its ledger moves the money once.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use smartpos_core::codec::iso8583::Message;
use smartpos_core::codec::iso8583::cups::Field60;
use smartpos_core::codec::tlv;
use smartpos_core::txn::{Outcome, TxnKind};
use smartpos_e2e::chip_day::ChipDay;
use smartpos_tools::card_sim::VirtualCard;
use smartpos_tools::sim::Tamper;
use smartpos_tools::sim::ledger::MsgRef;

/// A terminal whose AIDs allow offline approvals up to 1,000 yuan, with the card that
/// approves offline when asked (signature CVM).
fn offline_day() -> ChipDay {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-offline").unwrap());
    // Random selection off: otherwise one sale in five under the threshold goes online.
    day.set_offline_limits(100_000, 0);
    day
}

fn offline_approval(outcome: &Outcome) -> &smartpos_core::txn::Approval {
    let a = approval(outcome);
    assert_eq!(a.kind, TxnKind::OfflineSale, "{a:?}");
    a
}

fn approval(outcome: &Outcome) -> &smartpos_core::txn::Approval {
    match outcome {
        Outcome::Approved(a) => a,
        other => panic!("not approved: {other:?}"),
    }
}

fn icc_value(m: &Message, tag: u32) -> Option<Vec<u8>> {
    let objects = tlv::parse(m.bytes(55)?).ok()?;
    tlv::find(&objects, tag)
        .and_then(|t| t.bytes())
        .map(<[u8]>::to_vec)
}

fn field60(m: &Message) -> Field60 {
    Field60::parse(m.text(60).unwrap()).unwrap()
}

#[test]
fn a_sale_under_the_floor_limit_is_approved_offline_and_uploaded_before_settlement() {
    let day = offline_day();
    let outcome = day.sale("c1", 10_00);
    let a = approval(&outcome);
    assert_eq!(a.kind, TxnKind::OfflineSale);
    assert!(day.sent("0200").is_empty(), "nothing went online");
    assert!(day.sent("0220").is_empty(), "the upload waits");
    assert_eq!(day.net_fen(), 0, "the acquirer has nothing yet");

    let report = day.terminal.settle().unwrap();
    let uploads = day.sent("0220");
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    assert_eq!(
        field60(upload).type_code,
        "36",
        "60.1 of an offline IC sale"
    );
    assert_eq!(upload.text(11), Some(format!("{:06}", a.stan).as_str()));
    assert_eq!(icc_value(upload, 0x9F27), Some(vec![0x40]), "the card's TC");
    assert_eq!(icc_value(upload, 0x8A), Some(b"Y1".to_vec()));
    assert!(upload.text(35).is_none(), "no track data after the fact");
    assert_eq!(day.net_fen(), 10_00, "debited once, from the upload");
    assert!(report.balanced, "{report:?}");
    assert_eq!((report.debit_count, report.debit_fen), (1, 10_00));
}

/// The upload's answer is lost twice: settlement says it waits for it and closes nothing; the
/// next settlement repeats the upload (0221), the host answers it once, and the ledger holds
/// the sale exactly once.
#[test]
fn settlement_waits_for_an_offline_upload_the_host_has_not_answered() {
    let day = offline_day();
    offline_approval(&day.sale("c1", 25_00));
    day.proxy.next("0220", Tamper::DropAnswer);
    day.proxy.next("0221", Tamper::DropAnswer);
    let refused = day.terminal.settle().unwrap_err();
    assert_eq!(refused.code.to_string(), "MNT_UPLOADS_BLOCK_SETTLEMENT");
    assert!(day.sent("0500").is_empty(), "no settlement request went");
    assert_eq!(day.net_fen(), 25_00, "the host acted on the first upload");

    let report = day.terminal.settle().unwrap();
    assert!(report.balanced, "{report:?}");
    assert_eq!(day.sent("0221").len(), 2);
    assert_eq!(day.net_fen(), 25_00, "and on no repeat");
}

/// The stored TC is altered before its upload (a storage fault, or someone with the file): the
/// issuer's check fails (59), no money moves, and the journal records the acquirer's refusal
/// rather than an approval the acquirer never booked.
#[test]
fn an_offline_upload_whose_cryptogram_fails_moves_no_money() {
    let day = offline_day();
    offline_approval(&day.sale("c1", 5_00));
    let db = rusqlite::Connection::open(day.journal_path()).unwrap();
    let stored: Vec<u8> = db
        .query_row(
            "SELECT icc_data FROM transactions WHERE attempt_id = 'c1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut altered = stored.clone();
    // 9F26 08 <TC>: flip a bit of the cryptogram's last byte.
    let at = altered
        .windows(3)
        .position(|w| w == [0x9F, 0x26, 0x08])
        .unwrap();
    altered[at + 3 + 7] ^= 0x01;
    db.execute(
        "UPDATE transactions SET icc_data = ?1 WHERE attempt_id = 'c1'",
        [&altered],
    )
    .unwrap();
    let report = day.terminal.settle().unwrap();
    assert_eq!(day.sent("0220").len(), 1);
    assert_eq!(day.net_fen(), 0, "no money for a cryptogram that fails");
    assert_eq!(report.debit_count, 0, "{report:?}");
    let state: String = db
        .query_row(
            "SELECT state || '/' || response_code FROM transactions WHERE attempt_id = 'c1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "declined/59");
}

#[test]
fn an_online_approval_uploads_its_tc_which_the_issuer_verifies() {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-debit-cda").unwrap());
    let a = approval(&day.sale("c1", 12_00)).clone();
    // The TC goes before the next online message; settlement is one.
    let report = day.terminal.settle().unwrap();
    assert!(report.balanced);
    let uploads: Vec<_> = day
        .sent("0320")
        .into_iter()
        .filter(|m| field60(m).net_mgmt == "203")
        .collect();
    assert_eq!(uploads.len(), 1, "one TC upload");
    let tc = &uploads[0];
    assert_eq!(tc.text(11), Some(format!("{:06}", a.stan).as_str()));
    assert_eq!(icc_value(tc, 0x9F27), Some(vec![0x40]), "TC, not the ARQC");
    let request = day.sent("0200").pop().unwrap();
    assert_ne!(icc_value(tc, 0x9F26), icc_value(&request, 0x9F26));
    let key = MsgRef::new(&request.field_text(41).unwrap(), a.batch_no, a.stan);
    assert_eq!(day.acquirer.ledger().tc_of(&key), Some(true), "TC verified");
}

#[test]
fn scripts_the_card_ran_are_reported_in_a_script_result_advice() {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-scripts").unwrap());
    let a = approval(&day.sale("c1", 3_00)).clone();
    day.terminal.settle().unwrap();
    let advices = day.sent("0620");
    assert_eq!(advices.len(), 1);
    let advice = &advices[0];
    assert_eq!(field60(advice).net_mgmt, "951");
    let results = icc_value(advice, 0xDF31).expect("script results");
    assert_eq!(results.len() % 5, 0);
    assert_eq!(results[0] >> 4, 2, "script performed successfully");
    assert_ne!(advice.text(11), Some(format!("{:06}", a.stan).as_str()));
    let tid = advice.field_text(41).unwrap();
    let key = MsgRef::new(&tid, a.batch_no, a.stan);
    assert_eq!(
        day.acquirer.ledger().script_results_of(&key),
        Some(hex::encode_upper(&results))
    );
}

/// A sale under the floor limit that random selection sends online (the AIDs' target
/// percentage at 99), while the acquirer cannot be reached at all (connection refused: the
/// request certainly never left). Default action analysis finds nothing against it, so the
/// terminal asks for a TC "unable to go online", and the card approves (Y3): the sale is an
/// offline approval under its own STAN, nothing is reversed, and its upload goes once the host
/// is back; the ledger holds it once. Over the floor limit the same card is declined (Z3):
/// the UnionPay TAC default denies an unable-online transaction that exceeds it.
#[test]
fn a_sale_the_host_cannot_be_reached_for_is_approved_offline_by_the_card() {
    let day = ChipDay::direct(VirtualCard::named("unionpay-debit-dda").unwrap());
    day.set_offline_limits(100_000, 99);
    day.sim.set_refusing(true);
    let over = day.sale("c0", 200_000);
    assert_eq!(
        over.termination().map(|t| t.code.to_string()).as_deref(),
        Some("NET_HOST_UNREACHABLE"),
        "{over:?}"
    );
    let outcome = day.sale("c1", 18_00);
    let a = offline_approval(&outcome).clone();
    assert!(day.terminal.pending_reversals().unwrap().is_empty());
    day.sim.set_refusing(false);
    assert_eq!(day.net_fen(), 0);
    let report = day.terminal.settle().unwrap();
    assert!(report.balanced, "{report:?}");
    assert_eq!((report.debit_count, report.debit_fen), (1, 18_00));
    assert_eq!(day.net_fen(), 18_00);
    let db = rusqlite::Connection::open(day.journal_path()).unwrap();
    let (kind, stan): (String, i64) = db
        .query_row(
            "SELECT kind, stan FROM transactions WHERE attempt_id = 'c1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((kind.as_str(), stan), ("offline_sale", i64::from(a.stan)));
}

/// A sale the card approved offline is voided like any sale: the void's readiness check sends
/// the queued upload first, so the acquirer knows the sale it cancels; nothing stays charged.
#[test]
fn an_offline_sale_is_voided_after_its_upload_goes_first() {
    let day = offline_day();
    let a = offline_approval(&day.sale("c1", 12_00)).clone();
    let void = day.terminal.void(
        &smartpos_core::txn::VoidRequest {
            attempt_id: "v1".into(),
            original: smartpos_core::txn::Original { stan: a.stan },
        },
        &smartpos_core::host::CancelToken::new(),
    );
    approval(&void);
    let sent: Vec<String> = day
        .proxy
        .captured()
        .iter()
        .filter_map(|b| smartpos_core::codec::iso8583::Frame::decode_body(b).ok())
        .map(|f| f.message.mti().to_owned())
        .filter(|m| m == "0220" || m == "0200")
        .collect();
    assert_eq!(sent, ["0220", "0200"], "the upload, then the void");
    assert_eq!(day.net_fen(), 0);
    let report = day.terminal.settle().unwrap();
    assert!(report.balanced, "{report:?}");
    assert_eq!(report.debit_count, 0);
}
