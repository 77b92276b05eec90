//! EMV terminal risk management for transactions the terminal might approve offline
//! (EMV 4.4 Book 3, §10.6). Each check says whether the transaction must go online.

use super::bundle::OfflineLimits;

/// TVR bits set by terminal risk management (EMV 4.4 Book 3 Annex C5, TVR byte 4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrmResult {
    pub floor_limit_exceeded: bool,
    pub randomly_selected: bool,
    pub lower_consecutive_exceeded: bool,
    pub upper_consecutive_exceeded: bool,
}

/// §10.6.1 floor limits: the amount (plus what the terminal's log holds for the same card) at or
/// above the floor limit sets "transaction exceeds floor limit".
pub fn floor_limit_exceeded(
    limits: &OfflineLimits,
    amount_fen: u64,
    same_card_log_fen: u64,
) -> bool {
    amount_fen.saturating_add(same_card_log_fen) >= limits.floor_limit_fen
}

/// §10.6.2 random transaction selection, for amounts below the floor limit. `random` is 1..=99.
/// Below the threshold the chance is the target percentage; from the threshold to the floor limit
/// it rises linearly towards the maximum target percentage.
pub fn randomly_selected(limits: &OfflineLimits, amount_fen: u64, random: u8) -> bool {
    if amount_fen >= limits.floor_limit_fen {
        return false;
    }
    let tp = u64::from(limits.target_percent);
    let mtp = u64::from(limits.max_target_percent);
    if amount_fen < limits.random_threshold_fen {
        return u64::from(random) <= tp;
    }
    // Transaction target percent = ((MTP − TP) × (amount − threshold) / (floor − threshold)) + TP.
    // Compared as random × span ≤ (MTP − TP) × (amount − threshold) + TP × span, which keeps the
    // fraction exact in integers. The floor is above the amount here, so span > 0.
    let span = limits.floor_limit_fen - limits.random_threshold_fen;
    let over = amount_fen - limits.random_threshold_fen;
    let lhs = u128::from(random) * u128::from(span);
    let rhs =
        u128::from(mtp.saturating_sub(tp)) * u128::from(over) + u128::from(tp) * u128::from(span);
    lhs <= rhs
}

/// §10.6.3 velocity checking: consecutive offline transactions = ATC − last online ATC. When the
/// card gives neither, both limits count as exceeded.
pub fn velocity(
    limits: &OfflineLimits,
    atc: Option<u16>,
    last_online_atc: Option<u16>,
) -> (bool, bool) {
    match (atc, last_online_atc) {
        (Some(atc), Some(last)) => {
            let offline = atc.saturating_sub(last);
            (offline > limits.lcol, offline > limits.ucol)
        }
        _ => (true, true),
    }
}

pub fn assess(
    limits: &OfflineLimits,
    amount_fen: u64,
    same_card_log_fen: u64,
    random: u8,
    atc: Option<u16>,
    last_online_atc: Option<u16>,
) -> TrmResult {
    let (lower, upper) = velocity(limits, atc, last_online_atc);
    TrmResult {
        floor_limit_exceeded: floor_limit_exceeded(limits, amount_fen, same_card_log_fen),
        randomly_selected: randomly_selected(limits, amount_fen, random),
        lower_consecutive_exceeded: lower,
        upper_consecutive_exceeded: upper,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> OfflineLimits {
        OfflineLimits {
            floor_limit_fen: 10_000,
            random_threshold_fen: 2_000,
            target_percent: 20,
            max_target_percent: 60,
            lcol: 3,
            ucol: 5,
            cumulative_max_fen: 0,
            cumulative_max_count: 0,
        }
    }

    #[test]
    fn floor_limit_acts_at_the_limit_including_the_log() {
        // EMV 4.4 Book 3 §10.6.1: "equal to or greater than the floor limit".
        let l = limits();
        assert!(!floor_limit_exceeded(&l, 9_999, 0));
        assert!(floor_limit_exceeded(&l, 10_000, 0));
        assert!(floor_limit_exceeded(&l, 6_000, 4_000));
    }

    #[test]
    fn random_selection_below_threshold_uses_target_percent() {
        // EMV 4.4 Book 3 §10.6.2: random number ≤ target percentage selects.
        let l = limits();
        assert!(randomly_selected(&l, 1_999, 20));
        assert!(!randomly_selected(&l, 1_999, 21));
    }

    #[test]
    fn random_selection_interpolates_between_threshold_and_floor() {
        // EMV 4.4 Book 3 §10.6.2 worked by hand: amount halfway (6,000 of 2,000..10,000) gives
        // TTP = (60 − 20) × 4,000 / 8,000 + 20 = 40.
        let l = limits();
        assert!(randomly_selected(&l, 6_000, 40));
        assert!(!randomly_selected(&l, 6_000, 41));
        // At the threshold TTP = TP; just under the floor it approaches MTP.
        assert!(randomly_selected(&l, 2_000, 20) && !randomly_selected(&l, 2_000, 21));
        assert!(randomly_selected(&l, 9_999, 59) && !randomly_selected(&l, 9_999, 60));
        // At or above the floor limit random selection does not apply (the floor check does).
        assert!(!randomly_selected(&l, 10_000, 1));
    }

    #[test]
    fn velocity_from_lcol_and_ucol() {
        // EMV 4.4 Book 3 §10.6.3: exceeded when ATC − last online ATC is greater than the limit;
        // missing ATC or last online ATC sets both.
        let l = limits();
        assert_eq!(velocity(&l, Some(13), Some(10)), (false, false));
        assert_eq!(velocity(&l, Some(14), Some(10)), (true, false));
        assert_eq!(velocity(&l, Some(15), Some(10)), (true, false));
        assert_eq!(velocity(&l, Some(16), Some(10)), (true, true));
        assert_eq!(velocity(&l, None, Some(10)), (true, true));
    }
}
