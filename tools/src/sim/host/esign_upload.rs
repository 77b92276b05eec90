//! The acquirer's side of the e-signature upload (0820, 60.3 = 800; the layout is
//! `smartpos_core::esign::wire`, OUR dialect row). Each segment is answered 00; once the image
//! is complete the binding digest is checked over the slip as this host knows it from its own
//! ledger (amount, RRN, auth code of the transaction field 61 names) and the terminal's
//! identity, then the signature is stored once. A digest that does not bind (a signature moved
//! to another STAN) is refused with its own code and nothing is stored; a repeat of a segment
//! or of a whole upload answers as the first did.

use smartpos_core::codec::iso8583::Message;
use smartpos_core::codec::iso8583::cups::Field61;
use smartpos_core::esign::wire::{self, parse_field62};
use smartpos_core::esign::{SlipFields, SlipIdentity};
use smartpos_core::store::{BatchNo, Stan};

use super::{APPROVED, Acquirer, FORMAT_ERROR, echo};
use crate::sim::esign::{EsignInbox, InboxAnswer, InboxError};
use crate::sim::ledger::MsgRef;

impl Acquirer {
    /// Keeps each accepted signature as `DIR/<terminal id>-<batch>-<STAN>.jbg`.
    pub fn with_esign_dir(self, dir: std::path::PathBuf) -> Self {
        self.set_esign_dir(dir);
        self
    }

    /// As `with_esign_dir`, on a running simulator (signatures already kept stay where they are).
    pub fn set_esign_dir(&self, dir: std::path::PathBuf) {
        *self.esign.lock().unwrap_or_else(|p| p.into_inner()) = Some(EsignInbox::new(dir));
    }

    /// Where accepted signatures are written (a per-process temporary folder unless
    /// `with_esign_dir` named one).
    pub fn esign_dir(&self) -> std::path::PathBuf {
        let mut inbox = self.esign.lock().unwrap_or_else(|p| p.into_inner());
        inbox.get_or_insert_with(default_inbox).dir().to_path_buf()
    }

    pub(super) fn esign_upload(&self, req: &Message) -> Message {
        let tid = req.field_text(41).unwrap_or_default();
        let mut resp = echo(req);
        resp.remove(62);
        if let Err(code) = self.verify_request_mac(&tid, req) {
            resp.set_text(39, code);
            return resp;
        }
        let code = self.accept_signature(&tid, req);
        resp.set_text(39, code);
        self.mac_response(&tid, resp)
    }

    fn accept_signature(&self, tid: &str, req: &Message) -> &'static str {
        let mid = req.field_text(42).unwrap_or_default();
        let (Some(original), Some(upload)) = (
            req.text(61).and_then(|d| Field61::parse(d).ok()),
            req.bytes(62).and_then(|b| parse_field62(b).ok()),
        ) else {
            return FORMAT_ERROR;
        };
        let key = MsgRef::new(tid, original.batch_no, original.stan);
        let Some((amount_fen, rrn, auth_code)) = self.ledger().signable(&key) else {
            log::warn!(
                "sim: signature for unknown slip {tid} stan {:06}",
                original.stan
            );
            return wire::REFUSED_NO_ORIGINAL;
        };
        let (Ok(batch), Ok(stan)) = (BatchNo::new(original.batch_no), Stan::new(original.stan))
        else {
            return FORMAT_ERROR;
        };
        let slip = SlipIdentity::new(&SlipFields {
            terminal_id: tid,
            merchant_id: &mid,
            batch,
            stan,
            amount_fen,
            date_time: &upload.date_time,
            rrn: &rrn,
            auth_code: &auth_code,
        });
        let Ok(slip) = slip else {
            return FORMAT_ERROR;
        };
        let answer = {
            let mut inbox = self.esign.lock().unwrap_or_else(|p| p.into_inner());
            inbox
                .get_or_insert_with(default_inbox)
                .accept(&slip, &upload.segment, &upload.digest)
        };
        match answer {
            Ok(InboxAnswer::Partial) => APPROVED,
            Ok(InboxAnswer::Stored(path)) => {
                self.ledger()
                    .record_signature(&key, &upload.digest.to_hex());
                log::info!(
                    "sim: signature of {tid} stan {:06} kept in {}",
                    original.stan,
                    path.display()
                );
                APPROVED
            }
            Err(InboxError::Binding(_)) => {
                log::warn!(
                    "sim: signature does not bind to {tid} stan {:06}",
                    original.stan
                );
                wire::REFUSED_BINDING
            }
            Err(InboxError::AlreadySigned(_)) => wire::REFUSED_ALREADY_SIGNED,
            Err(e) => {
                log::warn!("sim: signature refused: {e}");
                FORMAT_ERROR
            }
        }
    }
}

fn default_inbox() -> EsignInbox {
    EsignInbox::new(std::env::temp_dir().join(format!("smartpos-sim-esign-{}", std::process::id())))
}

#[cfg(test)]
mod tests {
    use smartpos_core::codec::iso8583::cups::Field60;
    use smartpos_core::esign::wire::encode_field62;
    use smartpos_core::esign::{
        self, Bitmap, JbigOptions, Segment, SignatureDigest, Strokes, split,
    };

    use super::*;
    use crate::demo_setup;
    use crate::sim::ledger::{CardInput, Ledger};

    const TID: &str = "10000001";
    const MID: &str = "898110048990001";
    const WHEN: &str = "20261204101500";

    /// A simulator whose ledger approved sales at STANs 1 and 2 (batch 1), keeping signatures
    /// in `dir`.
    fn acquirer(dir: &std::path::Path) -> Acquirer {
        let mut ledger = Ledger::with_demo_accounts();
        let card = CardInput {
            pan: "6222020000000015".into(),
            pin: Some("123456".into()),
        };
        for stan in [1, 2] {
            let reply = ledger.sale(&MsgRef::new(TID, 1, stan), &card, 10_000);
            assert!(reply.approval().is_some());
        }
        Acquirer::new(ledger, demo_setup::demo_tmk()).with_esign_dir(dir.to_path_buf())
    }

    fn image() -> Vec<u8> {
        let strokes = Strokes::from_json(include_str!(
            "../../../../core/src/esign/fixtures/signature.json"
        ))
        .expect("strokes");
        let raster = esign::render(&strokes, 384, 128, 3).expect("render");
        esign::encode_jbig(&raster, &JbigOptions::default())
    }

    /// The digest the terminal computes for the sale at `stan`, as the ledger approved it.
    fn digest_for(a: &Acquirer, stan: u32, jbig: &[u8]) -> SignatureDigest {
        let (amount_fen, rrn, auth_code) = a
            .ledger()
            .signable(&MsgRef::new(TID, 1, stan))
            .expect("approved");
        SlipIdentity::new(&SlipFields {
            terminal_id: TID,
            merchant_id: MID,
            batch: BatchNo::new(1).expect("batch"),
            stan: Stan::new(stan).expect("stan"),
            amount_fen,
            date_time: WHEN,
            rrn: &rrn,
            auth_code: &auth_code,
        })
        .expect("slip")
        .digest(jbig)
    }

    fn upload(stan: u32, segment: &Segment, len: usize, digest: &SignatureDigest) -> Message {
        let mut m = Message::new("0820");
        m.set_digits(11, "000099");
        m.set_text(41, TID);
        m.set_text(42, MID);
        let f60 = Field60 {
            type_code: wire::TYPE_CODE.into(),
            batch_no: 1,
            net_mgmt: wire::NET_CODE.into(),
            read_capability: None,
            ic_condition: None,
            tail: String::new(),
        };
        m.set_digits(60, &f60.to_digits());
        let f61 = Field61 {
            batch_no: 1,
            stan,
            date: Some("1204".into()),
            tail: String::new(),
        };
        m.set_digits(61, &f61.to_digits());
        let len = u32::try_from(len).expect("length");
        m.set_bytes(62, encode_field62(segment, len, WHEN, digest));
        m
    }

    fn whole(jbig: &[u8]) -> Segment {
        split(jbig, wire::SEGMENT_BYTES).expect("split").remove(0)
    }

    fn files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    #[test]
    fn a_bound_signature_is_kept_once_and_a_repeat_answers_the_same() {
        let dir = tempfile::tempdir().expect("dir");
        let a = acquirer(dir.path());
        let jbig = image();
        let d = digest_for(&a, 1, &jbig);
        let segments = split(&jbig, 100).expect("split");
        assert!(segments.len() > 1);
        for s in &segments {
            let m = upload(1, s, jbig.len(), &d);
            assert_eq!(a.accept_signature(TID, &m), APPROVED);
        }
        // The terminal lost the last answer and sends the last segment again.
        let last = segments.last().expect("segment");
        let m = upload(1, last, jbig.len(), &d);
        assert_eq!(a.accept_signature(TID, &m), APPROVED);
        assert_eq!(files(dir.path()), 1);
        let kept =
            std::fs::read(dir.path().join(format!("{TID}-000001-000001.jbg"))).expect("kept");
        assert_eq!(kept, jbig);
        let key = MsgRef::new(TID, 1, 1);
        assert_eq!(a.ledger().signature_of(&key), Some(d.to_hex()));
    }

    #[test]
    fn a_signature_moved_to_another_stan_is_refused_and_nothing_is_stored() {
        let dir = tempfile::tempdir().expect("dir");
        let a = acquirer(dir.path());
        let jbig = image();
        let signed_for_1 = digest_for(&a, 1, &jbig);
        let m = upload(2, &whole(&jbig), jbig.len(), &signed_for_1);
        assert_eq!(a.accept_signature(TID, &m), wire::REFUSED_BINDING);
        assert_eq!(files(dir.path()), 0);
        assert_eq!(a.ledger().signature_of(&MsgRef::new(TID, 1, 2)), None);
    }

    #[test]
    fn a_signature_for_a_slip_the_host_never_approved_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let a = acquirer(dir.path());
        let jbig = image();
        let d = digest_for(&a, 1, &jbig);
        let m = upload(7, &whole(&jbig), jbig.len(), &d);
        assert_eq!(a.accept_signature(TID, &m), wire::REFUSED_NO_ORIGINAL);
        assert_eq!(files(dir.path()), 0);
    }

    #[test]
    fn a_second_different_signature_for_a_signed_slip_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let a = acquirer(dir.path());
        let jbig = image();
        let d = digest_for(&a, 1, &jbig);
        let m = upload(1, &whole(&jbig), jbig.len(), &d);
        assert_eq!(a.accept_signature(TID, &m), APPROVED);
        let blank = Bitmap::new(384, 128).expect("bitmap");
        let other = esign::encode_jbig(&blank, &JbigOptions::default());
        let d2 = digest_for(&a, 1, &other);
        let m = upload(1, &whole(&other), other.len(), &d2);
        assert_eq!(a.accept_signature(TID, &m), wire::REFUSED_ALREADY_SIGNED);
        assert_eq!(
            std::fs::read(dir.path().join(format!("{TID}-000001-000001.jbg"))).ok(),
            Some(jbig)
        );
    }

    #[test]
    fn a_malformed_upload_is_a_format_error() {
        let dir = tempfile::tempdir().expect("dir");
        let a = acquirer(dir.path());
        let one = Segment {
            index: 1,
            total: 1,
            bytes: vec![1],
        };
        let mut m = upload(1, &one, 1, &SignatureDigest::from_bytes([0; 32]));
        m.set_bytes(62, vec![1, 2, 3]);
        assert_eq!(a.accept_signature(TID, &m), FORMAT_ERROR);
        assert_eq!(files(dir.path()), 0);
    }
}
