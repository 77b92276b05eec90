//! Names of the data objects, from EMV QRCPS Merchant-Presented Mode v1.1, tables of the root
//! data objects, the Additional Data Field Template (ID 62) and the Merchant Information —
//! Language Template (ID 64). ID 15 is the one UnionPay fills (IDs 15–16 are reserved for it).

/// The name of a top-level ID.
pub fn field_name(id: u8) -> &'static str {
    match id {
        0 => "payload format indicator",
        1 => "point of initiation method",
        2..=3 => "merchant account information (Visa)",
        4..=5 => "merchant account information (Mastercard)",
        6..=8 | 17..=25 => "merchant account information (reserved by EMVCo)",
        9..=10 => "merchant account information (Discover)",
        11..=12 => "merchant account information (Amex)",
        13..=14 => "merchant account information (JCB)",
        15..=16 => "merchant account information (UnionPay)",
        26..=51 => "merchant account information (template)",
        52 => "merchant category code",
        53 => "transaction currency",
        54 => "transaction amount",
        55 => "tip or convenience indicator",
        56 => "value of convenience fee fixed",
        57 => "value of convenience fee percentage",
        58 => "country code",
        59 => "merchant name",
        60 => "merchant city",
        61 => "postal code",
        62 => "additional data field template",
        63 => "CRC",
        64 => "merchant information, language template",
        65..=79 => "RFU for EMVCo",
        _ => "unreserved template",
    }
}

/// The name of sub-field `id` inside top-level template `parent`.
pub fn sub_field_name(parent: u8, id: u8) -> &'static str {
    match (parent, id) {
        (26..=51 | 80..=99, 0) => "globally unique identifier",
        (26..=51 | 80..=99, _) => "payment network specific",
        (62, 1) => "bill number",
        (62, 2) => "mobile number",
        (62, 3) => "store label",
        (62, 4) => "loyalty number",
        (62, 5) => "reference label",
        (62, 6) => "customer label",
        (62, 7) => "terminal label",
        (62, 8) => "purpose of transaction",
        (62, 9) => "additional consumer data request",
        (62, 10) => "merchant tax ID",
        (62, 11) => "merchant channel",
        (62, 50..=99) => "payment system specific template",
        (64, 0) => "language preference",
        (64, 1) => "merchant name, alternate language",
        (64, 2) => "merchant city, alternate language",
        _ => "RFU for EMVCo",
    }
}

/// Whether a top-level ID is a template whose value holds data objects.
pub(super) fn is_template(id: u8) -> bool {
    matches!(id, 26..=51 | 62 | 64 | 80..=99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_the_ones_the_specification_nests() {
        for id in [26, 29, 51, 62, 64, 80, 99] {
            assert!(is_template(id), "{id}");
        }
        for id in [0, 1, 15, 25, 52, 54, 59, 63, 65, 79] {
            assert!(!is_template(id), "{id}");
        }
    }

    #[test]
    fn names_of_the_brief() {
        assert_eq!(field_name(15), "merchant account information (UnionPay)");
        assert_eq!(field_name(63), "CRC");
        assert_eq!(sub_field_name(62, 1), "bill number");
        assert_eq!(sub_field_name(62, 7), "terminal label");
        assert_eq!(sub_field_name(29, 0), "globally unique identifier");
    }
}
