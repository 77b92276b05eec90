//! Issue #17's FFI cost, Rust half: the same sales the Kotlin benchmark
//! (`bindings/kotlin/src/bench`) makes through the generated bindings, made here through the same
//! `Terminal` object with port implementations in Rust that do as little as the Kotlin ones. The
//! difference between the two runs, in one process against one simulator, is what the FFI costs
//! per sale; the port call counts say how many callbacks a sale makes. Behind the `ffi-bench`
//! feature: never in a shipped library.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use jni::JNIEnv;
use jni::objects::{JByteArray, JClass};
use jni::sys::jlong;

use crate::config::TerminalConfigRecord;
use crate::error::{SmartPosError, guard};
use crate::outcome::{Outcome, ReceiptRecord};
use crate::ped::{Ped, PedMacAlgorithm};
use crate::ports::{CardPresentationRecord, CardReader, PortError, Printer};
use crate::terminal::{CancelHandle, Terminal};
use crate::test_hooks::TestChipCard;

/// Counts port calls, as the Kotlin ports do.
#[derive(Default)]
struct Calls {
    reader: AtomicU64,
    printer: AtomicU64,
}

/// A swipe reader, or a contact reader in front of a virtual chip card: what the Kotlin
/// benchmark's readers do, minus the crossing.
struct BenchReader {
    track2: Option<String>,
    card: Option<Arc<TestChipCard>>,
    calls: Arc<Calls>,
}

impl CardReader for BenchReader {
    fn detect(&self, _timeout_ms: u64) -> Result<CardPresentationRecord, PortError> {
        self.calls.reader.fetch_add(1, Ordering::Relaxed);
        Ok(match &self.track2 {
            Some(track2) => CardPresentationRecord::Magstripe {
                track2: track2.clone(),
            },
            None => CardPresentationRecord::ContactChip,
        })
    }

    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, PortError> {
        self.calls.reader.fetch_add(1, Ordering::Relaxed);
        let card = self.card.as_ref().ok_or(PortError::Reader {
            detail: "no chip in a swipe run".into(),
        })?;
        card.transceive(apdu).map_err(|_| PortError::Reader {
            detail: "card".into(),
        })
    }

    fn remove_card(&self) -> Result<(), PortError> {
        self.calls.reader.fetch_add(1, Ordering::Relaxed);
        if let Some(card) = &self.card {
            card.remove();
        }
        Ok(())
    }
}

struct BenchPrinter {
    calls: Arc<Calls>,
}

impl Printer for BenchPrinter {
    fn print(&self, _receipt: ReceiptRecord) -> Result<(), PortError> {
        self.calls.printer.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn status(&self) -> Result<(), PortError> {
        self.calls.printer.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A terminal with Rust ports (a swipe of `track2`, or `card` inserted before every sale), signed
/// on and warmed up by one sale, whose sales the Kotlin benchmark interleaves one by one with its
/// own: a sale from each side in turn, so that disk and CPU noise on a shared machine (the journal
/// fsyncs dominate a sale) falls on both sides alike instead of on whichever run was unlucky.
#[derive(uniffi::Object)]
pub struct FfiBenchRustTerminal {
    terminal: Arc<Terminal>,
    card: Option<Arc<TestChipCard>>,
    calls: Arc<Calls>,
}

#[uniffi::export]
impl FfiBenchRustTerminal {
    #[uniffi::constructor]
    pub fn open(
        config: TerminalConfigRecord,
        ped: Arc<dyn Ped>,
        track2: Option<String>,
        card: Option<Arc<TestChipCard>>,
    ) -> Result<Arc<Self>, SmartPosError> {
        guard("FfiBenchRustTerminal.open", || {
            let calls = Arc::new(Calls::default());
            let reader = Arc::new(BenchReader {
                track2,
                card: card.clone(),
                calls: calls.clone(),
            });
            let printer = Arc::new(BenchPrinter {
                calls: calls.clone(),
            });
            let terminal = Terminal::open(config, reader, ped, printer)?;
            terminal.sign_on()?;
            let bench = Self {
                terminal,
                card,
                calls,
            };
            bench.sale("rust-warm-up".into(), 100)?;
            bench.calls.reader.store(0, Ordering::Relaxed);
            bench.calls.printer.store(0, Ordering::Relaxed);
            Ok(Arc::new(bench))
        })
    }

    /// One sale, timed from inside Rust: no crossing in the figure. `approved` tells whether it
    /// was.
    pub fn timed_sale(
        &self,
        attempt_id: String,
        amount_fen: u64,
    ) -> Result<FfiBenchSale, SmartPosError> {
        guard("FfiBenchRustTerminal.timed_sale", || {
            if let Some(card) = &self.card {
                card.insert();
            }
            let started = Instant::now();
            let outcome = self.sale(attempt_id, amount_fen)?;
            Ok(FfiBenchSale {
                nanos: nanos_since(started),
                approved: matches!(outcome, Outcome::Approved { .. }),
            })
        })
    }

    /// Calls into the reader and printer ports since the warm-up sale.
    pub fn port_calls(&self) -> u64 {
        self.calls.reader.load(Ordering::Relaxed) + self.calls.printer.load(Ordering::Relaxed)
    }

    pub fn shut_down(&self) -> Result<(), SmartPosError> {
        self.terminal.shut_down()
    }
}

impl FfiBenchRustTerminal {
    fn sale(&self, attempt_id: String, amount_fen: u64) -> Result<Outcome, SmartPosError> {
        self.terminal
            .sale(attempt_id, amount_fen, CancelHandle::new())
    }
}

/// One timed sale.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FfiBenchSale {
    pub nanos: u64,
    pub approved: bool,
}

/// A reader whose card answers every command with the same bytes: the port call with nothing
/// behind it.
struct FixedAnswerReader {
    answer: Vec<u8>,
}

impl CardReader for FixedAnswerReader {
    fn detect(&self, _timeout_ms: u64) -> Result<CardPresentationRecord, PortError> {
        Ok(CardPresentationRecord::ContactChip)
    }

    fn transceive(&self, _apdu: Vec<u8>) -> Result<Vec<u8>, PortError> {
        Ok(self.answer.clone())
    }

    fn remove_card(&self) -> Result<(), PortError> {
        Ok(())
    }
}

/// Nanoseconds for `count` calls of `reader.transceive(apdu)` through the port trait object, as
/// the kernel makes them. Given a Kotlin reader, each call is one JNA upcall (arguments lowered,
/// answer lifted); `ffi_bench_rust_transceive` is the same loop over a Rust reader.
#[uniffi::export]
pub fn ffi_bench_transceive(
    reader: Arc<dyn CardReader>,
    apdu: Vec<u8>,
    count: u32,
) -> Result<u64, SmartPosError> {
    guard("ffi_bench_transceive", || {
        transceive_loop(&*reader, &apdu, count)
    })
}

/// `ffi_bench_transceive` over a Rust reader answering `answer`.
#[uniffi::export]
pub fn ffi_bench_rust_transceive(
    answer: Vec<u8>,
    apdu: Vec<u8>,
    count: u32,
) -> Result<u64, SmartPosError> {
    guard("ffi_bench_rust_transceive", || {
        let reader: Arc<dyn CardReader> = Arc::new(FixedAnswerReader { answer });
        transceive_loop(&*reader, &apdu, count)
    })
}

fn transceive_loop(reader: &dyn CardReader, apdu: &[u8], count: u32) -> Result<u64, SmartPosError> {
    let started = Instant::now();
    for _ in 0..count {
        let answer = std::hint::black_box(reader.transceive(apdu.to_vec()));
        answer.map_err(|e| SmartPosError::Io {
            detail: format!("bench reader: {e}"),
        })?;
    }
    Ok(nanos_since(started))
}

/// Nanoseconds for `count` MACs of `data` by `ped` (`calculate_mac`, X9.19): the PED upcall an
/// online sale makes twice, timed as `ffi_bench_transceive` times the reader's.
#[uniffi::export]
pub fn ffi_bench_mac(ped: Arc<dyn Ped>, data: Vec<u8>, count: u32) -> Result<u64, SmartPosError> {
    guard("ffi_bench_mac", || {
        let started = Instant::now();
        for _ in 0..count {
            let mac = std::hint::black_box(ped.calculate_mac(PedMacAlgorithm::X919, data.clone()));
            mac.map_err(|e| SmartPosError::Io {
                detail: format!("bench PED: {e}"),
            })?;
        }
        Ok(nanos_since(started))
    })
}

fn nanos_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Virtual cards the benchmark's Kotlin channel reaches by JNI (`BenchCard.transceive`), as a
/// shell's reader SDK reaches its driver: so that the JNI side pays no UniFFI crossing the real
/// shell would not pay either.
static JNI_CARDS: Mutex<Vec<Arc<TestChipCard>>> = Mutex::new(Vec::new());

/// Makes `card` reachable from `BenchCard.transceive` under the returned index.
#[uniffi::export]
pub fn ffi_bench_jni_card(card: Arc<TestChipCard>) -> i64 {
    let mut cards = JNI_CARDS.lock().unwrap_or_else(PoisonError::into_inner);
    cards.push(card);
    i64::try_from(cards.len() - 1).unwrap_or(i64::MAX)
}

fn jni_card(card: jlong) -> Option<Arc<TestChipCard>> {
    let cards = JNI_CARDS.lock().unwrap_or_else(PoisonError::into_inner);
    usize::try_from(card)
        .ok()
        .and_then(|i| cards.get(i).cloned())
}

/// `BenchCard.remove(card)`: the card taken out of the slot, as a shell's reader SDK ejects it
/// (an unknown index does nothing).
#[unsafe(no_mangle)]
#[allow(unsafe_code)] // an exported, unmangled JNI entry point
pub extern "system" fn Java_com_smartpos_bench_BenchCard_remove<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    card: jlong,
) {
    remove_jni_card(card);
}

fn remove_jni_card(card: jlong) {
    if let Some(card) = jni_card(card) {
        card.remove();
    }
}

/// `BenchCard.transceive(card, apdu)`: the card's answer, or null when the card is not in the
/// slot (or the index is unknown).
#[unsafe(no_mangle)]
#[allow(unsafe_code)] // an exported, unmangled JNI entry point
pub extern "system" fn Java_com_smartpos_bench_BenchCard_transceive<'local>(
    env: JNIEnv<'local>,
    _class: JClass<'local>,
    card: jlong,
    apdu: JByteArray<'local>,
) -> JByteArray<'local> {
    let card = jni_card(card);
    let answer = match (card, env.convert_byte_array(&apdu)) {
        (Some(card), Ok(apdu)) => card.transceive(apdu).ok(),
        _ => None,
    };
    answer
        .and_then(|a| env.byte_array_from_slice(&a).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_hooks::test_chip_card;

    /// SELECT of the PSE, "1PAY.SYS.DDF01" (EMV Book 1, 12.2.2): any command the slot carries.
    const SELECT_PSE: &[u8] = b"\x00\xA4\x04\x00\x0E1PAY.SYS.DDF01\x00";

    #[test]
    fn a_card_is_found_by_the_index_it_was_given_and_by_no_other() {
        let card = test_chip_card("unionpay-debit-sda".into()).expect("catalogue card");
        let id = ffi_bench_jni_card(card.clone());
        assert!(jni_card(id).is_some_and(|found| Arc::ptr_eq(&found, &card)));
        assert!(jni_card(-1).is_none());
        assert!(jni_card(jlong::MAX).is_none());
    }

    #[test]
    fn removal_by_index_takes_that_card_out_of_the_slot() {
        let card = test_chip_card("unionpay-debit-sda".into()).expect("catalogue card");
        let id = ffi_bench_jni_card(card.clone());
        assert!(card.transceive(SELECT_PSE.to_vec()).is_ok(), "inserted");
        remove_jni_card(id);
        assert!(card.transceive(SELECT_PSE.to_vec()).is_err(), "removed");
        // An index nobody registered changes nothing and does not panic.
        remove_jni_card(-7);
        card.insert();
        assert!(
            card.transceive(SELECT_PSE.to_vec()).is_ok(),
            "back in the slot"
        );
    }
}
