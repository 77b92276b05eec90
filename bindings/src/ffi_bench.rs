//! Issue #17's FFI cost, Rust half: the same sales the Kotlin benchmark
//! (`bindings/kotlin/src/bench`) makes through the generated bindings, made here through the same
//! `Terminal` object with port implementations in Rust that do as little as the Kotlin ones. The
//! difference between the two runs, in one process against one simulator, is what the FFI costs
//! per sale; the port call counts say how many callbacks a sale makes. Behind the `ffi-bench`
//! feature: never in a shipped library.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::config::TerminalConfigRecord;
use crate::error::{SmartPosError, guard};
use crate::outcome::{Outcome, ReceiptRecord};
use crate::ped::Ped;
use crate::ports::{CardPresentationRecord, CardReader, PortError, Printer};
use crate::terminal::{CancelHandle, Terminal};
use crate::test_hooks::TestChipCard;

/// What one run of sales measured.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FfiBenchReport {
    /// Wall time of each sale, in order, nanoseconds.
    pub sale_nanos: Vec<u64>,
    /// Sales approved (every one should be).
    pub approved: u32,
    /// Calls into the card reader port (detect, transceive, remove).
    pub reader_calls: u64,
    /// Calls into the printer port.
    pub printer_calls: u64,
}

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

/// Opens a terminal on `config` with Rust ports (a swipe of `track2`, or `card` inserted before
/// every sale), signs on, makes one warm-up sale, then `count` timed sales of `amount_fen`.
/// Call counts cover the timed sales only.
#[uniffi::export]
pub fn ffi_bench_rust_sales(
    config: TerminalConfigRecord,
    ped: Arc<dyn Ped>,
    track2: Option<String>,
    card: Option<Arc<TestChipCard>>,
    count: u32,
    amount_fen: u64,
) -> Result<FfiBenchReport, SmartPosError> {
    guard("ffi_bench_rust_sales", || {
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
        let sale = |id: String| {
            if let Some(card) = &card {
                card.insert();
            }
            terminal.sale(id, amount_fen, CancelHandle::new())
        };
        sale("rust-warm-up".into())?;
        calls.reader.store(0, Ordering::Relaxed);
        calls.printer.store(0, Ordering::Relaxed);
        let mut sale_nanos = Vec::with_capacity(count as usize);
        let mut approved = 0;
        for i in 0..count {
            let started = Instant::now();
            let outcome = sale(format!("rust-{i}"))?;
            sale_nanos.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
            approved += u32::from(matches!(outcome, Outcome::Approved { .. }));
        }
        terminal.shut_down()?;
        Ok(FfiBenchReport {
            sale_nanos,
            approved,
            reader_calls: calls.reader.load(Ordering::Relaxed),
            printer_calls: calls.printer.load(Ordering::Relaxed),
        })
    })
}
