//! The transaction as the kernel sees it, and the terminal data objects it provides.

use serde::{Deserialize, Serialize};

use super::data::{TagStore, to_bcd};
use super::params::{AidParams, TerminalParams};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionData {
    pub amount_fen: u64,
    pub other_amount_fen: u64,
    /// 9C (ISO 8583 processing code, first two digits as one BCD byte): 00 goods/services,
    /// 01 cash, 09 cashback, 31 balance inquiry.
    pub transaction_type: u8,
    /// 9A, YYMMDD in BCD.
    pub date: [u8; 3],
    /// 9F21, HHMMSS in BCD.
    pub time: [u8; 3],
    /// 9F37, used for the whole transaction.
    pub unpredictable_number: [u8; 4],
    /// 9F41.
    pub sequence_counter: u32,
    /// Sets TVR "merchant forced transaction online".
    pub merchant_forced_online: bool,
}

impl TransactionData {
    pub fn is_cash(&self) -> bool {
        matches!(self.transaction_type, 0x01 | 0x17)
    }

    pub fn is_cashback(&self) -> bool {
        self.transaction_type == 0x09
    }
}

/// Writes the terminal's data objects for DOLs and field 55.
pub fn put_terminal_data(
    store: &mut TagStore,
    t: &TerminalParams,
    aid: &AidParams,
    txn: &TransactionData,
) {
    let amount = u32::try_from(txn.amount_fen).unwrap_or(u32::MAX);
    let other = u32::try_from(txn.other_amount_fen).unwrap_or(u32::MAX);
    let floor = u32::try_from(aid.floor_limit_fen).unwrap_or(u32::MAX);
    store.set_terminal(0x9F02, to_bcd(txn.amount_fen, 6));
    store.set_terminal(0x9F03, to_bcd(txn.other_amount_fen, 6));
    store.set_terminal(0x81, amount.to_be_bytes());
    store.set_terminal(0x9F04, other.to_be_bytes());
    store.set_terminal(0x5F2A, t.currency_code);
    store.set_terminal(0x5F36, [t.currency_exponent]);
    store.set_terminal(0x9F1A, t.country_code);
    store.set_terminal(0x9A, txn.date);
    store.set_terminal(0x9F21, txn.time);
    store.set_terminal(0x9C, [txn.transaction_type]);
    store.set_terminal(0x9F37, txn.unpredictable_number);
    store.set_terminal(0x9F35, [t.terminal_type]);
    store.set_terminal(0x9F33, t.capabilities);
    store.set_terminal(0x9F40, t.additional_capabilities);
    store.set_terminal(0x9F1E, t.ifd_serial);
    store.set_terminal(0x9F15, t.merchant_category_code);
    store.set_terminal(0x9F16, t.merchant_id);
    store.set_terminal(0x9F1C, t.terminal_id);
    store.set_terminal(0x9F09, aid.application_version);
    store.set_terminal(0x9F06, aid.aid.clone());
    store.set_terminal(0x9F1B, floor.to_be_bytes());
    store.set_terminal(0x9F41, to_bcd(u64::from(txn.sequence_counter), 4));
    // PBOC 3.0: the terminal supports electronic cash (9F7A = 01) only when asked to; a
    // contact sale is a debit/credit transaction.
    store.set_terminal(0x9F7A, [0x00]);
    store.set_terminal(0xDF69, [0x00]);
}
