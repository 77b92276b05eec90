//! 电签 end to end: a signed sale's signature reaches the acquirer simulator exactly once, bound
//! to its slip; an upload that fails goes again before settlement; settlement waits, then names
//! the slips that need a signed paper copy; a pad that is refused or times out never undoes the
//! payment. The acquirer's rule by card kind reads the kind from the chip's AID. Offline
//! approvals (Y1, Y3) are signed at the card and their signature goes only after the advice
//! has been answered (never for a sale the acquirer declined at its advice). Refusals by the
//! acquirer (a signature moved to another STAN, an unknown slip,
//! another signature for a signed slip, a malformed upload) are tested one by one beside the
//! simulator's upload handler (`tools/src/sim/host/esign_upload.rs`).

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use smartpos_core::card::EntryMode;
use smartpos_core::codec::iso8583::Frame;
use smartpos_core::diag::TerminationCode;
use smartpos_core::esign::{
    self, CardKind, MissingSignature, Point, SignaturePolicy, SignatureRule, Strokes,
};
use smartpos_core::ports::{ScriptedSignaturePad, SignatureCapture};
use smartpos_core::txn::{ESIGN_ATTEMPTS, Outcome, SignatureNote, SignatureSetup, TxnKind};
use smartpos_e2e::Harness;
use smartpos_e2e::chip_day::ChipDay;
use smartpos_tools::card_sim::VirtualCard;
use smartpos_tools::sim::ledger::MsgRef;
use smartpos_tools::sim::{Fault, Matcher, Tamper};

const SIGNATURE_JSON: &str = include_str!("../../core/src/esign/fixtures/signature.json");

fn strokes() -> Strokes {
    Strokes::from_json(SIGNATURE_JSON).unwrap()
}

/// A dense random scribble (a fixed linear congruential sequence, so every run draws the same)
/// whose JBIG needs several upload messages.
fn long_strokes() -> Strokes {
    let mut seed: u64 = 0x5EED;
    let mut next = |range: f64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as f64 / f64::from(1u32 << 31) * range
    };
    let lines = (0..4u64)
        .map(|s| {
            (0..30u64)
                .map(|i| Point {
                    x: next(999.0),
                    y: next(399.0),
                    t_ms: (s * 30 + i) * 16,
                })
                .collect()
        })
        .collect();
    Strokes::new(1000, 400, lines).unwrap()
}

fn every_slip() -> SignaturePolicy {
    SignaturePolicy {
        sign_every_slip: true,
        ..SignaturePolicy::default()
    }
}

/// A signed-on terminal whose cardholder answers the pad as `pad` says, and the folder where
/// the simulator keeps the signatures it accepts.
fn signing(pad: ScriptedSignaturePad) -> (Harness, PathBuf, Arc<ScriptedSignaturePad>) {
    let h = Harness::without_risk_checks();
    let dir = h.dir.path().join("esign");
    h.acquirer().set_esign_dir(dir.clone());
    let pad = Arc::new(pad);
    fit(&h, &pad);
    (h, dir, pad)
}

fn fit(h: &Harness, pad: &Arc<ScriptedSignaturePad>) {
    h.terminal.fit_signature_pad(SignatureSetup {
        paperless: false,
        pad: pad.clone(),
        policy: every_slip(),
        timeout: Duration::from_secs(60),
    });
}

fn kept(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn approved(outcome: &Outcome) -> &smartpos_core::txn::Approval {
    match outcome {
        Outcome::Approved(a) => a,
        other => panic!("not approved: {other:?}"),
    }
}

fn slip_key(h: &Harness, a: &smartpos_core::txn::Approval) -> MsgRef {
    MsgRef::new(h.terminal.terminal_id(), a.batch_no, a.stan)
}

#[test]
fn a_signed_sale_reaches_the_simulator_once_and_decodes_to_the_rendered_raster() {
    let (mut h, dir, pad) = signing(ScriptedSignaturePad::signing(strokes()));
    let outcome = h.sale("e1", "normal", Some("123456"), 88_00);
    let a = approved(&outcome);
    assert!(
        matches!(
            a.signature,
            Some(SignatureNote::Signed {
                segments: 1,
                uploaded: true,
                ..
            })
        ),
        "{:?}",
        a.signature
    );
    // The paper copy says the slip was signed on the screen.
    let printed = a.receipt.to_string();
    assert!(printed.contains("E-SIGNED, UPLOADED"), "{printed}");
    assert_eq!(pad.requests().len(), 1);
    assert_eq!(pad.requests()[0].amount_fen, 88_00);
    let files = kept(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = format!(
        "{}-{:06}-{:06}.jbg",
        h.terminal.terminal_id(),
        a.batch_no,
        a.stan
    );
    assert_eq!(files[0].file_name().unwrap().to_str(), Some(name.as_str()));
    let decoded = esign::decode_jbig(&std::fs::read(&files[0]).unwrap()).unwrap();
    let rendered = esign::render(
        &strokes(),
        esign::DEFAULT_WIDTH,
        esign::DEFAULT_HEIGHT,
        esign::DEFAULT_PEN,
    )
    .unwrap();
    assert_eq!(decoded, rendered);
    assert!(
        h.acquirer()
            .ledger()
            .signature_of(&slip_key(&h, a))
            .is_some()
    );

    // A restarted terminal and a settlement send nothing again.
    h.reopen();
    let report = h.terminal.settle().unwrap();
    assert!(report.paper_slips.is_empty());
    assert_eq!(kept(&dir).len(), 1);
}

#[test]
fn a_signature_over_several_messages_is_put_back_together() {
    let (h, dir, _pad) = signing(ScriptedSignaturePad::signing(long_strokes()));
    let a = approved(&h.sale("e1", "normal", Some("123456"), 12_00)).clone();
    let Some(SignatureNote::Signed {
        segments,
        uploaded,
        jbig_bytes,
    }) = a.signature
    else {
        panic!("{:?}", a.signature);
    };
    assert!(
        segments > 1 && uploaded,
        "{segments} segments, {jbig_bytes} bytes"
    );
    let files = kept(&dir);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).unwrap().len(), jbig_bytes);
}

#[test]
fn an_upload_that_fails_once_goes_through_before_settlement() {
    let (h, dir, _pad) = signing(ScriptedSignaturePad::signing(strokes()));
    h.acquirer().inject(
        Matcher::Mti("0820".into()),
        Fault::Decline { code: "96".into() },
    );
    let a = approved(&h.sale("e1", "normal", Some("123456"), 50_00)).clone();
    assert!(matches!(
        a.signature,
        Some(SignatureNote::Signed {
            uploaded: false,
            ..
        })
    ));
    assert!(kept(&dir).is_empty(), "the host did not take it");
    let report = h.terminal.settle().unwrap();
    assert!(report.paper_slips.is_empty());
    assert_eq!(kept(&dir).len(), 1);
    assert!(
        h.acquirer()
            .ledger()
            .signature_of(&slip_key(&h, &a))
            .is_some()
    );
}

#[test]
fn settlement_waits_then_names_the_paper_slips_after_the_attempt_limit() {
    let (h, dir, _pad) = signing(ScriptedSignaturePad::signing(strokes()));
    for _ in 0..ESIGN_ATTEMPTS {
        h.acquirer().inject(
            Matcher::Mti("0820".into()),
            Fault::Decline { code: "96".into() },
        );
    }
    let a = approved(&h.sale("e1", "normal", Some("123456"), 50_00)).clone();
    // While the upload has attempts left, settlement refuses to close the batch.
    let mut refused = 0;
    let report = loop {
        match h.terminal.settle() {
            Ok(report) => break report,
            Err(t) => {
                assert_eq!(t.code, TerminationCode::MntEsignBlocksSettlement);
                assert!(t.merchant_en.contains(&format!("{:06}", a.stan)));
                refused += 1;
                assert!(refused < ESIGN_ATTEMPTS, "settlement never went ahead");
            }
        }
    };
    assert!(refused >= 1);
    assert_eq!(report.paper_slips, vec![a.stan]);
    assert!(kept(&dir).is_empty());
    // The next batch starts clean: the given-up upload is not named again.
    assert!(h.terminal.settle().unwrap().paper_slips.is_empty());
}

#[test]
fn a_cardholder_who_refuses_or_a_pad_that_times_out_keeps_the_payment() {
    for (answer, why) in [
        (SignatureCapture::Cancelled, MissingSignature::Cancelled),
        (SignatureCapture::TimedOut, MissingSignature::TimedOut),
    ] {
        let (h, dir, _pad) = signing(ScriptedSignaturePad::new(vec![Ok(answer)]));
        let before = h.balance("normal");
        let a = approved(&h.sale("e1", "normal", Some("123456"), 20_00)).clone();
        let Some(SignatureNote::Missing { why: got, note }) = &a.signature else {
            panic!("{:?}", a.signature);
        };
        assert_eq!(*got, why);
        assert_eq!(note.code, TerminationCode::OpSignatureMissing);
        // ...and the paper slip has the line the cardholder signs instead.
        let printed = a.receipt.to_string();
        assert!(printed.contains("NOT E-SIGNED"), "{printed}");
        assert!(printed.contains("CARDHOLDER SIGNATURE: ____"), "{printed}");
        assert!(
            note.merchant_zh.contains("纸质签购单"),
            "{}",
            note.merchant_zh
        );
        assert_eq!(h.balance("normal"), before - 20_00, "the payment stands");
        assert!(h.terminal.pending_reversals().unwrap().is_empty());
        assert!(kept(&dir).is_empty());
        // The replayed attempt says the same, and settlement is not held by it.
        let again = h.sale("e1", "normal", Some("123456"), 20_00);
        assert!(matches!(
            approved(&again).signature,
            Some(SignatureNote::Missing { .. })
        ));
        assert!(h.terminal.settle().unwrap().paper_slips.is_empty());
    }
}

#[test]
fn without_a_pad_nothing_is_asked() {
    let h = Harness::without_risk_checks();
    let a = approved(&h.sale("e1", "normal", Some("123456"), 20_00)).clone();
    assert_eq!(a.signature, None);
}

/// The cardholder's mobile number for an SMS slip: sealed in the journal (the file never holds
/// it in clear), shown masked on the e-slip, refused when it is not a mainland mobile number or
/// names no transaction.
#[test]
fn an_sms_slip_number_is_sealed_and_shown_masked() {
    let (h, _dir, _pad) = signing(ScriptedSignaturePad::signing(strokes()));
    let a = approved(&h.sale("e1", "normal", Some("123456"), 12_00)).clone();
    assert!(
        h.terminal
            .e_slip(a.stan)
            .unwrap()
            .unwrap()
            .slip
            .phone
            .is_none()
    );

    h.terminal.set_slip_phone("e1", "13812345678").unwrap();
    let slip = h.terminal.e_slip(a.stan).unwrap().unwrap().slip;
    assert_eq!(slip.phone.as_deref(), Some("138****5678"));
    assert_eq!(slip.to_json()["phone"], "138****5678");
    // Given again, the newer number wins.
    h.terminal.set_slip_phone("e1", "13900001111").unwrap();
    let slip = h.terminal.e_slip(a.stan).unwrap().unwrap().slip;
    assert_eq!(slip.phone.as_deref(), Some("139****1111"));

    let file = [
        std::fs::read(h.journal_path()).unwrap(),
        std::fs::read(h.journal_path().with_extension("db-wal")).unwrap_or_default(),
    ]
    .concat();
    for number in [&b"13812345678"[..], b"13900001111"] {
        assert!(
            !file.windows(number.len()).any(|w| w == number),
            "the journal holds the number in clear"
        );
    }

    assert!(matches!(
        h.terminal.set_slip_phone("e1", "0213812345"),
        Err(smartpos_core::txn::SlipPhoneError::NotAMobileNumber)
    ));
    assert!(matches!(
        h.terminal.set_slip_phone("nope", "13812345678"),
        Err(smartpos_core::txn::SlipPhoneError::NoSuchTransaction { .. })
    ));
}

/// A paperless merchant: a slip signed on the screen is not printed (the e-slip is the proof, a
/// reprint prints it on demand); one the cardholder did not sign still prints, to be signed.
#[test]
fn a_paperless_merchant_prints_only_the_slips_not_signed_on_screen() {
    let h = Harness::without_risk_checks();
    h.acquirer().set_esign_dir(h.dir.path().join("esign"));
    let pad = Arc::new(ScriptedSignaturePad::new(vec![
        Ok(SignatureCapture::Signed(strokes())),
        Ok(SignatureCapture::Cancelled),
    ]));
    h.terminal.fit_signature_pad(SignatureSetup {
        paperless: true,
        pad: pad.clone(),
        policy: every_slip(),
        timeout: Duration::from_secs(60),
    });

    let signed = approved(&h.sale("p1", "normal", Some("123456"), 30_00)).clone();
    assert!(matches!(
        signed.signature,
        Some(SignatureNote::Signed { .. })
    ));
    assert!(signed.paperless && !signed.receipt_printed);
    assert!(h.printer.printed().is_empty(), "nothing printed");
    assert!(
        h.terminal.e_slip(signed.stan).unwrap().is_some(),
        "the e-slip is there"
    );
    let copy = h.terminal.reprint("p1").unwrap().to_string();
    assert!(copy.contains("E-SIGNED"), "a reprint on demand: {copy}");
    assert_eq!(h.printer.printed().len(), 1, "the reprint asked for");

    let unsigned = approved(&h.sale("p2", "normal", Some("123456"), 40_00)).clone();
    assert!(matches!(
        unsigned.signature,
        Some(SignatureNote::Missing { .. })
    ));
    assert!(!unsigned.paperless && unsigned.receipt_printed);
    let printed = h.printer.printed();
    assert_eq!(
        printed.len(),
        2,
        "the slip to sign on paper printed at once"
    );
    assert!(
        printed[1]
            .to_string()
            .contains("CARDHOLDER SIGNATURE: ____")
    );
}

/// A terminal whose reader holds the catalogue chip card `card`, fitted with a pad signing
/// whenever asked by `policy`, and the folder where the simulator keeps signatures.
fn chip_signing(
    card: &str,
    policy: SignaturePolicy,
) -> (ChipDay, PathBuf, Arc<ScriptedSignaturePad>) {
    fit_chip(
        ChipDay::with_card(VirtualCard::named(card).unwrap()),
        policy,
    )
}

fn fit_chip(
    day: ChipDay,
    policy: SignaturePolicy,
) -> (ChipDay, PathBuf, Arc<ScriptedSignaturePad>) {
    let dir = day.journal_path().with_file_name("esign");
    day.acquirer.set_esign_dir(dir.clone());
    let pad = Arc::new(ScriptedSignaturePad::signing(strokes()));
    day.terminal.fit_signature_pad(SignatureSetup {
        paperless: false,
        pad: pad.clone(),
        policy,
        timeout: Duration::from_secs(60),
    });
    (day, dir, pad)
}

/// The acquirer asks only credit cards read by chip to sign. The card kind comes from the
/// application the chip selected (UnionPay PIX 010102 credit, 010101 debit; JR/T 0025): the
/// credit card signs, and its signature reaches the simulator; the debit card is not asked.
/// Both cards verify by online PIN, so no CVM result asks for a signature.
#[test]
fn a_credit_only_chip_rule_asks_the_credit_card_to_sign_and_not_the_debit_one() {
    let credit_only = || SignaturePolicy {
        rules: vec![SignatureRule {
            entry_mode: Some(EntryMode::ContactChip),
            card_kind: Some(CardKind::Credit),
            signature: true,
        }],
        ..SignaturePolicy::default()
    };
    let (day, dir, pad) = chip_signing("unionpay-credit", credit_only());
    let a = approved(&day.sale("k1", 66_00)).clone();
    assert!(
        matches!(
            a.signature,
            Some(SignatureNote::Signed { uploaded: true, .. })
        ),
        "{:?}",
        a.signature
    );
    assert_eq!(pad.requests().len(), 1);
    let key = MsgRef::new(day.terminal.terminal_id(), a.batch_no, a.stan);
    assert!(day.acquirer.ledger().signature_of(&key).is_some());
    assert_eq!(kept(&dir).len(), 1);

    let (day, dir, pad) = chip_signing("unionpay-debit-dda", credit_only());
    let a = approved(&day.sale("k2", 66_00)).clone();
    assert_eq!(a.signature, None, "a debit card is not asked");
    assert!(pad.requests().is_empty());
    assert!(kept(&dir).is_empty());
}

/// The card that approves offline (Y1) with a signature CVM, under a floor limit of 1,000 yuan
/// with random online selection off, and a pad that signs when the CVM result asks.
fn offline_signing() -> (ChipDay, PathBuf, Arc<ScriptedSignaturePad>) {
    let (day, dir, pad) = chip_signing("unionpay-offline", SignaturePolicy::default());
    day.set_offline_limits(100_000, 0);
    (day, dir, pad)
}

/// A chip card approves offline (Y1) with a signature CVM: the cardholder signs at the card, the
/// signature is journaled with the approval, and nothing goes to the acquirer yet. The advice's
/// answer is lost once: the signature still does not go (it has nothing to bind to). The next
/// settlement repeats the advice, the answer brings the RRN, and only then is the signature
/// bound and uploaded — once, bound to the slip as the acquirer booked it.
#[test]
fn an_offline_chip_approval_is_signed_at_the_card_and_uploaded_once_after_its_advice() {
    let (day, dir, pad) = offline_signing();
    let a = approved(&day.sale("o1", 12_00)).clone();
    assert_eq!(a.kind, TxnKind::OfflineSale);
    assert!(
        matches!(
            a.signature,
            Some(SignatureNote::Signed {
                uploaded: false,
                ..
            })
        ),
        "{:?}",
        a.signature
    );
    assert_eq!(pad.requests().len(), 1, "asked while the card was there");
    let printed = a.receipt.to_string();
    assert!(printed.contains("E-SIGNED, UPLOAD PENDING"), "{printed}");
    assert!(day.sent("0820").is_empty() && day.sent("0220").is_empty());

    day.proxy.next("0220", Tamper::DropAnswer);
    day.proxy.next("0221", Tamper::DropAnswer);
    assert!(day.terminal.settle().is_err(), "the advice is unanswered");
    assert!(
        day.sent("0820").is_empty(),
        "never before the advice is answered"
    );
    assert!(kept(&dir).is_empty());

    let report = day.terminal.settle().unwrap();
    assert!(
        report.balanced && report.paper_slips.is_empty(),
        "{report:?}"
    );
    let mtis: Vec<String> = day
        .proxy
        .captured()
        .iter()
        .filter_map(|b| Frame::decode_body(b).ok())
        .map(|f| f.message.mti().to_owned())
        .filter(|m| ["0220", "0221", "0820"].contains(&m.as_str()))
        .collect();
    assert_eq!(mtis, ["0220", "0221", "0221", "0820"]);
    let files = kept(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].ends_with(format!(
            "{}-{:06}-{:06}.jbg",
            day.terminal.terminal_id(),
            a.batch_no,
            a.stan
        )),
        "{files:?}"
    );
    let key = MsgRef::new(day.terminal.terminal_id(), a.batch_no, a.stan);
    assert!(day.acquirer.ledger().signature_of(&key).is_some());
    let db = rusqlite::Connection::open(day.journal_path()).unwrap();
    let (bound, state): (bool, String) = db
        .query_row(
            "SELECT s.digest IS NOT NULL, q.state FROM signatures s JOIN saf_queue q \
             ON q.transaction_id = s.transaction_id AND q.purpose = 'esign'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(bound);
    assert_eq!(state, "sent");
}

/// The acquirer declines the offline sale at its advice: nothing was charged, the signature has
/// no slip to bind to and is never sent, and settlement neither waits for it nor lists a paper
/// slip.
#[test]
fn an_offline_sale_declined_at_its_advice_sends_no_signature_and_needs_no_paper() {
    let (day, dir, _pad) = offline_signing();
    let a = approved(&day.sale("o2", 9_00)).clone();
    assert!(matches!(a.signature, Some(SignatureNote::Signed { .. })));
    day.acquirer.inject(
        Matcher::Mti("0220".into()),
        Fault::Decline { code: "51".into() },
    );
    let report = day.terminal.settle().unwrap();
    assert!(report.paper_slips.is_empty(), "{report:?}");
    assert!(day.sent("0820").is_empty());
    assert!(kept(&dir).is_empty());
    assert_eq!(day.net_fen(), 0);
    let db = rusqlite::Connection::open(day.journal_path()).unwrap();
    let (sale, upload, why): (String, String, String) = db
        .query_row(
            "SELECT t.state, q.state, q.last_error FROM transactions t JOIN saf_queue q \
             ON q.transaction_id = t.id AND q.purpose = 'esign' WHERE t.attempt_id = 'o2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((sale.as_str(), upload.as_str()), ("declined", "expired"));
    assert!(why.contains("declined"), "{why}");
}

/// The host cannot be reached (the request never left) and the card approves unable-online
/// (Y3): the merchant signs every slip, so the cardholder signs at the card; the signature is
/// journaled with the conversion to an offline sale and goes once, after the advice, when the
/// host is back.
#[test]
fn an_unable_online_approval_is_signed_and_uploaded_after_its_advice() {
    let day = ChipDay::direct(VirtualCard::named("unionpay-debit-dda").unwrap());
    day.set_offline_limits(100_000, 99);
    let (day, dir, pad) = fit_chip(day, every_slip());
    day.sim.set_refusing(true);
    let a = approved(&day.sale("y3", 18_00)).clone();
    assert_eq!(a.kind, TxnKind::OfflineSale);
    assert!(
        matches!(
            a.signature,
            Some(SignatureNote::Signed {
                uploaded: false,
                ..
            })
        ),
        "{:?}",
        a.signature
    );
    assert_eq!(pad.requests().len(), 1);
    day.sim.set_refusing(false);
    let report = day.terminal.settle().unwrap();
    assert!(
        report.balanced && report.paper_slips.is_empty(),
        "{report:?}"
    );
    assert_eq!(kept(&dir).len(), 1);
    let key = MsgRef::new(day.terminal.terminal_id(), a.batch_no, a.stan);
    assert!(day.acquirer.ledger().signature_of(&key).is_some());
}
