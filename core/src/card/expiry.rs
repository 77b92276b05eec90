//! Card expiry date (YYMM, ISO/IEC 7813 track 2 / EMV tag 5F24 month part).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroize;

use super::CardError;

/// Expiry as printed in track 2: the card is valid through the last day of this month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Zeroize)]
pub struct Expiry {
    yy: u8,
    month: u8,
}

/// A calendar month, the terminal's "today" for expiry checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    year: u16,
    month: u8,
}

impl YearMonth {
    pub fn new(year: u16, month: u8) -> Result<YearMonth, CardError> {
        if !(1..=12).contains(&month) {
            return Err(CardError::CalendarMonth { month });
        }
        Ok(YearMonth { year, month })
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn month(&self) -> u8 {
        self.month
    }

    /// The civil month of `t` at a fixed UTC offset (China Standard Time is +480 minutes).
    /// Times before 1970 clamp to January 1970.
    pub fn from_system_time(t: SystemTime, utc_offset_minutes: i32) -> YearMonth {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2))
            .unwrap_or(0);
        let local = secs.saturating_add(i64::from(utc_offset_minutes) * 60);
        let (year, month) = civil_year_month(local.div_euclid(86_400));
        YearMonth {
            year: u16::try_from(year.clamp(0, i64::from(u16::MAX))).unwrap_or(u16::MAX),
            month,
        }
    }
}

/// Year and month from days since 1970-01-01 (proleptic Gregorian), after H. Hinnant's
/// `civil_from_days` derivation.
fn civil_year_month(days: i64) -> (i64, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u8)
}

impl Expiry {
    /// Parses `YYMM`.
    pub fn parse(yymm: &str) -> Result<Expiry, CardError> {
        let b = yymm.as_bytes();
        if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
            return Err(CardError::ExpiryFormat);
        }
        let yy = (b[0] - b'0') * 10 + (b[1] - b'0');
        let month = (b[2] - b'0') * 10 + (b[3] - b'0');
        if !(1..=12).contains(&month) {
            return Err(CardError::ExpiryMonth { month });
        }
        Ok(Expiry { yy, month })
    }

    /// Two-digit years are 20YY: cards issued before 2000 expired long ago.
    pub fn year(&self) -> u16 {
        2000 + u16::from(self.yy)
    }

    pub fn month(&self) -> u8 {
        self.month
    }

    /// A card expiring in month M is still good during M and expired from M+1 on.
    pub fn is_expired(&self, today: YearMonth) -> bool {
        today
            > YearMonth {
                year: self.year(),
                month: self.month,
            }
    }

    pub fn yymm(&self) -> String {
        format!("{:02}{:02}", self.yy, self.month)
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:02}", self.month, self.yy)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn parse_and_reject() {
        let e = Expiry::parse("2512").unwrap();
        assert_eq!((e.year(), e.month()), (2025, 12));
        assert_eq!(e.yymm(), "2512");
        assert_eq!(e.to_string(), "12/25");
        assert_eq!(
            Expiry::parse("2513").unwrap_err(),
            CardError::ExpiryMonth { month: 13 }
        );
        assert_eq!(
            Expiry::parse("2500").unwrap_err(),
            CardError::ExpiryMonth { month: 0 }
        );
        assert_eq!(Expiry::parse("251").unwrap_err(), CardError::ExpiryFormat);
        assert_eq!(Expiry::parse("25a2").unwrap_err(), CardError::ExpiryFormat);
    }

    #[test]
    fn valid_through_end_of_month() {
        let e = Expiry::parse("2512").unwrap();
        assert!(!e.is_expired(YearMonth::new(2025, 11).unwrap()));
        assert!(!e.is_expired(YearMonth::new(2025, 12).unwrap()));
        assert!(e.is_expired(YearMonth::new(2026, 1).unwrap()));
        assert!(!e.is_expired(YearMonth::new(2024, 12).unwrap()));
    }

    #[test]
    fn month_from_system_time() {
        // 1767225599 = 2025-12-31T23:59:59Z (date -u -d @1767225599).
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(
            YearMonth::from_system_time(t, 0),
            YearMonth::new(2025, 12).unwrap()
        );
        // Same instant is already 2026-01-01 07:59 in Beijing (UTC+8).
        assert_eq!(
            YearMonth::from_system_time(t, 480),
            YearMonth::new(2026, 1).unwrap()
        );
        // 951782400 = 2000-02-29T00:00:00Z, a leap day in a century year.
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(
            YearMonth::from_system_time(leap, 0),
            YearMonth::new(2000, 2).unwrap()
        );
        assert_eq!(
            YearMonth::from_system_time(UNIX_EPOCH, 0),
            YearMonth::new(1970, 1).unwrap()
        );
    }
}
