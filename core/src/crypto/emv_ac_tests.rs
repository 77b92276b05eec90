use super::*;

fn key(alg: KeyAlgorithm, text: &str) -> SecretKey {
    SecretKey::from_hex(alg, text).unwrap()
}

fn h(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

const IMK: &str = "0123456789ABCDEFFEDCBA9876543210";
/// CDOL1-style input: 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 82 9F36 (33 bytes, unaligned).
const AC_DATA: &str = "000000010000000000000000015600000080000156261203003804823E7C000001";

#[test]
fn option_a_matches_pyemv_docstrings() {
    // pyemv 1.5.0 `kd.derive_icc_mk_a` docstrings (module and function).
    let imk = key(KeyAlgorithm::Tdes, IMK);
    let mk = derive_icc_master_key(&imk, "99012345678901234", Some(0x45)).unwrap();
    assert_eq!(*mk.expose_hex(), "67F8292358083E5EA7AB7FDA58D53B6B");
    let mk = derive_icc_master_key(&imk, "12345678901234567", Some(0x01)).unwrap();
    assert_eq!(*mk.expose_hex(), "73AD54688CEF2934B0979857E3C719F1");
    // A 19-digit PAN keeps the rightmost 16 digits of PAN || PSN (same 16 digits as above).
    let long = derive_icc_master_key(&imk, "6212345678901234567", Some(0x01)).unwrap();
    assert_eq!(long.expose_secret(), mk.expose_secret());
}

#[test]
fn option_a_short_pan_and_absent_psn() {
    // pyemv 1.5.0: kd.derive_icc_mk_a(IMK, "4761739001010010", None) (PSN defaults to 00).
    let imk = key(KeyAlgorithm::Tdes, IMK);
    let a = derive_icc_master_key(&imk, "4761739001010010", None).unwrap();
    let b = derive_icc_master_key(&imk, "4761739001010010", Some(0x00)).unwrap();
    assert_eq!(a.expose_secret(), b.expose_secret());
    assert_eq!(*a.expose_hex(), OPTION_A_NO_PSN);
}

const OPTION_A_NO_PSN: &str = "7C89E3641F4FE9CDFD8989B02FF149CB";

#[test]
fn option_a_rejects_bad_input() {
    let imk = key(KeyAlgorithm::Tdes, IMK);
    assert_eq!(
        derive_icc_master_key(&imk, "", None).unwrap_err(),
        EmvAcError::PanLength { len: 0 }
    );
    assert_eq!(
        derive_icc_master_key(&imk, "12345678901234567890", None).unwrap_err(),
        EmvAcError::PanLength { len: 20 }
    );
    assert_eq!(
        derive_icc_master_key(&imk, "1234x", None).unwrap_err(),
        EmvAcError::PanDigit { offset: 4 }
    );
    assert_eq!(
        derive_icc_master_key(&imk, "1234", Some(0x1A)).unwrap_err(),
        EmvAcError::PanSequenceNumber { value: 0x1A }
    );
    let single = key(KeyAlgorithm::Des, "0123456789ABCDEF");
    assert!(matches!(
        derive_icc_master_key(&single, "1234", None),
        Err(EmvAcError::KeyType { .. })
    ));
    let aes = key(KeyAlgorithm::Aes, IMK);
    assert!(matches!(
        application_cryptogram(&aes, b""),
        Err(EmvAcError::KeyType { .. })
    ));
}

#[test]
fn common_session_key_matches_pyemv() {
    // pyemv 1.5.0 `kd.derive_common_sk` docstring: MK = IMK above, R = 001C000000000000.
    let mk = key(KeyAlgorithm::Tdes, IMK);
    let sk = derive_common_session_key(&mk, &h("001C000000000000")).unwrap();
    assert_eq!(*sk.expose_hex(), "E9FB384AF807B940FEDCEA613461B0C4");
    let sk = derive_session_key(&mk, [0x00, 0x1C], SessionKeyDerivation::EmvCommon).unwrap();
    assert_eq!(*sk.expose_hex(), "E9FB384AF807B940FEDCEA613461B0C4");
    assert!(derive_common_session_key(&mk, &[0; 7]).is_err());
}

#[test]
fn arqc_and_arpc_match_pyemv_docstrings() {
    // pyemv 1.5.0 `ac.generate_ac`, `ac.generate_arpc_1`, `ac.generate_arpc_2` docstrings.
    let sk = key(KeyAlgorithm::Tdes, "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
    let data = h("00000000200000000000000001240000008000012411030900\
                  3804823E58000001");
    assert_eq!(
        hex::encode_upper(application_cryptogram(&sk, &data).unwrap()),
        "3B76CF10FECD8789"
    );
    let arqc = h("1234567890ABCDEF").try_into().unwrap();
    assert_eq!(
        hex::encode_upper(arpc_method1(&sk, &arqc, &[0, 0]).unwrap()),
        "F5E6F44147E2F1B0"
    );
    assert_eq!(
        hex::encode_upper(arpc_method2(&sk, &arqc, &[0; 4], &[]).unwrap()),
        "9308BEBC"
    );
}

#[test]
fn full_chain_matches_pyemv() {
    // pyemv 1.5.0: mk = kd.derive_icc_mk_a(IMK, "6212345678901234567", "01");
    // sk = kd.derive_common_sk(mk, bytes.fromhex("001C") + bytes(6));
    // ac.generate_ac(sk, AC_DATA) and with PaddingType.VISA;
    // ac.generate_arpc_1(sk, arqc, b"00"); ac.generate_arpc_2(sk, arqc, 00820000, 1122334455).
    let imk = key(KeyAlgorithm::Tdes, IMK);
    let mk = derive_icc_master_key(&imk, "6212345678901234567", Some(0x01)).unwrap();
    let sk = derive_session_key(&mk, [0x00, 0x1C], SessionKeyDerivation::EmvCommon).unwrap();
    assert_eq!(*sk.expose_hex(), "0E5E20CE8961E58658806DD3917FCD73");
    let data = h(AC_DATA);
    let arqc = application_cryptogram(&sk, &data).unwrap();
    assert_eq!(hex::encode_upper(arqc), "10D352760B9BD4AC");
    assert_eq!(
        hex::encode_upper(application_cryptogram_padded(&sk, &data, AcPadding::Visa).unwrap()),
        "A65EEEAE158EB27C"
    );
    assert!(verify_application_cryptogram(&sk, &data, &arqc).unwrap());
    let mut bad = arqc;
    bad[0] ^= 1;
    assert!(!verify_application_cryptogram(&sk, &data, &bad).unwrap());
    assert_eq!(
        hex::encode_upper(arpc_method1(&sk, &arqc, b"00").unwrap()),
        "DFB723DA738ACDEE"
    );
    assert_eq!(
        hex::encode_upper(arpc_method2(&sk, &arqc, &[0x00, 0x82, 0, 0], &h("1122334455")).unwrap()),
        "46E1893E"
    );
    assert_eq!(
        arpc_method2(&sk, &arqc, &[0; 4], &[0; 9]).unwrap_err(),
        EmvAcError::ProprietaryDataLength { len: 9 }
    );
}

#[test]
fn pboc_session_key_tdes() {
    // Independent Python over pyca/cryptography 48 TripleDES-ECB:
    // E(MK)[00*6 || 001C] || E(MK)[00*6 || FFE3], MK = the option A key of the chain above.
    let mk = key(KeyAlgorithm::Tdes, "73AD54688CEF2934B0979857E3C719F1");
    let sk = derive_session_key(&mk, [0x00, 0x1C], SessionKeyDerivation::Pboc).unwrap();
    assert_eq!(*sk.expose_hex(), "B779507BD60FF0189E4BEFF30C6ED73C");
}

#[test]
fn sm4_chain() {
    // Independent Python over pyca/cryptography 48 algorithms.SM4 (ECB and CBC):
    // MK = SM4(IMK)[Y || ~Y], Y = 5678901234567 01 digits; SK (PBOC) = SM4(MK)[00*6 001C 00*6
    // FFE3]; SK (EMV common, k = n) = SM4(MK)[00 1C F0 00*13]; AC = CBC-MAC method 2 left 8;
    // ARPC1 = SM4(SK)[(ARQC xor 3030..) || 00*8] left 8; ARPC2 = CBC-MAC(ARQC||CSU) left 4.
    let imk = key(KeyAlgorithm::Sm4, IMK);
    let mk = derive_icc_master_key(&imk, "6212345678901234567", Some(0x01)).unwrap();
    assert_eq!(mk.algorithm(), KeyAlgorithm::Sm4);
    assert_eq!(*mk.expose_hex(), "ACE24A72D661E611877ADA764F16F1AA");
    let common = derive_session_key(&mk, [0x00, 0x1C], SessionKeyDerivation::EmvCommon).unwrap();
    assert_eq!(*common.expose_hex(), "ACB731CD62DBD156404F12F0E44DBF73");
    let sk = derive_session_key(&mk, [0x00, 0x1C], SessionKeyDerivation::Pboc).unwrap();
    assert_eq!(*sk.expose_hex(), "FD684A4EE91272BBB142685EB2903A02");
    let arqc = application_cryptogram(&sk, &h(AC_DATA)).unwrap();
    assert_eq!(hex::encode_upper(arqc), "BA5EBC9128D14ADF");
    assert_eq!(
        hex::encode_upper(arpc_method1(&sk, &arqc, b"00").unwrap()),
        "53FF020C71D15B6A"
    );
    assert_eq!(
        hex::encode_upper(arpc_method2(&sk, &arqc, &[0x00, 0x82, 0, 0], &[]).unwrap()),
        "9F123432"
    );
}

#[test]
fn derived_keys_stay_redacted() {
    let imk = key(KeyAlgorithm::Tdes, IMK);
    let mk = derive_icc_master_key(&imk, "6212345678901234567", Some(0x01)).unwrap();
    assert!(!format!("{mk:?}").contains("73AD"));
}
