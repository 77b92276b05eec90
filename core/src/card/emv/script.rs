//! Issuer script processing (EMV 4.4 Book 3 §10.10): the commands of templates 71 (before the
//! final GENERATE AC) and 72 (after) sent in order, with one 5-byte result per script
//! (Book 4 Annex A5; UnionPay reports them in tag DF31).

use super::bits::{Tsi, TsiBit, Tvr, TvrBit};
use super::channel::Card;
use crate::codec::tlv::{self, Tlv};

const MAX_SCRIPT_COMMANDS: usize = 32;

/// Runs every script of template `template` (0x71 or 0x72) found in `scripts`; returns the
/// results to append to the script results.
pub fn run(
    card: &mut Card,
    scripts: &[u8],
    template: u32,
    tvr: &mut Tvr,
    tsi: &mut Tsi,
) -> Vec<u8> {
    let Ok(objs) = tlv::parse(scripts) else {
        return Vec::new();
    };
    let failed_bit = if template == 0x71 {
        TvrBit::ScriptFailedBeforeFinalGenerateAc
    } else {
        TvrBit::ScriptFailedAfterFinalGenerateAc
    };
    let mut results = Vec::new();
    for s in objs.iter().filter(|o| o.tag == template) {
        tsi.set(TsiBit::ScriptProcessingPerformed);
        let id = tlv::find(s.children(), 0x9F18)
            .and_then(Tlv::bytes)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .unwrap_or_default();
        let commands: Vec<&[u8]> = s
            .children()
            .iter()
            .filter(|c| c.tag == 0x86)
            .filter_map(Tlv::bytes)
            .take(MAX_SCRIPT_COMMANDS)
            .collect();
        let mut status = 0x20; // successful
        for (i, c) in commands.iter().enumerate() {
            let ok = c.len() >= 4
                && card
                    .send(c)
                    .is_ok_and(|r| matches!(r.sw >> 8, 0x90 | 0x62 | 0x63));
            if !ok {
                status = 0x10 | u8::try_from(i + 1).unwrap_or(0x0F).min(0x0F);
                tvr.set(failed_bit);
                break;
            }
        }
        if commands.is_empty() {
            status = 0x00;
        }
        results.push(status);
        results.extend_from_slice(&id);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::super::channel::script::ScriptedCard;
    use super::*;

    /// Two commands, the second refused: result 12 (failed at command 2) and the TVR bit.
    #[test]
    fn results_per_script() {
        let scripts = "7216 9F1804 11223344 8605 8418000000 8606 841E0000 01AA".replace(' ', "");
        let scripts = hex::decode(scripts).unwrap();
        let mut sc = ScriptedCard::new(&[("84180000", "9000"), ("841E0000", "6985")]);
        let (mut tvr, mut tsi) = (Tvr::default(), Tsi::default());
        let r = run(&mut Card::new(&mut sc), &scripts, 0x72, &mut tvr, &mut tsi);
        assert_eq!(hex::encode_upper(r), "1211223344");
        assert!(tvr.is_set(TvrBit::ScriptFailedAfterFinalGenerateAc));
        assert!(tsi.is_set(TsiBit::ScriptProcessingPerformed));
        let mut sc = ScriptedCard::new(&[("84180000", "9000"), ("841E0000", "9000")]);
        let mut tvr = Tvr::default();
        let r = run(&mut Card::new(&mut sc), &scripts, 0x72, &mut tvr, &mut tsi);
        assert_eq!(hex::encode_upper(r), "2011223344");
        assert_eq!(tvr, Tvr::default());
        assert!(run(&mut Card::new(&mut sc), &scripts, 0x71, &mut tvr, &mut tsi).is_empty());
    }
}
