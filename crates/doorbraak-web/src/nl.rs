//! Dutch words for the domain's names, and Dutch formats for dates, times
//! and money. Dates and times are shown in Europe/Amsterdam time.

use chrono::{Datelike, NaiveDate, TimeDelta, Timelike};
use chrono_tz::Europe::Amsterdam;
use doorbraak_core::{
    BarrierStatus, CaseAction, CaseState, EventAction, Level, Outcome, PolicyDomain, Role,
    RuleScope, Timestamp,
};

pub fn role(r: Role) -> &'static str {
    match r {
        Role::Professional => "Professional",
        Role::ProgrammeBureau => "Programmabureau",
        Role::AllianceSecretary => "Secretaris van de alliantie",
        Role::NationalRepresentative => "Rijksvertegenwoordiger",
        Role::BreakthroughSecretariat => "Secretariaat van het doorbraakoverleg",
        Role::MinistryAnalyst => "Analist van een ministerie",
        Role::Administrator => "Beheerder",
    }
}

pub fn level(l: Level) -> &'static str {
    match l {
        Level::ProgrammeBureau => "Programmabureau",
        Level::Alliance => "Alliantie",
        Level::NationalRepresentative => "Rijksvertegenwoordiger",
        Level::BreakthroughMeeting => "Doorbraakoverleg",
    }
}

pub fn state(s: CaseState) -> &'static str {
    match s {
        CaseState::AtProgrammeBureau => "Bij het programmabureau",
        CaseState::AtAlliance => "Bij de alliantie",
        CaseState::AtNationalRepresentative => "Bij de rijksvertegenwoordiger",
        CaseState::AtBreakthroughMeeting => "Bij het doorbraakoverleg",
        CaseState::AwaitingInformation => "Wacht op antwoord van de indiener",
        CaseState::Resolved => "Opgelost",
        CaseState::ClosedNoBreakthrough => "Gesloten zonder doorbraak",
        CaseState::Rejected => "Afgewezen",
        CaseState::Merged => "Samengevoegd met een andere zaak",
        CaseState::Withdrawn => "Ingetrokken",
    }
}

pub fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::AlreadyPossible => "Het kan al binnen de regels",
        Outcome::IncidentalBreakthrough => "Doorbraak voor deze situatie",
        Outcome::StructuralBreakthrough => "Structurele doorbraak: de regel verandert",
        Outcome::Experiment => "Experiment: het mag voor een tijd",
        Outcome::FundingUnlocked => "Er is geld vrijgemaakt",
    }
}

pub fn scope(s: RuleScope) -> &'static str {
    match s {
        RuleScope::Organisation => "Regel van een organisatie",
        RuleScope::Municipal => "Regel van de gemeente",
        RuleScope::National => "Landelijke regel (wet of regeling)",
    }
}

pub fn domain(d: PolicyDomain) -> &'static str {
    match d {
        PolicyDomain::Education => "Onderwijs",
        PolicyDomain::WorkIncome => "Werk en inkomen",
        PolicyDomain::DebtPoverty => "Schulden en armoede",
        PolicyDomain::Housing => "Wonen",
        PolicyDomain::HealthCare => "Zorg",
        PolicyDomain::Youth => "Jeugd",
        PolicyDomain::Safety => "Veiligheid",
        PolicyDomain::Other => "Iets anders",
    }
}

pub fn barrier_status(s: BarrierStatus) -> &'static str {
    match s {
        BarrierStatus::Open => "Open",
        BarrierStatus::BreakthroughDecided => "Doorbraak besloten",
        BarrierStatus::Implemented => "Ingevoerd",
        BarrierStatus::NoBreakthrough => "Geen doorbraak",
    }
}

/// The button text of an action.
pub fn action(a: CaseAction) -> &'static str {
    match a {
        CaseAction::PickUp => "Oppakken",
        CaseAction::Release => "Teruggeven aan de wachtrij",
        CaseAction::RequestInformation => "Vraag stellen aan de indiener",
        CaseAction::ProvideInformation => "Vraag beantwoorden",
        CaseAction::Escalate => "Doorzetten naar het volgende niveau",
        CaseAction::ReferBack => "Terugleggen bij het niveau eronder",
        CaseAction::Resolve => "Oplossen",
        CaseAction::CloseNoBreakthrough => "Sluiten zonder doorbraak",
        CaseAction::Reject => "Afwijzen",
        CaseAction::Merge => "Samenvoegen met een andere zaak",
        CaseAction::Withdraw => "Zaak intrekken",
        CaseAction::Contest => "Bezwaar maken tegen het besluit",
    }
}

/// A step in a case's history, in plain words.
pub fn event(a: EventAction, to: CaseState) -> String {
    match a {
        EventAction::Submit => "De zaak is ingediend".to_owned(),
        EventAction::LinkBarrier => {
            "De zaak is gekoppeld aan een knelpunt in het register".to_owned()
        }
        EventAction::Case(c) => match c {
            CaseAction::PickUp => "De zaak is opgepakt".to_owned(),
            CaseAction::Release => "De zaak is teruggezet in de wachtrij".to_owned(),
            CaseAction::RequestInformation => "Er is een vraag gesteld aan de indiener".to_owned(),
            CaseAction::ProvideInformation => "De indiener heeft de vraag beantwoord".to_owned(),
            CaseAction::Escalate => {
                format!("De zaak is doorgezet. Nu: {}", state(to).to_lowercase())
            }
            CaseAction::ReferBack => {
                format!("De zaak is teruggelegd. Nu: {}", state(to).to_lowercase())
            }
            CaseAction::Resolve => "Er is een besluit: de zaak is opgelost".to_owned(),
            CaseAction::CloseNoBreakthrough => "De zaak is gesloten zonder doorbraak".to_owned(),
            CaseAction::Reject => "De zaak is afgewezen".to_owned(),
            CaseAction::Merge => "De zaak is samengevoegd met een andere zaak".to_owned(),
            CaseAction::Withdraw => "De zaak is ingetrokken".to_owned(),
            CaseAction::Contest => {
                format!("Er is bezwaar gemaakt. Nu: {}", state(to).to_lowercase())
            }
        },
    }
}

const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// `1 december 2026`.
pub fn date(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// The calendar date in Amsterdam of an instant.
pub fn local_date(t: Timestamp) -> NaiveDate {
    t.with_timezone(&Amsterdam).date_naive()
}

/// `1 december 2026`, in Amsterdam.
pub fn day(t: Timestamp) -> String {
    date(local_date(t))
}

/// `1 december 2026, 14:05`, in Amsterdam.
pub fn datetime(t: Timestamp) -> String {
    let l = t.with_timezone(&Amsterdam);
    format!(
        "{}, {:02}:{:02}",
        date(l.date_naive()),
        l.hour(),
        l.minute()
    )
}

/// `2026-12-01`, for `<time datetime>` and date fields.
pub fn iso_date(t: Timestamp) -> String {
    local_date(t).format("%Y-%m-%d").to_string()
}

/// A duration in whole days, in words: `1 dag`, `3 dagen`, `minder dan een dag`.
pub fn days(d: TimeDelta) -> String {
    match d.num_days() {
        0 => "minder dan een dag".to_owned(),
        1 => "1 dag".to_owned(),
        n => format!("{n} dagen"),
    }
}

/// A number of days with one decimal, the Dutch way: `3,5`.
pub fn decimal1(v: f64) -> String {
    format!("{v:.1}").replace('.', ",")
}

/// Groups the digits of a whole number by three with dots: `12.500`.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `€ 12.500,50` (cents always shown).
pub fn euros_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("€ {sign}{},{:02}", grouped((c / 100) as i64), c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dutch_formats() {
        assert_eq!(euros_cents(1_250_050), "€ 12.500,50");
        assert_eq!(euros_cents(5), "€ 0,05");
        assert_eq!(euros_cents(100_000_000), "€ 1.000.000,00");
        assert_eq!(grouped(999), "999");
        assert_eq!(decimal1(3.25), "3,2");
        // Winter time: UTC+1.
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 12, 1, 23, 30, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(datetime(t), "2 december 2026, 00:30");
        // Summer time: UTC+2.
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 7, 1, 22, 15, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(datetime(t), "2 juli 2026, 00:15");
    }
}
