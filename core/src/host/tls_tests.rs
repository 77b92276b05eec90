//! The TLS transport against a rustls server on loopback, with certificates from test CAs made
//! at run time (rcgen): what is refused is refused before the request leaves, and says why.

#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, date_time_ymd,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, ServerConnection, SupportedProtocolVersion};

use super::*;

/// A test CA; its certificates are valid from 2024 to 2099 unless a test says otherwise.
struct Ca(CertifiedIssuer<'static, KeyPair>);

/// A certificate and key issued by a [`Ca`], as PEM.
struct Leaf {
    cert_pem: String,
    key_pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ca(CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap())
    }

    fn pem(&self) -> Vec<u8> {
        self.0.pem().into_bytes()
    }

    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose, expired: bool) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "leaf");
        params.extended_key_usages = vec![usage];
        (params.not_before, params.not_after) = if expired {
            (date_time_ymd(2000, 1, 1), date_time_ymd(2001, 1, 1))
        } else {
            (date_time_ymd(2024, 1, 1), date_time_ymd(2099, 12, 31))
        };
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.0).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn server(&self) -> Leaf {
        self.issue(
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
            false,
        )
    }

    fn client(&self) -> Leaf {
        self.issue(&[], ExtendedKeyUsagePurpose::ClientAuth, false)
    }
}

impl Leaf {
    fn identity(&self) -> ClientIdentity {
        ClientIdentity {
            cert_chain_pem: self.cert_pem.clone().into_bytes(),
            key_pem: Zeroizing::new(self.key_pem.clone().into_bytes()),
        }
    }
}

const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

fn server_config(
    leaf: &Leaf,
    client_ca: Option<&Ca>,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.0.der().clone()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let chain = certificates(leaf.cert_pem.as_bytes()).unwrap();
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap();
    Arc::new(builder.with_single_cert(chain, key).unwrap())
}

/// Serves one TLS connection: reads one frame and echoes it. Reports the request it read, or
/// `None` when the session failed before a request arrived.
fn serve(config: Arc<ServerConfig>) -> (SocketAddr, mpsc::Receiver<Option<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen_tx, seen_rx) = mpsc::channel();
    thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut tls = StreamOwned::new(ServerConnection::new(config).unwrap(), socket);
        let mut prefix = [0u8; 2];
        let request = tls.read_exact(&mut prefix).and_then(|()| {
            let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
            tls.read_exact(&mut body).map(|()| body)
        });
        match request {
            Ok(body) => {
                let _ = seen_tx.send(Some(body.clone()));
                let mut frame = prefix.to_vec();
                frame.extend_from_slice(&body);
                tls.write_all(&frame).unwrap();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
            Err(_) => {
                let _ = seen_tx.send(None);
                // A polite refusal: the alert is out; read what the client still sends rather
                // than reset the connection under it.
                let _ = tls.sock.shutdown(std::net::Shutdown::Write);
                let _ = tls.sock.read_to_end(&mut Vec::new());
            }
        }
    });
    (addr, seen_rx)
}

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        read: Duration::from_secs(5),
        poll: Duration::from_millis(10),
    }
}

fn trusting(ca: &Ca) -> AcquirerTls {
    AcquirerTls {
        ca_pem: Some(ca.pem()),
        ..AcquirerTls::default()
    }
}

fn exchange(addr: SocketAddr, settings: &AcquirerTls) -> Result<Vec<u8>, TransportError> {
    TlsTransport::new(vec![addr], settings).unwrap().exchange(
        b"0800-request",
        &timeouts(),
        &CancelToken::new(),
    )
}

/// The error is a TLS failure of `kind` that never reached the host, and the server never read
/// a request.
fn assert_refused_unsent(
    err: &TransportError,
    kind: ConnectFailureKind,
    seen: &mpsc::Receiver<Option<Vec<u8>>>,
) -> String {
    let TransportError::Tls { attempts } = err else {
        panic!("expected a TLS failure, got {err:?}");
    };
    assert_eq!(attempts[0].kind, kind, "{err}");
    assert!(!err.may_have_reached_host(), "{err}");
    assert_eq!(seen.recv().unwrap(), None, "the host read no request");
    attempts[0].detail.clone()
}

#[test]
fn a_round_trip_inside_tls_keeps_the_length_framing() {
    let ca = Ca::new("acquirer CA");
    let (addr, seen) = serve(server_config(&ca.server(), None, BOTH));
    let transport = TlsTransport::new(vec![addr], &trusting(&ca)).unwrap();
    let reply = transport
        .exchange(b"0800-request", &timeouts(), &CancelToken::new())
        .unwrap();
    assert_eq!(reply, b"0800-request");
    assert_eq!(seen.recv().unwrap().unwrap(), b"0800-request");
    assert_eq!(
        transport.security(),
        LinkSecurity::Tls {
            configured_ca: true,
            mutual: false
        }
    );
}

#[test]
fn a_host_certified_by_another_ca_is_refused_before_the_request_leaves() {
    let (ours, theirs) = (Ca::new("acquirer CA"), Ca::new("impostor CA"));
    let (addr, seen) = serve(server_config(&theirs.server(), None, BOTH));
    let err = exchange(addr, &trusting(&ours)).unwrap_err();
    let detail = assert_refused_unsent(&err, ConnectFailureKind::TlsCertificate, &seen);
    assert!(detail.contains("not issued by a trusted CA"), "{detail}");
}

#[test]
fn the_bundled_roots_do_not_vouch_for_a_private_ca() {
    let ca = Ca::new("private acquirer CA");
    let (addr, seen) = serve(server_config(&ca.server(), None, BOTH));
    let err = exchange(addr, &AcquirerTls::default()).unwrap_err();
    assert_refused_unsent(&err, ConnectFailureKind::TlsCertificate, &seen);
}

#[test]
fn an_expired_host_certificate_is_refused() {
    let ca = Ca::new("acquirer CA");
    let expired = ca.issue(&["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth, true);
    let (addr, seen) = serve(server_config(&expired, None, BOTH));
    let err = exchange(addr, &trusting(&ca)).unwrap_err();
    let detail = assert_refused_unsent(&err, ConnectFailureKind::TlsCertificate, &seen);
    assert!(detail.contains("expired"), "{detail}");
}

#[test]
fn a_certificate_for_another_name_is_refused_and_the_configured_name_is_checked() {
    let ca = Ca::new("acquirer CA");
    let named = ca.issue(
        &["acquirer.example"],
        ExtendedKeyUsagePurpose::ServerAuth,
        false,
    );
    // Reached by address, the certificate must name the address: it names something else.
    let (addr, seen) = serve(server_config(&named, None, BOTH));
    let err = exchange(addr, &trusting(&ca)).unwrap_err();
    let detail = assert_refused_unsent(&err, ConnectFailureKind::TlsCertificate, &seen);
    assert!(detail.contains("another name"), "{detail}");
    // Told the name the acquirer's certificate carries, the same certificate is accepted.
    let (addr, seen) = serve(server_config(&named, None, BOTH));
    let settings = AcquirerTls {
        server_name: Some("acquirer.example".into()),
        ..trusting(&ca)
    };
    assert_eq!(exchange(addr, &settings).unwrap(), b"0800-request");
    assert!(seen.recv().unwrap().is_some());
}

#[test]
fn mutual_tls_refuses_a_terminal_without_a_client_certificate_as_unsent() {
    let (ca, terminals) = (Ca::new("acquirer CA"), Ca::new("terminal CA"));
    // TLS 1.3 refuses after the client finished (the request may already be written); TLS 1.2
    // refuses inside the handshake. Both must read as "not sent".
    for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12]] {
        let config = server_config(&ca.server(), Some(&terminals), versions);
        let (addr, seen) = serve(config.clone());
        let err = exchange(addr, &trusting(&ca)).unwrap_err();
        assert_refused_unsent(&err, ConnectFailureKind::TlsRefusedByHost, &seen);
        // A certificate from a CA the host does not know is refused the same way.
        let stranger = Ca::new("another fleet").client();
        let (addr, seen) = serve(config.clone());
        let settings = AcquirerTls {
            client: Some(stranger.identity()),
            ..trusting(&ca)
        };
        let err = exchange(addr, &settings).unwrap_err();
        assert_refused_unsent(&err, ConnectFailureKind::TlsRefusedByHost, &seen);
        // With the fleet's certificate the session opens.
        let (addr, seen) = serve(config);
        let settings = AcquirerTls {
            client: Some(terminals.client().identity()),
            ..trusting(&ca)
        };
        let transport = TlsTransport::new(vec![addr], &settings).unwrap();
        let reply = transport
            .exchange(b"0800-request", &timeouts(), &CancelToken::new())
            .unwrap();
        assert_eq!(reply, b"0800-request");
        assert!(seen.recv().unwrap().is_some());
        assert_eq!(
            transport.security(),
            LinkSecurity::Tls {
                configured_ca: true,
                mutual: true
            }
        );
    }
}

#[test]
fn a_refused_primary_certificate_fails_over_to_the_backup() {
    let (ca, impostor) = (Ca::new("acquirer CA"), Ca::new("impostor CA"));
    let (primary, primary_seen) = serve(server_config(&impostor.server(), None, BOTH));
    let (backup, backup_seen) = serve(server_config(&ca.server(), None, BOTH));
    let reply = TlsTransport::new(vec![primary, backup], &trusting(&ca))
        .unwrap()
        .exchange(b"0800-request", &timeouts(), &CancelToken::new())
        .unwrap();
    assert_eq!(reply, b"0800-request");
    assert_eq!(primary_seen.recv().unwrap(), None);
    assert!(backup_seen.recv().unwrap().is_some());
}

#[test]
fn a_host_that_does_not_speak_tls_is_not_a_send() {
    let ca = Ca::new("acquirer CA");
    // Closes at once: a handshake failure.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let closing = listener.local_addr().unwrap();
    let closer = thread::spawn(move || drop(listener.accept().unwrap()));
    let err = exchange(closing, &trusting(&ca)).unwrap_err();
    assert!(
        matches!(&err, TransportError::Tls { attempts } if attempts[0].kind == ConnectFailureKind::TlsHandshake),
        "{err:?}"
    );
    assert!(!err.may_have_reached_host());
    closer.join().unwrap();
    // Accepts and says nothing: the handshake runs out of time, which is not a send either.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = listener.local_addr().unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        let _held = listener.accept().unwrap();
        let _ = release_rx.recv();
    });
    let short = Timeouts {
        connect: Duration::from_millis(150),
        ..timeouts()
    };
    let err = TlsTransport::new(vec![silent], &trusting(&ca))
        .unwrap()
        .exchange(b"0800", &short, &CancelToken::new())
        .unwrap_err();
    match &err {
        TransportError::Unreachable { attempts } => {
            assert_eq!(attempts[0].kind, ConnectFailureKind::TimedOut);
            assert!(attempts[0].detail.contains("TLS handshake"), "{err}");
        }
        other => panic!("expected a timed-out handshake, got {other:?}"),
    }
    assert!(!err.may_have_reached_host());
    release_tx.send(()).unwrap();
    holder.join().unwrap();
}

#[test]
fn cancelled_before_sending_never_connects() {
    let ca = Ca::new("acquirer CA");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = TlsTransport::new(vec![listener.local_addr().unwrap()], &trusting(&ca))
        .unwrap()
        .exchange(b"0200", &timeouts(), &cancel)
        .unwrap_err();
    assert!(matches!(
        err,
        TransportError::Cancelled { after_send: false }
    ));
    assert!(listener.accept().is_err(), "no connection was attempted");
}

#[test]
fn unusable_settings_are_refused_when_the_transport_is_built() {
    let ca = Ca::new("acquirer CA");
    let build = |settings: AcquirerTls| TlsTransport::new(Vec::new(), &settings).unwrap_err();
    let err = build(AcquirerTls {
        ca_pem: Some(b"not a certificate".to_vec()),
        ..AcquirerTls::default()
    });
    assert!(matches!(err, TlsSetupError::Ca { .. }), "{err}");
    // A key that is not the certificate's: refused, and the message never quotes the key.
    let (one, other) = (ca.client(), ca.client());
    let mismatched = ClientIdentity {
        cert_chain_pem: one.cert_pem.into_bytes(),
        key_pem: Zeroizing::new(other.key_pem.clone().into_bytes()),
    };
    let err = build(AcquirerTls {
        client: Some(mismatched.clone()),
        ..trusting(&ca)
    });
    assert!(matches!(err, TlsSetupError::ClientKey { .. }), "{err}");
    let body: String = other.key_pem.lines().nth(1).unwrap().to_owned();
    assert!(!err.to_string().contains(&body));
    assert!(
        !format!("{mismatched:?}").contains(&body),
        "Debug hides the key"
    );
    let err = build(AcquirerTls {
        client: Some(ClientIdentity {
            key_pem: Zeroizing::new(b"garbage".to_vec()),
            ..mismatched
        }),
        ..trusting(&ca)
    });
    assert!(matches!(err, TlsSetupError::ClientKey { .. }), "{err}");
    let err = build(AcquirerTls {
        server_name: Some("bad name!".into()),
        ..trusting(&ca)
    });
    assert!(matches!(err, TlsSetupError::ServerName { .. }), "{err}");
    let err = TlsTransport::new(Vec::new(), &trusting(&ca))
        .unwrap()
        .exchange(b"x", &timeouts(), &CancelToken::new())
        .unwrap_err();
    assert!(matches!(err, TransportError::NoEndpoints));
}
