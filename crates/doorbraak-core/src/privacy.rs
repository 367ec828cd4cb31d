//! Detection of Dutch citizen service numbers (BSN) in free text.
//!
//! The description of a case is about the rule, not the resident. A BSN is
//! nine digits that pass the *elfproef*: `9·d1 + 8·d2 + … + 2·d8 − 1·d9` is
//! a multiple of 11. People write them plain (`123456782`) or grouped with
//! dots, spaces or dashes (`1234.56.782`, `123 456 782`), so a run of digit
//! groups joined by single separators is read as one number.

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

/// True when the text holds a valid BSN, plain or grouped.
pub fn contains_bsn(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // A run starts here: digit groups joined by one separator each.
        let mut digits = Vec::with_capacity(12);
        let mut j = i;
        let mut first_group_end = None;
        loop {
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                digits.push(bytes[j]);
                j += 1;
            }
            first_group_end.get_or_insert(j);
            let joined = j + 1 < bytes.len()
                && matches!(bytes[j], b'.' | b' ' | b'-')
                && bytes[j + 1].is_ascii_digit();
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
    fn leaves_other_numbers_alone() {
        assert!(!contains_bsn("Participatiewet art. 31, 2024"));
        assert!(!contains_bsn("bel 0612345678"));
        assert!(!contains_bsn("1234567820")); // ten digits
        assert!(!contains_bsn("123456789"));
        assert!(!contains_bsn("BWBR0015703"));
        assert!(!contains_bsn(""));
    }
}
