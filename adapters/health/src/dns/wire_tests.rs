use super::*;
use proptest::prelude::*;

#[test]
fn queries_encode_as_rfc1035_says() {
    let q = encode_query(0xbeef, "example.com.", RecordType::Aaaa).expect("encode");
    assert_eq!(
        q,
        [
            0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l',
            b'e', 3, b'c', b'o', b'm', 0, 0, 28, 0, 1
        ]
    );
    let long = "a".repeat(64);
    assert!(encode_query(1, &long, RecordType::A).is_err());
    assert!(encode_query(1, "a..b", RecordType::A).is_err());
    let huge = vec!["abcdefghij"; 30].join(".");
    assert_eq!(
        encode_query(1, &huge, RecordType::A),
        Err(WireError::BadName("name over 255 bytes"))
    );
}

#[test]
fn responses_round_trip_with_compression() {
    let soa = RData::Soa(
        "ns1.example.".into(),
        "admin.example.".into(),
        [2024010101, 3600, 600, 86400, 60],
    );
    let cases: Vec<(u16, RData, &str)> = vec![
        (
            1,
            RData::A(Ipv4Addr::new(192, 0, 2, 1)),
            "example.\t60\tIN\tA\t192.0.2.1",
        ),
        (
            28,
            RData::Aaaa(Ipv6Addr::LOCALHOST),
            "example.\t60\tIN\tAAAA\t::1",
        ),
        (
            5,
            RData::Name("target.example.".into()),
            "example.\t60\tIN\tCNAME\ttarget.example.",
        ),
        (
            2,
            RData::Name("ns1.example.".into()),
            "example.\t60\tIN\tNS\tns1.example.",
        ),
        (
            15,
            RData::Mx(10, "mx.example.".into()),
            "example.\t60\tIN\tMX\t10 mx.example.",
        ),
        (
            16,
            RData::Txt(vec!["v=spf1 -all".into(), "x".into()]),
            "example.\t60\tIN\tTXT\t\"v=spf1 -all\" \"x\"",
        ),
        (
            6,
            soa,
            "example.\t60\tIN\tSOA\tns1.example. admin.example. 2024010101 3600 600 86400 60",
        ),
        (
            99,
            RData::Other(vec![1, 2]),
            "example.\t60\tIN\tTYPE99\t\\# 2 0102",
        ),
    ];
    for (rtype, data, text) in cases {
        let msg = encode_response(7, "example.", rtype, 0, false, &[(rtype, 60, data.clone())])
            .expect("encode");
        let m = decode(&msg).expect("decode");
        assert_eq!((m.id, m.rcode, m.truncated), (7, 0, false));
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].data, data);
        assert_eq!(m.answers[0].presentation(), text);
    }
    let nx =
        decode(&encode_response(9, "nope.", 1, 3, true, &[]).expect("encode")).expect("decode");
    assert_eq!((nx.rcode, nx.truncated, nx.answers.len()), (3, true, 0));
    assert_eq!(rcode_name(nx.rcode), "NXDOMAIN");
}

#[test]
fn hostile_names_are_errors() {
    // Header with one answer whose name points at itself.
    let mut msg = vec![0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0];
    msg.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
    assert_eq!(
        decode(&msg),
        Err(WireError::BadName("compression pointer loop"))
    );
    // A pointer past the end.
    let mut msg = vec![0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0];
    msg.extend([0xc0, 200]);
    assert!(matches!(decode(&msg), Err(WireError::Truncated(_))));
    // Reserved label type 0x40.
    let mut msg = vec![0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
    msg.extend([0x40, 0, 0, 1, 0, 1]);
    assert_eq!(decode(&msg), Err(WireError::BadName("reserved label type")));
    assert_eq!(decode(&[0, 1, 2]), Err(WireError::Truncated(2)));
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decoding_mutated_responses_never_panics(at in 0usize..200, byte in any::<u8>(), cut in 0usize..200) {
        let mut msg = encode_response(
            1,
            "a.example.",
            15,
            0,
            false,
            &[(15, 1, RData::Mx(5, "mx.a.example.".into())), (1, 2, RData::A(Ipv4Addr::LOCALHOST))],
        )
        .expect("encode");
        let i = at % msg.len();
        msg[i] = byte;
        let _ = decode(&msg);
        msg.truncate(cut % msg.len());
        let _ = decode(&msg);
    }
}
