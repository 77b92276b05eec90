//! Field 62 of UnionPay's IC parameter and CA public key downloads (network management, 60.3):
//! the status query lists what the acquirer holds, one download message fetches each entry,
//! and an end message closes the session.
//!
//! Sources (no public copy of the UnionPay POS terminal specification was found; these are
//! independent open-source implementations of it, read for the formats, code not copied):
//! - kunlab jpos `util/enums/MsgEnum.java`: 0800 with 60.3 = 370 (CA key download), 371 (CA key
//!   download end), 380 (IC parameter download), 381 (IC parameter download end); the
//!   request carries fields 41, 42, 60 and no MAC (no field 64 in either direction).
//! - A terminal app's `getIso60` (POS_STATUS_UPLOAD): the status query ("POS 状态上送") uses
//!   60.3 = 372 for CA keys, 382 for IC parameters (373 for SM2 CA keys, which this terminal
//!   folds into 372: its key records name their algorithm in DF07).
//! - bestpay posp `M_DownParameterChecker.java` (a host): the status query's field 62 is
//!   ASCII "1" and the count of entries the terminal already received; the answer starts with
//!   '0' (nothing), '1' (these are the last) or '2' (more follow: ask again from the new count)
//!   and lists one 9F06 per entry. A download request is the TLV of the entry (9F06, and 9F22
//!   for a key); its answer is '1' and the entry's TLV, or '0' when the host has no such entry.
//!
//! UnionPay's private tags (DF01..DF21) have bit 6 of their first byte set, which strict
//! BER-TLV reads as "constructed"; in these records every object is primitive, so field 62 is
//! read with the flat reader below rather than `codec::tlv`.

use thiserror::Error;

/// Which table a download replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChipSet {
    /// The certification authority public keys (ODA).
    CaKeys,
    /// The per-AID terminal parameters (the AID table).
    IcParameters,
}

impl ChipSet {
    pub const ALL: [ChipSet; 2] = [ChipSet::IcParameters, ChipSet::CaKeys];

    /// 60.3 of the status query (sent as 0820).
    pub fn status_code(self) -> &'static str {
        match self {
            ChipSet::CaKeys => "372",
            ChipSet::IcParameters => "382",
        }
    }

    /// 60.3 of a download request (0800).
    pub fn download_code(self) -> &'static str {
        match self {
            ChipSet::CaKeys => "370",
            ChipSet::IcParameters => "380",
        }
    }

    /// 60.3 of the end of the download (0800).
    pub fn end_code(self) -> &'static str {
        match self {
            ChipSet::CaKeys => "371",
            ChipSet::IcParameters => "381",
        }
    }

    /// The set a 60.3 code belongs to, and which step it is.
    pub fn from_code(code: &str) -> Option<(ChipSet, Step)> {
        ChipSet::ALL.into_iter().find_map(|set| {
            if code == set.status_code() {
                Some((set, Step::Status))
            } else if code == set.download_code() {
                Some((set, Step::Download))
            } else if code == set.end_code() {
                Some((set, Step::End))
            } else {
                None
            }
        })
    }

    /// The name used in the journal, logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ChipSet::CaKeys => "ca_keys",
            ChipSet::IcParameters => "ic_parameters",
        }
    }

    pub fn from_name(name: &str) -> Option<ChipSet> {
        ChipSet::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The three steps of a download session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Status,
    Download,
    End,
}

/// An entry as the status query lists it: the AID or RID (9F06) and, for a key, its index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: Vec<u8>,
    pub index: Option<u8>,
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", hex::encode_upper(&self.id))?;
        if let Some(i) = self.index {
            write!(f, " [{i:02X}]")?;
        }
        Ok(())
    }
}

/// One page of the status answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPage {
    pub entries: Vec<Listed>,
    /// The host has more entries: query again from the new count.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    #[error("field 62 is empty")]
    Empty,
    #[error("field 62 starts with {0:?}, not '0', '1' or '2'")]
    BadStatus(char),
    #[error("the status query's field 62 is not '1' and a count: {0:?}")]
    BadQuery(String),
    #[error("TLV broken at byte {offset}: {what}")]
    Tlv { offset: usize, what: &'static str },
    #[error("entry without 9F06 before tag {0:X}")]
    OrphanTag(u32),
    #[error("tag {tag:X} has {len} bytes, expected {expected}")]
    Length {
        tag: u32,
        len: usize,
        expected: &'static str,
    },
    #[error("the download request names no 9F06")]
    NoId,
}

/// Field 62 of a status query: '1' and how many entries were already received, two digits.
pub fn status_request(received: usize) -> Vec<u8> {
    format!("1{:02}", received.min(99)).into_bytes()
}

/// The count a status query asks from (the host side).
pub fn parse_status_request(field: &[u8]) -> Result<usize, WireError> {
    let text = std::str::from_utf8(field).map_err(|_| WireError::BadQuery(hex::encode(field)))?;
    let digits = text
        .strip_prefix('1')
        .ok_or_else(|| WireError::BadQuery(text.to_string()))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WireError::BadQuery(text.to_string()));
    }
    digits
        .parse()
        .map_err(|_| WireError::BadQuery(text.to_string()))
}

/// Field 62 of a status answer (the host side).
pub fn status_response(entries: &[Listed], more: bool) -> Vec<u8> {
    if entries.is_empty() && !more {
        return b"0".to_vec();
    }
    let mut out = vec![if more { b'2' } else { b'1' }];
    for e in entries {
        out.extend(encode_object(0x9F06, &e.id));
        if let Some(i) = e.index {
            out.extend(encode_object(0x9F22, &[i]));
        }
    }
    out
}

/// Reads a status answer. Each 9F06 starts an entry; 9F22 gives a key's index; other tags (a
/// key's DF05 expiry) are informative and skipped: the record itself is what counts.
pub fn parse_status_response(field: &[u8]) -> Result<StatusPage, WireError> {
    let (&first, rest) = field.split_first().ok_or(WireError::Empty)?;
    let more = match first {
        b'0' => {
            return Ok(StatusPage {
                entries: Vec::new(),
                more: false,
            });
        }
        b'1' => false,
        b'2' => true,
        other => return Err(WireError::BadStatus(char::from(other))),
    };
    let mut entries: Vec<Listed> = Vec::new();
    for (tag, value) in parse_flat(rest)? {
        match tag {
            0x9F06 => entries.push(Listed {
                id: value.to_vec(),
                index: None,
            }),
            0x9F22 => {
                let last = entries.last_mut().ok_or(WireError::OrphanTag(tag))?;
                let [i] = value else {
                    return Err(WireError::Length {
                        tag,
                        len: value.len(),
                        expected: "1",
                    });
                };
                last.index = Some(*i);
            }
            _ if entries.is_empty() => return Err(WireError::OrphanTag(tag)),
            _ => {}
        }
    }
    Ok(StatusPage { entries, more })
}

/// Field 62 of a download request: the entry's 9F06 (and 9F22).
pub fn download_request(entry: &Listed) -> Vec<u8> {
    let mut out = encode_object(0x9F06, &entry.id);
    if let Some(i) = entry.index {
        out.extend(encode_object(0x9F22, &[i]));
    }
    out
}

/// The entry a download request names (the host side).
pub fn parse_download_request(field: &[u8]) -> Result<Listed, WireError> {
    let page = parse_status_response(&[b"1".as_slice(), field].concat())?;
    page.entries.into_iter().next().ok_or(WireError::NoId)
}

/// Field 62 of a download answer: '1' and the record, or '0' when there is none.
pub fn download_response(record: Option<&[u8]>) -> Vec<u8> {
    match record {
        Some(r) => [b"1".as_slice(), r].concat(),
        None => b"0".to_vec(),
    }
}

/// The record of a download answer, `None` when the host has no such entry.
pub fn parse_download_response(field: &[u8]) -> Result<Option<&[u8]>, WireError> {
    match field.split_first() {
        None => Err(WireError::Empty),
        Some((b'0', _)) => Ok(None),
        Some((b'1', record)) => Ok(Some(record)),
        Some((&other, _)) => Err(WireError::BadStatus(char::from(other))),
    }
}

/// Encodes one primitive object (tags up to three bytes, lengths up to 65535).
pub fn encode_object(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take(3).take_while(|&&b| b == 0).count();
    out.extend_from_slice(&tag_bytes[skip..]);
    match value.len() {
        n @ 0..=0x7F => out.push(n as u8),
        n @ 0x80..=0xFF => out.extend([0x81, n as u8]),
        n => {
            let n = u16::try_from(n).unwrap_or(u16::MAX);
            out.push(0x82);
            out.extend(n.to_be_bytes());
        }
    }
    out.extend_from_slice(value);
    out
}

/// Reads a sequence of objects, every one primitive (see the module note on DF tags).
pub fn parse_flat(bytes: &[u8]) -> Result<Vec<(u32, &[u8])>, WireError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let mut tag = u32::from(bytes[i]);
        if bytes[i] & 0x1F == 0x1F {
            loop {
                i += 1;
                let b = *bytes.get(i).ok_or(WireError::Tlv {
                    offset: start,
                    what: "tag truncated",
                })?;
                if i - start > 2 {
                    return Err(WireError::Tlv {
                        offset: start,
                        what: "tag longer than 3 bytes",
                    });
                }
                tag = tag << 8 | u32::from(b);
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        i += 1;
        let first = *bytes.get(i).ok_or(WireError::Tlv {
            offset: start,
            what: "length missing",
        })?;
        i += 1;
        let len = match first {
            0..=0x7F => usize::from(first),
            0x81 | 0x82 => {
                let n = usize::from(first & 0x7F);
                let len_bytes = bytes.get(i..i + n).ok_or(WireError::Tlv {
                    offset: start,
                    what: "length truncated",
                })?;
                i += n;
                len_bytes
                    .iter()
                    .fold(0usize, |acc, &b| acc << 8 | usize::from(b))
            }
            _ => {
                return Err(WireError::Tlv {
                    offset: start,
                    what: "length form not 1, 81 or 82",
                });
            }
        };
        let value = bytes.get(i..i + len).ok_or(WireError::Tlv {
            offset: start,
            what: "value runs past the end",
        })?;
        i += len;
        out.push((tag, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_each_step() {
        assert_eq!(
            ChipSet::from_code("372"),
            Some((ChipSet::CaKeys, Step::Status))
        );
        assert_eq!(
            ChipSet::from_code("380"),
            Some((ChipSet::IcParameters, Step::Download))
        );
        assert_eq!(
            ChipSet::from_code("381"),
            Some((ChipSet::IcParameters, Step::End))
        );
        assert_eq!(ChipSet::from_code("004"), None);
        assert_eq!(ChipSet::from_name("ca_keys"), Some(ChipSet::CaKeys));
    }

    #[test]
    fn status_query_round_trip() {
        assert_eq!(status_request(0), b"100");
        assert_eq!(status_request(12), b"112");
        assert_eq!(parse_status_request(b"112"), Ok(12));
        assert!(parse_status_request(b"2").is_err());
        assert!(parse_status_request(b"1").is_err());
        assert!(parse_status_request(b"1x").is_err());
    }

    #[test]
    fn status_answers_list_entries_and_say_whether_more_follow() {
        let keys = vec![
            Listed {
                id: hex::decode("A000000333").unwrap(),
                index: Some(0x0B),
            },
            Listed {
                id: hex::decode("A000000003").unwrap(),
                index: Some(0x09),
            },
        ];
        let field = status_response(&keys, true);
        assert_eq!(field[0], b'2');
        assert_eq!(hex::encode_upper(&field[1..13]), "9F0605A0000003339F22010B");
        let page = parse_status_response(&field).unwrap();
        assert!(page.more);
        assert_eq!(page.entries, keys);
        assert_eq!(status_response(&[], false), b"0");
        assert_eq!(parse_status_response(b"0").unwrap().entries, vec![]);
        // An expiry (DF05, eight ASCII digits) after the index is skipped.
        let with_expiry = hex::decode("319F0605A0000003339F22010BDF05083230333031323331").unwrap();
        let page = parse_status_response(&with_expiry).unwrap();
        assert_eq!(page.entries[0].index, Some(0x0B));
        assert!(!page.more);
    }

    #[test]
    fn malformed_fields_are_errors() {
        assert_eq!(parse_status_response(b""), Err(WireError::Empty));
        assert_eq!(parse_status_response(b"7"), Err(WireError::BadStatus('7')));
        assert!(matches!(
            parse_status_response(&hex::decode("319F06").unwrap()),
            Err(WireError::Tlv { .. })
        ));
        assert_eq!(
            parse_status_response(&hex::decode("319F220101").unwrap()),
            Err(WireError::OrphanTag(0x9F22))
        );
        assert!(matches!(
            parse_flat(&hex::decode("DF0283FFFFFF").unwrap()),
            Err(WireError::Tlv { .. })
        ));
        assert!(matches!(
            parse_flat(&hex::decode("DF02820100AA").unwrap()),
            Err(WireError::Tlv { .. })
        ));
    }

    #[test]
    fn long_values_and_private_tags_round_trip() {
        let modulus = vec![0xC5; 248];
        let encoded = encode_object(0xDF02, &modulus);
        assert_eq!(&encoded[..4], &[0xDF, 0x02, 0x81, 0xF8]);
        let objects = parse_flat(&encoded).unwrap();
        assert_eq!(objects, vec![(0xDF02, modulus.as_slice())]);
        let big = vec![1u8; 300];
        assert_eq!(
            parse_flat(&encode_object(0x9F06, &big)).unwrap()[0].1.len(),
            300
        );
    }

    #[test]
    fn download_request_and_answer() {
        let entry = Listed {
            id: hex::decode("A000000333010101").unwrap(),
            index: None,
        };
        let field = download_request(&entry);
        assert_eq!(hex::encode_upper(&field), "9F0608A000000333010101");
        assert_eq!(parse_download_request(&field).unwrap(), entry);
        assert_eq!(parse_download_request(b""), Err(WireError::NoId));
        assert_eq!(
            parse_download_response(&download_response(Some(b"xy"))),
            Ok(Some(b"xy".as_slice()))
        );
        assert_eq!(parse_download_response(b"0"), Ok(None));
        assert!(parse_download_response(b"9").is_err());
    }
}
