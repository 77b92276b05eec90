//! Named durability points for the crash harness. With the `crash-points` feature (test builds
//! of the CLI only; never in a shipped library) the process aborts — no unwinding, no destructors,
//! as abrupt as SIGKILL — when it reaches the point named in `SMARTPOS_CRASH_AT`. Without the
//! feature every call compiles to nothing.
//!
//! Points: `online.journaled` (request and armed reversal committed, nothing sent),
//! `online.answered` (host answered, outcome not recorded), `online.recorded` (outcome recorded,
//! receipt not printed), `reversal.journaled` (attempt counted, 0400 not sent),
//! `reversal.answered` (host reversed, acknowledgement not recorded), `settlement.answered`
//! (host settled, batch not closed locally).

#[cfg(feature = "crash-points")]
pub fn reached(point: &str) {
    if std::env::var("SMARTPOS_CRASH_AT").is_ok_and(|p| p == point) {
        eprintln!("crash point {point}: aborting");
        std::process::abort();
    }
}

#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn reached(_point: &str) {}
