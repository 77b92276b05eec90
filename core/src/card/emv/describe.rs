//! Human descriptions of EMV data elements for decoders (`smartpos tlv`): bit fields by name,
//! CVM lists and results (Book 3 Annex C3, Book 4 Annex A4), DOLs as tag/length lists, text.

use super::bits::{
    ADDITIONAL_CAPABILITIES_BITS, AIP_BITS, AUC_BITS, TERMINAL_CAPABILITIES_BITS, TSI_BITS,
    TVR_BITS, set_bits,
};
use super::data::be_u64;
use super::{dol, tags};

pub fn cvm_method(code: u8) -> &'static str {
    match code & 0x3F {
        0x00 => "fail CVM processing",
        0x01 => "plaintext PIN verified by ICC",
        0x02 => "enciphered PIN verified online",
        0x03 => "plaintext PIN verified by ICC and signature",
        0x04 => "enciphered PIN verified by ICC",
        0x05 => "enciphered PIN verified by ICC and signature",
        0x1E => "signature",
        0x1F => "no CVM required",
        0x3F => "no CVM performed",
        _ => "unrecognised CVM",
    }
}

pub fn cvm_condition(cond: u8) -> &'static str {
    match cond {
        0x00 => "always",
        0x01 => "if unattended cash",
        0x02 => "if not unattended cash and not manual cash and not purchase with cashback",
        0x03 => "if terminal supports the CVM",
        0x04 => "if manual cash",
        0x05 => "if purchase with cashback",
        0x06 => "if transaction is in the application currency and is under X",
        0x07 => "if transaction is in the application currency and is over X",
        0x08 => "if transaction is in the application currency and is under Y",
        0x09 => "if transaction is in the application currency and is over Y",
        _ => "unknown condition",
    }
}

fn rule(method: u8, cond: u8) -> String {
    let next = if method & 0x40 != 0 {
        "apply next CVM if unsuccessful"
    } else {
        "fail cardholder verification if unsuccessful"
    };
    format!("{} / {} / {next}", cvm_method(method), cvm_condition(cond))
}

/// Lines describing `value` of `tag`, `None` when the tag has no special decoding.
pub fn describe(tag: u32, value: &[u8]) -> Option<Vec<String>> {
    let names = |table| {
        let n: Vec<String> = set_bits(table, value)
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        if n.is_empty() {
            vec!["no bit set".to_owned()]
        } else {
            n
        }
    };
    Some(match tag {
        0x95 => names(TVR_BITS),
        0x9B => names(TSI_BITS),
        0x82 => names(AIP_BITS),
        0x9F07 => names(AUC_BITS),
        0x9F33 => names(TERMINAL_CAPABILITIES_BITS),
        0x9F40 => names(ADDITIONAL_CAPABILITIES_BITS),
        0x9F34 => {
            let [m, c, r] = <[u8; 3]>::try_from(value).ok()?;
            let result = match r {
                0x00 => "unknown",
                0x01 => "failed",
                0x02 => "successful",
                _ => "RFU",
            };
            vec![rule(m, c), format!("result: {result}")]
        }
        0x8E => {
            if value.len() < 8 || !value.len().is_multiple_of(2) {
                return Some(vec!["malformed CVM list".to_owned()]);
            }
            let mut out = vec![
                format!("amount X: {}", be_u64(&value[0..4])),
                format!("amount Y: {}", be_u64(&value[4..8])),
            ];
            out.extend(value[8..].chunks_exact(2).map(|r| rule(r[0], r[1])));
            out
        }
        0x8C | 0x8D | 0x9F38 | 0x9F49 | 0x97 | 0x9F4F => match dol::parse(value) {
            Ok(entries) => entries
                .iter()
                .map(|e| {
                    let name = tags::name(e.tag).unwrap_or("unknown tag");
                    format!("{:X} {name} ({} bytes)", e.tag, e.len)
                })
                .collect(),
            Err(e) => vec![e.to_string()],
        },
        0x50 | 0x9F12 | 0x5F2D => {
            let text: String = value
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        char::from(b)
                    } else {
                        '.'
                    }
                })
                .collect();
            vec![format!("\"{text}\"")]
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(
            describe(0x9F34, &[0x42, 0x03, 0x00]).unwrap(),
            [
                "enciphered PIN verified online / if terminal supports the CVM / apply next CVM \
                 if unsuccessful",
                "result: unknown"
            ]
        );
        let l = describe(0x8E, &hex::decode("000000000000000042031E031F00").unwrap()).unwrap();
        assert_eq!(l.len(), 5);
        assert!(l[3].starts_with("signature"));
        let d = describe(0x8C, &hex::decode("9F02069F3704").unwrap()).unwrap();
        assert_eq!(
            d,
            [
                "9F02 amount, authorised (6 bytes)",
                "9F37 unpredictable number (4 bytes)"
            ]
        );
        assert_eq!(describe(0x50, b"VISA").unwrap(), ["\"VISA\""]);
        assert_eq!(describe(0x95, &[0; 5]).unwrap(), ["no bit set"]);
        assert!(describe(0x9F26, &[0; 8]).is_none());
    }
}
