//! Arbitrary APDUs against the virtual cards: the card never panics and always answers a
//! status word (DESIGN principle 7: no panic on input).

mod card_sim_support;

use card_sim_support::*;
use proptest::prelude::*;
use smartpos_core::ports::CardReader;

proptest! {
    /// Arbitrary APDUs, alone or after a valid start, never panic the card and always get
    /// a two-byte status word at least.
    #[test]
    fn arbitrary_apdus_never_panic(
        cmds in proptest::collection::vec(
            (prop_oneof![Just(0x00u8), Just(0x80), Just(0x84), Just(0x04), any::<u8>()],
             prop_oneof![Just(0xA4u8), Just(0xB2), Just(0xA8), Just(0xCA), Just(0x20), Just(0x84),
                         Just(0x88), Just(0xAE), Just(0x82), Just(0x1E), Just(0x18), Just(0xDA), any::<u8>()],
             any::<u8>(), any::<u8>(),
             proptest::collection::vec(any::<u8>(), 0..260)),
            1..12),
        warm in any::<bool>(),
    ) {
        let c = card("unionpay-scripts");
        if warm {
            let txn = start(&c, 100);
            generate_ac(&c, 0x80, &txn.cdol1, &txn.values);
        }
        for (cla, ins, p1, p2, tail) in cmds {
            let mut raw = vec![cla, ins, p1, p2];
            raw.extend_from_slice(&tail);
            let r = c.transceive(&raw).expect("card present");
            prop_assert!(r.len() >= 2);
        }
    }

    /// Any byte string at all, including ones too short to be a command.
    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        let c = card("unionpay-offline-pin");
        start(&c, 100);
        let r = c.transceive(&raw).expect("card present");
        prop_assert!(r.len() >= 2);
    }
}
