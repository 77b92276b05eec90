//! Domain values the journal stores. Each enum has a stable text form: it is what the database
//! holds, so renaming a variant must never change `as_str`.

use std::fmt;

use zeroize::Zeroizing;

use super::StoreError;

/// Highest value of the 6-digit counters (STAN, batch number); both wrap to 1, never to 0.
const COUNTER_MAX: u32 = 999_999;

fn counter_in_range(what: &'static str, value: u32) -> Result<u32, StoreError> {
    if (1..=COUNTER_MAX).contains(&value) {
        Ok(value)
    } else {
        Err(StoreError::InvalidInput {
            what,
            detail: format!("{value} is outside 1..=999999"),
        })
    }
}

/// System trace audit number (ISO 8583 field 11): 000001..999999, wrapping to 000001.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stan(u32);

impl Stan {
    /// The first STAN of a new journal.
    pub const FIRST: Stan = Stan(1);

    pub fn new(value: u32) -> Result<Stan, StoreError> {
        counter_in_range("STAN", value).map(Stan)
    }
    pub fn value(self) -> u32 {
        self.0
    }
    /// The STAN after this one; 999999 is followed by 000001 (0 is never a valid STAN).
    pub fn next(self) -> Stan {
        if self.0 >= COUNTER_MAX {
            Stan(1)
        } else {
            Stan(self.0 + 1)
        }
    }
}

impl fmt::Display for Stan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

/// Settlement batch number (field 60.2 in the UnionPay dialect): 000001..999999, wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchNo(u32);

impl BatchNo {
    pub fn new(value: u32) -> Result<BatchNo, StoreError> {
        counter_in_range("batch number", value).map(BatchNo)
    }
    pub fn value(self) -> u32 {
        self.0
    }
    pub fn next(self) -> BatchNo {
        if self.0 >= COUNTER_MAX {
            BatchNo(1)
        } else {
            BatchNo(self.0 + 1)
        }
    }
}

impl fmt::Display for BatchNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

/// Bytes the store keeps but must not show: sealed PANs (AES-GCM blobs made by the caller),
/// field 55 chip data, sealed keys. Zeroed on drop; `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueBlob(Zeroizing<Vec<u8>>);

impl OpaqueBlob {
    pub fn new(bytes: Vec<u8>) -> OpaqueBlob {
        OpaqueBlob(Zeroizing::new(bytes))
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for OpaqueBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[redacted; {} bytes]", self.0.len())
    }
}

/// Declares a closed set of text-coded values with a lossless round-trip to the database.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $column:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub(crate) fn parse(text: &str) -> Result<$name, StoreError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::InvalidValue { column: $column, value: other.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a journaled message does.
    TxnKind, "transactions.kind" {
        Sale => "sale",
        Void => "void",
        Refund => "refund",
        Balance => "balance",
        PreAuth => "preauth",
        PreAuthVoid => "preauth_void",
        Completion => "completion",
        CompletionVoid => "completion_void",
        /// A chip sale approved offline by the card (Y1/Y3), uploaded later as an advice.
        OfflineSale => "offline_sale",
        SignOn => "sign_on",
    }
);

impl TxnKind {
    /// Kinds that cancel the transaction named by `original_id` when approved.
    pub fn cancels_original(self) -> bool {
        matches!(
            self,
            TxnKind::Void | TxnKind::PreAuthVoid | TxnKind::CompletionVoid
        )
    }
}

text_enum!(
    /// Where a journaled transaction stands.
    TxnState, "transactions.state" {
        /// Written before the request leaves; a crash here means "outcome unknown, reverse".
        Sending => "sending",
        Approved => "approved",
        Declined => "declined",
        /// Certainly never reached the host (connect failed): nothing to undo.
        NotSent => "not_sent",
        /// May have reached the host and no usable answer came: its reversal is pending.
        Unknown => "unknown",
        /// Its reversal was acknowledged by the host.
        Reversed => "reversed",
        /// A later approved void (or pre-auth/completion void) cancelled it.
        Voided => "voided",
    }
);

text_enum!(
    /// Reversal reason code sent in the reversal message (field 39 of the 0400).
    ReversalReason, "reversals.reason" {
        /// '98': no response from the host (timeout, connection lost after sending).
        NoResponse => "98",
        /// '96': the card declined after the host approved (second GENERATE AC).
        CardDeclined => "96",
        /// 'A0': the response failed MAC verification.
        MacFailure => "A0",
        /// '06': any other terminal-side error after the request was sent.
        TerminalError => "06",
    }
);

text_enum!(
    /// Life of a reversal row: `armed` before the request is sent, `pending` once the outcome
    /// says it is needed, `sent` while a 0400 is in flight, then `cleared` or `failed`.
    ReversalState, "reversals.state" {
        Armed => "armed",
        Pending => "pending",
        Sent => "sent",
        Cleared => "cleared",
        /// Parked after its attempts: listed, blocking settlement, retried on later passes.
        Failed => "failed",
        /// A parked reversal the operator settled with the acquirer by other means.
        Released => "released",
    }
);

text_enum!(
    /// How the card data was captured (mirrors field 22's first digits, as a name).
    EntryMode, "transactions.entry_mode" {
        Manual => "manual",
        Magstripe => "magstripe",
        /// A chip card swiped after its chip failed on this terminal.
        Fallback => "fallback",
        Chip => "chip",
        Contactless => "contactless",
        Qr => "qr",
        None => "none",
    }
);
