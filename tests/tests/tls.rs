//! TLS to the acquirer end to end: a terminal paying over TLS against the simulator, and every
//! certificate the terminal must refuse (another CA, expired, another name) or that the host
//! must demand (mutual TLS) ending as NET_TLS with nothing sent: the acquirer receives no frame,
//! its ledger does not move, and no reversal is owed.

use smartpos_core::diag::{CheckKind, CheckStatus, Termination};
use smartpos_core::host::AcquirerTls;
use smartpos_core::store::TxnState;
use smartpos_core::txn::{AcquirerSecurity, OpenError, Outcome, RiskConfig};
use smartpos_e2e::{Harness, demo_acquirer, open_terminal_secured, tls_sim, tls_trusting};
use smartpos_tools::sim::pki::{IssuedCert, LOOPBACK_NAMES, TestCa};

const PIN: Option<&str> = Some("123456");

fn terminated(outcome: Outcome) -> Termination {
    match outcome {
        Outcome::Terminated(t) => t,
        Outcome::Approved(a) => panic!("expected a termination, got an approval {a:?}"),
    }
}

fn link_check(h: &Harness) -> (CheckStatus, String) {
    let report = h.terminal.health();
    let check = report.check(CheckKind::LinkSecurity).expect("link check");
    (check.status, check.detail_en.clone())
}

#[test]
fn a_sale_over_tls_is_approved_and_posted_and_health_says_tls() {
    let ca = TestCa::new("acquirer CA").expect("CA");
    let server = ca.server_cert(&LOOPBACK_NAMES).expect("server certificate");
    let h = Harness::secured(
        tls_sim(demo_acquirer(), &server, None),
        tls_trusting(&ca, None),
    );
    h.terminal.sign_on().expect("sign-on over TLS");
    let outcome = h.sale("tls-sale-1", "normal", PIN, 12_345);
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    assert_eq!(h.net_fen(), 12_345);
    let (status, detail) = link_check(&h);
    assert_eq!(status, CheckStatus::Ok);
    assert!(detail.starts_with("TLS, host certificate checked against the configured CA"));
}

#[test]
fn plain_tcp_to_the_loopback_simulator_is_named_in_health() {
    let h = Harness::new();
    let (status, detail) = link_check(&h);
    assert_eq!(status, CheckStatus::Ok, "loopback crosses no network");
    assert!(detail.contains("plain TCP"), "{detail}");
}

/// Signs on and pays once over TLS, then reopens the terminal against a second face of the same
/// acquirer presenting `presented`: the sale must end NET_TLS with `detail` in its text, and
/// nothing may reach the acquirer.
fn refused_certificate(presented: impl FnOnce(&TestCa) -> IssuedCert, detail: &str) {
    let ca = TestCa::new("acquirer CA").expect("CA");
    let good = ca.server_cert(&LOOPBACK_NAMES).expect("server certificate");
    let mut h = Harness::secured(
        tls_sim(demo_acquirer(), &good, None),
        tls_trusting(&ca, None),
    );
    h.terminal.sign_on().expect("sign-on over TLS");
    assert!(matches!(
        h.sale("tls-ok", "normal", PIN, 1_000),
        Outcome::Approved(_)
    ));
    let impostor = tls_sim(h.sim.acquirer().clone(), &presented(&ca), None);
    h.reopen_on(vec![impostor.addr()], tls_trusting(&ca, None));
    let (frames, net) = (h.acquirer().frames_received(), h.net_fen());

    let t = terminated(h.sale("tls-refused", "normal", PIN, 2_000));
    assert_eq!(t.code.to_string(), "NET_TLS", "{t:?}");
    assert!(t.merchant_en.contains(detail), "{}", t.merchant_en);
    assert!(!t.retry_can_help, "a certificate is fixed by configuration");
    assert_eq!(
        h.acquirer().frames_received(),
        frames,
        "no frame reached the host"
    );
    assert_eq!(h.net_fen(), net);
    assert!(
        h.terminal
            .pending_reversals()
            .expect("reversals")
            .is_empty()
    );
    let refused = h
        .terminal
        .transactions()
        .expect("journal")
        .into_iter()
        .find(|t| t.attempt_id == "tls-refused")
        .expect("journaled");
    assert_eq!(refused.state, TxnState::NotSent);
    assert_eq!(refused.termination_code.as_deref(), Some("NET_TLS"));
}

#[test]
fn a_host_certified_by_another_ca_is_net_tls_and_nothing_is_sent() {
    refused_certificate(
        |_| {
            TestCa::new("impostor CA")
                .and_then(|other| other.server_cert(&LOOPBACK_NAMES))
                .expect("impostor certificate")
        },
        "not issued by a trusted CA",
    );
}

#[test]
fn an_expired_host_certificate_is_net_tls_and_nothing_is_sent() {
    refused_certificate(
        |ca| {
            ca.expired_server_cert(&LOOPBACK_NAMES)
                .expect("expired certificate")
        },
        "expired",
    );
}

#[test]
fn a_host_certificate_for_another_name_is_net_tls_and_nothing_is_sent() {
    refused_certificate(
        |ca| {
            ca.server_cert(&["acquirer.example"])
                .expect("certificate for another name")
        },
        "another name",
    );
}

#[test]
fn mutual_tls_refuses_a_terminal_without_a_client_certificate() {
    let ca = TestCa::new("acquirer CA").expect("CA");
    let fleet = TestCa::new("terminal fleet CA").expect("fleet CA");
    let server = ca.server_cert(&LOOPBACK_NAMES).expect("server certificate");
    let mut h = Harness::secured(
        tls_sim(demo_acquirer(), &server, Some(&fleet)),
        tls_trusting(&ca, None),
    );
    let refused = h.terminal.sign_on().expect_err("no client certificate");
    assert_eq!(refused.code.to_string(), "NET_TLS", "{refused:?}");
    assert!(
        refused.merchant_en.contains("refused"),
        "{}",
        refused.merchant_en
    );
    let t = terminated(h.sale("mtls-without", "normal", PIN, 1_500));
    assert_eq!(t.code.to_string(), "NET_TLS", "{t:?}");
    assert_eq!(
        h.acquirer().frames_received(),
        0,
        "nothing reached the host"
    );
    assert_eq!(h.net_fen(), 0);
    assert!(
        h.terminal
            .pending_reversals()
            .expect("reversals")
            .is_empty()
    );

    // The same terminal with the fleet's certificate is served.
    let endpoints = vec![h.sim.addr()];
    let certificate = fleet.client_cert("10000001").expect("client certificate");
    h.reopen_on(endpoints, tls_trusting(&ca, Some(&certificate)));
    h.terminal
        .sign_on()
        .expect("sign-on with a client certificate");
    let outcome = h.sale("mtls-with", "normal", PIN, 1_500);
    assert!(matches!(outcome, Outcome::Approved(_)), "{outcome:?}");
    assert_eq!(h.net_fen(), 1_500);
    let (status, detail) = link_check(&h);
    assert_eq!(status, CheckStatus::Ok);
    assert!(detail.contains("mutual TLS"), "{detail}");
}

#[test]
fn unusable_tls_settings_refuse_the_open_before_anything_is_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let security = AcquirerSecurity::Tls(AcquirerTls {
        ca_pem: Some(b"not a certificate".to_vec()),
        ..AcquirerTls::default()
    });
    let endpoint = "127.0.0.1:9".parse().expect("address");
    let opened = open_terminal_secured(
        &dir,
        &[endpoint],
        &[7; 32],
        None,
        None,
        (
            RiskConfig::default(),
            smartpos_core::host::AcquirerDialect::default(),
        ),
        security,
    );
    match opened {
        Err(OpenError::Config(detail)) => {
            assert!(
                detail.starts_with("acquirer TLS: CA certificates"),
                "{detail}"
            );
        }
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(_) => panic!("a CA that does not parse must refuse the open"),
    }
}

/// A raw TCP relay that keeps every byte the terminal sends: what a wiretap on the 4G link sees.
fn wiretap(
    upstream: std::net::SocketAddr,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let tap = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let (mut c_read, mut s_write) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let (mut s_read, mut c_write) = (server, client);
            let tap = tap.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = c_read.read(&mut buf) {
                    if n == 0 || s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    tap.lock().expect("tap").extend_from_slice(&buf[..n]);
                }
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
            });
        }
    });
    (addr, seen)
}

/// The secrets scan of captured traffic: over TLS, the bytes a wiretap captures hold no card
/// number (as text or packed BCD) and no track 2, although the sale carried track 2.
#[test]
fn a_wiretap_on_a_tls_link_captures_no_card_number_or_track() {
    let ca = TestCa::new("acquirer CA").expect("CA");
    let server = ca.server_cert(&LOOPBACK_NAMES).expect("server certificate");
    let mut h = Harness::secured(
        tls_sim(demo_acquirer(), &server, None),
        tls_trusting(&ca, None),
    );
    let (tap_addr, captured) = wiretap(h.sim.addr());
    h.reopen_on(vec![tap_addr], tls_trusting(&ca, None));
    h.terminal.sign_on().expect("sign-on through the tap");
    assert!(matches!(
        h.sale("tapped", "normal", PIN, 3_456),
        Outcome::Approved(_)
    ));
    let bytes = captured.lock().expect("tap").clone();
    assert!(
        bytes.len() > 500,
        "the tap saw the traffic: {} bytes",
        bytes.len()
    );
    let track2 = smartpos_tools::demo_setup::demo_track2("normal").expect("card");
    let pan = track2.split('=').next().expect("PAN").to_owned();
    let needles = [
        pan.as_bytes().to_vec(),
        hex::decode(&pan).expect("even-length PAN"),
        track2.as_bytes().to_vec(),
        hex::decode(&pan[..12]).expect("PAN prefix"),
    ];
    for needle in needles {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
            "card data in captured traffic"
        );
    }
}
