//! Time as a port, so timeouts and polling are tested in simulated time, instantly.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
    fn sleep(&self, duration: Duration);
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// Simulated time: `sleep` returns at once after moving the clock forward. Shared between
/// threads; each sleeper advances the one common clock.
#[derive(Debug)]
pub struct SimulatedClock {
    now: Mutex<SystemTime>,
}

impl SimulatedClock {
    pub fn new(start: SystemTime) -> SimulatedClock {
        SimulatedClock {
            now: Mutex::new(start),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.checked_add(by).unwrap_or(*now);
    }

    pub fn set(&self, to: SystemTime) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sleep(&self, duration: Duration) {
        self.advance(duration);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn sleep_advances_instantly() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = SimulatedClock::new(start);
        let wall = std::time::Instant::now();
        clock.sleep(Duration::from_secs(3600));
        assert!(wall.elapsed() < Duration::from_secs(1));
        assert_eq!(clock.now(), start + Duration::from_secs(3600));
    }

    #[test]
    fn threads_share_one_clock() {
        let clock = Arc::new(SimulatedClock::new(UNIX_EPOCH));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = Arc::clone(&clock);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        c.sleep(Duration::from_millis(10));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(4));
    }
}
