use std::borrow::Cow;

use proptest::prelude::*;

use super::*;

/// Every `MIN_RUN`-character run of `text`.
fn runs(text: &str) -> Vec<&str> {
    let b = char_bounds(text);
    (0..b.len().saturating_sub(MIN_RUN))
        .map(|i| &text[b[i]..b[i + MIN_RUN]])
        .collect()
}

/// Whether `text` holds a run of `secret` of `MIN_RUN` characters or more.
fn leaks(text: &str, secret: &str) -> Option<String> {
    runs(text)
        .into_iter()
        .find(|r| secret.contains(r))
        .map(str::to_string)
}

#[test]
fn scrubs_whole_secrets_truncated_echoes_and_fragments() {
    let pw: String = (0..160)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    let set = Secrets::new([pw.as_str()]);
    // Redis repeats the first 128 characters of an unknown command's arguments.
    let echo = format!(
        "AUTH: server error ERR unknown command 'AUTH', with args beginning with: '{}' ",
        &pw[..128]
    );
    assert_eq!(
        set.redact(&echo),
        "AUTH: server error ERR unknown command 'AUTH', with args beginning with: '[***]' "
    );
    assert_eq!(set.redact(&format!("x{pw}y")), "x[***]y");
    // Any fragment of at least MIN_RUN characters, anywhere.
    let fragment = &pw[40..46];
    assert_eq!(
        set.redact(&format!("near {fragment} far")),
        "near [***] far"
    );
    // Five characters are left alone: they would match ordinary text.
    let five = &pw[40..45];
    assert!(matches!(
        set.redact(&format!("near {five} far")),
        Cow::Borrowed(_)
    ));
    // Two fragments apart stay apart; touching ones become one marker.
    let two = format!("{} and {}", &pw[0..10], &pw[100..110]);
    assert_eq!(set.redact(&two), "[***] and [***]");
}

#[test]
fn nothing_to_scrub_borrows() {
    let set = Secrets::new(["hunter2hunter2"]);
    assert!(matches!(
        set.redact("all quiet"),
        Cow::Borrowed("all quiet")
    ));
    let empty = Secrets::new([""; 0]);
    assert!(empty.is_empty());
    assert!(matches!(empty.redact("hunter2hunter2"), Cow::Borrowed(_)));
    assert!(
        Secrets::new([""]).is_empty(),
        "an empty secret is no secret"
    );
}

#[test]
fn short_secrets_are_matched_whole_only() {
    let set = Secrets::new(["pa55"]);
    assert_eq!(set.redact("AUTH pa55 failed"), "AUTH [***] failed");
    assert_eq!(set.redact("pa5 pa55pa55"), "pa5 [***]");
    assert!(matches!(set.redact("pa5 a55"), Cow::Borrowed(_)));
}

#[test]
fn counts_characters_not_bytes() {
    let set = Secrets::new(["пароль-секрет"]);
    // Six Cyrillic characters (twelve bytes) are a run; five are not.
    assert_eq!(set.redact("got 'ароль-' back"), "got '[***]' back");
    assert!(matches!(set.redact("got 'ароль' back"), Cow::Borrowed(_)));
}

#[test]
fn the_marker_never_completes_a_run_of_a_secret() {
    // "abcde[" is a run of this secret; the first scrub leaves
    // "abcde[***]", whose "abcde[" the second one takes.
    let secret = "abcde[*QRSTUVW";
    let set = Secrets::new([secret]);
    let out = set.redact("abcdeQRSTUVW");
    assert_eq!(out, "[***]");
    assert_eq!(leaks(&out, secret), None);
}

#[test]
fn a_shared_redactor_learns_secrets_later() {
    let r = Redactor::new();
    let copy = r.clone();
    assert!(matches!(r.redact("token=abcdef123456"), Cow::Borrowed(_)));
    copy.add("abcdef123456");
    copy.add("");
    assert_eq!(r.redact("token=abcdef123456"), "token=[***]");
    assert_eq!(r.secrets().len(), 1);
    assert_eq!(format!("{:?}", r.secrets()), "Secrets(1 hidden)");
}

/// Characters secrets and texts are made of: printable ASCII (the marker's
/// own brackets and stars included) and a few multi-byte ones.
fn alphabet() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => proptest::char::range(' ', '~'),
        1 => prop::sample::select(vec!['é', 'ж', '密', '🔑']),
    ]
}

fn string(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(alphabet(), len).prop_map(|v| v.into_iter().collect())
}

/// A text of filler and pieces of the secrets: (secret, from, len) picks
/// a substring of at least `MIN_RUN` characters.
fn text_with_pieces(secrets: Vec<String>) -> impl Strategy<Value = (Vec<String>, String)> {
    let n = secrets.len();
    let pieces = prop::collection::vec(
        (
            string(0..20),
            0..n,
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
        ),
        0..6,
    );
    (Just(secrets), pieces, string(0..20)).prop_map(|(secrets, pieces, tail)| {
        let mut text = String::new();
        for (filler, which, from, len) in pieces {
            text.push_str(&filler);
            let chars: Vec<char> = secrets[which].chars().collect();
            let len = MIN_RUN + len.index(chars.len() - MIN_RUN + 1);
            let from = from.index(chars.len() - len + 1);
            text.extend(&chars[from..from + len]);
        }
        text.push_str(&tail);
        (secrets, text)
    })
}

proptest! {
    #[test]
    fn no_run_of_a_secret_survives(
        (secrets, text) in prop::collection::vec(string(MIN_RUN..160), 1..4)
            .prop_flat_map(text_with_pieces)
    ) {
        let set = Secrets::new(&secrets);
        let out = set.redact(&text);
        for s in &secrets {
            prop_assert_eq!(leaks(&out, s), None, "secret {:?} text {:?} out {:?}", s, text, out);
        }
    }

    #[test]
    fn short_secrets_survive_only_inside_markers(
        secret in string(1..MIN_RUN),
        pieces in prop::collection::vec(string(0..12), 1..6),
    ) {
        let text = pieces.join(&secret);
        let set = Secrets::new([&secret]);
        let out = set.redact(&text);
        let markers: Vec<Range<usize>> =
            out.match_indices(MARKER).map(|(at, m)| at..at + m.len()).collect();
        for (at, s) in out.match_indices(secret.as_str()) {
            let inside = markers.iter().any(|m| m.start < at + s.len() && at < m.end);
            prop_assert!(inside, "secret {:?} text {:?} out {:?}", secret, text, out);
        }
    }
}
