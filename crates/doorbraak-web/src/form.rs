//! Form bodies as browsers send them (`application/x-www-form-urlencoded`),
//! and the Dutch way of typing amounts, numbers and dates.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The fields of a posted form, in order; a name may repeat (`domains`).
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData {
            pairs: form_urlencoded::parse(body).into_owned().collect(),
        }
    }
    /// The first value of a field, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
    /// The first value, trimmed; `None` when empty or absent.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|v| !v.is_empty())
    }
    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.pairs.iter().any(|(k, v)| k == name && v == value)
    }
}

/// Reads an amount the Dutch way: a comma before the cents, dots or spaces
/// between thousands (`12.500,50`, `12 500`, `€ 1.000`). A dot followed by
/// other than three digits is refused, because `12.50` is ambiguous.
pub fn parse_amount(raw: &str) -> Result<Decimal, &'static str> {
    const HINT: &str = "Schrijf een bedrag in euro's, bijvoorbeeld 12.500,50";
    let t = raw.trim().trim_start_matches('€').trim();
    if t.is_empty() {
        return Err(HINT);
    }
    let (whole, cents) = match t.split_once(',') {
        Some((w, c)) => (w, Some(c)),
        None => (t, None),
    };
    let groups: Vec<&str> = whole.split(['.', ' ', '\u{a0}', '\u{202f}']).collect();
    let grouped_ok = groups.len() == 1
        || (groups[0].len() <= 3
            && !groups[0].is_empty()
            && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped_ok
        || groups
            .iter()
            .any(|g| !g.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(HINT);
    }
    let digits: String = groups.concat();
    if digits.is_empty() || digits.len() > 13 {
        return Err(HINT);
    }
    let mut text = digits;
    if let Some(c) = cents {
        if c.is_empty() || c.len() > 2 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err("Een bedrag heeft ten hoogste twee cijfers achter de komma");
        }
        text.push('.');
        text.push_str(c);
    }
    text.parse::<Decimal>().map_err(|_| HINT)
}

/// A whole number, with or without dots between thousands.
pub fn parse_count(raw: &str) -> Result<i32, &'static str> {
    let t: String = raw
        .trim()
        .chars()
        .filter(|c| *c != '.' && *c != ' ')
        .collect();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Vul een heel getal in, bijvoorbeeld 12");
    }
    t.parse::<i32>().map_err(|_| "Dit getal is te groot")
}

/// A date from a date field (`2026-12-31`) or typed the Dutch way
/// (`31-12-2026`).
pub fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    let t = raw.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d-%m-%Y"))
        .map_err(|_| "Vul een datum in als 31-12-2026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_the_dutch_way() {
        let ok = |s: &str| parse_amount(s).map(|d| d.to_string());
        assert_eq!(ok("12.500,50"), Ok("12500.50".to_owned()));
        assert_eq!(ok("12 500,5"), Ok("12500.5".to_owned()));
        assert_eq!(ok("€ 1.000"), Ok("1000".to_owned()));
        assert_eq!(ok("750"), Ok("750".to_owned()));
        assert_eq!(ok("1.234.567,89"), Ok("1234567.89".to_owned()));
        for bad in [
            "12.50", "12,505", "abc", "1.2345", ",50", "12,", "-5", "1.000.00",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repeated_fields_are_kept() {
        let f = FormData::parse(
            b"domains=YOUTH&domains=HOUSING&title=Een+titel&rule.citation=art%2012",
        );
        assert_eq!(f.all("domains"), vec!["YOUTH", "HOUSING"]);
        assert_eq!(f.get("title"), "Een titel");
        assert_eq!(f.get("rule.citation"), "art 12");
        assert_eq!(f.opt("missing"), None);
    }

    #[test]
    fn dates_and_counts() {
        assert_eq!(parse_date("31-12-2026"), parse_date("2026-12-31"));
        assert!(parse_date("31/12").is_err());
        assert_eq!(parse_count("1.200"), Ok(1200));
        assert!(parse_count("twaalf").is_err());
    }
}
