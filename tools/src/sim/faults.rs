//! Scriptable faults: each is queued for the next request that matches and is used once.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// What the simulator does instead of (or besides) answering normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Read the request, act on it (the ledger moves when `apply`), never answer; the connection
    /// stays open until the terminal gives up.
    NoResponse { apply: bool },
    /// Act on the request and answer after `delay` (past the terminal's deadline in tests).
    LateResponse { delay: Duration },
    /// Act on the request, then close the connection without answering.
    DropAfterRead,
    /// Answer with bytes that are not a frame of this dialect.
    Garbled,
    /// Act on the request and answer with a MAC computed under the wrong key.
    WrongMac,
    /// Answer every request with this maintenance code (e.g. 90 cutover) without acting on it.
    Maintenance { code: String },
    /// Act on the request and answer with this field changed (and a valid MAC): a response that
    /// does not match its request (another STAN, amount or terminal).
    AlterField { field: u8, value: String },
    /// Answer with this response code without acting on the request.
    Decline { code: String },
    /// Answer a sign-on with these clear working keys (hex; 16 hex digits is single-length DES)
    /// instead of fresh random ones, encrypted under the TMK with their true check values: a
    /// host (or a compromised key system) issuing weak keys.
    IssueKeys { pik_hex: String, mak_hex: String },
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Any,
    /// Requests with this MTI, e.g. "0200".
    Mti(String),
}

impl Matcher {
    pub fn matches(&self, mti: &str) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Mti(m) => m == mti,
        }
    }
}

/// The queue of armed faults.
#[derive(Debug, Default)]
pub struct FaultPlan {
    queue: Mutex<VecDeque<(Matcher, Fault)>>,
}

impl FaultPlan {
    pub fn push(&self, matcher: Matcher, fault: Fault) {
        self.lock().push_back((matcher, fault));
    }

    /// Takes the first armed fault that matches this request's MTI.
    pub fn take_for(&self, mti: &str) -> Option<Fault> {
        let mut q = self.lock();
        let pos = q.iter().position(|(m, _)| m.matches(mti))?;
        q.remove(pos).map(|(_, f)| f)
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Matcher, Fault)>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_used_once_and_only_for_its_mti() {
        let plan = FaultPlan::default();
        plan.push(Matcher::Mti("0200".into()), Fault::Garbled);
        assert_eq!(plan.take_for("0800"), None);
        assert_eq!(plan.take_for("0200"), Some(Fault::Garbled));
        assert_eq!(plan.take_for("0200"), None);
    }
}
