use super::*;

#[test]
fn counts_items_by_their_array_keys() {
    let body = br#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
        "scopeMetrics":[{"metrics":[{"name":"up","gauge":{"dataPoints":[{"asDouble":1},{"asInt":"2"}]}},
        {"name":"h","histogram":{"dataPoints":[{"bucketCounts":["1","2"],"explicitBounds":[1.5]}]}}]}]}]}"#;
    let tally = scan(body).expect("scans").tally;
    assert_eq!(tally.count(Item::Resources), 1);
    assert_eq!(tally.count(Item::Points), 3);
    assert!(tally.estimate > 3 * 2 * 100, "{tally:?}");
}

#[test]
fn strings_hide_structure() {
    // brackets, quotes and keys inside strings are not structure
    let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"[{\"logRecords\":[{}]}] \\"}}]}]}]}"#;
    let tally = scan(body).expect("scans").tally;
    assert_eq!(tally.count(Item::Resources), 1);
    assert_eq!(tally.count(Item::LogRecords), 1);
}

#[test]
fn empty_element_bombs_are_counted() {
    let mut body = b"{\"resourceSpans\":[".to_vec();
    body.extend(b"{},".repeat(999));
    body.extend(b"{}]}");
    let tally = scan(&body).expect("scans").tally;
    assert_eq!(tally.count(Item::Resources), 1000);
}

#[test]
fn refuses_what_serde_would_refuse_only_where_it_must() {
    let deep = "[".repeat(MAX_DEPTH + 1);
    assert_eq!(
        scan(deep.as_bytes()).map(|s| s.tally),
        Err(JsonError::TooDeep { at: MAX_DEPTH })
    );
    assert_eq!(
        scan(br#"{"a":"no end"#).map(|s| s.tally),
        Err(JsonError::Unterminated { at: 5 })
    );
    // garbage is serde's to refuse; the scan only must not panic
    for junk in [&b"}}]]"[..], b"\"\\", b",,::", b"{\"k\"", b"[1e999,tru"] {
        let _ = scan(junk);
    }
}

/// `{"<field>": <value>}` normalized, or the error's text.
fn one(field: &str, value: &str) -> Result<String, String> {
    let body = format!("{{\"{field}\":{value}}}");
    let scan = scan(body.as_bytes()).map_err(|e| e.to_string())?;
    let (out, _) = normalize(body.as_bytes(), &scan).map_err(|e| e.to_string())?;
    let out = String::from_utf8(out).expect("UTF-8");
    Ok(out[field.len() + 4..out.len() - 1].to_string())
}

#[test]
fn every_proto3_integer_form_is_accepted_in_the_form_serde_reads() {
    for (field, sent, read) in [
        ("timeUnixNano", "123", "123"),
        ("timeUnixNano", "\"123\"", "\"123\""),
        ("timeUnixNano", "1e3", "1000"),
        ("timeUnixNano", "\"1.5e1\"", "15"),
        ("timeUnixNano", "1.0", "1"),
        (
            "timeUnixNano",
            "18446744073709551615",
            "18446744073709551615",
        ),
        ("count", "\"0\"", "\"0\""),
        ("bucketCounts", "[1, \"2\", 3e0]", "[1, \"2\", 3]"),
        ("asInt", "-9223372036854775808", "-9223372036854775808"),
        ("asInt", "\"-5\"", "-5"),
        ("intValue", "-2E2", "-200"),
        ("timeUnixNano", "null", "null"),
    ] {
        assert_eq!(one(field, sent).as_deref(), Ok(read), "{field}: {sent}");
    }
}

#[test]
fn integers_outside_the_mapping_are_refused_naming_the_field() {
    for (field, sent) in [
        ("timeUnixNano", "\"NaN\""),
        ("timeUnixNano", "-1"),
        ("timeUnixNano", "1.5"),
        ("timeUnixNano", "18446744073709551616"),
        ("startTimeUnixNano", "\"0x10\""),
        ("observedTimeUnixNano", "true"),
        ("asInt", "9223372036854775808"),
        ("asInt", "\"\""),
        ("count", "1e999999"),
        ("bucketCounts", "[1, -2]"),
    ] {
        let err = one(field, sent).expect_err(sent);
        assert!(
            err.starts_with(&format!("invalid {field} at byte ")),
            "{sent}: {err}"
        );
    }
}

#[test]
fn every_proto3_double_form_is_accepted_or_refused_with_why() {
    for (field, sent, read) in [
        ("asDouble", "1.5", "1.5"),
        ("asDouble", "\"1.5\"", "1.5"),
        ("asDouble", "-2e-3", "-2e-3"),
        ("explicitBounds", "[1, \"2.5\"]", "[1, 2.5]"),
        ("quantile", "\"NaN\"", "\"NaN\""),
        ("value", "\"-Infinity\"", "\"-Infinity\""),
        (
            "value",
            "{\"stringValue\":\"x\"}",
            "{\"stringValue\":\"x\"}",
        ),
    ] {
        assert_eq!(one(field, sent).as_deref(), Ok(read), "{field}: {sent}");
    }
    for (field, sent, want) in [
        ("asDouble", "\"nan\"", "invalid asDouble"),
        ("sum", "\"1.5x\"", "invalid sum"),
        ("min", "1e999", "out of the range"),
    ] {
        let err = one(field, sent).expect_err(sent);
        assert!(err.contains(want), "{sent}: {err}");
    }
}
