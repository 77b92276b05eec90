//! EMVCo consumer-presented QR payloads (EMV QRCPS Consumer-Presented Mode v1.0/v1.1): base64
//! text of BER-TLV data objects — the Payload Format Indicator '85' ("CPV01") first, then one or
//! more Application Templates '61' (each may hold an Application Specific Transparent Template
//! '63'), then an optional Common Data Template '62' (which may hold a Common Data Transparent
//! Template '64'), per the specification's data-object tables.
//!
//! PAN (5A), track 2 equivalent data (57) and cardholder name (5F20) are card data: held in
//! zeroizing types, masked or redacted in `Debug`, reachable only through `expose_*`/[`Pan`].

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::card::{CardError, Pan, Track2};
use crate::codec::tlv::{self, Tlv, TlvError, TlvValue};

/// The only payload format the specification defines.
pub const FORMAT_INDICATOR: &[u8] = b"CPV01";

const TAG_FORMAT: u32 = 0x85;
const TAG_APPLICATION: u32 = 0x61;
const TAG_COMMON: u32 = 0x62;
const TAG_APP_TRANSPARENT: u32 = 0x63;
const TAG_COMMON_TRANSPARENT: u32 = 0x64;

/// Standard alphabet; wallets differ on padding, and padding carries no information.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CpmError {
    #[error("not base64: {reason}")]
    Base64 { reason: String },
    #[error("the payload is empty")]
    Empty,
    #[error("BER-TLV: {0}")]
    Tlv(#[from] TlvError),
    #[error("the first data object must be 85 (payload format indicator), found tag {found:X}")]
    NoFormatIndicator { found: u32 },
    #[error("payload format indicator is {found:?}, not \"CPV01\"")]
    FormatIndicator { found: String },
    #[error("no application template (61)")]
    NoApplicationTemplate,
    #[error("tag {tag:X} (data object {index}) is not allowed at the top level")]
    UnexpectedTag { tag: u32, index: usize },
    #[error("tag {tag:X} must be a constructed template")]
    NotTemplate { tag: u32 },
    #[error("the common data template (62) appears twice")]
    CommonTwice,
    #[error("tag {tag:X} in template {template:X}: {source}")]
    CardData {
        template: u32,
        tag: u32,
        source: CardError,
    },
}

/// One application template (61) or the common data template (62).
#[derive(Clone, Default)]
pub struct CpmTemplate {
    /// 4F: the application identifier (ADF name).
    pub aid: Option<Vec<u8>>,
    /// 50: the application label, shown to the cardholder.
    pub label: Option<String>,
    pan: Option<Pan>,
    track2: Option<Track2>,
    cardholder_name: Option<Zeroizing<String>>,
    /// Every other primitive data object in order (5F24, 5F34, 5F2D, 9F26, 9F36 …), raw.
    pub data: Vec<Tlv>,
    /// The transparent template (63 in an application template, 64 in the common data
    /// template): data for the issuer, passed on untouched.
    pub transparent: Vec<Tlv>,
}

impl CpmTemplate {
    /// 5A, the application PAN.
    pub fn pan(&self) -> Option<&Pan> {
        self.pan.as_ref()
    }

    /// 57, track 2 equivalent data.
    pub fn track2(&self) -> Option<&Track2> {
        self.track2.as_ref()
    }

    /// 5F20, the cardholder name; card data, never for logs or receipts.
    pub fn expose_cardholder_name(&self) -> Option<&str> {
        self.cardholder_name.as_deref().map(String::as_str)
    }

    /// The first data object with `tag` among [`Self::data`] and [`Self::transparent`].
    pub fn find(&self, tag: u32) -> Option<&Tlv> {
        tlv::find(&self.data, tag).or_else(|| tlv::find(&self.transparent, tag))
    }
}

impl fmt::Debug for CpmTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CpmTemplate")
            .field("aid", &self.aid.as_deref().map(hex::encode_upper))
            .field("label", &self.label)
            .field("pan", &self.pan.as_ref().map(Pan::masked))
            .field("track2", &self.track2.as_ref().map(|_| "[redacted]"))
            .field(
                "cardholder_name",
                &self.cardholder_name.as_ref().map(|_| "[redacted]"),
            )
            .field("data", &self.data)
            .field("transparent", &self.transparent)
            .finish()
    }
}

/// A decoded consumer-presented payload.
#[derive(Debug, Clone)]
pub struct CpmPayload {
    /// The application templates (61) in payload order; at least one.
    pub applications: Vec<CpmTemplate>,
    /// The common data template (62), when present.
    pub common: Option<CpmTemplate>,
}

impl CpmPayload {
    /// The PAN to pay with: the first application's, else the common data's.
    pub fn pan(&self) -> Option<&Pan> {
        self.applications
            .iter()
            .chain(self.common.as_ref())
            .find_map(CpmTemplate::pan)
    }
}

/// Decodes the base64 text a scanner reads.
pub fn decode_base64(text: &str) -> Result<CpmPayload, CpmError> {
    let bytes = Zeroizing::new(BASE64.decode(text.trim()).map_err(|e| CpmError::Base64 {
        reason: e.to_string(),
    })?);
    decode(&bytes)
}

/// Decodes the BER-TLV bytes of a payload.
pub fn decode(bytes: &[u8]) -> Result<CpmPayload, CpmError> {
    let objects = tlv::parse(bytes)?;
    let first = objects.first().ok_or(CpmError::Empty)?;
    if first.tag != TAG_FORMAT {
        return Err(CpmError::NoFormatIndicator { found: first.tag });
    }
    let format = first.bytes().unwrap_or_default();
    if format != FORMAT_INDICATOR {
        return Err(CpmError::FormatIndicator {
            found: String::from_utf8_lossy(format).into_owned(),
        });
    }
    let mut applications = Vec::new();
    let mut common = None;
    for (index, o) in objects.iter().enumerate().skip(1) {
        match o.tag {
            TAG_APPLICATION => applications.push(template(o, TAG_APP_TRANSPARENT)?),
            TAG_COMMON if common.is_some() => return Err(CpmError::CommonTwice),
            TAG_COMMON => common = Some(template(o, TAG_COMMON_TRANSPARENT)?),
            tag => return Err(CpmError::UnexpectedTag { tag, index }),
        }
    }
    if applications.is_empty() {
        return Err(CpmError::NoApplicationTemplate);
    }
    Ok(CpmPayload {
        applications,
        common,
    })
}

fn template(o: &Tlv, transparent_tag: u32) -> Result<CpmTemplate, CpmError> {
    let TlvValue::Constructed(children) = &o.value else {
        return Err(CpmError::NotTemplate { tag: o.tag });
    };
    let card_error = |tag: u32| {
        move |source: CardError| CpmError::CardData {
            template: o.tag,
            tag,
            source,
        }
    };
    let mut t = CpmTemplate::default();
    for child in children {
        match (&child.value, child.tag) {
            (TlvValue::Constructed(inner), tag) if tag == transparent_tag => {
                t.transparent.extend(inner.iter().cloned());
            }
            (TlvValue::Primitive(v), 0x4F) => t.aid = Some(v.clone()),
            (TlvValue::Primitive(v), 0x50) => t.label = Some(String::from_utf8_lossy(v).into()),
            (TlvValue::Primitive(v), 0x5A) => {
                t.pan = Some(pan_from_bcd(v).map_err(card_error(0x5A))?);
            }
            (TlvValue::Primitive(v), 0x57) => {
                t.track2 = Some(Track2::from_nibbles(v).map_err(card_error(0x57))?);
            }
            (TlvValue::Primitive(v), 0x5F20) => {
                t.cardholder_name = Some(Zeroizing::new(String::from_utf8_lossy(v).into_owned()));
            }
            _ => t.data.push(child.clone()),
        }
    }
    Ok(t)
}

/// 5A is compressed numeric: BCD digits padded with trailing F nibbles.
fn pan_from_bcd(v: &[u8]) -> Result<Pan, CardError> {
    let text = Zeroizing::new(hex::encode_upper(v));
    Pan::parse(text.trim_end_matches('F'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// EMV QRCPS Consumer-Presented Mode v1.0, the specification's example of a payload with two
    /// application templates and a common data template; the same base64 is produced and decoded
    /// by mvallim/emv-qrcode (ConsumerPresentedModeDecoderTest) and dongri/emv-qrcode.
    const SPEC_EXAMPLE: &str = "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0Mm\
        JJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==";

    #[test]
    fn specification_example_decodes() {
        let p = decode_base64(SPEC_EXAMPLE).unwrap();
        assert_eq!(p.applications.len(), 2);
        assert_eq!(
            p.applications[0].aid.as_deref(),
            Some(&hex::decode("A0000000555555").unwrap()[..])
        );
        assert_eq!(p.applications[0].label.as_deref(), Some("Product1"));
        assert_eq!(p.applications[1].label.as_deref(), Some("Product2"));
        let common = p.common.as_ref().unwrap();
        assert_eq!(common.pan().unwrap().expose_digits(), "1234567890123458");
        assert_eq!(common.expose_cardholder_name(), Some("CARDHOLDER/EMV"));
        // 5F2D language preference stays raw; 64 is the transparent template with 9F26 etc.
        assert_eq!(common.find(0x5F2D).unwrap().bytes(), Some(&b"ruesdeen"[..]));
        assert_eq!(
            common
                .find(0x9F26)
                .unwrap()
                .bytes()
                .map(hex::encode_upper)
                .as_deref(),
            Some("584FD385FA234BCC")
        );
        assert_eq!(common.transparent.len(), 4);
        assert_eq!(p.pan().unwrap().last4(), "3458");
    }

    #[test]
    fn debug_never_shows_card_data() {
        let p = decode_base64(SPEC_EXAMPLE).unwrap();
        let shown = format!("{p:?}");
        assert!(!shown.contains("1234567890123458"), "{shown}");
        assert!(!shown.contains("CARDHOLDER"), "{shown}");
        assert!(shown.contains("123456******3458"), "{shown}");
    }

    fn encode(objects: &[Tlv]) -> Vec<u8> {
        tlv::encode(objects)
    }

    #[test]
    fn track2_psn_and_application_transparent_template() {
        // Track 2 equivalent 6212345678901234D251220112345 with an F pad, as EMV 4.3 Book 3 Annex A
        // describes tag 57 (PAN, separator D, YYMM, service code, discretionary data).
        let bytes = encode(&[
            Tlv::primitive(0x85, b"CPV01".to_vec()),
            Tlv::constructed(
                0x61,
                vec![
                    Tlv::primitive(0x4F, hex::decode("A000000333010101").unwrap()),
                    Tlv::primitive(0x57, hex::decode("6212345678901234D251220112345F").unwrap()),
                    Tlv::primitive(0x5F34, vec![0x01]),
                    Tlv::constructed(0x63, vec![Tlv::primitive(0x9F26, vec![0xAB; 8])]),
                ],
            ),
        ]);
        let p = decode(&bytes).unwrap();
        let app = &p.applications[0];
        let t2 = app.track2().unwrap();
        assert_eq!(t2.pan().expose_digits(), "6212345678901234");
        assert_eq!(app.find(0x5F34).unwrap().bytes(), Some(&[0x01][..]));
        assert_eq!(app.transparent[0].tag, 0x9F26);
        assert!(p.common.is_none());
    }

    #[test]
    fn malformed_payloads_say_why() {
        assert!(matches!(decode_base64("!!!"), Err(CpmError::Base64 { .. })));
        assert_eq!(decode(&[]).err(), Some(CpmError::Empty));
        let no_85 = encode(&[Tlv::constructed(0x61, vec![])]);
        assert_eq!(
            decode(&no_85).err(),
            Some(CpmError::NoFormatIndicator { found: 0x61 })
        );
        let v2 = encode(&[Tlv::primitive(0x85, b"CPV02".to_vec())]);
        assert_eq!(
            decode(&v2).err(),
            Some(CpmError::FormatIndicator {
                found: "CPV02".into()
            })
        );
        let no_app = encode(&[Tlv::primitive(0x85, b"CPV01".to_vec())]);
        assert_eq!(decode(&no_app).err(), Some(CpmError::NoApplicationTemplate));
        let stray = encode(&[
            Tlv::primitive(0x85, b"CPV01".to_vec()),
            Tlv::primitive(0x5A, vec![0x12]),
        ]);
        assert_eq!(
            decode(&stray).err(),
            Some(CpmError::UnexpectedTag {
                tag: 0x5A,
                index: 1
            })
        );
        let bad_pan = encode(&[
            Tlv::primitive(0x85, b"CPV01".to_vec()),
            Tlv::constructed(0x61, vec![Tlv::primitive(0x5A, vec![0x12, 0x34])]),
        ]);
        let e = decode(&bad_pan).unwrap_err();
        assert!(
            matches!(
                e,
                CpmError::CardData {
                    template: 0x61,
                    tag: 0x5A,
                    ..
                }
            ),
            "{e}"
        );
        // Truncated TLV reports the codec's offset.
        assert!(matches!(decode(&[0x85, 0x05, b'C']), Err(CpmError::Tlv(_))));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "[A-Za-z0-9+/=]{0,120}") {
            let _ = decode_base64(&text);
        }
    }
}
