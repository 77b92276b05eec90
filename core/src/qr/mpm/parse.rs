//! Reading any merchant-presented payload: strict where a mistake would pay the wrong merchant
//! (structure, CRC), lenient with a warning where real issuers bend the rules.

use super::names::is_template;
use super::{CrcCheck, MpmError, MpmField, MpmPayload, MpmWarning};
use crate::money::Amount;
use crate::qr::crc::crc16_hex;
use crate::qr::emv_tlv::{self, RawObject};

/// Mandatory root objects other than 00 and 63 (EMV QRCPS MPM v1.1, root data object table,
/// presence "M").
const MANDATORY: &[u8] = &[52, 53, 58, 59, 60];

/// Parses and checks the CRC: a payload whose CRC does not match is rejected.
pub fn parse(text: &str) -> Result<MpmPayload<'_>, MpmError> {
    let payload = parse_unverified(text)?;
    if !payload.crc.is_valid() {
        return Err(MpmError::CrcMismatch {
            expected: payload.crc.computed,
            found: payload.crc.found.to_owned(),
        });
    }
    Ok(payload)
}

/// [`parse`] for bytes from a scanner: they must be UTF-8.
pub fn parse_bytes(bytes: &[u8]) -> Result<MpmPayload<'_>, MpmError> {
    let text = std::str::from_utf8(bytes).map_err(|e| MpmError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    parse(text)
}

/// Parses without rejecting a wrong CRC, for tools that show what a payload holds; the CRC
/// outcome is in [`MpmPayload::crc`]. Structure errors are still errors.
pub fn parse_unverified(text: &str) -> Result<MpmPayload<'_>, MpmError> {
    // Scanners often append a line ending; nothing may follow the CRC, so trailing whitespace
    // can never be payload.
    let text = text.trim_end();
    if text.is_empty() {
        return Err(MpmError::Empty);
    }
    let raw = emv_tlv::split(text, 0)?;
    let crc = check_crc(text, &raw)?;
    let mut warnings = Vec::new();
    let fields = to_fields(&raw, &mut warnings, true);
    check_rules(&fields, &mut warnings)?;
    Ok(MpmPayload {
        fields,
        crc,
        warnings,
    })
}

fn check_crc<'a>(text: &str, raw: &[RawObject<'a>]) -> Result<CrcCheck<'a>, MpmError> {
    let last = raw.last().ok_or(MpmError::CrcMissing)?;
    if last.id != 63 {
        return match raw.iter().find(|o| o.id == 63) {
            Some(o) => Err(MpmError::CrcNotLast { offset: o.offset }),
            None => Err(MpmError::CrcMissing),
        };
    }
    if last.value.len() != 4 || !last.value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MpmError::CrcMalformed {
            offset: last.offset,
            found: last.value.to_owned(),
        });
    }
    // The CRC covers everything up to and including "6304", i.e. up to the CRC value.
    let covered = &text.as_bytes()[..last.value_offset()];
    Ok(CrcCheck {
        found: last.value,
        computed: crc16_hex(covered),
    })
}

fn to_fields<'a>(
    raw: &[RawObject<'a>],
    warnings: &mut Vec<MpmWarning>,
    root: bool,
) -> Vec<MpmField<'a>> {
    let mut seen = [false; 100];
    let mut fields = Vec::with_capacity(raw.len());
    fields.extend(raw.iter().map(|o| {
        let slot = &mut seen[usize::from(o.id)];
        if *slot {
            warnings.push(MpmWarning::DuplicateId {
                id: o.id,
                offset: o.offset,
            });
        }
        *slot = true;
        let sub_fields = if root && is_template(o.id) {
            match emv_tlv::split(o.value, o.value_offset()) {
                Ok(sub) => Some(to_fields(&sub, warnings, false)),
                Err(reason) => {
                    warnings.push(MpmWarning::TemplateNotParsed { id: o.id, reason });
                    None
                }
            }
        } else {
            None
        };
        MpmField {
            id: o.id,
            offset: o.offset,
            value: o.value,
            sub_fields,
        }
    }));
    fields
}

fn check_rules(fields: &[MpmField], warnings: &mut Vec<MpmWarning>) -> Result<(), MpmError> {
    let pfi = fields
        .iter()
        .find(|f| f.id == 0)
        .ok_or(MpmError::NoPayloadFormatIndicator)?;
    if pfi.offset != 0 {
        warnings.push(MpmWarning::PayloadFormatNotFirst { offset: pfi.offset });
    }
    if pfi.value != "01" {
        warnings.push(MpmWarning::PayloadFormatIndicator {
            found: pfi.value.to_owned(),
        });
    }
    let mut present = [false; 100];
    for f in fields {
        present[usize::from(f.id)] = true;
    }
    let has = |id: u8| present[usize::from(id)];
    if let Some(poi) = fields.iter().find(|f| f.id == 1)
        && poi.value != "11"
        && poi.value != "12"
    {
        warnings.push(MpmWarning::InitiationMethod {
            found: poi.value.to_owned(),
        });
    }
    if !(2..=51).any(has) {
        warnings.push(MpmWarning::NoMerchantAccount);
    }
    for &id in MANDATORY {
        if !has(id) {
            warnings.push(MpmWarning::MissingMandatory { id });
        }
    }
    if let Some(amount) = fields.iter().find(|f| f.id == 54)
        && Amount::parse_yuan(amount.value).is_err()
    {
        warnings.push(MpmWarning::AmountFormat {
            found: amount.value.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
