//! The client over https: a rustls (ring) server on loopback with a certificate from a test CA
//! (testdata/, made with OpenSSL 3.0: P-256 CA and a server certificate for 127.0.0.1 and
//! localhost, valid 100 years). Trusting that CA through `ca_pem` works; the bundled web PKI
//! roots refuse it before anything is sent.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::protocol::{params_to_json, sign_params};
use super::*;
use crate::host::CancelToken;
use crate::ports::SystemClock;

const CA: &[u8] = include_bytes!("testdata/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("testdata/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("testdata/server.key");
const KEY: &[u8] = b"tls-test-key";

/// Serves `connections` TLS connections, each answering one signed query reply.
fn tls_gateway(connections: usize) -> SocketAddr {
    let certs = CertificateDer::pem_slice_iter(SERVER_CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for _ in 0..connections {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            // Read the head and body; the reply does not depend on them.
            let mut request = Vec::new();
            let mut buf = [0u8; 512];
            let complete = loop {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break false,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break true;
                    }
                }
            };
            if !complete {
                continue;
            }
            let mut reply = BTreeMap::from([
                ("result_code".to_owned(), "SUCCESS".to_owned()),
                ("out_trade_no".to_owned(), "T1".to_owned()),
                ("trade_state".to_owned(), "NOTPAY".to_owned()),
            ]);
            sign_params(&SigningKey::new(KEY), &mut reply);
            let body = params_to_json(&reply);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = tls.write_all(head.as_bytes());
            let _ = tls.write_all(&body);
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    addr
}

fn client(url: &str, ca: Option<&[u8]>) -> GatewayClient {
    pinned(url, ca, &[])
}

fn pinned(url: &str, ca: Option<&[u8]>, pins: &[String]) -> GatewayClient {
    let mut config = GatewayConfig::new(url, "M1", "T1", SigningKey::new(KEY));
    config.ca_pem = ca.map(<[u8]>::to_vec);
    config.spki_pins = pins.to_vec();
    GatewayClient::new(config, Arc::new(SystemClock)).unwrap()
}

fn pin_of(pem: &[u8]) -> String {
    let cert = CertificateDer::pem_slice_iter(pem).next().unwrap().unwrap();
    spki_pin(&cert).unwrap()
}

#[test]
fn https_with_a_configured_ca_verifies_and_reads_the_reply() {
    let addr = tls_gateway(1);
    let reply = client(&format!("https://{addr}"), Some(CA))
        .query("T1", &CancelToken::new())
        .unwrap();
    assert_eq!(reply.trade_state, Some(TradeState::NotPay));
}

#[test]
fn https_refuses_a_certificate_the_roots_do_not_vouch_for() {
    let addr = tls_gateway(1);
    let err = client(&format!("https://{addr}"), None)
        .query("T1", &CancelToken::new())
        .unwrap_err();
    assert_eq!(
        err.termination_code(),
        crate::diag::TerminationCode::NetTls,
        "{err}"
    );
    assert!(!err.may_have_reached_gateway(), "{err}");
}

#[test]
fn a_pinned_key_is_accepted_among_others_for_a_rollover() {
    let addr = tls_gateway(1);
    let pins = [pin_of(CA), pin_of(SERVER_CERT)];
    let reply = pinned(&format!("https://{addr}"), Some(CA), &pins)
        .query("T1", &CancelToken::new())
        .unwrap();
    assert_eq!(reply.trade_state, Some(TradeState::NotPay));
}

#[test]
fn a_key_matching_no_pin_is_a_tls_failure_before_anything_is_sent() {
    let addr = tls_gateway(1);
    // The CA vouches for the server, but its key is not the pinned one (the CA's is).
    let err = pinned(&format!("https://{addr}"), Some(CA), &[pin_of(CA)])
        .query("T1", &CancelToken::new())
        .unwrap_err();
    assert_eq!(
        err.termination_code(),
        crate::diag::TerminationCode::NetTls,
        "{err}"
    );
    assert!(!err.may_have_reached_gateway(), "{err}");
}

#[test]
fn a_pin_does_not_replace_the_ca_check() {
    let addr = tls_gateway(1);
    // The right pin, but the bundled roots do not vouch for the test CA: still refused.
    let err = pinned(&format!("https://{addr}"), None, &[pin_of(SERVER_CERT)])
        .query("T1", &CancelToken::new())
        .unwrap_err();
    assert_eq!(err.termination_code(), crate::diag::TerminationCode::NetTls);
}
