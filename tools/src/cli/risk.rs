//! `smartpos risk`: rule bundles (`bundle export|sign|verify|keygen`) and one pre-check
//! (`check`) on a context given as flags or as JSON.
//!
//! Bundles are signed with an Ed25519 PKCS#8 key file under a key id (`--key-id`; without it, the
//! key's fingerprint id) and verified with the trusted keys the terminals are configured with:
//! `--trusted-key ID=HEX`, or `--public-key HEX` for one key under its fingerprint id. The
//! built-in bundle (`export`) is what a terminal runs when nothing newer has been loaded.

use std::io::Read;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;
use smartpos_core::risk::{
    Bundle, CardEntry, CardFacts, CardHash, Counters, Decision, EnvelopeKind, KeyId, Method,
    Position, QrGrade, RiskContext, RiskEngine, Signer, StepUp, TerminalFacts, TrustedKey,
    TrustedKeys, Verdict, envelope,
};

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Rule bundles: export the built-in one, sign, verify.
    #[command(arg_required_else_help = true)]
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// Evaluate one context and print the decision.
    Check(Box<CheckArgs>),
}

#[derive(Debug, clap::Subcommand)]
pub enum BundleCommand {
    /// Print the built-in bundle as JSON (edit it, raise "version", then sign it).
    Export {
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign a bundle JSON with an Ed25519 PKCS#8 private key file, under a key id.
    Sign {
        /// Bundle JSON file, or - for stdin.
        #[arg(long = "in")]
        input: String,
        /// PKCS#8 (DER) Ed25519 private key.
        #[arg(long)]
        key: PathBuf,
        /// The id the terminals trust this key under (1–32 of A-Z a-z 0-9 . _ -); default: the
        /// key's fingerprint id, which a terminal given the bare public key trusts.
        #[arg(long)]
        key_id: Option<String>,
        /// Where to write the signed bundle.
        #[arg(long)]
        out: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify a signed bundle against the trusted keys (and optionally the active version).
    Verify {
        /// The signed bundle file.
        #[arg(long = "in")]
        input: PathBuf,
        #[command(flatten)]
        trusted: TrustedKeyArgs,
        /// Version active on the terminal: an older-or-equal bundle is a replay.
        #[arg(long)]
        active_version: Option<u64>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Generate an Ed25519 PKCS#8 key file and print its public key.
    Keygen {
        /// Where to write the new PKCS#8 key (never overwritten; mode 0600).
        #[arg(long)]
        out: PathBuf,
    },
}

/// The keys a verification trusts, as a terminal would be configured.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustedKeyArgs {
    /// A trusted key as ID=HEX (64 hex digits); repeat it for several.
    #[arg(long = "trusted-key", value_name = "ID=HEX")]
    pub trusted_keys: Vec<String>,
    /// One trusted Ed25519 public key, 64 hex digits, under its fingerprint id.
    #[arg(long)]
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    Card,
    QrStatic,
    QrDynamic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EntryArg {
    Magstripe,
    Chip,
    Contactless,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GradeArg {
    A,
    B,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// JSON output; with a FILE (or - for stdin) the context is read from it as
    /// `{"context": {...}, "counters": {...}}` instead of from the flags.
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "FILE|-")]
    pub json: Option<String>,
    /// A signed bundle to evaluate with (else the built-in one); needs --public-key or
    /// --trusted-key.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    #[command(flatten)]
    pub trusted: TrustedKeyArgs,
    /// The amount of the payment, in fen.
    #[arg(long, default_value_t = 10_000)]
    pub amount_fen: u64,
    /// How the customer pays.
    #[arg(long, value_enum, default_value = "card")]
    pub method: MethodArg,
    /// How the card was read.
    #[arg(long, value_enum, default_value = "chip")]
    pub entry: EntryArg,
    /// The QR code's grade (the payment-code rules' A or B class).
    #[arg(long, value_enum, default_value = "a")]
    pub grade: GradeArg,
    /// 6-digit BIN; a card is in the context only when given.
    #[arg(long)]
    pub bin: Option<String>,
    /// Salted card fingerprint, 16 hex digits (never the PAN).
    #[arg(long, default_value = "0000000000000000")]
    pub card_hash: String,
    /// The card's 3-digit service code (from track 2).
    #[arg(long)]
    pub service_code: Option<String>,
    /// YYMM.
    #[arg(long)]
    pub expiry: Option<String>,
    /// A chip card read by its stripe after the chip failed (fallback).
    #[arg(long)]
    pub fallback: bool,
    /// The card number fails its Luhn check.
    #[arg(long)]
    pub luhn_fails: bool,
    /// Unix seconds; default now.
    #[arg(long)]
    pub time: Option<i64>,
    /// The merchant category code.
    #[arg(long, default_value = "5812")]
    pub mcc: String,
    /// The terminal's latitude (degrees); needs --lon.
    #[arg(long, requires = "lon")]
    pub lat: Option<f64>,
    /// The terminal's longitude (degrees); needs --lat.
    #[arg(long, requires = "lat")]
    pub lon: Option<f64>,
    /// The serving cell id, when the terminal has no position fix.
    #[arg(long)]
    pub cell: Option<String>,
    /// The 0–99 random number that samples sales for online checks.
    #[arg(long, default_value_t = 99)]
    pub random: u8,
    /// Counters as JSON (file), e.g. {"card_window_count": 5}: with --bin 622202 that meets the
    /// card velocity rule (five approvals in its window). Keys left out are zero.
    #[arg(long)]
    pub counters: Option<PathBuf>,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Bundle { command } => bundle(command),
        Command::Check(a) => {
            println!("{}", check(&a)?);
            Ok(())
        }
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::new(format!("risk: {what}: {e}"))
}

fn read_input(path: &str) -> Result<Vec<u8>, CliError> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| err("stdin", e))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| err(path, e))
}

fn public_key(flag: &str, hex_text: &str) -> Result<Vec<u8>, CliError> {
    let key = hex::decode(hex_text.trim()).map_err(|e| err(flag, e))?;
    if key.len() != 32 {
        return Err(err(flag, format!("{} bytes, expected 32", key.len())));
    }
    Ok(key)
}

impl TrustedKeyArgs {
    fn given(&self) -> bool {
        self.public_key.is_some() || !self.trusted_keys.is_empty()
    }

    /// The set the flags name; at least one key.
    fn keys(&self) -> Result<TrustedKeys, CliError> {
        if !self.given() {
            return Err(err(
                "verify",
                "needs --trusted-key ID=HEX or --public-key HEX",
            ));
        }
        let mut keys = match &self.public_key {
            Some(pk) => TrustedKeys::single(&public_key("--public-key", pk)?)
                .map_err(|e| err("--public-key", e))?,
            None => TrustedKeys::none(),
        };
        for text in &self.trusted_keys {
            let (id, hex_text) = text
                .split_once('=')
                .ok_or_else(|| err("--trusted-key", "expected ID=HEX"))?;
            let id = KeyId::new(id).map_err(|e| err("--trusted-key", e))?;
            let key = TrustedKey::new(id, &public_key("--trusted-key", hex_text)?)
                .map_err(|e| err("--trusted-key", e))?;
            keys.insert(key).map_err(|e| err("--trusted-key", e))?;
        }
        Ok(keys)
    }
}

fn bundle(command: BundleCommand) -> CliResult {
    match command {
        BundleCommand::Export { out } => {
            let text = Bundle::built_in().to_json();
            match out {
                Some(path) => std::fs::write(&path, text).map_err(|e| err("--out", e))?,
                None => println!("{text}"),
            }
        }
        BundleCommand::Sign {
            input,
            key,
            key_id,
            out,
            json,
        } => {
            let body = read_input(&input)?;
            // A signature makes a bundle law on every terminal: one whose limits contradict each
            // other (which would decline every payment of a method) is refused by the core's
            // validation, here as on every terminal that would load it.
            let bundle =
                Bundle::from_json(&body).map_err(|e| err(&input, format!("not signed: {e}")))?;
            let key_id = key_id
                .map(|id| KeyId::new(&id).map_err(|e| err("--key-id", e)))
                .transpose()?;
            let der = std::fs::read(&key).map_err(|e| err("--key", e))?;
            let mut signer = Signer::from_pkcs8(&der).map_err(|e| err("--key", e))?;
            if let Some(id) = key_id {
                signer = signer.with_key_id(id);
            }
            let signed = signer.seal(EnvelopeKind::Bundle, &body);
            std::fs::write(&out, &signed).map_err(|e| err("--out", e))?;
            let pk = hex::encode(signer.public_key());
            let id = signer.key_id();
            if json {
                println!(
                    "{}",
                    json!({"version": bundle.version, "bytes": signed.len(), "public_key": pk,
                           "key_id": id.as_str()})
                );
            } else {
                println!(
                    "signed bundle version {} ({} bytes) under key id {id} (public key {pk})",
                    bundle.version,
                    signed.len()
                );
            }
        }
        BundleCommand::Verify {
            input,
            trusted,
            active_version,
            json,
        } => {
            let bytes = std::fs::read(&input).map_err(|e| err("--in", e))?;
            let bundle =
                Bundle::from_signed(&bytes, &trusted.keys()?).map_err(|e| err("verify", e))?;
            // It verified, so it names a key id.
            let key_id =
                envelope::key_id_of(&bytes, EnvelopeKind::Bundle).map_err(|e| err("verify", e))?;
            if let Some(active) = active_version
                && bundle.version <= active
            {
                return Err(err(
                    "verify",
                    smartpos_core::risk::BundleError::NotNewer {
                        offered: bundle.version,
                        active,
                    },
                ));
            }
            if json {
                println!(
                    "{}",
                    json!({"valid": true, "version": bundle.version, "key_id": key_id})
                );
            } else {
                println!(
                    "valid: bundle version {} signed under key id {key_id}",
                    bundle.version
                );
            }
        }
        BundleCommand::Keygen { out } => {
            let der = Signer::generate_pkcs8().map_err(|e| err("keygen", e))?;
            let signer = Signer::from_pkcs8(&der).map_err(|e| err("keygen", e))?;
            // A signing key is never overwritten (the old one may be the only copy) and is
            // readable by its owner only.
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&out)
                .and_then(|mut f| f.write_all(&der).and_then(|()| f.sync_all()))
                .map_err(|e| err("--out", e))?;
            println!("{}", hex::encode(signer.public_key()));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct CheckInput {
    context: RiskContext,
    #[serde(default)]
    counters: Counters,
}

fn context_from_flags(a: &CheckArgs) -> Result<(RiskContext, Counters), CliError> {
    let method = match a.method {
        MethodArg::Card => Method::Card {
            entry: match a.entry {
                EntryArg::Magstripe => CardEntry::Magstripe,
                EntryArg::Chip => CardEntry::Chip,
                EntryArg::Contactless => CardEntry::Contactless,
                EntryArg::Manual => CardEntry::Manual,
            },
        },
        MethodArg::QrStatic => Method::QrStatic,
        MethodArg::QrDynamic => Method::QrDynamic {
            grade: match a.grade {
                GradeArg::A => QrGrade::A,
                GradeArg::B => QrGrade::B,
            },
        },
    };
    let hash = u64::from_str_radix(a.card_hash.trim(), 16).map_err(|e| err("--card-hash", e))?;
    let card = a.bin.as_ref().map(|bin| CardFacts {
        bin: bin.clone(),
        hash: CardHash(hash),
        service_code: a.service_code.clone(),
        expiry_yymm: a.expiry.clone(),
        fallback: a.fallback,
        luhn_ok: !a.luhn_fails,
        hot_listed: false,
        atc: None,
        last_online_atc: None,
    });
    if !(1..=99).contains(&a.random) {
        return Err(err("--random", "must be 1..=99"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let counters = match &a.counters {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| err("--counters", e))?;
            serde_json::from_slice(&text).map_err(|e| err("--counters", e))?
        }
        None => Counters::default(),
    };
    let ctx = RiskContext {
        amount_fen: a.amount_fen,
        method,
        card,
        terminal: TerminalFacts {
            unix_time: a.time.unwrap_or(now),
            utc_offset_minutes: 480,
            position: a.lat.zip(a.lon).map(|(lat, lon)| Position { lat, lon }),
            cell_id: a.cell.clone(),
            online: true,
            mcc: a.mcc.clone(),
        },
        random_1_99: a.random,
        offline_capable: false,
    };
    Ok((ctx, counters))
}

/// The decision for the context of `a`, as text or JSON.
pub fn check(a: &CheckArgs) -> Result<String, CliError> {
    let (ctx, counters) = match a.json.as_deref() {
        Some(path) if !path.is_empty() => {
            let input: CheckInput =
                serde_json::from_slice(&read_input(path)?).map_err(|e| err("context JSON", e))?;
            (input.context, input.counters)
        }
        _ => context_from_flags(a)?,
    };
    let mut engine = RiskEngine::built_in_only();
    if let Some(path) = &a.bundle {
        if !a.trusted.given() {
            return Err(err("--bundle", "needs --public-key or --trusted-key"));
        }
        let bytes = std::fs::read(path).map_err(|e| err("--bundle", e))?;
        engine = RiskEngine::with_keys(a.trusted.keys()?);
        engine.load_bundle(&bytes).map_err(|e| err("--bundle", e))?;
    }
    let decision = engine.check(ctx, &counters);
    if a.json.is_some() {
        let mut value = serde_json::to_value(&decision).map_err(|e| err("json", e))?;
        value["bundle_version"] = json!(engine.bundle().version);
        // One shape for a verdict across commands: a snake_case word; a step-up's steps beside
        // it (serde would make that one verdict an object).
        if let Verdict::StepUp(steps) = &decision.verdict {
            value["verdict"] = json!("step_up");
            value["steps"] = serde_json::to_value(steps).map_err(|e| err("json", e))?;
        }
        return serde_json::to_string_pretty(&value).map_err(|e| err("json", e));
    }
    Ok(text(&decision))
}

/// A step-up in words, as the merchant reads it.
fn step_words(step: &StepUp) -> &'static str {
    match step {
        StepUp::ForceOnline => "send online (no offline approval)",
        StepUp::RequirePin => "require the PIN",
        StepUp::RequireSignature => "require a signature",
    }
}

fn text(d: &Decision) -> String {
    let verdict = match &d.verdict {
        Verdict::Allow => "allow".to_owned(),
        Verdict::Decline => "decline".to_owned(),
        Verdict::ConfirmWithOperator => "confirm with operator".to_owned(),
        Verdict::StepUp(steps) => format!(
            "step up: {}",
            steps.iter().map(step_words).collect::<Vec<_>>().join(", ")
        ),
    };
    format!(
        "{verdict}\nrule: {}\nmerchant: {} / {}\ncardholder: {} / {}",
        d.rule, d.merchant_zh, d.merchant_en, d.cardholder.zh, d.cardholder.en
    )
}
