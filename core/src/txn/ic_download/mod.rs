//! The acquirer's IC parameter and CA public key downloads (UnionPay network management): a
//! status query lists what the acquirer holds, each entry is downloaded and checked, an end
//! message closes the session, and only then is the new set journaled (one commit) and put in
//! force (one swap under the chip lock). A refused record, a broken answer or a lost
//! connection aborts the download with the old set in force; a crash before the commit keeps
//! the old complete set, after it the new one, which the terminal loads again at open.
//!
//! The messages carry no MAC (none in the sources `wire` cites) and need no working keys; a
//! host that answers with a sign-on demand (77) gets a sign-on and one more try, as every flow.

mod records;
mod wire;

use thiserror::Error;

pub use records::{
    DOWNLOAD_SOURCE, IcParameters, RecordError, decode_ca_key, decode_ic_parameters, encode_ca_key,
    encode_ic_parameters,
};
pub use wire::{
    ChipSet, Listed, StatusPage, Step, WireError, download_request, download_response,
    parse_download_request, parse_download_response, parse_status_request, parse_status_response,
    status_request, status_response,
};

use crate::card::oda::CaKeyTable;
use crate::codec::iso8583::Message;
use crate::diag::Termination;
use crate::host::CancelToken;
use crate::txn::endings;
use crate::txn::fields;
use crate::txn::terminal::Terminal;

/// The status query counts in two digits: no set is longer.
pub const MAX_ENTRIES: usize = 99;

/// What a download did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipDownload {
    pub set: ChipSet,
    /// Entries the acquirer listed and the terminal now holds.
    pub entries: usize,
    /// False when the acquirer listed nothing: the set in force stays (an empty CA key table
    /// would turn offline data authentication off).
    pub applied: bool,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ChipDownloadError {
    /// The host could not be reached, refused, or the journal could not keep the set.
    #[error("{} download not completed: {} ({})", .set.name(), .termination.code, .termination.merchant_en)]
    Terminated {
        set: ChipSet,
        termination: Box<Termination>,
    },
    /// A record failed its checks: the whole download is refused.
    #[error("{} download refused: {entry}: {source}", .set.name())]
    Refused {
        set: ChipSet,
        entry: String,
        #[source]
        source: RecordError,
    },
    /// The acquirer's answers do not follow the protocol.
    #[error("{} download refused: the answer to the {step:?} step: {detail}", .set.name())]
    Protocol {
        set: ChipSet,
        step: Step,
        detail: String,
    },
}

impl ChipDownloadError {
    /// The termination behind a host or storage failure.
    pub fn termination(&self) -> Option<&Termination> {
        match self {
            ChipDownloadError::Terminated { termination, .. } => Some(termination),
            _ => None,
        }
    }

    fn demands_sign_on(&self) -> bool {
        self.termination()
            .and_then(|t| t.host_code)
            .is_some_and(|code| crate::txn::online::demands_sign_on(code.as_str()))
    }
}

fn terminated(set: ChipSet, termination: Termination) -> ChipDownloadError {
    ChipDownloadError::Terminated {
        set,
        termination: Box::new(termination),
    }
}

fn protocol(set: ChipSet, step: Step, detail: impl ToString) -> ChipDownloadError {
    ChipDownloadError::Protocol {
        set,
        step,
        detail: detail.to_string(),
    }
}

/// A downloaded table, checked, before it is put in force.
#[derive(Debug, Clone)]
pub enum DownloadedTable {
    CaKeys(CaKeyTable),
    IcParameters(Vec<IcParameters>),
}

impl DownloadedTable {
    /// Decodes and checks every record of a set; `today` (YYMMDD) refuses expired keys (`None`
    /// when loading a set that was checked at download). The first bad record refuses the set
    /// and says which it was.
    pub fn decode(
        set: ChipSet,
        records: &[Vec<u8>],
        today: Option<&str>,
    ) -> Result<DownloadedTable, (usize, RecordError)> {
        match set {
            ChipSet::CaKeys => {
                let mut table = CaKeyTable::new();
                for (i, record) in records.iter().enumerate() {
                    let key =
                        decode_ca_key(record, today.unwrap_or("000000")).map_err(|e| (i, e))?;
                    table.insert(key).map_err(|e| (i, RecordError::Key(e)))?;
                }
                Ok(DownloadedTable::CaKeys(table))
            }
            ChipSet::IcParameters => records
                .iter()
                .enumerate()
                .map(|(i, r)| decode_ic_parameters(r).map_err(|e| (i, e)))
                .collect::<Result<_, _>>()
                .map(DownloadedTable::IcParameters),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            DownloadedTable::CaKeys(t) => t.len(),
            DownloadedTable::IcParameters(p) => p.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The entry a record is for, to match it with what the status query listed.
fn record_identity(set: ChipSet, record: &[u8], today: &str) -> Result<Listed, RecordError> {
    Ok(match set {
        ChipSet::CaKeys => {
            let key = decode_ca_key(record, today)?;
            Listed {
                id: key.rid.to_vec(),
                index: Some(key.index),
            }
        }
        ChipSet::IcParameters => Listed {
            id: decode_ic_parameters(record)?.aid,
            index: None,
        },
    })
}

impl Terminal {
    /// Downloads the acquirer's IC parameters (the AID table) and puts them in force.
    pub fn download_ic_parameters(&self) -> Result<ChipDownload, ChipDownloadError> {
        self.download_chip_set(ChipSet::IcParameters)
    }

    /// Downloads the acquirer's CA public keys and puts them in force.
    pub fn download_ca_keys(&self) -> Result<ChipDownload, ChipDownloadError> {
        self.download_chip_set(ChipSet::CaKeys)
    }

    /// Both downloads, IC parameters first; stops at the first that fails (the one before it
    /// stays in force: each set is whole on its own).
    pub fn update_chip_config(&self) -> Result<Vec<ChipDownload>, ChipDownloadError> {
        ChipSet::ALL
            .into_iter()
            .map(|set| self.download_chip_set(set))
            .collect()
    }

    /// One download session for `set`.
    pub fn download_chip_set(&self, set: ChipSet) -> Result<ChipDownload, ChipDownloadError> {
        let _one = self.exclusive();
        let mut result = self.download_locked(set);
        if self.config.auto_sign_on && result.as_ref().is_err_and(|e| e.demands_sign_on()) {
            result = match self.sign_on_locked() {
                Ok(_) => self.download_locked(set),
                Err(t) => Err(terminated(set, t)),
            };
        }
        match &result {
            Ok(done) => log::info!(
                "terminal {}: {} download: {} entries{}",
                self.config.terminal_id,
                set.name(),
                done.entries,
                if done.applied {
                    ""
                } else {
                    " (nothing listed, kept)"
                }
            ),
            Err(e) => log::warn!("terminal {}: {e}", self.config.terminal_id),
        }
        self.tally_ending(
            "ic_download",
            result.as_ref().err().and_then(|e| e.termination()),
        );
        result
    }

    fn download_locked(&self, set: ChipSet) -> Result<ChipDownload, ChipDownloadError> {
        let today = crate::txn::health::local_date_yymmdd(self.ports.clock.now());
        let listed = self.list_entries(set)?;
        if listed.is_empty() {
            self.chip_message(set, "0800", set.end_code(), None)?;
            return Ok(ChipDownload {
                set,
                entries: 0,
                applied: false,
            });
        }
        let mut records = Vec::with_capacity(listed.len());
        for entry in &listed {
            let answer = self.chip_message(
                set,
                "0800",
                set.download_code(),
                Some(download_request(entry)),
            )?;
            let record = parse_download_response(answer.bytes(62).unwrap_or_default())
                .map_err(|e| protocol(set, Step::Download, e))?
                .ok_or_else(|| {
                    protocol(set, Step::Download, format!("{entry} listed but not sent"))
                })?;
            let refused = |source| ChipDownloadError::Refused {
                set,
                entry: entry.to_string(),
                source,
            };
            let got = record_identity(set, record, &today).map_err(refused)?;
            if got != *entry {
                return Err(protocol(
                    set,
                    Step::Download,
                    format!("asked for {entry}, got {got}"),
                ));
            }
            records.push(record.to_vec());
        }
        let table =
            DownloadedTable::decode(set, &records, Some(&today)).map_err(|(i, source)| {
                ChipDownloadError::Refused {
                    set,
                    entry: listed.get(i).map(ToString::to_string).unwrap_or_default(),
                    source,
                }
            })?;
        self.chip_message(set, "0800", set.end_code(), None)?;
        crate::crashpoint::reached("ic_download.received", set.name());
        let at = self.now_ms();
        self.journal()
            .replace_chip_set(set.name(), &records, at)
            .map_err(|e| terminated(set, self.storage_fault(&e)))?;
        crate::crashpoint::reached("ic_download.journaled", set.name());
        let entries = table.len();
        self.put_in_force(table);
        Ok(ChipDownload {
            set,
            entries,
            applied: true,
        })
    }

    /// The status query, page after page until the host says it has listed everything.
    fn list_entries(&self, set: ChipSet) -> Result<Vec<Listed>, ChipDownloadError> {
        let mut listed: Vec<Listed> = Vec::new();
        loop {
            let answer = self.chip_message(
                set,
                "0820",
                set.status_code(),
                Some(status_request(listed.len())),
            )?;
            let page = parse_status_response(answer.bytes(62).unwrap_or_default())
                .map_err(|e| protocol(set, Step::Status, e))?;
            // "More follow" with nothing new would ask the same question for ever.
            let more = page.more && !page.entries.is_empty();
            for entry in page.entries {
                if listed.contains(&entry) {
                    return Err(protocol(set, Step::Status, format!("{entry} listed twice")));
                }
                if set == ChipSet::CaKeys && entry.index.is_none() {
                    return Err(protocol(set, Step::Status, format!("{entry} has no 9F22")));
                }
                listed.push(entry);
            }
            if listed.len() > MAX_ENTRIES {
                return Err(protocol(
                    set,
                    Step::Status,
                    format!("more than {MAX_ENTRIES} entries"),
                ));
            }
            if !more {
                return Ok(listed);
            }
        }
    }

    /// One message of the session: new STAN, no MAC; anything but 00 ends the download.
    fn chip_message(
        &self,
        set: ChipSet,
        mti: &str,
        code: &str,
        field62: Option<Vec<u8>>,
    ) -> Result<Message, ChipDownloadError> {
        let (stan, batch_no) = {
            let mut journal = self.journal();
            let stan = journal
                .next_stan_standalone()
                .map_err(|e| terminated(set, self.storage_fault(&e)))?;
            let batch = journal
                .batch_no()
                .map_err(|e| terminated(set, self.storage_fault(&e)))?;
            (stan, batch)
        };
        let mut m = fields::management_message(
            mti,
            stan.value(),
            &self.config.terminal_id,
            &self.config.merchant_id,
            batch_no.value(),
            code,
            &self.config.operator,
        );
        if let Some(f) = field62 {
            m.set_bytes(62, f);
        }
        let response = self
            .exchange(m, false, &CancelToken::new())
            .map_err(|e| terminated(set, endings::from_exchange(&e)))?;
        let rc = response.field_text(39).unwrap_or_default();
        if rc != "00" {
            if crate::txn::online::demands_sign_on(&rc) {
                self.session().sign_on_required = true;
            }
            return Err(terminated(set, endings::from_response(&rc)));
        }
        Ok(response)
    }

    fn put_in_force(&self, table: DownloadedTable) {
        let mut chip = self
            .chip
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match table {
            DownloadedTable::CaKeys(keys) => chip.ca_keys = keys,
            DownloadedTable::IcParameters(params) => {
                chip.kernel.aids = params.iter().map(IcParameters::to_aid_params).collect();
            }
        }
    }

    /// At open: the sets downloaded before, checked again. A set that fails keeps the built-in
    /// table in force for it, and the log says why.
    pub(crate) fn restore_chip_config(&self) {
        let stored = match self.journal().stored_chip_sets() {
            Ok(s) => s,
            Err(e) => {
                log::error!(
                    "terminal {}: downloaded chip tables unreadable, built-in tables in force: {e}",
                    self.config.terminal_id
                );
                return;
            }
        };
        for s in stored {
            let Some(set) = ChipSet::from_name(&s.name) else {
                log::warn!(
                    "terminal {}: unknown chip set {:?}",
                    self.config.terminal_id,
                    s.name
                );
                continue;
            };
            if !s.is_complete() {
                log::error!(
                    "terminal {}: stored {} lost records ({} of {}): built-in table in force",
                    self.config.terminal_id,
                    set.name(),
                    s.records.len(),
                    s.entries
                );
                continue;
            }
            match DownloadedTable::decode(set, &s.records, None) {
                Ok(table) => self.put_in_force(table),
                Err((i, e)) => log::error!(
                    "terminal {}: stored {} record {i} refused ({e}): built-in table in force",
                    self.config.terminal_id,
                    set.name()
                ),
            }
        }
    }
}
