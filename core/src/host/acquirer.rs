//! The acquirer protocol: frames a request, MACs it, sends it over a `Transport`, and accepts a
//! response only if it answers *this* request (MTI + 10, STAN, terminal, merchant, amount) and,
//! for a MACed request, carries a MAC that verifies over the bytes received. Every way this can
//! fail says whether the request may have reached the host, because that decides whether a
//! reversal must be armed.
//!
//! The MAC rule: an answer to a MACed request moves money (or clears what is owed) only when it is
//! authenticated. Without a MAC, or with a wrong one, the outcome is unknown whatever field 39
//! says — an on-path attacker can strip the MAC and write "05" over an approval as easily as a
//! host that cannot MAC writes "A0".

use thiserror::Error;
use zeroize::Zeroizing;

use crate::codec::iso8583::{self, Frame, FrameView, Message, MessageView, Tpdu, response_mti};
use crate::crypto::{KeyVault, MacAlgorithm, VaultError};
use crate::host::transport::{CancelToken, Timeouts, Transport, TransportError};

/// A failed exchange.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExchangeError {
    #[error("request could not be built: {0}")]
    Build(#[from] iso8583::PackError),
    #[error("key vault: {0}")]
    Vault(#[from] VaultError),
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    #[error("response unreadable: {0}")]
    Malformed(String),
    #[error("response does not answer the request: {field} expected {expected:?}, got {got:?}")]
    Mismatch {
        field: &'static str,
        expected: String,
        got: String,
    },
    #[error("response MAC does not verify")]
    BadMac,
    /// The answer to a MACed request carried no MAC. `claimed` is its field 39, which proves
    /// nothing (a host that cannot MAC answers A0/77/99 this way, and so can an attacker).
    #[error("response carries no MAC (field 39 claims {claimed:?})")]
    MacMissing { claimed: Option<String> },
}

impl ExchangeError {
    /// Whether the request may have been acted on by the host.
    pub fn may_have_reached_host(&self) -> bool {
        match self {
            ExchangeError::Build(_) | ExchangeError::Vault(_) => false,
            ExchangeError::Transport(t) => t.may_have_reached_host(),
            ExchangeError::Malformed(_)
            | ExchangeError::Mismatch { .. }
            | ExchangeError::BadMac
            | ExchangeError::MacMissing { .. } => true,
        }
    }

    /// The answer could not be authenticated: keys may be out of step with the host, so the
    /// terminal signs on again before its next message.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            ExchangeError::BadMac | ExchangeError::MacMissing { .. }
        )
    }
}

/// The terminal's identity on the acquirer link.
#[derive(Debug, Clone)]
pub struct AcquirerLink {
    pub terminal_id: String,
    pub merchant_id: String,
    pub tpdu: Tpdu,
    pub header: [u8; 6],
    pub mac: MacAlgorithm,
    pub timeouts: Timeouts,
}

impl AcquirerLink {
    /// Sends `request` and returns the matching response. When `mac` is true the request carries
    /// field 64 and the response must carry a MAC that verifies over the bytes received; anything
    /// else is [`ExchangeError::MacMissing`] or [`ExchangeError::BadMac`], whatever its field 39.
    pub fn exchange(
        &self,
        transport: &dyn Transport,
        vault: &dyn KeyVault,
        mut request: Message,
        mac: bool,
        cancel: &CancelToken,
    ) -> Result<Message, ExchangeError> {
        // The packed request, its MAC input and the reply hold card data (field 2 or 35, and the
        // reply echoes field 2): wiped when dropped, whatever path leaves this function.
        if mac {
            let input = Zeroizing::new(iso8583::cups::mac_input(&request)?);
            let tag = vault.mac(self.mac, &input)?;
            request.set_bytes(64, tag.to_vec());
        }
        let frame = Frame {
            tpdu: self.tpdu,
            header: self.header,
            message: request,
        };
        let bytes = Zeroizing::new(frame.encode_body()?);
        let reply = Zeroizing::new(transport.exchange(&bytes, &self.timeouts, cancel)?);
        // Read in place: the answer is matched and its MAC checked over the received bytes before
        // anything is copied out of them.
        let answer =
            FrameView::decode_body(&reply).map_err(|e| ExchangeError::Malformed(e.to_string()))?;
        let response = answer.message;
        check_matches(&frame.message, &response)?;
        if mac {
            verify_received_mac(vault, self.mac, &response)?;
        }
        Ok(response.to_message())
    }
}

fn check_matches(request: &Message, response: &MessageView<'_>) -> Result<(), ExchangeError> {
    let expected_mti = response_mti(request.mti()).unwrap_or_default();
    if response.mti() != expected_mti {
        return Err(ExchangeError::Mismatch {
            field: "MTI",
            expected: expected_mti,
            got: response.mti().to_string(),
        });
    }
    for (n, name) in [
        (11u8, "field 11 (STAN)"),
        (41, "field 41 (terminal id)"),
        (42, "field 42 (merchant id)"),
        (4, "field 4 (amount)"),
    ] {
        let Some(sent) = request.text(n) else {
            continue;
        };
        if !response.text_is(n, sent) {
            return Err(ExchangeError::Mismatch {
                field: name,
                expected: sent.to_string(),
                got: response.field_text(n).unwrap_or_default(),
            });
        }
    }
    Ok(())
}

fn verify_received_mac(
    vault: &dyn KeyVault,
    alg: MacAlgorithm,
    response: &MessageView<'_>,
) -> Result<(), ExchangeError> {
    let Some((input, tag)) = response.mac_scope() else {
        return Err(ExchangeError::MacMissing {
            claimed: response.field_text(39),
        });
    };
    match vault.verify_mac(alg, input, tag) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ExchangeError::BadMac),
        Err(e) => Err(ExchangeError::Vault(e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;
    use crate::crypto::{
        EncryptedWorkingKey, KeyAlgorithm, SecretKey, SoftwareVault, VaultAlgorithm, WorkingKeys,
        compute_mac, ecb_encrypt, unionpay_check_value,
    };

    const TMK: &str = "0123456789ABCDEFFEDCBA9876543210";
    const MAK: &str = "1C2D3E4F5A6B7C8D8D7C6B5A4F3E2D1C";

    type Reply = Box<dyn FnMut(&[u8]) -> Vec<u8> + Send>;

    /// Answers with whatever the test builds from the request bytes.
    struct Scripted(Mutex<Reply>);

    impl Transport for Scripted {
        fn exchange(
            &self,
            request: &[u8],
            _: &Timeouts,
            _: &CancelToken,
        ) -> Result<Vec<u8>, TransportError> {
            Ok((self.0.lock().unwrap())(request))
        }
    }

    fn key(hex: &str) -> SecretKey {
        SecretKey::from_hex(KeyAlgorithm::Tdes, hex).unwrap()
    }

    fn vault() -> SoftwareVault {
        let tmk = key(TMK);
        let wrap = |clear: &str| EncryptedWorkingKey {
            ciphertext: ecb_encrypt(&tmk, key(clear).expose_secret()).unwrap(),
            check_value: unionpay_check_value(&key(clear)).unwrap(),
        };
        let v = SoftwareVault::new(key(TMK), VaultAlgorithm::Tdes).unwrap();
        v.load_working_keys(&WorkingKeys {
            pik: wrap("11111111111111112222222222222222"),
            mak: wrap(MAK),
            tdk: None,
        })
        .unwrap();
        v
    }

    fn link() -> AcquirerLink {
        AcquirerLink {
            terminal_id: "12345678".into(),
            merchant_id: "123456789012345".into(),
            tpdu: Tpdu::from_bytes([0x60, 0, 0x03, 0, 0]),
            header: *b"\x61\x31\x00\x31\x11\x08",
            mac: MacAlgorithm::CupEcb,
            timeouts: Timeouts::default(),
        }
    }

    fn sale() -> Message {
        let mut m = Message::new("0200");
        m.set_digits(3, "000000");
        m.set_digits(4, "000000001000");
        m.set_digits(11, "000123");
        m.set_digits(22, "021");
        m.set_text(41, "12345678");
        m.set_text(42, "123456789012345");
        m
    }

    /// The host's answer to `request` as bytes: 0210 echoing the identifying fields with `code`;
    /// `sign` edits the packed body before the MAC (if any) is appended over it.
    fn answer(request: &[u8], code: &str, mac: bool) -> Vec<u8> {
        let req = Frame::decode_body(request).unwrap();
        let mut resp = Message::new("0210");
        for n in [3u8, 4, 11, 22, 41, 42] {
            resp.copy_field_from(&req.message, n);
        }
        resp.set_text(39, code);
        if mac {
            resp.set_bytes(64, vec![0; 8]);
        }
        let frame = Frame {
            tpdu: req.tpdu.swapped(),
            header: req.header,
            message: resp,
        };
        let mut body = frame.encode_body().unwrap();
        if mac {
            sign(&mut body);
        }
        body
    }

    /// Replaces the last 8 bytes of `body` with the UnionPay ECB MAC over the bytes before them.
    fn sign(body: &mut [u8]) {
        let end = body.len() - 8;
        let tag = compute_mac(
            MacAlgorithm::CupEcb,
            &key(MAK),
            &body[iso8583::cups::BODY_PREFIX_LEN..end],
        )
        .unwrap();
        body[end..].copy_from_slice(&tag);
    }

    fn exchange_with(
        reply: impl FnMut(&[u8]) -> Vec<u8> + Send + 'static,
    ) -> Result<Message, ExchangeError> {
        let transport = Scripted(Mutex::new(Box::new(reply)));
        link().exchange(&transport, &vault(), sale(), true, &CancelToken::new())
    }

    #[test]
    fn a_signed_answer_is_accepted() {
        let resp = exchange_with(|req| answer(req, "00", true)).unwrap();
        assert_eq!(resp.field_text(39).as_deref(), Some("00"));
    }

    #[test]
    fn an_answer_without_mac_is_unauthenticated_whatever_it_claims() {
        for code in ["00", "05", "25", "A0", "77"] {
            let err = exchange_with(move |req| answer(req, code, false)).unwrap_err();
            assert!(
                matches!(&err, ExchangeError::MacMissing { claimed } if claimed.as_deref() == Some(code)),
                "{code}: {err}"
            );
            assert!(err.is_unauthenticated() && err.may_have_reached_host());
        }
    }

    #[test]
    fn an_edited_answer_fails_its_mac() {
        let err = exchange_with(|req| {
            let mut body = answer(req, "00", true);
            // Field 39 "00" → "05" after signing, as an on-path attacker would.
            let at = body.windows(2).rposition(|w| w == b"00").unwrap();
            body[at + 1] = b'5';
            body
        })
        .unwrap_err();
        assert!(matches!(err, ExchangeError::BadMac), "{err}");
    }

    /// A host that pads an odd-length BCD field with F instead of 0 signs the bytes it sent; the
    /// MAC is checked over those bytes, so the answer verifies (a re-encoding would pad with 0
    /// and fail every MAC).
    #[test]
    fn the_mac_is_checked_over_the_bytes_received_not_a_re_encoding() {
        let resp = exchange_with(|req| {
            let mut body = answer(req, "00", true);
            // Field 22 (n 3, digits first) is "021" → 0x02 0x10; F-pad it to 0x02 0x1F.
            let fields = iso8583::cups::BODY_PREFIX_LEN + 10; // past the MTI 0210 and bitmap
            let at = fields
                + body[fields..]
                    .windows(2)
                    .position(|w| w == [0x02, 0x10])
                    .unwrap();
            body[at + 1] = 0x1F;
            sign(&mut body);
            body
        })
        .unwrap();
        assert_eq!(resp.field_text(22).as_deref(), Some("021"));
    }

    #[test]
    fn the_mac_scope_is_none_without_field_64_or_with_a_secondary_bitmap() {
        let mut body = vec![0u8; iso8583::cups::BODY_PREFIX_LEN];
        body.extend_from_slice(&[0x02, 0x10]);
        let mut bitmap = [0u8; 8];
        bitmap[7] = 0x01;
        body.extend_from_slice(&bitmap);
        body.extend_from_slice(&[0xAA; 8]);
        let (input, tag) = iso8583::cups::received_mac_scope(&body).unwrap();
        assert_eq!(tag, [0xAA; 8]);
        assert_eq!(input.len(), 10);
        let at = iso8583::cups::BODY_PREFIX_LEN + 2;
        body[at] |= 0x80;
        assert!(iso8583::cups::received_mac_scope(&body).is_none());
        body[at] &= 0x7F;
        body[at + 7] = 0;
        assert!(iso8583::cups::received_mac_scope(&body).is_none());
        assert!(iso8583::cups::received_mac_scope(&body[..12]).is_none());
    }
}
