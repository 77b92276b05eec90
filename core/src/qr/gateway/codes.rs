//! Gateway result codes as one table: what each means for the order, and the termination that
//! explains it when it ends the payment. Codes follow the aggregator convention (WeChat Pay
//! micropay style); an unknown code is never taken as a decline, because that could leave a
//! charge unreversed: it means "outcome unknown, query".

use crate::diag::TerminationCode as T;

/// What a gateway answer says about the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The operation succeeded (for micropay: paid).
    Success,
    /// The customer is confirming in the wallet (password, limit check): poll.
    UserPaying,
    /// The gateway could not conclude; the order may or may not exist: query.
    Unknown(T),
    /// No order with this out_trade_no.
    OrderNotExist,
    /// Micropay repeated for an order that is already paid: query for the details.
    OrderPaid,
    /// A definite refusal; nothing was charged by this request.
    Declined(T),
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayCodeInfo {
    pub code: &'static str,
    pub verdict: Verdict,
    pub meaning_en: &'static str,
}

const fn row(code: &'static str, verdict: Verdict, meaning_en: &'static str) -> GatewayCodeInfo {
    GatewayCodeInfo {
        code,
        verdict,
        meaning_en,
    }
}

use Verdict::*;

#[rustfmt::skip]
pub const GATEWAY_CODES: &[GatewayCodeInfo] = &[
    row("SUCCESS", Success, "operation succeeded"),
    row("USERPAYING", UserPaying, "customer is confirming the payment"),
    row("SYSTEMERROR", Unknown(T::NetQrGatewayError), "gateway system error; outcome unknown"),
    row("BANKERROR", Unknown(T::NetQrGatewayError), "bank system error; outcome unknown"),
    row("ORDERNOTEXIST", OrderNotExist, "no such order"),
    row("ORDERPAID", OrderPaid, "order already paid"),
    row("ORDERCLOSED", Declined(T::OpQrOrderClosed), "order already closed"),
    row("ORDERREVERSED", Declined(T::OpQrOrderClosed), "order already cancelled"),
    row("AUTHCODE_INVALID", Declined(T::AccQrCodeInvalid), "payment code invalid"),
    row("AUTHCODE_EXPIRE", Declined(T::AccQrCodeInvalid), "payment code expired"),
    row("NOTENOUGH", Declined(T::AccQrInsufficient), "insufficient balance"),
    row("NOTSUPORTCARD", Declined(T::AccQrDeclined), "funding card not supported"),
    row("BUYER_MISMATCH", Declined(T::AccQrDeclined), "payer differs from the first attempt"),
    row("TRADE_ERROR", Declined(T::AccQrDeclined), "wallet refused the payment"),
    row("USER_CANCELLED", Declined(T::OpQrUserCancelled), "customer cancelled in the wallet"),
    row("SIGN_ERROR", Declined(T::SwQrRequestRejected), "request signature rejected"),
    row("PARAM_ERROR", Declined(T::SwQrRequestRejected), "request parameters rejected"),
    row("MCH_NOT_EXISTS", Declined(T::SwQrRequestRejected), "merchant id unknown"),
    row("REFUND_NOT_ALLOWED", Declined(T::OpQrRefundRefused), "refund refused"),
];

/// The verdict for a result code; unknown codes are [`Verdict::Unknown`] (query, never assume).
pub fn verdict(code: &str) -> Verdict {
    GATEWAY_CODES
        .iter()
        .find(|row| row.code == code)
        .map(|row| row.verdict)
        .unwrap_or(Unknown(T::NetQrGatewayError))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Termination;

    #[test]
    fn codes_are_unique_and_declines_are_explained() {
        for (i, row) in GATEWAY_CODES.iter().enumerate() {
            assert!(
                GATEWAY_CODES[i + 1..].iter().all(|r| r.code != row.code),
                "{} twice",
                row.code
            );
            if let Declined(code) | Unknown(code) = row.verdict {
                let t = Termination::new(code);
                assert!(!t.remedies.is_empty(), "{}", row.code);
                assert!(!t.merchant_zh.is_empty() && !t.merchant_en.is_empty());
            }
        }
    }

    #[test]
    fn unknown_code_means_query_not_decline() {
        assert_eq!(verdict("SOMETHING_NEW"), Unknown(T::NetQrGatewayError));
        assert_eq!(verdict("USERPAYING"), UserPaying);
        assert_eq!(verdict("NOTENOUGH"), Declined(T::AccQrInsufficient));
        assert_eq!(
            Termination::new(T::AccQrCodeInvalid).cause,
            crate::diag::Cause::Account
        );
    }
}
