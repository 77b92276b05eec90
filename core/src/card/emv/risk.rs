//! Terminal risk management (EMV 4.4 Book 3 §10.6): exception file, floor limit, random
//! transaction selection and velocity checking.

use super::bits::{Tsi, TsiBit, Tvr, TvrBit};
use super::channel::{Card, ChannelError, cmd};
use super::data::{TagStore, be_u64};
use super::params::AidParams;
use crate::codec::tlv;

/// What the terminal knows besides the card: a random number 1..=99 drawn for this
/// transaction, whether the PAN is on the exception (hot) list, and what its log holds for the
/// same card (§10.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskInputs {
    pub random: u8,
    pub on_exception_file: bool,
    pub same_card_log_fen: u64,
}

/// §10.6.2: below the threshold the chance is the target percentage; from the threshold to the
/// floor limit it rises linearly to the maximum target percentage. Exact in integers:
/// random × span ≤ (MTP − TP) × (amount − threshold) + TP × span.
pub fn randomly_selected(p: &AidParams, amount_fen: u64, random: u8) -> bool {
    if amount_fen >= p.floor_limit_fen {
        return false;
    }
    let tp = u128::from(p.target_percent);
    let mtp = u128::from(p.max_target_percent);
    if amount_fen < p.random_threshold_fen {
        return u128::from(random) <= tp;
    }
    let span = u128::from(p.floor_limit_fen - p.random_threshold_fen);
    let over = u128::from(amount_fen - p.random_threshold_fen);
    u128::from(random) * span <= mtp.saturating_sub(tp) * over + tp * span
}

fn get_data(card: &mut Card, tag: u16) -> Result<Option<u64>, ChannelError> {
    let r = card.send(&cmd::get_data(tag))?;
    if !r.ok() {
        return Ok(None);
    }
    Ok(tlv::parse(&r.data).ok().and_then(|o| {
        tlv::find(&o, u32::from(tag))
            .and_then(|t| t.bytes())
            .filter(|v| !v.is_empty())
            .map(be_u64)
    }))
}

pub fn terminal_risk_management(
    card: &mut Card,
    store: &TagStore,
    aid: &AidParams,
    amount_fen: u64,
    inputs: RiskInputs,
    tvr: &mut Tvr,
    tsi: &mut Tsi,
) -> Result<(), ChannelError> {
    if inputs.on_exception_file {
        tvr.set(TvrBit::CardOnExceptionFile);
    }
    if amount_fen.saturating_add(inputs.same_card_log_fen) >= aid.floor_limit_fen {
        tvr.set(TvrBit::FloorLimitExceeded);
    }
    if randomly_selected(aid, amount_fen, inputs.random) {
        tvr.set(TvrBit::RandomlySelectedOnline);
    }
    // §10.6.3: only when the card gives both limits.
    if let (Some(lcol), Some(ucol)) = (store.card(0x9F14), store.card(0x9F23)) {
        let (lcol, ucol) = (be_u64(lcol), be_u64(ucol));
        let atc = get_data(card, 0x9F36)?;
        let last = get_data(card, 0x9F13)?;
        match (atc, last) {
            (Some(atc), Some(last)) if atc > last => {
                let offline = atc - last;
                if offline > lcol {
                    tvr.set(TvrBit::LowerConsecutiveOfflineLimitExceeded);
                }
                if offline > ucol {
                    tvr.set(TvrBit::UpperConsecutiveOfflineLimitExceeded);
                }
                if last == 0 {
                    tvr.set(TvrBit::NewCard);
                }
            }
            (atc, last) => {
                tvr.set(TvrBit::LowerConsecutiveOfflineLimitExceeded);
                tvr.set(TvrBit::UpperConsecutiveOfflineLimitExceeded);
                if last == Some(0) && atc.is_some() {
                    tvr.set(TvrBit::NewCard);
                }
            }
        }
    }
    tsi.set(TsiBit::TerminalRiskManagementPerformed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::channel::script::ScriptedCard;
    use super::super::params::default_aids;
    use super::*;

    fn aid() -> AidParams {
        let mut a = default_aids().remove(0);
        a.floor_limit_fen = 10_000;
        a.random_threshold_fen = 5_000;
        a.target_percent = 20;
        a.max_target_percent = 60;
        a
    }

    /// §10.6.2 worked through: at 7 500 (half way) the target is 20 + 40 × 0.5 = 40 %.
    #[test]
    fn random_selection_formula() {
        let a = aid();
        assert!(randomly_selected(&a, 100, 20));
        assert!(!randomly_selected(&a, 100, 21));
        assert!(randomly_selected(&a, 7_500, 40));
        assert!(!randomly_selected(&a, 7_500, 41));
        assert!(
            !randomly_selected(&a, 10_000, 1),
            "at the floor limit, never"
        );
    }

    /// One row per §10.6 case: amount, inputs, card limits and GET DATA answers, TVR expected.
    #[test]
    fn table() {
        type Row = (u64, u8, bool, Option<(&'static str, &'static str)>, [u8; 5]);
        let rows: &[Row] = &[
            (100, 99, false, None, [0; 5]),
            (10_000, 99, false, None, [0, 0, 0, 0x80, 0]),
            (100, 1, false, None, [0, 0, 0, 0x10, 0]),
            (100, 99, true, None, [0x10, 0, 0, 0, 0]),
            // ATC 5, last online 3: 2 offline, LCOL 1 UCOL 3 → lower only.
            (
                100,
                99,
                false,
                Some(("9F3602000590 00", "9F1302000390 00")),
                [0, 0, 0, 0x40, 0],
            ),
            // ATC 9 → 6 offline: both.
            (
                100,
                99,
                false,
                Some(("9F3602000990 00", "9F1302000390 00")),
                [0, 0, 0, 0x60, 0],
            ),
            // Last online ATC 0: new card.
            (
                100,
                99,
                false,
                Some(("9F3602000190 00", "9F1302000090 00")),
                [0, 0x08, 0, 0, 0],
            ),
            // The card does not answer GET DATA: both limits exceeded.
            (100, 99, false, Some(("6A88", "6A88")), [0, 0, 0, 0x60, 0]),
        ];
        for (amount, random, hot, velocity, want) in rows {
            let mut store = TagStore::default();
            let mut pairs = Vec::new();
            let (atc, last);
            if let Some((a, l)) = velocity {
                store.set_card(0x9F14, &[1]);
                store.set_card(0x9F23, &[3]);
                atc = a.replace(' ', "");
                last = l.replace(' ', "");
                pairs.push(("80CA9F3600", atc.as_str()));
                pairs.push(("80CA9F1300", last.as_str()));
            }
            let mut sc = ScriptedCard::new(&pairs);
            let mut card = Card::new(&mut sc);
            let (mut tvr, mut tsi) = (Tvr::default(), Tsi::default());
            let inputs = RiskInputs {
                random: *random,
                on_exception_file: *hot,
                same_card_log_fen: 0,
            };
            terminal_risk_management(
                &mut card,
                &store,
                &aid(),
                *amount,
                inputs,
                &mut tvr,
                &mut tsi,
            )
            .unwrap();
            assert_eq!(tvr.0, *want, "amount {amount} random {random} {velocity:?}");
            assert_eq!(tsi.0, [0x08, 0]);
        }
    }
}
