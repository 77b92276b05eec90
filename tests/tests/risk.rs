//! Risk pre-checks inside the card flows, against the simulated acquirer: declines end as
//! terminations with cause Risk before anything moves, counters survive a restart, signed
//! bundles and hot-list deltas change the rules at run time and survive a restart (no rollback,
//! no replayed delta, a tampered stored bundle refused), step-ups change the flow.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use smartpos_core::card::Pan;
use smartpos_core::crypto::{KeyAlgorithm, SecretKey};
use smartpos_core::diag::{Cause, PaymentMethod, Remedy, TerminationCode};
use smartpos_core::ports::testing::{
    RecordingPrinter, ScriptedCardReader, ScriptedPrompt, SoftwarePinPad,
};
use smartpos_core::ports::{CardPresentation, Confirmation, SystemClock};
use smartpos_core::risk::{
    Bundle, BundleError, CardHashKey, EnvelopeError, EnvelopeKind, HotListDelta, HotListError,
    KeyId, RestoreProblem, Signer, TrustedKey, TrustedKeys,
};
use smartpos_core::txn::{
    Outcome, Ports, RiskSetup, RiskUpdateError, SaleRequest, Terminal, TerminalConfig,
};
use smartpos_e2e::Harness;
use smartpos_tools::demo_setup;

const SALT: &[u8] = b"fleet-7 hot-list salt";

/// RFC 8032 §7.1 TEST 1 seed: a fixed signing key for the back office in these tests, under
/// the key id "fleet-1".
fn signer() -> Signer {
    Signer::from_seed(
        &hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap(),
    )
    .unwrap()
    .with_key_id(KeyId::new("fleet-1").unwrap())
}

/// RFC 8032 §7.1 TEST 2 seed: a second fleet key, "fleet-2", trusted beside the first.
fn second_signer() -> Signer {
    Signer::from_seed(
        &hex::decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb").unwrap(),
    )
    .unwrap()
    .with_key_id(KeyId::new("fleet-2").unwrap())
}

fn fleet_keys() -> TrustedKeys {
    TrustedKeys::new(
        [signer(), second_signer()]
            .iter()
            .map(|s| TrustedKey::new(s.key_id().clone(), &s.public_key()).unwrap()),
    )
    .unwrap()
}

/// Risk checks with the fleet's keys and hot-list salt; after a restart too, since the harness
/// reopens with the default configuration (which has no keys).
fn enable(terminal: &Terminal) {
    terminal.enable_risk(RiskSetup {
        trusted_keys: fleet_keys(),
        card_hash_salt: Some(zeroize::Zeroizing::new(SALT.to_vec())),
        mcc: None,
    });
}

fn harness() -> Harness {
    let h = Harness::new();
    enable(&h.terminal);
    h
}

fn signed_bundle(version: u64, edit: impl FnOnce(&mut Bundle)) -> Vec<u8> {
    let mut b = Bundle::built_in();
    b.version = version;
    edit(&mut b);
    signer().seal(EnvelopeKind::Bundle, b.to_json().as_bytes())
}

fn terminated(o: &Outcome) -> &smartpos_core::diag::Termination {
    match o {
        Outcome::Terminated(t) => t,
        Outcome::Approved(a) => panic!("approved: {a:?}"),
    }
}

#[test]
fn an_amount_over_the_maximum_is_declined_before_the_card_is_read() {
    let h = harness();
    // No card presented: if the flow read the card it would end with OP_NO_CARD.
    let o = h.terminal.sale(
        &SaleRequest {
            attempt_id: "big".into(),
            amount_fen: 5_000_001,
        },
        &h.cancel,
    );
    let t = terminated(&o);
    assert_eq!(t.cause, Cause::Risk);
    assert_eq!(t.code, TerminationCode::RiskLimit);
    assert!(t.merchant_en.contains("above_maximum"), "{}", t.merchant_en);
    assert!(!t.cardholder_en.to_lowercase().contains("risk"));
    // 50,000 yuan is far past any QR day cap: the advice is cash, not a second refusal.
    assert!(!t.remedies.contains(&Remedy::UseQr), "{:?}", t.remedies);
    assert_eq!(t.alternative, Some(PaymentMethod::Cash));
    assert_eq!(h.net_fen(), 0);
    assert!(h.terminal.transactions().unwrap().is_empty());
}

#[test]
fn a_duplicate_without_a_prompt_is_declined_and_counters_survive_a_restart() {
    let mut h = harness();
    assert!(
        h.sale("d1", "normal", Some("123456"), 8_888)
            .approval()
            .is_some()
    );
    h.reopen();
    enable(&h.terminal);
    let o = h.sale("d2", "normal", Some("123456"), 8_888);
    let t = terminated(&o);
    assert_eq!(t.code, TerminationCode::RiskDuplicate);
    assert!(t.merchant_en.contains("operator confirmation needed"));
    // Another amount is not a duplicate.
    assert!(
        h.sale("d3", "normal", Some("123456"), 8_889)
            .approval()
            .is_some()
    );
    assert_eq!(h.net_fen(), 8_888 + 8_889);
}

fn terminal_with_prompt(
    h: &Harness,
    dir: &tempfile::TempDir,
    prompt: Arc<ScriptedPrompt>,
) -> (Terminal, Arc<ScriptedCardReader>, Arc<SoftwarePinPad>) {
    let vault = Arc::new(demo_setup::demo_vault());
    let reader = Arc::new(ScriptedCardReader::default());
    let pin_pad = Arc::new(SoftwarePinPad::new(vault.clone()));
    let ports = Ports {
        card_reader: reader.clone(),
        pin_pad: pin_pad.clone(),
        printer: Arc::new(RecordingPrinter::default()),
        vault,
        clock: Arc::new(SystemClock),
        scanner: None,
        network: None,
        location: None,
        prompt: Some(prompt),
    };
    let key = SecretKey::new(KeyAlgorithm::Aes, h.storage_key_bytes()).unwrap();
    let config = TerminalConfig {
        journal_path: dir.path().join("journal.db"),
        endpoints: vec![h.sim.addr()],
        response_timeout: Duration::from_millis(400),
        ..demo_setup::demo_terminal_config(key)
    };
    let t = Terminal::open(config, ports).unwrap();
    t.sign_on().unwrap();
    enable(&t);
    (t, reader, pin_pad)
}

#[test]
fn the_operator_confirms_or_refuses_a_possible_duplicate() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let prompt = Arc::new(ScriptedPrompt::new());
    let (t, reader, pin_pad) = terminal_with_prompt(&h, &dir, prompt.clone());
    let sale = |id: &str| {
        let track2 = demo_setup::demo_track2("normal").unwrap();
        reader.present(CardPresentation::Magstripe {
            track2: smartpos_core::card::Track2::parse(&track2).unwrap(),
        });
        pin_pad.set_pin(Some("123456"));
        t.sale(
            &SaleRequest {
                attempt_id: id.into(),
                amount_fen: 777,
            },
            &h.cancel,
        )
    };
    assert!(sale("p1").approval().is_some());
    prompt.answer(Confirmation::Yes);
    assert!(sale("p2").approval().is_some(), "confirmed by the operator");
    assert_eq!(prompt.asked().len(), 1);
    assert!(prompt.asked()[0].1.en.contains("Same card and amount"));
    prompt.answer(Confirmation::No);
    assert_eq!(terminated(&sale("p3")).code, TerminationCode::RiskDuplicate);
    assert_eq!(h.net_fen(), 2 * 777);
}

#[test]
fn a_signed_bundle_changes_the_rules_and_a_bad_one_changes_nothing() {
    let h = harness();
    assert_eq!(h.terminal.risk_bundle_version(), Some(1));
    let v2 = signed_bundle(2, |b| b.limits.card.max_fen = 1_000);
    assert_eq!(h.terminal.load_risk_bundle(&v2).unwrap(), 2);
    // Tampered, replayed and truncated bundles are refused; version 2 stays active.
    let mut tampered = signed_bundle(3, |b| b.limits.card.max_fen = 0);
    let n = tampered.len();
    tampered[n - 1] ^= 1;
    assert!(h.terminal.load_risk_bundle(&tampered).is_err());
    assert!(h.terminal.load_risk_bundle(&v2).is_err());
    assert!(h.terminal.load_risk_bundle(&v2[..40]).is_err());
    assert_eq!(h.terminal.risk_bundle_version(), Some(2));
    let o = h.sale("over", "normal", Some("123456"), 1_001);
    assert_eq!(terminated(&o).code, TerminationCode::RiskLimit);
    // 10.01 yuan is well within what QR takes: QR stays the advice.
    assert!(terminated(&o).remedies.contains(&Remedy::UseQr));
    assert!(
        h.sale("under", "normal", Some("123456"), 1_000)
            .approval()
            .is_some()
    );
}

/// A signed delta `sequence` that lists the demo card `card` (or, with `remove`, takes it off).
fn signed_delta(sequence: u64, card: &str, remove: bool) -> Vec<u8> {
    let track2 = demo_setup::demo_track2(card).unwrap();
    let pan = Pan::parse(track2.split('=').next().unwrap()).unwrap();
    let hashes = vec![CardHashKey::new(SALT).hash(&pan)];
    let delta = HotListDelta {
        sequence,
        add: if remove { vec![] } else { hashes.clone() },
        remove: if remove { hashes } else { vec![] },
    };
    signer().seal(EnvelopeKind::HotListDelta, &delta.encode())
}

#[test]
fn a_hot_listed_card_is_declined_with_a_neutral_cardholder_text() {
    let h = harness();
    let signed = signed_delta(1, "normal", false);
    assert_eq!(h.terminal.apply_hot_list_delta(&signed).unwrap(), 1);
    let o = h.sale("hot", "normal", Some("123456"), 500);
    let t = terminated(&o);
    assert_eq!(t.code, TerminationCode::RiskHotCard);
    assert_eq!(t.cause, Cause::Risk);
    let cardholder = format!("{} {}", t.cardholder, t.cardholder_en).to_lowercase();
    assert!(!cardholder.contains("list") && !cardholder.contains("黑名单"));
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn a_pin_step_up_refuses_pin_bypass() {
    let h = harness();
    let v2 = signed_bundle(2, |b| b.step_up.require_pin_fen = 2_000);
    h.terminal.load_risk_bundle(&v2).unwrap();
    // The "normal" card's service code 101 lets the cardholder bypass the PIN below the step-up.
    assert!(h.sale("small", "normal", None, 1_999).approval().is_some());
    let o = h.sale("large", "normal", None, 2_000);
    assert_eq!(terminated(&o).code, TerminationCode::OpPinRequired);
    assert!(
        h.sale("large-pin", "normal", Some("123456"), 2_000)
            .approval()
            .is_some()
    );
}

#[test]
fn checks_are_on_from_open_with_the_built_in_bundle_only() {
    // No `enable_risk`: the default configuration turns checks on at open.
    let h = Harness::new();
    assert_eq!(h.terminal.risk_bundle_version(), Some(1));
    let o = h.sale("big", "normal", Some("123456"), 5_000_001);
    assert_eq!(terminated(&o).code, TerminationCode::RiskLimit);
    // Without a fleet key a correctly signed bundle is still refused, and says why.
    let err = h
        .terminal
        .load_risk_bundle(&signed_bundle(2, |b| b.limits.card.max_fen = 1))
        .unwrap_err();
    assert!(err.to_string().contains("no fleet signing key"), "{err}");
    assert_eq!(h.terminal.risk_bundle_version(), Some(1));
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn a_normal_run_of_trade_passes_and_a_sixth_sale_in_ten_minutes_does_not() {
    let h = Harness::new();
    // The same card for different amounts is ordinary custom, not a duplicate.
    for (i, fen) in [1_250, 3_800, 990, 12_000, 450].into_iter().enumerate() {
        let o = h.sale(&format!("n{i}"), "normal", Some("123456"), fen);
        assert!(o.is_approved(), "sale {i}: {:?}", o.termination());
    }
    // Built-in bundle: at most 5 per card within 600 s, this one included.
    let o = h.sale("n5", "normal", Some("123456"), 2_000);
    let t = terminated(&o);
    assert_eq!(t.code, TerminationCode::RiskVelocity);
    assert!(t.merchant_en.contains("card_velocity"), "{}", t.merchant_en);
    assert_eq!(h.net_fen(), 1_250 + 3_800 + 990 + 12_000 + 450);
}

#[test]
fn open_refuses_a_risk_configuration_it_could_not_use() {
    let h = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [(
        smartpos_core::txn::RiskConfig {
            mcc: Some("58A2".into()),
            ..Default::default()
        },
        "risk.mcc",
    )];
    // A bad key cannot even be put in the configuration.
    assert!(matches!(
        smartpos_core::txn::RiskConfig::with_trusted_key(&[7; 31]),
        Err(EnvelopeError::BadTrustedKey(31))
    ));
    for (risk, field) in cases {
        let vault = Arc::new(demo_setup::demo_vault());
        let ports = Ports {
            card_reader: Arc::new(ScriptedCardReader::default()),
            pin_pad: Arc::new(SoftwarePinPad::new(vault.clone())),
            printer: Arc::new(RecordingPrinter::default()),
            vault,
            clock: Arc::new(SystemClock),
            scanner: None,
            network: None,
            location: None,
            prompt: None,
        };
        let key = SecretKey::new(KeyAlgorithm::Aes, h.storage_key_bytes()).unwrap();
        let config = TerminalConfig {
            journal_path: dir.path().join("journal.db"),
            endpoints: vec![h.sim.addr()],
            risk,
            ..demo_setup::demo_terminal_config(key)
        };
        let err = Terminal::open(config, ports).unwrap_err();
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn a_loaded_bundle_and_the_hot_list_survive_a_restart() {
    let mut h = harness();
    let v3 = signed_bundle(3, |b| b.limits.card.max_fen = 2_000);
    assert_eq!(h.terminal.load_risk_bundle(&v3).unwrap(), 3);
    assert_eq!(
        h.terminal
            .apply_hot_list_delta(&signed_delta(1, "normal", false))
            .unwrap(),
        1
    );
    h.reopen();
    enable(&h.terminal);

    let status = h.terminal.risk_status().unwrap();
    assert_eq!(status.restore_problems, vec![]);
    assert_eq!((status.bundle_version, status.built_in), (3, false));
    assert_eq!((status.hot_list_sequence, status.hot_list_entries), (1, 1));
    // Version 3's limit still applies (over it, before the card is read), and the hot card is
    // still refused.
    let o = h.sale("over", "normal", Some("123456"), 2_001);
    assert_eq!(terminated(&o).code, TerminationCode::RiskLimit);
    let o = h.sale("hot", "normal", Some("123456"), 500);
    assert_eq!(terminated(&o).code, TerminationCode::RiskHotCard);
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn an_older_or_equal_bundle_is_refused_after_a_restart() {
    let mut h = harness();
    let v2 = signed_bundle(2, |b| b.limits.card.max_fen = 1_000);
    let v3 = signed_bundle(3, |b| b.limits.card.max_fen = 2_000);
    h.terminal.load_risk_bundle(&v3).unwrap();
    h.reopen();
    enable(&h.terminal);
    for (old, version) in [(&v2, 2), (&v3, 3)] {
        let err = h.terminal.load_risk_bundle(old).unwrap_err();
        assert!(
            matches!(
                err,
                RiskUpdateError::Bundle(BundleError::NotNewer { offered, active: 3 })
                    if offered == version
            ),
            "{err}"
        );
    }
    assert_eq!(h.terminal.risk_bundle_version(), Some(3));
    // Without the fleet's keys (the configuration a reopen uses) nothing stored is trusted, the
    // built-in rules run, and the refusal says why instead of staying silent.
    h.reopen();
    let status = h.terminal.risk_status().unwrap();
    assert_eq!((status.bundle_version, status.built_in), (1, true));
    assert!(
        matches!(
            &status.restore_problems[..],
            [RestoreProblem::Bundle {
                version: 3,
                reason: BundleError::Envelope(EnvelopeError::NoTrustedKey),
                ..
            }]
        ),
        "{:?}",
        status.restore_problems
    );
    // With the keys back, version 3 is back.
    enable(&h.terminal);
    assert_eq!(h.terminal.risk_bundle_version(), Some(3));
}

#[test]
fn a_tampered_stored_bundle_is_refused_at_open_and_still_blocks_a_rollback() {
    let mut h = harness();
    let v3 = signed_bundle(3, |b| b.limits.card.max_fen = 2_000);
    h.terminal.load_risk_bundle(&v3).unwrap();
    h.close();
    {
        // Someone with the file raises the stored card maximum from 2,000 to 9,000 fen.
        let conn = rusqlite::Connection::open(h.journal_path()).unwrap();
        let mut signed: Vec<u8> = conn
            .query_row("SELECT signed FROM risk_bundle", [], |r| r.get(0))
            .unwrap();
        let field = b"\"max_fen\": 2000\n";
        let at = signed
            .windows(field.len())
            .position(|w| w == field)
            .unwrap();
        signed[at + field.len() - 5] = b'9';
        conn.execute("UPDATE risk_bundle SET signed = ?1", [&signed])
            .unwrap();
    }
    h.reopen();
    enable(&h.terminal);
    let status = h.terminal.risk_status().unwrap();
    assert_eq!((status.bundle_version, status.built_in), (1, true));
    assert!(
        matches!(
            &status.restore_problems[..],
            [RestoreProblem::Bundle {
                version: 3,
                running: 1,
                reason: BundleError::Envelope(EnvelopeError::BadSignature { .. }),
            }]
        ),
        "{:?}",
        status.restore_problems
    );
    // The built-in rules run: 2,001 fen passes; the forged 9,000 limit is nowhere.
    assert!(
        h.sale("built-in", "normal", Some("123456"), 2_001)
            .approval()
            .is_some()
    );
    // An older signed bundle is still a rollback; the fleet's version 3 restores the rules.
    let v2 = signed_bundle(2, |b| b.limits.card.max_fen = 50_000);
    assert!(matches!(
        h.terminal.load_risk_bundle(&v2),
        Err(RiskUpdateError::Bundle(BundleError::BelowRecorded {
            offered: 2,
            recorded: 3
        }))
    ));
    assert_eq!(h.terminal.load_risk_bundle(&v3).unwrap(), 3);
    h.reopen();
    enable(&h.terminal);
    let status = h.terminal.risk_status().unwrap();
    assert_eq!(
        (status.bundle_version, status.restore_problems),
        (3, vec![])
    );
}

#[test]
fn an_update_signed_under_an_unknown_key_id_is_refused_by_name() {
    let h = harness();
    // The right key under a name the terminal does not know, and an unknown key.
    let mut b = Bundle::built_in();
    b.version = 2;
    let renamed = signer().with_key_id(KeyId::new("fleet-9").unwrap());
    let stranger = Signer::from_seed(&[9; 32])
        .unwrap()
        .with_key_id(KeyId::new("back-office-x").unwrap());
    for s in [renamed, stranger] {
        let err = h
            .terminal
            .load_risk_bundle(&s.seal(EnvelopeKind::Bundle, b.to_json().as_bytes()))
            .unwrap_err();
        assert!(
            matches!(
                &err,
                RiskUpdateError::Bundle(BundleError::Envelope(EnvelopeError::UnknownKeyId { key_id, trusted }))
                    if key_id == s.key_id().as_str() && trusted == &["fleet-1", "fleet-2"]
            ),
            "{err}"
        );
        assert!(err.to_string().contains("not a trusted key"), "{err}");
        let delta = HotListDelta {
            sequence: 1,
            add: vec![],
            remove: vec![],
        };
        assert!(matches!(
            h.terminal
                .apply_hot_list_delta(&s.seal(EnvelopeKind::HotListDelta, &delta.encode())),
            Err(RiskUpdateError::HotList(HotListError::Envelope(
                EnvelopeError::UnknownKeyId { .. }
            )))
        ));
    }
    // The second trusted key signs as well as the first.
    assert_eq!(
        h.terminal
            .load_risk_bundle(&second_signer().seal(EnvelopeKind::Bundle, b.to_json().as_bytes()))
            .unwrap(),
        2
    );
    assert_eq!(h.terminal.risk_status().unwrap().hot_list_sequence, 0);
}

#[test]
fn hot_list_delta_sequences_carry_across_a_restart() {
    let mut h = harness();
    h.terminal
        .apply_hot_list_delta(&signed_delta(1, "normal", false))
        .unwrap();
    h.reopen();
    enable(&h.terminal);
    assert!(matches!(
        h.terminal
            .apply_hot_list_delta(&signed_delta(1, "normal", true)),
        Err(RiskUpdateError::HotList(HotListError::NotNewer {
            offered: 1,
            active: 1
        }))
    ));
    assert!(matches!(
        h.terminal
            .apply_hot_list_delta(&signed_delta(3, "normal", true)),
        Err(RiskUpdateError::HotList(HotListError::Gap {
            offered: 3,
            expected: 2
        }))
    ));
    assert_eq!(
        h.terminal
            .apply_hot_list_delta(&signed_delta(2, "normal", true))
            .unwrap(),
        2
    );
    // Delta 2 took the card off the list, and that too survives the next restart.
    h.reopen();
    enable(&h.terminal);
    let status = h.terminal.risk_status().unwrap();
    assert_eq!((status.hot_list_sequence, status.hot_list_entries), (2, 0));
    assert!(
        h.sale("off-list", "normal", Some("123456"), 500)
            .approval()
            .is_some()
    );
}

#[test]
fn a_terminal_with_risk_checks_off_refuses_updates_by_saying_so() {
    let h = Harness::without_risk_checks();
    assert!(h.terminal.risk_status().is_none());
    let err = h
        .terminal
        .load_risk_bundle(&signed_bundle(2, |_| {}))
        .unwrap_err();
    assert!(matches!(err, RiskUpdateError::NotEnabled), "{err}");
}
