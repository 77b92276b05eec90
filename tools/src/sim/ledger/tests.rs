use super::*;

const TID: &str = "TERM0001";

fn card(pan: &str) -> CardInput {
    CardInput {
        pan: pan.to_owned(),
        pin: Some("123456".to_owned()),
    }
}

const NORMAL: &str = "6222020000000015";

fn at(stan: u32) -> MsgRef {
    MsgRef::new(TID, 1, stan)
}

fn approved(reply: &Reply) -> Approval {
    reply.approval().cloned().expect("approved")
}

fn original(stan: u32, reply: &Reply) -> OriginalRef {
    OriginalRef {
        batch_no: 1,
        stan,
        rrn: approved(reply).rrn,
    }
}

fn balance(ledger: &Ledger, id: &str) -> i64 {
    ledger.account(id).expect("account").balance_fen
}

/// Luhn check written independently of how the table was produced (ISO/IEC 7812-1 Annex B).
fn luhn_ok(pan: &str) -> bool {
    let digits: Vec<u32> = pan.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                (d * 2) % 9 + if d == 9 { 9 } else { 0 }
            } else {
                d
            }
        })
        .sum();
    digits.len() == pan.len() && sum.is_multiple_of(10)
}

#[test]
fn demo_pans_pass_luhn_and_cover_every_status() {
    // Known-good Luhn reference: 79927398713 is the worked example in ISO/IEC 7812-1 Annex B
    // literature (and Wikipedia's "Luhn algorithm" article).
    assert!(luhn_ok("79927398713"));
    assert!(!luhn_ok("79927398710"));
    for &(id, pan, ..) in DEMO_CARDS {
        assert!(luhn_ok(pan), "{id}: {pan}");
        assert!(pan.starts_with("62"));
    }
    for status in [
        AccountStatus::Normal,
        AccountStatus::Lost,
        AccountStatus::Stolen,
        AccountStatus::Expired,
        AccountStatus::Frozen,
    ] {
        assert!(DEMO_CARDS.iter().any(|c| c.3 == status), "{status:?}");
    }
}

#[test]
fn sale_approves_and_debits() {
    let mut ledger = Ledger::with_demo_accounts();
    let reply = ledger.sale(&at(1), &card(NORMAL), 12_345);
    let approval = approved(&reply);
    assert_eq!(approval.rrn.len(), 12);
    assert_eq!(approval.auth_code.len(), 6);
    assert_eq!(balance(&ledger, "normal"), 1_000_000 - 12_345);
    assert_eq!(ledger.net_fen(), 12_345);
    assert_eq!(ledger.postings()[0].effect, Effect::Debit);
    assert_eq!(ledger.postings()[0].stan, "000001");
}

#[test]
fn sale_declines_with_issuer_codes() {
    let mut ledger = Ledger::with_demo_accounts();
    let cases = [
        ("6222020000000031", 5_000, "51"),
        ("6222020000000049", 1, "41"),
        ("6222020000000056", 1, "43"),
        ("6222020000000064", 1, "54"),
        ("6222020000000080", 1, "54"),
        ("6222020000000072", 1, "62"),
        ("6222020000000114", 1, "14"),
        (NORMAL, 0, "13"),
    ];
    for (n, (pan, amount, code)) in cases.into_iter().enumerate() {
        let reply = ledger.sale(&at(n as u32 + 1), &card(pan), amount);
        assert_eq!(reply.response_code(), code, "{pan}");
    }
    assert!(ledger.postings().is_empty(), "no decline moves money");
    assert_eq!(balance(&ledger, "low"), 1_000);
}

#[test]
fn wrong_pins_lock_the_card_after_three() {
    let mut ledger = Ledger::with_demo_accounts();
    let bad = CardInput {
        pan: NORMAL.to_owned(),
        pin: Some("000000".to_owned()),
    };
    assert_eq!(ledger.sale(&at(1), &bad, 100).response_code(), "55");
    assert_eq!(ledger.sale(&at(2), &bad, 100).response_code(), "55");
    assert_eq!(ledger.sale(&at(3), &bad, 100).response_code(), "75");
    // Locked: even the right PIN is refused now.
    assert_eq!(
        ledger.sale(&at(4), &card(NORMAL), 100).response_code(),
        "75"
    );
    assert_eq!(balance(&ledger, "normal"), 1_000_000);
}

#[test]
fn right_pin_resets_the_wrong_pin_count() {
    let mut ledger = Ledger::with_demo_accounts();
    let bad = CardInput {
        pan: NORMAL.to_owned(),
        pin: Some("000000".to_owned()),
    };
    ledger.sale(&at(1), &bad, 100);
    ledger.sale(&at(2), &bad, 100);
    assert!(ledger.sale(&at(3), &card(NORMAL), 100).approval().is_some());
    assert_eq!(ledger.sale(&at(4), &bad, 100).response_code(), "55");
}

#[test]
fn duplicate_stan_is_refused() {
    let mut ledger = Ledger::with_demo_accounts();
    ledger.sale(&at(1), &card(NORMAL), 100);
    assert_eq!(
        ledger.sale(&at(1), &card(NORMAL), 100).response_code(),
        "94"
    );
    assert_eq!(balance(&ledger, "normal"), 1_000_000 - 100);
}

#[test]
fn void_matches_original_exactly() {
    let mut ledger = Ledger::with_demo_accounts();
    let sale = ledger.sale(&at(1), &card(NORMAL), 5_000);
    let orig = original(1, &sale);

    let wrong_rrn = OriginalRef {
        rrn: "999999999999".to_owned(),
        ..orig.clone()
    };
    assert_eq!(
        ledger.void_sale(&at(2), &wrong_rrn, 5_000).response_code(),
        "25"
    );
    let wrong_stan = OriginalRef {
        stan: 7,
        ..orig.clone()
    };
    assert_eq!(
        ledger.void_sale(&at(3), &wrong_stan, 5_000).response_code(),
        "25"
    );
    assert_eq!(ledger.void_sale(&at(4), &orig, 4_999).response_code(), "64");
    assert_eq!(ledger.void_sale(&at(5), &orig, 5_000).response_code(), "00");
    assert_eq!(ledger.void_sale(&at(6), &orig, 5_000).response_code(), "12");

    assert_eq!(balance(&ledger, "normal"), 1_000_000);
    assert_eq!(ledger.net_fen(), 0);
}

#[test]
fn reversal_applies_exactly_once() {
    let mut ledger = Ledger::with_demo_accounts();
    let sale = ledger.sale(&at(1), &card(NORMAL), 7_000);
    approved(&sale);
    let first = ledger.reverse(&at(1), 2);
    let second = ledger.reverse(&at(1), 3);
    let third = ledger.reverse(&at(1), 4);
    assert_eq!(first.response_code(), "00");
    assert_eq!(second, first, "repeats get the same answer");
    assert_eq!(third, first);
    assert_eq!(balance(&ledger, "normal"), 1_000_000);
    let reversals = ledger
        .postings()
        .iter()
        .filter(|p| p.effect == Effect::Reversal)
        .count();
    assert_eq!(reversals, 1);
    assert_eq!(ledger.net_fen(), 0);
    // A reversed sale cannot be voided afterwards.
    assert_eq!(
        ledger
            .void_sale(&at(5), &original(1, &sale), 7_000)
            .response_code(),
        "12"
    );
}

#[test]
fn reversal_of_unknown_or_declined_message() {
    let mut ledger = Ledger::with_demo_accounts();
    assert_eq!(ledger.reverse(&at(9), 10).response_code(), "25");
    ledger.sale(&at(1), &card("6222020000000031"), 5_000); // 51
    assert_eq!(ledger.reverse(&at(1), 2).response_code(), "00");
    assert!(ledger.postings().is_empty());
    // Another terminal's STAN 1 is a different message.
    assert_eq!(
        ledger
            .reverse(&MsgRef::new("OTHER", 1, 1), 2)
            .response_code(),
        "25"
    );
}

#[test]
fn reversing_a_void_restores_the_sale() {
    let mut ledger = Ledger::with_demo_accounts();
    let sale = ledger.sale(&at(1), &card(NORMAL), 3_000);
    let orig = original(1, &sale);
    assert_eq!(ledger.void_sale(&at(2), &orig, 3_000).response_code(), "00");
    assert_eq!(ledger.net_fen(), 0);
    assert_eq!(ledger.reverse(&at(2), 3).response_code(), "00");
    assert_eq!(ledger.reverse(&at(2), 4).response_code(), "00");
    assert_eq!(balance(&ledger, "normal"), 1_000_000 - 3_000);
    assert_eq!(ledger.net_fen(), 3_000);
    // The sale stands again and can be voided once more.
    assert_eq!(ledger.void_sale(&at(5), &orig, 3_000).response_code(), "00");
    assert_eq!(ledger.net_fen(), 0);
}

#[test]
fn refund_credits_and_its_reversal_takes_it_back() {
    let mut ledger = Ledger::with_demo_accounts();
    assert_eq!(
        ledger.refund(&at(1), &card(NORMAL), 800).response_code(),
        "00"
    );
    assert_eq!(balance(&ledger, "normal"), 1_000_800);
    assert_eq!(ledger.net_fen(), -800);
    assert_eq!(
        ledger
            .refund(&at(2), &card("6222020000000049"), 800)
            .response_code(),
        "41"
    );
    ledger.reverse(&at(1), 3);
    assert_eq!(balance(&ledger, "normal"), 1_000_000);
    assert_eq!(ledger.net_fen(), 0);
}

#[test]
fn balance_inquiry_reports_without_moving_money() {
    let mut ledger = Ledger::with_demo_accounts();
    let reply = ledger.balance_inquiry(&at(1), &card("6222020000000031"));
    assert_eq!(approved(&reply).balance_fen, Some(1_000));
    assert_eq!(
        ledger
            .balance_inquiry(&at(2), &card("6222020000000072"))
            .response_code(),
        "62"
    );
    assert!(ledger.postings().is_empty());
}

#[test]
fn preauth_hold_completion_and_release() {
    let mut ledger = Ledger::with_demo_accounts();
    let pre = ledger.preauth(&at(1), &card(NORMAL), 10_000);
    assert_eq!(balance(&ledger, "normal"), 990_000, "held");
    assert!(ledger.postings().is_empty(), "a hold is not a posting");
    let pre_ref = original(1, &pre);
    assert_eq!(
        ledger.completion(&at(2), &pre_ref, 10_001).response_code(),
        "61"
    );
    let done = ledger.completion(&at(3), &pre_ref, 6_000);
    assert_eq!(done.response_code(), "00");
    assert_eq!(balance(&ledger, "normal"), 994_000, "rest released");
    assert_eq!(ledger.net_fen(), 6_000);
    assert_eq!(ledger.completion(&at(4), &pre_ref, 1).response_code(), "12");

    // Completion void gives the capture back.
    let done_ref = original(3, &done);
    assert_eq!(
        ledger
            .void_completion(&at(5), &done_ref, 6_000)
            .response_code(),
        "00"
    );
    assert_eq!(balance(&ledger, "normal"), 1_000_000);
    assert_eq!(ledger.net_fen(), 0);

    // Pre-auth void releases a hold in full; reversing that void takes the hold again.
    let pre2 = ledger.preauth(&at(6), &card(NORMAL), 2_000);
    let pre2_ref = original(6, &pre2);
    assert_eq!(
        ledger
            .void_preauth(&at(7), &pre2_ref, 1_999)
            .response_code(),
        "64"
    );
    assert_eq!(
        ledger
            .void_preauth(&at(8), &pre2_ref, 2_000)
            .response_code(),
        "00"
    );
    assert_eq!(balance(&ledger, "normal"), 1_000_000);
    ledger.reverse(&at(8), 9);
    assert_eq!(balance(&ledger, "normal"), 998_000);
    // Reversing the pre-auth itself then releases it.
    ledger.reverse(&at(6), 10);
    assert_eq!(balance(&ledger, "normal"), 1_000_000);
    assert_eq!(ledger.net_fen(), 0);
}

#[test]
fn settlement_balances_only_on_matching_totals() {
    let mut ledger = Ledger::with_demo_accounts();
    let s1 = ledger.sale(&at(1), &card(NORMAL), 1_000);
    ledger.sale(&at(2), &card(NORMAL), 2_000);
    ledger.void_sale(&at(3), &original(1, &s1), 1_000);
    ledger.sale(&at(4), &card(NORMAL), 4_000);
    ledger.reverse(&at(4), 5);
    ledger.refund(&at(6), &card(NORMAL), 300);
    ledger.sale(&MsgRef::new("OTHER", 1, 1), &card(NORMAL), 9_999);

    let expected = Totals {
        debit_count: 1,
        debit_fen: 2_000,
        credit_count: 1,
        credit_fen: 300,
    };
    assert_eq!(ledger.batch_totals(TID, 1), expected);
    assert!(ledger.settle(TID, 1, &expected).balanced);
    let off = Totals {
        debit_fen: 2_001,
        ..expected
    };
    let result = ledger.settle(TID, 1, &off);
    assert!(!result.balanced);
    assert_eq!(result.host, expected);

    let report = ledger.batch_upload(
        TID,
        1,
        &[
            UploadLine {
                stan: 2,
                amount_fen: 2_000,
            },
            UploadLine {
                stan: 4,
                amount_fen: 4_000,
            },
        ],
    );
    assert_eq!(report.accepted, 2);
    assert_eq!(report.mismatched, vec![4], "stan 4 was reversed");

    assert!(ledger.close_batch(TID, 1));
    assert!(!ledger.close_batch(TID, 1));
    assert!(ledger.is_batch_closed(TID, 1));
    assert!(!ledger.is_batch_closed(TID, 2));
}

#[test]
fn export_has_the_contract_shape_and_net() {
    let mut ledger = Ledger::with_demo_accounts();
    ledger.sale(&at(1), &card(NORMAL), 1_000);
    ledger.sale(&at(2), &card(NORMAL), 500);
    ledger.reverse(&at(2), 3);
    ledger.refund(&at(4), &card(NORMAL), 200);
    let export = ledger.export_json();
    let object = export.as_object().expect("object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["net_fen", "postings"]);
    // 1000 + 500 debited, minus 500 reversal, minus 200 refund.
    assert_eq!(export["net_fen"], 800);
    let first = &export["postings"][0];
    assert_eq!(first["terminal_id"], TID);
    assert_eq!(first["stan"], "000001");
    assert_eq!(first["amount_fen"], 1_000);
    assert_eq!(first["effect"], "debit");
    assert_eq!(export["postings"][2]["effect"], "reversal");
    assert_eq!(export["postings"][3]["effect"], "refund");
}

#[test]
fn save_load_round_trip_without_pans() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.json");
    let mut ledger = Ledger::with_demo_accounts();
    let sale = ledger.sale(&at(1), &card(NORMAL), 1_000);
    let pre = ledger.preauth(&at(2), &card(NORMAL), 500);
    ledger.save(&path).expect("save");

    let text = std::fs::read_to_string(&path).expect("read");
    for &(_, pan, ..) in DEMO_CARDS {
        assert!(!text.contains(pan), "PAN written to disk");
    }
    assert!(!text.contains("123456"), "PIN written to disk");

    let mut loaded = Ledger::load(&path).expect("load");
    assert_eq!(loaded.export_json(), ledger.export_json());
    assert_eq!(balance(&loaded, "normal"), balance(&ledger, "normal"));
    // State survived: the card still works, the sale is voidable, a reversal is still once-only.
    assert_eq!(
        loaded
            .void_sale(&at(3), &original(1, &sale), 1_000)
            .response_code(),
        "00"
    );
    assert_eq!(loaded.sale(&at(1), &card(NORMAL), 1).response_code(), "94");
    // The hold survived too: the pre-auth can be completed after reload.
    assert_eq!(
        loaded
            .completion(&at(4), &original(2, &pre), 500)
            .response_code(),
        "00"
    );
    let rrn_after = approved(&loaded.sale(&at(5), &card(NORMAL), 10)).rrn;
    assert_ne!(rrn_after, approved(&sale).rrn, "RRN counter persisted");

    let garbage = dir.path().join("bad.json");
    std::fs::write(&garbage, b"{not json").expect("write");
    assert!(matches!(
        Ledger::load(&garbage),
        Err(LedgerError::Json { .. })
    ));
}
