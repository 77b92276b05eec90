use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind as ClapErrorKind;
use smartpos_tools::cli::app::{self, Cli};
use smartpos_tools::cli::{ErrorKind, error_json};

fn main() -> ExitCode {
    // The core logs through `log`; RUST_LOG=info (or debug) shows it on stderr. Log lines name
    // transactions by attempt id, never by card data.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .format_target(false)
        .init();
    // Decided from the raw arguments so that a usage error, which has no parsed flags, still
    // answers in the form the caller asked for.
    let json = std::env::args_os().skip(1).any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `smartpos` or a group such as `smartpos crypto` alone: the group's help, on stdout,
        // and exit 2 (no command was given, which is bad input).
        Err(e) if e.kind() == ClapErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            print!("{}", e.render());
            return ExitCode::from(2);
        }
        // Help and version go out as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let line = usage_error_line(&e);
            eprintln!("smartpos: {line}");
            if json {
                println!("{}", error_json(ErrorKind::BadInput.code(), 2, &line));
            }
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
    let outcome = std::panic::catch_unwind(move || app::run(cli.command));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("smartpos: {e}");
            // A command that printed its report already said how it ended there.
            if json && !e.is_reported() {
                println!("{}", e.to_json());
            }
            ExitCode::from(e.exit_code())
        }
        Err(payload) if is_broken_pipe(&*payload) => ExitCode::SUCCESS,
        // A bug, already reported by the default hook: exit 2 like every other error, never 101.
        Err(_) => ExitCode::from(2),
    }
}

/// One line, as every other error, but a whole one: clap lists what is missing (or what was
/// wrong) on indented lines after its first, which scripts never saw.
fn usage_error_line(e: &clap::Error) -> String {
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
    line
}

fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.contains("Broken pipe")
}
