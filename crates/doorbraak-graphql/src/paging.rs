//! One way to page through a list: Relay connections with one cursor
//! format, `base64url("<list>:<id>")` (`case:42`, `barrier:7`,
//! `meeting:3`). Lists are ordered by id, so a cursor is the id of the last
//! row seen.
//!
//! Barrier and meeting cursors used to be the bare id (`"7"`); those are
//! still read, so cursors clients hold stay valid.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::errors::{ApiResult, validation};
use crate::types::PageInfo;

/// Rows per page when the client does not say.
pub const DEFAULT_PAGE: i32 = 20;
/// Most rows per page.
pub const MAX_PAGE: i32 = 100;

/// What a client asked of a list: how many rows, after which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub first: u64,
    pub after: Option<i64>,
}

/// The cursor of row `id` of list `list`.
pub fn cursor(list: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}:{id}"))
}

fn parse_cursor(list: &str, c: &str) -> Option<i64> {
    let from_text = |t: &str| t.parse::<i64>().ok().filter(|id| *id > 0);
    if let Some(id) = URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix(list)?.strip_prefix(':').and_then(from_text))
    {
        return Some(id);
    }
    // The earlier format of the register's and the meetings' cursors.
    (list != "case").then(|| from_text(c)).flatten()
}

/// Reads `first` (1 to 100, default 20) and `after` for list `list`.
pub fn paging(list: &str, first: Option<i32>, after: Option<&str>) -> ApiResult<Paging> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(validation(
            "first",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let after = match after {
        None => None,
        Some(c) => Some(
            parse_cursor(list, c)
                .ok_or_else(|| validation("after", "is not a cursor of this list"))?,
        ),
    };
    Ok(Paging {
        first: first as u64,
        after,
    })
}

/// The edges of a page and its page information, each edge with its
/// cursor.
pub fn page<T, E>(
    list: &str,
    rows: Vec<T>,
    id: impl Fn(&T) -> i64,
    edge: impl Fn(String, T) -> E,
    has_next: bool,
    paging: Paging,
) -> (Vec<E>, PageInfo) {
    let cursors: Vec<String> = rows.iter().map(|r| cursor(list, id(r))).collect();
    let info = PageInfo {
        has_next_page: has_next,
        has_previous_page: paging.after.is_some(),
        start_cursor: cursors.first().cloned(),
        end_cursor: cursors.last().cloned(),
    };
    let edges = rows
        .into_iter()
        .zip(cursors)
        .map(|(r, c)| edge(c, r))
        .collect();
    (edges, info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_format_and_the_old_one_still_read() {
        assert_eq!(parse_cursor("case", &cursor("case", 42)), Some(42));
        assert_eq!(parse_cursor("barrier", &cursor("barrier", 7)), Some(7));
        assert_eq!(
            parse_cursor("barrier", &cursor("meeting", 7)),
            None,
            "another list's"
        );
        assert_eq!(
            parse_cursor("meeting", "3"),
            Some(3),
            "a cursor from before"
        );
        assert_eq!(parse_cursor("case", "3"), None);
        assert_eq!(parse_cursor("case", "not a cursor"), None);
        assert!(paging("case", Some(0), None).is_err());
        assert!(paging("case", Some(101), None).is_err());
        assert_eq!(
            paging("meeting", None, Some("5")).unwrap(),
            Paging {
                first: 20,
                after: Some(5)
            }
        );
    }
}
