//! The contact kernel (`card::emv`) against the virtual cards and the simulated issuer: the
//! whole chip flow without a terminal around it — selection, ODA under the simulator's test CA,
//! CVM, first GENERATE AC, the issuer's check of field 55, EXTERNAL AUTHENTICATE, scripts and
//! the second GENERATE AC.

use smartpos_core::card::Pan;
use smartpos_core::card::emv::{
    AcceptFirst, CaKeyVerifier, Completion, CompletionReport, ContactKernel, CvmHandler,
    FirstAcDecision, HostAnswer, IccRequest, KernelConfig, KernelPorts, OdaMethod, OdaResult,
    OnlinePinEntry, ReaderChannel, RiskSource, TerminalParams, TransactionData, default_aids,
};
use smartpos_core::card::oda::RevocationList;
use smartpos_core::codec::tlv;
use smartpos_core::crypto::{OfflinePinRequest, OfflinePinResult};
use smartpos_core::ports::{CardReader, DeviceFault};
use smartpos_tools::card_sim::{Tear, VirtualCard, catalogue, format2_block, test_ca_keys};
use smartpos_tools::sim::issuer::Issuer;

/// The PIN pad: online PIN is "entered"; offline plaintext PIN is sent to the card as a PED
/// does (VERIFY P2 = 80 with the cardholder's PIN), the card's status word coming back.
struct Pins<'a> {
    card: &'a VirtualCard,
    pin: &'static str,
}

impl CvmHandler for Pins<'_> {
    fn online_pin(&mut self, _: &Pan, _: u64) -> Result<OnlinePinEntry, DeviceFault> {
        Ok(OnlinePinEntry::Entered)
    }
    fn offline_pin(&mut self, _: &OfflinePinRequest) -> Result<OfflinePinResult, DeviceFault> {
        let block = format2_block(self.pin).ok_or(DeviceFault::PinEntryCancelled)?;
        let mut verify = vec![0x00, 0x20, 0x00, 0x80, 0x08];
        verify.extend_from_slice(block.as_slice());
        let answer = self.card.transceive(&verify)?;
        let sw = answer
            .get(answer.len().saturating_sub(2)..)
            .unwrap_or_default();
        Ok(OfflinePinResult::CardAnswered {
            status_word: u16::from_be_bytes([sw[0], sw[1]]),
        })
    }
}

struct NoRisk;

impl RiskSource for NoRisk {
    fn random_percent(&mut self) -> u8 {
        99
    }
    fn on_exception_file(&self, _: &Pan) -> bool {
        false
    }
}

fn config(floor_limit_fen: u64) -> KernelConfig {
    let mut aids = default_aids();
    for a in &mut aids {
        a.floor_limit_fen = floor_limit_fen;
        a.random_threshold_fen = 0;
        a.target_percent = 0;
        a.max_target_percent = 0;
    }
    KernelConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids,
    }
}

fn txn(amount_fen: u64) -> TransactionData {
    TransactionData {
        amount_fen,
        other_amount_fen: 0,
        transaction_type: 0x00,
        date: [0x26, 0x12, 0x04],
        time: [0x10, 0x00, 0x00],
        unpredictable_number: [0xDE, 0xAD, 0xBE, 0xEF],
        sequence_counter: 1,
        merchant_forced_online: false,
    }
}

fn verifier() -> CaKeyVerifier {
    CaKeyVerifier {
        ca_keys: test_ca_keys().expect("test CA keys"),
        revocations: RevocationList::new(),
    }
}

fn run(name: &str, amount: u64, floor: u64) -> (VirtualCard, ContactKernel, FirstAcDecision) {
    run_with_pin(name, amount, floor, "123456")
}

fn run_with_pin(
    name: &str,
    amount: u64,
    floor: u64,
    pin: &'static str,
) -> (VirtualCard, ContactKernel, FirstAcDecision) {
    let card = VirtualCard::named(name).expect("card");
    card.detect(std::time::Duration::ZERO).expect("inserted");
    let oda = verifier();
    let (k, d) = {
        let mut pins = Pins { card: &card, pin };
        let ports = KernelPorts {
            chooser: &mut AcceptFirst,
            cvm: &mut pins,
            oda: &oda,
            risk: &mut NoRisk,
        };
        let mut channel = ReaderChannel(&card);
        ContactKernel::start(&config(floor), txn(amount), &mut channel, ports)
    };
    (card, k, d)
}

/// The issuer's answer to the kernel's request, as the 0210's field 55 carries it.
fn host_answer(issuer: &Issuer, req: &IccRequest, code: &str) -> HostAnswer {
    let verified = issuer
        .verify_arqc(
            req.card.pan.expose_digits(),
            req.card.pan_sequence,
            &req.field55,
        )
        .expect("the kernel's ARQC verifies at the issuer");
    let f55 = issuer.answer_field55(&verified, code);
    let objects = tlv::parse(&f55).expect("tlv");
    HostAnswer {
        response_code: Some(code.as_bytes().try_into().expect("two characters")),
        issuer_authentication_data: tlv::find(&objects, 0x91)
            .and_then(|t| t.bytes())
            .map(<[u8]>::to_vec),
        issuer_scripts: tlv::find(&objects, 0x72)
            .map(|t| tlv::encode(std::slice::from_ref(t)))
            .unwrap_or_default(),
    }
}

fn complete(card: &VirtualCard, k: &mut ContactKernel, host: &HostAnswer) -> CompletionReport {
    let mut channel = ReaderChannel(card);
    k.complete(host, &mut channel, &verifier())
}

#[test]
fn every_card_goes_online_with_its_oda_and_is_approved_with_issuer_authentication() {
    let issuer = Issuer::new();
    let cases = [
        ("unionpay-debit-sda", OdaMethod::Sda),
        ("unionpay-debit-dda", OdaMethod::Dda),
        ("unionpay-debit-cda", OdaMethod::Cda),
        ("unionpay-credit", OdaMethod::Dda),
        ("unionpay-dual", OdaMethod::Dda),
        ("pboc-sm", OdaMethod::Sm2),
        ("visa", OdaMethod::Dda),
        ("mastercard", OdaMethod::Cda),
        ("unionpay-scripts", OdaMethod::Sda),
    ];
    for (name, method) in cases {
        let (card, mut k, d) = run(name, 2_500, 0);
        let FirstAcDecision::Online(req) = d else {
            panic!("{name}: {d:?}");
        };
        let snap = k.snapshot();
        assert_eq!(
            (snap.oda_method, snap.oda_result),
            (method, OdaResult::Ok),
            "{name}"
        );
        // Only the floor limit (byte 4 bit 8) and, for UnionPay, online PIN (byte 3 bit 3)
        // and SDA selected (byte 1 bit 2) may be set: nothing failed.
        assert_eq!(snap.tvr.0[0] & !0x02, 0, "{name}: {:?}", snap.tvr);
        assert_eq!(snap.tvr.0[1], 0, "{name}: {:?}", snap.tvr);
        let report = complete(&card, &mut k, &host_answer(&issuer, &req, "00"));
        assert_eq!(report.completion, Completion::ApprovedOnline, "{name}");
        assert_eq!(
            k.snapshot().acs.last().map(|a| a.cid),
            Some(0x40),
            "{name}: TC"
        );
    }
}

#[test]
fn the_script_card_applies_the_issuer_script() {
    let issuer = Issuer::new();
    let (card, mut k, d) = run("unionpay-scripts", 2_500, 0);
    let FirstAcDecision::Online(req) = d else {
        panic!("{d:?}");
    };
    let report = complete(&card, &mut k, &host_answer(&issuer, &req, "00"));
    assert_eq!(report.completion, Completion::ApprovedOnline);
    assert_eq!(report.script_results.len(), 5, "one script result");
    assert_eq!(
        report.script_results[0] >> 4,
        0x2,
        "script processed successfully"
    );
    assert_eq!(card.counters(0).expect("app").ec_balance_fen, 100_000);
}

#[test]
fn the_declining_card_makes_the_kernel_reverse() {
    let issuer = Issuer::new();
    let (card, mut k, d) = run("unionpay-declines-second-ac", 2_500, 0);
    let FirstAcDecision::Online(req) = d else {
        panic!("{d:?}");
    };
    let report = complete(&card, &mut k, &host_answer(&issuer, &req, "00"));
    assert_eq!(report.completion, Completion::CardDeclinedAfterApproval);
}

#[test]
fn a_host_decline_is_declined_online() {
    let issuer = Issuer::new();
    let (card, mut k, d) = run("unionpay-debit-dda", 2_500, 0);
    let FirstAcDecision::Online(req) = d else {
        panic!("{d:?}");
    };
    let report = complete(&card, &mut k, &host_answer(&issuer, &req, "51"));
    assert_eq!(report.completion, Completion::DeclinedOnline);
}

#[test]
fn offline_approval_under_the_floor_limit() {
    let (_, k, d) = run("unionpay-offline", 100, 100_000);
    assert!(matches!(d, FirstAcDecision::ApprovedOffline(_)), "{d:?}");
    assert_eq!(k.snapshot().acs[0].cid, 0x40);
}

#[test]
fn offline_pin_is_verified_by_the_card() {
    let (card, k, d) = run_with_pin("unionpay-offline-pin", 2_500, 0, "123456");
    assert!(matches!(d, FirstAcDecision::Online(_)), "{d:?}");
    assert_eq!(
        k.snapshot().cvm_results,
        [0x41, 0x03, 0x02],
        "offline plaintext PIN, successful"
    );
    assert_eq!(card.counters(0).expect("app").pin_tries, 3);

    let (card, k, _) = run_with_pin("unionpay-offline-pin", 2_500, 0, "000000");
    assert_ne!(
        k.snapshot().cvm_results[2],
        0x02,
        "a wrong PIN is not a successful CVM"
    );
    assert!(card.counters(0).expect("app").pin_tries < 3);
}

#[test]
fn blocked_refusing_and_expired_cards() {
    for name in ["unionpay-blocked", "unionpay-gpo-refused"] {
        let (_, _, d) = run(name, 2_500, 0);
        assert!(matches!(d, FirstAcDecision::Terminated(_)), "{name}: {d:?}");
    }
    let (_, k, _) = run("unionpay-expired", 2_500, 0);
    assert_eq!(
        k.snapshot().tvr.0[1] & 0x40,
        0x40,
        "TVR: expired application"
    );
}

/// Tearing: the card leaves the slot at the first GENERATE AC; the kernel ends the transaction
/// on the reader's fault instead of hanging or panicking.
#[test]
fn a_card_torn_out_at_generate_ac_terminates_the_transaction() {
    let profile = catalogue::card("unionpay-debit-dda")
        .expect("card")
        .with_tear(Tear {
            ins: 0xAE,
            occurrence: 1,
            after_processing: true,
        });
    let card = VirtualCard::new(profile);
    card.detect(std::time::Duration::ZERO).expect("inserted");
    let oda = verifier();
    let mut pins = Pins {
        card: &card,
        pin: "123456",
    };
    let ports = KernelPorts {
        chooser: &mut AcceptFirst,
        cvm: &mut pins,
        oda: &oda,
        risk: &mut NoRisk,
    };
    let mut channel = ReaderChannel(&card);
    let (_, d) = ContactKernel::start(&config(0), txn(2_500), &mut channel, ports);
    assert!(matches!(d, FirstAcDecision::Terminated(_)), "{d:?}");
    assert_eq!(
        card.detect(std::time::Duration::ZERO),
        Err(DeviceFault::NoCardPresented)
    );
}
