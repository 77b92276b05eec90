//! Acquirer simulator: a UnionPay-style host with a real ledger.
