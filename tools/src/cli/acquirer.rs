//! How a command names its acquirer: `--host HOST:PORT` (plain TCP: a private APN, or a local
//! simulator) or `--host tls://HOST:PORT` with `--ca FILE` (the CA the host's certificate must
//! chain to), `--client-cert/--client-key` for mutual TLS and `--tls-name` when the certificate
//! names something other than the address. Shared by `pay`, `settle`, `recover` and `health`.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use smartpos_core::crypto::MacAlgorithm;
use smartpos_core::host::{AcquirerDialect, AcquirerTls, ClientIdentity};
use smartpos_core::txn::AcquirerSecurity;
use zeroize::Zeroizing;

use super::CliError;
use super::msglog::MessageLog;
use crate::demo_setup;

const TLS_SCHEME: &str = "tls://";

/// `HOST:PORT` or `tls://HOST:PORT`, resolved once when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddress {
    pub tls: bool,
    /// The host as written (a name or an IP address), without brackets.
    pub host: String,
    pub endpoints: Vec<SocketAddr>,
    text: String,
}

impl FromStr for HostAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (tls, rest) = match s.strip_prefix(TLS_SCHEME) {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if rest.contains("://") {
            return Err(format!(
                "{s:?}: the only scheme is tls:// (HOST:PORT alone is plain TCP)"
            ));
        }
        let host = rest
            .rsplit_once(':')
            .map(|(host, _)| host.trim_start_matches('[').trim_end_matches(']'))
            .filter(|host| !host.is_empty())
            .ok_or_else(|| format!("{s:?} is not HOST:PORT or tls://HOST:PORT"))?;
        let endpoints: Vec<SocketAddr> = rest
            .to_socket_addrs()
            .map_err(|e| format!("{s:?} is not HOST:PORT or tls://HOST:PORT: {e}"))?
            .collect();
        if endpoints.is_empty() {
            return Err(format!("{s:?} resolves to no address"));
        }
        Ok(HostAddress {
            tls,
            host: host.to_owned(),
            endpoints,
            text: s.to_owned(),
        })
    }
}

impl fmt::Display for HostAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct AcquirerArgs {
    /// Acquirer address: HOST:PORT for plain TCP (a private APN, or a local simulator) or
    /// tls://HOST:PORT for TLS.
    #[arg(long)]
    pub host: HostAddress,
    /// PEM CA certificate(s) the acquirer's TLS certificate must chain to (tls:// only);
    /// without it the bundled root CAs are trusted.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// The terminal's client certificate (PEM, leaf first) for mutual TLS; needs --client-key.
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// The name the acquirer's certificate carries, when it is not the host in --host.
    #[arg(long)]
    pub tls_name: Option<String>,
    /// The acquirer's MAC algorithm: cup-ecb, x919 or sm4.
    #[arg(long, default_value = "x919", value_parser = super::parse_mac)]
    pub mac: MacAlgorithm,
    /// Encipher track data under the TDK the acquirer issues at sign-on (field 53.3 = 1).
    #[arg(long)]
    pub track_encryption: bool,
    /// Append every ISO 8583 message exchanged with the acquirer to this file, as `decode`
    /// shows it (card data masked), with time, connection and round trip; `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// The terminal's id on the acquirer link (field 41, 8 characters); give each journal its
    /// own when several share one acquirer (the simulator keeps keys and batches per terminal).
    #[arg(long, default_value = demo_setup::DEMO_TERMINAL_ID, value_parser = terminal_id)]
    pub terminal_id: String,
    /// The merchant's id on the acquirer link (field 42, 15 characters).
    #[arg(long, default_value = demo_setup::DEMO_MERCHANT_ID, value_parser = merchant_id)]
    pub merchant_id: String,
}

/// Field 41: exactly 8 characters, letters and digits.
pub(super) fn terminal_id(s: &str) -> Result<String, String> {
    fixed_id(s, 8, "terminal id")
}

/// Field 42: exactly 15 characters, letters and digits.
pub(super) fn merchant_id(s: &str) -> Result<String, String> {
    fixed_id(s, 15, "merchant id")
}

fn fixed_id(s: &str, len: usize, what: &str) -> Result<String, String> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(s.to_owned())
    } else {
        Err(format!("{what} {s:?} must be {len} letters or digits"))
    }
}

/// Where the acquirer is and how the link to it is protected.
#[derive(Debug, Clone)]
pub struct HostLink {
    pub endpoints: Vec<SocketAddr>,
    pub security: AcquirerSecurity,
    /// The acquirer's message conventions (MAC, track encryption).
    pub dialect: AcquirerDialect,
    /// The message log every exchange is written to (`--trace`).
    pub trace: Option<Arc<MessageLog>>,
    /// The terminal's and merchant's ids on the link (fields 41 and 42).
    pub terminal_id: String,
    pub merchant_id: String,
}

impl HostLink {
    /// Plain TCP to one address (tests, the simulator on loopback).
    pub fn plain(addr: SocketAddr) -> HostLink {
        HostLink {
            endpoints: vec![addr],
            security: AcquirerSecurity::PlainTcp,
            dialect: AcquirerDialect::default(),
            trace: None,
            terminal_id: demo_setup::DEMO_TERMINAL_ID.to_owned(),
            merchant_id: demo_setup::DEMO_MERCHANT_ID.to_owned(),
        }
    }
}

impl AcquirerArgs {
    /// Reads the certificate files the flags name; TLS flags without a tls:// host are refused
    /// rather than ignored, since the operator asked for a protection they would not get.
    pub fn link(&self) -> Result<HostLink, CliError> {
        let endpoints = self.host.endpoints.clone();
        let trace = self
            .trace
            .as_deref()
            .map(|path| MessageLog::open(path, &self.host.to_string()).map(Arc::new))
            .transpose()?;
        if !self.host.tls {
            if self.ca.is_some() || self.client_cert.is_some() || self.tls_name.is_some() {
                return Err(CliError::new(format!(
                    "--ca, --client-cert and --tls-name need a tls:// host, got {}",
                    self.host
                )));
            }
            return Ok(HostLink {
                endpoints,
                security: AcquirerSecurity::PlainTcp,
                dialect: self.dialect(),
                trace,
                terminal_id: self.terminal_id.clone(),
                merchant_id: self.merchant_id.clone(),
            });
        }
        let client = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some(ClientIdentity {
                cert_chain_pem: read(cert)?,
                key_pem: Zeroizing::new(read(key)?),
            }),
            _ => None,
        };
        // A host written as a name is the name its certificate must carry; an IP address is
        // checked as an address (the transport's default).
        let server_name = self.tls_name.clone().or_else(|| {
            self.host
                .host
                .parse::<std::net::IpAddr>()
                .is_err()
                .then(|| self.host.host.clone())
        });
        let ca_pem = self.ca.as_deref().map(read).transpose()?;
        Ok(HostLink {
            endpoints,
            security: AcquirerSecurity::Tls(AcquirerTls {
                ca_pem,
                server_name,
                client,
            }),
            dialect: self.dialect(),
            trace,
            terminal_id: self.terminal_id.clone(),
            merchant_id: self.merchant_id.clone(),
        })
    }

    /// The acquirer's dialect the flags describe.
    pub fn dialect(&self) -> AcquirerDialect {
        AcquirerDialect {
            track_encryption: self.track_encryption,
            ..AcquirerDialect::unionpay(self.mac)
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::new(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(host: &str) -> AcquirerArgs {
        AcquirerArgs {
            host: host.parse().unwrap(),
            ca: None,
            client_cert: None,
            client_key: None,
            tls_name: None,
            mac: MacAlgorithm::X919,
            track_encryption: false,
            trace: None,
            terminal_id: demo_setup::DEMO_TERMINAL_ID.to_owned(),
            merchant_id: demo_setup::DEMO_MERCHANT_ID.to_owned(),
        }
    }

    #[test]
    fn plain_and_tls_addresses_parse_and_others_are_refused_with_the_rule() {
        let plain: HostAddress = "127.0.0.1:5800".parse().unwrap();
        assert!(!plain.tls);
        assert_eq!(plain.endpoints, vec!["127.0.0.1:5800".parse().unwrap()]);
        let tls: HostAddress = "tls://127.0.0.1:5801".parse().unwrap();
        assert!(tls.tls);
        assert_eq!(tls.host, "127.0.0.1");
        assert_eq!(tls.to_string(), "tls://127.0.0.1:5801");
        let v6: HostAddress = "tls://[::1]:5801".parse().unwrap();
        assert_eq!(v6.host, "::1");
        for bad in ["http://127.0.0.1:1", "tls://127.0.0.1", "127.0.0.1", ":80"] {
            let err = bad.parse::<HostAddress>().unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn tls_flags_need_a_tls_host_and_a_named_host_is_the_name_checked() {
        let mut a = args("127.0.0.1:5800");
        a.ca = Some("ca.pem".into());
        assert!(a.link().unwrap_err().to_string().contains("tls://"));
        assert!(matches!(
            args("127.0.0.1:5800").link().unwrap().security,
            AcquirerSecurity::PlainTcp
        ));
        let name = |a: AcquirerArgs| match a.link().unwrap().security {
            AcquirerSecurity::Tls(tls) => tls.server_name,
            AcquirerSecurity::PlainTcp => panic!("expected TLS"),
        };
        assert_eq!(name(args("tls://127.0.0.1:5801")), None);
        assert_eq!(
            name(args("tls://localhost:5801")),
            Some("localhost".to_owned())
        );
        let mut a = args("tls://127.0.0.1:5801");
        a.tls_name = Some("acquirer.example".into());
        assert_eq!(name(a), Some("acquirer.example".to_owned()));
        let mut a = args("tls://127.0.0.1:5801");
        a.ca = Some("/nonexistent/ca.pem".into());
        assert!(a.link().unwrap_err().to_string().contains("ca.pem"));
    }
}
