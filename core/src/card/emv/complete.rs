//! Completion after the host (EMV 4.4 Book 3 §10.9–10.11): issuer authentication, scripts 71,
//! the second GENERATE AC with CDOL2, scripts 72.

use super::action::{self, ActionCodes};
use super::bits::{TsiBit, TvrBit};
use super::channel::{Card, IccChannel, cmd};
use super::dol;
use super::field55;
use super::genac;
use super::kernel::{ContactKernel, Step};
use super::oda::OdaVerifier;
use super::outcome::{AcType, Completion, CompletionReport, HostAnswer, TerminationReason};
use super::script;

impl ContactKernel {
    /// Finishes an online transaction with the host's answer; `host.response_code == None`
    /// means the host could not be reached (ARC Z3 and default action analysis).
    pub fn complete(
        &mut self,
        host: &HostAnswer,
        channel: &mut dyn IccChannel,
        verifier: &dyn OdaVerifier,
    ) -> CompletionReport {
        let mut card = Card::new(channel);
        let mut script_results = Vec::new();
        if self.step != Step::AwaitingHost {
            return self.report(
                Completion::Terminated(TerminationReason::NotSupported),
                Vec::new(),
            );
        }
        self.step = Step::Completed;
        let approved = host.approved();
        let requested = match host.response_code {
            None => {
                self.store.set_terminal(0x8A, *b"Z3");
                let Some(aid) = &self.aid_params else {
                    return self.report(
                        Completion::Terminated(TerminationReason::NotSupported),
                        Vec::new(),
                    );
                };
                let iac = ActionCodes::issuer(&self.store);
                action::default_action(&self.tvr, &iac, &ActionCodes::terminal(aid))
            }
            Some(arc) => {
                self.store.set_terminal(0x8A, arc);
                self.issuer_authentication(&mut card, host);
                if approved { AcType::Tc } else { AcType::Aac }
            }
        };
        script_results.extend(script::run(
            &mut card,
            &host.issuer_scripts,
            0x71,
            &mut self.tvr,
            &mut self.tsi,
        ));
        self.sync_terminal_tags();
        let cda = self.oda.cda_pending && requested == AcType::Tc;
        let resp = genac::generate_ac(&mut card, &mut self.store, requested, cda, 0x8D);
        let completion = match resp {
            Err(r) if approved => {
                log::warn!(
                    "second GENERATE AC failed after host approval: {}",
                    r.code()
                );
                Completion::CardDeclinedAfterApproval
            }
            Err(r) => Completion::Terminated(r),
            Ok(resp) => {
                let (cda_ok, recovered) = self.finish_cda(&resp, cda, verifier);
                let mut record = resp.record();
                if let Some(ac) = recovered {
                    record.cryptogram = ac;
                }
                self.acs.push(record);
                let card_approved = resp.kind == AcType::Tc && cda_ok;
                match (host.response_code, approved, card_approved) {
                    (None, _, true) => Completion::ApprovedUnableOnline,
                    (None, _, false) => Completion::DeclinedUnableOnline,
                    (Some(_), true, true) => Completion::ApprovedOnline,
                    (Some(_), true, false) => Completion::CardDeclinedAfterApproval,
                    (Some(_), false, _) => Completion::DeclinedOnline,
                }
            }
        };
        script_results.extend(script::run(
            &mut card,
            &host.issuer_scripts,
            0x72,
            &mut self.tvr,
            &mut self.tsi,
        ));
        self.sync_terminal_tags();
        self.report(completion, script_results)
    }

    fn report(&self, completion: Completion, script_results: Vec<u8>) -> CompletionReport {
        CompletionReport {
            completion,
            field55: field55::build(&self.store),
            script_results,
        }
    }

    /// §10.9: EXTERNAL AUTHENTICATE when the AIP says the card supports issuer authentication
    /// and CDOL2 does not carry tag 91 itself.
    fn issuer_authentication(&mut self, card: &mut Card, host: &HostAnswer) {
        let Some(iad) = host.issuer_authentication_data.as_deref() else {
            return;
        };
        if !(8..=16).contains(&iad.len()) {
            self.tvr.set(TvrBit::IssuerAuthenticationFailed);
            return;
        }
        self.store.set_terminal(0x91, iad.to_vec());
        let in_cdol2 = self
            .store
            .card(0x8D)
            .and_then(|d| dol::parse(d).ok())
            .is_some_and(|d| d.iter().any(|e| e.tag == 0x91));
        let supported = self
            .store
            .card(0x82)
            .and_then(|a| a.first())
            .is_some_and(|b| b & 0x04 != 0);
        if in_cdol2 {
            self.tsi.set(TsiBit::IssuerAuthenticationPerformed);
            return;
        }
        if !supported {
            return;
        }
        self.tsi.set(TsiBit::IssuerAuthenticationPerformed);
        let ok = card
            .send(&cmd::external_authenticate(iad))
            .is_ok_and(|r| r.ok());
        if !ok {
            self.tvr.set(TvrBit::IssuerAuthenticationFailed);
        }
    }
}
