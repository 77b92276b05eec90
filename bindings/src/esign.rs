//! 电签 through the FFI: the `SignaturePad` foreign trait (the shell's signing screen), its
//! adapter to the core port, fitting it on a terminal with the acquirer's signature rules, and
//! the e-slip of a journaled transaction.

use std::sync::Arc;
use std::time::Duration;

use smartpos_core::card::EntryMode;
use smartpos_core::esign::{self, Point, Strokes};
use smartpos_core::ports::{self, DeviceFault};

use crate::error::{SmartPosError, guard};
use crate::optional_ports::PromptTextRecord;
use crate::outcome::TerminationRecord;
use crate::ports::PortError;
use crate::terminal::Terminal;

/// One pen sample: pad pixels from the top left, milliseconds since the first touch.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct SignaturePointRecord {
    pub x: f64,
    pub y: f64,
    pub t_ms: u64,
}

/// What the pad asks the cardholder for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignatureRequestRecord {
    pub amount_fen: u64,
    pub prompt: PromptTextRecord,
    pub timeout_ms: u64,
}

/// How signing ended. Cancelled and timed out are answers, not errors: the payment stands and
/// the merchant keeps a paper slip.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum SignatureCaptureRecord {
    /// The strokes (each a list of samples) on a pad of `width` x `height` pixels.
    Signed {
        width: u32,
        height: u32,
        strokes: Vec<Vec<SignaturePointRecord>>,
    },
    Cancelled,
    TimedOut,
}

/// The signing screen (a Compose or View canvas collecting strokes with timestamps).
#[uniffi::export(with_foreign)]
pub trait SignaturePad: Send + Sync {
    /// Shows the signing box and blocks until the cardholder confirms, cancels or the timeout.
    fn capture(&self, request: SignatureRequestRecord)
    -> Result<SignatureCaptureRecord, PortError>;
}

/// The acquirer's rules for asking (`esign::SignaturePolicy`, simplified for the shell).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignaturePolicyRecord {
    /// The merchant signs every slip.
    pub sign_every_slip: bool,
    /// The acquirer wants swiped cards signed (a chip card's CVM result decides for itself).
    pub swiped_cards_sign: bool,
    /// The QuickPass no-CVM limit in fen: taps up to it are never signed.
    pub no_cvm_limit_fen: Option<u64>,
    /// The merchant is paperless: a slip signed on the screen is not printed (the e-slip is the
    /// proof); one without an e-signature still prints, for the cardholder to sign.
    #[uniffi(default = false)]
    pub paperless: bool,
    /// Card kinds whose slips the acquirer wants signed, whatever the entry mode (after the
    /// chip's CVM result and "sign every slip"; never a QuickPass tap under the no-CVM limit).
    /// A chip says its kind (UnionPay's AID); a swiped card has a kind only from `card_kind_bins`.
    #[uniffi(default = [])]
    pub signing_card_kinds: Vec<CardKindRecord>,
    /// The acquirer's BIN ranges and their card kinds, first match wins, for cards whose chip
    /// does not say its kind (every swiped card). A malformed range is refused when fitted.
    #[uniffi(default = [])]
    pub card_kind_bins: Vec<BinRangeRecord>,
    /// The acquirer's own rows by entry mode and card kind together, first match wins, read
    /// before `swiped_cards_sign` and `signing_card_kinds` (which are shorthands for such rows).
    /// A row with `signature = false` exempts what it matches from the rows after it.
    #[uniffi(default = [])]
    pub acquirer_rules: Vec<SignatureRuleRecord>,
}

/// One row of the acquirer's signature table: an absent entry mode or card kind matches any.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignatureRuleRecord {
    pub entry_mode: Option<SignatureEntryMode>,
    pub card_kind: Option<CardKindRecord>,
    pub signature: bool,
}

/// How the card was read, as a signature rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SignatureEntryMode {
    Manual,
    Magstripe,
    ContactChip,
    Contactless,
    /// A chip card swiped after its chip failed.
    FallbackMagstripe,
}

impl From<SignatureEntryMode> for EntryMode {
    fn from(m: SignatureEntryMode) -> Self {
        match m {
            SignatureEntryMode::Manual => EntryMode::Manual,
            SignatureEntryMode::Magstripe => EntryMode::Magstripe,
            SignatureEntryMode::ContactChip => EntryMode::ContactChip,
            SignatureEntryMode::Contactless => EntryMode::Contactless,
            SignatureEntryMode::FallbackMagstripe => EntryMode::FallbackMagstripe,
        }
    }
}

/// A card's account kind, as the acquirer's signature rules name it (`esign::CardKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CardKindRecord {
    /// 借记卡
    Debit,
    /// 贷记卡 and 准贷记卡
    Credit,
    /// 纯电子现金: a prepaid purse on the chip.
    ElectronicCash,
}

impl From<CardKindRecord> for esign::CardKind {
    fn from(k: CardKindRecord) -> Self {
        match k {
            CardKindRecord::Debit => esign::CardKind::Debit,
            CardKindRecord::Credit => esign::CardKind::Credit,
            CardKindRecord::ElectronicCash => esign::CardKind::ElectronicCash,
        }
    }
}

/// PANs whose first digits fall in `low..=high` (1 to 8 digits, both the same length) are of
/// `kind`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BinRangeRecord {
    pub low: String,
    pub high: String,
    pub kind: CardKindRecord,
}

/// What became of the signature an approval asked for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SignatureNoteRecord {
    Signed {
        jbig_bytes: u64,
        segments: u32,
        uploaded: bool,
    },
    /// The payment stands; `note` tells the merchant to keep a paper slip signed.
    Missing { note: TerminationRecord },
}

impl From<smartpos_core::txn::SignatureNote> for SignatureNoteRecord {
    fn from(n: smartpos_core::txn::SignatureNote) -> Self {
        match n {
            smartpos_core::txn::SignatureNote::Signed {
                jbig_bytes,
                segments,
                uploaded,
            } => SignatureNoteRecord::Signed {
                jbig_bytes: jbig_bytes as u64,
                segments,
                uploaded,
            },
            smartpos_core::txn::SignatureNote::Missing { note, .. } => {
                SignatureNoteRecord::Missing { note: note.into() }
            }
        }
    }
}

/// The e-slip of a journaled transaction (PAN masked).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ESlipRecord {
    /// The slip as JSON (fields: README, "The e-slip").
    pub json: String,
    /// "signed", "missing" or "not_required".
    pub signature_state: String,
    /// The signature as PNG, when signed, in builds with the `slip-png` feature (the host's);
    /// a release Android library leaves it null: encode `signature_raster` instead.
    pub signature_png: Option<Vec<u8>>,
    /// The signature's pixels, when signed: always there.
    #[uniffi(default = None)]
    pub signature_raster: Option<SignatureRasterRecord>,
    /// For a signed slip: the acquirer acknowledged the upload.
    pub upload_sent: Option<bool>,
}

/// A 1-bit image: `height` rows of `stride` bytes, most significant bit first, 1 for ink, bits
/// past `width` zero (the layout of raw PBM; on Android, set a pixel black where the bit is 1).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignatureRasterRecord {
    pub width: u32,
    pub height: u32,
    pub stride: u32,
    pub bits: Vec<u8>,
}

impl From<&esign::Bitmap> for SignatureRasterRecord {
    fn from(b: &esign::Bitmap) -> Self {
        SignatureRasterRecord {
            width: b.width(),
            height: b.height(),
            stride: u32::try_from(b.stride()).unwrap_or(u32::MAX),
            bits: b.as_bytes().to_vec(),
        }
    }
}

struct PadAdapter(Arc<dyn SignaturePad>);

impl ports::SignaturePad for PadAdapter {
    fn capture(
        &self,
        request: &ports::SignatureRequest,
    ) -> Result<ports::SignatureCapture, DeviceFault> {
        let answer = self
            .0
            .capture(SignatureRequestRecord {
                amount_fen: request.amount_fen,
                prompt: (&request.prompt).into(),
                timeout_ms: u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX),
            })
            .map_err(|e| DeviceFault::Other {
                message: format!("signature pad: {e}"),
            })?;
        Ok(match answer {
            SignatureCaptureRecord::Cancelled => ports::SignatureCapture::Cancelled,
            SignatureCaptureRecord::TimedOut => ports::SignatureCapture::TimedOut,
            SignatureCaptureRecord::Signed {
                width,
                height,
                strokes,
            } => {
                let strokes = strokes
                    .into_iter()
                    .map(|s| {
                        s.into_iter()
                            .map(|p| Point {
                                x: p.x,
                                y: p.y,
                                t_ms: p.t_ms,
                            })
                            .collect()
                    })
                    .collect();
                // Strokes the core cannot draw are the pad's fault: the slip goes on paper.
                ports::SignatureCapture::Signed(Strokes::new(width, height, strokes).map_err(
                    |e| DeviceFault::Other {
                        message: format!("signature pad strokes: {e}"),
                    },
                )?)
            }
        })
    }
}

fn policy(p: &SignaturePolicyRecord) -> Result<esign::SignaturePolicy, SmartPosError> {
    let mut rules: Vec<esign::SignatureRule> = p
        .acquirer_rules
        .iter()
        .map(|r| esign::SignatureRule {
            entry_mode: r.entry_mode.map(Into::into),
            card_kind: r.card_kind.map(Into::into),
            signature: r.signature,
        })
        .collect();
    if p.swiped_cards_sign {
        rules.push(esign::SignatureRule {
            entry_mode: Some(EntryMode::Magstripe),
            card_kind: None,
            signature: true,
        });
    }
    rules.extend(p.signing_card_kinds.iter().map(|&k| esign::SignatureRule {
        entry_mode: None,
        card_kind: Some(k.into()),
        signature: true,
    }));
    let card_kind_bins = p
        .card_kind_bins
        .iter()
        .map(|r| {
            esign::BinRange::new(&r.low, &r.high, r.kind.into()).map_err(|e| {
                SmartPosError::InvalidInput {
                    what: "signature BIN range".into(),
                    detail: e.to_string(),
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(esign::SignaturePolicy {
        rules,
        sign_every_slip: p.sign_every_slip,
        no_cvm_limit_fen: p.no_cvm_limit_fen,
        card_kind_bins,
    })
}

#[uniffi::export]
impl Terminal {
    /// Fits the signing screen: approvals the rules say need a signature ask it from now on,
    /// and the signature is journaled, uploaded and kept for the e-slip. A malformed BIN range
    /// in the rules is refused (`InvalidInput`) and nothing is fitted.
    pub fn fit_signature_pad(
        &self,
        pad: Arc<dyn SignaturePad>,
        rules: SignaturePolicyRecord,
    ) -> Result<(), SmartPosError> {
        guard("Terminal.fit_signature_pad", || {
            let policy = policy(&rules)?;
            self.core()?
                .fit_signature_pad(smartpos_core::txn::SignatureSetup {
                    pad: Arc::new(PadAdapter(pad)),
                    policy,
                    timeout: Duration::from_secs(90),
                    paperless: rules.paperless,
                });
            Ok(())
        })
    }

    /// The e-slip of the transaction journaled with `stan`; null when there is none.
    pub fn e_slip(&self, stan: u32) -> Result<Option<ESlipRecord>, SmartPosError> {
        guard("Terminal.e_slip", || {
            let found = self
                .core()?
                .e_slip(stan)
                .map_err(|e| SmartPosError::Journal {
                    detail: e.to_string(),
                })?;
            let Some(found) = found else {
                return Ok(None);
            };
            let raster = found.jbig.as_ref().and_then(|j| esign::decode_jbig(j).ok());
            #[cfg(feature = "slip-png")]
            let signature_png = raster.as_ref().and_then(|r| esign::to_png(r).ok());
            #[cfg(not(feature = "slip-png"))]
            let signature_png = None;
            let json = found.slip.to_json();
            Ok(Some(ESlipRecord {
                signature_state: json["signature"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                json: json.to_string(),
                signature_png,
                signature_raster: raster.as_ref().map(Into::into),
                upload_sent: found.upload_sent,
            }))
        })
    }

    /// Keeps the cardholder's mobile number for the SMS e-slip of `attempt_id` (11 digits
    /// starting with 1), sealed in the journal; `ESlipRecord.json`'s `phone` shows it masked.
    pub fn set_slip_phone(&self, attempt_id: String, phone: String) -> Result<(), SmartPosError> {
        guard("Terminal.set_slip_phone", || {
            use smartpos_core::txn::SlipPhoneError;
            self.core()?
                .set_slip_phone(&attempt_id, &phone)
                .map_err(|e| match e {
                    SlipPhoneError::NotAMobileNumber => SmartPosError::InvalidInput {
                        what: "slip phone".into(),
                        // The number itself is personal data: never in an error.
                        detail: e.to_string(),
                    },
                    SlipPhoneError::NoSuchTransaction { attempt_id } => {
                        SmartPosError::UnknownAttempt { attempt_id }
                    }
                    other => SmartPosError::Journal {
                        detail: other.to_string(),
                    },
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(bins: Vec<BinRangeRecord>) -> SignaturePolicyRecord {
        SignaturePolicyRecord {
            sign_every_slip: false,
            swiped_cards_sign: true,
            no_cvm_limit_fen: Some(100_000),
            paperless: false,
            signing_card_kinds: vec![CardKindRecord::Credit],
            card_kind_bins: bins,
            acquirer_rules: Vec::new(),
        }
    }

    /// The acquirer's own rows come first, entry mode and card kind together, exemptions kept.
    #[test]
    fn the_acquirers_rows_precede_the_shorthands() {
        let mut r = record(Vec::new());
        r.acquirer_rules = vec![
            SignatureRuleRecord {
                entry_mode: Some(SignatureEntryMode::Contactless),
                card_kind: Some(CardKindRecord::Credit),
                signature: false,
            },
            SignatureRuleRecord {
                entry_mode: Some(SignatureEntryMode::ContactChip),
                card_kind: Some(CardKindRecord::Debit),
                signature: true,
            },
        ];
        let p = policy(&r).expect("valid rules");
        assert_eq!(p.rules.len(), 4, "two rows, swiped cards, credit cards");
        assert_eq!(p.rules[0].entry_mode, Some(EntryMode::Contactless));
        assert_eq!(p.rules[0].card_kind, Some(esign::CardKind::Credit));
        assert!(!p.rules[0].signature);
        assert_eq!(p.rules[1].entry_mode, Some(EntryMode::ContactChip));
        assert_eq!(p.rules[1].card_kind, Some(esign::CardKind::Debit));
        assert_eq!(p.rules[2].entry_mode, Some(EntryMode::Magstripe));
    }

    #[test]
    fn the_shells_rules_become_the_cores_policy() {
        let p = policy(&record(vec![BinRangeRecord {
            low: "622202".into(),
            high: "622299".into(),
            kind: CardKindRecord::Credit,
        }]))
        .expect("valid rules");
        assert_eq!(p.rules.len(), 2, "swiped cards, then credit cards");
        assert_eq!(p.rules[1].card_kind, Some(esign::CardKind::Credit));
        assert_eq!(p.rules[1].entry_mode, None);
        assert_eq!(p.card_kind_bins[0].kind(), esign::CardKind::Credit);
        let bad = policy(&record(vec![BinRangeRecord {
            low: "6222x".into(),
            high: "62229".into(),
            kind: CardKindRecord::Debit,
        }]));
        assert!(
            matches!(bad, Err(SmartPosError::InvalidInput { .. })),
            "{bad:?}"
        );
    }
}
