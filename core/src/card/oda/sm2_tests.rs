use super::*;

#[test]
fn sm3_matches_gbt_32905_examples() {
    // GB/T 32905-2016 (GM/T 0004-2012) appendix A: example 1 "abc", example 2 "abcd" x 16.
    assert_eq!(
        hex::encode(sm3_digest(&[b"abc"])),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    assert_eq!(
        hex::encode(sm3_digest(&[b"abcd".repeat(16).as_slice()])),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

/// GB/T 32918.5-2017 (GM/T 0003.5) appendix: signature example on the recommended curve,
/// user id "1234567812345678", message "message digest" (also verified with gmssl 3.2.2
/// `CryptSM2.verify_with_sm3`).
const GBT_PUBLIC: &str = concat!(
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
);
const GBT_SIGNATURE: &str = concat!(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
);

#[test]
fn sm2_verifies_the_published_signature_example() {
    let point = hex::decode(GBT_PUBLIC).unwrap();
    let sig = hex::decode(GBT_SIGNATURE).unwrap();
    assert!(sm2_verify(&point, &[b"message ", b"digest"], &sig));
    assert!(!sm2_verify(&point, &[b"message digesT"], &sig));
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert!(!sm2_verify(&point, &[b"message digest"], &bad));
    // Malformed keys and signatures are a plain "no", never a panic.
    assert!(!sm2_verify(&point[..63], &[b"message digest"], &sig));
    assert!(!sm2_verify(&[0u8; 64], &[b"message digest"], &sig));
    assert!(!sm2_verify(&point, &[b"message digest"], &[0u8; 64]));
}
