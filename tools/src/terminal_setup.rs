//! Wiring shared by `smartpos pay` and `smartpos recover`: the demo terminal on a journal the
//! operator names, its storage key kept beside it, and the simulated card, PIN pad and printer.
//!
//! The key file `DB.key` is the host stand-in for the Android Keystore: on a terminal the
//! storage key never leaves the keystore; here it is 32 random bytes in a file readable by the
//! owner only (mode 0600). Every process working on one journal must use the same key, or the
//! sealed PANs (needed for reversals) and sealed working keys would not open.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use smartpos_core::card::Track2;
use smartpos_core::crypto::{KeyAlgorithm, SecretKey};
use smartpos_core::host::{LogTap, MessageTap};
use smartpos_core::ports::testing::{RecordingPrinter, ScriptedCardReader, SoftwarePinPad};
use smartpos_core::ports::{CardPresentation, SystemClock};
use smartpos_core::txn::{OpenError, Ports, RiskConfig, Terminal};
use zeroize::Zeroizing;

use crate::cli::CliError;
use crate::cli::acquirer::HostLink;
use crate::demo_setup;

/// Length of the AES-256 storage key.
const STORAGE_KEY_LEN: usize = 32;

/// The demo card every `pay` sale uses, and its PIN (see the simulator ledger's card table).
pub const PAY_CARD: &str = "normal";
pub const PAY_PIN: &str = "123456";

/// Where the storage key of journal `db` lives: `db` with `.key` appended.
pub fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Loads the storage key of journal `db`, creating it (mode 0600) on first use.
///
/// The key is written to a private temporary file, fsynced, then hard-linked into place: a
/// process killed at any point leaves either no key file or a complete one, and two processes
/// racing to create it end up using the same key (linking never overwrites).
pub fn load_or_create_storage_key(db: &Path) -> Result<SecretKey, CliError> {
    let path = key_path(db);
    if path.exists() {
        return read_key(&path);
    }
    let fail = |e: std::io::Error| CliError::new(format!("key file {}: {e}", path.display()));
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let key = SecretKey::random(KeyAlgorithm::Aes, STORAGE_KEY_LEN)
        .map_err(|e| CliError::new(format!("storage key: {e}")))?;
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(key.expose_secret())?;
            file.sync_all()
        });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, &path));
    // The temporary name is only scaffolding; failing to remove it changes nothing.
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_parent(&path).map_err(fail)?;
            Ok(key)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => read_key(&path),
        Err(e) => Err(fail(e)),
    }
}

/// Makes the new directory entry durable, so the key cannot vanish while journal rows sealed
/// under it survive a power cut.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn read_key(path: &Path) -> Result<SecretKey, CliError> {
    let fail = |e: std::io::Error| CliError::new(format!("key file {}: {e}", path.display()));
    let mut bytes = Zeroizing::new(Vec::with_capacity(STORAGE_KEY_LEN));
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(fail)?;
    if bytes.len() != STORAGE_KEY_LEN {
        // Never written by this module (it links only complete files): refuse rather than
        // guess, since the wrong key would leave every sealed PAN unreadable.
        return Err(CliError::new(format!(
            "key file {} holds {} bytes, expected {STORAGE_KEY_LEN}",
            path.display(),
            bytes.len()
        )));
    }
    SecretKey::new(KeyAlgorithm::Aes, &bytes)
        .map_err(|e| CliError::new(format!("key file {}: {e}", path.display())))
}

/// The demo terminal on journal `db`, talking to the acquirer `host` names (plain TCP or TLS).
pub struct HostTerminal {
    pub terminal: Terminal,
    pub reader: Arc<ScriptedCardReader>,
    pub pin_pad: Arc<SoftwarePinPad>,
    pub printer: Arc<RecordingPrinter>,
}

impl std::fmt::Debug for HostTerminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTerminal")
            .field("terminal", &self.terminal)
            .finish_non_exhaustive()
    }
}

impl HostTerminal {
    /// Opens the terminal, risk checks on; opening already runs `Terminal::recover` once.
    pub fn open(db: &Path, host: &HostLink) -> Result<HostTerminal, CliError> {
        HostTerminal::open_with_risk(db, host, RiskConfig::default())
    }

    /// As [`HostTerminal::open`] with the risk configuration given (`RiskConfig::disabled()`
    /// for load and crash runs that repeat sales on the one demo card).
    pub fn open_with_risk(
        db: &Path,
        host: &HostLink,
        risk: RiskConfig,
    ) -> Result<HostTerminal, CliError> {
        let storage_key = load_or_create_storage_key(db)?;
        let vault = Arc::new(demo_setup::demo_vault());
        let reader = Arc::new(ScriptedCardReader::default());
        let pin_pad = Arc::new(SoftwarePinPad::new(vault.clone()));
        let printer = Arc::new(RecordingPrinter::default());
        let ports = Ports {
            card_reader: reader.clone(),
            pin_pad: pin_pad.clone(),
            printer: printer.clone(),
            vault,
            clock: Arc::new(SystemClock),
            scanner: None,
            network: None,
            location: None,
            prompt: None,
        };
        let mut config = demo_setup::demo_terminal_config(storage_key);
        config.journal_path = db.to_path_buf();
        config.endpoints = host.endpoints.clone();
        config.dialect = host.dialect;
        config.terminal_id = host.terminal_id.clone();
        config.merchant_id = host.merchant_id.clone();
        config.risk = risk;
        // `--trace` writes the message log; without it, `RUST_LOG=debug` still shows one line
        // per message through the core's `LogTap` (what logcat shows on Android).
        let tap: Option<Arc<dyn MessageTap>> = match &host.trace {
            Some(log) => Some(log.clone()),
            None if log::log_enabled!(log::Level::Debug) => Some(Arc::new(LogTap)),
            None => None,
        };
        let opened = match tap {
            None => Terminal::open_with_security(config, host.security.clone(), ports),
            Some(tap) => Terminal::open_observed(config, host.security.clone(), ports, tap),
        };
        let terminal = opened.map_err(|e| match e {
            OpenError::Journal(e) => CliError::journal(db, &e),
            e => CliError::new(format!("terminal on {}: {e}", db.display())),
        })?;
        Ok(HostTerminal {
            terminal,
            reader,
            pin_pad,
            printer,
        })
    }

    /// Lets the chip approve sales offline below `fen`: every AID's floor limit, with random
    /// online selection off so the outcome depends on the amount alone.
    pub fn allow_offline_below(&self, fen: u64) {
        let mut chip = self.terminal.chip_config();
        for aid in &mut chip.kernel.aids {
            aid.floor_limit_fen = fen;
            aid.target_percent = 0;
            aid.max_target_percent = 0;
        }
        self.terminal.configure_chip(chip);
        let mut aids = self.terminal.contactless_aids();
        for aid in &mut aids {
            aid.floor_limit_fen = fen;
        }
        self.terminal.configure_contactless(aids);
    }

    /// Inserts the catalogue chip card `name` (`card_sim::catalogue`) with its PIN ready: the
    /// next transaction runs the contact kernel against it. The terminal trusts the simulator's
    /// test CA keys for it (its certificates chain to them).
    /// A contactless card of the catalogue (`quickpass-debit`, …) is tapped instead: the
    /// contactless kernels run against it.
    pub fn insert_chip_card(&self, name: &str) -> Result<(), CliError> {
        let card = crate::card_sim::VirtualCard::named(name)
            .map_err(|e| CliError::new(format!("--card {name}: {e}")))?;
        let mut chip = self.terminal.chip_config();
        let test_keys = crate::card_sim::test_ca_keys()
            .map_err(|e| CliError::new(format!("test CA keys: {e}")))?;
        let missing: Vec<_> = test_keys
            .iter()
            .filter(|k| chip.ca_keys.get(k.rid, k.index).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() {
            for key in missing {
                chip.ca_keys
                    .insert(key)
                    .map_err(|e| CliError::new(format!("test CA key: {e}")))?;
            }
            self.terminal.configure_chip(chip);
        }
        if crate::card_sim::CONTACTLESS_NAMES.contains(&name) {
            // A phone answering "see phone" is tapped a second time; a tap that did not need
            // it leaves nothing behind for the next transaction.
            self.reader.withdraw();
            self.reader.present(CardPresentation::Contactless);
            self.reader.present(CardPresentation::Contactless);
        } else {
            self.reader.present(CardPresentation::ContactChip);
        }
        self.reader.set_responder(move |apdu| {
            use smartpos_core::ports::CardReader;
            card.transceive(apdu).map(|r| r.to_vec())
        });
        self.pin_pad
            .set_pin(Some(crate::card_sim::catalogue::TEST_PIN));
        Ok(())
    }

    /// Puts the demo card in the reader with its PIN ready on the PIN pad.
    pub fn present_demo_card(&self) -> Result<(), CliError> {
        let t2 = demo_setup::demo_track2(PAY_CARD)
            .ok_or_else(|| CliError::new(format!("demo card {PAY_CARD} missing")))?;
        let track2 = Track2::parse(&t2).map_err(|e| CliError::new(format!("track 2: {e}")))?;
        self.reader.present(CardPresentation::Magstripe { track2 });
        self.pin_pad.set_pin(Some(PAY_PIN));
        Ok(())
    }
}

/// xorshift64*: amounts for load generation, not secrets (keys come from `SecretKey::random`).
#[derive(Debug, Clone)]
pub struct LoadRng(u64);

impl LoadRng {
    pub fn new(seed: u64) -> LoadRng {
        // Zero is xorshift's fixed point.
        LoadRng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..hi` (`hi > lo`); the modulo bias is below 2^-40 for fen ranges.
    pub fn in_range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_private_and_reloaded_identically() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("j.db");
        let first = load_or_create_storage_key(&db).unwrap();
        let path = key_path(&db);
        assert_eq!(path, dir.path().join("j.db.key"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = load_or_create_storage_key(&db).unwrap();
        assert_eq!(first.expose_secret(), again.expose_secret());
        assert_eq!(first.len(), 32);
    }

    #[test]
    fn a_truncated_key_file_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("j.db");
        std::fs::write(key_path(&db), [1u8; 5]).unwrap();
        let err = load_or_create_storage_key(&db).unwrap_err().to_string();
        assert!(err.contains("j.db.key") && err.contains("5 bytes"), "{err}");
    }

    #[test]
    fn load_rng_stays_in_range_and_covers_it() {
        let mut rng = LoadRng::new(0);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = rng.in_range(100, 110);
            assert!((100..110).contains(&v));
            seen[(v - 100) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
