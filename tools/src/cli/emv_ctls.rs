//! `smartpos emv replay` with `"interface": "contactless"`: the recording is tapped, starting
//! at the PPSE, through the contactless entry point and kernels (`card::ctls`). The terminal
//! keys `contactless_floor_limit_fen`, `contactless_limit_fen` and `cvm_required_limit_fen`
//! override every combination's limits, and `cvm_capability_cvm_required` /
//! `cvm_capability_no_cvm_required` (one hex byte each) kernel C-2's CVM capabilities;
//! `terminal_type`, `application_version` and the TACs override the AID's parameters as for a
//! contact replay.
//!
//! The output is the contact replay's, plus `kernel` (qpboc, c3_visa, c2_mastercard), `ttq`
//! (9F66 as sent), `cvm` (no_cvm, online_pin, signature, consumer_device) and `ui` (the UI
//! requests in order). `ac[].cryptogram` is the one recovered from the CDA signature when the
//! kernel verified one. A tap has no second GENERATE AC: with `host`, the outcome is the host's
//! (approved_online / declined_online). Endings without a cryptogram are `terminated` with
//! `try_again`, `see_phone`, `try_another_interface_<reason>` or the kernel's code.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Value as Json, json};
use smartpos_core::card::ctls::{self, CtlsConfig, CtlsOutcome, CtlsPorts, KernelId};
use smartpos_core::card::emv::{CaKeyVerifier, HostAnswer};

use super::emv::{Channel, ReplayCard, TerminalFields, config_and_txn, fixed, report};

pub(super) fn replay(
    t: &TerminalFields,
    card: &Rc<RefCell<ReplayCard>>,
    host: Option<&HostAnswer>,
    verifier: &CaKeyVerifier,
) -> Result<Json, String> {
    let (config, txn) = config_and_txn(t)?;
    let mut aids = ctls::default_ctls_aids();
    for a in &mut aids {
        if let Some(contact) = config.aids.iter().find(|c| c.aid == a.contact.aid) {
            a.contact = contact.clone();
        }
        if let Some(v) = t.contactless_floor_limit_fen {
            a.floor_limit_fen = v;
        }
        if let Some(v) = t.contactless_limit_fen {
            a.contactless_limit_fen = Some(v);
        }
        if let Some(v) = t.cvm_required_limit_fen {
            a.cvm_required_limit_fen = v;
        }
        if let Some(v) = &t.cvm_capability_cvm_required {
            a.cvm_capability_cvm_required = fixed::<1>("cvm_capability_cvm_required", v)?[0];
        }
        if let Some(v) = &t.cvm_capability_no_cvm_required {
            a.cvm_capability_no_cvm_required = fixed::<1>("cvm_capability_no_cvm_required", v)?[0];
        }
    }
    let cfg = CtlsConfig {
        terminal: config.terminal,
        aids,
    };
    let mut ui = Vec::new();
    let mut channel = Channel(card.clone());
    let (tap, outcome) = ctls::start(
        &cfg,
        txn,
        &mut channel,
        CtlsPorts {
            oda: verifier,
            ui: &mut ui,
        },
    );
    let (name, termination, field55, cvm): (&str, Option<String>, Vec<u8>, Option<Json>) =
        match &outcome {
            CtlsOutcome::OnlineRequest(r) => {
                let name = match host {
                    None => "online",
                    Some(h) if h.approved() => "approved_online",
                    Some(_) => "declined_online",
                };
                (name, None, r.request.field55.clone(), Some(json!(r.cvm)))
            }
            CtlsOutcome::Approved(r) => (
                "approved_offline",
                None,
                r.request.field55.clone(),
                Some(json!(r.cvm)),
            ),
            CtlsOutcome::Declined(r) => (
                "declined_offline",
                None,
                r.request.field55.clone(),
                Some(json!(r.cvm)),
            ),
            CtlsOutcome::TryAnotherInterface(reason) => (
                "terminated",
                Some(format!("try_another_interface_{}", snake(reason))),
                Vec::new(),
                None,
            ),
            CtlsOutcome::EndApplication(r) => {
                ("terminated", Some(r.code().to_string()), Vec::new(), None)
            }
            other => (
                "terminated",
                Some(other.code().to_string()),
                Vec::new(),
                None,
            ),
        };
    let mut out = report(
        card,
        Some(tap.snapshot().clone()),
        field55,
        name,
        termination.as_deref(),
    );
    out["kernel"] = json!(tap.kernel.map(KernelId::name));
    out["ttq"] = json!(tap.ttq.map(hex::encode_upper));
    out["cvm"] = cvm.unwrap_or(Json::Null);
    out["ui"] = json!(ui.iter().map(|u| u.code()).collect::<Vec<_>>());
    Ok(out)
}

/// The snake_case name serde gives a unit enum value.
fn snake<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
