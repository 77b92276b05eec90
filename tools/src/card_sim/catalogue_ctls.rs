//! The contactless cards of the catalogue (names in [`super::catalogue::NAMES`] too):
//!
//! | name | scheme / kernel | what it is for |
//! |---|---|---|
//! | `quickpass-debit` | UnionPay debit, qPBOC (kernel 7) | fDDA, EC balance RMB 500: approves offline within the floor limit and the balance |
//! | `quickpass-credit` | UnionPay credit, qPBOC | online only (ARQC every tap) |
//! | `quickpass-phone` | UnionPay debit on a phone, qPBOC | over the CVM limit answers "see phone" (6986), then CDCVM on the next tap |
//! | `visa-qvsdc` | Visa, qVSDC (kernel 3) | fDDA, CTQ "signature required", offline spending amount 9F5D |
//! | `mastercard-contactless` | Mastercard, M/Chip (kernel 2) | CDA on GENERATE AC, always online |
//!
//! Keys and certificates are the contact cards' (same issuer families, same test CA).

use super::contactless::{Contactless, CtlsMode};
use super::dol;
use super::keys::AC_TERMINAL_TAGS;
use super::oda::OdaKind;
use super::personalise::{CardSpec, CvmPolicy, Scheme};
use super::profile::{Application, Behaviour, IadFormat};

pub const CONTACTLESS_NAMES: &[&str] = &[
    "quickpass-debit",
    "quickpass-credit",
    "quickpass-phone",
    "visa-qvsdc",
    "mastercard-contactless",
];

pub fn is_contactless(name: &str) -> bool {
    CONTACTLESS_NAMES.contains(&name)
}

/// The qPBOC / qVSDC PDOL: TTQ, then the data the cryptogram covers (JR/T 0025.12 Table 7):
/// the terminal tags the card's AC is computed over, as one table.
fn quick_pdol() -> Vec<u8> {
    let mut pairs: Vec<(u32, u8)> = vec![(0x9F66, 4)];
    // Every length in the table is at most 6 bytes.
    pairs.extend(AC_TERMINAL_TAGS.iter().map(|&(tag, len)| (tag, len as u8)));
    dol::build(&pairs)
}

fn spec(scheme: Scheme, pan: &'static str, aip: [u8; 2], offline: bool) -> CardSpec {
    CardSpec {
        scheme,
        pan,
        psn: 0x01,
        expiry: "301231",
        aip,
        cvm: CvmPolicy::OnlinePin,
        pin: None,
        pin_try_limit: 3,
        behaviour: Behaviour {
            approve_offline: offline,
            ..Behaviour::default()
        },
        iad: IadFormat::Pboc {
            cvn: 0x01,
            algorithm: 0x01,
        },
        ec_balance_fen: 50_000,
        oda: Some(OdaKind::Dynamic),
    }
}

const AIP_DDA: [u8; 2] = [0x7C, 0x00];
/// C-2: CVM, terminal risk management, CDA; byte 2 bit 8 EMV mode.
const AIP_MCHIP_CDA: [u8; 2] = [0x19, 0x80];

pub(super) fn specs(name: &str) -> Option<CardSpec> {
    Some(match name {
        "quickpass-debit" => spec(Scheme::UnionPayDebit, "6222020000000338", AIP_DDA, true),
        "quickpass-credit" => spec(Scheme::UnionPayCredit, "6222020000000346", AIP_DDA, false),
        "quickpass-phone" => spec(Scheme::UnionPayDebit, "6222020000000353", AIP_DDA, false),
        "visa-qvsdc" => CardSpec {
            cvm: CvmPolicy::Signature,
            iad: IadFormat::Visa { cvn: 0x0A },
            ..spec(Scheme::Visa, "4761730000000029", AIP_DDA, true)
        },
        "mastercard-contactless" => CardSpec {
            cvm: CvmPolicy::Signature,
            iad: IadFormat::Visa { cvn: 0x0A },
            ec_balance_fen: 0,
            ..spec(Scheme::Mastercard, "5413330000000027", AIP_MCHIP_CDA, false)
        },
        _ => return None,
    })
}

/// The contactless personalisation on top of the application the spec made.
pub(super) fn apply(name: &str, app: &mut Application) {
    let quick = |kernel_id, ctq, phone| Contactless {
        kernel_id,
        mode: CtlsMode::Quick,
        ctq,
        phone,
        holder_verified: false,
    };
    let c = match name {
        "quickpass-debit" | "quickpass-credit" => quick(0x07, None, false),
        "quickpass-phone" => quick(0x07, None, true),
        "visa-qvsdc" => quick(0x03, Some([0x40, 0x00]), false),
        "mastercard-contactless" => Contactless {
            kernel_id: 0x02,
            mode: CtlsMode::MChip,
            ctq: None,
            phone: false,
            holder_verified: false,
        },
        _ => return,
    };
    if c.mode == CtlsMode::Quick {
        app.pdol = quick_pdol();
    }
    app.contactless = Some(c);
}
