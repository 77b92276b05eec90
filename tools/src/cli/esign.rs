//! `smartpos esign`: electronic signatures (电签). `render` turns the contract strokes JSON into
//! the image an acquirer receives (JBIG1) or a receipt shows (PNG); `show` turns a JBIG file
//! back into a picture.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use smartpos_core::esign::{self, JbigOptions, Strokes};

use super::tlv::print_output;
use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Render a strokes JSON file to a JBIG (upload) or PNG (receipt, screen) image.
    Render(RenderArgs),
    /// Decode a JBIG signature (what `sim --esign-dir` keeps) to PNG or PBM to look at it.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The JBIG (T.82 BIE) file.
    jbig: PathBuf,
    /// Where to write the image: PBM when OUT ends in .pbm, PNG otherwise.
    #[arg(long, value_name = "OUT")]
    out: PathBuf,
    /// Print what was read as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// JBIG1 (ITU-T T.82), as UnionPay e-slip uploads carry the signature.
    Jbig,
    /// 1-bit PNG.
    Png,
}

#[derive(Debug, clap::Args)]
struct RenderArgs {
    /// Strokes JSON: {"width": W, "height": H, "strokes": [[[x, y, t_ms], ...], ...]}, pad
    /// pixels from the top left.
    #[arg(long, value_name = "FILE")]
    strokes: PathBuf,
    /// Where to write the image.
    #[arg(long, value_name = "OUT")]
    out: PathBuf,
    /// Image format; by default png when OUT ends in .png, jbig otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Raster width in pixels (the acquirer's size).
    #[arg(long, default_value_t = esign::DEFAULT_WIDTH,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(esign::MAX_SIDE)))]
    width: u32,
    /// Raster height in pixels (the acquirer's size).
    #[arg(long, default_value_t = esign::DEFAULT_HEIGHT,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(esign::MAX_SIDE)))]
    height: u32,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Render(a) => render(a),
        Command::Show(a) => show(a),
    }
}

fn show(a: ShowArgs) -> CliResult {
    let data =
        std::fs::read(&a.jbig).map_err(|e| CliError::new(format!("{}: {e}", a.jbig.display())))?;
    let img = esign::decode_jbig(&data)
        .map_err(|e| CliError::new(format!("{}: {e}", a.jbig.display())))?;
    let pbm = a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pbm"));
    let bytes = if pbm {
        img.to_pbm()
    } else {
        esign::to_png(&img).map_err(|e| CliError::not_done(e.to_string()))?
    };
    std::fs::write(&a.out, &bytes)
        .map_err(|e| CliError::new(format!("writing {}: {e}", a.out.display())))?;
    let report = if a.json {
        json!({
            "jbig_bytes": data.len(),
            "width": img.width(),
            "height": img.height(),
            "ink_pixels": img.ink_count(),
            "out": a.out.display().to_string(),
            "format": if pbm { "pbm" } else { "png" },
        })
        .to_string()
    } else {
        format!(
            "{}: {}x{}, {} ink pixels, {} JBIG bytes -> {}",
            a.jbig.display(),
            img.width(),
            img.height(),
            img.ink_count(),
            data.len(),
            a.out.display()
        )
    };
    print_output(&report)
}

fn render(a: RenderArgs) -> CliResult {
    let text = std::fs::read_to_string(&a.strokes)
        .map_err(|e| CliError::new(format!("strokes {}: {e}", a.strokes.display())))?;
    let strokes = Strokes::from_json(&text)
        .map_err(|e| CliError::new(format!("strokes {}: {e}", a.strokes.display())))?;
    let format = a.format.unwrap_or_else(|| {
        let png = a
            .out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if png { Format::Png } else { Format::Jbig }
    });
    let started = Instant::now();
    let img = esign::render(&strokes, a.width, a.height, esign::DEFAULT_PEN)
        .map_err(|e| CliError::new(e.to_string()))?;
    let (bytes, name) = match format {
        Format::Jbig => (esign::encode_jbig(&img, &JbigOptions::default()), "jbig"),
        Format::Png => (
            esign::to_png(&img).map_err(|e| CliError::not_done(e.to_string()))?,
            "png",
        ),
    };
    let micros = started.elapsed().as_micros();
    std::fs::write(&a.out, &bytes)
        .map_err(|e| CliError::new(format!("writing {}: {e}", a.out.display())))?;
    let report = if a.json {
        json!({
            "out": a.out.display().to_string(),
            "format": name,
            "bytes": bytes.len(),
            "width": img.width(),
            "height": img.height(),
            "ink_pixels": img.ink_count(),
            "strokes": strokes.strokes().len(),
            "points": strokes.point_count(),
            "duration_ms": strokes.duration_ms(),
            "render_and_compress_us": micros,
        })
        .to_string()
    } else {
        format!(
            "{}: {name}, {} bytes, {}x{} ({} strokes, {} points, {} ink pixels)",
            a.out.display(),
            bytes.len(),
            img.width(),
            img.height(),
            strokes.strokes().len(),
            strokes.point_count(),
            img.ink_count()
        )
    };
    print_output(&report)
}

/// The acquirer rules the CLI terminal signs by: a swiped card signs (no chip CVM to say
/// otherwise), a chip card when its CVM result says signature, and a QuickPass tap never up to
/// the 1,000-yuan no-CVM limit.
pub fn cli_signature_policy() -> esign::SignaturePolicy {
    esign::SignaturePolicy {
        rules: vec![esign::SignatureRule {
            entry_mode: Some(smartpos_core::card::EntryMode::Magstripe),
            card_kind: None,
            signature: true,
        }],
        sign_every_slip: false,
        no_cvm_limit_fen: Some(100_000),
        card_kind_bins: Vec::new(),
    }
}

/// Fits a pad whose cardholder signs with the strokes in `path` whenever asked.
pub fn fit_scripted_pad(
    terminal: &smartpos_core::txn::Terminal,
    path: &std::path::Path,
) -> CliResult {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("{}: {e}", path.display())))?;
    let strokes =
        Strokes::from_json(&text).map_err(|e| CliError::new(format!("{}: {e}", path.display())))?;
    terminal.fit_signature_pad(smartpos_core::txn::SignatureSetup {
        paperless: false,
        pad: std::sync::Arc::new(smartpos_core::ports::ScriptedSignaturePad::signing(strokes)),
        policy: cli_signature_policy(),
        timeout: smartpos_core::txn::DEFAULT_SIGNING_TIMEOUT,
    });
    Ok(())
}

/// What a pay line says of the signature (nothing when none was asked for).
pub fn signature_words(note: Option<&smartpos_core::txn::SignatureNote>) -> String {
    use smartpos_core::txn::SignatureNote;
    match note {
        None => String::new(),
        Some(SignatureNote::Signed {
            jbig_bytes,
            uploaded,
            ..
        }) => format!(
            ", signed ({jbig_bytes} bytes JBIG, {})",
            if *uploaded {
                "uploaded"
            } else {
                "upload queued"
            }
        ),
        Some(SignatureNote::Missing { why, .. }) => {
            format!(", not signed ({why:?}): keep a signed paper slip")
        }
    }
}
