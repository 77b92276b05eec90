//! A real contactless Mastercard tap (kernel C-2, M/Chip mode) with CDA, checked by our ODA.
//!
//! Source: binaryfoo/emv-bertlv, `src/test/resources/cases/contactless-mastercard-in.txt`
//! (commit acf6ad34ed7c387dcc53da612e41a10316a7b77a, 2014): the APDUs between a reader and a
//! physical PayPass test card ("PPC MCD 04 v20", CA key [EF] under A000000004). The capture starts
//! at SELECT AID (no PPSE) and its unsigned records are not needed here: CDA covers the one signed
//! record, the AIP, the certificates and the GENERATE AC answer. The CA key is Mastercard's test
//! key [EF] with its published SHA-1 check value. The expected ICC dynamic number, CID and
//! cryptogram are the ones emv-bertlv's own decoding of the capture shows
//! (`contactless-mastercard-out.txt`), and were recovered again in Python (plain `pow`) while
//! writing this test.

use std::collections::BTreeMap;

use super::*;

const MASTERCARD: [u8; 5] = [0xA0, 0x00, 0x00, 0x00, 0x04];
const CA_EF_MODULUS: &str = concat!(
    "A191CB87473F29349B5D60A88B3EAEE0973AA6F1A082F358D849FDDFF9C091F8",
    "99EDA9792CAF09EF28F5D22404B88A2293EEBBC1949C43BEA4D60CFD879A1539",
    "544E09E0F09F60F065B2BF2A13ECC705F3D468B9D33AE77AD9D3F19CA40F23DC",
    "F5EB7C04DC8F69EBA565B1EBCB4686CD274785530FF6F6E9EE43AA43FDB02CE0",
    "0DAEC15C7B8FD6A9B394BABA419D3F6DC85E16569BE8E76989688EFEA2DF22FF",
    "7D35C043338DEAA982A02B866DE5328519EBBCD6F03CDD686673847F84DB651A",
    "B86C28CF1462562C577B853564A290C8556D818531268D25CC98A4CC6A0BDFFF",
    "DA2DCCA3A94C998559E307FDDF915006D9A987B07DDAEB3B",
);
/// READ RECORD SFI 2 record 1, the record signed for offline authentication (template 70 removed).
const SIGNED_RECORD: &str = concat!(
    "57115413330089600044D141220101234091725A0854133300896000445F200C",
    "455445432F504159504153535F24031412315F25030401015F280200565F3401",
    "018C219F02069F03069F090295055F2A029A039C019F37049F35019F45029F4C",
    "089F34038D0C910A8A0295059F37049F4C088E0C00000000000000005E031F03",
    "9F0702FF009F080200029F0D0500000000009F0E0500000000009F0F05000000",
    "00009F420209789F4A0182DF4F03123456",
);
/// AIP 5980 from the GPO answer: 9F4A = 82 puts it after the records in the signed data.
const AIP: &str = "5980";
const ISSUER_CERT: &str = concat!(
    "7AF7C3297510E795704B4B34BB1526EB953FE7BEE08DBF08DFBA056AA42FC726",
    "BC03373A319DDC6197E2F5B333401AE3E4BBFC5044D245BDDEBEA146994132D9",
    "39D72E8E05CC958856DFCB33B26427812955B09F7A7A68AAAB6B8326AD292908",
    "2569DA040BD286F2F20A759E62683995D4B840655342C8088FA18806C2290992",
    "665A45EC16AC6FE4B0FA664FC644B7B485CD4612B2967B846A9482DB7D16E9F9",
    "A3A8295CE5D2B91718180F1E86E67E8E2275EB2116E651BD91AAC49D80D6E64D",
    "EB54977258465C09274DD7D232A98CD80C76458CEAAA2B0A414EE7A1B8899E63",
    "61B098307EBE5E87F31C41B0A32B248CF6DA9849810C4955",
);
const ICC_CERT: &str = concat!(
    "3826D61BE14E6691D03552DD9E7034150A3AFFB43AA8C13069483EF338AA272F",
    "0DB37354F4EB768B4373D365E3973B04486F43DB298E94F570EBBDD0BDF82836",
    "0FCAD568D975838A9340ADAAF9974149436DE273AE996FD842FD93966D1CD580",
    "72B0D8C2D7F60D351B4C44791D82D0DEA591EC61DB5D0D32367086B6A879CB92",
    "89FD27D3B0C18E1474812407697F4116",
);
const ICC_REMAINDER: &str = concat!(
    "8F9498797B9DE111BF5EB97EF1820BA654E4867F09D6BB41BCB1E4FB3E9D287A",
    "BD670319181347312707",
);
const SDAD: &str = concat!(
    "124CD68898FC0FF1B82E6033A63DF03F6601DED0405BE0DA6A557BA101AED956",
    "63C6EE32F895F6F2C7BBAC568E18643CAEB9762E6C24843B4998CCC8F1E608A6",
    "1C9E1914315FE84D56350B10B3694AEECB8BC30ADA3DB4ECE331D5B7E76397BD",
    "BA7763148F535B9EBFBABE772AB88C7F302FA9E3010F5191B734E82594D08752",
    "EBB329D76FBBF901F779921CE81CFBDC",
);
/// The terminal's GENERATE AC data (P1 = 50: TC with CDA), in CDOL1 order; 9F37 = 000EEC85.
const CDOL1_VALUES: &str = concat!(
    "00000001000100000000000000020000000000003612031500000EEC85220000",
    "00000000000000005E0300",
);
const UNPREDICTABLE_NUMBER: &str = "000EEC85";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn icc_key() -> IccPublicKey {
    let ca = CaPublicKey {
        rid: MASTERCARD,
        index: 0xEF,
        algorithm: CaKeyAlgorithm::Rsa,
        modulus: h(CA_EF_MODULUS),
        exponent: vec![3],
        expiry_yymmdd: None,
        // Mastercard's published check value for test key [EF].
        checksum: h("21766EBB0EE122AFB65D7845B73DB46BAB65427A"),
        source: "Mastercard test key EF".into(),
    };
    let mut table = CaKeyTable::new();
    table.insert(ca).unwrap();
    let crl = RevocationList::new();
    let mut card = BTreeMap::new();
    card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![0xEF]);
    card.insert(tags::ISSUER_PK_CERTIFICATE, h(ISSUER_CERT));
    card.insert(tags::ISSUER_PK_REMAINDER, Vec::new());
    card.insert(tags::ISSUER_PK_EXPONENT, h("010001"));
    card.insert(tags::ICC_PK_CERTIFICATE, h(ICC_CERT));
    card.insert(tags::ICC_PK_EXPONENT, h("010001"));
    card.insert(tags::ICC_PK_REMAINDER, h(ICC_REMAINDER));
    card.insert(tags::PAN, h("5413330089600044"));
    let terminal = OdaTerminal {
        ca_keys: &table,
        revocations: &crl,
        // 9A of the capture's GENERATE AC: 2012-03-15.
        transaction_date: [0x12, 0x03, 0x15],
    };
    let issuer = recover_issuer_key(&terminal, MASTERCARD, &card).unwrap();
    let static_data = [h(SIGNED_RECORD), h(AIP)].concat();
    recover_icc_key(&terminal, &issuer, &card, &static_data).unwrap()
}

/// The GENERATE AC answer (template 77 contents) as the card sent it, with `sdad` as 9F4B.
fn answer(sdad: &[u8]) -> Vec<u8> {
    [
        h("9F2701409F36020035"),
        vec![0x9F, 0x4B, 0x81, 0x90],
        sdad.to_vec(),
        h("9F10120110904009248400000000000000000029FF"),
    ]
    .concat()
}

#[test]
fn cda_recovers_the_ac_of_a_real_paypass_tap() {
    let icc = icc_key();
    let sdad = h(SDAD);
    let template = answer(&sdad);
    let transaction_data = cda_transaction_data(&[], &[&h(CDOL1_VALUES)], &template).unwrap();
    let un = h(UNPREDICTABLE_NUMBER);
    let input = CdaInput {
        sdad: &sdad,
        cid: 0x40,
        unpredictable_number: &un,
        transaction_data: &transaction_data,
    };
    let out = verify_cda(&icc, &input).unwrap();
    assert_eq!(out.cid, 0x40, "a TC");
    assert_eq!(out.cryptogram.to_vec(), h("D58B731AF5885C06"));
    assert_eq!(out.icc_dynamic_number, h("36DF6D9E2104092E"));
}

#[test]
fn one_changed_byte_of_the_real_tap_never_verifies() {
    let icc = icc_key();
    let un = h(UNPREDICTABLE_NUMBER);
    let good = h(SDAD);
    // Every byte of the signed dynamic data, flipped in turn.
    for i in 0..good.len() {
        let mut sdad = good.clone();
        sdad[i] ^= 0x01;
        let template = answer(&sdad);
        let td = cda_transaction_data(&[], &[&h(CDOL1_VALUES)], &template).unwrap();
        let input = CdaInput {
            sdad: &sdad,
            cid: 0x40,
            unpredictable_number: &un,
            transaction_data: &td,
        };
        assert!(
            verify_cda(&icc, &input).is_err(),
            "byte {i} flipped still verified"
        );
    }
    // One CDOL1 value (the amount) other than what the card hashed.
    let sdad = h(SDAD);
    let template = answer(&sdad);
    let mut values = h(CDOL1_VALUES);
    values[5] ^= 0x01;
    let td = cda_transaction_data(&[], &[&values], &template).unwrap();
    let input = CdaInput {
        sdad: &sdad,
        cid: 0x40,
        unpredictable_number: &un,
        transaction_data: &td,
    };
    assert_eq!(
        verify_cda(&icc, &input).unwrap_err(),
        OdaError::TransactionDataHash
    );
    // Another unpredictable number than the one the card signed.
    let td = cda_transaction_data(&[], &[&h(CDOL1_VALUES)], &template).unwrap();
    let other_un = h("000EEC86");
    let input = CdaInput {
        sdad: &sdad,
        cid: 0x40,
        unpredictable_number: &other_un,
        transaction_data: &td,
    };
    assert!(verify_cda(&icc, &input).is_err());
}
