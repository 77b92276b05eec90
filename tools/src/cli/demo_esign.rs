//! The demo's 电签 part: a sale signed on the screen, its JBIG size and its upload to the
//! acquirer (which checks the binding and keeps the image), the e-slip drawn (a PNG in the
//! temporary folder and the slip as text); a signed sale whose upload the acquirer fails once
//! and that goes through before settlement; a cardholder who does not sign (the payment stands,
//! the merchant keeps paper); and the settlement that waits for the uploads.

use std::sync::Arc;

use smartpos_core::esign::{self, Strokes};
use smartpos_core::ports::{ScriptedSignaturePad, SignatureCapture};
use smartpos_core::txn::{DEFAULT_SIGNING_TIMEOUT, Outcome, SignatureNote, SignatureSetup};

use super::{Day, explain, indent, sale, yuan};
use crate::cli::{CliError, CliResult};
use crate::sim::{Fault, Matcher};

/// The cardholder's strokes (a synthetic three-stroke signature, 60 Hz samples).
const SIGNATURE: &str = include_str!("../../../core/src/esign/fixtures/signature.json");

pub(super) fn section(day: &mut Day) -> CliResult {
    println!("\n14. 电签: the cardholder signs on the screen, the slip goes electronic");
    let strokes =
        Strokes::from_json(SIGNATURE).map_err(|e| CliError::new(format!("strokes: {e}")))?;
    let signed = || Ok(SignatureCapture::Signed(strokes.clone()));
    let pad = Arc::new(ScriptedSignaturePad::new(vec![
        signed(),
        signed(),
        Ok(SignatureCapture::Cancelled),
    ]));
    day.terminal.fit_signature_pad(SignatureSetup {
        paperless: false,
        pad,
        policy: super::super::esign::cli_signature_policy(),
        timeout: DEFAULT_SIGNING_TIMEOUT,
    });
    println!(
        "      acquirer rule: a swiped card signs; a QuickPass tap up to RMB 1000.00 never does"
    );

    let outcome = sale(
        day,
        "sale signed on screen",
        "esign-1",
        "credit",
        None,
        12_800,
    )?;
    signature(day, &outcome);
    if let Outcome::Approved(a) = &outcome {
        e_slip(day, a.stan)?;
    }

    day.server.acquirer().inject(
        Matcher::Mti("0820".into()),
        Fault::Decline { code: "96".into() },
    );
    let outcome = sale(
        day,
        "signed sale whose upload the acquirer fails once",
        "esign-2",
        "credit",
        None,
        6_600,
    )?;
    signature(day, &outcome);
    let retried = outcome.approval().map(|a| (a.batch_no, a.stan));

    let outcome = sale(
        day,
        "sale the cardholder does not sign",
        "esign-3",
        "credit",
        None,
        2_300,
    )?;
    signature(day, &outcome);
    if let Some((batch, stan)) = retried {
        // The queue went again before the next sale went online, and goes before settlement.
        let kept = day.server.acquirer().esign_dir().join(format!(
            "{}-{batch:06}-{stan:06}.jbg",
            day.terminal.terminal_id()
        ));
        println!(
            "      voucher {stan:06}'s signature upload, failed once, went again before this sale: \
             the acquirer {} it",
            if kept.is_file() {
                "now holds"
            } else {
                "does not hold"
            }
        );
    }
    match day.terminal.settle() {
        Ok(r) => {
            println!(
                "  ✔ batch {:06} settled once no e-signature upload was owed: {} debits RMB {}; \
                 paper slips needed: {}",
                r.batch_no,
                r.debit_count,
                yuan(r.debit_fen as i64),
                if r.paper_slips.is_empty() {
                    "none".to_owned()
                } else {
                    format!("{:?}", r.paper_slips)
                }
            );
        }
        Err(t) => {
            println!("  ✘ settlement");
            explain(&t);
        }
    }
    Ok(())
}

/// What became of the signature a sale asked for.
fn signature(day: &Day, outcome: &Outcome) {
    let Outcome::Approved(a) = outcome else {
        return;
    };
    match &a.signature {
        Some(SignatureNote::Signed {
            jbig_bytes,
            segments,
            uploaded,
        }) => {
            println!(
                "      signed: {jbig_bytes} bytes of JBIG (T.82) in {segments} upload message(s), \
                 bound to voucher {:06} by SHA-256",
                a.stan
            );
            if *uploaded {
                let kept = day.server.acquirer().esign_dir().join(format!(
                    "{}-{:06}-{:06}.jbg",
                    day.terminal.terminal_id(),
                    a.batch_no,
                    a.stan
                ));
                println!(
                    "      uploaded (0820, 60.3 = 800): the acquirer checked the binding and \
                     kept {}",
                    kept.display()
                );
            } else {
                println!(
                    "      upload not taken (the acquirer answered 96): queued, sent again \
                     after later sales and before settlement"
                );
            }
        }
        Some(SignatureNote::Missing { note, .. }) => {
            println!("      no signature: the payment stands");
            println!("      商户提示: {}", note.merchant_zh);
            println!("      merchant: {}", note.merchant_en);
        }
        None => println!("      no signature asked for"),
    }
}

/// The e-slip drawn: a PNG of the signature in the temporary folder, and the slip as text.
fn e_slip(day: &Day, stan: u32) -> CliResult {
    let found = day
        .terminal
        .e_slip(stan)
        .map_err(|e| CliError::new(format!("e-slip: {e}")))?
        .ok_or_else(|| CliError::new(format!("e-slip: no voucher {stan:06}")))?;
    let raster = match &found.jbig {
        Some(jbig) => {
            Some(esign::decode_jbig(jbig).map_err(|e| CliError::new(format!("e-slip: {e}")))?)
        }
        None => None,
    };
    if let Some(img) = &raster {
        let png = esign::to_png(img).map_err(|e| CliError::new(format!("e-slip PNG: {e}")))?;
        let path =
            std::env::temp_dir().join(format!("smartpos-demo-eslip-{}.png", std::process::id()));
        std::fs::write(&path, png)
            .map_err(|e| CliError::new(format!("{}: {e}", path.display())))?;
        println!("      e-slip signature drawn: {}", path.display());
    }
    println!(
        "{}",
        indent(&super::super::slip::slip_text(&found.slip, raster.as_ref()))
    );
    Ok(())
}
