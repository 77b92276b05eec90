//! The contactless entry point and kernels against a card that answers anything. The input's
//! first three bytes choose the amount (so the limits, the CVM and the floor-limit paths are
//! reached), the rest is a sequence of response APDUs, each with a two-byte big-endian length,
//! replayed in order (then 6A82). No panic, and never more commands than the channel's bound.
//! ODA runs with the production CA table, so a card answering a real capture is verified.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::card::ctls::{self, CtlsConfig, CtlsPorts, UiRequest, default_ctls_aids};
use smartpos_core::card::emv::{
    CaKeyVerifier, IccChannel, TerminalParams, TransactionData, channel,
};
use smartpos_core::card::oda::CaKeyTable;
use smartpos_core::ports::DeviceFault;

struct Answers<'a> {
    data: &'a [u8],
    sent: usize,
}

impl IccChannel for Answers<'_> {
    fn exchange(&mut self, _: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, DeviceFault> {
        self.sent += 1;
        let [hi, lo, rest @ ..] = self.data else {
            return Ok(zeroize::Zeroizing::new(vec![0x6A, 0x82]));
        };
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        let (answer, tail) = rest.split_at(n);
        self.data = tail;
        Ok(zeroize::Zeroizing::new(answer.to_vec()))
    }
}

fuzz_target!(|data: &[u8]| {
    let [a, b, c, answers @ ..] = data else {
        return;
    };
    let mut aids = default_ctls_aids();
    for row in &mut aids {
        row.floor_limit_fen = 20_000;
        row.contactless_limit_fen = Some(1_000_000);
    }
    let config = CtlsConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids,
    };
    let txn = TransactionData {
        amount_fen: u64::from(u32::from_be_bytes([0, *a, *b, *c])),
        other_amount_fen: 0,
        transaction_type: 0,
        date: [0x23, 0x03, 0x01],
        time: [0x10, 0, 0],
        unpredictable_number: *b"8901",
        sequence_counter: 1,
        merchant_forced_online: false,
    };
    let verifier = CaKeyVerifier {
        ca_keys: CaKeyTable::production().unwrap_or_default(),
        ..CaKeyVerifier::default()
    };
    let mut card = Answers {
        data: answers,
        sent: 0,
    };
    let mut ui: Vec<UiRequest> = Vec::new();
    let (tap, outcome) = ctls::start(
        &config,
        txn,
        &mut card,
        CtlsPorts {
            oda: &verifier,
            ui: &mut ui,
        },
    );
    let _ = (tap.snapshot(), outcome.code());
    assert!(card.sent <= channel::MAX_COMMANDS + 16);
});
