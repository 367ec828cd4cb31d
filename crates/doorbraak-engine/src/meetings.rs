//! Meetings: the alliance of each focus area and the national breakthrough
//! meeting decide on scheduled dates, from an agenda.

use doorbraak_core::{
    CaseId, Level, MeetingScope, Principal, Timestamp, may_read_meeting, meeting_scope, read_scope,
};
use doorbraak_store::{AgendaItemRecord, MeetingRecord, MeetingStatus};

use crate::{Engine, EngineError};

impl Engine {
    /// May `p` schedule, close and rearrange meetings of this level and area?
    fn may_run_meetings(&self, p: &Principal, level: Level, area: Option<&str>) -> bool {
        doorbraak_core::may_run_meetings(p, level, area)
    }

    /// Schedules a meeting; cases waiting at its level go on its agenda.
    pub async fn schedule_meeting(
        &self,
        p: &Principal,
        level: Level,
        area: Option<&str>,
        at: Timestamp,
    ) -> Result<MeetingRecord, EngineError> {
        let area = match (level, area.map(str::trim).filter(|a| !a.is_empty())) {
            (Level::Alliance, Some(a)) => {
                let code = doorbraak_core::AreaCode::parse("focusArea", a)?;
                if self.focus_area(code.as_str()).is_none() {
                    return Err(EngineError::validation(
                        "focusArea",
                        "is not a known focus area",
                    ));
                }
                Some(code.as_str().to_owned())
            }
            (Level::Alliance, None) => {
                return Err(EngineError::validation(
                    "focusArea",
                    "is required for an alliance meeting",
                ));
            }
            (Level::BreakthroughMeeting, None) => None,
            (Level::BreakthroughMeeting, Some(_)) => {
                return Err(EngineError::validation(
                    "focusArea",
                    "the breakthrough meeting is national",
                ));
            }
            (Level::ProgrammeBureau | Level::NationalRepresentative, _) => {
                return Err(EngineError::validation(
                    "level",
                    "only the alliance and the breakthrough meeting meet",
                ));
            }
        };
        if !self.may_run_meetings(p, level, area.as_deref()) {
            return Err(EngineError::Forbidden(
                "alliance secretaries schedule their alliance's meetings; the breakthrough secretariat the national ones".into(),
            ));
        }
        let now = self.now();
        if at <= now {
            return Err(EngineError::validation(
                "scheduledAt",
                "must lie in the future",
            ));
        }
        Ok(self
            .store
            .create_meeting(level, area.as_deref(), at, p.id, now)
            .await?)
    }

    /// A meeting; `None` when missing or not for the caller.
    pub async fn meeting(
        &self,
        p: &Principal,
        id: i64,
    ) -> Result<Option<MeetingRecord>, EngineError> {
        Ok(self
            .store
            .meeting_by_id(id)
            .await?
            .filter(|m| may_read_meeting(p, m.level, m.focus_area.as_deref())))
    }

    /// Meetings of a level, oldest first.
    pub async fn meetings(
        &self,
        p: &Principal,
        level: Level,
        area: Option<&str>,
        after: Option<i64>,
        first: u64,
    ) -> Result<(Vec<MeetingRecord>, bool), EngineError> {
        let allowed: Option<Vec<String>> = match meeting_scope(p, level) {
            MeetingScope::All => None,
            MeetingScope::Areas(areas) if !areas.is_empty() => Some(areas),
            MeetingScope::Areas(_) | MeetingScope::Nothing => return Ok((Vec::new(), false)),
        };
        let mut rows = self
            .store
            .list_meetings(level, area, allowed.as_deref(), after, first + 1)
            .await?;
        let more = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok((rows, more))
    }

    /// Moves a case to another open meeting of its level.
    pub async fn move_to_meeting(
        &self,
        p: &Principal,
        case_id: CaseId,
        meeting_id: i64,
    ) -> Result<MeetingRecord, EngineError> {
        let m = self
            .meeting(p, meeting_id)
            .await?
            .ok_or(EngineError::NotFound("meeting"))?;
        if !self.may_run_meetings(p, m.level, m.focus_area.as_deref()) {
            return Err(EngineError::Forbidden(
                "only the meeting's secretary moves cases on its agenda".into(),
            ));
        }
        let case = self
            .case(p, case_id)
            .await?
            .ok_or(EngineError::NotFound("case"))?;
        if m.status != MeetingStatus::Open {
            return Err(EngineError::InvalidTransition(
                "the meeting is closed".into(),
            ));
        }
        let fits = case.status.state.meeting_level() == Some(m.level)
            && (m.level != Level::Alliance
                || m.focus_area.as_deref() == Some(case.facts.focus_area.as_str()));
        if !fits {
            return Err(EngineError::InvalidTransition(
                "the case is not waiting for a meeting of this level and area".into(),
            ));
        }
        self.store
            .move_to_meeting(case_id, meeting_id, self.now())
            .await?;
        Ok(m)
    }

    /// Closes a meeting; undecided items carry over to the next one.
    pub async fn close_meeting(
        &self,
        p: &Principal,
        id: i64,
    ) -> Result<MeetingRecord, EngineError> {
        let m = self
            .meeting(p, id)
            .await?
            .ok_or(EngineError::NotFound("meeting"))?;
        if !self.may_run_meetings(p, m.level, m.focus_area.as_deref()) {
            return Err(EngineError::Forbidden(
                "only the meeting's secretary closes it".into(),
            ));
        }
        self.store
            .close_meeting(id, self.now())
            .await?
            .ok_or_else(|| EngineError::InvalidTransition("the meeting is already closed".into()))
    }

    /// The agenda items of some meetings whose case the caller may read
    /// in full: an agenda never shows another case.
    pub async fn agenda(
        &self,
        p: &Principal,
        meetings: &[i64],
    ) -> Result<Vec<AgendaItemRecord>, EngineError> {
        Ok(self
            .store
            .items_of_meetings(&read_scope(p), meetings)
            .await?)
    }

    /// The agenda items (meeting history) of some cases, those the caller
    /// may read only.
    pub async fn items_of_cases(
        &self,
        p: &Principal,
        cases: &[CaseId],
    ) -> Result<Vec<AgendaItemRecord>, EngineError> {
        Ok(self.store.items_of_cases(&read_scope(p), cases).await?)
    }

    /// Meetings by id that the caller may read in full, or reaches through
    /// a case of theirs on its agenda (then they see its date and level).
    pub async fn meetings_by_ids(
        &self,
        p: &Principal,
        ids: &[i64],
    ) -> Result<Vec<MeetingRecord>, EngineError> {
        let all = self.store.meetings_by_ids(ids).await?;
        let (mut open, others): (Vec<MeetingRecord>, Vec<MeetingRecord>) = all
            .into_iter()
            .partition(|m| may_read_meeting(p, m.level, m.focus_area.as_deref()));
        if !others.is_empty() {
            let other_ids: Vec<i64> = others.iter().map(|m| m.id).collect();
            let reached: std::collections::HashSet<i64> = self
                .store
                .items_of_meetings(&read_scope(p), &other_ids)
                .await?
                .into_iter()
                .map(|i| i.meeting_id)
                .collect();
            open.extend(others.into_iter().filter(|m| reached.contains(&m.id)));
        }
        Ok(open)
    }
}
