//! A signature that did not come: the payment stands (it was approved and is never undone for
//! this), and the merchant is told to keep a paper slip signed instead, since a slip without a
//! signature is a chargeback the merchant loses.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MissingSignature {
    /// The cardholder refused or cancelled.
    Cancelled,
    /// The pad timed out.
    TimedOut,
    /// The touch screen failed.
    PadFault,
}

impl MissingSignature {
    /// The merchant's notice, in Chinese.
    pub fn merchant_zh(self) -> &'static str {
        match self {
            MissingSignature::Cancelled => {
                "持卡人未签名，交易已成功。请打印纸质签购单，由持卡人签字后留存。"
            }
            MissingSignature::TimedOut => {
                "签名超时，交易已成功。请打印纸质签购单，由持卡人签字后留存。"
            }
            MissingSignature::PadFault => {
                "签名板故障，交易已成功。请打印纸质签购单，由持卡人签字后留存。"
            }
        }
    }

    /// The merchant's notice, in English.
    pub fn merchant_en(self) -> &'static str {
        match self {
            MissingSignature::Cancelled => {
                "The cardholder did not sign; the payment is approved. Print the paper slip, have it signed and keep it."
            }
            MissingSignature::TimedOut => {
                "Signing timed out; the payment is approved. Print the paper slip, have it signed and keep it."
            }
            MissingSignature::PadFault => {
                "The signature pad failed; the payment is approved. Print the paper slip, have it signed and keep it."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_says_the_payment_stands_and_asks_for_paper() {
        for m in [
            MissingSignature::Cancelled,
            MissingSignature::TimedOut,
            MissingSignature::PadFault,
        ] {
            assert!(
                m.merchant_zh().contains("交易已成功") && m.merchant_zh().contains("纸质签购单")
            );
            assert!(m.merchant_en().contains("approved") && m.merchant_en().contains("paper slip"));
        }
    }
}
