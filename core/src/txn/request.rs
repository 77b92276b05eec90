//! What the shell asks for. Every payment request carries the caller's attempt id: the
//! idempotency key that makes a retried call return the recorded outcome instead of charging again.

/// Points at an earlier transaction of this terminal, as a merchant would: by its voucher number
/// (the STAN printed on the receipt) in the current batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Original {
    pub stan: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRequest {
    pub attempt_id: String,
    pub amount_fen: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoidRequest {
    pub attempt_id: String,
    pub original: Original,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub attempt_id: String,
    pub amount_fen: u64,
    pub original: Original,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRequest {
    pub attempt_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreAuthRequest {
    pub attempt_id: String,
    pub amount_fen: u64,
}

/// Pre-authorisation void, completion and completion void all name their original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRequest {
    pub attempt_id: String,
    pub original: Original,
    /// The amount to complete; ignored by voids, which always use the original amount.
    pub amount_fen: u64,
}
