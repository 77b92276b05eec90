//! The `smartpos` command tree and its dispatch, in the library so tests can walk every
//! command's flags (each must carry help text).

use clap::{Parser, Subcommand};

use super::CliResult;

/// SmartPOS core tools: demo, acquirer simulator, decoders and a crypto calculator.
///
/// Exit codes: 0 done as asked; 1 the operation ran and did not succeed (a payment terminated,
/// settlement not done, health failing, something still owed after recover) or the journal is
/// busy; 2 bad input. With --json an error is also one JSON document on stdout.
#[derive(Debug, Parser)]
#[command(
    name = "smartpos",
    version,
    about,
    long_about,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// A scripted business day against an embedded acquirer simulator.
    Demo(super::demo::Args),
    /// Run the acquirer simulator as a TCP server.
    Sim(super::sim::Args),
    /// Decode a UnionPay ISO 8583 message given in hex (argument, file or stdin).
    Decode(super::decode::Args),
    /// Decode BER-TLV (EMV field 55) given in hex.
    Tlv(super::tlv::Args),
    /// Payment crypto calculator: KCV, MACs, PIN blocks, DUKPT.
    #[command(arg_required_else_help = true)]
    Crypto(super::crypto::Args),
    /// What a response code or termination code means and what to do next.
    Explain(super::explain::Args),
    /// Settle the open batch of a journal against a running simulator or acquirer.
    Settle(super::settle::Args),
    /// Run N card sales against an acquirer on one journal (load and soak testing).
    Pay(super::pay::Args),
    /// List a journal's transactions and its net approved amount.
    Journal(super::journal::Args),
    /// Resolve what a killed process left: in-flight requests, reversals, advices.
    Recover(super::recover::Args),
    /// Reversals still owed or parked for the operator; release a parked one.
    #[command(arg_required_else_help = true)]
    Reversal(super::reversal::Args),
    /// Self-check: host, network, devices, keys, clock, storage, journal, queues, batch.
    Health(super::health::Args),
    /// Termination statistics: today and 7 days, by cause and code, approval rate, latency.
    Report(super::report::Args),
    /// Risk rule bundles (export, sign, verify) and a pre-check on a given context.
    #[command(arg_required_else_help = true)]
    Risk(super::risk::Args),
    /// EMVCo merchant-presented QR: parse a payload, or make one for a sale and draw it.
    #[command(arg_required_else_help = true)]
    Qr(super::qr::Args),
    /// Which scheme a customer's payment code belongs to, or why it is not one.
    Paycode(super::paycode::Args),
    /// The EMV contact kernel against a recorded card (`emv replay FILE`).
    #[command(arg_required_else_help = true)]
    Emv(super::emv::Args),
    /// IC parameters and CA public keys: download them from the acquirer, show those in force.
    #[command(arg_required_else_help = true)]
    ChipConfig(super::chip_config::Args),
    /// Electronic signatures (电签): render strokes to the JBIG or PNG image.
    #[command(arg_required_else_help = true)]
    Esign(super::esign::Args),
    /// The e-slip (电子签购单) of a journaled transaction: text, JSON, the signature as PNG.
    Slip(super::slip::Args),
}

/// Runs one command.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Demo(args) => super::demo::run(args),
        Command::Sim(args) => super::sim::run(args),
        Command::Decode(args) => super::decode::run(args),
        Command::Tlv(args) => super::tlv::run(args),
        Command::Crypto(args) => super::crypto::run(args),
        Command::Explain(args) => super::explain::run(args),
        Command::Settle(args) => super::settle::run(args),
        Command::Pay(args) => super::pay::run(args),
        Command::Journal(args) => super::journal::run(args),
        Command::Recover(args) => super::recover::run(args),
        Command::Reversal(args) => super::reversal::run(args),
        Command::Health(args) => super::health::run(args),
        Command::Report(args) => super::report::run(args),
        Command::Risk(args) => super::risk::run(args),
        Command::Qr(args) => super::qr::run(args),
        Command::Paycode(args) => super::paycode::run(args),
        Command::Emv(args) => super::emv::run(args),
        Command::ChipConfig(args) => super::chip_config::run(args),
        Command::Esign(args) => super::esign::run(args),
        Command::Slip(args) => super::slip::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every flag and positional of every (sub)command, with the path that reaches it, that has
    /// no help text.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path} --{id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            if sub.get_about().is_none() {
                out.push(format!("{path} {} (no about)", sub.get_name()));
            }
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_flag_of_every_command_has_help_text() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        undocumented(&cmd, "smartpos", &mut missing);
        assert!(missing.is_empty(), "flags without help: {missing:#?}");
    }
}
