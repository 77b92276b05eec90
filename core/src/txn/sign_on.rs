//! Network management: sign-on (0800, working keys), sign-off (0820) and the echo test.

use crate::codec::iso8583::Message;
use crate::codec::iso8583::cups::{Field60, SignOnKeys};
use crate::crypto::{EncryptedWorkingKey, WorkingKeys};
use crate::diag::Termination;
use crate::host::CancelToken;
use crate::store::{BatchNo, OpaqueBlob};
use crate::txn::endings;
use crate::txn::fields;
use crate::txn::terminal::{PED_KEYS_LABEL, Terminal, WORKING_KEYS_LABEL};

/// 60.3 network-management codes.
const NET_SIGN_ON_TDES: &str = "004";
const NET_SIGN_OFF: &str = "002";
pub(crate) const NET_ECHO: &str = "301";

/// What a successful sign-on changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnResult {
    /// The batch the host opened for this terminal (60.2 of the 0810).
    pub batch_no: u32,
    /// Whether a terminal data key came with the PIK and MAK.
    pub data_key: bool,
}

impl Terminal {
    /// Signs on: receives PIK, MAK (and TDK) under the TMK, checks their check values, and only
    /// then installs them and seals them into the journal.
    pub fn sign_on(&self) -> Result<SignOnResult, Termination> {
        let _one = self.exclusive();
        let result = self.sign_on_locked();
        self.tally_ending("sign_on", result.as_ref().err());
        result
    }

    pub(crate) fn sign_on_locked(&self) -> Result<SignOnResult, Termination> {
        // Until one succeeds, another is owed: the host may have issued keys this terminal
        // refused (a check value that failed), and MACs under the old ones would not verify.
        self.session().sign_on_required = true;
        let response = self.network_message("0800", NET_SIGN_ON_TDES)?;
        let code = response.field_text(39).unwrap_or_default();
        if code != "00" {
            return Err(endings::from_response(&code));
        }
        let keys_field = response.bytes(62).ok_or_else(endings::keys)?;
        let keys = SignOnKeys::parse(keys_field).map_err(|e| {
            log::warn!("terminal {}: field 62: {e}", self.config.terminal_id);
            endings::keys()
        })?;
        let block = |k: &crate::codec::iso8583::cups::KeyBlock| EncryptedWorkingKey {
            ciphertext: k.encrypted.clone(),
            check_value: k.check_value,
        };
        let working = WorkingKeys {
            pik: block(&keys.pik),
            mak: block(&keys.mak),
            tdk: keys.tdk.as_ref().map(block),
        };
        self.ports.vault.load_working_keys(&working).map_err(|e| {
            log::warn!(
                "terminal {}: working keys refused: {e}",
                self.config.terminal_id
            );
            match &e {
                crate::crypto::VaultError::WeakKeys(why) => endings::weak_keys(why),
                crate::crypto::VaultError::Device { .. } => endings::ped_fault(),
                _ => endings::keys(),
            }
        })?;
        // A PED keeps its keys itself: the journal records only when they were loaded (an
        // empty blob under its own label), for the health check's key age. A software vault's
        // keys are sealed into the journal to survive a restart.
        let (label, sealed) = if self.ports.vault.keeps_keys_across_restarts() {
            (PED_KEYS_LABEL, OpaqueBlob::new(Vec::new()))
        } else {
            let blob = self
                .ports
                .vault
                .export_wrapped(&self.config.storage_key, WORKING_KEYS_LABEL)
                .map(OpaqueBlob::new)
                .map_err(|_| endings::keys())?;
            (WORKING_KEYS_LABEL, blob)
        };
        let batch_no = response
            .field_text(60)
            .and_then(|d| Field60::parse(&d).ok())
            .map(|f| f.batch_no);
        {
            let mut journal = self.journal();
            journal
                .put_key(label, &sealed, self.now_ms())
                .map_err(|e| self.storage_fault(&e))?;
            if label == PED_KEYS_LABEL {
                // Keys a software vault sealed before this terminal moved to a PED are stale
                // key material: they go, and nothing would ever import them again.
                let _ = journal.delete_key(WORKING_KEYS_LABEL);
            }
            if let Some(b) = batch_no.and_then(|b| BatchNo::new(b).ok()) {
                journal
                    .set_batch_no(b)
                    .map_err(|e| self.storage_fault(&e))?;
            }
        }
        self.session().sign_on_required = false;
        let batch_no = self
            .journal()
            .batch_no()
            .map_err(|e| self.storage_fault(&e))?
            .value();
        log::info!(
            "terminal {}: signed on, batch {batch_no:06}",
            self.config.terminal_id
        );
        Ok(SignOnResult {
            batch_no,
            data_key: keys.tdk.is_some(),
        })
    }

    /// Signs off (0820); the working keys are discarded either way.
    pub fn sign_off(&self) -> Result<(), Termination> {
        let _one = self.exclusive();
        let result = self.network_message("0820", NET_SIGN_OFF);
        self.ports.vault.clear_working_keys();
        let _ = self.journal().delete_key(WORKING_KEYS_LABEL);
        let _ = self.journal().delete_key(PED_KEYS_LABEL);
        self.session().sign_on_required = true;
        let response = result?;
        match response.field_text(39).as_deref() {
            Some("00") => Ok(()),
            Some(code) => Err(endings::from_response(code)),
            None => Err(endings::from_response("30")),
        }
    }

    /// Echo test (0820, 60.3 = 301): proves the host answers; returns nothing else.
    pub fn echo(&self) -> Result<(), Termination> {
        let _one = self.exclusive();
        self.network_message("0820", NET_ECHO).map(|_| ())
    }

    /// A network-management message: new STAN, no MAC (keys may not exist yet), nothing to reverse.
    pub(crate) fn network_message(
        &self,
        mti: &str,
        net_code: &str,
    ) -> Result<Message, Termination> {
        let (stan, batch_no) = {
            let mut journal = self.journal();
            let stan = journal
                .next_stan_standalone()
                .map_err(|e| self.storage_fault(&e))?;
            let batch = journal.batch_no().map_err(|e| self.storage_fault(&e))?;
            (stan, batch)
        };
        let m = fields::management_message(
            mti,
            stan.value(),
            &self.config.terminal_id,
            &self.config.merchant_id,
            batch_no.value(),
            net_code,
            &self.config.operator,
        );
        self.exchange(m, false, &CancelToken::new())
            .map_err(|e| endings::from_exchange(&e))
    }
}
