//! `doorbraak demo`: example people and cases, so a newcomer sees full
//! pages at once. Everything goes through the engine, as the pages would
//! do it: the cases climb the ladder by real transitions, so their events
//! replay to their state. It prints each person's access code.

use crate::{BarrierChoice, CommandInput, Engine, EngineError, UserInput, UserRecord};
use chrono::TimeDelta;
use doorbraak_core::{
    Case, DecisionDates, Level, Outcome, PolicyDomain, Principal, Role, RuleScope, SubmitInput,
    Urgency,
};

type Result<T> = std::result::Result<T, EngineError>;

/// A person of the demo with their access code.
pub struct DemoUser {
    pub role: Role,
    pub name: String,
    pub code: String,
}

struct Cast {
    prof: Principal,
    prof2: Principal,
    pb: Principal,
    secretary: Principal,
    rep: Principal,
    secretariat: Principal,
}

fn input(
    area: &str,
    title: &str,
    citation: &str,
    ministry: &str,
    domains: &[PolicyDomain],
    cost: Option<i64>,
) -> SubmitInput {
    SubmitInput {
        title: title.to_owned(),
        description: format!(
            "{title}. Een gezin in de wijk loopt hier tegenaan; de regel laat geen ruimte voor wat nodig is, en het wachten kost het gezin geld en rust."
        ),
        focus_area: area.to_owned(),
        domains: domains.to_vec(),
        rule_citation: citation.to_owned(),
        rule_bwb_id: None,
        rule_scope: Some(RuleScope::National),
        rule_owning_ministry: Some(ministry.to_owned()),
        desired_action: "Maatwerk bieden zodat het gezin verder kan, zonder dat het er financieel op achteruitgaat.".to_owned(),
        households_affected: Some(12),
        estimated_cost: cost.map(|c| rust_decimal::Decimal::new(c, 0)),
        urgency: Urgency::Normal,
    }
}

async fn step(engine: &Engine, p: &Principal, c: Case, cmd: CommandInput) -> Result<Case> {
    engine.act(p, c.id, c.status.version, cmd).await
}

impl Engine {
    /// Creates the demo's people and cases; returns the people with codes.
    /// No caller to check: the operator's command line, like
    /// [`Engine::create_user`].
    pub async fn fill_demo(&self) -> Result<Vec<DemoUser>> {
        fill(self).await
    }
}

async fn fill(engine: &Engine) -> Result<Vec<DemoUser>> {
    let people: [(Role, &str, &[&str], Option<&str>); 7] = [
        (
            Role::Professional,
            "Petra de Jong (jongerenwerker)",
            &["ZDO"],
            None,
        ),
        (
            Role::Professional,
            "Karim El Amrani (wijkagent)",
            &["RTZ"],
            None,
        ),
        (
            Role::ProgrammeBureau,
            "Bram Visser (programmabureau)",
            &["ZDO", "RTZ"],
            None,
        ),
        (
            Role::AllianceSecretary,
            "Sanne Bakker (alliantie Zaandam)",
            &["ZDO"],
            None,
        ),
        (
            Role::NationalRepresentative,
            "Rik Smit (rijksvertegenwoordiger)",
            &["ZDO", "RTZ"],
            Some("SZW"),
        ),
        (
            Role::BreakthroughSecretariat,
            "Dewi Kok (secretariaat doorbraakoverleg)",
            &[],
            None,
        ),
        (
            Role::MinistryAnalyst,
            "Anna Mulder (analist SZW)",
            &[],
            Some("SZW"),
        ),
    ];
    let mut out = Vec::new();
    let mut records: Vec<UserRecord> = Vec::new();
    for (role, name, areas, ministry) in people {
        let (u, code) = engine
            .create_user_with(&UserInput {
                name: name.to_owned(),
                role,
                areas: areas.iter().map(|a| (*a).to_owned()).collect(),
                ministry: ministry.map(str::to_owned),
                email: None,
            })
            .await?;
        out.push(DemoUser {
            role,
            name: name.to_owned(),
            code,
        });
        records.push(u);
    }
    let (admin, admin_code) = engine
        .create_user("Beheerder (demo)", Role::Administrator, &[], None)
        .await?;
    out.push(DemoUser {
        role: admin.role,
        name: admin.name,
        code: admin_code,
    });
    let c = Cast {
        prof: records[0].principal(),
        prof2: records[1].principal(),
        pb: records[2].principal(),
        secretary: records[3].principal(),
        rep: records[4].principal(),
        secretariat: records[5].principal(),
    };
    use PolicyDomain::*;
    let kdn = "Participatiewet, artikel 22a (kostendelersnorm)";
    let submit = |p: &Principal, i: SubmitInput| {
        let p = p.clone();
        async move { engine.submit(&p, &i).await }
    };

    // 1. Already possible: resolved at the programme bureau, linked to a barrier.
    let a = submit(
        &c.prof,
        input(
            "ZDO",
            "Inwonende student telt als kostendeler",
            kdn,
            "SZW",
            &[WorkIncome, Housing],
            None,
        ),
    )
    .await?;
    let a = step(engine, &c.pb, a, CommandInput::PickUp).await?;
    let a = engine
        .link_barrier(
            &c.pb,
            a.id,
            a.status.version,
            BarrierChoice::New {
                citation: kdn.to_owned(),
                bwb_id: None,
                scope: RuleScope::National,
                owning_ministry: "SZW".to_owned(),
            },
            false,
        )
        .await?
        .0;
    let barrier = a.status.barrier;
    step(engine, &c.pb, a, CommandInput::Resolve {
        outcome: Outcome::AlreadyPossible,
        explanation: "Een studerend kind met studiefinanciering telt niet mee als kostendeler. De gemeente kan dit direct toepassen.".to_owned(),
        funds_unlocked: None,
        dates: DecisionDates::default(),
    })
    .await?;

    // 2. New in the queue; 3. waiting for the professional's answer.
    submit(
        &c.prof,
        input(
            "ZDO",
            "Schoolspullen tellen als inkomen bij de toeslag",
            "Wet op het kindgebonden budget, artikel 2",
            "SZW",
            &[Education, DebtPoverty],
            Some(450),
        ),
    )
    .await?;
    let q = submit(
        &c.prof2,
        input(
            "RTZ",
            "Jongere mag niet bijverdienen naast de uitkering van zijn moeder",
            kdn,
            "SZW",
            &[WorkIncome, Youth],
            None,
        ),
    )
    .await?;
    let q = step(engine, &c.pb, q, CommandInput::PickUp).await?;
    step(
        engine,
        &c.pb,
        q,
        CommandInput::RequestInformation {
            question: "Hoe oud is de jongere, en hoeveel uur per week werkt hij?".to_owned(),
        },
    )
    .await?;

    // 4. At the alliance, on the agenda of its next meeting.
    let al = submit(
        &c.prof,
        input(
            "ZDO",
            "Schuldhulp stopt bij verhuizing naar een andere gemeente",
            "Wet gemeentelijke schuldhulpverlening, artikel 3",
            "SZW",
            &[DebtPoverty, Housing],
            Some(12_500),
        ),
    )
    .await?;
    let al = step(engine, &c.pb, al, CommandInput::PickUp).await?;
    step(
        engine,
        &c.pb,
        al,
        CommandInput::Escalate {
            motivation: "Speelt in meer wijken; de alliantie moet hierover besluiten.".to_owned(),
        },
    )
    .await?;

    // 5. The whole ladder: decided at the breakthrough meeting.
    let top = submit(
        &c.prof,
        input(
            "ZDO",
            "Bijverdienen van een jongere verlaagt de bijstand van het gezin",
            kdn,
            "SZW",
            &[WorkIncome, Youth],
            Some(250_000),
        ),
    )
    .await?;
    let top = step(engine, &c.pb, top, CommandInput::PickUp).await?;
    let top = match barrier {
        Some(b) => {
            engine
                .link_barrier(
                    &c.pb,
                    top.id,
                    top.status.version,
                    BarrierChoice::Existing(b),
                    false,
                )
                .await?
                .0
        }
        None => top,
    };
    let top = step(
        engine,
        &c.pb,
        top,
        CommandInput::Escalate {
            motivation: "Landelijke regel; graag naar de alliantie.".to_owned(),
        },
    )
    .await?;
    let meeting = engine
        .schedule_meeting(
            &c.secretary,
            Level::Alliance,
            Some("ZDO"),
            engine.now() + TimeDelta::days(7),
        )
        .await?;
    let top = step(
        engine,
        &c.secretary,
        top,
        CommandInput::Escalate {
            motivation: "De alliantie kan dit niet zelf oplossen.".to_owned(),
        },
    )
    .await?;
    let top = step(engine, &c.rep, top, CommandInput::PickUp).await?;
    let top = step(
        engine,
        &c.rep,
        top,
        CommandInput::Escalate {
            motivation: "Alleen het doorbraakoverleg kan dit voor alle gemeenten regelen."
                .to_owned(),
        },
    )
    .await?;
    let national = engine
        .schedule_meeting(
            &c.secretariat,
            Level::BreakthroughMeeting,
            None,
            engine.now() + TimeDelta::days(14),
        )
        .await?;
    step(engine, &c.secretariat, top, CommandInput::Resolve {
        outcome: Outcome::StructuralBreakthrough,
        explanation: "Het inkomen van jongeren onder de 27 telt niet meer mee voor de bijstand van hun ouders.".to_owned(),
        funds_unlocked: None,
        dates: DecisionDates {
            effective_from: Some((engine.now() + TimeDelta::days(90)).date_naive()),
            ..DecisionDates::default()
        },
    })
    .await?;
    engine.close_meeting(&c.secretariat, national.id).await?;
    let _ = meeting;

    // 6. With the national representative; 7. rejected.
    let nr = submit(
        &c.prof2,
        input(
            "RTZ",
            "Mantelzorger verliest toeslag door tijdelijke inwoning",
            "Algemene wet inkomensafhankelijke regelingen, artikel 3",
            "SZW",
            &[HealthCare, Housing],
            Some(3_000),
        ),
    )
    .await?;
    let nr = step(engine, &c.pb, nr, CommandInput::PickUp).await?;
    let _ = nr;
    let rej = submit(
        &c.prof,
        input(
            "ZDO",
            "Sportclub wil langere openingstijden",
            "Algemene plaatselijke verordening Zaanstad, artikel 2:30",
            "BZK",
            &[Other],
            None,
        ),
    )
    .await?;
    let rej = step(engine, &c.pb, rej, CommandInput::PickUp).await?;
    step(engine, &c.pb, rej, CommandInput::Reject { reason: "Dit is een vraag voor de gemeente zelf, geen regel die een professional tegenhoudt.".to_owned() }).await?;
    Ok(out)
}
