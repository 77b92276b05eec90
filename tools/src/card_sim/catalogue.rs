//! The named cards tests, the demo and the Kotlin tests use, and the issuer keys behind them.
//!
//! Card numbers are Luhn-valid (ISO/IEC 7812-1 Annex B, checked by a test) in ranges no real
//! cardholder has: the simulator's UnionPay range 62220200 00000xxx next to its magstripe demo
//! cards, 62220201 for the SM card, and Visa's and Mastercard's test BINs 476173 and 541333
//! (the BINs of their acquirer test cards) with an all-zero account range. The issuer master
//! keys below are test keys, published here on purpose; nothing real is ever under them.
//!
//! | name | scheme / AID | what it is for |
//! |---|---|---|
//! | `unionpay-debit-sda` | UnionPay debit A000000333010101 | AIP: SDA |
//! | `unionpay-debit-dda` | UnionPay debit | AIP: DDA (INTERNAL AUTHENTICATE) |
//! | `unionpay-debit-cda` | UnionPay debit | AIP: CDA |
//! | `unionpay-credit` | UnionPay credit A000000333010102 | DDA, online PIN |
//! | `unionpay-dual` | debit + credit on one card | selection: priorities, partial AID, next occurrence |
//! | `pboc-sm` | UnionPay debit, SM4 keys | PBOC 3.0 SM card: SM4 cryptograms (IAD algorithm 04), SM2 certificates, SM2 DDA |
//! | `visa` | Visa A0000000031010 | EMV common session keys, VIS CVN 10 IAD |
//! | `mastercard` | Mastercard A0000000041010 | no PSE (list of AIDs); ARPC in CDOL2 (tag 91) |
//! | `unionpay-blocked` | UnionPay debit | application blocked: SELECT answers 6283 |
//! | `unionpay-gpo-refused` | UnionPay debit | GET PROCESSING OPTIONS answers 6985 |
//! | `unionpay-expired` | UnionPay debit | application expiration date 241231 |
//! | `unionpay-offline-pin` | UnionPay debit | offline PIN 123456 (plaintext, or enciphered under the ICC key), try limit 3 |
//! | `unionpay-declines-second-ac` | UnionPay debit | AAC at the second GENERATE AC |
//! | `unionpay-scripts` | UnionPay debit | takes issuer scripts (APPLICATION BLOCK, PUT DATA) |
//! | `unionpay-offline` | UnionPay debit, DDA | signature CVM: approves offline under the floor limit |
//!
//! The contactless cards (`quickpass-debit`, `quickpass-credit`, `quickpass-phone`,
//! `visa-qvsdc`, `mastercard-contactless`) are described in `catalogue_ctls.rs`; they answer the
//! PPSE and are tapped, not inserted.
//!
//! ODA: every card carries RSA certificates under the simulator's test CA (index F9 under its
//! scheme's RID, [`super::test_ca_keys`]): issuer certificate and signed static data for the SDA
//! cards, an ICC key and certificate as well for the DDA/CDA ones (AIP 7C00/7D00); the SM card
//! carries SM2 certificates under the SM2 test CA (index E9, `card::oda::issuer_pki::Sm2TestPki`).
//!
//! Every card approves offline (TC) when asked for a TC within its lower consecutive offline
//! limit (3), except the credit, Visa and Mastercard cards, which always go online.

use smartpos_core::crypto::{KeyAlgorithm, SecretKey, SessionKeyDerivation};

use super::keys::IssuerMasterKeys;
use super::oda::OdaKind;
use super::personalise::{self, CardSpec, CatalogueError, CvmPolicy, Scheme};
use super::profile::{Behaviour, CardProfile, IadFormat};

/// Every card's name, in the order of the table above.
pub const NAMES: &[&str] = &[
    "unionpay-debit-sda",
    "unionpay-debit-dda",
    "unionpay-debit-cda",
    "unionpay-credit",
    "unionpay-dual",
    "pboc-sm",
    "visa",
    "mastercard",
    "unionpay-blocked",
    "unionpay-gpo-refused",
    "unionpay-expired",
    "unionpay-offline-pin",
    "unionpay-declines-second-ac",
    "unionpay-scripts",
    "unionpay-offline",
    "quickpass-debit",
    "quickpass-credit",
    "quickpass-phone",
    "visa-qvsdc",
    "mastercard-contactless",
];

/// The cards personalised to take issuer scripts: the simulated issuer sends each a PUT DATA
/// of its EC balance with every online answer unless told otherwise.
pub const SCRIPT_CARDS: &[&str] = &["unionpay-scripts"];

/// The reference PIN of the offline-PIN card, and the online PIN of every card's ledger account.
pub const TEST_PIN: &str = "123456";

/// A card family: the BIN range (8 digits) its issuer master keys cover.
#[derive(Debug)]
pub struct IssuerFamily {
    pub bin8: &'static str,
    pub keys: IssuerMasterKeys,
}

/// (BIN range, algorithm, IMK-AC, IMK-SMI, IMK-SMC, session key derivation).
const FAMILIES: &[(&str, KeyAlgorithm, &str, &str, &str, SessionKeyDerivation)] = &[
    (
        "62220200",
        KeyAlgorithm::Tdes,
        "0123456789ABCDEFFEDCBA9876543210",
        "1032547698BADCFEEFCDAB8967452301",
        "2301674589ABCDEF0123456789ABCDEF",
        SessionKeyDerivation::Pboc,
    ),
    (
        "62220201",
        KeyAlgorithm::Sm4,
        "0123456789ABCDEFFEDCBA9876543210",
        "00112233445566778899AABBCCDDEEFF",
        "FFEEDDCCBBAA99887766554433221100",
        SessionKeyDerivation::Pboc,
    ),
    (
        "47617300",
        KeyAlgorithm::Tdes,
        "4C4C4C4C4C4C4C4C4D4D4D4D4D4D4D4D",
        "5B5B5B5B5B5B5B5B5D5D5D5D5D5D5D5D",
        "6E6E6E6E6E6E6E6E6D6D6D6D6D6D6D6D",
        SessionKeyDerivation::EmvCommon,
    ),
    (
        "54133300",
        KeyAlgorithm::Tdes,
        "9E15204313F7318ACB79B90BD986AD29",
        "4664942FE615FB02E5D57F292AA2B3B6",
        "CE293B8CC12A977379EF256D76109492",
        SessionKeyDerivation::EmvCommon,
    ),
];

/// The issuer master keys of every card family, as the acquirer simulator's issuer holds them.
pub fn issuer_families() -> Vec<IssuerFamily> {
    FAMILIES
        .iter()
        .filter_map(|&(bin8, alg, ac, smi, smc, derivation)| {
            let key = |h: &str| SecretKey::from_hex(alg, h).ok();
            Some(IssuerFamily {
                bin8,
                keys: IssuerMasterKeys {
                    ac: key(ac)?,
                    smi: key(smi)?,
                    smc: key(smc)?,
                    derivation,
                },
            })
        })
        .collect()
}

fn family_for(pan: &str) -> Option<IssuerFamily> {
    issuer_families()
        .into_iter()
        .find(|f| pan.starts_with(f.bin8))
}

const PBOC_TDES: IadFormat = IadFormat::Pboc {
    cvn: 0x01,
    algorithm: 0x01,
};

fn unionpay(pan: &'static str, aip: [u8; 2]) -> CardSpec {
    CardSpec {
        scheme: Scheme::UnionPayDebit,
        pan,
        psn: 0x01,
        expiry: "301231",
        aip,
        cvm: CvmPolicy::OnlinePin,
        pin: None,
        pin_try_limit: 3,
        behaviour: Behaviour {
            approve_offline: true,
            ..Behaviour::default()
        },
        iad: PBOC_TDES,
        ec_balance_fen: 50_000,
        oda: Some(if aip[0] & 0x21 != 0 {
            OdaKind::Dynamic
        } else {
            OdaKind::Sda
        }),
    }
}

/// AIP byte 1 (Book 3 Annex C1): SDA 0x40, DDA 0x20, cardholder verification 0x10, terminal
/// risk management 0x08, issuer authentication 0x04, CDA 0x01.
const AIP_SDA: [u8; 2] = [0x5C, 0x00];
const AIP_DDA: [u8; 2] = [0x7C, 0x00];
const AIP_CDA: [u8; 2] = [0x7D, 0x00];

/// The specs of each application of the card `name`.
fn specs(name: &str) -> Option<Vec<CardSpec>> {
    let spec = match name {
        "unionpay-debit-sda" => unionpay("6222020000000205", AIP_SDA),
        "unionpay-debit-dda" => unionpay("6222020000000213", AIP_DDA),
        "unionpay-debit-cda" => unionpay("6222020000000221", AIP_CDA),
        "unionpay-credit" => CardSpec {
            scheme: Scheme::UnionPayCredit,
            behaviour: Behaviour::default(),
            ..unionpay("6222020000000239", AIP_DDA)
        },
        "unionpay-dual" => {
            let debit = CardSpec {
                ..unionpay("6222020000000304", AIP_DDA)
            };
            let credit = CardSpec {
                scheme: Scheme::UnionPayCredit,
                behaviour: Behaviour::default(),
                ..unionpay("6222020000000304", AIP_DDA)
            };
            return Some(vec![debit, credit]);
        }
        "pboc-sm" => CardSpec {
            iad: IadFormat::Pboc {
                cvn: 0x01,
                algorithm: 0x04,
            },
            oda: Some(OdaKind::Sm2),
            ..unionpay("6222020100000014", AIP_DDA)
        },
        "visa" => CardSpec {
            scheme: Scheme::Visa,
            cvm: CvmPolicy::Signature,
            behaviour: Behaviour::default(),
            iad: IadFormat::Visa { cvn: 0x0A },
            ec_balance_fen: 0,
            ..unionpay("4761730000000011", AIP_DDA)
        },
        "mastercard" => CardSpec {
            scheme: Scheme::Mastercard,
            cvm: CvmPolicy::Signature,
            behaviour: Behaviour::default(),
            iad: IadFormat::Visa { cvn: 0x0A },
            ec_balance_fen: 0,
            ..unionpay("5413330000000019", AIP_CDA)
        },
        "unionpay-blocked" => {
            let mut s = unionpay("6222020000000247", AIP_SDA);
            s.behaviour.blocked = true;
            s
        }
        "unionpay-gpo-refused" => {
            let mut s = unionpay("6222020000000254", AIP_SDA);
            s.behaviour.refuse_gpo = true;
            s
        }
        "unionpay-expired" => CardSpec {
            expiry: "241231",
            ..unionpay("6222020000000262", AIP_SDA)
        },
        "unionpay-offline-pin" => CardSpec {
            cvm: CvmPolicy::OfflinePlaintextPin,
            pin: Some(TEST_PIN),
            ..unionpay("6222020000000270", AIP_DDA)
        },
        "unionpay-declines-second-ac" => {
            let mut s = unionpay("6222020000000288", AIP_SDA);
            s.behaviour.decline_second_ac = true;
            s.behaviour.approve_offline = false;
            s
        }
        // Online PIN forces a transaction online (IAC and TAC online, TVR byte 3 bit 3), so the
        // card that shows an offline approval asks for a signature instead.
        "unionpay-offline" => CardSpec {
            cvm: CvmPolicy::Signature,
            ..unionpay("6222020000000312", AIP_DDA)
        },
        "unionpay-scripts" => {
            let mut s = unionpay("6222020000000296", AIP_SDA);
            s.behaviour.accepts_scripts = true;
            s
        }
        _ => return super::catalogue_ctls::specs(name).map(|s| vec![s]),
    };
    Some(vec![spec])
}

/// A fresh card personalised as `name` (see the table in the module docs).
pub fn card(name: &str) -> Result<CardProfile, CatalogueError> {
    let unknown = || CatalogueError::UnknownCard {
        name: name.to_string(),
    };
    let specs = specs(name).ok_or_else(unknown)?;
    let mut applications = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let family = family_for(spec.pan).ok_or_else(unknown)?;
        let mut app = personalise::application(spec, &family.keys)?;
        super::catalogue_ctls::apply(name, &mut app);
        // On the dual card the debit application comes first by priority.
        app.priority = u8::try_from(i + 1).unwrap_or(u8::MAX);
        applications.push(app);
    }
    Ok(CardProfile {
        name: name.to_string(),
        pse: name != "mastercard" && !super::catalogue_ctls::is_contactless(name),
        ppse: super::catalogue_ctls::is_contactless(name),
        applications,
        tear: None,
    })
}

/// The PAN of each card's first application, for registering accounts at the issuer.
pub fn pan_of(name: &str) -> Option<&'static str> {
    specs(name)?.first().map(|s| s.pan)
}

/// Whether the card's application has expired by its personalisation (the ledger account of
/// such a card carries the same expiry).
pub fn expiry_of(name: &str) -> Option<&'static str> {
    specs(name)?.first().map(|s| s.expiry)
}

/// Opens an account at the simulated issuer for every catalogue card: id = card name, online
/// PIN [`TEST_PIN`], 10 000.00 yuan, expiry from the card. Call on the acquirer's ledger before
/// paying with a catalogue card. An account already there (a ledger loaded from file, which
/// keeps no card numbers) is bound to its card again and keeps its balance.
pub fn add_ledger_accounts(ledger: &mut crate::sim::ledger::Ledger) {
    use crate::sim::ledger::{AccountStatus, CardKind};
    for &name in NAMES {
        let (Some(pan), Some(expiry)) = (pan_of(name), expiry_of(name)) else {
            continue;
        };
        if ledger.bind_card(name, pan, TEST_PIN) {
            continue;
        }
        let kind = match name {
            "unionpay-credit"
            | "visa"
            | "mastercard"
            | "quickpass-credit"
            | "visa-qvsdc"
            | "mastercard-contactless" => CardKind::Credit,
            _ => CardKind::Debit,
        };
        ledger.add_account(
            name,
            pan,
            TEST_PIN,
            kind,
            AccountStatus::Normal,
            expiry.get(..4).unwrap_or(expiry),
            1_000_000,
        );
    }
}
