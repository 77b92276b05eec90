use std::process::ExitCode;

use clap::{Parser, Subcommand};
use smartpos_tools::cli;

/// SmartPOS core tools: demo, acquirer simulator, decoders and a crypto calculator.
#[derive(Debug, Parser)]
#[command(name = "smartpos", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A scripted business day against an embedded acquirer simulator.
    Demo(cli::demo::Args),
    /// Run the acquirer simulator as a TCP server.
    Sim(cli::sim::Args),
    /// Decode a UnionPay ISO 8583 message given in hex.
    Decode(cli::decode::Args),
    /// Decode BER-TLV (EMV field 55) given in hex.
    Tlv(cli::tlv::Args),
    /// Payment crypto calculator: KCV, MACs, PIN blocks, DUKPT.
    Crypto(cli::crypto::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => cli::demo::run(args),
        Command::Sim(args) => cli::sim::run(args),
        Command::Decode(args) => cli::decode::run(args),
        Command::Tlv(args) => cli::tlv::run(args),
        Command::Crypto(args) => cli::crypto::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartpos: {e}");
            ExitCode::from(2)
        }
    }
}
