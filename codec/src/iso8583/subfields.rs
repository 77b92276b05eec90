//! Typed views of the UnionPay private fields: 60 (type code, batch, network code), 61 (the
//! original transaction), 48 (settlement totals), 62 (sign-on working keys), 63 (card
//! organisation). Layouts: 中国银联 POS 终端消息域说明 §3.22, §3.27–§3.30.

use std::fmt::Write as _;

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SubfieldError {
    #[error("field {field}: {len} digits, expected {expected}")]
    Length {
        field: &'static str,
        len: usize,
        expected: &'static str,
    },
    #[error("field {field}: character at position {index} is not a digit")]
    NotDigit { field: &'static str, index: usize },
    #[error("field 62: {len} bytes of key data; expected 24, 40 or 60")]
    KeyDataLength { len: usize },
}

fn digits_only(field: &'static str, s: &str) -> Result<(), SubfieldError> {
    match s.bytes().position(|c| !c.is_ascii_digit()) {
        Some(index) => Err(SubfieldError::NotDigit { field, index }),
        None => Ok(()),
    }
}

fn num<T: std::str::FromStr>(field: &'static str, s: &str) -> Result<T, SubfieldError> {
    s.parse()
        .map_err(|_| SubfieldError::NotDigit { field, index: 0 })
}

/// Field 60: 60.1 message type code n2, 60.2 batch number n6, 60.3 network-management code n3,
/// then optionally 60.4 terminal read capability n1, 60.5 IC condition code n1, and further
/// sub-fields (60.6 partial-approval flag, 60.7 account type, …) kept as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field60 {
    pub type_code: String,
    pub batch_no: u32,
    pub net_mgmt: String,
    pub read_capability: Option<char>,
    pub ic_condition: Option<char>,
    pub tail: String,
}

impl Field60 {
    pub fn parse(s: &str) -> Result<Field60, SubfieldError> {
        digits_only("60", s)?;
        if s.len() < 11 || s.len() > 17 {
            return Err(SubfieldError::Length {
                field: "60",
                len: s.len(),
                expected: "11 to 17",
            });
        }
        Ok(Field60 {
            type_code: s[0..2].to_string(),
            batch_no: num("60.2", &s[2..8])?,
            net_mgmt: s[8..11].to_string(),
            read_capability: s[11..].chars().next(),
            ic_condition: s[11..].chars().nth(1),
            tail: s.get(13..).unwrap_or("").to_string(),
        })
    }

    pub fn to_digits(&self) -> String {
        let mut s = format!(
            "{}{:06}{}",
            self.type_code,
            self.batch_no % 1_000_000,
            self.net_mgmt
        );
        if let Some(c) = self.read_capability {
            s.push(c);
            s.push(self.ic_condition.unwrap_or('0'));
            s.push_str(&self.tail);
        }
        s
    }
}

/// Field 61: 61.1 original batch n6, 61.2 original STAN n6, 61.3 original date MMDD n4
/// (optional), then further sub-fields kept as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field61 {
    pub batch_no: u32,
    pub stan: u32,
    pub date: Option<String>,
    pub tail: String,
}

impl Field61 {
    pub fn parse(s: &str) -> Result<Field61, SubfieldError> {
        digits_only("61", s)?;
        if s.len() < 12 || (s.len() > 12 && s.len() < 16) || s.len() > 29 {
            return Err(SubfieldError::Length {
                field: "61",
                len: s.len(),
                expected: "12, or 16 to 29",
            });
        }
        Ok(Field61 {
            batch_no: num("61.1", &s[0..6])?,
            stan: num("61.2", &s[6..12])?,
            date: s.get(12..16).map(str::to_string),
            tail: s.get(16..).unwrap_or("").to_string(),
        })
    }

    pub fn to_digits(&self) -> String {
        let mut s = format!(
            "{:06}{:06}",
            self.batch_no % 1_000_000,
            self.stan % 1_000_000
        );
        if let Some(d) = &self.date {
            s.push_str(d);
            s.push_str(&self.tail);
        }
        s
    }
}

/// One side (domestic or foreign cards) of the settlement totals in field 48.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideTotals {
    pub debit_count: u64,
    pub debit_amount: u64,
    pub credit_count: u64,
    pub credit_amount: u64,
    /// '0' in the request; in the answer '1' balanced, '2' unbalanced, '3' error.
    pub reconciliation: char,
}

impl SideTotals {
    pub fn zero() -> SideTotals {
        SideTotals {
            debit_count: 0,
            debit_amount: 0,
            credit_count: 0,
            credit_amount: 0,
            reconciliation: '0',
        }
    }

    fn parse(s: &str) -> Result<SideTotals, SubfieldError> {
        Ok(SideTotals {
            debit_count: num("48", &s[0..3])?,
            debit_amount: num("48", &s[3..15])?,
            credit_count: num("48", &s[15..18])?,
            credit_amount: num("48", &s[18..30])?,
            reconciliation: s[30..].chars().next().unwrap_or('0'),
        })
    }

    fn write(&self, out: &mut String) {
        let _ = write!(
            out,
            "{:03}{:012}{:03}{:012}{}",
            self.debit_count % 1000,
            self.debit_amount % 1_000_000_000_000,
            self.credit_count % 1000,
            self.credit_amount % 1_000_000_000_000,
            self.reconciliation
        );
    }
}

/// Field 48 of settlement (0500/0510): domestic then foreign totals, 31 digits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field48Totals {
    pub domestic: SideTotals,
    pub foreign: SideTotals,
}

impl Field48Totals {
    pub fn parse(s: &str) -> Result<Field48Totals, SubfieldError> {
        digits_only("48", s)?;
        if s.len() != 62 {
            return Err(SubfieldError::Length {
                field: "48",
                len: s.len(),
                expected: "62",
            });
        }
        Ok(Field48Totals {
            domestic: SideTotals::parse(&s[..31])?,
            foreign: SideTotals::parse(&s[31..])?,
        })
    }

    pub fn to_digits(&self) -> String {
        let mut s = String::with_capacity(62);
        self.domestic.write(&mut s);
        self.foreign.write(&mut s);
        s
    }
}

/// Field 63 (ans): 63.1 international card organisation code an3 ("CUP"), then private data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field63 {
    pub organisation: String,
    pub tail: String,
}

impl Field63 {
    pub fn parse(s: &str) -> Field63 {
        let split = s.char_indices().nth(3).map_or(s.len(), |(i, _)| i);
        Field63 {
            organisation: s[..split].to_string(),
            tail: s[split..].to_string(),
        }
    }
}

/// A working key as the host sends it: encrypted under the TMK, with its check value.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBlock {
    pub encrypted: Vec<u8>,
    pub check_value: [u8; 4],
}

impl std::fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyBlock {{ {} bytes, check {} }}",
            self.encrypted.len(),
            hex::encode_upper(self.check_value)
        )
    }
}

/// Field 62 of the sign-on response: PIK, MAK and optionally TDK, each followed by 4 bytes of
/// check value. 24 bytes: single-length PIK and MAK; 40: double-length PIK and MAK; 60: with TDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnKeys {
    pub pik: KeyBlock,
    pub mak: KeyBlock,
    pub tdk: Option<KeyBlock>,
}

impl SignOnKeys {
    pub fn parse(b: &[u8]) -> Result<SignOnKeys, SubfieldError> {
        let (key_len, count) = match b.len() {
            24 => (8, 2),
            40 => (16, 2),
            60 => (16, 3),
            len => return Err(SubfieldError::KeyDataLength { len }),
        };
        let block = |i: usize| {
            let at = i * (key_len + 4);
            let mut check_value = [0u8; 4];
            check_value.copy_from_slice(&b[at + key_len..at + key_len + 4]);
            KeyBlock {
                encrypted: b[at..at + key_len].to_vec(),
                check_value,
            }
        };
        Ok(SignOnKeys {
            pik: block(0),
            mak: block(1),
            tdk: (count == 3).then(|| block(2)),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(60);
        for k in [Some(&self.pik), Some(&self.mak), self.tdk.as_ref()]
            .into_iter()
            .flatten()
        {
            out.extend_from_slice(&k.encrypted);
            out.extend_from_slice(&k.check_value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field60_sale_and_sign_on() {
        // Sale in batch 000123 from a contact+contactless terminal, no fallback.
        let f = Field60::parse("22000123000").unwrap();
        assert_eq!(
            (f.type_code.as_str(), f.batch_no, f.net_mgmt.as_str()),
            ("22", 123, "000")
        );
        assert_eq!(f.read_capability, None);
        let full = Field60::parse("2200012300060").unwrap();
        assert_eq!(
            (full.read_capability, full.ic_condition),
            (Some('6'), Some('0'))
        );
        assert_eq!(full.to_digits(), "2200012300060");
        let tail = Field60::parse("22000123000620000").unwrap();
        assert_eq!(tail.tail, "0000");
        assert_eq!(tail.to_digits(), "22000123000620000");
        assert!(matches!(
            Field60::parse("2200012300"),
            Err(SubfieldError::Length { .. })
        ));
        assert!(matches!(
            Field60::parse("22000A23000"),
            Err(SubfieldError::NotDigit { index: 5, .. })
        ));
    }

    #[test]
    fn field61_original() {
        let f = Field61::parse("0001230004561125").unwrap();
        assert_eq!(
            (f.batch_no, f.stan, f.date.as_deref()),
            (123, 456, Some("1125"))
        );
        assert_eq!(f.to_digits(), "0001230004561125");
        let short = Field61::parse("000123000456").unwrap();
        assert_eq!(short.date, None);
        assert_eq!(short.to_digits(), "000123000456");
        assert!(Field61::parse("00012300045611").is_err());
    }

    #[test]
    fn field48_totals_round_trip() {
        let t = Field48Totals {
            domestic: SideTotals {
                debit_count: 2,
                debit_amount: 3000,
                credit_count: 1,
                credit_amount: 500,
                reconciliation: '0',
            },
            foreign: SideTotals::zero(),
        };
        let d = t.to_digits();
        assert_eq!(d.len(), 62);
        assert_eq!(&d[..31], "0020000000030000010000000005000");
        assert_eq!(Field48Totals::parse(&d).unwrap(), t);
        assert!(Field48Totals::parse(&d[..61]).is_err());
    }

    #[test]
    fn field62_key_layouts() {
        let mut b = Vec::new();
        for i in 0..3u8 {
            b.extend(std::iter::repeat_n(i + 1, 16));
            b.extend([0xA0 + i; 4]);
        }
        let keys = SignOnKeys::parse(&b).unwrap();
        assert_eq!(keys.pik.encrypted, vec![1; 16]);
        assert_eq!(keys.mak.check_value, [0xA1; 4]);
        assert_eq!(keys.tdk.as_ref().unwrap().encrypted, vec![3; 16]);
        assert_eq!(keys.to_bytes(), b);
        let two = SignOnKeys::parse(&b[..40]).unwrap();
        assert!(two.tdk.is_none());
        let single = SignOnKeys::parse(&[7u8; 24]).unwrap();
        assert_eq!(single.pik.encrypted.len(), 8);
        assert_eq!(
            SignOnKeys::parse(&b[..41]),
            Err(SubfieldError::KeyDataLength { len: 41 })
        );
    }

    #[test]
    fn field63_organisation() {
        assert_eq!(Field63::parse("CUP").organisation, "CUP");
        assert_eq!(Field63::parse("CUPxyz").tail, "xyz");
        assert_eq!(Field63::parse("CU").organisation, "CU");
    }
}
