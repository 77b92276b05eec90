//! The transaction family as data: one row per kind, with the ISO 8583 elements that identify it
//! on the UnionPay POS interface (MTI, processing code, 60.1 type code, 25 condition code) and the
//! rules the engine applies to it (reversal, money effect, original transaction).
//!
//! Source for the identifying elements: 中国银联 POS 终端消息域说明 (2002), §1 table
//! "交易类型 / 处理码 / 服务点条件码 / 消息类型 / 交易类型码 / 是否引发冲正".

use serde::{Deserialize, Serialize};

use crate::store::TxnKind as JournalKind;

/// What a transaction kind does to the cardholder's account, as the acquirer books it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoneyEffect {
    /// Moves no money (balance inquiry, network management).
    None,
    /// Charges the card (sale, pre-authorisation completion).
    Debit,
    /// Credits the card (refund).
    Credit,
    /// Holds funds without settling them (pre-authorisation).
    Hold,
    /// Releases a hold (pre-authorisation void).
    Release,
    /// Undoes an earlier debit of this batch (sale void, completion void).
    UndoDebit,
}

/// Every card transaction kind the terminal runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TxnKind {
    Balance,
    Sale,
    Void,
    Refund,
    PreAuth,
    PreAuthVoid,
    Completion,
    CompletionVoid,
    /// A chip sale the card approved offline (Y1/Y3), uploaded afterwards as an advice.
    OfflineSale,
}

/// The row of the table for one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    pub kind: TxnKind,
    /// Stable name used in the journal and in JSON.
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub mti: &'static str,
    pub processing_code: &'static str,
    /// Field 25, point-of-service condition code.
    pub condition_code: &'static str,
    /// Field 60.1, the UnionPay message type code.
    pub type_code: &'static str,
    /// An unanswered request of this kind is undone by a 0400 reversal. Refund (0220) is not
    /// reversible on this interface: it is an advice that the host de-duplicates by STAN, so an
    /// unanswered one is re-sent unchanged instead.
    pub reversible: bool,
    pub effect: MoneyEffect,
    /// The kind that must be named as the original (field 61) for this one, if any.
    pub original: Option<TxnKind>,
    /// How the journal records it.
    pub journal: JournalKind,
}

/// The table. Order follows the specification's table.
pub static KINDS: &[KindSpec] = &[
    KindSpec {
        kind: TxnKind::Balance,
        name: "balance",
        zh: "余额查询",
        en: "Balance inquiry",
        mti: "0200",
        processing_code: "310000",
        condition_code: "00",
        type_code: "01",
        reversible: false,
        effect: MoneyEffect::None,
        original: None,
        journal: JournalKind::Balance,
    },
    KindSpec {
        kind: TxnKind::PreAuth,
        name: "pre_auth",
        zh: "预授权",
        en: "Pre-authorisation",
        mti: "0100",
        processing_code: "030000",
        condition_code: "06",
        type_code: "10",
        reversible: true,
        effect: MoneyEffect::Hold,
        original: None,
        journal: JournalKind::PreAuth,
    },
    KindSpec {
        kind: TxnKind::PreAuthVoid,
        name: "pre_auth_void",
        zh: "预授权撤销",
        en: "Pre-authorisation void",
        mti: "0100",
        processing_code: "200000",
        condition_code: "06",
        type_code: "11",
        reversible: true,
        effect: MoneyEffect::Release,
        original: Some(TxnKind::PreAuth),
        journal: JournalKind::PreAuthVoid,
    },
    KindSpec {
        kind: TxnKind::Completion,
        name: "completion",
        zh: "预授权完成",
        en: "Pre-authorisation completion",
        mti: "0200",
        processing_code: "000000",
        condition_code: "06",
        type_code: "20",
        reversible: true,
        effect: MoneyEffect::Debit,
        original: Some(TxnKind::PreAuth),
        journal: JournalKind::Completion,
    },
    KindSpec {
        kind: TxnKind::CompletionVoid,
        name: "completion_void",
        zh: "预授权完成撤销",
        en: "Completion void",
        mti: "0200",
        processing_code: "200000",
        condition_code: "06",
        type_code: "21",
        reversible: true,
        effect: MoneyEffect::UndoDebit,
        original: Some(TxnKind::Completion),
        journal: JournalKind::CompletionVoid,
    },
    KindSpec {
        kind: TxnKind::Sale,
        name: "sale",
        zh: "消费",
        en: "Sale",
        mti: "0200",
        processing_code: "000000",
        condition_code: "00",
        type_code: "22",
        reversible: true,
        effect: MoneyEffect::Debit,
        original: None,
        journal: JournalKind::Sale,
    },
    KindSpec {
        kind: TxnKind::Void,
        name: "void",
        zh: "消费撤销",
        en: "Sale void",
        mti: "0200",
        processing_code: "200000",
        condition_code: "00",
        type_code: "23",
        reversible: true,
        effect: MoneyEffect::UndoDebit,
        original: Some(TxnKind::Sale),
        journal: JournalKind::Void,
    },
    KindSpec {
        kind: TxnKind::Refund,
        name: "refund",
        zh: "退货",
        en: "Refund",
        mti: "0220",
        processing_code: "200000",
        condition_code: "00",
        type_code: "25",
        reversible: false,
        effect: MoneyEffect::Credit,
        original: Some(TxnKind::Sale),
        journal: JournalKind::Refund,
    },
    // IC卡脱机消费: the card approved offline (TC); the terminal uploads it as an advice with
    // 60.1 = 36 (the type code UnionPay gives the offline IC sale and EC purchase) before
    // settlement. Some acquirers take the first upload as a 0200; this one, like the refund,
    // treats it as an advice de-duplicated by STAN, re-sent as 0221.
    KindSpec {
        kind: TxnKind::OfflineSale,
        name: "offline_sale",
        zh: "脱机消费",
        en: "Offline chip sale",
        mti: "0220",
        processing_code: "000000",
        condition_code: "00",
        type_code: "36",
        reversible: false,
        effect: MoneyEffect::Debit,
        original: None,
        journal: JournalKind::OfflineSale,
    },
];

impl TxnKind {
    /// The table row of this kind.
    pub fn spec(self) -> &'static KindSpec {
        // Every variant has exactly one row; the test below proves it, so the fallback row is
        // unreachable in practice and only keeps this function total.
        KINDS.iter().find(|s| s.kind == self).unwrap_or(&KINDS[0])
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The kind of a journal record (None for messages that are not card transactions).
    pub fn from_journal(kind: JournalKind) -> Option<TxnKind> {
        KINDS.iter().find(|s| s.journal == kind).map(|s| s.kind)
    }

    /// Looks a kind up by its journal name.
    pub fn from_name(name: &str) -> Option<TxnKind> {
        KINDS.iter().find(|s| s.name == name).map(|s| s.kind)
    }

    /// Identifies a request by its MTI, processing code and 60.1 type code, as a host does.
    pub fn identify(mti: &str, processing_code: &str, type_code: &str) -> Option<TxnKind> {
        KINDS
            .iter()
            .find(|s| {
                s.mti == mti && s.processing_code == processing_code && s.type_code == type_code
            })
            .map(|s| s.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [TxnKind; 9] = [
        TxnKind::Balance,
        TxnKind::Sale,
        TxnKind::Void,
        TxnKind::Refund,
        TxnKind::PreAuth,
        TxnKind::PreAuthVoid,
        TxnKind::Completion,
        TxnKind::CompletionVoid,
        TxnKind::OfflineSale,
    ];

    #[test]
    fn every_kind_has_exactly_one_row() {
        for k in ALL {
            assert_eq!(KINDS.iter().filter(|s| s.kind == k).count(), 1, "{k:?}");
            assert_eq!(k.spec().kind, k);
            assert_eq!(TxnKind::from_name(k.name()), Some(k));
            assert_eq!(TxnKind::from_journal(k.spec().journal), Some(k));
        }
        assert_eq!(KINDS.len(), ALL.len());
    }

    #[test]
    fn identifying_elements_are_unique() {
        for s in KINDS {
            assert_eq!(
                TxnKind::identify(s.mti, s.processing_code, s.type_code),
                Some(s.kind)
            );
        }
    }

    #[test]
    fn sale_void_and_refund_match_the_specification() {
        let sale = TxnKind::Sale.spec();
        assert_eq!(
            (sale.mti, sale.processing_code, sale.type_code),
            ("0200", "000000", "22")
        );
        let void = TxnKind::Void.spec();
        assert_eq!(
            (void.mti, void.processing_code, void.type_code),
            ("0200", "200000", "23")
        );
        let refund = TxnKind::Refund.spec();
        assert_eq!(
            (refund.mti, refund.type_code, refund.reversible),
            ("0220", "25", false)
        );
        let pre = TxnKind::PreAuth.spec();
        assert_eq!(
            (pre.mti, pre.processing_code, pre.condition_code),
            ("0100", "030000", "06")
        );
    }
}
