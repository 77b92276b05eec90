//! The acquirer's IC parameter and CA public key downloads over loopback: a chip card whose CA
//! key the terminal has only from the download passes offline data authentication; a key with
//! a bad checksum refuses the whole download and the old set stays; the downloaded sets are in
//! force again after a restart.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use smartpos_core::card::oda::{CaKeyError, CaKeyTable};
use smartpos_core::codec::iso8583::Frame;
use smartpos_core::codec::tlv;
use smartpos_core::ports::SystemClock;
use smartpos_core::ports::testing::{RecordingPrinter, SoftwarePinPad};
use smartpos_core::txn::ic_download::{DOWNLOAD_SOURCE, RecordError};
use smartpos_core::txn::{
    ChipDownloadError, ChipSet, Outcome, Ports, SaleRequest, Terminal, TerminalConfig,
};
use smartpos_tools::card_sim::{VirtualCard, catalogue};
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, Fault, Matcher, OnPathProxy, SimServer};

struct Lab {
    acquirer: Arc<Acquirer>,
    _sim: SimServer,
    proxy: OnPathProxy,
    card: Arc<VirtualCard>,
    storage_key_hex: String,
    sales: std::sync::atomic::AtomicU64,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new(card: &str) -> Lab {
        let mut ledger = Ledger::with_demo_accounts();
        catalogue::add_ledger_accounts(&mut ledger);
        let acquirer = Arc::new(Acquirer::new(ledger, demo_setup::demo_tmk()));
        let sim = SimServer::start(acquirer.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
        let proxy = OnPathProxy::start(sim.addr()).unwrap();
        let key = demo_setup::fresh_storage_key().unwrap();
        Lab {
            acquirer,
            _sim: sim,
            proxy,
            card: Arc::new(VirtualCard::named(card).unwrap()),
            storage_key_hex: hex::encode(key.expose_secret()),
            sales: std::sync::atomic::AtomicU64::new(0),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A terminal on the lab's journal: the same file every time, as after a restart.
    fn terminal(&self) -> Terminal {
        let vault = Arc::new(demo_setup::demo_vault());
        let pin_pad = Arc::new(SoftwarePinPad::new(vault.clone()));
        pin_pad.set_pin(Some(catalogue::TEST_PIN));
        let ports = Ports {
            card_reader: self.card.clone(),
            pin_pad,
            printer: Arc::new(RecordingPrinter::default()),
            vault,
            clock: Arc::new(SystemClock),
            scanner: None,
            network: None,
            location: None,
            prompt: None,
        };
        let key = smartpos_core::crypto::SecretKey::from_hex(
            smartpos_core::crypto::KeyAlgorithm::Aes,
            &self.storage_key_hex,
        )
        .unwrap();
        let config = TerminalConfig {
            journal_path: self.journal_path(),
            endpoints: vec![self.proxy.addr()],
            response_timeout: Duration::from_millis(800),
            ..demo_setup::demo_terminal_config(key)
        };
        Terminal::open(config, ports).unwrap()
    }

    fn journal_path(&self) -> std::path::PathBuf {
        self.dir.path().join("journal.db")
    }

    /// A sale whose amount differs each time (the risk rules hold a repeat of the same card and
    /// amount for the operator).
    fn sale(&self, terminal: &Terminal, attempt: &str) -> Outcome {
        self.card.insert();
        let n = self.sales.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        terminal.sale(
            &SaleRequest {
                attempt_id: attempt.into(),
                amount_fen: 10_00 + n,
            },
            &smartpos_core::host::CancelToken::new(),
        )
    }

    /// TVR byte 1 of the last 0200 the terminal sent.
    fn last_tvr_byte1(&self) -> u8 {
        let request = self
            .proxy
            .captured()
            .iter()
            .filter_map(|b| Frame::decode_body(b).ok())
            .map(|f| f.message)
            .rfind(|m| m.mti() == "0200")
            .unwrap();
        let objects = tlv::parse(request.bytes(55).unwrap()).unwrap();
        tlv::find(&objects, 0x95).unwrap().bytes().unwrap()[0]
    }
}

fn approved(outcome: &Outcome) -> bool {
    outcome.termination().is_none()
}

/// TVR byte 1: ODA not performed (80), SDA failed (40), ICC data missing (20), DDA failed
/// (08), CDA failed (04) — EMV 4.4 Book 3 Annex C5.
const ODA_TROUBLE: u8 = 0xEC;

fn test_keys_in(table: &CaKeyTable) -> usize {
    let test = smartpos_tools::card_sim::test_ca_keys().unwrap();
    test.iter()
        .filter(|k| {
            table
                .get(k.rid, k.index)
                .is_some_and(|t| t.modulus == k.modulus)
        })
        .count()
}

#[test]
fn a_card_whose_ca_key_came_only_from_the_download_authenticates_and_the_set_survives_a_restart() {
    let lab = Lab::new("unionpay-debit-dda");
    {
        let terminal = lab.terminal();
        terminal.sign_on().unwrap();
        assert_eq!(test_keys_in(&terminal.chip_config().ca_keys), 0);
        // Before the download the terminal has no key for the card's CA: DDA cannot pass.
        let before = lab.sale(&terminal, "before");
        assert!(approved(&before), "{before:?}");
        assert_ne!(lab.last_tvr_byte1() & ODA_TROUBLE, 0);

        let done = terminal.download_ca_keys().unwrap();
        assert_eq!(
            (done.set, done.entries, done.applied),
            (ChipSet::CaKeys, 4, true)
        );
        let keys = terminal.chip_config().ca_keys;
        assert_eq!(keys.len(), 4, "the acquirer's set replaces the table");
        assert_eq!(test_keys_in(&keys), 4);
        assert!(keys.iter().all(|k| k.source == DOWNLOAD_SOURCE));
        assert_eq!(lab.acquirer.ic_params().completed(ChipSet::CaKeys), 1);

        let after = lab.sale(&terminal, "after");
        assert!(approved(&after), "{after:?}");
        assert_eq!(
            lab.last_tvr_byte1() & ODA_TROUBLE,
            0,
            "DDA performed and passed"
        );
    }
    // A restart loads the downloaded set from the journal.
    let terminal = lab.terminal();
    assert_eq!(test_keys_in(&terminal.chip_config().ca_keys), 4);
    let again = lab.sale(&terminal, "after-restart");
    assert!(approved(&again), "{again:?}");
    assert_eq!(lab.last_tvr_byte1() & ODA_TROUBLE, 0);
}

#[test]
fn a_key_with_a_bad_checksum_refuses_the_download_and_the_old_set_stays() {
    let lab = Lab::new("unionpay-debit-sda");
    let keys = lab.acquirer.ic_params().ca_keys();
    {
        let terminal = lab.terminal();
        terminal.download_ca_keys().unwrap();
        // The acquirer rotates to a set with one more key, one of them sent corrupted.
        let mut more = keys.clone();
        let mut extra = CaKeyTable::production()
            .unwrap()
            .iter()
            .next()
            .unwrap()
            .clone();
        extra.source = "test".into();
        more.push(extra.clone());
        lab.acquirer.ic_params().set_ca_keys(more);
        lab.acquirer
            .ic_params()
            .corrupt_checksum(keys[1].rid, keys[1].index);
        let refused = terminal.download_ca_keys().unwrap_err();
        match &refused {
            ChipDownloadError::Refused { set, source, .. } => {
                assert_eq!(*set, ChipSet::CaKeys);
                assert!(
                    matches!(source, RecordError::Key(CaKeyError::Checksum { .. })),
                    "{refused}"
                );
            }
            other => panic!("{other}"),
        }
        assert!(refused.to_string().contains("checksum"), "{refused}");
        let table = terminal.chip_config().ca_keys;
        assert_eq!(table.len(), 4, "the old set is in force");
        assert!(table.get(extra.rid, extra.index).is_none());
        assert_eq!(
            lab.acquirer.ic_params().completed(ChipSet::CaKeys),
            1,
            "no end message for a refused download"
        );
        let sale = lab.sale(&terminal, "s1");
        assert!(approved(&sale), "{sale:?}");
        assert_eq!(lab.last_tvr_byte1() & ODA_TROUBLE, 0);
    }
    let terminal = lab.terminal();
    assert_eq!(
        terminal.chip_config().ca_keys.len(),
        4,
        "and after a restart"
    );
}

#[test]
fn ic_parameters_replace_the_aid_table_and_survive_a_restart() {
    let lab = Lab::new("unionpay-debit-sda");
    let mut params = lab.acquirer.ic_params().parameters();
    params.truncate(3);
    params[0].floor_limit_fen = 30_000;
    params[0].random_threshold_fen = 10_000;
    params[0].contactless_limit_fen = Some(100_000);
    lab.acquirer.ic_params().set_parameters(params.clone());
    {
        let terminal = lab.terminal();
        let done = terminal.download_ic_parameters().unwrap();
        assert_eq!(done.entries, 3);
        let aids = terminal.chip_config().kernel.aids;
        assert_eq!(aids.len(), 3);
        assert_eq!(aids[0].floor_limit_fen, 30_000);
        assert_eq!(aids[0].label, "UnionPay Debit");
        let sale = lab.sale(&terminal, "p1");
        assert!(approved(&sale), "{sale:?}");
    }
    let terminal = lab.terminal();
    let aids = terminal.chip_config().kernel.aids;
    assert_eq!(aids.len(), 3);
    assert_eq!(aids[0].random_threshold_fen, 10_000);
    // The journal keeps the records as received: the extras the kernel does not use yet too.
    let journal = smartpos_core::store::Journal::open_read_only(lab.journal_path()).unwrap();
    let stored = journal.stored_chip_sets().unwrap();
    let record = &stored
        .iter()
        .find(|s| s.name == "ic_parameters")
        .unwrap()
        .records[0];
    let decoded = smartpos_core::txn::ic_download::decode_ic_parameters(record).unwrap();
    assert_eq!(decoded.contactless_limit_fen, Some(100_000));
}

#[test]
fn a_sign_on_demand_gets_a_sign_on_and_the_download_goes_on() {
    let lab = Lab::new("unionpay-debit-sda");
    let terminal = lab.terminal();
    lab.acquirer.inject(
        Matcher::Mti("0820".into()),
        Fault::Decline { code: "77".into() },
    );
    let done = terminal.update_chip_config().unwrap();
    assert_eq!(done.len(), 2);
    assert!(done.iter().all(|d| d.applied));
    assert_eq!(lab.acquirer.sign_ons(demo_setup::DEMO_TERMINAL_ID), 1);
}

#[test]
fn a_connection_lost_mid_download_keeps_the_old_set() {
    let lab = Lab::new("unionpay-debit-sda");
    let terminal = lab.terminal();
    let before = terminal.chip_config().ca_keys.len();
    // The status query is answered; the first download request is not.
    lab.acquirer
        .inject(Matcher::Mti("0800".into()), Fault::DropAfterRead);
    let lost = terminal.download_ca_keys().unwrap_err();
    assert!(lost.termination().is_some(), "{lost}");
    assert_eq!(terminal.chip_config().ca_keys.len(), before);
    assert_eq!(test_keys_in(&terminal.chip_config().ca_keys), 0);
    let journal_sets = terminal_sets(&lab.journal_path());
    assert!(journal_sets.is_empty(), "nothing journaled");
    // The next session completes.
    assert_eq!(terminal.download_ca_keys().unwrap().entries, 4);
}

fn terminal_sets(path: &Path) -> Vec<String> {
    smartpos_core::store::Journal::open_read_only(path)
        .unwrap()
        .stored_chip_sets()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect()
}

#[test]
fn a_host_that_breaks_the_protocol_changes_nothing_and_never_loops() {
    use smartpos_tools::sim::ProtocolFault;
    for fault in [
        ProtocolFault::WrongRecord,
        ProtocolFault::EndlessPages,
        ProtocolFault::ListedButMissing,
    ] {
        let lab = Lab::new("unionpay-debit-sda");
        let terminal = lab.terminal();
        let before = terminal.chip_config();
        lab.acquirer.ic_params().break_protocol(fault);
        for set in ChipSet::ALL {
            let error = terminal.download_chip_set(set).unwrap_err();
            assert!(
                matches!(error, ChipDownloadError::Protocol { .. }),
                "{fault:?} {set:?}: {error}"
            );
        }
        let after = terminal.chip_config();
        assert_eq!(after.kernel.aids, before.kernel.aids, "{fault:?}");
        assert_eq!(after.ca_keys.len(), before.ca_keys.len(), "{fault:?}");
        assert!(terminal_sets(&lab.journal_path()).is_empty(), "{fault:?}");
    }
}

#[test]
fn an_expired_key_refuses_the_download_and_a_failure_is_not_a_payment_in_the_report() {
    let lab = Lab::new("unionpay-debit-sda");
    let terminal = lab.terminal();
    let mut keys = lab.acquirer.ic_params().ca_keys();
    // The checksum does not cover the expiry: only the date check can catch this one.
    keys[2].expiry_yymmdd = Some("200101".into());
    lab.acquirer.ic_params().set_ca_keys(keys);
    let refused = terminal.download_ca_keys().unwrap_err();
    assert!(
        matches!(
            &refused,
            ChipDownloadError::Refused {
                source: RecordError::Expired { .. },
                ..
            }
        ),
        "{refused}"
    );
    assert_eq!(test_keys_in(&terminal.chip_config().ca_keys), 0);
    // A download the host could not complete is counted by cause, not as a declined payment.
    lab.acquirer.inject(
        Matcher::Mti("0820".into()),
        Fault::Decline { code: "96".into() },
    );
    assert!(terminal.download_ic_parameters().is_err());
    let report = terminal.report(std::time::SystemTime::now()).unwrap();
    let today = &report.windows[0];
    assert_eq!(today.total, 0, "no payment ended: {today:?}");
    assert_eq!(today.approval_rate, None);
    assert!(today.by_code.values().sum::<u64>() >= 1, "{today:?}");
}
