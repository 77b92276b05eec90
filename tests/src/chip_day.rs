//! A signed-on terminal whose contact reader holds one virtual chip card with real keys, behind
//! an on-path proxy to the acquirer simulator playing the card's issuer.

#![allow(clippy::unwrap_used)] // test harness: a failed set-up is a failed test

use std::sync::Arc;
use std::time::Duration;

use smartpos_core::codec::iso8583::Frame;
use smartpos_core::ports::SystemClock;
use smartpos_core::ports::testing::{RecordingPrinter, SoftwarePinPad};
use smartpos_core::txn::{Outcome, Ports, SaleRequest, Terminal, TerminalConfig};
use smartpos_tools::card_sim::{VirtualCard, catalogue};
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, OnPathProxy, SimServer};

pub struct ChipDay {
    pub acquirer: Arc<Acquirer>,
    /// The simulator itself (`set_refusing` plays a network that is down).
    pub sim: SimServer,
    pub proxy: OnPathProxy,
    pub card: Arc<VirtualCard>,
    pub terminal: Terminal,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for ChipDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipDay").finish_non_exhaustive()
    }
}

impl ChipDay {
    /// A signed-on terminal whose reader holds the catalogue card `name`.
    pub fn with_card(card: VirtualCard) -> ChipDay {
        ChipDay::build(card, true)
    }

    /// As [`ChipDay::with_card`], the terminal talking to the simulator directly (so a refused
    /// connection is refused to the terminal, not to the proxy).
    pub fn direct(card: VirtualCard) -> ChipDay {
        ChipDay::build(card, false)
    }

    fn build(card: VirtualCard, via_proxy: bool) -> ChipDay {
        let mut ledger = Ledger::with_demo_accounts();
        catalogue::add_ledger_accounts(&mut ledger);
        let acquirer = Arc::new(Acquirer::new(ledger, demo_setup::demo_tmk()));
        let sim = SimServer::start(acquirer.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
        let proxy = OnPathProxy::start(sim.addr()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(demo_setup::demo_vault());
        let pin_pad = Arc::new(SoftwarePinPad::new(vault.clone()));
        pin_pad.set_pin(Some(catalogue::TEST_PIN));
        let card = Arc::new(card);
        let ports = Ports {
            card_reader: card.clone(),
            pin_pad,
            printer: Arc::new(RecordingPrinter::default()),
            vault,
            clock: Arc::new(SystemClock),
            scanner: None,
            network: None,
            location: None,
            prompt: None,
        };
        let key = demo_setup::fresh_storage_key().unwrap();
        let config = TerminalConfig {
            journal_path: dir.path().join("journal.db"),
            endpoints: vec![if via_proxy { proxy.addr() } else { sim.addr() }],
            response_timeout: Duration::from_millis(800),
            ..demo_setup::demo_terminal_config(key)
        };
        let terminal = Terminal::open(config, ports).unwrap();
        // The virtual cards' certificates chain to the simulator's test CA, not to a scheme's.
        let mut chip = terminal.chip_config();
        chip.ca_keys = smartpos_tools::card_sim::test_ca_keys().unwrap();
        terminal.configure_chip(chip);
        terminal.sign_on().unwrap();
        ChipDay {
            acquirer,
            sim,
            proxy,
            card,
            terminal,
            _dir: dir,
        }
    }

    /// Every contact AID's floor limit, and its random online selection (target and maximum
    /// target percentage, both `target_percent`): how a test lets the card approve offline.
    pub fn set_offline_limits(&self, floor_limit_fen: u64, target_percent: u8) {
        let mut chip = self.terminal.chip_config();
        for aid in &mut chip.kernel.aids {
            aid.floor_limit_fen = floor_limit_fen;
            aid.target_percent = target_percent;
            aid.max_target_percent = target_percent;
        }
        self.terminal.configure_chip(chip);
    }

    pub fn sale(&self, attempt: &str, fen: u64) -> Outcome {
        self.card.insert();
        self.terminal.sale(
            &SaleRequest {
                attempt_id: attempt.into(),
                amount_fen: fen,
            },
            &smartpos_core::host::CancelToken::new(),
        )
    }

    /// The terminal's journal file (for tests that play a storage fault or an attacker).
    pub fn journal_path(&self) -> std::path::PathBuf {
        self._dir.path().join("journal.db")
    }

    pub fn net_fen(&self) -> i64 {
        self.acquirer.ledger().net_fen()
    }

    /// The financial requests the terminal sent, decoded.
    pub fn sent(&self, mti: &str) -> Vec<smartpos_core::codec::iso8583::Message> {
        self.proxy
            .captured()
            .iter()
            .filter_map(|b| Frame::decode_body(b).ok())
            .map(|f| f.message)
            .filter(|m| m.mti() == mti)
            .collect()
    }
}
