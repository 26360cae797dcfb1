//! Error messages and positions, exactly as Prometheus prints them. Every
//! row was checked against a real Prometheus 2.42 (`/api/v1/query` answers
//! `invalid parameter "query": <this>`); the e2e test `tests/e2e/bad_queries.rs`
//! keeps a sample of them checked on every run.

use super::parse;

/// Input, and Prometheus's `line:col: parse error: message`.
const CASES: &[(&str, &str)] = &[
    ("1 +", "1:4: parse error: unexpected end of input"),
    ("sum(x", "1:6: parse error: unclosed left parenthesis"),
    ("x)", "1:3: parse error: unexpected right parenthesis ')'"),
    (
        "foo(x)",
        "1:1: parse error: unknown function with name \"foo\"",
    ),
    (
        "rate(x)",
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
    ),
    (
        "1 and 2",
        "1:1: parse error: set operator \"and\" not allowed in binary scalar expression",
    ),
    ("\"abc", "1:1: parse error: unterminated quoted string"),
    (
        "x +\n  y)",
        "2:5: parse error: unexpected right parenthesis ')'",
    ),
    ("é + (", "1:1: parse error: unexpected character: 'é'"),
    ("", "1:1: parse error: no expression found in input"),
    (
        "sum(1 + *)",
        "1:9: parse error: unexpected <op:*> in aggregation",
    ),
    ("sum(x) y", "1:8: parse error: unexpected identifier \"y\""),
    (
        "x offset foo",
        "1:10: parse error: unexpected identifier \"foo\" in offset, expected duration",
    ),
    ("x[5m", "1:5: parse error: unclosed left bracket"),
    (
        "x{a}",
        "1:4: parse error: unexpected \"}\" in label matching, expected label matching operator",
    ),
    (
        "x{a=b}",
        "1:5: parse error: unexpected identifier \"b\" in label matching, expected string",
    ),
    (
        "sum by x (y)",
        "1:8: parse error: unexpected identifier \"x\" in grouping opts, expected \"(\"",
    ),
    (
        "x{a=\"b\" c=\"d\"}",
        "1:9: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\"",
    ),
    ("1 + * 2", "1:5: parse error: unexpected <op:*>"),
    ("x[0s]", "1:3: parse error: duration must be greater than 0"),
    (
        "x offset 0s",
        "1:10: parse error: duration must be greater than 0",
    ),
    ("x[5m:1m:2m]", "1:8: parse error: unexpected colon ':'"),
    ("x[foo]", "1:3: parse error: bad duration syntax: \"\""),
    (
        "x{",
        "1:3: parse error: unexpected end of input inside braces",
    ),
    ("(x", "1:3: parse error: unclosed left parenthesis"),
    (
        "x @ foo",
        "1:5: parse error: unexpected identifier \"foo\" in @, expected timestamp",
    ),
    (
        "foo(x) )",
        "1:1: parse error: unknown function with name \"foo\"",
    ),
    ("rate(x) +", "1:10: parse error: unexpected end of input"),
    (
        "topk(\"a\", x)",
        "1:6: parse error: expected type scalar in aggregation parameter, got string",
    ),
    (
        "count_values(1, x)",
        "1:14: parse error: expected type string in aggregation parameter, got scalar",
    ),
    (
        "sum(x[5m])",
        "1:5: parse error: expected type instant vector in aggregation expression, got range vector",
    ),
    (
        "-\"a\"",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\"",
    ),
    (
        "1[5m:]",
        "1:1: parse error: subquery is only allowed on instant vector, got scalar instead",
    ),
    (
        "x[]",
        "1:3: parse error: missing unit character in duration",
    ),
    (
        "x[:5m]",
        "1:3: parse error: missing unit character in duration",
    ),
    (
        "x !",
        "1:3: parse error: unexpected character after '!': '�'",
    ),
    (
        "x{a!b}",
        "1:4: parse error: unexpected character after '!' inside braces: 'b'",
    ),
    ("x{{", "1:3: parse error: unexpected left brace '{'"),
    ("}", "1:1: parse error: unexpected character: '}'"),
    ("]", "1:1: parse error: unexpected right bracket ']'"),
    ("x[5m]]", "1:6: parse error: unexpected right bracket ']'"),
    ("rate(x +)", "1:9: parse error: unexpected \")\""),
    (
        "\"\\q\"",
        "1:1: parse error: unknown escape sequence U+0071 'q'",
    ),
    (
        "'\\x4'",
        "1:1: parse error: illegal character U+0027 ''' in escape sequence",
    ),
    (
        "\"\\u12\"",
        "1:1: parse error: illegal character U+0022 '\"' in escape sequence",
    ),
    (
        "1e",
        "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e\": invalid syntax",
    ),
    (
        "x offset 1hs",
        "1:10: parse error: not a valid duration string: \"1hs\"",
    ),
    (
        "sum(x) by",
        "1:10: parse error: unexpected end of input in grouping opts, expected \"(\"",
    ),
    (
        "x =~ y",
        "1:3: parse error: unexpected character after '=': '~'",
    ),
    (
        "x{,}",
        "1:3: parse error: unexpected \",\" in label matching, expected identifier or \"}\"",
    ),
    (
        "{}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "{a=\"\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    ),
    (
        "info(up, target_info{a=\"b\"})",
        "1:10: parse error: expected label selectors only, got vector selector instead",
    ),
    (
        "x{__name__=\"y\"}",
        "1:1: parse error: metric name must not be set twice: \"x\" or \"y\"",
    ),
    (
        "sum()",
        "1:1: parse error: no arguments for aggregate expression provided",
    ),
    (
        "topk(x)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
    ),
    (
        "rate(x[5m],)",
        "1:11: parse error: trailing commas not allowed in function call args",
    ),
    (
        "abs(x, y)",
        "1:1: parse error: expected 1 argument(s) in call to \"abs\", got 2",
    ),
    (
        "round(x, 1, 2)",
        "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3",
    ),
    (
        "label_join(x)",
        "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1",
    ),
    (
        "x @ start",
        "1:10: parse error: unexpected end of input in @, expected timestamp",
    ),
    (
        "x @ inf",
        "1:1: parse error: timestamp out of bounds for @ modifier: +Inf",
    ),
    (
        "x offset 5m [5m]",
        "1:13: parse error: no offset modifiers allowed before range",
    ),
    (
        "(x)[5m]",
        "1:4: parse error: ranges only allowed for vector selectors",
    ),
    (
        "sum(x) offset 5m",
        "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    ),
    (
        "x offset 1m offset 2m",
        "1:1: parse error: offset may not be set multiple times",
    ),
    (
        "x + on(a) group_left(a) y",
        "1:3: parse error: label \"a\" must not occur in ON and GROUP clause at once",
    ),
    (
        "1 + on(a) 2",
        "1:1: parse error: vector matching only allowed between instant vectors",
    ),
    (
        "x and on(a) group_left y",
        "1:1: parse error: no grouping allowed for \"and\" operation",
    ),
    (
        "1 + bool 2",
        "1:3: parse error: bool modifier can only be used on comparison operators",
    ),
    (
        "-x[5m]",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
    ),
    (
        "rate(x[5m])[5m]",
        "1:12: parse error: ranges only allowed for vector selectors",
    ),
    ("# only", "1:1: parse error: no expression found in input"),
    (
        "x[5m:1m 2m]",
        "1:9: parse error: unexpected duration \"2m\" in subquery selector, expected \"]\"",
    ),
    (
        "x[5m 1m]",
        "1:6: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\"",
    ),
    (
        "sum by (a b) (x)",
        "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\"",
    ),
    (
        "sum by (a:b) (x)",
        "1:9: parse error: unexpected metric identifier \"a:b\" in grouping opts, expected label",
    ),
    (
        "sum by (,) (x)",
        "1:9: parse error: unexpected \",\" in grouping opts, expected label",
    ),
    (
        "x{a=~\"(\"}",
        "1:3: parse error: error parsing regexp: missing closing ): `^(?:()$`",
    ),
    (
        "x{a=~\"[\"}",
        "1:3: parse error: error parsing regexp: missing closing ]: `[)$`",
    ),
    (
        "x @ 1 @ 2",
        "1:1: parse error: @ <timestamp> may not be set multiple times",
    ),
    (
        "sum(rate(x[5m]) +)",
        "1:18: parse error: unexpected \")\" in aggregation",
    ),
    (
        "sum(rate(x[5m)",
        "1:14: parse error: unexpected \")\" in subquery or range, expected \":\" or \"]\"",
    ),
    (
        "rate(foo(x))",
        "1:6: parse error: unknown function with name \"foo\"",
    ),
    ("a:b(x)", "1:4: parse error: unexpected \"(\""),
    ("bool", "1:1: parse error: unexpected <bool>"),
    (
        "x + group_left(a) y",
        "1:5: parse error: unexpected <group_left>",
    ),
    (
        "x @ end",
        "1:8: parse error: unexpected end of input in @, expected timestamp",
    ),
    (
        "1 > 2",
        "1:3: parse error: comparisons between scalars must use BOOL modifier",
    ),
    ("\"é\" + x}", "1:9: parse error: unexpected character: '}'"),
    (
        "x{a=\"b\"",
        "1:8: parse error: unexpected end of input inside braces",
    ),
    (
        "x{a=\"b\",",
        "1:9: parse error: unexpected end of input inside braces",
    ),
    ("x[5m:", "1:6: parse error: unclosed left bracket"),
    ("x[5m foo]", "1:7: parse error: unexpected colon 'o'"),
    ("x[5m:foo]", "1:6: parse error: unexpected colon 'f'"),
    (
        "rate(x[5m],,y)",
        "1:11: parse error: trailing commas not allowed in function call args",
    ),
    (
        "x{a=~\"*\"}",
        "1:3: parse error: error parsing regexp: missing argument to repetition operator: `*`",
    ),
    ("x [5m", "1:6: parse error: unclosed left bracket"),
    (
        "sum(x, y)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2",
    ),
    (
        "time(1)",
        "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1",
    ),
    (
        "histogram_quantile(x, 0.9)",
        "1:20: parse error: expected type scalar in call to function \"histogram_quantile\", got instant vector",
    ),
    (
        "scalar(1)",
        "1:8: parse error: expected type instant vector in call to function \"scalar\", got scalar",
    ),
    (
        "x{a=\"b\"}[5m] offset 1m offset 2m",
        "1:1: parse error: offset may not be set multiple times",
    ),
    (
        "x @ 1 [5m]",
        "1:7: parse error: no @ modifiers allowed before range",
    ),
    (
        "x + bool on(a) y",
        "1:3: parse error: bool modifier can only be used on comparison operators",
    ),
    (
        "a == bool b or",
        "1:15: parse error: unexpected end of input",
    ),
    (
        "x{a=\"\\x\"}",
        "1:5: parse error: illegal character U+0022 '\"' in escape sequence",
    ),
    ("", "1:1: parse error: no expression found in input"),
];

#[test]
fn errors_read_as_prometheus_writes_them() {
    let mut failures = Vec::new();
    for (q, want) in CASES {
        let got = match parse(q) {
            Ok(e) => format!("accepted as {e}"),
            Err(e) => e.to_string(),
        };
        if got != *want {
            failures.push(format!("{q:?}\n  got:  {got}\n  want: {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn positions_are_lines_and_byte_columns() {
    // Prometheus counts columns in bytes: the two-byte `é` counts twice.
    let e = parse("\"é\" + x}").expect_err("stray brace");
    assert_eq!((e.line, e.col), (1, 9));
    let e = parse("x +\n\n  * 2").expect_err("operator without operand");
    assert_eq!((e.line, e.col), (3, 3));
    assert_eq!(e.message, "unexpected <op:*>");
    let e = parse("").expect_err("empty");
    assert_eq!(
        e.to_string(),
        "1:1: parse error: no expression found in input"
    );
}

#[test]
fn type_errors_wait_for_syntax_errors() {
    // Prometheus checks types only once the text parses.
    let e = parse("rate(x) +").expect_err("syntax error");
    assert_eq!(e.message, "unexpected end of input");
    // Errors found while parsing are reported in text order.
    let e = parse("foo(x) + rate(x)").expect_err("unknown function");
    assert_eq!(e.message, "unknown function with name \"foo\"");
    // Among type errors, Prometheus's checking order: children first.
    let e = parse("rate(x) + 1 > 2").expect_err("type errors");
    assert_eq!(
        e.to_string(),
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"
    );
}
