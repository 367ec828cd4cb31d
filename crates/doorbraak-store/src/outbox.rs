//! The outbox: every message and webhook delivery an event causes is a row
//! written in the event's own transaction, so a transition never waits for
//! a mail server and a crash never loses a message. Workers on any number
//! of instances take due rows with a lease (a guarded `UPDATE`: one
//! instance wins each row), send them, and mark them delivered, due again
//! later, or failed. Delivery is at least once.

use crate::limited::Limited;
use doorbraak_core::{
    Audience, Case, CaseFacts, Event, MessageKind, Role, Timestamp, UserId, notices,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::convert::{from_ms, ms};
use crate::entity::{outbox, sign_in_link, user, user_area, webhook_subscription};
use crate::{Store, StoreError};

/// Where a row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// A row of the outbox, as a worker needs it.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub channel: Channel,
    /// For e-mail: the recipient's current address (none: skip the row).
    pub email: Option<String>,
    /// For webhooks: the subscription.
    pub subscription: Option<WebhookSubscription>,
    pub case_id: Option<i64>,
    pub kind: String,
    /// JSON: what the message or the delivery says.
    pub payload: String,
    pub created_at: Timestamp,
    pub attempts: i32,
}

/// How one attempt at sending a row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    Delivered {
        status: Option<i32>,
    },
    /// Try again at `at`.
    Retry {
        at: Timestamp,
        status: Option<i32>,
        error: String,
    },
    /// Stop trying.
    Failed {
        status: Option<i32>,
        error: String,
    },
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSubscription {
    pub id: i64,
    pub callback_url: String,
    pub secret: String,
    pub focus_areas: Vec<String>,
    pub ministries: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
}

/// One delivery of a subscription, for its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub case_id: Option<i64>,
    pub payload: String,
    pub created_at: Timestamp,
    pub attempts: i32,
    pub delivered_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

/// A message made by the service itself (reminders, digests), written once
/// per `dedupe_key`.
#[derive(Debug, Clone)]
pub struct ScheduledMessage {
    pub user_id: UserId,
    pub case_id: Option<i64>,
    pub kind: MessageKind,
    pub payload: String,
    pub dedupe_key: String,
}

fn words(v: &str) -> Vec<String> {
    v.split_whitespace().map(str::to_owned).collect()
}

fn subscription(m: webhook_subscription::Model) -> Result<WebhookSubscription, StoreError> {
    Ok(WebhookSubscription {
        id: m.id,
        callback_url: m.callback_url,
        secret: m.secret,
        focus_areas: words(&m.focus_areas),
        ministries: words(&m.ministries),
        active: m.active,
        created_at: from_ms(m.created_at)?,
    })
}

/// Active users with an address (who want optional messages, unless the
/// message is essential), optionally of one role and in one area.
fn reachable(
    role: Option<Role>,
    area: Option<&str>,
    essential: bool,
) -> sea_orm::Select<user::Entity> {
    let mut q = user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Email.is_not_null());
    if !essential {
        q = q.filter(user::Column::NotifyOptional.eq(true));
    }
    if let Some(r) = role {
        q = q.filter(user::Column::Role.eq(r.as_str()));
    }
    if let Some(a) = area {
        q = q.filter(
            user::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user_area::Column::UserId)
                    .from(user_area::Entity)
                    .and_where(user_area::Column::AreaCode.eq(a))
                    .to_owned(),
            ),
        );
    }
    q
}

/// The users an audience reaches who want this kind of message.
fn audience_query(
    facts: &CaseFacts,
    audience: &Audience,
    kind: MessageKind,
) -> sea_orm::Select<user::Entity> {
    match audience {
        Audience::Submitter => {
            reachable(None, None, kind.essential()).filter(user::Column::Id.eq(facts.submitted_by))
        }
        Audience::User(id) => {
            reachable(None, None, kind.essential()).filter(user::Column::Id.eq(*id))
        }
        Audience::Handlers { role, area } => {
            reachable(Some(*role), area.as_deref(), kind.essential())
        }
    }
}

/// What a message or a webhook call says about the event, as JSON. The
/// fields are in alphabetical order, the order `serde_json::Value` keeps
/// its keys in, so the text is what `json!` of the same fields gave
/// before it (a test checks it), without building a tree of values on
/// every transition: serialized straight into the string bound to the
/// statement.
#[derive(Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    action: &'a str,
    at: String,
    case_id: i64,
    focus_area: &'a str,
    /// A notice's kind; webhooks have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    level: &'a str,
    note: Option<&'a str>,
    outcome: Option<&'a str>,
    owning_ministry: Option<&'a str>,
    reference: &'a str,
    state: &'a str,
    title: &'a str,
}

impl<'a> Payload<'a> {
    fn new(
        case_id: i64,
        facts: &'a CaseFacts,
        after: &doorbraak_core::Status,
        event: &'a Event,
    ) -> Self {
        Payload {
            action: event.action.as_str(),
            at: event.at.to_rfc3339(),
            case_id,
            focus_area: &facts.focus_area,
            kind: None,
            level: after.level.as_str(),
            note: event.note.as_deref(),
            outcome: after
                .resolution
                .as_ref()
                .and_then(|r| r.outcome)
                .map(|o| o.as_str()),
            owning_ministry: facts.rule.owning_ministry.as_deref(),
            reference: &facts.reference,
            state: after.state.as_str(),
            title: &facts.title,
        }
    }

    /// The JSON text, with a notice's `kind`.
    fn text(&self, kind: Option<&'a str>) -> String {
        // Strings, numbers and options only: serializing cannot fail.
        match kind {
            None => serde_json::to_string(self),
            Some(_) => serde_json::to_string(&Payload {
                kind,
                ..self.clone()
            }),
        }
        .unwrap_or_default()
    }
}

/// The outbox rows of one event as `INSERT … SELECT` statements: per
/// notice, the users its audience reaches ([`audience_query`]); for
/// webhooks, the active subscriptions whose areas and ministries match,
/// compared in SQL as whole space-separated words (an empty list matches
/// everything). With a `guard`, every statement writes only when it holds
/// (PostgreSQL: the transition's update took place). Without `webhooks`
/// the webhooks' statement is left out (the SQLite writer thread found no
/// subscription active; [`crate::sqlite_writer`]).
pub(crate) fn outbox_inserts(
    backend: crate::Backend,
    case_id: i64,
    facts: &CaseFacts,
    after: &doorbraak_core::Status,
    event: &Event,
    guard: Option<&Expr>,
    webhooks: bool,
) -> Result<Vec<sea_orm::sea_query::InsertStatement>, StoreError> {
    let rows = Rows::new(case_id, facts, after, event);
    let mut out = rows.notice_inserts(guard)?;
    if webhooks {
        out.push(rows.webhooks(backend, guard)?);
    }
    Ok(out)
}

/// What the outbox rows of one event have in common; they are built by
/// sea-query ([`outbox_inserts`]) or written out ([`Rows::write_notice`],
/// [`Rows::write_webhooks`]) as the same text.
pub(crate) struct Rows<'a> {
    case_id: i64,
    facts: &'a CaseFacts,
    event: &'a Event,
    at: i64,
    base: Payload<'a>,
}

/// The outbox's columns after the channel and the recipient, in the order
/// of [`Rows::constants`].
const REST: [outbox::Column; 6] = [
    outbox::Column::CaseId,
    outbox::Column::Kind,
    outbox::Column::Payload,
    outbox::Column::CreatedAt,
    outbox::Column::NextAttemptAt,
    outbox::Column::Attempts,
];

impl<'a> Rows<'a> {
    pub(crate) fn new(
        case_id: i64,
        facts: &'a CaseFacts,
        after: &doorbraak_core::Status,
        event: &'a Event,
    ) -> Self {
        Rows {
            case_id,
            facts,
            event,
            at: ms(event.at),
            base: Payload::new(case_id, facts, after, event),
        }
    }

    /// The values of the [`REST`] columns.
    fn constants(&self, kind: &str, payload: String) -> [sea_orm::Value; 6] {
        [
            self.case_id.into(),
            kind.to_owned().into(),
            payload.into(),
            self.at.into(),
            self.at.into(),
            0i32.into(),
        ]
    }

    /// `INSERT INTO outbox (channel, who, REST) <select>`, guarded.
    fn insert(
        who: outbox::Column,
        mut select: sea_orm::sea_query::SelectStatement,
        guard: Option<&Expr>,
    ) -> Result<sea_orm::sea_query::InsertStatement, StoreError> {
        if let Some(g) = guard {
            select.and_where(g.clone());
        }
        let mut insert = sea_orm::sea_query::Query::insert();
        insert
            .into_table(outbox::Entity)
            .columns([outbox::Column::Channel, who].into_iter().chain(REST));
        insert
            .select_from(select)
            .map_err(|e| StoreError::Corrupt(format!("outbox insert: {e}")))?;
        Ok(insert)
    }

    fn notice_inserts(
        &self,
        guard: Option<&Expr>,
    ) -> Result<Vec<sea_orm::sea_query::InsertStatement>, StoreError> {
        use sea_orm::QueryTrait;
        let mut out = Vec::new();
        for n in notices(self.facts, self.event) {
            let rest = self.constants(n.kind.as_str(), self.base.text(Some(n.kind.as_str())));
            let mut select = audience_query(self.facts, &n.audience, n.kind)
                .select_only()
                .into_query();
            select
                .expr(Expr::val(Channel::Email.as_str()))
                .expr(Expr::col((user::Entity, user::Column::Id)))
                .exprs(rest.map(Expr::val));
            out.push(Self::insert(outbox::Column::UserId, select, guard)?);
        }
        Ok(out)
    }

    /// The webhooks' values, in the order of the statement's placeholders:
    /// the selected constants, then the conditions' (see [`Rows::webhooks`]).
    fn webhook_values(&self) -> (Vec<sea_orm::Value>, Option<&'a str>) {
        let ministry = self.facts.rule.owning_ministry.as_deref();
        let mut values = Vec::with_capacity(12);
        values.push(Channel::Webhook.as_str().into());
        values.extend(self.constants(self.event.action.as_str(), self.base.text(None)));
        (values, ministry)
    }

    fn webhooks(
        &self,
        backend: crate::Backend,
        guard: Option<&Expr>,
    ) -> Result<sea_orm::sea_query::InsertStatement, StoreError> {
        use sea_orm::sea_query::Query;
        let position = match backend {
            crate::Backend::Postgres => "strpos(' ' || $1 || ' ', ' ' || $2 || ' ') > 0",
            // sea-query's SQLite placeholders are `?`, in order.
            crate::Backend::Sqlite => "instr(' ' || ? || ' ', ' ' || ? || ' ') > 0",
        };
        let listed = |col: webhook_subscription::Column, word: Option<&str>| {
            let empty = Expr::col(col).eq("");
            match word {
                None => empty,
                Some(w) => empty.or(Expr::cust_with_exprs(
                    position,
                    [Expr::col(col), Expr::val(w.to_owned())],
                )),
            }
        };
        let (values, ministry) = self.webhook_values();
        let mut values = values.into_iter().map(Expr::val);
        let mut select = Query::select();
        select
            .exprs(values.next())
            .expr(Expr::col(webhook_subscription::Column::Id))
            .exprs(values)
            .from(webhook_subscription::Entity)
            .and_where(webhook_subscription::Column::Active.eq(true))
            .and_where(listed(
                webhook_subscription::Column::FocusAreas,
                Some(&self.facts.focus_area),
            ))
            .and_where(listed(webhook_subscription::Column::Ministries, ministry));
        Self::insert(outbox::Column::SubscriptionId, select, guard)
    }

    /// The notices of the event.
    pub(crate) fn notices(&self) -> Vec<doorbraak_core::Notice> {
        notices(self.facts, self.event)
    }

    /// One notice's rows ([`Rows::notice_inserts`]) written out into
    /// `sql`, guarded like [`Rows::write_webhooks`].
    pub(crate) fn write_notice(
        &self,
        sql: &mut crate::render::Sql,
        n: &doorbraak_core::Notice,
        guarded: bool,
    ) {
        let payload = self.base.text(Some(n.kind.as_str()));
        sql.push(
            "INSERT INTO \"outbox\" (\"channel\", \"user_id\", \"case_id\", \"kind\", \
             \"payload\", \"created_at\", \"next_attempt_at\", \"attempts\") SELECT ",
        )
        .param(Channel::Email.as_str())
        .push(", \"users\".\"id\", ")
        .params(self.constants(n.kind.as_str(), payload))
        .push(" FROM \"users\" WHERE \"users\".\"active\" = ")
        .param(true)
        .push(" AND \"users\".\"email\" IS NOT NULL");
        if !n.kind.essential() {
            sql.push(" AND \"users\".\"notify_optional\" = ")
                .param(true);
        }
        match &n.audience {
            Audience::Submitter => {
                sql.push(" AND \"users\".\"id\" = ")
                    .param(self.facts.submitted_by);
            }
            Audience::User(id) => {
                sql.push(" AND \"users\".\"id\" = ").param(*id);
            }
            Audience::Handlers { role, area } => {
                sql.push(" AND \"users\".\"role\" = ").param(role.as_str());
                if let Some(a) = area {
                    sql.push(
                        " AND \"users\".\"id\" IN (SELECT \"user_id\" FROM \"user_areas\" \
                         WHERE \"user_areas\".\"area_code\" = ",
                    )
                    .param(a.clone())
                    .push(")");
                }
            }
        }
        if guarded {
            crate::render::guard(sql);
        }
    }

    /// [`Rows::webhooks`] written out into `sql` ([`crate::render`]),
    /// guarded by `EXISTS (SELECT 1 FROM moved)` when `guarded`
    /// (PostgreSQL's one statement).
    pub(crate) fn write_webhooks(&self, sql: &mut crate::render::Sql, guarded: bool) {
        let position = match sql.backend() {
            crate::Backend::Postgres => "strpos",
            crate::Backend::Sqlite => "instr",
        };
        let (values, ministry) = self.webhook_values();
        let mut values = values.into_iter();
        sql.push(
            "INSERT INTO \"outbox\" (\"channel\", \"subscription_id\", \"case_id\", \
            \"kind\", \"payload\", \"created_at\", \"next_attempt_at\", \"attempts\") SELECT ",
        )
        .params(values.next())
        .push(", \"id\", ")
        .params(values)
        .push(" FROM \"webhook_subscriptions\" WHERE \"webhook_subscriptions\".\"active\" = ")
        .param(true);
        let mut listed = |column: &str, word: Option<&str>| {
            sql.push(" AND ");
            match word {
                None => {
                    sql.name(column).push(" = ").param("");
                }
                Some(w) => {
                    sql.push("(")
                        .name(column)
                        .push(" = ")
                        .param("")
                        .push(" OR (")
                        .push(position)
                        .push("(' ' || ")
                        .name(column)
                        .push(" || ' ', ' ' || ")
                        .param(w.to_owned())
                        .push(" || ' ') > 0))");
                }
            }
        };
        listed("focus_areas", Some(&self.facts.focus_area));
        listed("ministries", ministry);
        if guarded {
            crate::render::guard(sql);
        }
    }
}

/// Writes the outbox rows of one event inside its transaction.
pub(crate) async fn enqueue(
    txn: &DatabaseTransaction,
    case_id: i64,
    facts: &CaseFacts,
    after: &doorbraak_core::Status,
    event: &Event,
) -> Result<(), StoreError> {
    let backend = match txn.get_database_backend() {
        sea_orm::DbBackend::Postgres => crate::Backend::Postgres,
        _ => crate::Backend::Sqlite,
    };
    for insert in outbox_inserts(backend, case_id, facts, after, event, None, true)? {
        txn.execute(&insert).await?;
    }
    Ok(())
}

/// [`enqueue`] for a case as stored.
pub(crate) async fn enqueue_case(
    txn: &DatabaseTransaction,
    case: &Case,
    event: &Event,
) -> Result<(), StoreError> {
    enqueue(txn, case.id, &case.facts, &case.status, event).await
}

impl Store {
    /// Up to `limit` rows due at `now` that no worker holds.
    pub async fn due_outbox(
        &self,
        now: Timestamp,
        limit: u64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.count();
        let rows = outbox::Entity::find()
            .filter(outbox::Column::DeliveredAt.is_null())
            .filter(outbox::Column::FailedAt.is_null())
            .filter(outbox::Column::NextAttemptAt.lte(ms(now)))
            .filter(
                Condition::any()
                    .add(outbox::Column::LeaseUntil.is_null())
                    .add(outbox::Column::LeaseUntil.lt(ms(now))),
            )
            .order_by_asc(outbox::Column::Id)
            .at_most(limit, &self.read)
            .await?;
        let user_ids: Vec<i64> = rows.iter().filter_map(|r| r.user_id).collect();
        let sub_ids: Vec<i64> = rows.iter().filter_map(|r| r.subscription_id).collect();
        let emails: std::collections::HashMap<i64, Option<String>> = if user_ids.is_empty() {
            Default::default()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(user_ids))
                .filter(user::Column::Active.eq(true))
                .all(&self.read)
                .await?
                .into_iter()
                .map(|u| (u.id, u.email))
                .collect()
        };
        let subs: std::collections::HashMap<i64, WebhookSubscription> = if sub_ids.is_empty() {
            Default::default()
        } else {
            webhook_subscription::Entity::find()
                .filter(webhook_subscription::Column::Id.is_in(sub_ids))
                .all(&self.read)
                .await?
                .into_iter()
                .map(|s| subscription(s).map(|s| (s.id, s)))
                .collect::<Result<_, _>>()?
        };
        rows.into_iter()
            .map(|r| {
                Ok(OutboxItem {
                    id: r.id,
                    channel: if r.channel == "webhook" {
                        Channel::Webhook
                    } else {
                        Channel::Email
                    },
                    email: r.user_id.and_then(|u| emails.get(&u).cloned().flatten()),
                    subscription: r.subscription_id.and_then(|s| subs.get(&s).cloned()),
                    case_id: r.case_id,
                    kind: r.kind,
                    payload: r.payload,
                    created_at: from_ms(r.created_at)?,
                    attempts: r.attempts,
                })
            })
            .collect()
    }

    /// Takes a row for `lease_until`: `true` for the one worker that wins.
    pub async fn claim_outbox(
        &self,
        id: i64,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool, StoreError> {
        self.count();
        let r = outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseUntil, Expr::value(ms(lease_until)))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::DeliveredAt.is_null())
            .filter(outbox::Column::FailedAt.is_null())
            .filter(
                Condition::any()
                    .add(outbox::Column::LeaseUntil.is_null())
                    .add(outbox::Column::LeaseUntil.lt(ms(now))),
            )
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Records how a claimed attempt ended. `redacted` replaces the payload
    /// (a sign-in link's secret is dropped once sent).
    pub async fn finish_outbox(
        &self,
        id: i64,
        now: Timestamp,
        end: &AttemptEnd,
        redacted: Option<&str>,
    ) -> Result<(), StoreError> {
        self.count();
        let (status, error) = match end {
            AttemptEnd::Delivered { status } => (*status, None),
            AttemptEnd::Retry { status, error, .. } | AttemptEnd::Failed { status, error } => {
                (*status, Some(error.chars().take(500).collect::<String>()))
            }
        };
        let mut u = outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseUntil, Expr::value(Option::<i64>::None))
            .col_expr(outbox::Column::LastStatus, Expr::value(status))
            .col_expr(outbox::Column::LastError, Expr::value(error));
        u = match end {
            AttemptEnd::Delivered { .. } => {
                u.col_expr(outbox::Column::DeliveredAt, Expr::value(ms(now)))
            }
            AttemptEnd::Retry { at, .. } => {
                u.col_expr(outbox::Column::NextAttemptAt, Expr::value(ms(*at)))
            }
            AttemptEnd::Failed { .. } => u.col_expr(outbox::Column::FailedAt, Expr::value(ms(now))),
        };
        if let Some(p) = redacted {
            u = u.col_expr(outbox::Column::Payload, Expr::value(p));
        }
        u.filter(outbox::Column::Id.eq(id))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// Messages made by the service itself; a `dedupe_key` already written
    /// is skipped, so every instance may try.
    pub async fn enqueue_scheduled(
        &self,
        msgs: &[ScheduledMessage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.count();
        for m in msgs {
            let row = outbox::ActiveModel {
                channel: Set(Channel::Email.as_str().to_owned()),
                user_id: Set(Some(m.user_id)),
                case_id: Set(m.case_id),
                kind: Set(m.kind.as_str().to_owned()),
                payload: Set(m.payload.clone()),
                dedupe_key: Set(Some(m.dedupe_key.clone())),
                created_at: Set(ms(now)),
                next_attempt_at: Set(ms(now)),
                attempts: Set(0),
                ..Default::default()
            };
            outbox::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(outbox::Column::DedupeKey)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Active users of a role (in an area), with an address, who want
    /// optional messages (or all, for essential ones).
    pub async fn users_to_tell(
        &self,
        role: Role,
        area: Option<&str>,
        essential: bool,
    ) -> Result<Vec<UserId>, StoreError> {
        self.count();
        Ok(reachable(Some(role), area, essential)
            .select_only()
            .column(user::Column::Id)
            .into_tuple::<i64>()
            .all(&self.read)
            .await?)
    }

    /// A one-time sign-in link and the message that carries it, in one
    /// transaction.
    pub async fn insert_sign_in_link(
        &self,
        token_hash: &str,
        user_id: UserId,
        now: Timestamp,
        expires_at: Timestamp,
        payload: &str,
    ) -> Result<(), StoreError> {
        self.count();
        let txn = self.begin_write().await?;
        sign_in_link::Entity::insert(sign_in_link::ActiveModel {
            token_hash: Set(token_hash.to_owned()),
            user_id: Set(user_id),
            created_at: Set(ms(now)),
            expires_at: Set(ms(expires_at)),
            used_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        outbox::Entity::insert(outbox::ActiveModel {
            channel: Set(Channel::Email.as_str().to_owned()),
            user_id: Set(Some(user_id)),
            kind: Set(MessageKind::SignInLink.as_str().to_owned()),
            payload: Set(payload.to_owned()),
            created_at: Set(ms(now)),
            next_attempt_at: Set(ms(now)),
            attempts: Set(0),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// How many sign-in links a user was sent since `since`.
    pub async fn sign_in_links_since(
        &self,
        user_id: UserId,
        since: Timestamp,
    ) -> Result<u64, StoreError> {
        self.count();
        use sea_orm::PaginatorTrait;
        Ok(sign_in_link::Entity::find()
            .filter(sign_in_link::Column::UserId.eq(user_id))
            .filter(sign_in_link::Column::CreatedAt.gte(ms(since)))
            .count(&self.read)
            .await?)
    }

    /// Uses a sign-in link once: the user, if the link is known, unused and
    /// not expired at `now`. A second use finds nothing.
    pub async fn use_sign_in_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<UserId>, StoreError> {
        self.count();
        let r = sign_in_link::Entity::update_many()
            .col_expr(sign_in_link::Column::UsedAt, Expr::value(ms(now)))
            .filter(sign_in_link::Column::TokenHash.eq(token_hash))
            .filter(sign_in_link::Column::UsedAt.is_null())
            .filter(sign_in_link::Column::ExpiresAt.gt(ms(now)))
            .exec(&self.write)
            .await?;
        if r.rows_affected != 1 {
            return Ok(None);
        }
        Ok(sign_in_link::Entity::find_by_id(token_hash.to_owned())
            .first(&self.write)
            .await?
            .map(|l| l.user_id))
    }

    /// Whether a sign-in link could still be used (for the page the link
    /// opens; nothing is used up).
    pub async fn sign_in_link_usable(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.count();
        Ok(sign_in_link::Entity::find_by_id(token_hash.to_owned())
            .filter(sign_in_link::Column::UsedAt.is_null())
            .filter(sign_in_link::Column::ExpiresAt.gt(ms(now)))
            .first(&self.read)
            .await?
            .is_some())
    }

    pub async fn create_subscription(
        &self,
        url: &str,
        secret: &str,
        areas: &[String],
        ministries: &[String],
        now: Timestamp,
    ) -> Result<WebhookSubscription, StoreError> {
        self.count();
        let m = webhook_subscription::Entity::insert(webhook_subscription::ActiveModel {
            callback_url: Set(url.to_owned()),
            secret: Set(secret.to_owned()),
            focus_areas: Set(areas.join(" ")),
            ministries: Set(ministries.join(" ")),
            active: Set(true),
            created_at: Set(ms(now)),
            ..Default::default()
        })
        .exec_with_returning(&self.write)
        .await?;
        subscription(m)
    }

    pub async fn subscriptions(&self) -> Result<Vec<WebhookSubscription>, StoreError> {
        self.count();
        webhook_subscription::Entity::find()
            .order_by_asc(webhook_subscription::Column::Id)
            .all(&self.read)
            .await?
            .into_iter()
            .map(subscription)
            .collect()
    }

    pub async fn set_subscription_active(&self, id: i64, active: bool) -> Result<bool, StoreError> {
        self.count();
        let r = webhook_subscription::Entity::update_many()
            .col_expr(webhook_subscription::Column::Active, Expr::value(active))
            .filter(webhook_subscription::Column::Id.eq(id))
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected == 1)
    }

    pub async fn delete_subscription(&self, id: i64) -> Result<bool, StoreError> {
        self.count();
        let r = webhook_subscription::Entity::delete_by_id(id)
            .exec(&self.write)
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// A subscription's deliveries, newest first.
    pub async fn deliveries(
        &self,
        subscription_id: i64,
        first: u64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.count();
        outbox::Entity::find()
            .filter(outbox::Column::SubscriptionId.eq(subscription_id))
            .order_by_desc(outbox::Column::Id)
            .at_most(first, &self.read)
            .await?
            .into_iter()
            .map(|r| {
                Ok(DeliveryRecord {
                    id: r.id,
                    case_id: r.case_id,
                    payload: r.payload,
                    created_at: from_ms(r.created_at)?,
                    attempts: r.attempts,
                    delivered_at: r.delivered_at.map(from_ms).transpose()?,
                    failed_at: r.failed_at.map(from_ms).transpose()?,
                    last_status: r.last_status,
                    last_error: r.last_error,
                })
            })
            .collect()
    }

    /// How many rows are waiting (not delivered, not failed).
    pub async fn outbox_waiting(&self) -> Result<u64, StoreError> {
        self.count();
        use sea_orm::PaginatorTrait;
        Ok(outbox::Entity::find()
            .filter(outbox::Column::DeliveredAt.is_null())
            .filter(outbox::Column::FailedAt.is_null())
            .count(&self.read)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::Payload;
    use doorbraak_core::*;

    /// The payload as `json!` wrote it before [`Payload`].
    fn by_value(facts: &CaseFacts, after: &Status, event: &Event, kind: Option<&str>) -> String {
        let mut v = serde_json::json!({
            "caseId": 7,
            "reference": facts.reference,
            "title": facts.title,
            "focusArea": facts.focus_area,
            "owningMinistry": facts.rule.owning_ministry,
            "action": event.action.as_str(),
            "state": after.state.as_str(),
            "level": after.level.as_str(),
            "note": event.note,
            "at": event.at.to_rfc3339(),
            "outcome": after.resolution.as_ref().and_then(|r| r.outcome).map(|o| o.as_str()),
        });
        if let Some(k) = kind {
            v["kind"] = k.into();
        }
        v.to_string()
    }

    /// The same text as before, to the character, with and without a
    /// ministry, an outcome, a note and a notice's kind.
    #[test]
    fn the_payload_text_is_what_json_gave() {
        let at = chrono::DateTime::from_timestamp_millis(1_790_000_000_123).unwrap();
        let mut facts = crate::fixtures::facts(at, None);
        facts.title = "Oppasrooster \"tussen\" ouders".into();
        let mut after = Status {
            assignee: Some(7),
            version: 2,
            ..crate::fixtures::waiting(at)
        };
        let mut event = Event {
            action: EventAction::Case(CaseAction::PickUp),
            from_state: Some(CaseState::AtProgrammeBureau),
            to_state: CaseState::AtProgrammeBureau,
            actor: 7,
            actor_role: Role::ProgrammeBureau,
            note: None,
            at,
            effect: crate::fixtures::effect(&after),
            meeting: None,
        };
        for round in 0..2 {
            for kind in [None, Some("case_resolved")] {
                let p = Payload::new(7, &facts, &after, &event);
                assert_eq!(p.text(kind), by_value(&facts, &after, &event, kind));
            }
            if round == 0 {
                facts.rule.owning_ministry = Some("SZW".into());
                event.note = Some("Opgelost met een uitzondering.\nTot ziens".into());
                after.state = CaseState::Resolved;
                after.resolution = Some(Resolution {
                    outcome: Some(Outcome::IncidentalBreakthrough),
                    explanation: "Uitzondering verleend.".into(),
                    funds_unlocked: Euros::from_cents(125_050),
                    level: Level::ProgrammeBureau,
                    decided_at: at,
                    effective_from: None,
                    experiment_ends: None,
                    evaluation_date: None,
                });
            }
        }
    }
}
