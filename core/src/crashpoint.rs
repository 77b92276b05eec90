//! Named durability points for the crash harness. With the `crash-points` feature (test builds
//! of the CLI only; never in a shipped library) the process aborts — no unwinding, no destructors,
//! as abrupt as SIGKILL — when it reaches the point named in `SMARTPOS_CRASH_AT`. Without the
//! feature every call compiles to nothing.
//!
//! Points: `online.journaled` (request and armed reversal committed, nothing sent),
//! `online.answered` (host answered, outcome not recorded), `online.recorded` (outcome recorded,
//! receipt not printed), `reversal.journaled` (attempt counted, 0400 not sent),
//! `reversal.answered` (host reversed, acknowledgement not recorded), `reversal.sign_on` (an
//! answer asked for a new sign-on, not sent yet), `reversal.signed_on` (new keys stored, the
//! reversal not resent), `settlement.answered`
//! (host settled, batch not closed locally), `ic_download.received` (every record of an IC
//! parameter or CA key download checked, the new set not journaled), `ic_download.journaled`
//! (the new set committed, not yet in force in memory), `esign.journaled` (the signature and
//! its upload committed, nothing sent), `esign.segment_answered` (the host took a segment, the
//! progress not journaled), `esign.segment_journaled` (the progress journaled, the next segment
//! not sent), `esign.uploaded` (every segment acknowledged and the upload closed).

/// `SMARTPOS_CRASH_AT` may name a point alone (`online.answered`) or a point of one transaction
/// kind (`online.answered@void`), so a void can be killed rather than the sale before it.
#[cfg(feature = "crash-points")]
pub fn reached(point: &str, kind: &str) {
    let Ok(wanted) = std::env::var("SMARTPOS_CRASH_AT") else {
        return;
    };
    let matches = match wanted.split_once('@') {
        Some((p, k)) => p == point && k == kind,
        None => wanted == point,
    };
    if matches {
        eprintln!("crash point {point}@{kind}: aborting");
        std::process::abort();
    }
}

#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn reached(_point: &str, _kind: &str) {}
