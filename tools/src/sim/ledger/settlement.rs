//! Settlement per terminal batch, batch upload, batch close.

use super::model::{Settlement, Totals, UploadLine, UploadReport};
use super::{Kind, Ledger, Status};

impl Ledger {
    /// Host totals for a terminal's batch: debits are approved sales and completions still
    /// standing (not voided or reversed); credits are approved refunds still standing.
    pub fn batch_totals(&self, terminal_id: &str, batch_no: u32) -> Totals {
        let mut totals = Totals::default();
        for r in self.records.iter().filter(|r| {
            r.key.terminal_id == terminal_id
                && r.key.batch_no == batch_no
                && r.status == Status::Approved
        }) {
            match r.kind {
                Kind::Sale | Kind::Completion | Kind::OfflineSale => {
                    totals.debit_count += 1;
                    totals.debit_fen += r.amount_fen;
                }
                Kind::Refund => {
                    totals.credit_count += 1;
                    totals.credit_fen += r.amount_fen;
                }
                _ => {}
            }
        }
        totals
    }

    /// Compares the terminal's totals with the host's: balanced when all four agree.
    pub fn settle(&self, terminal_id: &str, batch_no: u32, terminal: &Totals) -> Settlement {
        let host = self.batch_totals(terminal_id, batch_no);
        Settlement {
            host,
            balanced: host == *terminal,
        }
    }

    /// Accepts the terminal's transaction lines after an unbalanced settlement and reports
    /// which ones the host cannot match (no standing debit/credit with that STAN and amount).
    pub fn batch_upload(
        &self,
        terminal_id: &str,
        batch_no: u32,
        lines: &[UploadLine],
    ) -> UploadReport {
        let mut report = UploadReport::default();
        for line in lines {
            report.accepted += 1;
            let matched = self.records.iter().any(|r| {
                r.key.terminal_id == terminal_id
                    && r.key.batch_no == batch_no
                    && r.key.stan == line.stan
                    && r.amount_fen == line.amount_fen
                    && r.status == Status::Approved
                    && matches!(
                        r.kind,
                        Kind::Sale | Kind::Completion | Kind::OfflineSale | Kind::Refund
                    )
            });
            if !matched {
                report.mismatched.push(line.stan);
            }
        }
        report
    }

    /// Records that the terminal closed this batch. Returns false if it already was.
    pub fn close_batch(&mut self, terminal_id: &str, batch_no: u32) -> bool {
        let entry = (terminal_id.to_owned(), batch_no);
        if self.closed_batches.contains(&entry) {
            return false;
        }
        self.closed_batches.push(entry);
        true
    }

    pub fn is_batch_closed(&self, terminal_id: &str, batch_no: u32) -> bool {
        self.closed_batches
            .iter()
            .any(|(t, b)| t == terminal_id && *b == batch_no)
    }
}
