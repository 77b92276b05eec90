//! `smartpos slip --journal DB --stan N [--png OUT] [--json]`: the e-slip (电子签购单) of a
//! journaled transaction: merchant, terminal, masked PAN, entry mode, amount, date, references,
//! how the cardholder was verified and the signature; `--png` writes the signature as a PNG.
//! JSON fields: see README ("The e-slip").

use std::path::PathBuf;

use smartpos_core::esign::{self, ESlip, SlipSignature};
use smartpos_core::store::Journal;
use smartpos_core::txn::{SlipHeader, e_slip};

use super::shape::yuan;
use super::tlv::print_output;
use super::{CliError, CliResult};
use crate::demo_setup;
use crate::terminal_setup::{key_path, load_or_create_storage_key};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The terminal's journal (its storage key, which opens the signature, is DB.key).
    #[arg(long)]
    pub journal: PathBuf,
    /// The transaction's STAN (the newest one journaled with it).
    #[arg(long)]
    pub stan: u32,
    /// Write the signature image as PNG to OUT.
    #[arg(long, value_name = "OUT")]
    pub png: Option<PathBuf>,
    /// Print the slip as JSON.
    #[arg(long)]
    pub json: bool,
    /// The terminal id printed on the slip, as given to `pay`/`sim` (the journal does not keep
    /// it; field 41, 8 characters).
    #[arg(long, default_value = demo_setup::DEMO_TERMINAL_ID, value_parser = super::acquirer::terminal_id)]
    pub terminal_id: String,
    /// The merchant id printed on the slip (field 42, 15 characters).
    #[arg(long, default_value = demo_setup::DEMO_MERCHANT_ID, value_parser = super::acquirer::merchant_id)]
    pub merchant_id: String,
}

pub fn run(args: Args) -> CliResult {
    let db = &args.journal;
    super::existing_journal(db, None)?;
    let journal = Journal::open_read_only(db).map_err(|e| CliError::journal(db, &e))?;
    // Without the key file the slip is still shown; only the image stays sealed.
    let key = key_path(db)
        .is_file()
        .then(|| load_or_create_storage_key(db))
        .transpose()?;
    let header = SlipHeader {
        merchant_name: demo_setup::DEMO_MERCHANT_NAME,
        merchant_id: &args.merchant_id,
        terminal_id: &args.terminal_id,
    };
    let found = e_slip(&journal, header, args.stan, key.as_ref())
        .map_err(|e| CliError::journal(db, &e))?
        .ok_or_else(|| CliError::new(format!("no transaction with STAN {:06}", args.stan)))?;
    let raster = match &found.jbig {
        Some(jbig) => Some(
            esign::decode_jbig(jbig).map_err(|e| CliError::new(format!("signature image: {e}")))?,
        ),
        None => None,
    };
    if let Some(out) = &args.png {
        let Some(raster) = &raster else {
            return Err(CliError::new(format!(
                "STAN {:06} has no signature image to draw",
                args.stan
            )));
        };
        let png = esign::to_png(raster).map_err(|e| CliError::new(format!("PNG: {e}")))?;
        std::fs::write(out, png).map_err(|e| CliError::new(format!("{}: {e}", out.display())))?;
    }
    if args.json {
        let mut json = found.slip.to_json();
        if let Some(out) = &args.png {
            json["png"] = serde_json::json!(out.display().to_string());
        }
        return print_output(&json.to_string());
    }
    print_output(&slip_text(&found.slip, raster.as_ref()))
}

/// The slip as a receipt's text, with the signature drawn in characters when there is one.
pub fn slip_text(slip: &ESlip, signature: Option<&esign::Bitmap>) -> String {
    let mut lines = vec![
        "电子签购单 / E-SLIP".to_owned(),
        format!(
            "商户 MERCHANT   {} ({})",
            slip.merchant_name, slip.merchant_id
        ),
        format!("终端 TERMINAL   {}", slip.terminal_id),
        format!("卡号 CARD       {} ({})", slip.masked_pan, slip.entry_mode),
        format!("金额 AMOUNT     {}", yuan(slip.amount_fen)),
        format!("时间 DATE/TIME  {}", slip.date_time),
        format!(
            "批次/流水 BATCH/STAN {:06}/{:06}  参考号 RRN {}  授权码 AUTH {}",
            slip.batch_no, slip.stan, slip.rrn, slip.auth_code
        ),
        format!("验证 CVM        {}", slip.cvm),
    ];
    match &slip.signature {
        SlipSignature::Signed { jbig_bytes, digest } => {
            lines.push(format!(
                "持卡人签名 SIGNATURE ({jbig_bytes} bytes JBIG, binding {}…)",
                digest.get(..16).unwrap_or(digest)
            ));
            if let Some(img) = signature {
                lines.extend(sketch(img, 64, 12));
            }
        }
        SlipSignature::Missing { why } => {
            lines.push(format!(
                "持卡人签名 SIGNATURE: none ({why:?}): {}",
                why.merchant_en()
            ));
        }
        SlipSignature::NotRequired { reason } => {
            lines.push(format!("持卡人签名 SIGNATURE: not required ({reason})"));
        }
    }
    lines.join("\n")
}

/// The raster in `cols` x `rows` characters: a cell is inked when any pixel in it is.
fn sketch(img: &esign::Bitmap, cols: u32, rows: u32) -> Vec<String> {
    let (w, h) = (img.width().max(1), img.height().max(1));
    (0..rows)
        .map(|r| {
            let (y0, y1) = (r * h / rows, ((r + 1) * h / rows).max(r * h / rows + 1));
            let row: String = (0..cols)
                .map(|c| {
                    let (x0, x1) = (c * w / cols, ((c + 1) * w / cols).max(c * w / cols + 1));
                    let inked =
                        (y0..y1).any(|y| (x0..x1).any(|x| img.get(i64::from(x), i64::from(y))));
                    if inked { '#' } else { ' ' }
                })
                .collect();
            format!("  |{row}|")
        })
        .collect()
}
