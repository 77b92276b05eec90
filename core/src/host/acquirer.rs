//! The acquirer protocol: frames a request, MACs it, sends it over a `Transport`, and accepts a
//! response only if it answers *this* request (MTI + 10, STAN, terminal, merchant, amount) and its
//! MAC verifies. Every way this can fail says whether the request may have reached the host,
//! because that decides whether a reversal must be armed.

use thiserror::Error;

use crate::codec::iso8583::{self, Frame, Message, Tpdu, response_mti};
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
}

impl ExchangeError {
    /// Whether the request may have been acted on by the host.
    pub fn may_have_reached_host(&self) -> bool {
        match self {
            ExchangeError::Build(_) | ExchangeError::Vault(_) => false,
            ExchangeError::Transport(t) => t.may_have_reached_host(),
            ExchangeError::Malformed(_)
            | ExchangeError::Mismatch { .. }
            | ExchangeError::BadMac => true,
        }
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
    /// field 64 and a response that carries a MAC must verify; an approval (39 = 00) without a MAC is
    /// refused as a bad MAC, since an attacker could otherwise strip it.
    pub fn exchange(
        &self,
        transport: &dyn Transport,
        vault: &dyn KeyVault,
        mut request: Message,
        mac: bool,
        cancel: &CancelToken,
    ) -> Result<Message, ExchangeError> {
        if mac {
            let input = iso8583::cups::mac_input(&request)?;
            let tag = vault.mac(self.mac, &input)?;
            request.set_bytes(64, tag.to_vec());
        }
        let frame = Frame {
            tpdu: self.tpdu,
            header: self.header,
            message: request,
        };
        let bytes = frame.encode_body()?;
        let reply = transport.exchange(&bytes, &self.timeouts, cancel)?;
        let answer =
            Frame::decode_body(&reply).map_err(|e| ExchangeError::Malformed(e.to_string()))?;
        let response = answer.message;
        check_matches(&frame.message, &response)?;
        if mac {
            verify_response_mac(vault, self.mac, &response)?;
        }
        Ok(response)
    }
}

fn check_matches(request: &Message, response: &Message) -> Result<(), ExchangeError> {
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
        let got = response.text(n);
        if got != Some(sent) {
            return Err(ExchangeError::Mismatch {
                field: name,
                expected: sent.to_string(),
                got: got.unwrap_or_default().to_string(),
            });
        }
    }
    Ok(())
}

fn verify_response_mac(
    vault: &dyn KeyVault,
    alg: MacAlgorithm,
    response: &Message,
) -> Result<(), ExchangeError> {
    match response.bytes(64) {
        Some(tag) => {
            let input = iso8583::cups::mac_input(response)
                .map_err(|e| ExchangeError::Malformed(e.to_string()))?;
            match vault.verify_mac(alg, &input, tag) {
                Ok(true) => Ok(()),
                Ok(false) => Err(ExchangeError::BadMac),
                Err(e) => Err(ExchangeError::Vault(e)),
            }
        }
        None if response.text(39) == Some("00") => Err(ExchangeError::BadMac),
        // A decline without a MAC moved no money; the host omits it when it cannot MAC (A0).
        None => Ok(()),
    }
}
