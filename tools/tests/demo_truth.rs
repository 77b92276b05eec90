//! The demo is the first thing a user runs, so it must tell the truth: each scripted ending is
//! the one its line announces, and the summary agrees with the statistics the terminal kept.
//! (A risk decline that came before the card reader once left its card in the script, and every
//! later line of section 8 showed the previous sale's ending.)

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;
use common::smartpos;

/// The line after the one naming `step`: where `show` prints the ending's code.
fn ending_of<'a>(out: &'a str, step: &str) -> (&'a str, &'a str) {
    let mut lines = out.lines();
    let line = lines
        .by_ref()
        .find(|l| l.contains(&format!(" {step}: ")))
        .unwrap_or_else(|| panic!("no line for {step:?}"));
    (line, lines.next().unwrap_or(""))
}

#[test]
fn every_scripted_ending_is_the_one_its_line_announces() {
    let out = smartpos(&["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for (step, expected) in [
        ("sale on a low-balance card", "HOST_DECLINED_51"),
        ("sale with a wrong PIN", "HOST_DECLINED_55"),
        ("sale on a card reported lost", "HOST_DECLINED_41"),
        ("sale over the terminal's per-sale maximum", "RISK_LIMIT"),
        ("sale whose response never arrives", "NET_TIMEOUT"),
        ("sale with a failing card reader", "DEV_READER"),
        ("sale during the acquirer's cutover", "HOST_DECLINED_90"),
        ("sale answered with garbled bytes", "NET_BAD_RESPONSE"),
        (
            "chip sale the card refuses after the host approved",
            "ACC_CARD_DECLINED_AFTER_APPROVAL",
        ),
    ] {
        let (line, detail) = ending_of(&text, step);
        assert!(line.contains("terminated"), "{step}: {line}");
        assert!(
            detail.contains(&format!("code: {expected}")),
            "{step}: {detail}"
        );
    }
    let (line, detail) = ending_of(&text, "chip sale (UnionPay debit, DDA)");
    assert!(line.contains("approved"), "{line}");
    assert!(detail.contains("GENERATE AC 1: ARQC"), "{detail}");
    assert!(text.contains("card's EXTERNAL AUTHENTICATE: verified"));
    assert!(text.contains("GENERATE AC 2: TC"));
    assert!(text.contains("GENERATE AC 2: AAC"));
    // The offline approval: the card's TC at the first GENERATE AC, nothing online, and its
    // upload sent (and taken) before the batch closed.
    let (line, detail) = ending_of(&text, "chip sale approved offline under the floor limit");
    assert!(line.contains("Offline chip sale"), "{line}");
    assert!(detail.contains("GENERATE AC 1: TC"), "{detail}");
    assert!(text.contains("1 upload(s) queued"));
    assert!(text.contains("uploads before the batch closed: 1 "));
    assert!(text.contains("still owed: 0"));
    // The taps: what each line says is what the engine did.
    let tap = |step: &str| {
        let mut lines = text
            .lines()
            .skip_while(|l| !l.contains(&format!(" {step}: ")));
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("no line for {step:?}"));
        // Its own detail lines only: up to the next step or section.
        let own = lines.take_while(|l| l.starts_with("      "));
        (line, own.collect::<Vec<_>>().join("\n"))
    };
    let (line, after) = tap("QuickPass tap under RMB 1,000");
    assert!(
        line.contains("approved") && line.contains("RMB 128.00"),
        "{line}"
    );
    assert!(
        after.contains("screen: present_card → processing → card_read_ok"),
        "{after}"
    );
    assert!(after.contains("→ approved"), "{after}");
    assert!(after.contains("no PIN asked for"), "{after}");
    assert!(!after.contains("enter_pin"), "{after}");
    let (line, after) = tap("QuickPass tap over the RMB 1,000 CVM limit");
    assert!(
        line.contains("approved") && line.contains("RMB 1500.00"),
        "{line}"
    );
    assert!(after.contains("card_read_ok → enter_pin"), "{after}");
    assert!(after.contains("PIN asked for on the PIN pad after the card was removed"));
    let (line, after) = tap("tap over the RMB 5,000 contactless limit");
    assert!(line.contains("terminated"), "{line}");
    assert!(after.contains("code: OP_TAP_INSERT_CARD"), "{after}");
    assert!(after.contains("insert"), "{after}");
    let (line, after) = tap("tap of a card pulled away too early");
    assert!(line.contains("terminated"), "{line}");
    assert!(after.contains("code: OP_TAP_AGAIN"), "{after}");
    assert!(after.contains("try_again"), "{after}");
    let (line, detail) = ending_of(&text, "sale while the printer is out of paper");
    assert!(line.contains("approved"), "{line}");
    assert!(detail.contains("receipt not printed"), "{detail}");

    // The summary's approvals are the statistics' approvals.
    let summary = text
        .lines()
        .find(|l| l.contains("approved:") && l.contains("terminated (explained)"))
        .unwrap();
    let approved: u32 = summary.split_whitespace().nth(1).unwrap().parse().unwrap();
    let stats = text.lines().find(|l| l.contains("成功 approved:")).unwrap();
    let stats_approved: u32 = stats
        .split("成功 approved:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(approved, stats_approved, "{summary} vs {stats}");
    // And its terminations are the statistics' terminations.
    let terminated: u32 = summary
        .split("terminated (explained):")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let stats_terminated: u32 = stats
        .split("终止 terminated:")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(terminated, stats_terminated, "{summary} vs {stats}");
}

/// `smartpos demo | head`: the reader going away ends the demo quietly, never exit 101.
#[test]
fn a_reader_that_goes_away_ends_the_demo_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is closed here: the demo's next lines meet a broken pipe.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every step of the day, in order, with the ending it is scripted to have (✔ done as asked,
/// ✘ an explained ending): a rule that changes any ending must change the demo and this list.
#[test]
fn every_step_of_the_day_ends_as_scripted() {
    let out = smartpos(&["demo"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let steps: Vec<(char, String)> = text
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("  ")?;
            let mark = l.chars().next().filter(|c| *c == '✔' || *c == '✘')?;
            let label = l[mark.len_utf8()..].trim_start();
            let label = label.split(':').next().unwrap_or(label).to_owned();
            Some((mark, label))
        })
        .collect();
    let expected: &[(char, &str)] = &[
        ('✔', "signed on, batch 000001"),
        ('✔', "sale"),
        ('✔', "sale"),
        ('✔', "void"),
        ('✔', "refund"),
        ('✘', "sale on a low-balance card"),
        ('✘', "sale with a wrong PIN"),
        ('✘', "sale on a card reported lost"),
        ('✘', "sale over the terminal's per-sale maximum"),
        ('✘', "sale whose response never arrives"),
        ('✔', "balance"),
        ('✔', "pre-authorisation"),
        ('✔', "completion"),
        ('✔', "chip sale (UnionPay debit, DDA)"),
        ('✘', "chip sale the card refuses after the host approved"),
        ('✘', "sale with a failing card reader"),
        ('✘', "sale during the acquirer's cutover"),
        ('✘', "sale answered with garbled bytes"),
        ('✔', "sale while the printer is out of paper"),
        (
            '✔',
            "WeChat Pay code 1345**********6789, customer confirms for 20 s (queried every 5 s)",
        ),
        ('✘', "Alipay code, never confirmed"),
        (
            '✘',
            "a scan that is no payment code, refused before anything is sent",
        ),
        ('✔', "merchant-presented order, scanned and paid after 10 s"),
        ('✔', "chip sale approved offline under the floor limit"),
        ('✔', "batch 000001 settled balanced"),
        ('✔', "QuickPass tap under RMB 1,000"),
        ('✔', "QuickPass tap over the RMB 1,000 CVM limit"),
        ('✘', "tap over the RMB 5,000 contactless limit"),
        ('✘', "tap of a card pulled away too early"),
        ('✔', "sale signed on screen"),
        ('✔', "signed sale whose upload the acquirer fails once"),
        ('✔', "sale the cardholder does not sign"),
        (
            '✔',
            "batch 000002 settled once no e-signature upload was owed",
        ),
    ];
    let got: Vec<(char, &str)> = steps.iter().map(|(m, l)| (*m, l.as_str())).collect();
    assert_eq!(got, expected);
}

/// Section 14 (电签), line by line: the signature's size and upload, the file the acquirer
/// kept (a JBIG that decodes), the e-slip drawn as PNG and as text, the upload that failed once
/// and went again, the cardholder who did not sign, and the settlement with no paper slip.
#[test]
fn the_esign_section_says_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let out = smartpos(&["demo", "--journal-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let section: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("14. 电签"))
        .take_while(|l| !l.starts_with("15. "))
        .collect();
    let mut lines = section.iter().copied();
    let mut next = || lines.next().unwrap_or_default();
    assert!(next().starts_with("14. 电签"));
    assert!(next().contains("a swiped card signs"));
    let sale = next();
    assert!(sale.contains("✔ sale signed on screen: approved"), "{sale}");
    let stan = sale.split("voucher ").nth(1).unwrap()[..6].to_owned();
    let signed = next();
    let bytes: usize = signed
        .split("signed: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        bytes < 1024,
        "a typical signature is under 1 KB of JBIG: {signed}"
    );
    assert!(
        signed.contains(&format!("bound to voucher {stan}")),
        "{signed}"
    );
    let uploaded = next();
    let kept = uploaded.split("kept ").nth(1).unwrap();
    assert!(kept.ends_with(&format!("-{stan}.jbg")), "{uploaded}");
    let jbig = std::fs::read(kept).unwrap();
    assert_eq!(jbig.len(), bytes);
    assert!(smartpos_core::esign::decode_jbig(&jbig).is_ok());
    let drawn = next();
    let png = drawn.split("drawn: ").nth(1).unwrap();
    assert!(
        std::fs::read(png).unwrap().starts_with(b"\x89PNG"),
        "{drawn}"
    );
    let _ = std::fs::remove_file(png);
    assert!(next().contains("电子签购单 / E-SLIP"));
    for label in ["商户", "终端", "卡号", "金额", "时间", "批次/流水", "验证"] {
        let line = next();
        assert!(line.contains(label), "{label}: {line}");
        assert!(!line.contains("6222020000000023"), "no full PAN: {line}");
    }
    assert!(next().contains(&format!("持卡人签名 SIGNATURE ({bytes} bytes JBIG")));
    // The signature sketched in characters, then the next sale.
    let mut line = next();
    let mut sketched = 0;
    while line.contains("|   |") {
        sketched += usize::from(line.contains('#'));
        line = next();
    }
    assert!(sketched > 3, "the signature is drawn");
    assert!(line.contains("✔ signed sale whose upload the acquirer fails once: approved"));
    let failed_stan = line.split("voucher ").nth(1).unwrap()[..6].to_owned();
    assert!(next().contains("in 1 upload message(s)"));
    assert!(next().contains("upload not taken (the acquirer answered 96)"));
    assert!(next().contains("✔ sale the cardholder does not sign: approved"));
    assert!(next().contains("no signature: the payment stands"));
    assert!(next().contains("纸质签购单"));
    assert!(next().contains("print the paper slip"));
    let retried = next();
    assert!(
        retried.contains(&format!("voucher {failed_stan}'s signature upload"))
            && retried.contains("now holds it"),
        "{retried}"
    );
    let settled = next();
    assert!(settled.contains("paper slips needed: none"), "{settled}");
    // Batch 2 holds section 13's two approved taps and this section's three signed sales.
    assert!(settled.contains("5 debits"), "{settled}");
    assert_eq!(next(), "", "nothing else in the section");
}
