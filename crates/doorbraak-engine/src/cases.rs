//! Case use cases: submit, act, read, list.

use doorbraak_core::{
    AgendaRef, Case, CaseAction, CaseId, CaseReference, Command, Decision, DecisionDates,
    EventAction, Facts, Level, MergeTarget, NewCase, Outcome, Principal, ReadScope, SubmitInput,
    auto_escalation, available_actions, decide, may_read, read_scope, submission_event,
};
use doorbraak_store::{CaseQuery, Coming};
use rust_decimal::Decimal;

use crate::{Engine, EngineError, StoredEvent};

/// A command as it arrives from a client: like [`Command`], but a merge
/// names its target by id only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandInput {
    PickUp,
    Release,
    RequestInformation {
        question: String,
    },
    ProvideInformation {
        answer: String,
    },
    Escalate {
        motivation: String,
    },
    ReferBack {
        motivation: String,
    },
    Resolve {
        outcome: Outcome,
        explanation: String,
        funds_unlocked: Option<Decimal>,
        dates: DecisionDates,
    },
    CloseNoBreakthrough {
        explanation: String,
    },
    Reject {
        reason: String,
    },
    Merge {
        into: CaseId,
    },
    Withdraw {
        reason: String,
    },
    Contest {
        reason: String,
    },
}

/// One page of a list, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub cases: Vec<Case>,
    pub has_next: bool,
}

/// The largest page a client may ask for.
pub const MAX_PAGE: u64 = 100;

/// How many cases the engine keeps as it last wrote them. An action on
/// the version the caller saw starts from the kept case instead of reading
/// it (a handler acts on a case several times in a row: pick up, ask,
/// escalate). It is a hint that cannot mislead: every change of a case's
/// row raises its version (the statistics' `stat_dirty` mark is not part
/// of a case), a case is kept only after its commit, with exactly the
/// columns written, and forgotten when a write of it fails; so a kept
/// case at version `v` is the row at `v`, and when the row has moved on
/// (through another instance, say) the write's version guard refuses, as
/// a read would have (`VERSION_CONFLICT`). A case at another version than
/// the caller's is read.
pub(crate) const WRITTEN_MAX: usize = 4_096;

impl Engine {
    /// A professional submits a case.
    #[tracing::instrument(skip_all, fields(user.id = p.id))]
    pub async fn submit(&self, p: &Principal, input: &SubmitInput) -> Result<Case, EngineError> {
        Ok(self.submit_with_history(p, input).await?.0)
    }

    /// [`Engine::submit`], with the new case's history (its one event) as
    /// the database now holds it, so an answer needs no read after the
    /// commit.
    pub async fn submit_with_history(
        &self,
        p: &Principal,
        input: &SubmitInput,
    ) -> Result<(Case, Vec<StoredEvent>), EngineError> {
        let new = NewCase::parse(p, input, &self.reference())?;
        let event = submission_event(p, self.now(), &self.policy());
        let case = self.store.insert_case(&new, p.id, &event).await?;
        tracing::info!(case.id = case.id, case.reference = %case.facts.reference, "case submitted");
        self.changed(case.id, EventAction::Submit);
        let history = vec![StoredEvent {
            case_id: case.id,
            sequence: case.status.version,
            event,
        }];
        Ok((case, history))
    }

    /// Every problem a submission has, without storing anything: a form
    /// shows them all at once. Empty when [`Engine::submit`] would accept it.
    pub fn submission_problems(&self, p: &Principal, input: &SubmitInput) -> Vec<EngineError> {
        NewCase::problems(p, input, &self.reference())
            .into_iter()
            .map(EngineError::from)
            .collect()
    }

    /// May the caller link this case to a barrier now
    /// ([`doorbraak_core::check_link`])?
    pub fn may_link(&self, p: &Principal, case: &Case) -> bool {
        doorbraak_core::check_link(case, p, None).is_ok()
    }

    /// Takes one action on a case, on the version the caller last saw.
    #[tracing::instrument(skip_all, fields(user.id = p.id, case.id = id, action))]
    pub async fn act(
        &self,
        p: &Principal,
        id: CaseId,
        expected_version: i32,
        input: CommandInput,
    ) -> Result<Case, EngineError> {
        Ok(self
            .act_with_history(p, id, expected_version, input, false, None)
            .await?
            .0)
    }

    /// [`Engine::act`], and with `history` the case's events as the
    /// database holds them after the commit: those before it, read once
    /// the decision is taken (the version guard makes sure none came in
    /// between), and the new one. An answer built from them needs no read
    /// after the commit, so a database that goes away just then cannot
    /// turn a committed action into an error.
    ///
    /// `coming`: the caller's [`Engine::transition_coming`], taken when its
    /// request arrived; without it one is taken here.
    pub async fn act_with_history(
        &self,
        p: &Principal,
        id: CaseId,
        expected_version: i32,
        input: CommandInput,
        history: bool,
        coming: Option<Coming>,
    ) -> Result<(Case, Option<Vec<StoredEvent>>), EngineError> {
        let coming = coming.or_else(|| self.transition_coming());
        let kept = self
            .written
            .get(id)
            .filter(|c| c.status.version == expected_version && may_read(p, c));
        let (case, decision) = match kept {
            // A refusal is given on the database's case, not on the copy:
            // it may have moved on (then the answer is a version conflict).
            Some(case) => match self.decide_on(p, case, input.clone()).await {
                Ok(decided) => decided,
                Err(_) => self.read_and_decide(p, id, expected_version, input).await?,
            },
            None => self.read_and_decide(p, id, expected_version, input).await?,
        };
        // Read only for a decision that will be written.
        let mut events = self.history_before(p, case.id, history).await?;
        let event = events.is_some().then(|| decision.event.clone());
        let status = self.record(&case, decision, coming).await?;
        // At debug: every move is on record in the case's own history, and a
        // line written in place per transition cost a tenth of the server's
        // CPU (ARCHITECTURE.md, "Performance").
        tracing::debug!(version = status.version, state = %status.state, "case moved");
        let case = Case { status, ..case };
        if let (Some(list), Some(event)) = (&mut events, event) {
            // Readable before, readable after: what decides it (the
            // submitter, the area, the highest level reached) never goes
            // back.
            debug_assert!(may_read(p, &case));
            list.push(StoredEvent {
                case_id: case.id,
                sequence: case.status.version,
                event,
            });
        }
        Ok((case, events))
    }

    /// Counts a transition as on its way to the SQLite writer thread,
    /// which holds its open batch for transitions coming, for a little
    /// while ([`doorbraak_store::Store::transition_coming`]). Take it as
    /// early as a request is known to be one (the GraphQL endpoint does,
    /// for a mutation) and give it to [`Engine::act_with_history`];
    /// dropping it ends the count. `None` on PostgreSQL.
    pub fn transition_coming(&self) -> Option<Coming> {
        self.store.transition_coming()
    }

    /// The case as the database holds it, and the decision on it.
    async fn read_and_decide(
        &self,
        p: &Principal,
        id: CaseId,
        expected_version: i32,
        input: CommandInput,
    ) -> Result<(Case, Decision), EngineError> {
        let case = self
            .readable_case(p, id)
            .await?
            .ok_or(EngineError::NotFound("case"))?;
        if case.status.version != expected_version {
            return Err(EngineError::VersionConflict);
        }
        self.decide_on(p, case, input).await
    }

    /// The core's decision on `case` (on the caller's version), with what
    /// it needs to know besides.
    async fn decide_on(
        &self,
        p: &Principal,
        case: Case,
        input: CommandInput,
    ) -> Result<(Case, Decision), EngineError> {
        let mut facts = self.facts_of(&case).await?;
        let command = match input {
            CommandInput::PickUp => Command::PickUp,
            CommandInput::Release => Command::Release,
            CommandInput::RequestInformation { question } => {
                Command::RequestInformation { question }
            }
            CommandInput::ProvideInformation { answer } => Command::ProvideInformation { answer },
            CommandInput::Escalate { motivation } => Command::Escalate { motivation },
            CommandInput::ReferBack { motivation } => Command::ReferBack { motivation },
            CommandInput::Resolve {
                outcome,
                explanation,
                funds_unlocked,
                dates,
            } => Command::Resolve {
                outcome,
                explanation,
                funds_unlocked,
                dates,
            },
            CommandInput::CloseNoBreakthrough { explanation } => {
                Command::CloseNoBreakthrough { explanation }
            }
            CommandInput::Reject { reason } => Command::Reject { reason },
            CommandInput::Merge { into } => {
                // Check the actor's right to merge before looking at the target.
                doorbraak_core::guard(&case, p, CaseAction::Merge, self.now(), &self.policy())?;
                let target = self
                    .readable_case(p, into)
                    .await?
                    .ok_or(EngineError::NotFound("case to merge into"))?;
                facts.merge_target = Some(MergeTarget {
                    id: target.id,
                    state: target.status.state,
                });
                Command::Merge { into: target.id }
            }
            CommandInput::Withdraw { reason } => Command::Withdraw { reason },
            CommandInput::Contest { reason } => Command::Contest { reason },
        };
        tracing::Span::current().record("action", command.action().as_str());
        let decision = decide(&case, p, &command, &facts, self.now(), &self.policy())?;
        Ok((case, decision))
    }

    /// With `wanted`, a case's events before a write that will add one (the
    /// write's version guard makes sure none comes in between).
    pub(crate) async fn history_before(
        &self,
        p: &Principal,
        id: CaseId,
        wanted: bool,
    ) -> Result<Option<Vec<StoredEvent>>, EngineError> {
        Ok(match wanted {
            true => Some(self.events_of(p, &[id]).await?),
            false => None,
        })
    }

    /// Records a decision. The write runs on its own task: a client that
    /// goes away (or a request that times out) cannot cut a transaction off
    /// half-way through its commit, so what the database holds and what
    /// this instance announces always agree.
    async fn record(
        &self,
        case: &Case,
        decision: Decision,
        coming: Option<Coming>,
    ) -> Result<doorbraak_core::Status, EngineError> {
        let writer = self.clone();
        let before = case.clone();
        // Boxed: the task is built once on the heap, where a future this
        // size passed by value would be copied through every layer of
        // `spawn` into the task's cell.
        tokio::spawn(Box::pin(async move {
            let status = match writer
                .store
                .record_transition(&before, &decision, coming)
                .await
            {
                Ok(status) => status,
                Err(e) => {
                    writer.written.forget(before.id);
                    return Err(e.into());
                }
            };
            writer.changed(before.id, decision.event.action);
            let after = Case {
                status: status.clone(),
                ..before
            };
            writer.written.insert(after);
            Ok::<_, EngineError>(status)
        }))
        .await
        .map_err(|e| EngineError::Internal(format!("the write task failed: {e}")))?
    }

    /// What the core needs to know besides the case: its barrier's status
    /// and the open agenda item it is on (only a case at a level that meets
    /// can be on one).
    async fn facts_of(&self, case: &Case) -> Result<Facts, EngineError> {
        let barrier = match case.status.barrier {
            Some(b) => self.store.barrier_by_id(b).await?.map(|r| (r.id, r.status)),
            None => None,
        };
        let agenda_item = if case.status.level.meets() {
            self.store.open_item_of(case.id).await?.map(|i| AgendaRef {
                item: i.id,
                meeting: i.meeting_id,
            })
        } else {
            None
        };
        Ok(Facts {
            barrier,
            agenda_item,
            merge_target: None,
        })
    }

    /// Escalates every overdue case at a level whose policy says so. Run
    /// periodically by the server; safe to run on several instances at once
    /// (the version guard lets one win). Returns how many cases moved.
    pub async fn escalate_overdue(&self) -> Result<usize, EngineError> {
        let policy = self.policy();
        let levels: Vec<Level> = Level::ALL
            .iter()
            .copied()
            .filter(|l| policy.auto_escalate[*l as usize] && l.up().is_some())
            .collect();
        if levels.is_empty() {
            return Ok(0);
        }
        let system = self.system_user().await?.principal();
        let now = self.now();
        let query = CaseQuery {
            states: levels.iter().map(|l| l.state()).collect(),
            overdue_at: Some(now),
            ..CaseQuery::default()
        };
        let mut moved = 0;
        let mut after = None;
        loop {
            let page = self
                .store
                .list_cases(&ReadScope::All, &query, after, 200)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for case in page {
                let facts = self.facts_of(&case).await?;
                let Some(decision) = auto_escalation(&case, &system, &facts, now, &policy) else {
                    continue;
                };
                match self.record(&case, decision, None).await {
                    Ok(_) => moved += 1,
                    // Someone acted on it meanwhile; the next round looks again.
                    Err(EngineError::VersionConflict) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if moved > 0 {
            tracing::info!(moved, "overdue cases escalated automatically");
        }
        Ok(moved)
    }

    async fn readable_case(&self, p: &Principal, id: CaseId) -> Result<Option<Case>, EngineError> {
        Ok(self.store.case_by_id(id).await?.filter(|c| may_read(p, c)))
    }

    /// A case by id; `None` when missing or outside the caller's scope.
    pub async fn case(&self, p: &Principal, id: CaseId) -> Result<Option<Case>, EngineError> {
        self.readable_case(p, id).await
    }

    /// A case by its reference (`ZDO-2026-0042`), in any case; `None` when
    /// missing or outside the caller's scope.
    pub async fn case_by_reference(
        &self,
        p: &Principal,
        reference: &str,
    ) -> Result<Option<Case>, EngineError> {
        let Some(r) = CaseReference::parse(reference) else {
            return Ok(None);
        };
        Ok(self
            .store
            .case_by_reference(r.as_str())
            .await?
            .filter(|c| may_read(p, c)))
    }

    /// Several cases by id, keeping only those the caller may read.
    pub async fn cases_by_ids(
        &self,
        p: &Principal,
        ids: &[CaseId],
    ) -> Result<Vec<Case>, EngineError> {
        Ok(self
            .store
            .cases_by_ids(ids)
            .await?
            .into_iter()
            .filter(|c| may_read(p, c))
            .collect())
    }

    /// A page of the cases the caller may read, newest first.
    pub async fn list_cases(
        &self,
        p: &Principal,
        query: &CaseQuery,
        after: Option<CaseId>,
        first: u64,
    ) -> Result<Page, EngineError> {
        if first > MAX_PAGE {
            return Err(EngineError::validation(
                "first",
                format!("must be at most {MAX_PAGE}"),
            ));
        }
        let mut cases = self
            .store
            .list_cases(&read_scope(p), query, after, first + 1)
            .await?;
        let has_next = cases.len() as u64 > first;
        cases.truncate(first as usize);
        Ok(Page { cases, has_next })
    }

    /// The logs of those of several cases that the caller may read.
    pub async fn events_of(
        &self,
        p: &Principal,
        ids: &[CaseId],
    ) -> Result<Vec<StoredEvent>, EngineError> {
        Ok(self.store.events_of(&read_scope(p), ids).await?)
    }

    /// What the caller may do to a case now.
    pub fn available_actions(&self, p: &Principal, case: &Case) -> Vec<CaseAction> {
        available_actions(case, p, self.now(), &self.policy())
    }
}
