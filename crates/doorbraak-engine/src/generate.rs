//! `doorbraak generate --cases N [--seed S]`: realistic data in bulk.
//!
//! The generator is a discrete-event simulation over the core's own rules.
//! Each case is submitted (`NewCase::parse`, `submission_event`) and then
//! moves by commands that [`doorbraak_core::decide`] rules on, one step at a
//! time in global time order, with the facts the engine would have looked
//! up (the case's barrier as it stands at that moment, its open agenda
//! item). Every event is folded with [`doorbraak_core::apply`], so the
//! stored status is the replay of the stored log. Follow-ups are applied as
//! the store applies them: barrier changes, agenda items decided or added
//! (on the first meeting still open), precedent entries. Only the writing
//! differs: rows go to the database in large multi-row inserts, a batch of
//! finished cases at a time (see the store's `bulk.rs`).
//!
//! The cast (programme bureaus, alliances, representatives, the
//! secretariat, analysts, professionals) is created through the engine
//! first. Meetings are planned over the whole period: an alliance meeting
//! per area every six weeks, a breakthrough meeting every four weeks; the
//! past ones are closed, every item on them decided.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use chrono::{Datelike, TimeDelta};
use doorbraak_core::{
    AgendaRef, BarrierChange, BarrierStatus, Case, CaseFacts, CaseReference, CaseState, Command,
    DecisionDates, Event, Facts, Level, NewCase, Outcome, PolicyDomain, PrecedentChange, Principal,
    Role, RuleScope, SubmitInput, Timestamp, Urgency, apply, check_link, decide, link_event,
    submission_event,
};
use doorbraak_store::{
    GeneratedBarrier, GeneratedCase, GeneratedItem, GeneratedMeeting, NewBarrier,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Engine, EngineError, UserInput};

type Result<T> = std::result::Result<T, EngineError>;

/// What a generation wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenerateReport {
    pub cases: usize,
    pub events: usize,
    pub barriers: usize,
    pub meetings: usize,
    pub agenda_items: usize,
    /// Resolved cases written into the precedent search's index.
    pub precedents: usize,
    pub users: usize,
}

impl GenerateReport {
    /// The rows written, the people aside (their set-up is not what the
    /// generator's rate is about).
    pub fn rows(&self) -> usize {
        self.cases
            + self.events
            + self.barriers
            + self.meetings
            + self.agenda_items
            + self.precedents
    }
}

/// Years of history the cases are spread over, up to now.
const YEARS: i64 = 4;
/// Finished cases written per transaction.
const BATCH: usize = 10_000;
/// Rules each ministry's cases cite (the barriers they can become).
const RULES_PER_MINISTRY: usize = 40;

struct Cast {
    professionals: HashMap<String, Vec<Principal>>,
    bureau: HashMap<String, Principal>,
    secretary: HashMap<String, Principal>,
    representative: HashMap<String, Principal>,
    secretariat: Principal,
    users: usize,
}

/// A batch being written.
type Writing = tokio::task::JoinHandle<std::result::Result<(), doorbraak_store::StoreError>>;

/// Waits for a batch to be written.
async fn written(w: Option<Writing>) -> Result<()> {
    match w {
        Some(w) => Ok(w
            .await
            .map_err(|e| EngineError::Internal(format!("the writer failed: {e}")))??),
        None => Ok(()),
    }
}

struct Sim {
    id: i64,
    case: Case,
    new: NewCase,
    submitter: Principal,
    events: Vec<Event>,
    items: Vec<GeneratedItem>,
    /// Index in `items` of the open agenda item, if any.
    open_item: Option<usize>,
    asked: bool,
    precedent: bool,
}

fn ms(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.random_range(0..v.len())]
}

fn days(rng: &mut StdRng, from: f64, to: f64) -> TimeDelta {
    TimeDelta::minutes((rng.random_range(from..to) * 1440.0) as i64)
}

const DOMAINS: [PolicyDomain; 8] = [
    PolicyDomain::Education,
    PolicyDomain::WorkIncome,
    PolicyDomain::DebtPoverty,
    PolicyDomain::Housing,
    PolicyDomain::HealthCare,
    PolicyDomain::Youth,
    PolicyDomain::Safety,
    PolicyDomain::Other,
];

/// What each level resolves with, most often.
const LOCAL_OUTCOMES: [Outcome; 3] = [
    Outcome::AlreadyPossible,
    Outcome::IncidentalBreakthrough,
    Outcome::FundingUnlocked,
];
const NATIONAL_OUTCOMES: [Outcome; 4] = [
    Outcome::StructuralBreakthrough,
    Outcome::Experiment,
    Outcome::IncidentalBreakthrough,
    Outcome::FundingUnlocked,
];
const MEETING_OUTCOMES: [Outcome; 3] = [
    Outcome::StructuralBreakthrough,
    Outcome::Experiment,
    Outcome::FundingUnlocked,
];

const TOPICS: [&str; 12] = [
    "Toeslag terugbetalen blokkeert schuldhulp",
    "Jongere valt tussen jeugdzorg en Wmo",
    "Urgentie woning geweigerd door inschrijfduur",
    "Bijverdienen kost de uitkering",
    "Kostendelersnorm houdt gezin uit elkaar",
    "Schoolkosten niet vergoed bij verhuizing",
    "Beslagvrije voet te laag berekend",
    "Re-integratietraject stopt bij verhuizing",
    "Zorgverzekering loopt af na detentie",
    "Leerplicht botst met zorgtraject",
    "Huurachterstand door late uitbetaling",
    "Taalcursus telt niet als werkzoekend",
];

impl Engine {
    /// Fills the database with `cases` realistic cases; see the module.
    /// An operator's command (no caller to check), like `fill_demo`.
    pub async fn generate(&self, cases: usize, seed: u64) -> Result<GenerateReport> {
        let mut rng = StdRng::seed_from_u64(seed);
        let now = self.now();
        let start = now - TimeDelta::days(365 * YEARS);
        let policy = self.policy();
        let reference = self.reference();
        let areas: Vec<String> = self.focus_areas().into_iter().map(|a| a.code).collect();
        let ministries: Vec<String> = self.ministries().into_iter().map(|m| m.code).collect();
        let rep_ministries: Vec<String> = self
            .ministries()
            .into_iter()
            .filter(|m| m.provides_representative)
            .map(|m| m.code)
            .collect();
        if areas.is_empty() || ministries.is_empty() || rep_ministries.is_empty() {
            return Err(EngineError::Internal(
                "the reference data (areas, ministries) is missing".into(),
            ));
        }
        let cast = self
            .cast(&areas, &ministries, &rep_ministries, &mut rng)
            .await?;
        let mut ids = self.store.next_ids().await?;
        let mut report = GenerateReport {
            users: cast.users,
            ..Default::default()
        };

        // Meetings over the whole period and two months ahead.
        let mut meetings: Vec<GeneratedMeeting> = Vec::new();
        let mut plan = |level: Level, area: Option<&str>, every: i64, by: i64, offset: i64| {
            let mut t = start + TimeDelta::days(offset) + TimeDelta::hours(10);
            while t < now + TimeDelta::days(60) {
                let closed = t + TimeDelta::hours(2);
                meetings.push(GeneratedMeeting {
                    id: 0,
                    level,
                    area: area.map(str::to_owned),
                    scheduled_at: t,
                    created_by: by,
                    closed_at: (closed < now).then_some(closed),
                });
                t += TimeDelta::days(every);
            }
        };
        for (n, a) in areas.iter().enumerate() {
            plan(
                Level::Alliance,
                Some(a),
                42,
                cast.secretary[a].id,
                (n % 42) as i64,
            );
        }
        plan(Level::BreakthroughMeeting, None, 28, cast.secretariat.id, 3);
        for m in &mut meetings {
            m.id = ids.meeting;
            ids.meeting += 1;
        }
        self.store.write_generated_meetings(&meetings).await?;
        report.meetings = meetings.len();
        // Per level and area: the meetings, by time.
        let mut agenda: HashMap<(Level, Option<String>), Vec<usize>> = HashMap::new();
        for (i, m) in meetings.iter().enumerate() {
            agenda.entry((m.level, m.area.clone())).or_default().push(i);
        }

        // The rules each ministry's cases cite.
        let rules: HashMap<&str, Vec<String>> = ministries
            .iter()
            .map(|m| {
                let v = (1..=RULES_PER_MINISTRY)
                    .map(|k| format!("Regeling {m} {} art. {k}", 2000 + (k * 7) % 25))
                    .collect();
                (m.as_str(), v)
            })
            .collect();

        // Submission times, in order: case ids follow them, as they would.
        let mut submitted: Vec<i64> = (0..cases)
            .map(|_| rng.random_range(ms(start)..ms(now)))
            .collect();
        submitted.sort_unstable();
        let mut heap: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
        for (i, t) in submitted.iter().enumerate() {
            heap.push(Reverse((*t, i)));
        }
        // The cases in flight, by submission index (taken out while they step).
        let mut sims: Vec<Option<Sim>> = Vec::new();
        sims.resize_with(cases, || None);
        let mut counters: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut barrier_ids: HashMap<String, i64> = HashMap::new();
        let mut barrier_status: HashMap<i64, BarrierStatus> = HashMap::new();
        let mut new_barriers: Vec<GeneratedBarrier> = Vec::new();
        let mut changes: Vec<BarrierChange> = Vec::new();
        let mut finished: Vec<Sim> = Vec::new();
        let mut pending: Option<Writing> = None;

        while let Some(Reverse((at_ms, idx))) = heap.pop() {
            let at = chrono::DateTime::from_timestamp_millis(at_ms)
                .ok_or_else(|| EngineError::Internal("a time out of range".into()))?;
            let mut sim = match sims[idx].take() {
                Some(s) => s,
                None => {
                    let area = pick(&mut rng, &areas).clone();
                    let year = at.year();
                    let key = (area.clone(), year);
                    if !counters.contains_key(&key) {
                        let last = self.store.reference_counter(&area, year).await?;
                        counters.insert(key.clone(), last);
                    }
                    let seq = counters.get_mut(&key).map(|c| {
                        *c += 1;
                        *c
                    });
                    let submitter = pick(&mut rng, &cast.professionals[&area]).clone();
                    let input = self.random_input(&mut rng, &area, &ministries, &rules);
                    let new = NewCase::parse(&submitter, &input, &reference)?;
                    let event = submission_event(&submitter, at, &policy);
                    let status = apply(None, &event);
                    let id = ids.case;
                    ids.case += 1;
                    let facts = CaseFacts {
                        reference: CaseReference::new(&new.focus_area, year, seq.unwrap_or(1))
                            .as_str()
                            .to_owned(),
                        title: new.title.clone(),
                        description: new.description.clone(),
                        focus_area: new.focus_area.as_str().to_owned(),
                        domains: new.domains.clone(),
                        rule: new.rule.clone(),
                        desired_action: new.desired_action.clone(),
                        households_affected: new.households_affected,
                        estimated_cost: new.estimated_cost,
                        urgency: new.urgency,
                        submitted_by: submitter.id,
                        created_at: at,
                    };
                    let sim = Sim {
                        id,
                        case: Case { id, facts, status },
                        new,
                        submitter,
                        events: vec![event],
                        items: Vec::new(),
                        open_item: None,
                        asked: false,
                        precedent: false,
                    };
                    let next = at + days(&mut rng, 0.05, 2.0);
                    if next < now {
                        heap.push(Reverse((ms(next), idx)));
                        sims[idx] = Some(sim);
                    } else {
                        finished.push(sim);
                    }
                    continue;
                }
            };

            // One step of this case, at `at`.
            let next = self.step(
                &mut sim,
                at,
                &cast,
                &mut rng,
                &meetings,
                &agenda,
                &mut ids,
                &mut barrier_ids,
                &mut barrier_status,
                &mut new_barriers,
                &mut changes,
                &policy,
            )?;
            match next {
                Some(t) if t < now => {
                    heap.push(Reverse((ms(t), idx)));
                    sims[idx] = Some(sim);
                }
                _ => finished.push(sim),
            }
            if finished.len() >= BATCH {
                self.flush(&mut finished, &mut new_barriers, &mut report, &mut pending)
                    .await?;
            }
        }
        finished.extend(sims.into_iter().flatten());
        self.flush(&mut finished, &mut new_barriers, &mut report, &mut pending)
            .await?;
        written(pending.take()).await?;
        let counters: Vec<(String, i32, i64)> =
            counters.into_iter().map(|((a, y), l)| (a, y, l)).collect();
        self.store.finish_generated(&changes, &counters).await?;
        Ok(report)
    }

    /// Hands a batch of finished cases to a writer task and returns, so the
    /// simulation goes on while the database writes (on the other core);
    /// batches are written one after another, in order, because a batch
    /// may cite barriers the one before it created.
    async fn flush(
        &self,
        finished: &mut Vec<Sim>,
        barriers: &mut Vec<GeneratedBarrier>,
        report: &mut GenerateReport,
        pending: &mut Option<Writing>,
    ) -> Result<()> {
        finished.sort_by_key(|s| s.id);
        let pairs: Vec<(GeneratedCase, Vec<GeneratedItem>)> = finished
            .drain(..)
            .map(|s| {
                report.events += s.events.len();
                report.agenda_items += s.items.len();
                report.precedents += usize::from(s.precedent);
                let case = GeneratedCase {
                    id: s.id,
                    reference: s.case.facts.reference.clone(),
                    submitted_by: s.submitter.id,
                    created_at: s.case.facts.created_at,
                    status: s.case.status.clone(),
                    events: s.events,
                    precedent: s.precedent,
                    new: s.new,
                };
                (case, s.items)
            })
            .collect();
        let (cases, items): (Vec<GeneratedCase>, Vec<Vec<GeneratedItem>>) =
            pairs.into_iter().unzip();
        let items: Vec<GeneratedItem> = items.into_iter().flatten().collect();
        report.cases += cases.len();
        report.barriers += barriers.len();
        let barriers = std::mem::take(barriers);
        written(pending.take()).await?;
        let store = self.store.clone();
        *pending = Some(tokio::spawn(async move {
            store.write_generated(&barriers, &cases, &items).await
        }));
        Ok(())
    }

    async fn cast(
        &self,
        areas: &[String],
        ministries: &[String],
        rep_ministries: &[String],
        rng: &mut StdRng,
    ) -> Result<Cast> {
        let mut users = 0;
        let mut make =
            async |name: String, role: Role, areas: Vec<String>, ministry: Option<String>| {
                users += 1;
                self.create_user_with(&UserInput {
                    name,
                    role,
                    areas,
                    ministry,
                    email: None,
                })
                .await
                .map(|(u, _)| u.principal())
            };
        let mut cast = Cast {
            professionals: HashMap::new(),
            bureau: HashMap::new(),
            secretary: HashMap::new(),
            representative: HashMap::new(),
            secretariat: make(
                "Secretariaat doorbraakoverleg (gegenereerd)".into(),
                Role::BreakthroughSecretariat,
                vec![],
                None,
            )
            .await?,
            users: 0,
        };
        for a in areas {
            let mut pros = Vec::new();
            for k in 1..=3 {
                pros.push(
                    make(
                        format!("Professional {k} {a} (gegenereerd)"),
                        Role::Professional,
                        vec![a.clone()],
                        None,
                    )
                    .await?,
                );
            }
            cast.professionals.insert(a.clone(), pros);
            cast.bureau.insert(
                a.clone(),
                make(
                    format!("Programmabureau {a} (gegenereerd)"),
                    Role::ProgrammeBureau,
                    vec![a.clone()],
                    None,
                )
                .await?,
            );
            cast.secretary.insert(
                a.clone(),
                make(
                    format!("Alliantie {a} (gegenereerd)"),
                    Role::AllianceSecretary,
                    vec![a.clone()],
                    None,
                )
                .await?,
            );
            let ministry = pick(rng, rep_ministries).clone();
            cast.representative.insert(
                a.clone(),
                make(
                    format!("Rijksvertegenwoordiger {a} (gegenereerd)"),
                    Role::NationalRepresentative,
                    vec![a.clone()],
                    Some(ministry),
                )
                .await?,
            );
        }
        for m in ministries {
            make(
                format!("Analist {m} (gegenereerd)"),
                Role::MinistryAnalyst,
                vec![],
                Some(m.clone()),
            )
            .await?;
        }
        cast.users = users;
        Ok(cast)
    }

    fn random_input(
        &self,
        rng: &mut StdRng,
        area: &str,
        ministries: &[String],
        rules: &HashMap<&str, Vec<String>>,
    ) -> SubmitInput {
        let topic = *pick(rng, &TOPICS);
        let national = rng.random_bool(0.85);
        let ministry = pick(rng, ministries).clone();
        // A few rules are cited far more often than the rest.
        let r = &rules[ministry.as_str()];
        let k = ((rng.random::<f64>().powi(3)) * r.len() as f64) as usize;
        let mut domains = vec![*pick(rng, &DOMAINS)];
        if rng.random_bool(0.3) {
            let d = *pick(rng, &DOMAINS);
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        SubmitInput {
            title: topic.to_owned(),
            description: format!(
                "{topic}. Een huishouden in de wijk loopt hier vast; de regel laat geen ruimte voor wat nodig is."
            ),
            focus_area: area.to_owned(),
            domains,
            rule_citation: if national {
                r[k.min(r.len() - 1)].clone()
            } else {
                format!("Verordening {area} art. {}", rng.random_range(1..30))
            },
            rule_bwb_id: None,
            rule_scope: Some(if national {
                RuleScope::National
            } else {
                RuleScope::Municipal
            }),
            rule_owning_ministry: national.then_some(ministry),
            desired_action: "Ruimte om maatwerk te bieden, zodat het huishouden verder kan.".into(),
            households_affected: Some(rng.random_range(1..40)),
            estimated_cost: rng
                .random_bool(0.5)
                .then(|| rust_decimal::Decimal::new(rng.random_range(10_000..5_000_000), 2)),
            urgency: if rng.random_bool(0.1) {
                Urgency::Urgent
            } else {
                Urgency::Normal
            },
        }
    }

    /// One step of a case at `at`; returns when its next step is due.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        sim: &mut Sim,
        at: Timestamp,
        cast: &Cast,
        rng: &mut StdRng,
        meetings: &[GeneratedMeeting],
        agenda: &HashMap<(Level, Option<String>), Vec<usize>>,
        ids: &mut doorbraak_store::NextIds,
        barrier_ids: &mut HashMap<String, i64>,
        barrier_status: &mut HashMap<i64, BarrierStatus>,
        new_barriers: &mut Vec<GeneratedBarrier>,
        changes: &mut Vec<BarrierChange>,
        policy: &doorbraak_core::Policy,
    ) -> Result<Option<Timestamp>> {
        let area = sim.case.facts.focus_area.clone();
        let s = sim.case.status.clone();
        let handler = match s.level {
            Level::ProgrammeBureau => &cast.bureau[&area],
            Level::Alliance => &cast.secretary[&area],
            Level::NationalRepresentative => &cast.representative[&area],
            Level::BreakthroughMeeting => &cast.secretariat,
        };
        // The engine puts an escalated case on the first meeting still open.
        // A step that could escalate waits until a meeting in session at
        // the next level has closed, so that every item of a closed meeting
        // was decided in it (nothing is carried over).
        let next_level = match s.level {
            Level::ProgrammeBureau => Some((Level::Alliance, Some(area.clone()))),
            Level::NationalRepresentative => Some((Level::BreakthroughMeeting, None)),
            _ => None,
        };
        if let Some(key) = next_level
            && let Some(list) = agenda.get(&key)
            && let Some(&m) = list.iter().find(|&&m| {
                meetings[m].scheduled_at - TimeDelta::hours(1) <= at
                    && meetings[m].scheduled_at + TimeDelta::hours(2) > at
            })
        {
            return Ok(Some(
                meetings[m].scheduled_at + TimeDelta::hours(2) + TimeDelta::minutes(1),
            ));
        }
        let title = sim.case.facts.title.clone();
        let text = |what: &str| {
            format!(
                "{title}: {what} Besproken met de betrokken partijen; het besluit is vastgelegd."
            )
        };
        let (actor, command) = if s.state == CaseState::AwaitingInformation {
            (
                &sim.submitter,
                Command::ProvideInformation {
                    answer: "De gevraagde toelichting staat hierbij.".into(),
                },
            )
        } else if !s.state.is_open() {
            return Ok(None);
        } else if s.assignee.is_none() && !s.level.meets() {
            (handler, Command::PickUp)
        } else if s.level == Level::NationalRepresentative
            && s.barrier.is_none()
            && sim.case.facts.rule.owning_ministry.is_some()
            && check_link(&sim.case, handler, None).is_ok()
        {
            self.link(
                sim,
                at,
                handler,
                ids,
                barrier_ids,
                barrier_status,
                new_barriers,
            )?;
            return Ok(Some(at + days(rng, 0.5, 15.0)));
        } else {
            let roll: f64 = rng.random();
            let resolve = |outcome: Outcome, rng: &mut StdRng| Command::Resolve {
                outcome,
                explanation: text("Opgelost binnen de bestaande ruimte."),
                funds_unlocked: (outcome == Outcome::FundingUnlocked)
                    .then(|| rust_decimal::Decimal::new(rng.random_range(50_000..20_000_000), 2)),
                dates: {
                    let d = at.date_naive();
                    match outcome {
                        Outcome::Experiment => DecisionDates {
                            effective_from: None,
                            experiment_ends: Some(d + TimeDelta::days(365)),
                            evaluation_date: Some(d + TimeDelta::days(300)),
                        },
                        Outcome::StructuralBreakthrough => DecisionDates {
                            effective_from: Some(d + TimeDelta::days(90)),
                            ..DecisionDates::default()
                        },
                        _ => DecisionDates::default(),
                    }
                },
            };
            let close = Command::CloseNoBreakthrough {
                explanation: text("Geen doorbraak mogelijk."),
            };
            let up = Command::Escalate {
                motivation: "Dit vraagt een besluit op een hoger niveau.".into(),
            };
            let cmd = match s.level {
                Level::ProgrammeBureau => {
                    if roll < 0.07 && !sim.asked {
                        sim.asked = true;
                        Command::RequestInformation {
                            question: "Kunt u toelichten wat het huishouden al geprobeerd heeft?"
                                .into(),
                        }
                    } else if roll < 0.25 {
                        resolve(*pick(rng, &LOCAL_OUTCOMES), rng)
                    } else if roll < 0.32 {
                        Command::Reject {
                            reason: "Dit valt buiten de aanpak.".into(),
                        }
                    } else if roll < 0.38 {
                        close
                    } else {
                        up
                    }
                }
                Level::Alliance => {
                    if roll < 0.3 {
                        resolve(*pick(rng, &LOCAL_OUTCOMES), rng)
                    } else if roll < 0.4 {
                        close
                    } else if roll < 0.46 {
                        Command::ReferBack {
                            motivation: "Eerst lokaal uitzoeken.".into(),
                        }
                    } else {
                        up
                    }
                }
                Level::NationalRepresentative => {
                    if roll < 0.25 {
                        resolve(*pick(rng, &NATIONAL_OUTCOMES), rng)
                    } else if roll < 0.35 {
                        close
                    } else {
                        up
                    }
                }
                Level::BreakthroughMeeting => {
                    if roll < 0.6 {
                        resolve(*pick(rng, &MEETING_OUTCOMES), rng)
                    } else {
                        close
                    }
                }
            };
            (handler, cmd)
        };
        let facts = Facts {
            barrier: s.barrier.map(|b| {
                (
                    b,
                    barrier_status
                        .get(&b)
                        .copied()
                        .unwrap_or(BarrierStatus::Open),
                )
            }),
            agenda_item: sim.open_item.map(|i| AgendaRef {
                item: sim.items[i].id,
                meeting: sim.items[i].meeting,
            }),
            merge_target: None,
        };
        let decision = match decide(&sim.case, actor, &command, &facts, at, policy) {
            Ok(d) => d,
            // A decision the rules refuse (a resolution not allowed at this
            // level, say) ends the step with a plain closure instead.
            Err(e) => {
                tracing::debug!(refusal = ?e, action = command.action().as_str(), level = s.level.as_str(), "generate: refused, closing instead");
                decide(
                    &sim.case,
                    actor,
                    &Command::CloseNoBreakthrough {
                        explanation: text("Geen doorbraak mogelijk."),
                    },
                    &facts,
                    at,
                    policy,
                )
                .map_err(|e| EngineError::Internal(format!("the generator broke a rule: {e:?}")))?
            }
        };
        let follow = &decision.follow_up;
        if let Some(d) = &follow.decide_item
            && let Some(i) = sim.open_item.take()
        {
            debug_assert_eq!(sim.items[i].id, d.item);
            sim.items[i].decision = Some((d.action, d.note.clone(), at));
        }
        if let Some(b) = &follow.barrier {
            barrier_status.insert(b.id, b.status);
            changes.push(b.clone());
        }
        match follow.precedent {
            PrecedentChange::Index => sim.precedent = true,
            PrecedentChange::Remove => sim.precedent = false,
            PrecedentChange::None => {}
        }
        sim.case.status = apply(Some(&sim.case.status), &decision.event);
        sim.events.push(decision.event);
        let mut next = at + days(rng, 0.2, 12.0);
        if let Some(place) = &follow.place_on_agenda
            && sim.open_item.is_none()
        {
            let key = (place.level, place.area.clone());
            let found = agenda.get(&key).and_then(|list| {
                list.iter()
                    .copied()
                    .find(|&m| meetings[m].scheduled_at + TimeDelta::hours(2) > at)
            });
            if let Some(m) = found {
                let meeting = &meetings[m];
                sim.items.push(GeneratedItem {
                    id: ids.item,
                    meeting: meeting.id,
                    case: sim.id,
                    added_at: at,
                    decision: None,
                });
                ids.item += 1;
                sim.open_item = Some(sim.items.len() - 1);
                // Decided in the meeting (its two hours, or what is left).
                next = (meeting.scheduled_at + TimeDelta::minutes(rng.random_range(5..100)))
                    .max(at + TimeDelta::minutes(1));
            }
        }
        Ok(Some(next))
    }

    #[allow(clippy::too_many_arguments)]
    fn link(
        &self,
        sim: &mut Sim,
        at: Timestamp,
        by: &Principal,
        ids: &mut doorbraak_store::NextIds,
        barrier_ids: &mut HashMap<String, i64>,
        barrier_status: &mut HashMap<i64, BarrierStatus>,
        new_barriers: &mut Vec<GeneratedBarrier>,
    ) -> Result<()> {
        let rule = &sim.case.facts.rule;
        let Some(ministry) = rule.owning_ministry.clone() else {
            return Ok(());
        };
        let id = match barrier_ids.get(&rule.citation) {
            Some(id) => *id,
            None => {
                let id = ids.barrier;
                ids.barrier += 1;
                new_barriers.push(GeneratedBarrier {
                    id,
                    new: NewBarrier {
                        citation: rule.citation.clone(),
                        bwb_id: rule.bwb_id.clone(),
                        scope: rule.scope,
                        owning_ministry: ministry,
                    },
                    created_by: by.id,
                    created_at: at,
                });
                barrier_ids.insert(rule.citation.clone(), id);
                barrier_status.insert(id, BarrierStatus::Open);
                id
            }
        };
        let event = link_event(&sim.case, by, id, at);
        sim.case.status = apply(Some(&sim.case.status), &event);
        sim.events.push(event);
        Ok(())
    }
}
