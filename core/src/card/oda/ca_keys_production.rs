//! The published production CA public keys shipped with the terminal (EMV Book 2 11.2.2).
//!
//! These are public data. Each entry names where it was taken from (`source`); its checksum
//! was checked against SHA-1(RID || index || modulus || exponent) when the table was made, and
//! is checked again by `CaKeyTable::production()`. Expiry is `None` where the cited source gives
//! none: Book 3 does not check a CA key's expiry during a transaction (retiring keys is key
//! management's job, through the acquirer's CA key download).
//!
//! The UnionPay entries were also found, with the same modulus and checksum, in that
//! repository's Verifone and Ingenico tables; Visa [08]/[09] and Mastercard [05]/[06] also
//! appear in RfidResearchGroup/proxmark3 client/resources/capk.txt with the same checksums.

use super::ca_keys::CaKeySpec;

pub(super) const PRODUCTION_KEYS: &[CaKeySpec] = &[
    // Visa 1408-bit production key [08].
    CaKeySpec {
        rid: "A000000003",
        index: 0x08,
        modulus: concat!(
            "D9FD6ED75D51D0E30664BD157023EAA1FFA871E4DA65672B863D255E81E137A5",
            "1DE4F72BCC9E44ACE12127F87E263D3AF9DD9CF35CA4A7B01E907000BA85D249",
            "54C2FCA3074825DDD4C0C8F186CB020F683E02F2DEAD3969133F06F7845166AC",
            "EB57CA0FC2603445469811D293BFEFBAFAB57631B3DD91E796BF850A25012F1A",
            "E38F05AA5C4D6D03B1DC2E568612785938BBC9B3CD3A910C1DA55A5A9218ACE0",
            "F7A21287752682F15832A678D6E1ED0B"
        ),
        exponent: "03",
        expiry_yymmdd: None,
        checksum: "20D213126955DE205ADC2FD2822BD22DE21CF9A8",
        source: "openemv/emv-utils src/emv_capk_static_data.h @ c29b155d (live CAPK list)",
    },
    // Visa 1984-bit production key [09].
    CaKeySpec {
        rid: "A000000003",
        index: 0x09,
        modulus: concat!(
            "9D912248DE0A4E39C1A7DDE3F6D2588992C1A4095AFBD1824D1BA74847F2BC49",
            "26D2EFD904B4B54954CD189A54C5D1179654F8F9B0D2AB5F0357EB642FEDA95D",
            "3912C6576945FAB897E7062CAA44A4AA06B8FE6E3DBA18AF6AE3738E30429EE9",
            "BE03427C9D64F695FA8CAB4BFE376853EA34AD1D76BFCAD15908C077FFE6DC55",
            "21ECEF5D278A96E26F57359FFAEDA19434B937F1AD999DC5C41EB11935B44C18",
            "100E857F431A4A5A6BB65114F174C2D7B59FDF237D6BB1DD0916E644D709DED5",
            "6481477C75D95CDD68254615F7740EC07F330AC5D67BCD75BF23D28A140826C0",
            "26DBDE971A37CD3EF9B8DF644AC385010501EFC6509D7A41"
        ),
        exponent: "03",
        expiry_yymmdd: None,
        checksum: "1FF80A40173F52D7D27E0F26A146A1C8CCB29046",
        source: "openemv/emv-utils src/emv_capk_static_data.h @ c29b155d (live CAPK list)",
    },
    // Mastercard 1408-bit production key [05].
    CaKeySpec {
        rid: "A000000004",
        index: 0x05,
        modulus: concat!(
            "B8048ABC30C90D976336543E3FD7091C8FE4800DF820ED55E7E94813ED00555B",
            "573FECA3D84AF6131A651D66CFF4284FB13B635EDD0EE40176D8BF04B7FD1C7B",
            "ACF9AC7327DFAA8AA72D10DB3B8E70B2DDD811CB4196525EA386ACC33C0D9D45",
            "75916469C4E4F53E8E1C912CC618CB22DDE7C3568E90022E6BBA770202E4522A",
            "2DD623D180E215BD1D1507FE3DC90CA310D27B3EFCCD8F83DE3052CAD1E48938",
            "C68D095AAC91B5F37E28BB49EC7ED597"
        ),
        exponent: "03",
        expiry_yymmdd: None,
        checksum: "EBFA0D5D06D8CE702DA3EAE890701D45E274C845",
        source: "openemv/emv-utils src/emv_capk_static_data.h @ c29b155d (live CAPK list)",
    },
    // Mastercard 1984-bit production key [06].
    CaKeySpec {
        rid: "A000000004",
        index: 0x06,
        modulus: concat!(
            "CB26FC830B43785B2BCE37C81ED334622F9622F4C89AAE641046B2353433883F",
            "307FB7C974162DA72F7A4EC75D9D657336865B8D3023D3D645667625C9A07A6B",
            "7A137CF0C64198AE38FC238006FB2603F41F4F3BB9DA1347270F2F5D8C606E42",
            "0958C5F7D50A71DE30142F70DE468889B5E3A08695B938A50FC980393A9CBCE4",
            "4AD2D64F630BB33AD3F5F5FD495D31F37818C1D94071342E07F1BEC2194F6035",
            "BA5DED3936500EB82DFDA6E8AFB655B1EF3D0D7EBF86B66DD9F29F6B1D324FE8",
            "B26CE38AB2013DD13F611E7A594D675C4432350EA244CC34F3873CBA06592987",
            "A1D7E852ADC22EF5A2EE28132031E48F74037E3B34AB747F"
        ),
        exponent: "03",
        expiry_yymmdd: None,
        checksum: "F910A1504D5FFB793D94F3B500765E1ABCAD72D9",
        source: "openemv/emv-utils src/emv_capk_static_data.h @ c29b155d (live CAPK list)",
    },
    // UnionPay 1152-bit production key [08].
    CaKeySpec {
        rid: "A000000333",
        index: 0x08,
        modulus: concat!(
            "B61645EDFD5498FB246444037A0FA18C0F101EBD8EFA54573CE6E6A7FBF63ED2",
            "1D66340852B0211CF5EEF6A1CD989F66AF21A8EB19DBD8DBC3706D135363A0D6",
            "83D046304F5A836BC1BC632821AFE7A2F75DA3C50AC74C545A75456220413716",
            "9663CFCC0B06E67E2109EBA41BC67FF20CC8AC80D7B6EE1A95465B3B2657533E",
            "A56D92D539E5064360EA4850FED2D1BF"
        ),
        exponent: "03",
        expiry_yymmdd: Some("1"),
        checksum: "EE23B616C95C02652AD18860E48787C079E8E85A",
        source: "dayonaart/topwiseclient terminal-sdk-helper/src/main/java/id/co/payment2go/terminalsdkhelper/topwise/emv/capk/CapkImpl.kt @ 79f9602e (China UnionPay CAPK list)",
    },
    // UnionPay 1408-bit production key [09].
    CaKeySpec {
        rid: "A000000333",
        index: 0x09,
        modulus: concat!(
            "EB374DFC5A96B71D2863875EDA2EAFB96B1B439D3ECE0B1826A2672EEEFA7990",
            "286776F8BD989A15141A75C384DFC14FEF9243AAB32707659BE9E4797A247C2F",
            "0B6D99372F384AF62FE23BC54BCDC57A9ACD1D5585C303F201EF4E8B806AFB80",
            "9DB1A3DB1CD112AC884F164A67B99C7D6E5A8A6DF1D3CAE6D7ED3D5BE725B2DE",
            "4ADE23FA679BF4EB15A93D8A6E29C7FFA1A70DE2E54F593D908A3BF9EBBD760B",
            "BFDC8DB8B54497E6C5BE0E4A4DAC29E5"
        ),
        exponent: "03",
        expiry_yymmdd: Some("301231"),
        checksum: "A075306EAB0045BAF72CDD33B3B678779DE1F527",
        source: "dayonaart/topwiseclient terminal-sdk-helper/src/main/java/id/co/payment2go/terminalsdkhelper/topwise/emv/capk/CapkImpl.kt @ 79f9602e (China UnionPay CAPK list)",
    },
    // UnionPay 1024-bit production key [0A].
    CaKeySpec {
        rid: "A000000333",
        index: 0x0A,
        modulus: concat!(
            "B2AB1B6E9AC55A75ADFD5BBC34490E53C4C3381F34E60E7FAC21CC2B26DD3446",
            "2B64A6FAE2495ED1DD383B8138BEA100FF9B7A111817E7B9869A9742B19E5C9D",
            "AC56F8B8827F11B05A08ECCF9E8D5E85B0F7CFA644EFF3E9B796688F38E006DE",
            "B21E101C01028903A06023AC5AAB8635F8E307A53AC742BDCE6A283F585F48EF",
        ),
        exponent: "03",
        expiry_yymmdd: Some("301231"),
        checksum: "C88BE6B2417C4F941C9371EA35A377158767E4E3",
        source: "dayonaart/topwiseclient terminal-sdk-helper/src/main/java/id/co/payment2go/terminalsdkhelper/topwise/emv/capk/CapkImpl.kt @ 79f9602e (China UnionPay CAPK list)",
    },
    // UnionPay 1984-bit production key [0B].
    CaKeySpec {
        rid: "A000000333",
        index: 0x0B,
        modulus: concat!(
            "CF9FDF46B356378E9AF311B0F981B21A1F22F250FB11F55C958709E3C7241918",
            "293483289EAE688A094C02C344E2999F315A72841F489E24B1BA0056CFAB3B47",
            "9D0E826452375DCDBB67E97EC2AA66F4601D774FEAEF775ACCC621BFEB65FB00",
            "53FC5F392AA5E1D4C41A4DE9FFDFDF1327C4BB874F1F63A599EE3902FE95E729",
            "FD78D4234DC7E6CF1ABABAA3F6DB29B7F05D1D901D2E76A606A8CBFFFFECBD91",
            "8FA2D278BDB43B0434F5D45134BE1C2781D157D501FF43E5F1C470967CD57CE5",
            "3B64D82974C8275937C5D8502A1252A8A5D6088A259B694F98648D9AF2CB0EFD",
            "9D943C69F896D49FA39702162ACB5AF29B90BADE005BC157"
        ),
        exponent: "03",
        expiry_yymmdd: Some("301231"),
        checksum: "BD331F9996A490B33C13441066A09AD3FEB5F66C",
        source: "dayonaart/topwiseclient terminal-sdk-helper/src/main/java/id/co/payment2go/terminalsdkhelper/topwise/emv/capk/CapkImpl.kt @ 79f9602e (China UnionPay CAPK list)",
    },
];
