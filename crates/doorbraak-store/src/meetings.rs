//! Meetings of the alliances and the breakthrough meeting, and their agendas.
//!
//! An agenda item is *open* while it has no decision and was not carried
//! to another meeting. A case has at most one open item, always in an open
//! meeting of the level it is at.

use crate::limited::Limited;
use doorbraak_core::{CaseId, Event, EventAction, Level, ReadScope, Timestamp, UserId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::convert::{from_ms, ms, parse};
use crate::entity::{agenda_item, case, meeting};
use crate::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingStatus {
    Open,
    Closed,
}

impl MeetingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingStatus::Open => "OPEN",
            MeetingStatus::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRecord {
    pub id: i64,
    pub level: Level,
    pub focus_area: Option<String>,
    pub scheduled_at: Timestamp,
    pub status: MeetingStatus,
    pub closed_at: Option<Timestamp>,
}

/// Whether an undecided agenda item went on to another meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Onward {
    /// Still here: decided here, or still to decide.
    Stayed,
    /// Carried over (or moved) to this meeting.
    To(i64),
    /// Carried over, but no meeting of its level is planned yet: the case
    /// waits, and the next meeting scheduled takes it.
    AwaitingMeeting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaItemRecord {
    pub id: i64,
    pub meeting_id: i64,
    pub case_id: CaseId,
    pub added_at: Timestamp,
    pub carried_from: Option<i64>,
    pub onward: Onward,
    /// The event that decided it (or took it off the agenda).
    pub decision: Option<EventAction>,
    pub note: Option<String>,
    pub decided_at: Option<Timestamp>,
}

fn meeting_record(m: meeting::Model) -> Result<MeetingRecord, StoreError> {
    Ok(MeetingRecord {
        id: m.id,
        level: parse("level", &m.level)?,
        focus_area: m.focus_area,
        scheduled_at: from_ms(m.scheduled_at)?,
        status: if m.status == "CLOSED" {
            MeetingStatus::Closed
        } else {
            MeetingStatus::Open
        },
        closed_at: m.closed_at.map(from_ms).transpose()?,
    })
}

fn item_record(i: agenda_item::Model) -> Result<AgendaItemRecord, StoreError> {
    Ok(AgendaItemRecord {
        id: i.id,
        meeting_id: i.meeting_id,
        case_id: i.case_id,
        added_at: from_ms(i.added_at)?,
        carried_from: i.carried_from,
        onward: match (i.moved_on, i.carried_to) {
            (false, _) => Onward::Stayed,
            (true, Some(m)) => Onward::To(m),
            (true, None) => Onward::AwaitingMeeting,
        },
        decision: i
            .decision
            .as_deref()
            .map(|d| {
                EventAction::parse(d)
                    .ok_or_else(|| StoreError::Corrupt(format!("agenda decision {d}")))
            })
            .transpose()?,
        note: i.note,
        decided_at: i.decided_at.map(from_ms).transpose()?,
    })
}

fn same_place(level: Level, area: Option<&str>) -> Condition {
    let c = Condition::all().add(meeting::Column::Level.eq(level.as_str()));
    match area {
        Some(a) => c.add(meeting::Column::FocusArea.eq(a)),
        None => c.add(meeting::Column::FocusArea.is_null()),
    }
}

/// The earliest open meeting for a level (and area), other than `except`.
async fn next_open(
    txn: &DatabaseTransaction,
    level: Level,
    area: Option<&str>,
    except: Option<i64>,
) -> Result<Option<meeting::Model>, StoreError> {
    let mut cond = same_place(level, area).add(meeting::Column::Status.eq("OPEN"));
    if let Some(x) = except {
        cond = cond.add(meeting::Column::Id.ne(x));
    }
    Ok(meeting::Entity::find()
        .filter(cond)
        .order_by_asc(meeting::Column::ScheduledAt)
        .order_by_asc(meeting::Column::Id)
        .first(txn)
        .await?)
}

fn open_item() -> Condition {
    Condition::all()
        .add(agenda_item::Column::Decision.is_null())
        .add(agenda_item::Column::MovedOn.eq(false))
}

/// Puts a case on a meeting's agenda. A case that was on that meeting
/// before without a decision (and was moved away) gets that item back, so
/// an agenda never lists a case twice as undecided; decided items (the
/// minutes) are never touched.
async fn insert_item(
    txn: &DatabaseTransaction,
    meeting: i64,
    case_id: CaseId,
    now: Timestamp,
    carried_from: Option<i64>,
) -> Result<i64, StoreError> {
    let earlier = agenda_item::Entity::find()
        .filter(agenda_item::Column::MeetingId.eq(meeting))
        .filter(agenda_item::Column::CaseId.eq(case_id))
        .filter(agenda_item::Column::Decision.is_null())
        .first(txn)
        .await?;
    if let Some(e) = earlier {
        agenda_item::Entity::update_many()
            .set(agenda_item::ActiveModel {
                carried_to: Set(None),
                moved_on: Set(false),
                carried_from: Set(carried_from),
                ..Default::default()
            })
            .filter(agenda_item::Column::Id.eq(e.id))
            .exec(txn)
            .await?;
        return Ok(e.id);
    }
    let row = agenda_item::ActiveModel {
        meeting_id: Set(meeting),
        case_id: Set(case_id),
        added_at: Set(ms(now)),
        carried_from: Set(carried_from),
        ..Default::default()
    };
    Ok(agenda_item::Entity::insert(row)
        .exec_with_returning(txn)
        .await?
        .id)
}

/// The agenda follow-up that reads: placing the case on the first open
/// meeting of the next level (unless it is on one already).
pub(crate) async fn place_on_agenda(
    txn: &DatabaseTransaction,
    case_id: CaseId,
    event: &Event,
    follow: &doorbraak_core::FollowUp,
) -> Result<(), StoreError> {
    if let Some(doorbraak_core::AgendaPlace { level, area }) = &follow.place_on_agenda {
        let already = agenda_item::Entity::find()
            .filter(open_item().add(agenda_item::Column::CaseId.eq(case_id)))
            .first(txn)
            .await?;
        if already.is_none()
            && let Some(m) = next_open(txn, *level, area.as_deref(), None).await?
        {
            insert_item(txn, m.id, case_id, event.at, None).await?;
        }
    }
    Ok(())
}

impl Store {
    /// The open agenda item of a case, with its meeting.
    pub async fn open_item_of(
        &self,
        case_id: CaseId,
    ) -> Result<Option<AgendaItemRecord>, StoreError> {
        self.count();
        agenda_item::Entity::find()
            .filter(open_item().add(agenda_item::Column::CaseId.eq(case_id)))
            .first(&self.read)
            .await?
            .map(item_record)
            .transpose()
    }

    /// Schedules a meeting and puts every case that waits at its level
    /// (and area) without an open agenda item on its agenda.
    pub async fn create_meeting(
        &self,
        level: Level,
        area: Option<&str>,
        scheduled_at: Timestamp,
        by: UserId,
        now: Timestamp,
    ) -> Result<MeetingRecord, StoreError> {
        self.count();
        let txn = self.begin_write().await?;
        let m = meeting::Entity::insert(meeting::ActiveModel {
            level: Set(level.as_str().to_owned()),
            focus_area: Set(area.map(str::to_owned)),
            scheduled_at: Set(ms(scheduled_at)),
            status: Set("OPEN".to_owned()),
            created_by: Set(by),
            ..Default::default()
        })
        .exec_with_returning(&txn)
        .await?;
        let mut waiting = Condition::all().add(case::Column::State.eq(level.state().as_str()));
        if let Some(a) = area {
            waiting = waiting.add(case::Column::FocusArea.eq(a));
        }
        let on_agenda = sea_orm::sea_query::Query::select()
            .column(agenda_item::Column::CaseId)
            .from(agenda_item::Entity)
            .cond_where(open_item())
            .to_owned();
        let ids: Vec<i64> = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(waiting.add(case::Column::Id.not_in_subquery(on_agenda)))
            .order_by_asc(case::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        for id in ids {
            insert_item(&txn, m.id, id, now, None).await?;
        }
        txn.commit().await?;
        meeting_record(m)
    }

    /// Closes a meeting. Its undecided items go to the next open meeting of
    /// the same level and area (or wait for the next one to be scheduled).
    pub async fn close_meeting(
        &self,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<MeetingRecord>, StoreError> {
        self.count();
        let txn = self.begin_write().await?;
        let Some(m) = meeting::Entity::find_by_id(id).first(&txn).await? else {
            return Ok(None);
        };
        let level: Level = parse("level", &m.level)?;
        let updated = meeting::Entity::update_many()
            .set(meeting::ActiveModel {
                status: Set("CLOSED".to_owned()),
                closed_at: Set(Some(ms(now))),
                ..Default::default()
            })
            .filter(meeting::Column::Id.eq(id))
            .filter(meeting::Column::Status.eq("OPEN"))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        let undecided = agenda_item::Entity::find()
            .filter(open_item().add(agenda_item::Column::MeetingId.eq(id)))
            .all(&txn)
            .await?;
        if let Some(next) = next_open(&txn, level, m.focus_area.as_deref(), Some(id)).await? {
            for item in undecided {
                insert_item(&txn, next.id, item.case_id, now, Some(id)).await?;
                agenda_item::Entity::update_many()
                    .set(agenda_item::ActiveModel {
                        carried_to: Set(Some(next.id)),
                        moved_on: Set(true),
                        ..Default::default()
                    })
                    .filter(agenda_item::Column::Id.eq(item.id))
                    .exec(&txn)
                    .await?;
            }
        } else {
            // No next meeting yet: the items went on, to no meeting, so the
            // cases wait unscheduled until one is planned.
            for item in undecided {
                agenda_item::Entity::update_many()
                    .set(agenda_item::ActiveModel {
                        carried_to: Set(None),
                        moved_on: Set(true),
                        ..Default::default()
                    })
                    .filter(agenda_item::Column::Id.eq(item.id))
                    .exec(&txn)
                    .await?;
            }
        }
        let closed = meeting::Entity::find_by_id(id).first(&txn).await?;
        txn.commit().await?;
        closed.map(meeting_record).transpose()
    }

    /// Moves a case's open agenda item to another open meeting.
    pub async fn move_to_meeting(
        &self,
        case_id: CaseId,
        to: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.count();
        let txn = self.begin_write().await?;
        let current = agenda_item::Entity::find()
            .filter(open_item().add(agenda_item::Column::CaseId.eq(case_id)))
            .first(&txn)
            .await?;
        if current.as_ref().is_some_and(|i| i.meeting_id == to) {
            return Ok(txn.commit().await?);
        }
        if let Some(item) = &current {
            agenda_item::Entity::update_many()
                .set(agenda_item::ActiveModel {
                    carried_to: Set(Some(to)),
                    moved_on: Set(true),
                    ..Default::default()
                })
                .filter(agenda_item::Column::Id.eq(item.id))
                .exec(&txn)
                .await?;
        }
        insert_item(
            &txn,
            to,
            case_id,
            now,
            current.as_ref().map(|i| i.meeting_id),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn meeting_by_id(&self, id: i64) -> Result<Option<MeetingRecord>, StoreError> {
        self.count();
        meeting::Entity::find_by_id(id)
            .first(&self.read)
            .await?
            .map(meeting_record)
            .transpose()
    }

    pub async fn meetings_by_ids(&self, ids: &[i64]) -> Result<Vec<MeetingRecord>, StoreError> {
        self.count();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        meeting::Entity::find()
            .filter(meeting::Column::Id.is_in(ids.iter().copied()))
            .all(&self.read)
            .await?
            .into_iter()
            .map(meeting_record)
            .collect()
    }

    /// Meetings of a level (and area), by date, after the meeting `after`.
    pub async fn list_meetings(
        &self,
        level: Level,
        area: Option<&str>,
        areas_allowed: Option<&[String]>,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<MeetingRecord>, StoreError> {
        self.count();
        let mut cond = Condition::all().add(meeting::Column::Level.eq(level.as_str()));
        if let Some(a) = area {
            cond = cond.add(meeting::Column::FocusArea.eq(a));
        }
        if let Some(allowed) = areas_allowed {
            cond = cond.add(meeting::Column::FocusArea.is_in(allowed.iter().cloned()));
        }
        if let Some(a) = after {
            cond = cond.add(meeting::Column::Id.gt(a));
        }
        meeting::Entity::find()
            .filter(cond)
            .order_by_asc(meeting::Column::Id)
            .at_most(limit, &self.read)
            .await?
            .into_iter()
            .map(meeting_record)
            .collect()
    }

    /// Agenda items of some meetings whose case `scope` may read, in the
    /// order they were added.
    pub async fn items_of_meetings(
        &self,
        scope: &ReadScope,
        ids: &[i64],
    ) -> Result<Vec<AgendaItemRecord>, StoreError> {
        self.items_where(scope, agenda_item::Column::MeetingId, ids)
            .await
    }

    /// Agenda items of those of some cases that `scope` may read (their
    /// meeting history), oldest first.
    pub async fn items_of_cases(
        &self,
        scope: &ReadScope,
        ids: &[CaseId],
    ) -> Result<Vec<AgendaItemRecord>, StoreError> {
        self.items_where(scope, agenda_item::Column::CaseId, ids)
            .await
    }

    async fn items_where(
        &self,
        scope: &ReadScope,
        column: agenda_item::Column,
        ids: &[i64],
    ) -> Result<Vec<AgendaItemRecord>, StoreError> {
        self.count();
        if ids.is_empty() || *scope == ReadScope::Nothing {
            return Ok(Vec::new());
        }
        let mut cond = Condition::all().add(column.is_in(ids.iter().copied()));
        if let Some(sub) = crate::cases::readable_ids(scope) {
            cond = cond.add(agenda_item::Column::CaseId.in_subquery(sub));
        }
        agenda_item::Entity::find()
            .filter(cond)
            .order_by_asc(agenda_item::Column::Id)
            .all(&self.read)
            .await?
            .into_iter()
            .map(item_record)
            .collect()
    }
}
