//! sea-orm entities, one per table. Plain rows: the conversions to the
//! core's types live in the repository modules.

pub mod agenda_item;
pub mod barrier;
pub mod case;
pub mod case_event;
pub mod focus_area;
pub mod meeting;
pub mod ministry;
pub mod service_norm;
pub mod session;
pub mod user;
pub mod user_area;
