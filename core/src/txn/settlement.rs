//! Settlement (0500) and, when the host's totals disagree, batch upload (0320) before the batch
//! is closed. A reversal that never got through blocks settlement: the totals would be wrong.

use crate::codec::iso8583::Message;
use crate::codec::iso8583::cups::{Field48Totals, SideTotals};
use crate::diag::Termination;
use crate::host::CancelToken;
use crate::store::{AdvicePurpose, TransactionRecord};
use crate::txn::endings;
use crate::txn::fields::{self, CURRENCY_CNY};
use crate::txn::kind::TxnKind;
use crate::txn::online::demands_sign_on;
use crate::txn::terminal::Terminal;

const NET_SETTLEMENT: &str = "201";
const NET_BATCH_UPLOAD: &str = "201";
const NET_BATCH_UPLOAD_END: &str = "202";
/// Lines per 0320: 2-digit count + 8 × 20 digits stays inside field 48's 322 digits.
const LINES_PER_UPLOAD: usize = 8;

/// What a settlement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementReport {
    pub batch_no: u32,
    pub debit_count: u64,
    pub debit_fen: u64,
    pub credit_count: u64,
    pub credit_fen: u64,
    /// The host's totals agreed with the terminal's on the first try.
    pub balanced: bool,
    /// When not balanced: each total where the host's answer differs from the terminal's (empty
    /// when the host echoed the terminal's totals and gave none of its own).
    pub differences: Vec<TotalsDifference>,
    /// Transactions sent in batch upload (0 when balanced).
    pub uploaded: usize,
    /// The batch now open.
    pub next_batch_no: u32,
    /// STANs of signed slips whose e-signature upload was given up: the merchant keeps these
    /// slips on paper, signed.
    pub paper_slips: Vec<u32>,
}

/// One settlement total on which terminal and host disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalsDifference {
    /// `debit_count`, `debit_fen`, `credit_count` or `credit_fen`.
    pub total: &'static str,
    pub terminal: u64,
    pub host: u64,
}

fn differences(ours: &SideTotals, host: &SideTotals) -> Vec<TotalsDifference> {
    [
        ("debit_count", ours.debit_count, host.debit_count),
        ("debit_fen", ours.debit_amount, host.debit_amount),
        ("credit_count", ours.credit_count, host.credit_count),
        ("credit_fen", ours.credit_amount, host.credit_amount),
    ]
    .into_iter()
    .filter(|(_, t, h)| t != h)
    .map(|(total, terminal, host)| TotalsDifference {
        total,
        terminal,
        host,
    })
    .collect()
}

impl Terminal {
    pub fn settle(&self) -> Result<SettlementReport, Termination> {
        let result = self.settle_batch();
        self.tally_ending("settlement", result.as_ref().err());
        result
    }

    fn settle_batch(&self) -> Result<SettlementReport, Termination> {
        let _one = self.exclusive();
        self.ready_for_online()?;
        let owed = self.owed_reversals().map_err(|e| self.storage_fault(&e))?;
        if !owed.is_empty() {
            return Err(endings::reversal_blocks_settlement(&owed));
        }
        // The acquirer collects an offline sale only from its upload, and UnionPay wants every
        // chip approval's TC: the batch is not closed before the host has them.
        self.forward_advices_locked();
        let waiting = self
            .uploads_owed_for_settlement()
            .map_err(|e| self.storage_fault(&e))?;
        if !waiting.is_empty() {
            return Err(endings::uploads_block_settlement(&waiting));
        }
        let paper_slips = match self
            .esign_settlement_gate()
            .map_err(|e| self.storage_fault(&e))?
        {
            crate::esign::SettlementGate::UploadFirst(stans) => {
                return Err(endings::esign_blocks_settlement(&stans));
            }
            crate::esign::SettlementGate::PaperCopies(stans) => stans,
            _ => Vec::new(),
        };
        let (batch_no, totals) = {
            let journal = self.journal();
            let batch = journal.batch_no().map_err(|e| self.storage_fault(&e))?;
            let totals = journal
                .batch_totals(batch)
                .map_err(|e| self.storage_fault(&e))?;
            (batch.value(), totals)
        };
        let ours = Field48Totals {
            domestic: SideTotals {
                debit_count: totals.debit_count,
                debit_amount: totals.debit_fen,
                credit_count: totals.credit_count,
                credit_amount: totals.credit_fen,
                reconciliation: '0',
            },
            foreign: SideTotals::zero(),
        };
        let response = self.settlement_exchange(batch_no, &ours)?;
        let answer = response
            .field_text(48)
            .and_then(|d| Field48Totals::parse(&d).ok())
            .ok_or_else(|| endings::from_response("30"))?;
        crate::crashpoint::reached("settlement.answered", "settlement");
        let balanced = answer.domestic.reconciliation == '1';
        let mut uploaded = 0;
        let mut differ = Vec::new();
        if !balanced {
            differ = differences(&ours.domestic, &answer.domestic);
            log::warn!(
                "terminal {}: batch {batch_no:06} unbalanced: {}",
                self.config.terminal_id,
                differ
                    .iter()
                    .map(|d| format!("{} terminal {} host {}", d.total, d.terminal, d.host))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            uploaded = self.batch_upload(batch_no)?;
        }
        let next_batch_no = self
            .journal()
            .advance_batch()
            .map_err(|e| self.storage_fault(&e))?
            .value();
        self.note_settlement(batch_no);
        log::info!(
            "terminal {}: batch {batch_no:06} settled ({}), next {next_batch_no:06}",
            self.config.terminal_id,
            if balanced { "balanced" } else { "after upload" }
        );
        Ok(SettlementReport {
            batch_no,
            debit_count: totals.debit_count,
            debit_fen: totals.debit_fen,
            credit_count: totals.credit_count,
            credit_fen: totals.credit_fen,
            balanced,
            differences: differ,
            uploaded,
            next_batch_no,
            paper_slips,
        })
    }

    /// The 0500. An answer asking for a new sign-on (A0, 77, 99), or one that fails its MAC,
    /// means the keys are out of step: sign on and send it once more, as a new message.
    fn settlement_exchange(
        &self,
        batch_no: u32,
        ours: &Field48Totals,
    ) -> Result<Message, Termination> {
        let mut resigned = false;
        loop {
            let mut m = self.batch_message("0500", NET_SETTLEMENT, batch_no)?;
            m.set_digits(48, &ours.to_digits());
            m.set_text(49, CURRENCY_CNY);
            let keys_out_of_step = match self.exchange(m, true, &CancelToken::new()) {
                Ok(response) => match response.field_text(39).as_deref() {
                    Some("00") => return Ok(response),
                    Some(code) if demands_sign_on(code) => endings::from_response(code),
                    Some(code) => return Err(endings::from_response(code)),
                    None => return Err(endings::from_response("30")),
                },
                Err(e) if e.is_unauthenticated() => endings::from_exchange(&e),
                Err(e) => return Err(endings::from_exchange(&e)),
            };
            if resigned || !self.config.auto_sign_on {
                return Err(keys_out_of_step);
            }
            resigned = true;
            self.sign_on_locked()?;
        }
    }

    /// STANs of the transactions whose advice (offline sale, unanswered refund) or TC upload is
    /// still pending (expired ones are the operator's list and do not hold the batch).
    fn uploads_owed_for_settlement(&self) -> Result<Vec<u32>, crate::store::StoreError> {
        let journal = self.journal();
        let mut stans = Vec::new();
        for advice in journal.pending_advices()? {
            let Some(record) = journal.transaction(advice.transaction_id)? else {
                continue;
            };
            // An advice is an offline sale the host collects only from it, or a refund whose
            // answer was lost: the host may have credited it while the terminal's totals, which
            // count approved records only, leave it out.
            let blocks = matches!(
                advice.purpose,
                AdvicePurpose::TcUpload | AdvicePurpose::Advice
            );
            if blocks && !stans.contains(&record.stan.value()) {
                stans.push(record.stan.value());
            }
        }
        Ok(stans)
    }

    fn batch_upload(&self, batch_no: u32) -> Result<usize, Termination> {
        let batch = crate::store::BatchNo::new(batch_no).map_err(|e| self.storage_fault(&e))?;
        let lines = self
            .journal()
            .batch_records(batch)
            .map_err(|e| self.storage_fault(&e))?;
        for chunk in lines.chunks(LINES_PER_UPLOAD) {
            let mut m = self.batch_message("0320", NET_BATCH_UPLOAD, batch_no)?;
            m.set_digits(48, &upload_digits(chunk));
            self.send_batch_message(m)?;
        }
        let mut end = self.batch_message("0320", NET_BATCH_UPLOAD_END, batch_no)?;
        end.set_digits(48, &format!("{:04}", lines.len()));
        self.send_batch_message(end)?;
        Ok(lines.len())
    }

    fn batch_message(
        &self,
        mti: &str,
        net_code: &str,
        batch_no: u32,
    ) -> Result<Message, Termination> {
        let stan = self
            .journal()
            .next_stan_standalone()
            .map_err(|e| self.storage_fault(&e))?;
        Ok(fields::management_message(
            mti,
            stan.value(),
            &self.config.terminal_id,
            &self.config.merchant_id,
            batch_no,
            net_code,
            &self.config.operator,
        ))
    }

    fn send_batch_message(&self, m: Message) -> Result<Message, Termination> {
        let response = self
            .exchange(m, true, &CancelToken::new())
            .map_err(|e| endings::from_exchange(&e))?;
        match response.field_text(39).as_deref() {
            Some("00") => Ok(response),
            Some(code) => Err(endings::from_response(code)),
            None => Err(endings::from_response("30")),
        }
    }
}

/// Field 48 of a batch-upload 0320: line count n2, then per line 60.1 type code n2, STAN n6,
/// amount n12. (UnionPay's full layout also carries the PAN; this acquirer reconciles by STAN.)
pub fn upload_digits(lines: &[TransactionRecord]) -> String {
    let mut s = format!("{:02}", lines.len());
    for l in lines {
        let type_code = TxnKind::from_journal(l.kind).map_or("00", |k| k.spec().type_code);
        s.push_str(&format!(
            "{type_code}{:06}{:012}",
            l.stan.value(),
            l.amount_fen
        ));
    }
    s
}
