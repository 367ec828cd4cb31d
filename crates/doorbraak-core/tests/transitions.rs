//! The transition table, pinned: every state × action × role has one answer.

use chrono::{Duration, TimeZone, Utc};
use doorbraak_core::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

const AREA: &str = "ZDO";
const SUBMITTER: UserId = 1;
const NR: UserId = 4;

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn principal(id: UserId, role: Role, areas: &[&str]) -> Principal {
    Principal {
        id,
        role,
        areas: areas.iter().map(|a| a.to_string()).collect(),
        ministry: None,
    }
}

/// One user of each role, all working in the case's area; the professional
/// is the submitter.
fn cast() -> Vec<Principal> {
    vec![
        principal(SUBMITTER, Role::Professional, &[AREA]),
        principal(2, Role::ProgrammeBureau, &[AREA]),
        principal(3, Role::AllianceSecretary, &[AREA]),
        principal(NR, Role::NationalRepresentative, &[AREA, "RTZ"]),
        principal(5, Role::BreakthroughSecretariat, &[]),
        principal(6, Role::MinistryAnalyst, &[]),
        principal(7, Role::Administrator, &[]),
    ]
}

fn facts(scope: RuleScope) -> CaseFacts {
    CaseFacts {
        reference: "ZDO-2026-0001".into(),
        title: "Oppasrooster".into(),
        description: "Ouders mogen niet op elkaars peuters passen tijdens taalles.".into(),
        focus_area: AREA.into(),
        domains: vec![PolicyDomain::Youth],
        rule: Rule {
            citation: "Wet kinderopvang art. 1.45".into(),
            bwb_id: None,
            scope,
            owning_ministry: Some("SZW".into()),
        },
        desired_action: "Een oppasrooster tussen ouders toestaan.".into(),
        households_affected: Some(12),
        estimated_cost: None,
        urgency: Urgency::Normal,
        submitted_by: SUBMITTER,
        created_at: t0(),
    }
}

/// A case in `state`. Open cases sit at the level of their state (a case
/// awaiting information at the programme bureau); at the national
/// representative level the representative of the cast holds it; decided
/// cases were decided at the national representative one day ago.
fn case_in(state: CaseState) -> Case {
    let level = state.active_level().unwrap_or(match state {
        CaseState::AwaitingInformation => Level::ProgrammeBureau,
        _ => Level::NationalRepresentative,
    });
    let resolution = state.is_decided().then(|| Resolution {
        outcome: (state == CaseState::Resolved).then_some(Outcome::IncidentalBreakthrough),
        explanation: "Uitgelegd.".into(),
        funds_unlocked: None,
        level,
        decided_at: t0(),
        effective_from: None,
        experiment_ends: None,
        evaluation_date: None,
    });
    Case {
        id: 10,
        facts: facts(RuleScope::Municipal),
        status: Status {
            state,
            level,
            highest_level: level,
            assignee: (level == Level::NationalRepresentative).then_some(NR),
            deadline: state.is_open().then(|| t0() + Duration::days(10)),
            paused_at: (state == CaseState::AwaitingInformation).then(t0),
            resolution,
            merged_into: (state == CaseState::Merged).then_some(11),
            barrier: None,
            version: 3,
            updated_at: t0(),
        },
    }
}

/// Rows: states in `CaseState::ALL` order. Columns: actions in
/// `CaseAction::ALL` order: PICK_UP RELEASE REQUEST_INFORMATION
/// PROVIDE_INFORMATION ESCALATE REFER_BACK RESOLVE CLOSE_NO_BREAKTHROUGH
/// REJECT MERGE WITHDRAW CONTEST. A = accepted, F = FORBIDDEN,
/// I = INVALID_TRANSITION.
const TABLE: &[(Role, [&str; 10])] = &[
    (
        Role::Professional,
        [
            "FFFIFFFFFFAI", // AT_PROGRAMME_BUREAU
            "FFFIFFFFFFAI", // AT_ALLIANCE
            "FFFIFFFFFFAI", // AT_NATIONAL_REPRESENTATIVE
            "FFFIFFFFFFAI", // AT_BREAKTHROUGH_MEETING
            "FFFAFFFFFFAI", // AWAITING_INFORMATION
            "FFFIFFFFFFIA", // RESOLVED
            "FFFIFFFFFFIA", // CLOSED_NO_BREAKTHROUGH
            "FFFIFFFFFFII", // REJECTED
            "FFFIFFFFFFII", // MERGED
            "FFFIFFFFFFII", // WITHDRAWN
        ],
    ),
    (
        Role::ProgrammeBureau,
        [
            "AIAFAFAAAAFF",
            "IFFFFFFFIIFF",
            "FFFFFFFFIIFF",
            "IFFFIFFFIIFF",
            "IIIFIFIAAAFF",
            "IIIFIFIIIIFF",
            "IIIFIFIIIIFF",
            "IIIFIFIIIIFF",
            "IIIFIFIIIIFF",
            "IIIFIFIIIIFF",
        ],
    ),
    (
        Role::AllianceSecretary,
        [
            "FFFFFIFFFFFF",
            "FFAFAAAAFFFF",
            "FFFFFFFFFFFF",
            "FFFFIFFFFFFF",
            "FFIFIIIFFFFF",
            "FFIFIIIIFFFF",
            "FFIFIIIIFFFF",
            "FFIFIIIIFFFF",
            "FFIFIIIIFFFF",
            "FFIFIIIIFFFF",
        ],
    ),
    (
        Role::NationalRepresentative,
        [
            "FFFFFIFFFFFF",
            "IFFFFFFFFFFF",
            "IAAFAAAAFFFF",
            "IFFFIFFFFFFF",
            "IIIFIIIFFFFF",
            "IIIFIIIIFFFF",
            "IIIFIIIIFFFF",
            "IIIFIIIIFFFF",
            "IIIFIIIIFFFF",
            "IIIFIIIIFFFF",
        ],
    ),
    (
        Role::BreakthroughSecretariat,
        [
            "FFFFFIFFFFFF",
            "FFFFFFFFFFFF",
            "FFFFFFFFFFFF",
            "FFAFFAAAFFFF",
            "FFIFFIIFFFFF",
            "FFIFFIIIFFFF",
            "FFIFFIIIFFFF",
            "FFIFFIIIFFFF",
            "FFIFFIIIFFFF",
            "FFIFFIIIFFFF",
        ],
    ),
    (Role::MinistryAnalyst, ["FFFFFFFFFFFF"; 10]),
    (Role::Administrator, ["FFFFFFFFFFFF"; 10]),
];

fn letter(r: &Result<(), Refusal>) -> char {
    match r {
        Ok(()) => 'A',
        Err(Refusal::Forbidden(_)) => 'F',
        Err(Refusal::InvalidTransition(_)) => 'I',
        Err(Refusal::Validation { .. }) => 'V',
        Err(Refusal::PersonalData { .. }) => 'P',
    }
}

/// A command with valid arguments for each action.
/// `decide` with the facts of a plain case (no barrier, no agenda item;
/// a merge target waiting at the programme bureau), returning the event.
fn decided(
    case: &Case,
    p: &Principal,
    c: &Command,
    now: Timestamp,
    policy: &Policy,
) -> Result<Event, Refusal> {
    let facts = match c {
        Command::Merge { into } => Facts {
            merge_target: Some(MergeTarget {
                id: *into,
                state: CaseState::AtProgrammeBureau,
            }),
            ..Facts::default()
        },
        _ => Facts::default(),
    };
    decide(case, p, c, &facts, now, policy).map(|d| d.event)
}

fn command(action: CaseAction) -> Command {
    let text = || "Een duidelijke toelichting.".to_string();
    match action {
        CaseAction::PickUp => Command::PickUp,
        CaseAction::Release => Command::Release,
        CaseAction::RequestInformation => Command::RequestInformation { question: text() },
        CaseAction::ProvideInformation => Command::ProvideInformation { answer: text() },
        CaseAction::Escalate => Command::Escalate { motivation: text() },
        CaseAction::ReferBack => Command::ReferBack { motivation: text() },
        CaseAction::Resolve => Command::Resolve {
            outcome: Outcome::AlreadyPossible,
            explanation: text(),
            funds_unlocked: None,
            dates: DecisionDates::default(),
        },
        CaseAction::CloseNoBreakthrough => Command::CloseNoBreakthrough {
            explanation: text(),
        },
        CaseAction::Reject => Command::Reject { reason: text() },
        CaseAction::Merge => Command::Merge { into: 99 },
        CaseAction::Withdraw => Command::Withdraw { reason: text() },
        CaseAction::Contest => Command::Contest { reason: text() },
    }
}

#[test]
fn every_state_action_and_role_has_the_pinned_answer() {
    let policy = Policy::default();
    let now = t0() + Duration::days(1);
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (role, rows) in TABLE {
        let p = cast().into_iter().find(|p| p.role == *role).unwrap();
        for (si, state) in CaseState::ALL.iter().enumerate() {
            let case = case_in(*state);
            let row: Vec<char> = rows[si].chars().collect();
            assert_eq!(row.len(), CaseAction::ALL.len());
            for (ai, action) in CaseAction::ALL.iter().enumerate() {
                let got = guard(&case, &p, *action, now, &policy);
                // decided() must agree with guard() when the arguments are valid.
                let decided = decided(&case, &p, &command(*action), now, &policy).map(|_| ());
                assert_eq!(letter(&got), letter(&decided), "{role} {state} {action}");
                checked += 1;
                if letter(&got) != row[ai] {
                    mismatches.push(format!(
                        "{role} {state} {action}: expected {} got {} ({got:?})",
                        row[ai],
                        letter(&got)
                    ));
                }
            }
        }
    }
    assert_eq!(checked, 7 * 10 * 12);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn available_actions_are_what_guard_allows() {
    let policy = Policy::default();
    let case = case_in(CaseState::AtProgrammeBureau);
    let pb = &cast()[1];
    assert_eq!(
        available_actions(&case, pb, t0(), &policy),
        vec![
            CaseAction::PickUp,
            CaseAction::RequestInformation,
            CaseAction::Escalate,
            CaseAction::Resolve,
            CaseAction::CloseNoBreakthrough,
            CaseAction::Reject,
            CaseAction::Merge,
        ]
    );
    let submitter = &cast()[0];
    assert_eq!(
        available_actions(&case, submitter, t0(), &policy),
        vec![CaseAction::Withdraw]
    );
}

#[test]
fn representative_of_another_area_cannot_pick_up() {
    let mut case = case_in(CaseState::AtNationalRepresentative);
    case.status.assignee = None;
    let elsewhere = principal(8, Role::NationalRepresentative, &["RTZ"]);
    let r = guard(
        &case,
        &elsewhere,
        CaseAction::PickUp,
        t0(),
        &Policy::default(),
    );
    assert!(matches!(r, Err(Refusal::Forbidden(_))), "{r:?}");
    let here = principal(9, Role::NationalRepresentative, &[AREA]);
    assert!(guard(&case, &here, CaseAction::PickUp, t0(), &Policy::default()).is_ok());
}

#[test]
fn only_the_representative_who_picked_up_acts() {
    let case = case_in(CaseState::AtNationalRepresentative); // held by NR
    let colleague = principal(9, Role::NationalRepresentative, &[AREA]);
    for a in [
        CaseAction::Resolve,
        CaseAction::Escalate,
        CaseAction::Release,
        CaseAction::PickUp,
    ] {
        let r = guard(&case, &colleague, a, t0(), &Policy::default());
        assert!(r.is_err(), "{a}");
    }
    let mut unheld = case.clone();
    unheld.status.assignee = None;
    let r = guard(
        &unheld,
        &cast()[3],
        CaseAction::Resolve,
        t0(),
        &Policy::default(),
    );
    assert!(matches!(r, Err(Refusal::Forbidden(_))));
}

fn step(case: &mut Case, events: &mut Vec<Event>, p: &Principal, c: Command, at: Timestamp) {
    let e = decided(case, p, &c, at, &Policy::default()).unwrap_or_else(|r| panic!("{c:?}: {r:?}"));
    case.status = apply(Some(&case.status), &e);
    events.push(e);
}

fn submitted() -> (Case, Vec<Event>) {
    let submitter = &cast()[0];
    let e = submission_event(submitter, t0(), &Policy::default());
    let status = apply(None, &e);
    (
        Case {
            id: 10,
            facts: facts(RuleScope::National),
            status,
        },
        vec![e],
    )
}

#[test]
fn the_whole_ladder_with_deadlines_and_a_paused_clock() {
    let c = cast();
    let (mut case, mut events) = submitted();
    assert_eq!(case.status.deadline, Some(t0() + Duration::days(10)));
    let day = |n| t0() + Duration::days(n);
    let m = |s: &str| s.to_string();
    step(&mut case, &mut events, &c[1], Command::PickUp, day(1));
    step(
        &mut case,
        &mut events,
        &c[1],
        Command::RequestInformation {
            question: m("Welke school?"),
        },
        day(2),
    );
    assert_eq!(case.status.state, CaseState::AwaitingInformation);
    assert!(!is_overdue(&case.status, day(40)), "the clock is paused");
    step(
        &mut case,
        &mut events,
        &c[0],
        Command::ProvideInformation {
            answer: m("Basisschool De Linde."),
        },
        day(7),
    );
    assert_eq!(case.status.state, CaseState::AtProgrammeBureau);
    assert_eq!(case.status.assignee, Some(2), "back to the same assignee");
    assert_eq!(
        case.status.deadline,
        Some(day(15)),
        "moved on by the five paused days"
    );
    step(
        &mut case,
        &mut events,
        &c[1],
        Command::Escalate {
            motivation: m("Lokaal niet op te lossen."),
        },
        day(8),
    );
    assert_eq!(
        (case.status.level, case.status.assignee),
        (Level::Alliance, None)
    );
    assert_eq!(case.status.deadline, Some(day(8 + 42)));
    step(
        &mut case,
        &mut events,
        &c[2],
        Command::Escalate {
            motivation: m("Landelijke regel."),
        },
        day(9),
    );
    step(&mut case, &mut events, &c[3], Command::PickUp, day(10));
    // A national rule cannot be changed structurally below this level, but here it can.
    step(
        &mut case,
        &mut events,
        &c[3],
        Command::Escalate {
            motivation: m("Interdepartementaal."),
        },
        day(11),
    );
    assert_eq!(case.status.state, CaseState::AtBreakthroughMeeting);
    let r = decided(
        &case,
        &c[4],
        &Command::Escalate {
            motivation: m("verder"),
        },
        day(12),
        &Policy::default(),
    );
    assert!(matches!(r, Err(Refusal::Forbidden(_))));
    step(
        &mut case,
        &mut events,
        &c[4],
        Command::Resolve {
            outcome: Outcome::StructuralBreakthrough,
            explanation: m("De regeling wordt aangepast."),
            funds_unlocked: None,
            dates: DecisionDates {
                effective_from: chrono::NaiveDate::from_ymd_opt(2027, 1, 1),
                ..DecisionDates::default()
            },
        },
        day(20),
    );
    assert_eq!(case.status.state, CaseState::Resolved);
    assert_eq!(
        case.status.resolution.as_ref().unwrap().level,
        Level::BreakthroughMeeting
    );
    assert_eq!(case.status.highest_level, Level::BreakthroughMeeting);
    // Contest within 30 days: back to the meeting that decided it.
    step(
        &mut case,
        &mut events,
        &c[0],
        Command::Contest {
            reason: m("Het werkt nog niet."),
        },
        day(30),
    );
    assert_eq!(case.status.state, CaseState::AtBreakthroughMeeting);
    assert_eq!(case.status.resolution, None);
    assert_eq!(case.status.version, events.len() as i32);
    assert_eq!(replay(&events).as_ref(), Some(&case.status));
}

#[test]
fn resolutions_are_checked() {
    let c = cast();
    let (case, _) = submitted(); // a national rule, at the programme bureau
    let resolve = |outcome, funds: Option<&str>| Command::Resolve {
        outcome,
        explanation: "Toelichting voor de professional.".into(),
        funds_unlocked: funds.map(|f| f.parse::<Decimal>().unwrap()),
        dates: DecisionDates {
            effective_from: (outcome == Outcome::StructuralBreakthrough)
                .then(|| chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            ..DecisionDates::default()
        },
    };
    let p = Policy::default();
    let r = decided(
        &case,
        &c[1],
        &resolve(Outcome::StructuralBreakthrough, None),
        t0(),
        &p,
    );
    assert!(matches!(r, Err(Refusal::Validation { ref field, .. }) if field == "input.outcome"));
    for funds in [None, Some("0"), Some("0.00"), Some("-5"), Some("1.005")] {
        let r = decided(
            &case,
            &c[1],
            &resolve(Outcome::FundingUnlocked, funds),
            t0(),
            &p,
        );
        assert!(matches!(r, Err(Refusal::Validation { .. })), "{funds:?}");
    }
    let ok = decided(
        &case,
        &c[1],
        &resolve(Outcome::FundingUnlocked, Some("2500.50")),
        t0(),
        &p,
    )
    .unwrap();
    let res = ok.effect.resolution.unwrap();
    assert_eq!(res.funds_unlocked.unwrap().cents(), 250_050);
    let r = decided(
        &case,
        &c[1],
        &Command::Resolve {
            outcome: Outcome::AlreadyPossible,
            explanation: "  ".into(),
            funds_unlocked: None,
            dates: DecisionDates::default(),
        },
        t0(),
        &p,
    );
    assert!(matches!(r, Err(Refusal::Validation { .. })));
    let r = decided(
        &case,
        &c[1],
        &Command::Escalate {
            motivation: "".into(),
        },
        t0(),
        &p,
    );
    assert!(matches!(r, Err(Refusal::Validation { ref field, .. }) if field == "motivation"));
    let r = decided(
        &case,
        &c[1],
        &Command::Escalate {
            motivation: "BSN 111222333".into(),
        },
        t0(),
        &p,
    );
    assert!(matches!(r, Err(Refusal::PersonalData { .. })));
}

#[test]
fn contest_window_is_thirty_days() {
    let case = case_in(CaseState::Resolved);
    let p = &cast()[0];
    let policy = Policy::default();
    assert!(
        guard(
            &case,
            p,
            CaseAction::Contest,
            t0() + Duration::days(30),
            &policy
        )
        .is_ok()
    );
    let late = guard(
        &case,
        p,
        CaseAction::Contest,
        t0() + Duration::days(31),
        &policy,
    );
    assert!(matches!(late, Err(Refusal::InvalidTransition(_))));
    let other = principal(77, Role::Professional, &[AREA]);
    assert!(matches!(
        guard(&case, &other, CaseAction::Contest, t0(), &policy),
        Err(Refusal::Forbidden(_))
    ));
}

#[test]
fn merge_targets_are_checked() {
    let case = case_in(CaseState::AtProgrammeBureau);
    let pb = &cast()[1];
    let p = Policy::default();
    let merge = |id: i64, state| {
        let facts = Facts {
            merge_target: Some(MergeTarget { id, state }),
            ..Facts::default()
        };
        decide(&case, pb, &Command::Merge { into: id }, &facts, t0(), &p).map(|d| d.event)
    };
    assert!(matches!(
        merge(case.id, CaseState::AtAlliance),
        Err(Refusal::Validation { .. })
    ));
    assert!(matches!(
        merge(11, CaseState::Withdrawn),
        Err(Refusal::InvalidTransition(_))
    ));
    // Without the target among the facts (the actor cannot read it), no merge.
    assert!(matches!(
        decide(
            &case,
            pb,
            &Command::Merge { into: 12 },
            &Facts::default(),
            t0(),
            &p
        ),
        Err(Refusal::Validation { .. })
    ));
    let e = merge(11, CaseState::Resolved).unwrap();
    assert_eq!(
        (e.to_state, e.effect.merged_into),
        (CaseState::Merged, Some(11))
    );
}

#[test]
fn answering_returns_to_the_representative_who_asked() {
    let c = cast();
    let case = case_in(CaseState::AtNationalRepresentative);
    let p = Policy::default();
    let asked = decided(
        &case,
        &c[3],
        &Command::RequestInformation {
            question: "Hoeveel gezinnen?".into(),
        },
        t0(),
        &p,
    )
    .unwrap();
    let waiting = Case {
        status: apply(Some(&case.status), &asked),
        ..case.clone()
    };
    assert_eq!(waiting.status.level, Level::NationalRepresentative);
    let answered = decided(
        &waiting,
        &c[0],
        &Command::ProvideInformation {
            answer: "Twaalf gezinnen.".into(),
        },
        t0() + Duration::days(3),
        &p,
    )
    .unwrap();
    assert_eq!(answered.to_state, CaseState::AtNationalRepresentative);
    assert_eq!(answered.effect.assignee, Some(NR));
    assert_eq!(answered.effect.deadline, Some(t0() + Duration::days(13)));
}

// ---- property tests over random sequences of actions ----

fn actors() -> Vec<Principal> {
    let mut v = cast();
    v.push(principal(8, Role::NationalRepresentative, &[AREA]));
    v.push(principal(9, Role::ProgrammeBureau, &["RTZ"]));
    v.push(principal(10, Role::Professional, &[AREA]));
    v
}

fn arb_command() -> impl Strategy<Value = (Command, Facts)> {
    let text = prop_oneof![
        Just(String::new()),
        Just("Goede reden om dit te doen.".to_string()),
        Just("BSN 111222333".to_string()),
    ];
    let outcome = prop::sample::select(Outcome::ALL.to_vec());
    let funds = prop_oneof![
        Just(None),
        Just(Some(Decimal::new(12_345, 2))),
        Just(Some(Decimal::ZERO))
    ];
    let target = prop::sample::select(CaseState::ALL.to_vec());
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
    let dates = prop_oneof![
        Just(DecisionDates::default()),
        Just(DecisionDates {
            effective_from: day(2027, 1, 1),
            ..DecisionDates::default()
        }),
        Just(DecisionDates {
            experiment_ends: day(2028, 6, 30),
            evaluation_date: day(2028, 1, 15),
            ..DecisionDates::default()
        }),
    ];
    let plain = |c: Command| (c, Facts::default());
    prop_oneof![
        Just(plain(Command::PickUp)),
        Just(plain(Command::Release)),
        text.clone()
            .prop_map(move |question| plain(Command::RequestInformation { question })),
        text.clone()
            .prop_map(move |answer| plain(Command::ProvideInformation { answer })),
        text.clone()
            .prop_map(move |motivation| plain(Command::Escalate { motivation })),
        text.clone()
            .prop_map(move |motivation| plain(Command::ReferBack { motivation })),
        (outcome, text.clone(), funds, dates, any::<bool>()).prop_map(
            |(outcome, explanation, funds_unlocked, dates, decided_barrier)| (
                Command::Resolve {
                    outcome,
                    explanation,
                    funds_unlocked,
                    dates,
                },
                Facts {
                    barrier: decided_barrier.then_some((1, BarrierStatus::BreakthroughDecided)),
                    ..Facts::default()
                }
            )
        ),
        text.clone()
            .prop_map(move |explanation| plain(Command::CloseNoBreakthrough { explanation })),
        text.clone()
            .prop_map(move |reason| plain(Command::Reject { reason })),
        (prop_oneof![Just(10i64), Just(11i64)], target).prop_map(|(id, state)| (
            Command::Merge { into: id },
            Facts {
                merge_target: Some(MergeTarget { id, state }),
                ..Facts::default()
            }
        )),
        text.clone()
            .prop_map(move |reason| plain(Command::Withdraw { reason })),
        text.prop_map(move |reason| plain(Command::Contest { reason })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_sequences_keep_the_invariants(
        steps in prop::collection::vec((0usize..10, arb_command(), 0i64..20), 1..60)
    ) {
        let actors = actors();
        let (mut case, mut events) = submitted();
        let mut now = t0();
        for (who, (command, facts), hours) in steps {
            now += Duration::hours(hours * 12);
            let p = &actors[who];
            let before = case.status.clone();
            match decide(&case, p, &command, &facts, now, &Policy::default()) {
                Ok(Decision { event: e, .. }) => {
                    prop_assert_eq!(e.from_state, Some(before.state));
                    case.status = apply(Some(&before), &e);
                    events.push(e);
                    prop_assert_eq!(case.status.version, before.version + 1);
                }
                Err(_) => prop_assert_eq!(&case.status, &before),
            }
            let s = &case.status;
            if let Some(level) = s.state.active_level() {
                prop_assert_eq!(level, s.level, "level matches the state");
                prop_assert!(s.deadline.is_some());
            }
            if s.state == CaseState::AwaitingInformation {
                prop_assert!(s.paused_at.is_some());
            }
            if !s.state.is_open() {
                prop_assert_eq!(s.deadline, None);
            }
            prop_assert!(s.highest_level >= s.level);
            prop_assert_eq!(s.version as usize, events.len());
            let rebuilt = replay(&events);
            prop_assert_eq!(rebuilt.as_ref(), Some(s), "replay rebuilds the case");
        }
    }
}

// ---- the register's rules, deadlines by themselves, time per level ----

#[test]
fn barriers_follow_national_decisions_only() {
    let c = cast();
    let p = Policy::default();
    let mut at_nr = case_in(CaseState::AtNationalRepresentative);
    at_nr.status.barrier = Some(5);
    let structural = decided(
        &at_nr,
        &c[3],
        &Command::Resolve {
            outcome: Outcome::StructuralBreakthrough,
            explanation: "De regel verandert.".into(),
            funds_unlocked: None,
            dates: DecisionDates {
                effective_from: chrono::NaiveDate::from_ymd_opt(2027, 1, 1),
                ..DecisionDates::default()
            },
        },
        t0(),
        &p,
    )
    .unwrap();
    assert_eq!(
        structural.effect.barrier,
        Some(5),
        "the link survives every event"
    );
    assert_eq!(
        barrier_status_after(BarrierStatus::Open, &structural),
        Some(BarrierStatus::BreakthroughDecided)
    );
    assert_eq!(
        barrier_status_after(BarrierStatus::Implemented, &structural),
        None
    );
    let no = decided(
        &at_nr,
        &c[3],
        &Command::CloseNoBreakthrough {
            explanation: "Blijft zo.".into(),
        },
        t0(),
        &p,
    )
    .unwrap();
    assert_eq!(
        barrier_status_after(BarrierStatus::Open, &no),
        Some(BarrierStatus::NoBreakthrough)
    );
    let local_no = decided(
        &case_in(CaseState::AtProgrammeBureau),
        &c[1],
        &Command::CloseNoBreakthrough {
            explanation: "Lokaal niet.".into(),
        },
        t0(),
        &p,
    )
    .unwrap();
    assert_eq!(
        barrier_status_after(BarrierStatus::Open, &local_no),
        None,
        "a local no does not speak for the Rijk"
    );
}

#[test]
fn linking_is_for_the_bureau_and_the_holding_representative() {
    let c = cast();
    let at_pb = case_in(CaseState::AtProgrammeBureau);
    assert!(link_barrier(&at_pb, &c[1], 3, t0()).is_ok());
    assert!(matches!(
        link_barrier(&at_pb, &c[0], 3, t0()),
        Err(Refusal::Forbidden(_))
    ));
    assert!(matches!(
        link_barrier(&at_pb, &c[3], 3, t0()),
        Err(Refusal::InvalidTransition(_))
    ));
    let at_nr = case_in(CaseState::AtNationalRepresentative);
    let e = link_barrier(&at_nr, &c[3], 3, t0()).unwrap();
    assert_eq!(
        (e.to_state, e.effect.barrier),
        (CaseState::AtNationalRepresentative, Some(3))
    );
    let colleague = principal(9, Role::NationalRepresentative, &[AREA]);
    assert!(matches!(
        link_barrier(&at_nr, &colleague, 3, t0()),
        Err(Refusal::Forbidden(_))
    ));
    assert!(link_barrier(&case_in(CaseState::Resolved), &c[3], 3, t0()).is_err());
}

#[test]
fn a_level_escalates_by_itself_only_when_configured_and_overdue() {
    let system = principal(99, Role::Administrator, &[]);
    let case = case_in(CaseState::AtProgrammeBureau); // deadline t0 + 10 days
    let mut p = Policy::default();
    let late = t0() + Duration::days(11);
    assert_eq!(
        auto_escalation(&case, &system, &Facts::default(), late, &p).map(|d| d.event),
        None,
        "not configured"
    );
    p.auto_escalate[Level::ProgrammeBureau as usize] = true;
    assert_eq!(
        auto_escalation(
            &case,
            &system,
            &Facts::default(),
            t0() + Duration::days(9),
            &p
        )
        .map(|d| d.event),
        None,
        "not overdue"
    );
    let e = auto_escalation(&case, &system, &Facts::default(), late, &p)
        .map(|d| d.event)
        .unwrap();
    assert_eq!(
        (e.to_state, e.effect.level),
        (CaseState::AtAlliance, Level::Alliance)
    );
    assert_eq!(e.effect.deadline, Some(late + Duration::days(42)));
    let waiting = case_in(CaseState::AwaitingInformation);
    assert_eq!(
        auto_escalation(&waiting, &system, &Facts::default(), late, &p).map(|d| d.event),
        None,
        "the clock is paused"
    );
    p.auto_escalate[Level::BreakthroughMeeting as usize] = true;
    let top = case_in(CaseState::AtBreakthroughMeeting);
    assert_eq!(
        auto_escalation(&top, &system, &Facts::default(), late, &p).map(|d| d.event),
        None,
        "nothing above the top"
    );
}

#[test]
fn time_per_level_leaves_out_waiting() {
    let c = cast();
    let (mut case, mut events) = submitted();
    let day = |n| t0() + Duration::days(n);
    let m = |s: &str| s.to_string();
    step(
        &mut case,
        &mut events,
        &c[1],
        Command::RequestInformation {
            question: m("Welke?"),
        },
        day(2),
    );
    step(
        &mut case,
        &mut events,
        &c[0],
        Command::ProvideInformation { answer: m("Deze.") },
        day(5),
    );
    step(
        &mut case,
        &mut events,
        &c[1],
        Command::Escalate {
            motivation: m("Verder."),
        },
        day(7),
    );
    step(
        &mut case,
        &mut events,
        &c[2],
        Command::ReferBack {
            motivation: m("Terug."),
        },
        day(17),
    );
    step(
        &mut case,
        &mut events,
        &c[1],
        Command::Escalate {
            motivation: m("Weer."),
        },
        day(18),
    );
    let d = level_durations(&events);
    assert_eq!(
        d,
        vec![
            (Level::ProgrammeBureau, Duration::days(4 + 1)),
            (Level::Alliance, Duration::days(10)),
        ],
        "at the bureau 7 days minus 3 waiting, plus 1 after the referral; at the alliance 10"
    );
}

/// Who reads what (DOMAIN.md), pinned like the transitions: for each reader
/// and each relation of a case to them, may they read it in full (F), as a
/// summary through a barrier of SZW (S), or not at all (-)? And which
/// barriers may they read?
#[test]
fn who_reads_what_is_pinned() {
    let mut analyst_szw = principal(6, Role::MinistryAnalyst, &[]);
    analyst_szw.ministry = Some("SZW".into());
    let mut analyst_ocw = principal(9, Role::MinistryAnalyst, &[]);
    analyst_ocw.ministry = Some("OCW".into());
    let mut rep = principal(NR, Role::NationalRepresentative, &[AREA]);
    rep.ministry = Some("OCW".into());
    let readers = [
        (
            "professional",
            principal(SUBMITTER, Role::Professional, &[AREA]),
        ),
        ("bureau", principal(2, Role::ProgrammeBureau, &[AREA])),
        ("secretary", principal(3, Role::AllianceSecretary, &[AREA])),
        ("representative", rep),
        (
            "secretariat",
            principal(5, Role::BreakthroughSecretariat, &[]),
        ),
        ("analyst SZW", analyst_szw),
        ("analyst OCW", analyst_ocw),
        ("administrator", principal(7, Role::Administrator, &[])),
    ];
    // The case's relation to the readers: (submitter, area, reached the
    // breakthrough meeting).
    let relations = [
        ("own, here", SUBMITTER, AREA, false),
        ("someone else's, here", 99, AREA, false),
        ("someone else's, elsewhere", 99, "RTZ", false),
        ("elsewhere, at The Hague", 99, "RTZ", true),
        ("own, at The Hague", SUBMITTER, AREA, true),
    ];
    // One row per reader, one column per relation.
    let table = [
        ("professional", "F - - - F"),
        ("bureau", "F F S S F"),
        ("secretary", "F F S S F"),
        ("representative", "F F S S F"),
        ("secretariat", "S S S F F"),
        ("analyst SZW", "S S S S S"),
        ("analyst OCW", "- - - - -"),
        ("administrator", "F F F F F"),
    ];
    for ((name, reader), (row_name, row)) in readers.iter().zip(table) {
        assert_eq!(*name, row_name);
        let got: Vec<&str> = relations
            .iter()
            .map(|(_, submitter, area, reached)| {
                let mut c = case_in(CaseState::AtProgrammeBureau);
                c.facts.submitted_by = *submitter;
                c.facts.focus_area = (*area).to_owned();
                if *reached {
                    c.status.highest_level = Level::BreakthroughMeeting;
                }
                if may_read(reader, &c) {
                    assert!(may_read_summary(reader, &c, "SZW"), "full implies summary");
                    "F"
                } else if may_read_summary(reader, &c, "SZW") {
                    "S"
                } else {
                    "-"
                }
            })
            .collect();
        assert_eq!(got.join(" "), row, "{name}");
    }
    // Barriers: owned by SZW, with a case of the professional's or not.
    let barrier_table = [
        ("professional", "yes no"),
        ("bureau", "yes yes"),
        ("secretary", "yes yes"),
        ("representative", "yes yes"),
        ("secretariat", "yes yes"),
        ("analyst SZW", "yes yes"),
        ("analyst OCW", "no no"),
        ("administrator", "yes yes"),
    ];
    for ((name, reader), (row_name, row)) in readers.iter().zip(barrier_table) {
        assert_eq!(*name, row_name);
        let got: Vec<&str> = [&[SUBMITTER, 99][..], &[99][..]]
            .iter()
            .map(|subs| {
                if may_read_barrier(reader, "SZW", subs) {
                    "yes"
                } else {
                    "no"
                }
            })
            .collect();
        assert_eq!(got.join(" "), row, "{name}");
        // The scope a store filters by agrees with the predicate.
        let scope = barrier_scope(reader);
        let agrees = match &scope {
            BarrierScope::All => true,
            BarrierScope::Ministry(m) => reader.ministry.as_deref() == Some(m.as_str()),
            BarrierScope::SubmittedBy(id) => *id == reader.id,
            BarrierScope::Nothing => !may_read_barrier(reader, "SZW", &[reader.id]),
        };
        assert!(agrees, "{name}: {scope:?}");
    }
}

/// The core's decision is whole: the event already names the meeting it
/// was decided in, and the follow-ups say what else the transaction
/// changes. Nothing is left for the engine or the store to fill in.
#[test]
fn a_decision_carries_its_follow_ups() {
    let c = cast();
    let now = t0() + Duration::days(1);
    let policy = Policy::default();
    let on_agenda = Facts {
        agenda_item: Some(AgendaRef {
            item: 7,
            meeting: 3,
        }),
        barrier: Some((5, BarrierStatus::Open)),
        merge_target: None,
    };
    // Escalating to the alliance puts the case on its area's next meeting.
    let d = decide(
        &case_in(CaseState::AtProgrammeBureau),
        &c[1],
        &command(CaseAction::Escalate),
        &Facts::default(),
        now,
        &policy,
    )
    .unwrap();
    assert_eq!(
        d.follow_up.place_on_agenda,
        Some(AgendaPlace {
            level: Level::Alliance,
            area: Some(AREA.into())
        })
    );
    assert_eq!((d.event.meeting, d.follow_up.decide_item), (None, None));
    // The alliance resolves: the agenda item is decided, the event names the
    // meeting, the precedent is indexed; an incidental breakthrough leaves
    // the barrier open.
    let d = decide(
        &case_in(CaseState::AtAlliance),
        &c[2],
        &command(CaseAction::Resolve),
        &on_agenda,
        now,
        &policy,
    )
    .unwrap();
    assert_eq!(d.event.meeting, Some(3));
    assert_eq!(
        d.follow_up.decide_item,
        Some(ItemDecision {
            item: 7,
            action: EventAction::Case(CaseAction::Resolve),
            note: d.event.note.clone()
        })
    );
    assert_eq!(d.follow_up.precedent, PrecedentChange::Index);
    assert_eq!(d.follow_up.barrier, None);
    // Asking for information keeps the item open.
    let d = decide(
        &case_in(CaseState::AtAlliance),
        &c[2],
        &command(CaseAction::RequestInformation),
        &on_agenda,
        now,
        &policy,
    )
    .unwrap();
    assert_eq!((d.event.meeting, d.follow_up.decide_item), (None, None));
    // A structural breakthrough at the representative decides the barrier.
    let structural = Command::Resolve {
        outcome: Outcome::StructuralBreakthrough,
        explanation: "De regeling wordt aangepast.".into(),
        funds_unlocked: None,
        dates: DecisionDates {
            effective_from: chrono::NaiveDate::from_ymd_opt(2027, 1, 1),
            ..DecisionDates::default()
        },
    };
    let d = decide(
        &case_in(CaseState::AtNationalRepresentative),
        &c[3],
        &structural,
        &Facts {
            agenda_item: None,
            ..on_agenda.clone()
        },
        now,
        &policy,
    )
    .unwrap();
    let b = d.follow_up.barrier.expect("the barrier is decided");
    assert_eq!(
        (b.id, b.status, b.effective_from),
        (
            5,
            BarrierStatus::BreakthroughDecided,
            chrono::NaiveDate::from_ymd_opt(2027, 1, 1)
        )
    );
    // Below the representative a national rule is changed only by reference
    // to a barrier that already has its breakthrough.
    let mut at_pb = case_in(CaseState::AtProgrammeBureau);
    at_pb.facts.rule.scope = RuleScope::National;
    assert!(decide(&at_pb, &c[1], &structural, &Facts::default(), now, &policy).is_err());
    let decided = Facts {
        barrier: Some((5, BarrierStatus::Implemented)),
        ..Facts::default()
    };
    assert!(decide(&at_pb, &c[1], &structural, &decided, now, &policy).is_ok());
}

/// The rest of "Who reads what", pinned per role: meetings of the
/// reader's area and national ones, statistics of the reader's ministry and
/// another's, names of others, earlier answers.
#[test]
fn meetings_statistics_names_and_precedents_are_pinned() {
    let mut analyst = principal(6, Role::MinistryAnalyst, &[]);
    analyst.ministry = Some("SZW".into());
    let mut rep = principal(NR, Role::NationalRepresentative, &[AREA]);
    rep.ministry = Some("SZW".into());
    let readers = [
        principal(SUBMITTER, Role::Professional, &[AREA]),
        principal(2, Role::ProgrammeBureau, &[AREA]),
        principal(3, Role::AllianceSecretary, &[AREA]),
        rep,
        principal(5, Role::BreakthroughSecretariat, &[]),
        analyst,
        principal(7, Role::Administrator, &[]),
    ];
    // Columns: alliance meeting here, alliance meeting elsewhere, the
    // breakthrough meeting, statistics of SZW, of OCW, another's name,
    // earlier answers.
    let table = [
        "- - - - - - y",
        "y - - - - y y",
        "y - - - - y y",
        "y - - y - y y",
        "- - y y y y y",
        "- - - y - y y",
        "y y y y y y y",
    ];
    let yn = |b: bool| if b { "y" } else { "-" };
    for (reader, row) in readers.iter().zip(table) {
        let got = [
            may_read_meeting(reader, Level::Alliance, Some(AREA)),
            may_read_meeting(reader, Level::Alliance, Some("RTZ")),
            may_read_meeting(reader, Level::BreakthroughMeeting, None),
            may_read_statistics(reader, "SZW"),
            may_read_statistics(reader, "OCW"),
            may_see_name(reader, 99),
            may_search_precedents(reader),
        ]
        .map(yn)
        .join(" ");
        assert_eq!(got, row, "{:?}", reader.role);
        assert!(may_see_name(reader, reader.id), "everyone sees themselves");
    }
}

#[test]
fn a_handlers_queue_is_the_level_their_role_handles() {
    use doorbraak_core::{Level, Role, handled_level, handler_role};
    for level in Level::ALL {
        assert_eq!(handled_level(handler_role(*level)), Some(*level));
    }
    for role in [
        Role::Professional,
        Role::MinistryAnalyst,
        Role::Administrator,
    ] {
        assert_eq!(handled_level(role), None);
    }
}
