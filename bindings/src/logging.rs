//! Routes the `log` facade to logcat on Android and to stderr elsewhere.

use crate::error::{SmartPosError, guard};

/// How much the core logs. Log lines never carry card data, whatever the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for log::LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Off => log::LevelFilter::Off,
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Installs the platform logger on the first call; every call sets the level, so the shell can
/// turn logging up or down at run time.
#[uniffi::export]
pub fn init_logging(level: LogLevel) -> Result<(), SmartPosError> {
    guard("init_logging", || {
        let filter = log::LevelFilter::from(level);
        install(filter);
        log::set_max_level(filter);
        Ok(())
    })
}

#[cfg(target_os = "android")]
fn install(filter: log::LevelFilter) {
    android_logger::init_once(
        android_logger::Config::default()
            .with_tag("SmartPOS")
            .with_max_level(filter),
    );
}

#[cfg(not(target_os = "android"))]
fn install(_filter: log::LevelFilter) {
    static LOGGER: StderrLogger = StderrLogger;
    // Fails only when a logger is already installed (ours, or the host application's): keep it.
    let _ = log::set_logger(&LOGGER);
}

/// The host logger: one line per record on stderr, for the JVM tests and desktop tools.
#[cfg(not(target_os = "android"))]
#[derive(Debug)]
struct StderrLogger;

#[cfg(not(target_os = "android"))]
impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        use std::io::Write;
        if self.enabled(record.metadata()) {
            // A closed stderr must not turn a log line into a panic, so the write error is dropped.
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {
        use std::io::Write;
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_maps_and_init_is_repeatable() {
        assert_eq!(
            log::LevelFilter::from(LogLevel::Warn),
            log::LevelFilter::Warn
        );
        assert_eq!(init_logging(LogLevel::Debug), Ok(()));
        assert_eq!(log::max_level(), log::LevelFilter::Debug);
        assert_eq!(init_logging(LogLevel::Off), Ok(()));
        assert_eq!(log::max_level(), log::LevelFilter::Off);
    }
}
