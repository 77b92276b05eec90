//! The static data to be authenticated (EMV 4.4 Book 3 10.3): what the kernel feeds the SDA
//! signature and the ICC certificate hash, built from the records the AFL flags for ODA and,
//! when the card lists it in 9F4A, the AIP.

use super::error::OdaError;

/// One record the AFL flags for offline data authentication, as READ RECORD returned it
/// (without the status word).
#[derive(Debug, Clone, Copy)]
pub struct OdaRecord<'a> {
    pub sfi: u8,
    pub record: &'a [u8],
}

/// Book 3 10.3: records from SFI 1–10 contribute the value of their template 70 (tag and
/// length excluded), and one not coded as a 70 template makes ODA fail; records from SFI
/// 11–30 contribute the whole record, tag and length included. Then, if 9F4A (static data
/// authentication tag list) is present, it may only name the AIP (82), whose value is appended.
pub fn static_data_to_authenticate(
    records: &[OdaRecord<'_>],
    tag_list_9f4a: Option<&[u8]>,
    aip: Option<&[u8]>,
) -> Result<Vec<u8>, OdaError> {
    let mut out = Vec::new();
    for r in records {
        if (1..=10).contains(&r.sfi) {
            out.extend_from_slice(template_70_value(r.record)?);
        } else {
            out.extend_from_slice(r.record);
        }
    }
    match tag_list_9f4a {
        None | Some([]) => {}
        Some([0x82]) => {
            let aip = aip.ok_or(OdaError::IccDataMissing { tag: 0x82 })?;
            out.extend_from_slice(aip);
        }
        Some(_) => return Err(OdaError::StaticDataTagList),
    }
    Ok(out)
}

/// The value of a record's single 70 template; anything else is a malformed record.
fn template_70_value(record: &[u8]) -> Result<&[u8], OdaError> {
    let (&tag, rest) = record.split_first().ok_or(OdaError::StaticDataRecord)?;
    if tag != 0x70 {
        return Err(OdaError::StaticDataRecord);
    }
    let (&l0, rest) = rest.split_first().ok_or(OdaError::StaticDataRecord)?;
    let (len, value) = match l0 {
        0..=0x7F => (usize::from(l0), rest),
        0x81 => {
            let (&l, rest) = rest.split_first().ok_or(OdaError::StaticDataRecord)?;
            (usize::from(l), rest)
        }
        0x82 => match rest {
            [hi, lo, tail @ ..] => ((usize::from(*hi) << 8) | usize::from(*lo), tail),
            _ => return Err(OdaError::StaticDataRecord),
        },
        _ => return Err(OdaError::StaticDataRecord),
    };
    if value.len() != len {
        return Err(OdaError::StaticDataRecord);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sfi_rules_and_the_aip() {
        let short_sfi = [0x70, 0x03, 0x5A, 0x01, 0x62];
        let long_sfi = [0x70, 0x02, 0x9F, 0x01];
        let records = [
            OdaRecord {
                sfi: 1,
                record: &short_sfi,
            },
            OdaRecord {
                sfi: 11,
                record: &long_sfi,
            },
        ];
        assert_eq!(
            static_data_to_authenticate(&records, Some(&[0x82]), Some(&[0x7C, 0x00])).unwrap(),
            [0x5A, 0x01, 0x62, 0x70, 0x02, 0x9F, 0x01, 0x7C, 0x00]
        );
        assert_eq!(
            static_data_to_authenticate(&records, None, Some(&[0x7C, 0x00])).unwrap(),
            [0x5A, 0x01, 0x62, 0x70, 0x02, 0x9F, 0x01]
        );
        let long_form = [&[0x70, 0x81, 0x02][..], &[0xAB, 0xCD]].concat();
        assert_eq!(
            static_data_to_authenticate(
                &[OdaRecord {
                    sfi: 2,
                    record: &long_form
                }],
                None,
                None
            )
            .unwrap(),
            [0xAB, 0xCD]
        );
    }

    #[test]
    fn malformed_records_and_tag_lists_fail_oda() {
        for bad in [
            &[][..],
            &[0x77, 0x00][..],
            &[0x70][..],
            &[0x70, 0x05, 0x01][..],
            &[0x70, 0x01, 0x01, 0x02][..],
            &[0x70, 0x82, 0x00][..],
            &[0x70, 0x83, 0, 0, 1, 0][..],
        ] {
            assert_eq!(
                static_data_to_authenticate(
                    &[OdaRecord {
                        sfi: 3,
                        record: bad
                    }],
                    None,
                    None
                ),
                Err(OdaError::StaticDataRecord),
                "{bad:02X?}"
            );
        }
        assert_eq!(
            static_data_to_authenticate(&[], Some(&[0x9F, 0x36]), None),
            Err(OdaError::StaticDataTagList)
        );
        assert_eq!(
            static_data_to_authenticate(&[], Some(&[0x82]), None),
            Err(OdaError::IccDataMissing { tag: 0x82 })
        );
    }
}
