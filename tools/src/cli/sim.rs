//! `smartpos sim --listen ADDR [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
//! [--ledger FILE] [--qr-listen ADDR [--qr-ledger FILE]]`: the acquirer simulator as a TCP (or
//! TLS) server, and optionally the simulated QR gateway over HTTP beside it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use smartpos_core::crypto::MacAlgorithm;

use super::msglog::MessageLog;
use super::{CliError, CliResult};
use crate::demo_setup;
use crate::sim::gateway::{DEMO_SIGNING_KEY, GatewayServer, QrGateway};
use crate::sim::ledger::Ledger;
use crate::sim::{Acquirer, SimServer, tls};
use smartpos_core::ports::SystemClock;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:5800 (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Keep the ledger in this JSON file: loaded at start if it exists, saved after every change.
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Also serve the simulated QR gateway (HTTP, demo signing key) on this address.
    #[arg(long)]
    pub qr_listen: Option<SocketAddr>,
    /// Write the QR gateway's orders to this JSON file after every request:
    /// `{"orders": [{"out_trade_no", "total_fee", "state", "charged_fen", "refunded_fen"}],
    /// "net_fen": N}`.
    #[arg(long, requires = "qr_listen")]
    pub qr_ledger: Option<PathBuf>,
    /// The MAC this acquirer checks on every request and puts on every answer: cup-ecb, x919 or
    /// sm4. A request MACed otherwise is answered A0.
    #[arg(long, default_value = "x919", value_parser = super::parse_mac)]
    pub mac: MacAlgorithm,
    /// Issue a TDK at sign-on and accept track data only enciphered under it (field 53.3 = 1);
    /// a clear track is answered 30.
    #[arg(long)]
    pub track_encryption: bool,
    /// Serve the acquirer over TLS with this certificate chain (PEM, leaf first).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require every terminal to present a client certificate issued by this CA (PEM): mutual
    /// TLS, as an acquirer's SSL access does.
    #[arg(long, requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Write every ISO 8583 message the acquirer receives and sends to FILE (appended), or to
    /// standard output with `-`: the field dump `decode` shows (card data masked), with time,
    /// connection, peer and round trip.
    #[arg(long, value_name = "FILE|-")]
    pub log: Option<PathBuf>,
    /// Serve this CA key (RID:INDEX in hex, e.g. A000000333:F9) to the chip-table download with
    /// a wrong checksum: a scripted fault the terminal must refuse. Repeatable.
    #[arg(long, value_name = "RID:INDEX", value_parser = crate::sim::ic_params::parse_key_id)]
    pub corrupt_ca_key: Vec<([u8; 5], u8)>,
    /// Write each e-signature the acquirer accepts (binding verified) as
    /// `DIR/<terminal id>-<batch>-<STAN>.jbg`.
    #[arg(long, value_name = "DIR")]
    pub esign_dir: Option<PathBuf>,
}

/// The MAC as `--mac` names it.
fn mac_name(mac: MacAlgorithm) -> &'static str {
    match mac {
        MacAlgorithm::CupEcb => "cup-ecb",
        MacAlgorithm::X919 => "x919",
        MacAlgorithm::Sm4Cbc => "sm4",
        _ => "other",
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::new(format!("{}: {e}", path.display())))
}

pub fn run(args: Args) -> CliResult {
    let mut ledger = match &args.ledger {
        Some(path) if path.exists() => Ledger::load(path)
            .map_err(|e| CliError::new(format!("ledger {}: {e}", path.display())))?,
        _ => Ledger::with_demo_accounts(),
    };
    // The virtual chip cards' accounts (`pay --card`); after a load this binds them again.
    crate::card_sim::catalogue::add_ledger_accounts(&mut ledger);
    let mut acquirer = Acquirer::new(ledger, demo_setup::demo_tmk())
        .with_mac(args.mac)
        .with_track_encryption(args.track_encryption);
    if let Some(dir) = &args.esign_dir {
        acquirer = acquirer.with_esign_dir(dir.clone());
    }
    if let Some(path) = &args.ledger {
        acquirer = acquirer.with_ledger_file(path.clone());
        acquirer
            .ledger()
            .save(path)
            .map_err(|e| CliError::new(format!("ledger {}: {e}", path.display())))?;
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let client_ca = args.tls_client_ca.as_deref().map(read).transpose()?;
            let config = tls::server_config(&read(cert)?, &read(key)?, client_ca.as_deref())
                .map_err(|e| CliError::new(format!("--tls-cert/--tls-key: {e}")))?;
            Some(config)
        }
        _ => None,
    };
    for (rid, index) in &args.corrupt_ca_key {
        acquirer.ic_params().corrupt_checksum(*rid, *index);
    }
    let acquirer = Arc::new(acquirer);
    let log = args
        .log
        .as_deref()
        .map(|path| MessageLog::open(path, "").map(Arc::new))
        .transpose()?;
    let server = SimServer::start_logged(acquirer, args.listen, tls.clone(), log)
        .map_err(|e| CliError::new(format!("cannot listen on {}: {e}", args.listen)))?;
    // Plain keeps the line scripts already read; TLS prints the address as `--host` takes it.
    match (&tls, &args.tls_client_ca) {
        (None, _) => println!("smartpos sim: acquirer listening on {}", server.addr()),
        (Some(_), None) => println!(
            "smartpos sim: acquirer listening on tls://{} (TLS)",
            server.addr()
        ),
        (Some(_), Some(_)) => println!(
            "smartpos sim: acquirer listening on tls://{} (mutual TLS: client certificate \
             required)",
            server.addr()
        ),
    }
    println!(
        "terminal {} / merchant {} / TMK = demo key / MAC {}",
        demo_setup::DEMO_TERMINAL_ID,
        demo_setup::DEMO_MERCHANT_ID,
        mac_name(args.mac)
    );
    // Held until the acquirer stops, so both serve for the life of the process.
    let _qr = match args.qr_listen {
        Some(listen) => {
            let mut gateway = QrGateway::new(
                DEMO_SIGNING_KEY,
                demo_setup::DEMO_MERCHANT_ID,
                Arc::new(SystemClock),
            );
            if let Some(path) = &args.qr_ledger {
                gateway
                    .ledger()
                    .save(path)
                    .map_err(|e| CliError::new(format!("QR ledger {}: {e}", path.display())))?;
                gateway = gateway.with_ledger_file(path.clone());
            }
            let qr = GatewayServer::start(Arc::new(gateway), listen)
                .map_err(|e| CliError::new(format!("cannot listen on {listen}: {e}")))?;
            println!("QR gateway listening on {} (demo signing key)", qr.url());
            Some(qr)
        }
        None => None,
    };
    server.wait();
    Ok(())
}
