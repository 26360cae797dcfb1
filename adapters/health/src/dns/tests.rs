//! The DNS check against a tiny DNS server on 127.0.0.1 (UDP and TCP on one
//! port) answering canned replies built with our encoder, and against a
//! UDP socket that never answers.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

use super::wire::{RData, encode_response};
use super::{DnsCheck, DnsConfig, RecordType};
use crate::report::Report;

/// (id, name, qtype) of a query.
fn question(q: &[u8]) -> Option<(u16, String, u16)> {
    let id = u16::from_be_bytes([*q.first()?, *q.get(1)?]);
    let mut pos = 12;
    let mut name = String::new();
    loop {
        let len = usize::from(*q.get(pos)?);
        if len == 0 {
            break;
        }
        name.push_str(std::str::from_utf8(q.get(pos + 1..pos + 1 + len)?).ok()?);
        name.push('.');
        pos += 1 + len;
    }
    let qtype = u16::from_be_bytes([*q.get(pos + 1)?, *q.get(pos + 2)?]);
    Some((id, name, qtype))
}

/// The canned answer; `big.test.` is truncated over UDP.
fn answer(q: &[u8], over_tcp: bool) -> Option<Vec<u8>> {
    let (id, name, qtype) = question(q)?;
    let a = |n: u8| (1, 60, RData::A(Ipv4Addr::new(10, 0, 0, n)));
    let reply = match name.as_str() {
        "ok.test." => encode_response(id, &name, qtype, 0, false, &[a(1), a(2)]),
        "nx.test." => encode_response(id, &name, qtype, 3, false, &[]),
        "big.test." if !over_tcp => encode_response(id, &name, qtype, 0, true, &[]),
        "big.test." => {
            let txt: Vec<_> = (0..40)
                .map(|i| {
                    (
                        16,
                        60,
                        RData::Txt(vec![format!("record {i} {}", "x".repeat(40))]),
                    )
                })
                .collect();
            encode_response(id, &name, qtype, 0, false, &txt)
        }
        "soa.test." => encode_response(
            id,
            &name,
            qtype,
            0,
            false,
            &[(
                6,
                60,
                RData::Soa("ns.test.".into(), "admin.test.".into(), [7, 1, 1, 1, 1]),
            )],
        ),
        _ => encode_response(id, &name, qtype, 5, false, &[]),
    };
    reply.ok()
}

async fn dns_server() -> SocketAddr {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = udp.local_addr().expect("addr");
        let Ok(tcp) = TcpListener::bind(addr).await else {
            continue;
        };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 512];
            while let Ok((n, from)) = udp.recv_from(&mut buf).await {
                if let Some(reply) = answer(&buf[..n], false) {
                    let _ = udp.send_to(&reply, from).await;
                }
            }
        });
        tokio::spawn(async move {
            while let Ok((mut s, _)) = tcp.accept().await {
                tokio::spawn(async move {
                    let Ok(len) = s.read_u16().await else { return };
                    let mut q = vec![0u8; usize::from(len)];
                    if s.read_exact(&mut q).await.is_err() {
                        return;
                    }
                    if let Some(reply) = answer(&q, true) {
                        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                        framed.extend(reply);
                        let _ = s.write_all(&framed).await;
                    }
                });
            }
        });
        return addr;
    }
    panic!("no free port for both UDP and TCP");
}

fn show(label: &str, r: &Report) {
    println!(
        "{label}: {} in {:.1} ms: {}",
        r.target,
        r.duration.as_secs_f64() * 1000.0,
        r.verdict
    );
}

#[tokio::test]
async fn dns_verdicts_against_a_local_server() {
    let server = dns_server().await;
    let cfg = |name: &str, edit: fn(&mut DnsConfig)| {
        let mut c = DnsConfig {
            server: server.to_string(),
            name: name.to_string(),
            timeout: Duration::from_millis(500),
            ..DnsConfig::default()
        };
        edit(&mut c);
        c
    };
    // (config, ready, ready text, transport, operations)
    let cases = [
        (cfg("ok.test", |_| {}), true, "NOERROR, 2 answers", "udp", 1),
        (
            cfg("ok.test", |c| {
                c.expect_answer = Some("\tA\t10\\.0\\.0\\.2$".into())
            }),
            true,
            "NOERROR, 2 answers; \"ok.test.\\t60\\tIN\\tA\\t10.0.0.2\" matches /\tA\t10\\.0\\.0\\.2$/",
            "udp",
            1,
        ),
        (
            cfg("ok.test", |c| {
                c.expect_answer = Some("10\\.0\\.0\\.3".into())
            }),
            false,
            "no answer matches /10\\.0\\.0\\.3/",
            "udp",
            1,
        ),
        (
            cfg("ok.test", |c| c.min_answers = 3),
            false,
            "2 answers, fewer than 3",
            "udp",
            1,
        ),
        (
            cfg("nx.test", |_| {}),
            false,
            "rcode NXDOMAIN not in NOERROR; 0 answers, fewer than 1",
            "udp",
            1,
        ),
        (
            cfg("nx.test", |c| {
                c.valid_rcodes = vec!["NXDOMAIN".into()];
                c.min_answers = 0;
            }),
            true,
            "NXDOMAIN, 0 answers",
            "udp",
            1,
        ),
        (
            cfg("big.test", |c| c.record_type = RecordType::Txt),
            true,
            "NOERROR, 40 answers",
            "tcp",
            2,
        ),
        (
            cfg("soa.test", |c| c.record_type = RecordType::Soa),
            true,
            "NOERROR, 1 answers",
            "udp",
            1,
        ),
    ];
    for (c, ready, text, transport, ops) in cases {
        let r = DnsCheck::new(c).expect("valid config").check().await;
        show("dns", &r);
        assert!(r.verdict.live.ok, "{}", r.verdict);
        assert!(
            r.verdict
                .live
                .summary()
                .ends_with(&format!("over {transport}")),
            "{}",
            r.verdict
        );
        assert_eq!(r.verdict.ready.ok, ready, "{}", r.verdict);
        assert_eq!(r.verdict.ready.summary(), text);
        assert_eq!(r.operations, ops);
    }
}

#[tokio::test]
async fn a_silent_server_is_not_live_within_the_timeout() {
    let silent = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = silent.local_addr().expect("addr");
    let timeout = Duration::from_millis(300);
    let r = DnsCheck::new(DnsConfig {
        server: addr.to_string(),
        name: "ok.test".into(),
        timeout,
        ..DnsConfig::default()
    })
    .expect("valid config")
    .check()
    .await;
    show("dns, silent", &r);
    assert!(!r.verdict.live.ok && !r.verdict.ready.ok, "{}", r.verdict);
    assert_eq!(
        r.verdict.live.summary(),
        format!("no answer from {addr} over udp within the check timeout of 300ms")
    );
    assert!(
        r.duration < timeout + Duration::from_millis(200),
        "{:?}",
        r.duration
    );
    drop(silent);
}
