//! A test PKI made at run time (rcgen, ring backend): a CA, server certificates for the loopback
//! names the simulators listen on, client certificates for terminals, and the expired or wrongly
//! named certificates the tests need refused. Test material only: every key is generated per
//! run and exists on disk only where a test or `smartpos demo` writes it.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, date_time_ymd,
};
use smartpos_core::host::ClientIdentity;
use zeroize::Zeroizing;

/// The names a certificate for a loopback simulator carries.
pub const LOOPBACK_NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

#[derive(Debug, thiserror::Error)]
#[error("test certificate: {0}")]
pub struct PkiError(#[from] rcgen::Error);

/// A certificate authority whose key lives only in this process.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A certificate and its private key, PEM. The key is wiped when dropped and never printed.
#[derive(Clone)]
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCert")
            .field("key_pem", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl IssuedCert {
    /// As a terminal's client identity for mutual TLS.
    pub fn identity(&self) -> ClientIdentity {
        ClientIdentity {
            cert_chain_pem: self.cert_pem.clone().into_bytes(),
            key_pem: Zeroizing::new(self.key_pem.as_bytes().to_vec()),
        }
    }
}

/// How long a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    /// 2024 to 2099: valid on any machine this runs on.
    Current,
    /// 2000 to 2001.
    Expired,
}

impl TestCa {
    pub fn new(name: &str) -> Result<TestCa, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        set_validity(&mut params, Validity::Current);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(TestCa { issuer })
    }

    /// The CA certificate a terminal is given to trust.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (IP addresses or DNS names).
    pub fn server_cert(&self, names: &[&str]) -> Result<IssuedCert, PkiError> {
        self.issue(
            SERVER_CN,
            names,
            ExtendedKeyUsagePurpose::ServerAuth,
            Validity::Current,
        )
    }

    /// A server certificate for `names` that expired in 2001.
    pub fn expired_server_cert(&self, names: &[&str]) -> Result<IssuedCert, PkiError> {
        self.issue(
            SERVER_CN,
            names,
            ExtendedKeyUsagePurpose::ServerAuth,
            Validity::Expired,
        )
    }

    /// A terminal's client certificate, its common name `name` (e.g. the terminal id).
    pub fn client_cert(&self, name: &str) -> Result<IssuedCert, PkiError> {
        self.issue(
            name,
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
            Validity::Current,
        )
    }

    fn issue(
        &self,
        common_name: &str,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
        validity: Validity,
    ) -> Result<IssuedCert, PkiError> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        set_validity(&mut params, validity);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: Zeroizing::new(key.serialize_pem()),
        })
    }
}

const SERVER_CN: &str = "smartpos simulator";

fn set_validity(params: &mut CertificateParams, validity: Validity) {
    (params.not_before, params.not_after) = match validity {
        Validity::Current => (date_time_ymd(2024, 1, 1), date_time_ymd(2099, 12, 31)),
        Validity::Expired => (date_time_ymd(2000, 1, 1), date_time_ymd(2001, 1, 1)),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificates_are_pem_and_keys_do_not_print() {
        let ca = TestCa::new("test CA").unwrap();
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let server = ca.server_cert(&LOOPBACK_NAMES).unwrap();
        assert!(server.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let printed = format!("{server:?} {:?}", server.identity());
        assert!(!printed.contains("PRIVATE KEY"), "{printed}");
        let client = ca.client_cert("10000001").unwrap();
        assert_ne!(client.cert_pem, server.cert_pem);
    }
}
