//! Processing restrictions (EMV 4.4 Book 3 §10.4): application version, application usage
//! control, effective and expiration dates. Each sets TVR bits; none stops the transaction.

use super::bits::{Tvr, TvrBit};
use super::data::{TagStore, bcd_u64};
use super::params::TerminalParams;
use super::txn_data::TransactionData;

/// YYMMDD as a comparable number with the century of Book 3 §5 (YY 00–49 → 20YY).
fn full_date(v: &[u8]) -> Option<u64> {
    if v.len() != 3 {
        return None;
    }
    let n = bcd_u64(v)?;
    let yy = n / 10_000;
    Some(if yy < 50 { 20_000_000 } else { 19_000_000 } + n)
}

pub fn processing_restrictions(
    store: &TagStore,
    terminal: &TerminalParams,
    txn: &TransactionData,
    tvr: &mut Tvr,
) {
    // §10.4.1: the card's version against the terminal's for this AID.
    if let (Some(card), Some(term)) = (store.card(0x9F08), store.get(0x9F09))
        && card != term
    {
        tvr.set(TvrBit::DifferentApplicationVersions);
    }
    if let Some(auc) = store.card(0x9F07)
        && !usage_allowed(auc, store, terminal, txn)
    {
        tvr.set(TvrBit::ServiceNotAllowed);
    }
    // §10.4.3.
    let today = full_date(&txn.date);
    if let (Some(today), Some(eff)) = (today, store.card(0x5F25).and_then(full_date))
        && eff > today
    {
        tvr.set(TvrBit::ApplicationNotYetEffective);
    }
    if let (Some(today), Some(exp)) = (today, store.card(0x5F24).and_then(full_date))
        && exp < today
    {
        tvr.set(TvrBit::ExpiredApplication);
    }
}

/// §10.4.2: ATM / non-ATM, then domestic or international use for the transaction type. The
/// issuer country is 5F28, or 9F57 on PBOC cards.
fn usage_allowed(auc: &[u8], store: &TagStore, t: &TerminalParams, txn: &TransactionData) -> bool {
    let b1 = auc.first().copied().unwrap_or(0);
    let b2 = auc.get(1).copied().unwrap_or(0);
    let atm_ok = if t.is_atm() {
        b1 & 0x02 != 0
    } else {
        b1 & 0x01 != 0
    };
    if !atm_ok {
        return false;
    }
    let Some(country) = store.card(0x5F28).or_else(|| store.card(0x9F57)) else {
        return true;
    };
    let domestic = country == t.country_code;
    let pick = |dom: u8, intl: u8, byte: u8| byte & if domestic { dom } else { intl } != 0;
    if txn.is_cash() {
        return pick(0x80, 0x40, b1);
    }
    if txn.transaction_type == 0x00 || txn.is_cashback() {
        let goods = t.additional_capabilities[0] & 0x40 != 0;
        let services = t.additional_capabilities[0] & 0x20 != 0;
        let ok = (goods && pick(0x20, 0x10, b1))
            || (services && pick(0x08, 0x04, b1))
            || (!goods && !services);
        if !ok {
            return false;
        }
        if txn.is_cashback() {
            return pick(0x80, 0x40, b2);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(tt: u8) -> TransactionData {
        TransactionData {
            amount_fen: 100,
            other_amount_fen: 0,
            transaction_type: tt,
            date: [0x26, 0x12, 0x04],
            time: [0; 3],
            unpredictable_number: [0; 4],
            sequence_counter: 1,
            merchant_forced_online: false,
        }
    }

    /// One row per Book 3 §10.4 case: card tags, transaction type, the TVR expected.
    #[test]
    fn table() {
        type Case = (&'static [(u32, &'static str)], u8, [u8; 5]);
        let cases: &[Case] = &[
            (&[], 0x00, [0; 5]),
            (&[(0x9F08, "0030")], 0x00, [0; 5]),
            (&[(0x9F08, "0020")], 0x00, [0, 0x80, 0, 0, 0]),
            (&[(0x5F24, "261203")], 0x00, [0, 0x40, 0, 0, 0]),
            (&[(0x5F24, "261204")], 0x00, [0; 5]),
            (&[(0x5F25, "261205")], 0x00, [0, 0x20, 0, 0, 0]),
            (&[(0x5F25, "991231")], 0x00, [0; 5]),
            // AUC domestic goods only, domestic card: fine; international card: refused.
            (&[(0x9F07, "2100"), (0x5F28, "0156")], 0x00, [0; 5]),
            (
                &[(0x9F07, "2100"), (0x5F28, "0840")],
                0x00,
                [0, 0x10, 0, 0, 0],
            ),
            (
                &[(0x9F07, "2100"), (0x9F57, "0840")],
                0x00,
                [0, 0x10, 0, 0, 0],
            ),
            // Not valid at terminals other than ATMs.
            (&[(0x9F07, "FE00")], 0x00, [0, 0x10, 0, 0, 0]),
            // Cash needs the cash bits; cashback needs byte 2.
            (
                &[(0x9F07, "2100"), (0x5F28, "0156")],
                0x01,
                [0, 0x10, 0, 0, 0],
            ),
            (&[(0x9F07, "A100"), (0x5F28, "0156")], 0x01, [0; 5]),
            (
                &[(0x9F07, "2900"), (0x5F28, "0156")],
                0x09,
                [0, 0x10, 0, 0, 0],
            ),
            (&[(0x9F07, "2980"), (0x5F28, "0156")], 0x09, [0; 5]),
        ];
        let t = TerminalParams::unionpay_attended();
        for (tags, tt, want) in cases {
            let mut store = TagStore::default();
            store.set_terminal(0x9F09, [0x00, 0x30]);
            for (tag, v) in *tags {
                store.set_card(*tag, &hex::decode(v).unwrap());
            }
            let mut tvr = Tvr::default();
            processing_restrictions(&store, &t, &txn(*tt), &mut tvr);
            assert_eq!(tvr.0, *want, "{tags:?} type {tt:02X}");
        }
    }
}
