//! `smartpos crypto`: an engineer's calculator for test keys. Printing keys is its purpose;
//! never feed it production keys.
//!
//! Every key, PIN and BDK can come from a file instead of the command line (`--key-file F`,
//! `--pin-file F`, `--bdk-file F`, `--imk-file F`; `-` reads standard input), so it never shows in a process
//! list or a shell history. The plain flags stay for published test vectors.

use clap::{Subcommand, ValueEnum};
use smartpos_core::crypto::{
    self, ClearPinBlock, EncryptedPinBlock, KeyAlgorithm, PinBlockFormat, SecretKey,
    SystemRandomSource,
    dukpt::{aes as dukpt_aes, tdes as dukpt_tdes},
    mac::{self, MacPadding},
};

use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{CliError, CliResult};

mod arqc;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Key check value.
    Kcv {
        #[command(flatten)]
        key: KeyArg,
        #[arg(long, value_enum, default_value_t = Alg::Tdes)]
        alg: Alg,
    },
    /// MAC over hex data.
    Mac {
        #[arg(long, value_enum)]
        alg: MacAlg,
        #[command(flatten)]
        key: KeyArg,
        #[arg(long)]
        data: String,
    },
    /// ISO 9564 PIN blocks.
    Pinblock {
        #[command(subcommand)]
        op: PinOp,
    },
    /// DUKPT key derivation (TDES by default, AES with --aes).
    Dukpt {
        /// The base derivation key (hex).
        #[arg(
            long,
            required_unless_present = "bdk_file",
            conflicts_with = "bdk_file"
        )]
        bdk: Option<String>,
        /// Read the BDK from this file (`-`: standard input) instead of the command line.
        #[arg(long)]
        bdk_file: Option<PathBuf>,
        #[arg(long)]
        ksn: String,
        #[arg(long)]
        aes: bool,
    },
    /// EMV issuer side: ICC master key (option A), session key, ARQC, ARPC (method 1).
    Arqc(arqc::ArqcArgs),
}

#[derive(Debug, Subcommand)]
enum PinOp {
    Encode {
        #[arg(long, value_parser = ["0", "4"])]
        format: String,
        /// The PIN (4–12 digits).
        #[arg(
            long,
            required_unless_present = "pin_file",
            conflicts_with = "pin_file"
        )]
        pin: Option<String>,
        /// Read the PIN from this file (`-`: standard input) instead of the command line.
        #[arg(long)]
        pin_file: Option<PathBuf>,
        #[arg(long)]
        pan: String,
        #[command(flatten)]
        key: OptionalKeyArg,
    },
    Decode {
        #[arg(long, value_parser = ["0", "4"])]
        format: String,
        #[arg(long)]
        block: String,
        #[arg(long)]
        pan: String,
        #[command(flatten)]
        key: OptionalKeyArg,
    },
}

/// A key on the command line (`--key`, for test vectors) or in a file (`--key-file`).
#[derive(Debug, clap::Args)]
struct KeyArg {
    /// The key in hex (visible in process lists: test keys only).
    #[arg(
        long,
        required_unless_present = "key_file",
        conflicts_with = "key_file"
    )]
    key: Option<String>,
    /// Read the key (hex) from this file; `-` reads standard input.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

/// As [`KeyArg`], where the key is optional.
#[derive(Debug, clap::Args)]
struct OptionalKeyArg {
    /// The key in hex (visible in process lists: test keys only).
    #[arg(long, conflicts_with = "key_file")]
    key: Option<String>,
    /// Read the key (hex) from this file; `-` reads standard input.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

/// A secret given as a flag, or read from a file or standard input (`-`), trimmed; wiped when
/// dropped. `None` when neither was given.
fn secret(
    what: &str,
    flag: Option<String>,
    file: Option<&Path>,
) -> Result<Option<Zeroizing<String>>, CliError> {
    if let Some(value) = flag {
        return Ok(Some(Zeroizing::new(value)));
    }
    let Some(file) = file else {
        return Ok(None);
    };
    let mut text = Zeroizing::new(String::new());
    let read = if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| err(format!("{what} file {}: {e}", file.display())))?;
    let trimmed = Zeroizing::new(text.trim().to_string());
    if trimmed.is_empty() {
        return Err(err(format!("{what} file {} is empty", file.display())));
    }
    Ok(Some(trimmed))
}

fn required(what: &str, value: Option<Zeroizing<String>>) -> Result<Zeroizing<String>, CliError> {
    value.ok_or_else(|| err(format!("{what} is required")))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Alg {
    Tdes,
    Sm4,
    Aes,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MacAlg {
    CupEcb,
    X919,
    Sm4,
}

fn err(e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("crypto: {e}"))
}

fn parse_key(alg: KeyAlgorithm, text: &str) -> Result<SecretKey, CliError> {
    SecretKey::from_hex(alg, text).map_err(err)
}

fn parse_hex(what: &str, text: &str) -> Result<Vec<u8>, CliError> {
    hex::decode(text.trim()).map_err(|e| err(format!("{what}: {e}")))
}

pub fn kcv_report(key: &str, alg: Alg) -> Result<String, CliError> {
    let key_alg = match alg {
        Alg::Tdes if key.trim().len() == 16 => KeyAlgorithm::Des,
        Alg::Tdes => KeyAlgorithm::Tdes,
        Alg::Sm4 => KeyAlgorithm::Sm4,
        Alg::Aes => KeyAlgorithm::Aes,
    };
    let k = parse_key(key_alg, key)?;
    let mut out = format!("KCV: {}", hex::encode_upper(crypto::kcv(&k).map_err(err)?));
    if key_alg != KeyAlgorithm::Aes {
        let cv = crypto::unionpay_check_value(&k).map_err(err)?;
        out.push_str(&format!(
            "\nUnionPay check value (field 62): {}",
            hex::encode_upper(cv)
        ));
    }
    Ok(out)
}

pub fn mac_report(alg: MacAlg, key: &str, data: &str) -> Result<String, CliError> {
    let data = parse_hex("data", data)?;
    match alg {
        MacAlg::CupEcb => {
            let alg = if key.trim().len() == 16 {
                KeyAlgorithm::Des
            } else {
                KeyAlgorithm::Tdes
            };
            let k = parse_key(alg, key)?;
            let m = mac::cup_ecb_mac(&k, &data).map_err(err)?;
            Ok(format!(
                "CUP-ECB MAC: {} (ASCII \"{}\")",
                hex::encode_upper(m),
                String::from_utf8_lossy(&m)
            ))
        }
        MacAlg::X919 => {
            let k = parse_key(KeyAlgorithm::Tdes, key)?;
            Ok(format!(
                "X9.19 MAC: {}",
                hex::encode_upper(mac::x919_mac(&k, &data).map_err(err)?)
            ))
        }
        MacAlg::Sm4 => {
            let k = parse_key(KeyAlgorithm::Sm4, key)?;
            let ecb = mac::cup_ecb_mac(&k, &data).map_err(err)?;
            let m1 = mac::sm4_cbc_mac(&k, &data, MacPadding::Method1).map_err(err)?;
            let m2 = mac::sm4_cbc_mac(&k, &data, MacPadding::Method2).map_err(err)?;
            Ok(format!(
                "SM4 ECB MAC (field 64): {} (ASCII \"{}\")\nSM4 CBC-MAC pad 1: {}\nSM4 CBC-MAC pad 2: {}",
                hex::encode_upper(ecb),
                String::from_utf8_lossy(&ecb),
                hex::encode_upper(m1),
                hex::encode_upper(m2)
            ))
        }
    }
}

fn format_of(f: &str) -> PinBlockFormat {
    if f == "4" {
        PinBlockFormat::Iso4
    } else {
        PinBlockFormat::Iso0
    }
}

fn pin_key(format: PinBlockFormat, key: &str) -> Result<SecretKey, CliError> {
    parse_key(
        if format == PinBlockFormat::Iso4 {
            KeyAlgorithm::Aes
        } else {
            KeyAlgorithm::Tdes
        },
        key,
    )
}

pub fn pinblock_encode(
    format: &str,
    pin: &str,
    pan: &str,
    key: Option<&str>,
) -> Result<String, CliError> {
    let format = format_of(format);
    let clear = ClearPinBlock::encode(format, pin, pan, &SystemRandomSource::new()).map_err(err)?;
    let label = if format == PinBlockFormat::Iso4 {
        "Clear PIN field"
    } else {
        "Clear PIN block"
    };
    let mut out = format!("{label}: {}", hex::encode_upper(clear.expose_secret()));
    match key {
        Some(k) => {
            let enc = clear.encrypt(&pin_key(format, k)?, pan).map_err(err)?;
            out.push_str(&format!(
                "\nEnciphered PIN block: {}",
                hex::encode_upper(enc.as_bytes())
            ));
        }
        None if format == PinBlockFormat::Iso4 => {
            return Err(err("format 4 needs --key (an AES key)"));
        }
        None => {}
    }
    Ok(out)
}

pub fn pinblock_decode(
    format: &str,
    block: &str,
    pan: &str,
    key: Option<&str>,
) -> Result<String, CliError> {
    let format = format_of(format);
    let bytes = parse_hex("block", block)?;
    let clear = match key {
        Some(k) => {
            let key = pin_key(format, k)?;
            EncryptedPinBlock::from_bytes(format, &bytes)
                .and_then(|e| e.decrypt(&key, pan))
                .map_err(err)?
        }
        None if format == PinBlockFormat::Iso4 => {
            return Err(err("format 4 needs --key (an AES key)"));
        }
        None => ClearPinBlock::from_bytes(format, &bytes).map_err(err)?,
    };
    let pin = clear.decode_pin(pan).map_err(err)?;
    Ok(format!("PIN: {}", pin.as_str()))
}

pub fn dukpt_report(bdk: &str, ksn: &str, aes: bool) -> Result<String, CliError> {
    let ksn_bytes = parse_hex("ksn", ksn)?;
    if aes {
        let bdk = parse_key(KeyAlgorithm::Aes, bdk)?;
        let id = ksn_bytes
            .get(..8)
            .ok_or_else(|| err("ksn: AES KSN must be 12 bytes"))?;
        let ik = dukpt_aes::initial_key(&bdk, id).map_err(err)?;
        let t = dukpt_aes::transaction_key(&ik, &ksn_bytes).map_err(err)?;
        let w = |u| {
            dukpt_aes::working_key(&t, &ksn_bytes, u, dukpt_aes::DerivedKeyType::Aes128)
                .map_err(err)
        };
        Ok(format!(
            "Initial key: {}\nTransaction key: {}\nPIN key (AES-128): {}\nMAC generation key: {}\nData encryption key: {}",
            ik.expose_hex().as_str(),
            t.expose_hex().as_str(),
            w(dukpt_aes::KeyUsage::PinEncryption)?.expose_hex().as_str(),
            w(dukpt_aes::KeyUsage::MacGeneration)?.expose_hex().as_str(),
            w(dukpt_aes::KeyUsage::DataEncryptionBothWays)?
                .expose_hex()
                .as_str(),
        ))
    } else {
        let bdk = parse_key(KeyAlgorithm::Tdes, bdk)?;
        let ik = dukpt_tdes::ipek(&bdk, &ksn_bytes).map_err(err)?;
        let t = dukpt_tdes::transaction_key(&ik, &ksn_bytes).map_err(err)?;
        let v = |var| dukpt_tdes::apply_variant(&t, var).map_err(err);
        Ok(format!(
            "IPEK: {}\nTransaction key: {}\nPIN key: {}\nMAC request key: {}\nMAC response key: {}\nData request key: {}",
            ik.expose_hex().as_str(),
            t.expose_hex().as_str(),
            v(dukpt_tdes::KeyVariant::Pin)?.expose_hex().as_str(),
            v(dukpt_tdes::KeyVariant::MacRequest)?.expose_hex().as_str(),
            v(dukpt_tdes::KeyVariant::MacResponse)?
                .expose_hex()
                .as_str(),
            v(dukpt_tdes::KeyVariant::DataRequest)?
                .expose_hex()
                .as_str(),
        ))
    }
}

pub fn run(args: Args) -> CliResult {
    let key_of = |k: KeyArg| required("key", secret("key", k.key, k.key_file.as_deref())?);
    let optional_key = |k: OptionalKeyArg| secret("key", k.key, k.key_file.as_deref());
    let text = match args.command {
        Command::Kcv { key, alg } => kcv_report(&key_of(key)?, alg)?,
        Command::Mac { alg, key, data } => mac_report(alg, &key_of(key)?, &data)?,
        Command::Pinblock {
            op:
                PinOp::Encode {
                    format,
                    pin,
                    pin_file,
                    pan,
                    key,
                },
        } => {
            let pin = required("PIN", secret("PIN", pin, pin_file.as_deref())?)?;
            let key = optional_key(key)?;
            pinblock_encode(&format, &pin, &pan, key.as_deref().map(String::as_str))?
        }
        Command::Pinblock {
            op:
                PinOp::Decode {
                    format,
                    block,
                    pan,
                    key,
                },
        } => {
            let key = optional_key(key)?;
            pinblock_decode(&format, &block, &pan, key.as_deref().map(String::as_str))?
        }
        Command::Dukpt {
            bdk,
            bdk_file,
            ksn,
            aes,
        } => {
            let bdk = required("BDK", secret("BDK", bdk, bdk_file.as_deref())?)?;
            dukpt_report(&bdk, &ksn, aes)?
        }
        Command::Arqc(a) => arqc::run(&a)?,
    };
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcv_of_the_ansi_test_key() {
        // psec 1.3.0 generate_kcv cross-check (see core crypto::kcv tests).
        let out = kcv_report("0123456789ABCDEFFEDCBA9876543210", Alg::Tdes).unwrap();
        assert!(out.contains("KCV: 08D7B4"));
        assert!(out.contains("08D7B4FB"));
        assert!(
            kcv_report("0123", Alg::Tdes)
                .unwrap_err()
                .to_string()
                .contains("key")
        );
    }

    #[test]
    fn x919_mac_from_hex() {
        // ISO 9797-1 Annex B: "Now is the time for all " -> A1C72E74EA3FA9B6.
        let out = mac_report(
            MacAlg::X919,
            "0123456789ABCDEFFEDCBA9876543210",
            &hex::encode(b"Now is the time for all "),
        )
        .unwrap();
        assert_eq!(out, "X9.19 MAC: A1C72E74EA3FA9B6");
        assert!(mac_report(MacAlg::X919, "0123456789ABCDEFFEDCBA9876543210", "zz").is_err());
    }

    #[test]
    fn pinblock_round_trip_format0() {
        // X9.24-1:2009 A.4 clear PIN block.
        let out = pinblock_encode("0", "1234", "4012345678909", None).unwrap();
        assert_eq!(out, "Clear PIN block: 041274EDCBA9876F");
        let pin = pinblock_decode("0", "041274EDCBA9876F", "4012345678909", None).unwrap();
        assert_eq!(pin, "PIN: 1234");
        let key = "0123456789ABCDEFFEDCBA9876543210";
        let enc = pinblock_encode("0", "1234", "4012345678909", Some(key)).unwrap();
        let block = enc
            .lines()
            .nth(1)
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            pinblock_decode("0", &block, "4012345678909", Some(key)).unwrap(),
            "PIN: 1234"
        );
    }

    #[test]
    fn pinblock_format4_needs_a_key_and_round_trips() {
        assert!(pinblock_encode("4", "1234", "4012345678909", None).is_err());
        let key = "000102030405060708090A0B0C0D0E0F";
        let enc = pinblock_encode("4", "1234", "4012345678909", Some(key)).unwrap();
        let block = enc
            .lines()
            .nth(1)
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            pinblock_decode("4", &block, "4012345678909", Some(key)).unwrap(),
            "PIN: 1234"
        );
    }

    #[test]
    fn dukpt_tdes_and_aes() {
        // X9.24-1:2009 A.4 and X9.24-3:2017 B.1 vectors.
        let out = dukpt_report(
            "0123456789ABCDEFFEDCBA9876543210",
            "FFFF9876543210E00001",
            false,
        )
        .unwrap();
        assert!(out.contains("IPEK: 6AC292FAA1315B4D858AB3A3D7D5933A"));
        assert!(out.contains("PIN key: 042666B49184CF5C68DE9628D0397B36"));
        let out = dukpt_report(
            "FEDCBA9876543210F1F1F1F1F1F1F1F1",
            "123456789012345600000001",
            true,
        )
        .unwrap();
        assert!(out.contains("Initial key: 1273671EA26AC29AFA4D1084127652A1"));
        assert!(out.contains("Transaction key: 4F21B565BAD9835E112B6465635EAE44"));
        assert!(dukpt_report("0123456789ABCDEFFEDCBA9876543210", "FFFF", false).is_err());
    }
}
