//! Who hears about what: the messages an event sends, as plain data. The
//! store writes them to the outbox in the event's own transaction; a worker
//! sends them. Nothing here knows addresses or templates.

use crate::UserId;
use crate::machine::{CaseFacts, Event, EventAction, handler_role};
use crate::model::{CaseAction, CaseState, Role};

/// Who a message is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The professional who submitted the case.
    Submitter,
    /// One user (the handler who asked a question).
    User(UserId),
    /// Everyone with this role in the case's focus area (or, for the
    /// national secretariat, everyone with the role).
    Handlers { role: Role, area: Option<String> },
}

/// What a message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// To the submitter: the case is in, with its reference.
    Receipt,
    /// To the submitter: the case moved to another level.
    Moved,
    /// To the submitter: a question, with a link to answer it.
    Question,
    /// To the submitter: the decision, with its explanation.
    Decision,
    /// To the submitter: closed (rejected or merged), with the reason.
    Closed,
    /// To handlers: a case entered their queue.
    EnteredQueue,
    /// To the handler who asked: the answer arrived.
    Answered,
    /// To handlers: a deadline is two days away.
    DeadlineSoon,
    /// To the programme bureau (per area) and the secretariat (national):
    /// the weekly list of stuck cases.
    Digest,
    /// A one-time sign-in link.
    SignInLink,
}

impl MessageKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageKind::Receipt => "RECEIPT",
            MessageKind::Moved => "MOVED",
            MessageKind::Question => "QUESTION",
            MessageKind::Decision => "DECISION",
            MessageKind::Closed => "CLOSED",
            MessageKind::EnteredQueue => "ENTERED_QUEUE",
            MessageKind::Answered => "ANSWERED",
            MessageKind::DeadlineSoon => "DEADLINE_SOON",
            MessageKind::Digest => "DIGEST",
            MessageKind::SignInLink => "SIGN_IN_LINK",
        }
    }
    pub fn parse(s: &str) -> Option<MessageKind> {
        use MessageKind::*;
        [
            Receipt,
            Moved,
            Question,
            Decision,
            Closed,
            EnteredQueue,
            Answered,
            DeadlineSoon,
            Digest,
            SignInLink,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    /// Essential messages arrive even for someone who turned messages off:
    /// a question to the submitter (it stops the clock), the decision on
    /// their own case, and a sign-in link they asked for.
    pub const fn essential(self) -> bool {
        matches!(
            self,
            MessageKind::Question
                | MessageKind::Decision
                | MessageKind::Closed
                | MessageKind::SignInLink
        )
    }
}

/// One message an event sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub audience: Audience,
    pub kind: MessageKind,
}

/// The handlers whose queue a case enters when it reaches `state`.
fn queue_of(facts: &CaseFacts, state: CaseState) -> Option<Audience> {
    let level = state.active_level()?;
    let role = handler_role(level);
    let area = (role != Role::BreakthroughSecretariat).then(|| facts.focus_area.clone());
    Some(Audience::Handlers { role, area })
}

/// The messages `event` sends about the case with these facts. The
/// submitter hears every step that matters to them; handlers hear when a
/// case enters their queue and when an answer they asked for arrives.
pub fn notices(facts: &CaseFacts, event: &Event) -> Vec<Notice> {
    let n = |audience, kind| Notice { audience, kind };
    let to = event.to_state;
    let mut out = Vec::new();
    match event.action {
        EventAction::Submit => {
            out.push(n(Audience::Submitter, MessageKind::Receipt));
            out.extend(queue_of(facts, to).map(|a| n(a, MessageKind::EnteredQueue)));
        }
        EventAction::LinkBarrier => {}
        EventAction::Case(a) => match a {
            CaseAction::PickUp | CaseAction::Release | CaseAction::Withdraw => {}
            CaseAction::Escalate | CaseAction::ReferBack | CaseAction::Contest => {
                out.push(n(Audience::Submitter, MessageKind::Moved));
                out.extend(queue_of(facts, to).map(|a| n(a, MessageKind::EnteredQueue)));
            }
            CaseAction::RequestInformation => {
                out.push(n(Audience::Submitter, MessageKind::Question))
            }
            CaseAction::ProvideInformation => {
                if let Some(asker) = event.effect.assignee {
                    out.push(n(Audience::User(asker), MessageKind::Answered));
                } else {
                    out.extend(queue_of(facts, to).map(|a| n(a, MessageKind::Answered)));
                }
            }
            CaseAction::Resolve | CaseAction::CloseNoBreakthrough => {
                out.push(n(Audience::Submitter, MessageKind::Decision));
            }
            CaseAction::Reject | CaseAction::Merge => {
                out.push(n(Audience::Submitter, MessageKind::Closed))
            }
        },
    }
    out
}
