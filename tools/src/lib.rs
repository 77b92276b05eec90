//! The acquirer simulator and the pieces of the `smartpos` CLI, as a library so that tests and
//! the demo can embed them in-process.

pub mod card_sim;
pub mod cli;
pub mod demo_setup;
pub mod sim;
pub mod terminal_setup;
