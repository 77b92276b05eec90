//! `smartpos crypto arqc`: what an issuer host computes for a chip card's online request, from
//! the issuer master key to the ARQC and, with `--arc`, the ARPC (method 1).

use std::path::PathBuf;

use serde_json::json;
use smartpos_core::crypto::{self, KeyAlgorithm, SecretKey, SessionKeyDerivation};

use super::{Alg, CliError, secret};

/// The arguments of `crypto arqc`.
#[derive(Debug, clap::Args)]
pub struct ArqcArgs {
    /// The issuer master key for application cryptograms (hex; test keys only).
    #[arg(
        long,
        required_unless_present = "imk_file",
        conflicts_with = "imk_file"
    )]
    imk: Option<String>,
    /// Read the issuer master key (hex) from this file; `-` reads standard input.
    #[arg(long)]
    imk_file: Option<PathBuf>,
    /// The PAN (5A), digits only.
    #[arg(long)]
    pan: String,
    /// The PAN sequence number (5F34), two digits.
    #[arg(long, default_value = "00")]
    psn: String,
    /// The application transaction counter (9F36), 4 hex digits.
    #[arg(long)]
    atc: String,
    /// The cryptogram input (the CDOL1 data the card MACs), hex.
    #[arg(long)]
    data: String,
    /// The authorisation response code for the ARPC: two characters as in 8A ("00") or
    /// 4 hex digits.
    #[arg(long)]
    arc: Option<String>,
    /// The card's block cipher: TDES, or SM4 for UnionPay SM cards.
    #[arg(long, value_enum, default_value_t = Alg::Tdes)]
    alg: Alg,
    /// Session key derivation: EMV common (default) or the PBOC rule.
    #[arg(long, value_enum, default_value_t = SessionMethod::Emv)]
    session: SessionMethod,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SessionMethod {
    Emv,
    Pboc,
}

fn flag_err(flag: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("crypto arqc: --{flag}: {e}"))
}

fn fixed_hex<const N: usize>(flag: &str, text: &str) -> Result<[u8; N], CliError> {
    let bytes = hex::decode(text.trim()).map_err(|e| flag_err(flag, e))?;
    bytes
        .try_into()
        .map_err(|_| flag_err(flag, format!("must be {} hex digits", N * 2)))
}

fn parse_psn(text: &str) -> Result<u8, CliError> {
    let text = text.trim();
    if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(flag_err("psn", "must be two decimal digits"));
    }
    // 5F34 is n2: the two digits are the two nibbles of one byte.
    fixed_hex::<1>("psn", text).map(|b| b[0])
}

fn parse_arc(text: &str) -> Result<[u8; 2], CliError> {
    let text = text.trim();
    match text.len() {
        2 if text.is_ascii() => {
            let b = text.as_bytes();
            Ok([b[0], b[1]])
        }
        4 => fixed_hex::<2>("arc", text),
        _ => Err(flag_err(
            "arc",
            "must be two characters (\"00\") or 4 hex digits (3030)",
        )),
    }
}

/// The report as text or JSON.
pub fn arqc_report(args: &ArqcArgs, imk: &str) -> Result<String, CliError> {
    let algorithm = match args.alg {
        Alg::Tdes => KeyAlgorithm::Tdes,
        Alg::Sm4 => KeyAlgorithm::Sm4,
        Alg::Aes => return Err(flag_err("alg", "EMV cryptograms are TDES or SM4")),
    };
    let imk = SecretKey::from_hex(algorithm, imk).map_err(|e| flag_err("imk", e))?;
    let psn = parse_psn(&args.psn)?;
    let atc = fixed_hex::<2>("atc", &args.atc)?;
    let data = hex::decode(args.data.trim()).map_err(|e| flag_err("data", e))?;
    let arc = args.arc.as_deref().map(parse_arc).transpose()?;
    let (method, method_name) = match args.session {
        SessionMethod::Emv => (SessionKeyDerivation::EmvCommon, "EMV common"),
        SessionMethod::Pboc => (SessionKeyDerivation::Pboc, "PBOC"),
    };
    let mk = crypto::derive_icc_master_key(&imk, &args.pan, Some(psn)).map_err(|e| {
        let flag = match e {
            crypto::EmvAcError::PanLength { .. } | crypto::EmvAcError::PanDigit { .. } => "pan",
            crypto::EmvAcError::PanSequenceNumber { .. } => "psn",
            _ => "imk",
        };
        flag_err(flag, e)
    })?;
    let sk = crypto::derive_session_key(&mk, atc, method).map_err(|e| flag_err("imk", e))?;
    let arqc = crypto::application_cryptogram(&sk, &data).map_err(|e| flag_err("data", e))?;
    let arpc = arc
        .map(|arc| crypto::arpc_method1(&sk, &arqc, &arc).map(|a| (arc, a)))
        .transpose()
        .map_err(|e| flag_err("arc", e))?;
    let kcv = |k: &SecretKey| {
        crypto::kcv(k)
            .map(hex::encode_upper)
            .map_err(|e| flag_err("imk", e))
    };
    if args.json {
        let mut doc = json!({
            "algorithm": if algorithm == KeyAlgorithm::Sm4 { "sm4" } else { "tdes" },
            "icc_master_key": mk.expose_hex().as_str(),
            "icc_master_key_kcv": kcv(&mk)?,
            "session_key_derivation": if matches!(args.session, SessionMethod::Emv) { "emv_common" } else { "pboc" },
            "session_key": sk.expose_hex().as_str(),
            "session_key_kcv": kcv(&sk)?,
            "atc": hex::encode_upper(atc),
            "arqc": hex::encode_upper(arqc),
        });
        if let Some((arc, arpc)) = arpc {
            doc["arc"] = json!(hex::encode_upper(arc));
            doc["arpc"] = json!(hex::encode_upper(arpc));
            doc["arpc_method"] = json!(1);
        }
        return serde_json::to_string_pretty(&doc).map_err(|e| flag_err("json", e));
    }
    let mut out = format!(
        "ICC master key (option A): {} (KCV {})\nSession key ({method_name}, ATC {}): {} (KCV {})\nARQC: {}",
        mk.expose_hex().as_str(),
        kcv(&mk)?,
        hex::encode_upper(atc),
        sk.expose_hex().as_str(),
        kcv(&sk)?,
        hex::encode_upper(arqc),
    );
    if let Some((arc, arpc)) = arpc {
        out.push_str(&format!(
            "\nARPC (method 1, ARC {}): {}",
            hex::encode_upper(arc),
            hex::encode_upper(arpc)
        ));
    }
    Ok(out)
}

/// Runs `crypto arqc`, reading the IMK from its file when asked.
pub fn run(args: &ArqcArgs) -> Result<String, CliError> {
    let imk = secret("IMK", args.imk.clone(), args.imk_file.as_deref())?
        .ok_or_else(|| flag_err("imk", "is required"))?;
    arqc_report(args, &imk)
}
