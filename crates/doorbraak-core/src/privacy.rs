//! Detection of Dutch citizen service numbers (BSN) in free text.
//!
//! The description of a case is about the rule, not the resident. A BSN is
//! nine digits that pass the *elfproef*: `9·d1 + 8·d2 + … + 2·d8 − 1·d9` is
//! a multiple of 11. People write them plain (`123456782`) or grouped with
//! dots, spaces or dashes (`1234.56.782`, `123 456 782`), so a run of digit
//! groups joined by separators is read as one number. The text is first
//! normalised (Unicode compatibility forms, every kind of space, dash and
//! dot, invisible characters dropped), so a BSN cannot slip through in
//! fullwidth digits or with no-break or zero-width spaces.

/// True when `digits` is nine ASCII digits that pass the elfproef (and are
/// not all zero).
pub fn is_valid_bsn(digits: &[u8]) -> bool {
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if digits.iter().all(|d| *d == b'0') {
        return false;
    }
    let sum: i64 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let v = i64::from(d - b'0');
            if i == 8 { -v } else { (9 - i as i64) * v }
        })
        .sum();
    sum % 11 == 0
}

/// What a character counts as when looking for a BSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Digit(u8),
    /// A space of any kind, a dot, a dash or an underscore: what people put
    /// between groups of digits.
    Separator,
    Other,
}

/// Characters that show nothing: zero-width spaces and joiners, the soft
/// hyphen, the byte-order mark, bidirectional marks. They are dropped, so
/// `123\u{200B}456782` reads as one number.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E007F}')
}

/// Normalises text the way a reader would see it: Unicode compatibility
/// forms folded (fullwidth and other styled digits become `0`–`9`, every
/// kind of space becomes a space), invisible characters dropped, and runs
/// of separators of any kind read as one.
fn classes(text: &str) -> Vec<Class> {
    use unicode_normalization::UnicodeNormalization;
    let mut out: Vec<Class> = Vec::with_capacity(text.len());
    for c in text.nfkc() {
        if is_invisible(c) {
            continue;
        }
        let class = if c.is_ascii_digit() {
            Class::Digit(c as u8 - b'0')
        } else if c.is_whitespace()
            || matches!(
                c,
                '.' | '-' | '_' | '\u{00B7}' | '\u{2010}'
                    ..='\u{2015}' | '\u{2022}' | '\u{2027}' | '\u{2043}' | '\u{2212}' | '\u{30FB}'
            )
        {
            Class::Separator
        } else {
            Class::Other
        };
        if class == Class::Separator && out.last() == Some(&Class::Separator) {
            continue;
        }
        out.push(class);
    }
    out
}

/// True when the text holds a valid BSN, plain or grouped, however it is
/// written: with any kind of space, dot or dash between the groups,
/// invisible characters in between, or in fullwidth or other styled digits.
pub fn contains_bsn(text: &str) -> bool {
    let cs = classes(text);
    let digit = |k: usize| match cs.get(k) {
        Some(Class::Digit(d)) => Some(*d),
        _ => None,
    };
    let mut i = 0;
    while i < cs.len() {
        if digit(i).is_none() || (i > 0 && digit(i - 1).is_some()) {
            i += 1;
            continue;
        }
        // A run starts here: digit groups joined by one separator each.
        let mut digits: Vec<u8> = Vec::with_capacity(12);
        let mut j = i;
        let mut first_group_end = None;
        loop {
            while let Some(d) = digit(j) {
                digits.push(b'0' + d);
                j += 1;
            }
            first_group_end.get_or_insert(j);
            let joined = cs.get(j) == Some(&Class::Separator) && digit(j + 1).is_some();
            if joined && digits.len() < 9 {
                j += 1;
            } else {
                break;
            }
        }
        if is_valid_bsn(&digits) {
            return true;
        }
        // Every group start gets its own try, so `12 123456782` is caught.
        i = first_group_end.unwrap_or(j).max(i + 1);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elfproef() {
        assert!(is_valid_bsn(b"111222333"));
        assert!(is_valid_bsn(b"123456782"));
        assert!(!is_valid_bsn(b"123456789"));
        assert!(!is_valid_bsn(b"000000000"));
        assert!(!is_valid_bsn(b"12345678"));
    }

    #[test]
    fn finds_plain_and_grouped_numbers() {
        assert!(contains_bsn("BSN 123456782 van moeder"));
        assert!(contains_bsn("nummer 1234.56.782."));
        assert!(contains_bsn("nummer 123 456 782"));
        assert!(contains_bsn("123-456-782"));
        assert!(contains_bsn("x111222333"));
        assert!(contains_bsn("art 12 123456782"));
    }

    #[test]
    fn finds_numbers_however_they_are_written() {
        for text in [
            "BSN 123\u{00A0}456\u{00A0}782", // no-break space
            "BSN 123\u{2009}456\u{2009}782", // thin space
            "BSN 123\u{202F}456\u{202F}782", // narrow no-break space
            "BSN 123\u{2007}456\u{2007}782", // figure space
            "BSN 123\u{3000}456\u{3000}782", // ideographic space
            "BSN \u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}\u{FF17}\u{FF18}\u{FF12}", // fullwidth
            "BSN 1\u{200B}2\u{200C}3\u{200D}4\u{2060}5\u{FEFF}6\u{00AD}782", // zero-width and soft hyphen
            "BSN 123\u{2013}456\u{2013}782",                                 // en dash
            "BSN 123 - 456 - 782",                                           // a run of separators
            "BSN 123\u{FF0E}456\u{FF0E}782",                                 // fullwidth full stop
            "BSN \u{1D7CF}\u{1D7D0}\u{1D7D1}456782", // mathematical bold digits
            "bsn:\t123\n456\r\n782",
        ] {
            assert!(contains_bsn(text), "missed: {text:?}");
        }
    }

    #[test]
    fn leaves_other_numbers_alone() {
        assert!(!contains_bsn("Participatiewet art. 31, 2024"));
        assert!(!contains_bsn("bel 0612345678"));
        assert!(!contains_bsn("1234567820")); // ten digits
        assert!(!contains_bsn("123456789"));
        assert!(!contains_bsn("BWBR0015703"));
        assert!(!contains_bsn(""));
        assert!(!contains_bsn("bel 06\u{00A0}1234\u{00A0}5678"));
        assert!(!contains_bsn(
            "\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}\u{FF17}\u{FF18}\u{FF19}"
        ));
    }
}
