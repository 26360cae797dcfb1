use super::*;

#[test]
fn counts_items_by_their_array_keys() {
    let body = br#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
        "scopeMetrics":[{"metrics":[{"name":"up","gauge":{"dataPoints":[{"asDouble":1},{"asInt":"2"}]}},
        {"name":"h","histogram":{"dataPoints":[{"bucketCounts":["1","2"],"explicitBounds":[1.5]}]}}]}]}]}"#;
    let tally = scan(body).expect("scans");
    assert_eq!(tally.count(Item::Resources), 1);
    assert_eq!(tally.count(Item::Points), 3);
    assert!(tally.estimate > 3 * 2 * 100, "{tally:?}");
}

#[test]
fn strings_hide_structure() {
    // brackets, quotes and keys inside strings are not structure
    let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"[{\"logRecords\":[{}]}] \\"}}]}]}]}"#;
    let tally = scan(body).expect("scans");
    assert_eq!(tally.count(Item::Resources), 1);
    assert_eq!(tally.count(Item::LogRecords), 1);
}

#[test]
fn empty_element_bombs_are_counted() {
    let mut body = b"{\"resourceSpans\":[".to_vec();
    body.extend(b"{},".repeat(999));
    body.extend(b"{}]}");
    let tally = scan(&body).expect("scans");
    assert_eq!(tally.count(Item::Resources), 1000);
}

#[test]
fn refuses_what_serde_would_refuse_only_where_it_must() {
    let deep = "[".repeat(MAX_DEPTH + 1);
    assert_eq!(
        scan(deep.as_bytes()),
        Err(JsonError::TooDeep { at: MAX_DEPTH })
    );
    assert_eq!(
        scan(br#"{"a":"no end"#),
        Err(JsonError::Unterminated { at: 5 })
    );
    // garbage is serde's to refuse; the scan only must not panic
    for junk in [&b"}}]]"[..], b"\"\\", b",,::", b"{\"k\"", b"[1e999,tru"] {
        let _ = scan(junk);
    }
}
