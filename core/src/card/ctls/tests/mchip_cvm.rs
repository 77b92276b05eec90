//! Kernel C-2 CVM Selection (Book C-2, "CVM Selection") against scripted cards: which CV rule
//! of the card's list is selected for the CVM capability that applies to the amount, the CVM
//! results the card is sent in CDOL1 (the last three bytes of the GENERATE AC data here), and
//! the TVR.

use super::*;

/// An ARQC with CDA, as `mastercard_cda` scripts it.
fn arqc() -> String {
    enc(Tlv::constructed(
        0x77,
        vec![
            p(0x9F27, "80"),
            p(0x9F36, "0005"),
            p(0x9F4B, "00112233"),
            p(0x9F10, "0110"),
        ],
    ))
}

/// AIP 3981: DDA, cardholder verification, terminal risk management, CDA; EMV mode.
const AIP: &str = "3981";

struct Selected {
    outcome: CtlsOutcome,
    /// 9F34 as the snapshot keeps it.
    results: String,
    /// 9F34 as the card received it in CDOL1.
    sent: String,
    tvr: [u8; 5],
    ui: Vec<UiRequest>,
}

fn select(cfg: &CtlsConfig, amount: u64, aip: &str, list: Option<&str>) -> Selected {
    let (tap, outcome, ui, sc) = tap_with(cfg, amount, &mchip_with(aip, list, arqc()), &OK);
    let genac = sc.sent.last().cloned().unwrap_or_default();
    assert_eq!(genac.get(1), Some(&0xAE), "{}", outcome.code());
    let n = genac.len();
    Selected {
        outcome,
        results: hex::encode_upper(tap.snapshot().cvm_results),
        sent: hex::encode_upper(&genac[n - 4..n - 1]),
        tvr: tap.snapshot().tvr.0,
        ui,
    }
}

fn cvm_of(o: &CtlsOutcome) -> (CtlsCvm, bool) {
    match o {
        CtlsOutcome::OnlineRequest(r) | CtlsOutcome::Approved(r) | CtlsOutcome::Declined(r) => {
            (r.cvm, r.request.signature_required)
        }
        other => panic!("no CVM: {}", other.code()),
    }
}

/// RMB 2,000 is over the default CVM required limit (RMB 1,000): the reader offers online PIN
/// and signature, and the first rule, online PIN, is selected (9F34 420300, TVR "online PIN
/// entered"); the engine is asked to take the PIN once the card is gone.
#[test]
fn over_the_limit_the_first_supported_rule_is_selected() {
    let s = select(&config(0, None), 200_000, AIP, Some(MC_CVM_LIST));
    assert_eq!((s.results.as_str(), s.sent.as_str()), ("420300", "420300"));
    assert_eq!(cvm_of(&s.outcome), (CtlsCvm::OnlinePin, false));
    assert_eq!(s.tvr[2], 0x04, "online PIN entered");
    assert_eq!(s.ui.last(), Some(&UiRequest::EnterPin));
}

/// A reader whose "CVM Required" capability is signature only: online PIN's condition "if the
/// terminal supports the CVM" is not met, so the signature rule is selected, result unknown
/// until the slip is signed, and the request says a signature is required.
#[test]
fn a_reader_offering_only_signature_gets_a_signature() {
    let mut cfg = config(0, None);
    for a in &mut cfg.aids {
        a.cvm_capability_cvm_required = 0x20;
    }
    let s = select(&cfg, 200_000, AIP, Some(MC_CVM_LIST));
    assert_eq!((s.results.as_str(), s.sent.as_str()), ("1E0300", "1E0300"));
    assert_eq!(cvm_of(&s.outcome), (CtlsCvm::Signature, true));
    assert_eq!(s.tvr[..3], [0; 3], "floor limit exceeded only");
}

/// Under the limit, and at it (C-2: a CVM is required only over the limit), the reader offers
/// "no CVM" only: the list settles on 1F03, successful.
#[test]
fn at_or_under_the_limit_no_cvm_is_selected() {
    for amount in [1_000, 100_000] {
        let s = select(&config(0, None), amount, AIP, Some(MC_CVM_LIST));
        assert_eq!(s.results, "1F0302", "{amount}");
        assert_eq!(s.sent, "1F0302", "{amount}");
        assert_eq!(cvm_of(&s.outcome), (CtlsCvm::NoCvm, false));
        assert_eq!(s.tvr[..3], [0; 3], "floor limit exceeded only");
    }
}

/// Offline PIN is never a contactless CVM, whatever capability the reader is configured with:
/// "plaintext PIN by the ICC, always, apply next" fails over to the signature rule.
#[test]
fn offline_pin_is_never_selected_on_a_tap() {
    let mut cfg = config(0, None);
    for a in &mut cfg.aids {
        a.cvm_capability_cvm_required = 0xF8;
    }
    let s = select(&cfg, 200_000, AIP, Some("000000000000000041001E00"));
    assert_eq!(s.results, "1E0000");
    assert_eq!(s.tvr[..3], [0; 3], "floor limit exceeded only");
}

/// The list runs out, or a failing rule does not allow the next: "cardholder verification was
/// not successful", CVM results 3F0001 — except for "Fail CVM processing", which C-2 records
/// as the rule itself, failed.
#[test]
fn failures_record_3f0001_or_the_fail_cvm_rule() {
    let mut cfg = config(0, None);
    for a in &mut cfg.aids {
        a.cvm_capability_cvm_required = 0x20;
    }
    for (list, expected) in [
        // Online PIN always, apply next: unsupported, and the list ends.
        ("00000000000000004200", "3F0001"),
        // Online PIN always, without apply next: unsupported ends the walk.
        ("000000000000000002001E00", "3F0001"),
        // Fail CVM processing, always.
        ("000000000000000000001E00", "000001"),
    ] {
        let s = select(&cfg, 200_000, AIP, Some(list));
        assert_eq!(s.results, expected, "{list}");
        assert_eq!(s.sent, expected, "{list}");
        assert_eq!(s.tvr[2] & 0x80, 0x80, "{list}: CV not successful");
        assert_eq!(cvm_of(&s.outcome), (CtlsCvm::NoCvm, false), "{list}");
    }
}

/// An unknown CVM code sets "unrecognised CVM" and, with apply next, the walk goes on.
#[test]
fn an_unrecognised_cvm_is_flagged_and_skipped() {
    let s = select(
        &config(0, None),
        1_000,
        AIP,
        Some("00000000000000006F001F00"),
    );
    assert_eq!(s.results, "1F0002");
    assert_eq!(s.tvr[2], 0x40, "unrecognised CVM only");
}

/// No cardholder verification in the AIP: 3F0000 and nothing in the TVR. The AIP says yes and
/// the list is missing: 3F0000 and "ICC data missing".
#[test]
fn no_cvm_support_or_no_list() {
    let s = select(&config(0, None), 200_000, "2981", Some(MC_CVM_LIST));
    assert_eq!(s.results, "3F0000");
    assert_eq!(s.tvr[..3], [0; 3], "floor limit exceeded only");
    let s = select(&config(0, None), 200_000, AIP, None);
    assert_eq!(s.results, "3F0000");
    assert_eq!(s.tvr[0] & 0x20, 0x20, "ICC data missing");
}

/// A phone (AIP on-device CVM) on a reader supporting it: over the limit its own verification
/// (010002), under it no CVM (3F0002); the list is not walked.
#[test]
fn a_phone_verifies_its_holder_over_the_limit() {
    let s = select(&config(0, None), 200_000, "3B81", Some(MC_CVM_LIST));
    assert_eq!(s.results, "010002");
    assert_eq!(cvm_of(&s.outcome), (CtlsCvm::ConsumerDevice, false));
    let s = select(&config(0, None), 1_000, "3B81", Some(MC_CVM_LIST));
    assert_eq!(s.results, "3F0002");
    assert_eq!(cvm_of(&s.outcome), (CtlsCvm::NoCvm, false));
}
