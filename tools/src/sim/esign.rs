//! The acquirer's signature inbox (`smartpos sim --esign-dir DIR`): upload segments are
//! reassembled per slip, the binding digest is checked against the transaction the acquirer
//! approved, and each accepted signature is written once as `DIR/<terminal id>-<batch>-<STAN>.jbg`.
//! A terminal that repeats an upload after a lost answer gets the same acknowledgement and no
//! second file; a different image for a slip already signed is refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use smartpos_core::esign::{
    BindingError, Reassembly, Segment, SignatureDigest, SlipIdentity, UploadError, decode_jbig,
};
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InboxError {
    #[error(transparent)]
    Segment(#[from] UploadError),
    #[error("signature refused: {0}")]
    Binding(#[from] BindingError),
    #[error("signature refused: the image is not JBIG ({0})")]
    NotJbig(#[from] smartpos_core::esign::JbigError),
    #[error("signature refused: slip {0} already has a different signature")]
    AlreadySigned(String),
    #[error("signature store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What the inbox answers for one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxAnswer {
    /// More segments are expected for this slip.
    Partial,
    /// The whole signature is in, verified and stored (or was already, identically).
    Stored(PathBuf),
}

#[derive(Debug)]
pub struct EsignInbox {
    dir: PathBuf,
    partial: Mutex<HashMap<String, Reassembly>>,
}

impl EsignInbox {
    pub fn new(dir: impl Into<PathBuf>) -> EsignInbox {
        EsignInbox {
            dir: dir.into(),
            partial: Mutex::new(HashMap::new()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a slip's signature is kept in.
    pub fn path_for(&self, slip: &SlipIdentity) -> PathBuf {
        self.dir.join(format!(
            "{}-{}-{}.jbg",
            slip.terminal_id(),
            slip.batch(),
            slip.stan()
        ))
    }

    /// Takes one upload segment for `slip` (the transaction as the acquirer approved it) with
    /// the digest the terminal sent.
    pub fn accept(
        &self,
        slip: &SlipIdentity,
        segment: &Segment,
        digest: &SignatureDigest,
    ) -> Result<InboxAnswer, InboxError> {
        let key = format!("{}-{}-{}", slip.terminal_id(), slip.batch(), slip.stan());
        let image = {
            let mut partial = self.partial.lock().unwrap_or_else(|p| p.into_inner());
            let whole = partial.entry(key.clone()).or_default().accept(segment);
            match whole {
                Ok(Some(image)) => {
                    partial.remove(&key);
                    image
                }
                Ok(None) => return Ok(InboxAnswer::Partial),
                Err(e) => {
                    partial.remove(&key);
                    return Err(e.into());
                }
            }
        };
        slip.verify(&image, digest)?;
        decode_jbig(&image)?;
        let path = self.path_for(slip);
        let io = |source| InboxError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read(&path) {
            Ok(existing) if existing == image => return Ok(InboxAnswer::Stored(path)),
            Ok(_) => return Err(InboxError::AlreadySigned(key)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        // Written aside then renamed, so a killed simulator never leaves half a signature.
        let tmp = path.with_extension("jbg.part");
        std::fs::write(&tmp, &image).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(InboxAnswer::Stored(path))
    }
}

#[cfg(test)]
mod tests {
    use smartpos_core::esign::{self, JbigOptions, SlipFields, Strokes, split};
    use smartpos_core::store::{BatchNo, Stan};

    use super::*;

    fn slip(stan: u32) -> SlipIdentity {
        SlipIdentity::new(&SlipFields {
            terminal_id: "10000001",
            merchant_id: "898110048990001",
            batch: BatchNo::new(3).expect("batch"),
            stan: Stan::new(stan).expect("stan"),
            amount_fen: 8_800,
            date_time: "20261204120000",
            rrn: "120412000007",
            auth_code: "123456",
        })
        .expect("slip")
    }

    fn image() -> Vec<u8> {
        let strokes = Strokes::from_json(
            r#"{"width": 300, "height": 100, "strokes": [[[10, 10, 0], [290, 90, 500]], [[150, 5, 900]]]}"#,
        )
        .expect("strokes");
        let img = esign::render(&strokes, 384, 128, 3).expect("render");
        esign::encode_jbig(&img, &JbigOptions::default())
    }

    #[test]
    fn a_bound_signature_is_stored_once_and_repeats_are_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inbox = EsignInbox::new(dir.path());
        let jbig = image();
        let digest = slip(7).digest(&jbig);
        let segments = split(&jbig, 100).expect("split");
        assert!(segments.len() > 1);
        let mut last = None;
        for s in &segments {
            last = Some(inbox.accept(&slip(7), s, &digest).expect("accepted"));
        }
        let path = dir.path().join("10000001-000003-000007.jbg");
        assert_eq!(last, Some(InboxAnswer::Stored(path.clone())));
        assert_eq!(std::fs::read(&path).expect("stored"), jbig);
        // The whole upload again (a lost acknowledgement): same answer, still one file.
        for s in &segments {
            inbox.accept(&slip(7), s, &digest).expect("repeat accepted");
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn a_signature_moved_to_another_stan_is_refused_and_not_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inbox = EsignInbox::new(dir.path());
        let jbig = image();
        let digest = slip(7).digest(&jbig);
        let segments = split(&jbig, 10_000).expect("split");
        let err = inbox.accept(&slip(8), &segments[0], &digest);
        assert!(
            matches!(err, Err(InboxError::Binding(BindingError::Mismatch))),
            "{err:?}"
        );
        assert!(!dir.path().join("10000001-000003-000008.jbg").exists());
    }

    #[test]
    fn a_different_image_for_a_signed_slip_and_non_jbig_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inbox = EsignInbox::new(dir.path());
        let jbig = image();
        let one = |bytes: &[u8]| Segment {
            index: 1,
            total: 1,
            bytes: bytes.to_vec(),
        };
        inbox
            .accept(&slip(7), &one(&jbig), &slip(7).digest(&jbig))
            .expect("first signature");
        let mut other = jbig.clone();
        other.extend_from_slice(&[0xff, 0x02]);
        let err = inbox.accept(&slip(7), &one(&other), &slip(7).digest(&other));
        assert!(matches!(err, Err(InboxError::AlreadySigned(_))), "{err:?}");
        let junk = b"not a jbig image";
        let err = inbox.accept(&slip(9), &one(junk), &slip(9).digest(junk));
        assert!(matches!(err, Err(InboxError::NotJbig(_))), "{err:?}");
    }
}
