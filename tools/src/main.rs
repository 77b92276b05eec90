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
    /// Payment crypto calculator: KCV, MACs, PIN blocks, DUKPT, EMV ARQC/ARPC.
    Crypto(cli::crypto::Args),
    /// What a response code or termination code means and what to do next.
    Explain(cli::explain::Args),
    /// Settle the open batch of a journal against a running simulator or acquirer.
    Settle(cli::settle::Args),
    /// Run N card sales against an acquirer on one journal (load and soak testing).
    Pay(cli::pay::Args),
    /// List a journal's transactions and its net approved amount.
    Journal(cli::journal::Args),
    /// Resolve what a killed process left: in-flight requests, reversals, advices.
    Recover(cli::recover::Args),
    /// Reversals still owed or parked for the operator; release a parked one.
    Reversal(cli::reversal::Args),
    /// Self-check: host, network, devices, keys, clock, storage, journal, queues, batch.
    Health(cli::health::Args),
    /// Termination statistics: today and 7 days, by cause and code, approval rate, latency.
    Report(cli::report::Args),
    /// Risk rule bundles (export, sign, verify) and a pre-check on a given context.
    Risk(cli::risk::Args),
    /// EMVCo merchant-presented QR: parse a payload, or make one for a sale and draw it.
    Qr(cli::qr::Args),
    /// Which scheme a customer's payment code belongs to, or why it is not one.
    Paycode(cli::paycode::Args),
    /// The EMV contact kernel against a recorded card (`emv replay FILE`).
    Emv(cli::emv::Args),
}

fn main() -> ExitCode {
    // The core logs through `log`; RUST_LOG=info (or debug) shows it on stderr. Log lines name
    // transactions by attempt id, never by card data.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .format_target(false)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go out as clap prints them; a usage error is one line on stderr and
        // exit 2, like every other error (scripts read the first line).
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            // One line, as every other error, but a whole one: clap lists what is missing (or
            // what was wrong) on indented lines after its first, which scripts never saw.
            let text = e.to_string();
            let mut lines = text.lines();
            let mut line = lines
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .to_string();
            let details: Vec<&str> = lines
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            if !details.is_empty() {
                if !line.ends_with(':') {
                    line.push(':');
                }
                line = format!("{line} {}", details.join(", "));
            }
            eprintln!("smartpos: {line}");
            return ExitCode::from(2);
        }
    };
    // `println!` panics when stdout's reader has gone (`smartpos demo | head`): that is the
    // reader's choice, not a failure, so it ends the command quietly instead of with exit 101.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            default_hook(info);
        }
    }));
    let outcome = std::panic::catch_unwind(move || run(cli.command));
    match outcome {
        Ok(code) => code,
        Err(payload) if is_broken_pipe(&*payload) => ExitCode::SUCCESS,
        // A bug, already reported by the default hook: exit 2 like every other error, never 101.
        Err(_) => ExitCode::from(2),
    }
}

fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.contains("Broken pipe")
}

fn run(command: Command) -> ExitCode {
    let result = match command {
        Command::Demo(args) => cli::demo::run(args),
        Command::Sim(args) => cli::sim::run(args),
        Command::Decode(args) => cli::decode::run(args),
        Command::Tlv(args) => cli::tlv::run(args),
        Command::Crypto(args) => cli::crypto::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Settle(args) => cli::settle::run(args),
        Command::Pay(args) => cli::pay::run(args),
        Command::Journal(args) => cli::journal::run(args),
        Command::Recover(args) => cli::recover::run(args),
        Command::Reversal(args) => cli::reversal::run(args),
        Command::Health(args) => cli::health::run(args),
        Command::Report(args) => cli::report::run(args),
        Command::Risk(args) => cli::risk::run(args),
        Command::Qr(args) => cli::qr::run(args),
        Command::Paycode(args) => cli::paycode::run(args),
        Command::Emv(args) => cli::emv::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartpos: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
