//! QR session.
