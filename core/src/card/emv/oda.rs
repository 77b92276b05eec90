//! Offline data authentication as the kernel drives it (EMV 4.4 Book 3 §10.3): choose CDA >
//! DDA > SDA from the AIP and the terminal's capabilities, send INTERNAL AUTHENTICATE for DDA,
//! and set the TVR/TSI bits. The cryptography (certificate recovery, signatures, the CA key
//! table) sits behind [`OdaVerifier`], implemented over `card::oda`.

use serde::{Deserialize, Serialize};

use super::bits::{Tsi, TsiBit, Tvr, TvrBit};
use super::channel::{Card, ChannelError, cmd};
use super::data::TagStore;
use super::dol;
use super::params::{AidParams, TerminalParams};
use crate::codec::tlv::{self, Tlv};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OdaMethod {
    Sda,
    Dda,
    Cda,
    /// PBOC 3.0 SM2 offline authentication (DDA/CDA-shaped under an SM2 CA key).
    Sm2,
    None,
}

impl OdaMethod {
    pub fn name(self) -> &'static str {
        match self {
            OdaMethod::Sda => "sda",
            OdaMethod::Dda => "dda",
            OdaMethod::Cda => "cda",
            OdaMethod::Sm2 => "sm2",
            OdaMethod::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OdaResult {
    Ok,
    Failed,
    NotPerformed,
}

/// Why verification failed; every one fails the method (Book 2 §5.3, §6.3), and missing card
/// data also sets "ICC data missing".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OdaError {
    #[error("no CA public key for the card's index")]
    CaKeyMissing,
    #[error("a data object needed for ODA is missing")]
    IccDataMissing,
    #[error("a certificate or signature does not verify")]
    Failed,
}

/// The card's recovered public key (RSA modulus and exponent, or an SM2 point in `modulus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IccPublicKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

/// The cryptography of ODA. `static_data` is the records' data plus the AIP when 9F4A asks.
pub trait OdaVerifier {
    fn verify_sda(&self, store: &TagStore, static_data: &[u8]) -> Result<(), OdaError>;
    fn recover_icc_key(
        &self,
        store: &TagStore,
        static_data: &[u8],
    ) -> Result<IccPublicKey, OdaError>;
    fn verify_dda(&self, key: &IccPublicKey, sdad: &[u8], ddol_data: &[u8])
    -> Result<(), OdaError>;
    /// fDDA of the contactless quick kernels: as DDA, with Visa's signed data format 95
    /// accepted beside 05.
    fn verify_fdda(
        &self,
        key: &IccPublicKey,
        sdad: &[u8],
        terminal_data: &[u8],
    ) -> Result<(), OdaError> {
        self.verify_dda(key, sdad, terminal_data)
    }
    /// Verifies the GENERATE AC signature and returns the cryptogram it carries. The hash input
    /// is PDOL data ‖ CDOL data ‖ the response's objects other than 9F4B (Book 2 §6.6.1).
    fn verify_cda(
        &self,
        key: &IccPublicKey,
        sdad: &[u8],
        unpredictable_number: &[u8; 4],
        cid: u8,
        hash_input: &[u8],
    ) -> Result<[u8; 8], OdaError>;
    /// The ICC PIN encipherment key (9F2D, Book 2 §7.1) when the card has a separate one.
    fn recover_pin_key(&self, _store: &TagStore) -> Option<IccPublicKey> {
        None
    }
    /// Whether the card's CA key is SM2 (PBOC 3.0): reported as method `sm2`.
    fn is_sm2(&self, _store: &TagStore) -> bool {
        false
    }
}

/// A terminal without a CA key table: every method fails with "CA key missing".
#[derive(Debug)]
pub struct NoCaKeys;

impl OdaVerifier for NoCaKeys {
    fn verify_sda(&self, _: &TagStore, _: &[u8]) -> Result<(), OdaError> {
        Err(OdaError::CaKeyMissing)
    }
    fn recover_icc_key(&self, _: &TagStore, _: &[u8]) -> Result<IccPublicKey, OdaError> {
        Err(OdaError::CaKeyMissing)
    }
    fn verify_dda(&self, _: &IccPublicKey, _: &[u8], _: &[u8]) -> Result<(), OdaError> {
        Err(OdaError::CaKeyMissing)
    }
    fn verify_cda(
        &self,
        _: &IccPublicKey,
        _: &[u8],
        _: &[u8; 4],
        _: u8,
        _: &[u8],
    ) -> Result<[u8; 8], OdaError> {
        Err(OdaError::CaKeyMissing)
    }
}

/// Where ODA stands after the first pass; CDA finishes at GENERATE AC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdaState {
    pub method: OdaMethod,
    pub result: OdaResult,
    /// CDA's key, kept for the GENERATE AC signatures; also the enciphered PIN key.
    pub icc_key: Option<IccPublicKey>,
    /// CDA is to be requested in GENERATE AC.
    pub cda_pending: bool,
}

pub fn choose(aip: [u8; 2], t: &TerminalParams) -> OdaMethod {
    if aip[0] & 0x01 != 0 && t.supports_cda() {
        OdaMethod::Cda
    } else if aip[0] & 0x20 != 0 && t.supports_dda() {
        OdaMethod::Dda
    } else if aip[0] & 0x40 != 0 && t.supports_sda() {
        OdaMethod::Sda
    } else {
        OdaMethod::None
    }
}

fn fail(e: OdaError, bit: TvrBit, tvr: &mut Tvr) {
    if e == OdaError::IccDataMissing {
        tvr.set(TvrBit::IccDataMissing);
    }
    tvr.set(bit);
}

/// SDA or DDA now, or the key for CDA (§10.3). `malformed` static data fails the method.
#[allow(clippy::too_many_arguments)]
pub fn authenticate(
    card: &mut Card,
    store: &TagStore,
    terminal: &TerminalParams,
    aid: &AidParams,
    static_data: &[u8],
    malformed: bool,
    verifier: &dyn OdaVerifier,
    tvr: &mut Tvr,
    tsi: &mut Tsi,
) -> Result<OdaState, ChannelError> {
    let aip = store
        .card(0x82)
        .and_then(|v| <[u8; 2]>::try_from(v).ok())
        .unwrap_or_default();
    let method = choose(aip, terminal);
    let mut st = OdaState {
        method,
        result: OdaResult::Failed,
        icc_key: None,
        cda_pending: false,
    };
    let sm2 = verifier.is_sm2(store);
    match method {
        OdaMethod::None | OdaMethod::Sm2 => {
            tvr.set(TvrBit::OdaNotPerformed);
            st.result = OdaResult::NotPerformed;
            return Ok(st);
        }
        OdaMethod::Sda => {
            tvr.set(TvrBit::SdaSelected);
            tsi.set(TsiBit::OdaPerformed);
            let r = if malformed {
                Err(OdaError::Failed)
            } else {
                verifier.verify_sda(store, static_data)
            };
            match r {
                Ok(()) => st.result = OdaResult::Ok,
                Err(e) => fail(e, TvrBit::SdaFailed, tvr),
            }
        }
        OdaMethod::Dda => {
            tsi.set(TsiBit::OdaPerformed);
            match dda(card, store, aid, static_data, malformed, verifier)? {
                Ok(key) => {
                    st.result = OdaResult::Ok;
                    st.icc_key = Some(key);
                }
                Err(e) => fail(e, TvrBit::DdaFailed, tvr),
            }
        }
        OdaMethod::Cda => {
            let key = if malformed {
                Err(OdaError::Failed)
            } else {
                verifier.recover_icc_key(store, static_data)
            };
            match key {
                Ok(key) => {
                    st.icc_key = Some(key);
                    st.cda_pending = true;
                    st.result = OdaResult::NotPerformed;
                }
                Err(e) => {
                    // Book 3 §10.3: a CDA key that cannot be recovered fails CDA now; the
                    // signature is not requested.
                    tsi.set(TsiBit::OdaPerformed);
                    fail(e, TvrBit::CdaFailed, tvr);
                }
            }
        }
    }
    if sm2 && st.method != OdaMethod::Sda {
        st.method = OdaMethod::Sm2;
    }
    Ok(st)
}

fn dda(
    card: &mut Card,
    store: &TagStore,
    aid: &AidParams,
    static_data: &[u8],
    malformed: bool,
    verifier: &dyn OdaVerifier,
) -> Result<Result<IccPublicKey, OdaError>, ChannelError> {
    if malformed {
        return Ok(Err(OdaError::Failed));
    }
    let key = match verifier.recover_icc_key(store, static_data) {
        Ok(k) => k,
        Err(e) => return Ok(Err(e)),
    };
    // Book 3 §10.3: the card's DDOL, else the terminal's default; it must ask for the UN.
    let ddol_bytes = store.card(0x9F49).unwrap_or(&aid.default_ddol);
    let Ok(ddol) = dol::parse(ddol_bytes) else {
        return Ok(Err(OdaError::Failed));
    };
    if !ddol.iter().any(|e| e.tag == 0x9F37) {
        return Ok(Err(OdaError::Failed));
    }
    let data = dol::build(&ddol, |t| store.get(t));
    let r = card.send(&cmd::internal_authenticate(&data))?;
    if !r.ok() {
        return Ok(Err(OdaError::Failed));
    }
    let sdad = match tlv::parse(&r.data).ok().as_deref() {
        Some([o]) if o.tag == 0x80 => o.bytes().map(<[u8]>::to_vec),
        Some([o]) if o.tag == 0x77 => tlv::find(o.children(), 0x9F4B)
            .and_then(Tlv::bytes)
            .map(<[u8]>::to_vec),
        _ => None,
    };
    let Some(sdad) = sdad else {
        return Ok(Err(OdaError::IccDataMissing));
    };
    Ok(verifier.verify_dda(&key, &sdad, &data).map(|()| key))
}
