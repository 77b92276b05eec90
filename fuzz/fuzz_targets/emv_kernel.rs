//! The contact kernel against a card that answers anything: the input is a sequence of
//! length-prefixed response APDUs, replayed in order (then 6A82). No panic, and the kernel never
//! sends more than its command bound however the card answers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::card::Pan;
use smartpos_core::card::emv::{
    AcceptFirst, ContactKernel, FirstAcDecision, HostAnswer, IccChannel, KernelConfig,
    KernelPorts, NoCaKeys, NoPinPad, RiskSource, TerminalParams, TransactionData, channel,
    default_aids,
};
use smartpos_core::ports::DeviceFault;

struct Answers<'a> {
    data: &'a [u8],
    sent: usize,
}

impl IccChannel for Answers<'_> {
    fn exchange(&mut self, _: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, DeviceFault> {
        self.sent += 1;
        let Some((&len, rest)) = self.data.split_first() else {
            return Ok(zeroize::Zeroizing::new(vec![0x6A, 0x82]));
        };
        let n = usize::from(len).min(rest.len());
        let (answer, tail) = rest.split_at(n);
        self.data = tail;
        Ok(zeroize::Zeroizing::new(answer.to_vec()))
    }
}

struct NoRisk;

impl RiskSource for NoRisk {
    fn random_percent(&mut self) -> u8 {
        50
    }
    fn on_exception_file(&self, _: &Pan) -> bool {
        false
    }
}

fuzz_target!(|data: &[u8]| {
    let config = KernelConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids: default_aids(),
    };
    let txn = TransactionData {
        amount_fen: 100,
        other_amount_fen: 0,
        transaction_type: 0,
        date: [0x26, 0x12, 0x04],
        time: [0x10, 0, 0],
        unpredictable_number: [1, 2, 3, 4],
        sequence_counter: 1,
        merchant_forced_online: false,
    };
    let mut card = Answers { data, sent: 0 };
    let ports = KernelPorts {
        chooser: &mut AcceptFirst,
        cvm: &mut NoPinPad,
        oda: &NoCaKeys,
        risk: &mut NoRisk,
    };
    let (mut kernel, decision) = ContactKernel::start(&config, txn, &mut card, ports);
    if matches!(decision, FirstAcDecision::Online(_)) {
        let host = HostAnswer {
            response_code: Some(*b"00"),
            issuer_authentication_data: Some(vec![0; 10]),
            issuer_scripts: vec![0x72, 0x07, 0x86, 0x05, 0x84, 0x18, 0, 0, 0],
        };
        let _ = kernel.complete(&host, &mut card, &NoCaKeys);
    }
    assert!(card.sent <= 2 * channel::MAX_COMMANDS);
});
