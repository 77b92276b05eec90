//! One module per `smartpos` subcommand; each owns its arguments and its `run`.

pub mod crypto;
pub mod decode;
pub mod demo;
pub mod explain;
pub mod health;
pub mod journal;
pub mod pay;
pub mod paycode;
pub mod qr;
pub mod recover;
pub mod report;
pub mod risk;
pub mod settle;
pub mod sim;
pub mod tlv;

use std::fmt;

/// A CLI failure: one line on stderr naming what is wrong, exit code 2.
#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

impl CliError {
    pub fn new(msg: impl Into<String>) -> Self {
        CliError(msg.into())
    }
}

pub type CliResult = Result<(), CliError>;
