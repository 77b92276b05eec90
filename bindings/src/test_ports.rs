//! Port doubles the bindings' unit tests share.

use crate::outcome::ReceiptRecord;
use crate::ports::{PortError, Printer};

/// A printer that always prints.
pub(crate) struct Paper;

impl Printer for Paper {
    fn print(&self, _: ReceiptRecord) -> Result<(), PortError> {
        Ok(())
    }
    fn status(&self) -> Result<(), PortError> {
        Ok(())
    }
}
