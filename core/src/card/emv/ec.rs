//! Electronic cash (PBOC 3.0 JR/T 0025.13) balance inquiry: select the application, then
//! GET DATA 9F79 (EC balance) and 9F6D (EC reset threshold, where the card has one). No GPO
//! is needed; the card answers GET DATA after SELECT.

use serde::{Deserialize, Serialize};

use super::channel::{Card, IccChannel, cmd};
use super::data::bcd_u64;
use super::kernel::KernelConfig;
use super::outcome::TerminationReason;
use super::records::channel_reason;
use super::select::{self, ApplicationChooser, SelectionEnd};
use crate::codec::tlv;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcBalance {
    /// The selected application.
    pub aid: Vec<u8>,
    pub balance_fen: u64,
    pub reset_threshold_fen: Option<u64>,
}

fn get_amount(card: &mut Card, tag: u16) -> Result<Option<u64>, TerminationReason> {
    let r = card.send(&cmd::get_data(tag)).map_err(channel_reason)?;
    if !r.ok() {
        return Ok(None);
    }
    let objs = tlv::parse(&r.data).map_err(|_| TerminationReason::CardProtocolError)?;
    tlv::find(&objs, u32::from(tag))
        .and_then(tlv::Tlv::bytes)
        .map(|v| bcd_u64(v).ok_or(TerminationReason::CardProtocolError))
        .transpose()
}

pub fn ec_balance(
    config: &KernelConfig,
    channel: &mut dyn IccChannel,
    chooser: &mut dyn ApplicationChooser,
) -> Result<EcBalance, TerminationReason> {
    let mut card = Card::new(channel);
    let can_confirm = config.terminal.supports_cardholder_confirmation;
    let mut list =
        select::candidates(&mut card, &config.aids, can_confirm).map_err(|e| match e {
            SelectionEnd::CardBlocked => TerminationReason::CardBlocked,
            SelectionEnd::Channel(e) => channel_reason(e),
            _ => TerminationReason::NoApplicationAccepted,
        })?;
    while !list.is_empty() {
        let c = select::choose(&mut list, chooser, can_confirm)
            .map_err(|_| TerminationReason::CardholderDeclinedApplication)?;
        if select::final_select(&mut card, &c)
            .map_err(channel_reason)?
            .is_none()
        {
            continue;
        }
        let Some(balance_fen) = get_amount(&mut card, 0x9F79)? else {
            return Err(TerminationReason::NotSupported);
        };
        return Ok(EcBalance {
            aid: c.adf,
            balance_fen,
            reset_threshold_fen: get_amount(&mut card, 0x9F6D)?,
        });
    }
    Err(TerminationReason::NoApplicationAccepted)
}

#[cfg(test)]
mod tests {
    use super::super::channel::script::ScriptedCard;
    use super::super::params::{TerminalParams, default_aids};
    use super::super::select::AcceptFirst;
    use super::*;

    fn config() -> KernelConfig {
        KernelConfig {
            terminal: TerminalParams::unionpay_attended(),
            aids: default_aids(),
        }
    }

    const FCI: &str = "6F0E8408A000000333010106A502500090 00";

    /// GET DATA answers in BCD fen: 9F79 = 000000012345 is 123.45 yuan.
    #[test]
    fn balance_and_threshold() {
        let fci = FCI.replace(' ', "");
        let mut sc = ScriptedCard::new(&[
            ("00A404000E", "6A82"),
            ("00A4040008A000000333010106", &fci),
            ("00A4040008A000000333010106", &fci),
            ("80CA9F79", "9F79060000000123459000"),
            ("80CA9F6D", "9F6D060000000100009000"),
        ]);
        let b = ec_balance(&config(), &mut sc, &mut AcceptFirst).unwrap();
        assert_eq!(b.balance_fen, 12_345);
        assert_eq!(b.reset_threshold_fen, Some(10_000));
        assert_eq!(hex::encode_upper(b.aid), "A000000333010106");
    }

    #[test]
    fn a_card_without_ec() {
        let fci = FCI.replace(' ', "");
        let mut sc = ScriptedCard::new(&[
            ("00A4040008A000000333010106", &fci),
            ("00A4040008A000000333010106", &fci),
            ("80CA9F79", "6A88"),
        ]);
        assert_eq!(
            ec_balance(&config(), &mut sc, &mut AcceptFirst),
            Err(TerminationReason::NotSupported)
        );
        let mut sc = ScriptedCard::new(&[("00A404000E", "6A81")]);
        assert_eq!(
            ec_balance(&config(), &mut sc, &mut AcceptFirst),
            Err(TerminationReason::CardBlocked)
        );
    }
}
