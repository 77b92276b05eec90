//! The cardholder's mobile number for an SMS e-slip (电子签购单短信), one per transaction. The
//! store keeps only what the caller sealed (`esign::seal_phone`); the number never reaches it in
//! clear.

use rusqlite::{OptionalExtension, params};

use super::{Journal, OpaqueBlob, StoreError};

impl Journal {
    /// Keeps (or replaces) the sealed number for the slip of `transaction_id`.
    pub fn set_slip_phone(
        &self,
        transaction_id: i64,
        phone_sealed: &OpaqueBlob,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO slip_contacts (transaction_id, phone_sealed, created_at)
             VALUES (?1, ?2, ?3)
             ON CONFLICT (transaction_id) DO UPDATE SET phone_sealed = ?2, created_at = ?3",
            params![transaction_id, phone_sealed.as_bytes(), now_ms],
        )?;
        Ok(())
    }

    /// The sealed number kept for the slip of `transaction_id`, if any.
    pub fn slip_phone(&self, transaction_id: i64) -> Result<Option<OpaqueBlob>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT phone_sealed FROM slip_contacts WHERE transaction_id = ?1")?
            .query_row([transaction_id], |row| row.get::<_, Vec<u8>>(0))
            .optional()?
            .map(OpaqueBlob::new))
    }
}
