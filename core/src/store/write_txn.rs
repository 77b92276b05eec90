//! The journal's write transaction on cached `BEGIN IMMEDIATE` / `COMMIT` statements.
//!
//! rusqlite's `Transaction` parses its `BEGIN` and `COMMIT` afresh each time; at two commits
//! per sale that parsing was a measurable share of a sale's CPU. The behaviour is the same:
//! the write lock is taken up front (no upgrade deadlock), and a transaction that is not
//! committed is rolled back when it goes out of scope.

use std::ops::Deref;

use rusqlite::Connection;

pub(crate) struct WriteTxn<'c> {
    conn: &'c Connection,
    committed: bool,
}

impl<'c> WriteTxn<'c> {
    pub(crate) fn begin(conn: &'c Connection) -> rusqlite::Result<WriteTxn<'c>> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(WriteTxn {
            conn,
            committed: false,
        })
    }

    pub(crate) fn commit(mut self) -> rusqlite::Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.committed = true;
        Ok(())
    }
}

impl Deref for WriteTxn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for WriteTxn<'_> {
    fn drop(&mut self) {
        // SQLite may already have rolled back on its own (a full disk); then there is nothing
        // left to undo.
        if !self.committed && !self.conn.is_autocommit() {
            let rolled_back = self
                .conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut stmt| stmt.execute([]));
            if let Err(e) = rolled_back {
                log::error!("journal: rollback failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(conn: &Connection) -> i64 {
        conn.query_row("SELECT v FROM c", [], |r| r.get(0))
            .expect("read")
    }

    #[test]
    fn commits_when_told_and_rolls_back_otherwise() {
        let conn = Connection::open_in_memory().expect("db");
        conn.execute_batch("CREATE TABLE c (v INTEGER); INSERT INTO c VALUES (0);")
            .expect("schema");
        let tx = WriteTxn::begin(&conn).expect("begin");
        tx.execute("UPDATE c SET v = 1", []).expect("write");
        tx.commit().expect("commit");
        assert_eq!(counter(&conn), 1);

        let tx = WriteTxn::begin(&conn).expect("begin");
        tx.execute("UPDATE c SET v = 2", []).expect("write");
        drop(tx);
        assert_eq!(counter(&conn), 1, "dropped uncommitted: rolled back");
        assert!(conn.is_autocommit());

        // The cached statements run again and again.
        for v in 3..6 {
            let tx = WriteTxn::begin(&conn).expect("begin");
            tx.execute("UPDATE c SET v = ?1", [v]).expect("write");
            tx.commit().expect("commit");
        }
        assert_eq!(counter(&conn), 5);
    }

    #[test]
    fn a_second_begin_inside_is_refused() {
        let conn = Connection::open_in_memory().expect("db");
        let _tx = WriteTxn::begin(&conn).expect("begin");
        assert!(WriteTxn::begin(&conn).is_err());
    }
}
