//! The acquirer's side of a chip card's uploads: the offline sale (0220, 60.1 = 36) whose TC
//! the issuer checks before it debits, the TC upload of an online approval (0320, 60.3 = 203)
//! kept against the authorisation it proves, and the script result advice (0620, 60.3 = 951)
//! kept against the transaction it reports on. A cryptogram that does not verify moves no
//! money (59), as for an ARQC.

use smartpos_core::codec::iso8583::Message;
use smartpos_core::codec::iso8583::cups::{Field60, Field61};
use smartpos_core::codec::tlv;

use super::{APPROVED, Acquirer, FORMAT_ERROR, echo};
use crate::sim::issuer::{CRYPTOGRAM_FAILED, psn_from_field23};
use crate::sim::ledger::{CardInput, MsgRef, Reply};

/// The host knows no transaction the upload refers to (UnionPay: unable to locate the
/// original transaction).
const NO_ORIGINAL: &str = "25";

impl Acquirer {
    /// Verifies the offline sale's TC, then debits: a duplicate upload gets the first answer.
    pub(super) fn offline_sale(
        &self,
        tid: &str,
        req: &Message,
        key: &MsgRef,
        amount_fen: u64,
    ) -> Result<Reply, &'static str> {
        if let Some(known) = self.ledger().repeat(key) {
            return Ok(known);
        }
        let pan = self.request_pan(tid, req)?;
        self.verify_card_cryptogram(&pan, req)?;
        let card = CardInput { pan, pin: None };
        Ok(self.ledger().offline_sale(key, &card, amount_fen))
    }

    /// A TC upload: the TC is checked with the card's keys and noted on the authorisation.
    pub(super) fn tc_upload(&self, tid: &str, req: &Message, f60: &Field60) -> &'static str {
        let Some(stan) = req.text(11).and_then(|s| s.parse().ok()) else {
            return FORMAT_ERROR;
        };
        let key = MsgRef::new(tid, f60.batch_no, stan);
        let verified = match self.request_pan(tid, req) {
            Ok(pan) => self.verify_card_cryptogram(&pan, req).is_ok(),
            Err(code) => return code,
        };
        if !self.ledger().record_tc(&key, verified) {
            return NO_ORIGINAL;
        }
        if verified {
            APPROVED
        } else {
            log::warn!("sim: TC of {tid} stan {stan:06} does not verify");
            CRYPTOGRAM_FAILED
        }
    }

    /// The script result advice: DF31 noted on the transaction field 61 names.
    pub(super) fn script_result(&self, req: &Message) -> Message {
        let tid = req.field_text(41).unwrap_or_default();
        let mut resp = echo(req);
        if let Err(code) = self.verify_request_mac(&tid, req) {
            resp.set_text(39, code);
            return resp;
        }
        let original = req.text(61).and_then(|d| Field61::parse(d).ok());
        let results = req
            .bytes(55)
            .and_then(|b| tlv::parse(b).ok())
            .and_then(|o| {
                tlv::find(&o, 0xDF31)
                    .and_then(tlv::Tlv::bytes)
                    .map(hex::encode_upper)
            });
        let code = match (original, results) {
            (Some(o), Some(results)) => {
                let key = MsgRef::new(&tid, o.batch_no, o.stan);
                if self.ledger().record_script_results(&key, &results) {
                    APPROVED
                } else {
                    NO_ORIGINAL
                }
            }
            _ => FORMAT_ERROR,
        };
        resp.set_text(39, code);
        self.mac_response(&tid, resp)
    }

    fn verify_card_cryptogram(&self, pan: &str, req: &Message) -> Result<(), &'static str> {
        let field55 = req.bytes(55).ok_or(FORMAT_ERROR)?;
        let psn = req.text(23).and_then(psn_from_field23);
        self.issuer
            .verify_arqc(pan, psn, field55)
            .map(|_| ())
            .map_err(|e| {
                log::warn!("sim: chip upload refused: {e}");
                e.response_code()
            })
    }
}
