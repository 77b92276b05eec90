//! How the card was read, and what UnionPay fields 22, 60.4 and 60.5 must say about it.
//!
//! A chip card (service code 2xx/6xx) swiped on a chip-capable terminal is sent to the chip
//! first. Only after the chip failed on this terminal for this card may the swipe be used, and
//! the transaction is then flagged as a fallback so the issuer can apply its fallback rules.

use super::ServiceCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryMode {
    Manual,
    Magstripe,
    ContactChip,
    Contactless,
    /// A chip card swiped after its chip failed on this terminal.
    FallbackMagstripe,
}

/// Field 60.5, IC card condition code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IcCondition {
    Normal,
    FallbackAfterChipFailure,
}

/// Field 60.4, terminal read capability; configured per terminal model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReadCapability {
    MagstripeOnly,
    ContactChip,
    ContactAndContactless,
}

/// Third digit of field 22.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PinCapability {
    CanAcceptPin,
    CannotAcceptPin,
}

/// Whether the chip of this card was already tried on this terminal in this attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipAttempt {
    NotTried,
    FailedOnThisTerminal,
}

/// What to do with a swipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwipeDecision {
    /// Chip card on a chip terminal: prompt "insert the card".
    InsertChip,
    Proceed(EntryConditions),
}

/// One row per entry mode: field 22 positions 1–2 and field 60.5 (UnionPay POS terminal
/// specification, field 22 "POS entry mode" and field 60 "self-defined field" sub-fields).
const ENTRY_MODES: [(EntryMode, &str, IcCondition); 5] = [
    (EntryMode::Manual, "01", IcCondition::Normal),
    (EntryMode::Magstripe, "02", IcCondition::Normal),
    (EntryMode::ContactChip, "05", IcCondition::Normal),
    (EntryMode::Contactless, "07", IcCondition::Normal),
    (
        EntryMode::FallbackMagstripe,
        "80",
        IcCondition::FallbackAfterChipFailure,
    ),
];

const IC_CONDITIONS: [(IcCondition, char); 2] = [
    (IcCondition::Normal, '0'),
    (IcCondition::FallbackAfterChipFailure, '2'),
];

const READ_CAPABILITIES: [(ReadCapability, char); 3] = [
    (ReadCapability::MagstripeOnly, '2'),
    (ReadCapability::ContactChip, '5'),
    (ReadCapability::ContactAndContactless, '6'),
];

const PIN_CAPABILITIES: [(PinCapability, char); 2] = [
    (PinCapability::CanAcceptPin, '1'),
    (PinCapability::CannotAcceptPin, '2'),
];

fn lookup<K: PartialEq + Copy, V: Copy>(table: &[(K, V)], key: K, default: V) -> V {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(default, |(_, v)| *v)
}

/// The entry facts that go into the request message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryConditions {
    pub mode: EntryMode,
    pub pin: PinCapability,
    pub read_capability: ReadCapability,
}

impl EntryConditions {
    pub fn new(mode: EntryMode, pin: PinCapability, read_capability: ReadCapability) -> Self {
        EntryConditions {
            mode,
            pin,
            read_capability,
        }
    }

    fn row(&self) -> (&'static str, IcCondition) {
        ENTRY_MODES
            .iter()
            .find(|(m, _, _)| *m == self.mode)
            .map_or(("00", IcCondition::Normal), |(_, code, ic)| (*code, *ic))
    }

    /// Field 22, n3: entry mode (2 digits) + PIN capability (1 digit).
    pub fn field22(&self) -> String {
        let mut s = String::with_capacity(3);
        s.push_str(self.row().0);
        s.push(lookup(&PIN_CAPABILITIES, self.pin, '0'));
        s
    }

    pub fn ic_condition(&self) -> IcCondition {
        self.row().1
    }

    pub fn is_fallback(&self) -> bool {
        self.ic_condition() == IcCondition::FallbackAfterChipFailure
    }

    /// Field 60.4, terminal read capability.
    pub fn field60_4(&self) -> char {
        lookup(&READ_CAPABILITIES, self.read_capability, '0')
    }

    /// Field 60.5, IC card condition code.
    pub fn field60_5(&self) -> char {
        lookup(&IC_CONDITIONS, self.ic_condition(), '0')
    }
}

/// Decides what a swipe leads to on this terminal.
pub fn decide_swipe(
    service_code: ServiceCode,
    chip: ChipAttempt,
    read_capability: ReadCapability,
    pin: PinCapability,
) -> SwipeDecision {
    let terminal_has_chip = read_capability != ReadCapability::MagstripeOnly;
    let mode = match (service_code.is_chip_card() && terminal_has_chip, chip) {
        (false, _) => EntryMode::Magstripe,
        (true, ChipAttempt::NotTried) => return SwipeDecision::InsertChip,
        (true, ChipAttempt::FailedOnThisTerminal) => EntryMode::FallbackMagstripe,
    };
    SwipeDecision::Proceed(EntryConditions::new(mode, pin, read_capability))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(s: &str) -> ServiceCode {
        ServiceCode::parse(s).unwrap()
    }

    #[test]
    fn chip_card_swiped_first_goes_to_chip() {
        for code in ["201", "221", "601"] {
            assert_eq!(
                decide_swipe(
                    sc(code),
                    ChipAttempt::NotTried,
                    ReadCapability::ContactAndContactless,
                    PinCapability::CanAcceptPin
                ),
                SwipeDecision::InsertChip,
                "{code}"
            );
        }
    }

    #[test]
    fn fallback_after_chip_failure() {
        let SwipeDecision::Proceed(e) = decide_swipe(
            sc("201"),
            ChipAttempt::FailedOnThisTerminal,
            ReadCapability::ContactChip,
            PinCapability::CanAcceptPin,
        ) else {
            panic!("fallback must proceed");
        };
        assert!(e.is_fallback());
        assert_eq!(e.field22(), "801");
        assert_eq!(e.field60_4(), '5');
        assert_eq!(e.field60_5(), '2');
    }

    #[test]
    fn magstripe_card_and_magstripe_only_terminal() {
        let SwipeDecision::Proceed(e) = decide_swipe(
            sc("101"),
            ChipAttempt::NotTried,
            ReadCapability::ContactAndContactless,
            PinCapability::CannotAcceptPin,
        ) else {
            panic!("magstripe card must proceed");
        };
        assert_eq!(
            (e.field22(), e.field60_4(), e.field60_5()),
            ("022".into(), '6', '0')
        );
        // A chip card on a terminal without a chip reader is a plain swipe, not a fallback.
        let SwipeDecision::Proceed(e) = decide_swipe(
            sc("201"),
            ChipAttempt::NotTried,
            ReadCapability::MagstripeOnly,
            PinCapability::CanAcceptPin,
        ) else {
            panic!("no chip reader: swipe proceeds");
        };
        assert_eq!(
            (e.field22(), e.field60_4(), e.field60_5()),
            ("021".into(), '2', '0')
        );
    }

    #[test]
    fn field22_for_every_mode() {
        let cases = [
            (EntryMode::Manual, "011"),
            (EntryMode::Magstripe, "021"),
            (EntryMode::ContactChip, "051"),
            (EntryMode::Contactless, "071"),
            (EntryMode::FallbackMagstripe, "801"),
        ];
        for (mode, f22) in cases {
            let e = EntryConditions::new(
                mode,
                PinCapability::CanAcceptPin,
                ReadCapability::ContactAndContactless,
            );
            assert_eq!(e.field22(), f22);
        }
    }
}
