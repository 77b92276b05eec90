//! Reversal: undo a message whose answer the terminal may not have received. Applied once per
//! original (terminal + batch + STAN); every repeat gets the first answer back unchanged.

use super::model::{Approval, Decline, Effect, MsgRef, Reply};
use super::{Kind, Ledger, Status};

impl Ledger {
    /// Reverses the message `original` (the terminal's id, batch and STAN of what it sent).
    /// `reversal_stan` is the STAN of the 0400 itself, used on the posting.
    pub fn reverse(&mut self, original: &MsgRef, reversal_stan: u32) -> Reply {
        let Some(index) = self.record(original) else {
            return Reply::Declined(Decline::OriginalNotFound);
        };
        if let Some(reply) = &self.records[index].reversal_reply {
            return Reply::Approved(reply.clone());
        }
        let (rrn, auth_code) = self.issue_ids();
        let approval = Approval {
            rrn: rrn.clone(),
            auth_code,
            balance_fen: None,
        };
        self.records[index].reversal_reply = Some(approval.clone());
        let record = self.records[index].clone();
        let posting_key = MsgRef::new(&original.terminal_id, original.batch_no, reversal_stan);
        let account = record.account_id.clone().unwrap_or_default();
        // Only an approved (or, for pre-auths, still-held) message has anything to undo.
        let undoable = matches!(record.status, Status::Approved);
        if !undoable {
            return Reply::Approved(approval);
        }
        self.records[index].status = Status::Reversed;
        let amount = record.amount_fen;
        match record.kind {
            Kind::Sale | Kind::OfflineSale => {
                self.adjust(&account, i128::from(amount));
                self.post(&posting_key, &account, amount, Effect::Reversal, &rrn);
            }
            Kind::Completion => {
                // The capture comes back; the pre-auth it consumed stays consumed.
                self.adjust(&account, i128::from(amount));
                self.post(&posting_key, &account, amount, Effect::Reversal, &rrn);
            }
            Kind::Refund => {
                self.adjust(&account, -i128::from(amount));
                self.post(&posting_key, &account, amount, Effect::RefundReversal, &rrn);
            }
            Kind::Void | Kind::CompletionVoid => {
                // The cancelled debit stands again, unless its original was itself reversed.
                if self.revive_original(&record.original) {
                    self.adjust(&account, -i128::from(amount));
                    self.post(&posting_key, &account, amount, Effect::VoidReversal, &rrn);
                }
            }
            Kind::PreAuth => {
                let hold = record.hold_fen;
                self.records[index].hold_fen = 0;
                self.adjust(&account, i128::from(hold));
            }
            Kind::PreAuthVoid => {
                // The hold the void released is taken again (not a posting).
                if let Some(pre) = record.original.as_ref().and_then(|k| self.record(k))
                    && self.records[pre].status == Status::Voided
                {
                    let held = self.records[pre].amount_fen;
                    self.records[pre].status = Status::Approved;
                    self.records[pre].hold_fen = held;
                    self.adjust(&account, -i128::from(held));
                }
            }
            Kind::Balance => {}
        }
        Reply::Approved(approval)
    }

    /// Sets a voided original back to approved; false if it is no longer voided.
    fn revive_original(&mut self, original: &Option<MsgRef>) -> bool {
        match original.as_ref().and_then(|k| self.record(k)) {
            Some(index) if self.records[index].status == Status::Voided => {
                self.records[index].status = Status::Approved;
                true
            }
            _ => false,
        }
    }
}
