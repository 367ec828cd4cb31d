//! Case use cases: submit, act, read, list.

use doorbraak_core::{
    BarrierStatus, Case, CaseAction, CaseId, CaseReference, CaseState, Command, DecisionDates,
    Event, EventAction, Level, MergeTarget, NewCase, Outcome, Principal, ReadScope, SubmitInput,
    auto_escalation, available_actions, barrier_status_after, decide, may_read, read_scope,
    submission_event,
};
use doorbraak_store::{BarrierChange, CaseQuery, FollowUp, PrecedentChange, meeting_level};
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

impl Engine {
    /// A professional submits a case.
    #[tracing::instrument(skip_all, fields(user.id = p.id))]
    pub async fn submit(&self, p: &Principal, input: &SubmitInput) -> Result<Case, EngineError> {
        let new = NewCase::parse(p, input, &self.reference())?;
        let event = submission_event(p, self.now(), &self.policy());
        let case = self.store.insert_case(&new, p.id, &event).await?;
        tracing::info!(case.id = case.id, case.reference = %case.facts.reference, "case submitted");
        self.changed(case.id, EventAction::Submit);
        Ok(case)
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
        let case = self
            .readable_case(p, id)
            .await?
            .ok_or(EngineError::NotFound("case"))?;
        if case.status.version != expected_version {
            return Err(EngineError::VersionConflict);
        }
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
            } => {
                let barrier_decided = match case.status.barrier {
                    Some(b) => self.store.barrier_by_id(b).await?.is_some_and(|b| {
                        matches!(
                            b.status,
                            BarrierStatus::BreakthroughDecided | BarrierStatus::Implemented
                        )
                    }),
                    None => false,
                };
                Command::Resolve {
                    outcome,
                    explanation,
                    funds_unlocked,
                    dates,
                    barrier_decided,
                }
            }
            CommandInput::CloseNoBreakthrough { explanation } => {
                Command::CloseNoBreakthrough { explanation }
            }
            CommandInput::Reject { reason } => Command::Reject { reason },
            CommandInput::Merge { into } => {
                // Check the actor's right to merge before looking at the target.
                let now = self.now();
                doorbraak_core::guard(&case, p, CaseAction::Merge, now, &self.policy())?;
                let target = self
                    .readable_case(p, into)
                    .await?
                    .ok_or(EngineError::NotFound("case to merge into"))?;
                Command::Merge {
                    into: MergeTarget {
                        id: target.id,
                        state: target.status.state,
                    },
                }
            }
            CommandInput::Withdraw { reason } => Command::Withdraw { reason },
            CommandInput::Contest { reason } => Command::Contest { reason },
        };
        tracing::Span::current().record("action", command.action().as_str());
        let mut event = decide(&case, p, &command, self.now(), &self.policy())?;
        let follow = self.follow_ups(&case, &mut event).await?;
        // The write runs on its own task: a client that goes away (or a
        // request that times out) cannot cut a transaction off half-way
        // through its commit, so what the database holds and what this
        // instance announces always agree.
        let writer = self.clone();
        let before = case.clone();
        let status = tokio::spawn(async move {
            let status = writer
                .store
                .record_transition(&before, &event, &follow)
                .await?;
            writer.changed(before.id, event.action);
            Ok::<_, EngineError>(status)
        })
        .await
        .map_err(|e| EngineError::Internal(format!("the write task failed: {e}")))??;
        tracing::info!(version = status.version, state = %status.state, "case moved");
        Ok(Case { status, ..case })
    }

    /// What else a transition changes: the agenda item it decides, the next
    /// agenda it goes on, its barrier's status, the precedent index.
    async fn follow_ups(&self, case: &Case, event: &mut Event) -> Result<FollowUp, EngineError> {
        let mut follow = FollowUp::default();
        let before = case.status.state;
        let after = event.to_state;
        if before != after && after != CaseState::AwaitingInformation {
            if let Some(item) = self.store.open_item_of(case.id).await? {
                let action = event.action.as_str().to_owned();
                if matches!(
                    event.action,
                    EventAction::Case(
                        CaseAction::Resolve
                            | CaseAction::CloseNoBreakthrough
                            | CaseAction::ReferBack
                            | CaseAction::Escalate
                    )
                ) {
                    event.meeting = Some(item.meeting_id);
                }
                follow.decide_item = Some((item.id, action, event.note.clone()));
            }
            if let Some(level) = meeting_level(after) {
                let area = (level == Level::Alliance).then(|| case.facts.focus_area.clone());
                follow.place_on_agenda = Some((level, area));
            }
        }
        if let Some(b) = case.status.barrier
            && let Some(barrier) = self.store.barrier_by_id(b).await?
            && let Some(status) = barrier_status_after(barrier.status, event)
        {
            let r = event.effect.resolution.as_ref();
            follow.barrier = Some(BarrierChange {
                id: b,
                status,
                outcome: r.and_then(|r| r.outcome),
                note: event.note.clone(),
                at: event.at,
                effective_from: r.and_then(|r| r.effective_from),
                experiment_ends: r.and_then(|r| r.experiment_ends),
                evaluation_date: r.and_then(|r| r.evaluation_date),
            });
        }
        follow.precedent = match (before, after) {
            (CaseState::Resolved, CaseState::Resolved) => PrecedentChange::None,
            (_, CaseState::Resolved) => PrecedentChange::Index,
            (CaseState::Resolved, _) => PrecedentChange::Remove,
            _ => PrecedentChange::None,
        };
        Ok(follow)
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
                let Some(mut event) = auto_escalation(&case, &system, now, &policy) else {
                    continue;
                };
                let follow = self.follow_ups(&case, &mut event).await?;
                match self.store.record_transition(&case, &event, &follow).await {
                    Ok(_) => {
                        moved += 1;
                        self.changed(case.id, event.action);
                    }
                    // Someone acted on it meanwhile; the next round looks again.
                    Err(doorbraak_store::StoreError::VersionConflict) => {}
                    Err(e) => return Err(e.into()),
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

    /// The logs of several cases the caller has already been allowed to read.
    pub async fn events_of(&self, ids: &[CaseId]) -> Result<Vec<StoredEvent>, EngineError> {
        Ok(self.store.events_of(ids).await?)
    }

    /// What the caller may do to a case now.
    pub fn available_actions(&self, p: &Principal, case: &Case) -> Vec<CaseAction> {
        available_actions(case, p, self.now(), &self.policy())
    }
}
