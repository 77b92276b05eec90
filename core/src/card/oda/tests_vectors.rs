//! Independent vectors: data published with another implementation, checked by ours.

use std::collections::BTreeMap;

use super::*;

/// emv-tools (Dmitry Eremin-Solenikov), as kept in RfidResearchGroup/proxmark3
/// client/src/emv/test/sda_test.c: Visa's retired 1024-bit CA key [01], an issuer certificate
/// with remainder, and signed static application data over the records and AIP. The issuer
/// key and the DAC below were recomputed independently in Python (plain `pow` and hashlib)
/// while writing this test.
const VISA_01_MODULUS: &str = concat!(
    "C696034213D7D8546984579D1D0F0EA519CFF8DEFFC429354CF3A871A6F7183F",
    "1228DA5C7470C055387100CB935A712C4E2864DF5D64BA93FE7E63E71F25B1E5",
    "F5298575EBE1C63AA617706917911DC2A75AC28B251C7EF40F2365912490B939",
    "BCA2124A30A28F54402C34AECA331AB67E1E79B285DD5771B5D9FF79EA630B75",
);
const ISSUER_CERT: &str = concat!(
    "3C5FEAD4DD7BCA44F93E90C44F76EDE54A3288ECDC78469FCB1225C03B2C04F2",
    "C2F412281A0822DF14649230989FB1494070DAF8C9534A7881960148616ACE58",
    "1788120D3506ACE4CEE564FB27EE53341C22F0B45B31873D05DE545EFE33BCD2",
    "9B2185D035A806AD08C6976F3505A19999930CA8A03EFA321C486061F7DCEC9F",
);
const ISSUER_REMAINDER: &str =
    "1EBCA30F00CE5962A8C6E130544B82891B236C65DE29317F364735DEE63F6598975835D5";
const SSAD: &str = concat!(
    "99A558B62B674AA5E7D2A57E5EF6A6F2258E5DA052D05B54E5C115FF1CECF94A",
    "A2DF8F39A01D71C619EB819DA52EF381E84979586AEA7855FFBEF40AA3A71CD3",
    "B04CFDF270AEC8158A2797F24FD613B748134661135CD290E45B04A8E0CCC711",
    "AE042F159E73C89C2A7E65A4C2FD1D6106024AA27130B0ECEC0238F91659DE96",
);
const STATIC_DATA: &str = concat!(
    "5F24030812315A0842765500132345995F3401019F0702FF009F0D05D040ACA8",
    "009F0E0500100000009F0F05D068BCF8005C00",
);
const ISSUER_MODULUS: &str = concat!(
    "B405DE3A900F57C7C8192A59FC4905D35941C97D8733527941BD507425BB84D9",
    "D2EBEB5DDE57BD16B5C75360F6242B5013DE327144C569603F112298EA485A18",
    "9830BD63B6FD4E418E9FF88BEE7B853937047A7A793519922901AE831EBCA30F",
    "00CE5962A8C6E130544B82891B236C65DE29317F364735DEE63F6598975835D5",
);

#[test]
fn sda_matches_the_emv_tools_visa_vector() {
    let h = |s: &str| hex::decode(s).unwrap();
    let visa = [0xA0, 0x00, 0x00, 0x00, 0x03];
    let ca = CaPublicKey {
        rid: visa,
        index: 0x01,
        algorithm: CaKeyAlgorithm::Rsa,
        modulus: h(VISA_01_MODULUS),
        exponent: vec![3],
        expiry_yymmdd: Some("091231".into()),
        // Published checksum of Visa [01] (proxmark3 capk.txt, emv-utils).
        checksum: h("D34A6A776011C7E7CE3AEC5F03AD2F8CFC5503CC"),
        source: "emv-tools sda_test.c".into(),
    };
    let mut table = CaKeyTable::new();
    table.insert(ca).unwrap();
    let crl = RevocationList::new();
    let mut card = BTreeMap::new();
    card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![0x01]);
    card.insert(tags::ISSUER_PK_CERTIFICATE, h(ISSUER_CERT));
    card.insert(tags::ISSUER_PK_REMAINDER, h(ISSUER_REMAINDER));
    card.insert(tags::ISSUER_PK_EXPONENT, vec![3]);
    card.insert(tags::SIGNED_STATIC_DATA, h(SSAD));
    // The test's PAN: issuer identifier 427655 matches it.
    card.insert(tags::PAN, h("4276550000000000"));
    // The certificate expires 12/09: a transaction in June 2008.
    let terminal = OdaTerminal {
        ca_keys: &table,
        revocations: &crl,
        transaction_date: [0x08, 0x06, 0x15],
    };
    let out = verify_sda(&terminal, visa, &card, &h(STATIC_DATA)).unwrap();
    assert_eq!(out.data_authentication_code, [0x31, 0x32]);
    assert_eq!(out.issuer_key.modulus, h(ISSUER_MODULUS));
    assert_eq!(out.issuer_key.serial, [0x00, 0x42, 0xB3]);
    assert_eq!(out.issuer_key.expiry_mmyy, [0x12, 0x09]);

    // The same card in 2026: the issuer certificate has expired.
    let today = OdaTerminal {
        transaction_date: [0x26, 0x12, 0x04],
        ..terminal
    };
    assert!(matches!(
        verify_sda(&today, visa, &card, &h(STATIC_DATA)),
        Err(OdaError::Expired {
            what: Signed::IssuerCertificate,
            ..
        })
    ));
    // One byte of the certificate flipped: SDA failed.
    let mut flipped = card.clone();
    if let Some(c) = flipped.get_mut(&tags::ISSUER_PK_CERTIFICATE) {
        c[64] ^= 0x01;
    }
    let err = verify_sda(&terminal, visa, &flipped, &h(STATIC_DATA)).unwrap_err();
    assert_eq!(err.tvr_byte1(OdaMethod::Sda), tvr_byte1::SDA_FAILED);
}

/// emv-tools (Dmitry Eremin-Solenikov), as kept in RfidResearchGroup/proxmark3
/// client/src/emv/test/dda_test.c: a Mastercard card under the production CA key [05] that
/// this terminal ships, issuer certificate with remainder, ICC certificate over the static
/// data, and an SDAD over DDOL data 00000000. The ICC dynamic number was recomputed
/// independently in Python while writing this test.
const MC_ISSUER_CERT: &str = concat!(
    "1714284F763B8586EE6D319951F7E63FA25076E50DC9D3200BA998D3A052ADBA",
    "9AB69AC6AD6ADD3CE09F0278F4074EC4EE9B1D2268A3E953575E454E50CD860B",
    "F424C51C597712D2AA057089DD8673E51B1E1D7188034892077AC18A6AE23488",
    "BEA9DF3B1A83F2C0800CD7C5CDF2FDE0496F7BC39FB4BF363299BFA637B2EC33",
    "C507E36821EEC2075F0E420D38A1C9F3127261BA316C987674FADB20EA7FEB75",
    "EE455D12146EA6F02E8B01EC2FA7A115",
);
const MC_ISSUER_REMAINDER: &str = concat!(
    "6E63B7BC70ABDD09341B34C03286BA9BD83BA7936C5B7798FB22C5E53FF240A2",
    "6DBD6415",
);
const MC_ICC_CERT: &str = concat!(
    "A42FBEB156B98DCB0554DA062ADCA5309A91F04FA2C7BD7102A8D73F16A3CFAD",
    "E8AADF4F3FE2A2125CCDD77C6B9F78B5B4371CE0805725B0F9C027AF147D91E1",
    "FFDB201E9C170CE777053A172AD526DCAFD33895E1A947305C5B167F2E7C6F99",
    "1581A652EE473154760C2ED774214E50DFECDD4CF294C974B89EBCA25B5AB3C0",
    "BEB50DFAF782AFDE1433D90CA2A89D651E75D67EBC7C3E36F5A165EE61326129",
    "39C1ECD399E46074B996D93A88E01E0A",
);
const MC_SDAD: &str = concat!(
    "3D87F31056102D2512CFDE30900627C1263A76D1DAA821F50831E606C54544C2",
    "58131EAEBE874DCB1A28CF82D3FF91118260BC91113711D3B289FA41BE69C7A7",
    "B5C783E6F8F97FCE13F08B13FA44183E3718CEBF0C41473D2B0FF4DE44B6A02D",
    "75ADB6D4962393FFDF4E69026CDF38FF",
);
const MC_STATIC_DATA: &str = concat!(
    "5F25031405015F24031506305A0852858812543456535F3401018E0C00000000",
    "000000001E031F039F0702FF009F0D05BC50BC00009F0E0500000000009F0F05",
    "BC70BC98009F4A01825F280206438C219F02069F03069F1A0295055F2A029A03",
    "9C019F37049F35019F45029F4C089F34038D0C910A8A0295059F37049F4C0839",
    "00",
);

#[test]
fn dda_matches_the_emv_tools_mastercard_vector_under_the_shipped_ca_key() {
    let h = |s: &str| hex::decode(s).unwrap();
    let mastercard = [0xA0, 0x00, 0x00, 0x00, 0x04];
    let table = CaKeyTable::production().unwrap();
    let crl = RevocationList::new();
    let mut card = BTreeMap::new();
    card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![0x05]);
    card.insert(tags::ISSUER_PK_CERTIFICATE, h(MC_ISSUER_CERT));
    card.insert(tags::ISSUER_PK_REMAINDER, h(MC_ISSUER_REMAINDER));
    card.insert(tags::ISSUER_PK_EXPONENT, vec![3]);
    card.insert(tags::ICC_PK_CERTIFICATE, h(MC_ICC_CERT));
    card.insert(tags::ICC_PK_EXPONENT, vec![3]);
    card.insert(tags::PAN, h("5285881254345653"));
    // ICC certificate valid through 06/15: a transaction in January 2015.
    let terminal = OdaTerminal {
        ca_keys: &table,
        revocations: &crl,
        transaction_date: [0x15, 0x01, 0x15],
    };
    let issuer = recover_issuer_key(&terminal, mastercard, &card).unwrap();
    assert_eq!(issuer.modulus.len(), 176);
    assert_eq!(issuer.expiry_mmyy, [0x12, 0x21]);
    let icc = recover_icc_key(&terminal, &issuer, &card, &h(MC_STATIC_DATA)).unwrap();
    assert_eq!(icc.modulus.len(), 112);
    assert_eq!(icc.serial, [0x34, 0x56, 0x53]);
    let dda = verify_dda(&icc, &h(MC_SDAD), &[0, 0, 0, 0]).unwrap();
    assert_eq!(dda.icc_dynamic_number, h("7A33FB8C9546E1E7"));

    // Another unpredictable number than the one the card signed: DDA failed.
    let err = verify_dda(&icc, &h(MC_SDAD), &[0, 0, 0, 1]).unwrap_err();
    assert_eq!(err.tvr_byte1(OdaMethod::Dda), tvr_byte1::DDA_FAILED);
    // One byte of the ICC certificate flipped.
    let mut flipped = card.clone();
    if let Some(c) = flipped.get_mut(&tags::ICC_PK_CERTIFICATE) {
        c[100] ^= 0x80;
    }
    assert!(recover_icc_key(&terminal, &issuer, &flipped, &h(MC_STATIC_DATA)).is_err());
    // In December 2026 the issuer certificate (12/21) has expired.
    let today = OdaTerminal {
        transaction_date: [0x26, 0x12, 0x04],
        ..terminal
    };
    let issuer_today = recover_issuer_key(&today, mastercard, &card);
    assert!(matches!(
        issuer_today,
        Err(OdaError::Expired {
            what: Signed::IssuerCertificate,
            ..
        })
    ));
}

/// emv-tools' CDA vector (proxmark3 client/src/emv/test/cda_test.c): the same Mastercard card
/// answering GENERATE AC with CDA; CDOL1 values and the answer's other objects feed the
/// transaction data hash. Cryptogram and dynamic number recomputed in Python.
const MC_CDA_SDAD: &str = concat!(
    "1C009FC48679157DBFF45F65D33FF78D4FCBF0CF5EA4208D107AE95AA38C546D",
    "0E5A18B87403A12BD447A8BBFC1E49CE0B2E251389205703C9BB1A88CC79F1DD",
    "C2F9841EADF07CE07B62511DDC93DF59F28F0E91F92332D29CDEF2BCCB100885",
    "0500EF3E470A4CB18CD91AA5C1A108F3",
);
const MC_CDOL1_VALUES: &str = concat!(
    "0000000000000000000000000643000000000006431409255012345779230000",
    "00000000000000001E0300",
);

#[test]
fn cda_matches_the_emv_tools_mastercard_vector() {
    let h = |s: &str| hex::decode(s).unwrap();
    let mastercard = [0xA0, 0x00, 0x00, 0x00, 0x04];
    let table = CaKeyTable::production().unwrap();
    let crl = RevocationList::new();
    let mut card = BTreeMap::new();
    card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![0x05]);
    card.insert(tags::ISSUER_PK_CERTIFICATE, h(MC_ISSUER_CERT));
    card.insert(tags::ISSUER_PK_REMAINDER, h(MC_ISSUER_REMAINDER));
    card.insert(tags::ISSUER_PK_EXPONENT, vec![3]);
    card.insert(tags::ICC_PK_CERTIFICATE, h(MC_ICC_CERT));
    card.insert(tags::ICC_PK_EXPONENT, vec![3]);
    card.insert(tags::PAN, h("5285881254345653"));
    let terminal = OdaTerminal {
        ca_keys: &table,
        revocations: &crl,
        transaction_date: [0x15, 0x01, 0x15],
    };
    let issuer = recover_issuer_key(&terminal, mastercard, &card).unwrap();
    let icc = recover_icc_key(&terminal, &issuer, &card, &h(MC_STATIC_DATA)).unwrap();

    // The GENERATE AC answer (template 77 contents) in the order the card sent it.
    let sdad = h(MC_CDA_SDAD);
    let template = [
        h("9F2701409F36020010"),
        vec![0x9F, 0x4B, 0x70],
        sdad.clone(),
        h("9F10120010904001220000000000000000000000FF"),
    ]
    .concat();
    let transaction_data = cda_transaction_data(&[], &[&h(MC_CDOL1_VALUES)], &template).unwrap();
    let input = CdaInput {
        sdad: &sdad,
        cid: 0x40,
        unpredictable_number: &h("12345779"),
        transaction_data: &transaction_data,
    };
    let out = verify_cda(&icc, &input).unwrap();
    assert_eq!(out.cid, 0x40);
    assert_eq!(out.cryptogram.to_vec(), h("16AFBA13C52FB173"));
    assert_eq!(out.icc_dynamic_number, h("4CC2FB1FAFB30915"));

    // The card said TC (40) in the clear but the terminal saw ARQC (80): CDA failed.
    let err = verify_cda(&icc, &CdaInput { cid: 0x80, ..input }).unwrap_err();
    assert_eq!(err.tvr_byte1(OdaMethod::Cda), tvr_byte1::CDA_FAILED);
    // One CDOL1 value differs from what the card hashed.
    let mut other = h(MC_CDOL1_VALUES);
    other[5] ^= 0x01;
    let td = cda_transaction_data(&[], &[&other], &template).unwrap();
    assert_eq!(
        verify_cda(
            &icc,
            &CdaInput {
                transaction_data: &td,
                ..input
            }
        )
        .unwrap_err(),
        OdaError::TransactionDataHash
    );
}
