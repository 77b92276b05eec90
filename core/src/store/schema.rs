//! Versioned migrations. `PRAGMA user_version` records how many steps a file has; each step runs
//! in its own transaction together with the version bump, so a crash mid-migration leaves the
//! file at the previous version, never half-migrated. Append steps; never edit a shipped one.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) STRICT;
    -- 'stan' holds the last STAN consumed (0 = none yet); 'batch_no' the open batch.
    INSERT INTO counters (name, value) VALUES ('stan', 0), ('batch_no', 1);

    CREATE TABLE transactions (
        id               INTEGER PRIMARY KEY,
        attempt_id       TEXT NOT NULL UNIQUE,
        kind             TEXT NOT NULL,
        state            TEXT NOT NULL,
        amount_fen       INTEGER NOT NULL CHECK (amount_fen >= 0),
        currency         TEXT NOT NULL,
        stan             INTEGER NOT NULL,
        batch_no         INTEGER NOT NULL,
        pan_masked       TEXT,
        pan_sealed       BLOB,
        entry_mode       TEXT NOT NULL,
        rrn              TEXT,
        auth_code        TEXT,
        response_code    TEXT,
        termination_code TEXT,
        original_id      INTEGER REFERENCES transactions(id),
        icc_data         BLOB,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX transactions_batch ON transactions (batch_no, state);

    CREATE TABLE reversals (
        transaction_id INTEGER PRIMARY KEY REFERENCES transactions(id),
        reason         TEXT NOT NULL,
        state          TEXT NOT NULL,
        attempts       INTEGER NOT NULL DEFAULT 0,
        last_error     TEXT
    ) STRICT;
    CREATE INDEX reversals_state ON reversals (state);

    CREATE TABLE saf_queue (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        transaction_id INTEGER NOT NULL REFERENCES transactions(id),
        state          TEXT NOT NULL,
        attempts       INTEGER NOT NULL DEFAULT 0,
        expires_at     INTEGER NOT NULL,
        last_error     TEXT
    ) STRICT;

    CREATE TABLE receipts (
        transaction_id INTEGER PRIMARY KEY REFERENCES transactions(id),
        body           TEXT NOT NULL,
        printed        INTEGER NOT NULL DEFAULT 0
    ) STRICT;

    CREATE TABLE keys (
        label     TEXT PRIMARY KEY,
        sealed    BLOB NOT NULL,
        loaded_at INTEGER NOT NULL
    ) STRICT;
    "#,
    // 2: recovery at open looks up in-flight transactions by state; without this index it scans
    // the whole journal.
    r#"
    CREATE INDEX transactions_state ON transactions (state);
    "#,
    // 3: diagnostics. Every ending the engine returns (approvals too, for the approval rate;
    // terminations before any transaction row exists too), each host round trip, and each
    // settlement. Not money state: written without fsync and pruned to a few days (store/stats.rs).
    r#"
    CREATE TABLE endings (
        id         INTEGER PRIMARY KEY,
        at_ms      INTEGER NOT NULL,
        attempt_id TEXT,
        kind       TEXT NOT NULL,
        -- 'APPROVED' or the termination code (e.g. NET_TIMEOUT, HOST_DECLINED_51).
        outcome    TEXT NOT NULL,
        cause      TEXT,
        -- A replayed attempt returns the same outcome and is counted once.
        UNIQUE (attempt_id, outcome)
    ) STRICT;
    CREATE INDEX endings_at ON endings (at_ms);

    CREATE TABLE host_exchanges (
        id         INTEGER PRIMARY KEY,
        at_ms      INTEGER NOT NULL,
        mti        TEXT NOT NULL,
        latency_ms INTEGER NOT NULL CHECK (latency_ms >= 0),
        answered   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX host_exchanges_at ON host_exchanges (at_ms);

    CREATE TABLE settlements (
        id       INTEGER PRIMARY KEY,
        at_ms    INTEGER NOT NULL,
        batch_no INTEGER NOT NULL
    ) STRICT;
    "#,
    // 4: QR gateway orders. Keyed by out_trade_no (the caller's attempt id), which the gateway
    // also uses as its idempotency key. Only the masked payment code is kept: the full code is
    // a bearer credential.
    r#"
    CREATE TABLE qr_orders (
        out_trade_no     TEXT PRIMARY KEY,
        mode             TEXT NOT NULL,
        state            TEXT NOT NULL,
        amount_fen       INTEGER NOT NULL CHECK (amount_fen >= 0),
        currency         TEXT NOT NULL,
        scheme           TEXT,
        code_masked      TEXT,
        gateway_trade_no TEXT,
        code_url         TEXT,
        refunded_fen     INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),
        refund_fen       INTEGER CHECK (refund_fen >= 0),
        termination_code TEXT,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX qr_orders_state ON qr_orders (state);
    -- The QR risk counters read the day's orders by creation time.
    CREATE INDEX qr_orders_created ON qr_orders (created_at);
    "#,
    // 5: risk counters. One row per payment that went to the host, written in the same commit as
    // the transaction row (see store/risk_counters.rs); amounts, times and states come from the
    // transaction, so a void or reversal drops it from the counts without another write.
    r#"
    CREATE TABLE risk_events (
        transaction_id INTEGER PRIMARY KEY REFERENCES transactions(id),
        card_hash      INTEGER,
        method         TEXT NOT NULL,
        fallback       INTEGER NOT NULL DEFAULT 0,
        offline        INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX risk_events_card ON risk_events (card_hash);
    CREATE INDEX transactions_created ON transactions (created_at);
    "#,
    // 6: storage faults, journaled in the fresh journal that replaced a corrupt one, so the
    // refusal of payments survives a restart until an operator acknowledges (store/salvage.rs).
    r#"
    CREATE TABLE storage_faults (
        id              INTEGER PRIMARY KEY,
        detected_at     INTEGER NOT NULL,
        detail          TEXT NOT NULL,
        -- The quarantined files, one path a line.
        moved_to        TEXT NOT NULL,
        -- Transactions still owed that were carried over from the quarantined copy.
        carried         INTEGER NOT NULL DEFAULT 0,
        -- Set when the quarantined copy could not be read: what it owed is unknown.
        unreadable      TEXT,
        acknowledged_at INTEGER
    ) STRICT;
    "#,
    // 7: sealed PANs are bound to their row (associated data = attempt id). 0 until the terminal,
    // which holds the storage key, has resealed what an older build sealed (txn/online.rs).
    r#"
    INSERT INTO counters (name, value) VALUES ('pan_binding', 0);
    "#,
    // 8: the risk state that must survive a restart (store/risk_state.rs): the active signed rule
    // bundle and every hot-list delta applied, each as the signed bytes received, verified again
    // at open. `risk_bundle.version` also stops an older bundle from coming back after a restart,
    // even when the stored copy is refused and the built-in rules run.
    r#"
    CREATE TABLE risk_bundle (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        version   INTEGER NOT NULL CHECK (version >= 0),
        key_id    TEXT NOT NULL,
        signed    BLOB NOT NULL,
        loaded_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE risk_hot_list_deltas (
        sequence   INTEGER PRIMARY KEY CHECK (sequence > 0),
        key_id     TEXT NOT NULL,
        signed     BLOB NOT NULL,
        applied_at INTEGER NOT NULL
    ) STRICT;
    "#,
    // 9: what a queued advice uploads. 'advice' repeats its transaction's own request (a refund,
    // an offline chip sale); 'tc_upload' sends the card's TC of an online approval; 'script_result'
    // reports the issuer scripts the card ran. An upload that is a message of its own takes its
    // STAN when it is queued, so every repeat carries the same one.
    r#"
    ALTER TABLE saf_queue ADD COLUMN purpose TEXT NOT NULL DEFAULT 'advice';
    ALTER TABLE saf_queue ADD COLUMN stan INTEGER;
    CREATE INDEX saf_queue_state ON saf_queue (state, transaction_id);
    "#,
    // 10: the chip tables the acquirer downloaded (store/chip_params.rs): per set (CA keys, IC
    // parameters) its records as received, replaced whole in one commit and checked again at
    // open. `entries` lets that check see a set that lost rows.
    r#"
    CREATE TABLE chip_sets (
        name       TEXT PRIMARY KEY,
        entries    INTEGER NOT NULL CHECK (entries >= 0),
        applied_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE chip_set_records (
        name   TEXT NOT NULL REFERENCES chip_sets(name) ON DELETE CASCADE,
        seq    INTEGER NOT NULL CHECK (seq >= 0),
        record BLOB NOT NULL,
        PRIMARY KEY (name, seq)
    ) STRICT;
    "#,
    // 11: e-signatures (电签, store/signatures.rs). One row per approved transaction that asked
    // for a signature: the JBIG image sealed like the PAN (bound to the row's attempt id), the
    // binding digest, the slip's date and time as the digest covers it, and how many upload
    // segments the host has acknowledged (journaled after each, so a kill -9 resends at most one).
    // A refused or timed-out pad leaves a 'missing' row (no image): the merchant keeps paper.
    // Its upload is a saf_queue row of purpose 'esign' with its own STAN.
    r#"
    CREATE TABLE signatures (
        transaction_id  INTEGER PRIMARY KEY REFERENCES transactions(id),
        state           TEXT NOT NULL CHECK (state IN ('signed', 'missing')),
        missing_reason  TEXT,
        image_sealed    BLOB,
        digest          BLOB CHECK (digest IS NULL OR length(digest) = 32),
        date_time       TEXT NOT NULL,
        jbig_bytes      INTEGER NOT NULL DEFAULT 0 CHECK (jbig_bytes >= 0),
        segments        INTEGER NOT NULL DEFAULT 0 CHECK (segments >= 0),
        segments_acked  INTEGER NOT NULL DEFAULT 0 CHECK (segments_acked >= 0),
        created_at      INTEGER NOT NULL
    ) STRICT;
    "#,
    // 12: the cardholder's mobile number for an SMS e-slip, sealed like the PAN (personal data).
    r#"
    CREATE TABLE slip_contacts (
        transaction_id  INTEGER PRIMARY KEY REFERENCES transactions(id),
        phone_sealed    BLOB NOT NULL,
        created_at      INTEGER NOT NULL
    ) STRICT;
    "#,
];

/// Brings `conn` up to the latest schema. Returns the number of steps applied (each one commit).
pub(crate) fn migrate(conn: &mut Connection) -> Result<u64, StoreError> {
    let supported = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    let mut applied = 0;
    for (index, step) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        applied += 1;
    }
    Ok(applied)
}
