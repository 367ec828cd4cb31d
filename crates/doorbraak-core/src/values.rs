//! Value types that can only hold valid values ("parse, don't validate").

use std::fmt;

use rust_decimal::Decimal;

use crate::machine::Refusal;
use crate::privacy::contains_bsn;

/// Free text a person typed: trimmed, within bounds, and free of BSNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// Parses `raw` for the API field `field`, between `min` and `max`
    /// characters after trimming.
    pub fn parse(field: &str, raw: &str, min: usize, max: usize) -> Result<Text, Refusal> {
        let t = raw.trim();
        let n = t.chars().count();
        if n == 0 && min > 0 {
            return Err(Refusal::validation(field, "must not be empty"));
        }
        if n < min {
            return Err(Refusal::validation(
                field,
                format!("must be at least {min} characters"),
            ));
        }
        if n > max {
            return Err(Refusal::validation(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if t.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(Refusal::validation(
                field,
                "must not contain control characters",
            ));
        }
        if contains_bsn(t) {
            return Err(Refusal::PersonalData {
                field: field.to_owned(),
            });
        }
        Ok(Text(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// An amount of euros, exact to the cent, never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Euros(i64);

impl Euros {
    /// The largest amount accepted: one hundred billion euros.
    pub const MAX_CENTS: i64 = 10_000_000_000_000;

    pub fn from_cents(cents: i64) -> Option<Euros> {
        (0..=Self::MAX_CENTS)
            .contains(&cents)
            .then_some(Euros(cents))
    }
    /// Parses a decimal amount: not negative, at most two decimals.
    pub fn from_decimal(field: &str, d: Decimal) -> Result<Euros, Refusal> {
        if d.is_sign_negative() && !d.is_zero() {
            return Err(Refusal::validation(field, "must not be negative"));
        }
        let normal = d.normalize();
        if normal.scale() > 2 {
            return Err(Refusal::validation(
                field,
                "must have at most two decimals (cents)",
            ));
        }
        let cents = (normal * Decimal::ONE_HUNDRED).trunc();
        i64::try_from(cents)
            .ok()
            .and_then(Euros::from_cents)
            .ok_or_else(|| Refusal::validation(field, "is too large"))
    }
    pub const fn cents(self) -> i64 {
        self.0
    }
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Euros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

/// An identifier in the national law database: `BWBR` and seven digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BwbId(String);

impl BwbId {
    pub fn parse(field: &str, raw: &str) -> Result<BwbId, Refusal> {
        let t = raw.trim().to_ascii_uppercase();
        let ok = t.len() == 11
            && t.starts_with("BWBR")
            && t.as_bytes()[4..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(BwbId(t))
        } else {
            Err(Refusal::validation(
                field,
                "must be BWBR followed by seven digits, as on wetten.overheid.nl (e.g. BWBR0015703)",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A focus area's code: three capital letters (`ZDO`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(field: &str, raw: &str) -> Result<AreaCode, Refusal> {
        let t = raw.trim().to_ascii_uppercase();
        if t.len() == 3 && t.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(AreaCode(t))
        } else {
            Err(Refusal::validation(
                field,
                "must be a focus area code of three letters, e.g. ZDO",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A ministry's code (`SZW`, `JENV`): two to eight capital letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MinistryCode(String);

impl MinistryCode {
    pub fn parse(field: &str, raw: &str) -> Result<MinistryCode, Refusal> {
        let t = raw.trim().to_ascii_uppercase();
        if (2..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(MinistryCode(t))
        } else {
            Err(Refusal::validation(
                field,
                "must be a ministry code, e.g. SZW",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A case's human reference: area code, year, sequence (`ZDO-2026-0042`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseReference(String);

impl CaseReference {
    pub fn new(area: &AreaCode, year: i32, sequence: i64) -> CaseReference {
        CaseReference(format!("{}-{year}-{sequence:04}", area.as_str()))
    }
    /// Parses a reference as typed, in any case.
    pub fn parse(raw: &str) -> Option<CaseReference> {
        let t = raw.trim().to_ascii_uppercase();
        let mut parts = t.split('-');
        let (a, y, s) = (parts.next()?, parts.next()?, parts.next()?);
        let ok = parts.next().is_none()
            && a.len() == 3
            && a.bytes().all(|b| b.is_ascii_uppercase())
            && y.len() == 4
            && y.bytes().all(|b| b.is_ascii_digit())
            && s.len() >= 4
            && s.bytes().all(|b| b.is_ascii_digit());
        ok.then_some(CaseReference(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn euros_are_exact() {
        let e = Euros::from_decimal("x", Decimal::from_str("1234.56").unwrap()).unwrap();
        assert_eq!(e.cents(), 123_456);
        assert_eq!(e.to_string(), "1234.56");
        assert_eq!(
            Euros::from_decimal("x", Decimal::from_str("0.10").unwrap())
                .unwrap()
                .cents(),
            10
        );
        assert!(Euros::from_decimal("x", Decimal::from_str("1.001").unwrap()).is_err());
        assert!(Euros::from_decimal("x", Decimal::from_str("-1").unwrap()).is_err());
        assert!(
            Euros::from_decimal("x", Decimal::from_str("1e20").unwrap_or(Decimal::MAX)).is_err()
        );
    }

    #[test]
    fn bwb_ids() {
        assert_eq!(
            BwbId::parse("b", "bwbr0015703").unwrap().as_str(),
            "BWBR0015703"
        );
        assert!(BwbId::parse("b", "BWBR001570").is_err());
        assert!(BwbId::parse("b", "BWBV0015703").is_err());
    }

    #[test]
    fn references() {
        let r = CaseReference::new(&AreaCode::parse("a", "zdo").unwrap(), 2026, 42);
        assert_eq!(r.as_str(), "ZDO-2026-0042");
        assert_eq!(CaseReference::parse("zdo-2026-0042"), Some(r));
        assert_eq!(CaseReference::parse("ZDO-26-1"), None);
    }

    #[test]
    fn text_refuses_bsn_and_blank() {
        assert!(matches!(
            Text::parse("description", "moeder 123456782", 1, 100),
            Err(Refusal::PersonalData { .. })
        ));
        assert!(matches!(
            Text::parse("title", "   ", 1, 100),
            Err(Refusal::Validation { .. })
        ));
        assert_eq!(Text::parse("t", "  ok  ", 1, 10).unwrap().as_str(), "ok");
    }
}

/// An e-mail address as people type it, lower-cased so that addresses
/// compare without regard to case: one `@`, something before it, a domain
/// with a dot after it, no spaces or control characters, at most 254
/// characters (RFC 5321's limit on a path).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, raw: &str) -> Result<EmailAddress, Refusal> {
        let t = raw.trim().to_lowercase();
        let bad = || {
            Refusal::validation(
                field,
                "must be an e-mail address such as naam@organisatie.nl",
            )
        };
        if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = t.split_once('@').ok_or_else(bad)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..");
        if ok { Ok(EmailAddress(t)) } else { Err(bad()) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod email_tests {
    use super::EmailAddress;

    #[test]
    fn addresses_are_lower_cased_and_checked() {
        assert_eq!(
            EmailAddress::parse("email", "  Anna.de.Vries@School.NL ")
                .map(EmailAddress::into_string),
            Ok("anna.de.vries@school.nl".to_owned())
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@school.nl",
            "anna@school",
            "a b@school.nl",
            "a@b@c.nl",
            "a@.nl",
            "a@school..nl",
        ] {
            assert!(EmailAddress::parse("email", bad).is_err(), "{bad}");
        }
    }
}
