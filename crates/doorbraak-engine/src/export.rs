//! The barrier register as CSV, for the API's `/export/barriers.csv` and the
//! pages' download alike: UTF-8 with a byte-order mark and `;` between
//! fields, so that it opens cleanly in a spreadsheet set to Dutch (where
//! `,` is the decimal sign).

use doorbraak_core::Principal;
use doorbraak_store::BarrierQuery;

use crate::{Engine, EngineError};

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return in front) gets a `'` in front, so it shows as
/// text. Quoting is the `csv` writer's.
fn defused(v: &str) -> std::borrow::Cow<'_, str> {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{v}"))
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

fn csv_error(e: impl std::fmt::Display) -> EngineError {
    EngineError::Internal(format!("cannot write CSV: {e}"))
}

impl Engine {
    /// The register as the caller may see it, filtered like a list.
    pub async fn barriers_csv(
        &self,
        p: &Principal,
        q: &BarrierQuery,
    ) -> Result<Vec<u8>, EngineError> {
        let mut out = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::from("\u{feff}".as_bytes()));
        out.write_record([
            "id",
            "citation",
            "bwb_id",
            "scope",
            "owning_ministry",
            "status",
            "decision_outcome",
            "decided_at",
            "effective_from",
            "experiment_ends",
            "evaluation_date",
            "in_force_on",
            "cases",
            "areas",
        ])
        .map_err(csv_error)?;
        let mut after = None;
        loop {
            let (rows, more) = self.barriers(p, q, after, 100).await?;
            let cases = self.barrier_cases(p, &rows).await?;
            for b in &rows {
                let linked = cases.get(&b.id).map(Vec::as_slice).unwrap_or_default();
                let mut areas: Vec<&str> = linked.iter().map(|c| c.focus_area.as_str()).collect();
                areas.sort_unstable();
                areas.dedup();
                let date =
                    |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
                let fields = [
                    b.id.to_string(),
                    b.citation.clone(),
                    b.bwb_id.clone().unwrap_or_default(),
                    b.scope.as_str().to_owned(),
                    b.owning_ministry.clone(),
                    b.status.as_str().to_owned(),
                    b.decision_outcome
                        .map(|o| o.as_str().to_owned())
                        .unwrap_or_default(),
                    b.decided_at
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                    date(b.effective_from),
                    date(b.experiment_ends),
                    date(b.evaluation_date),
                    date(b.in_force_on),
                    linked.len().to_string(),
                    areas.join(" "),
                ];
                out.write_record(fields.iter().map(|f| defused(f).into_owned()))
                    .map_err(csv_error)?;
            }
            if !more {
                break;
            }
            after = rows.last().map(|b| b.id);
        }
        out.into_inner().map_err(csv_error)
    }
}

#[cfg(test)]
mod tests {
    use super::defused;

    #[test]
    fn cells_are_defused_and_quoted() {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let cells = [
            "=SUM(A1:A9)",
            "+31 6",
            "-1",
            "@cmd",
            "a;b",
            "zei \"ja\"",
            "regel\nnieuw",
            "Wet art. 3",
        ];
        w.write_record(cells.iter().map(|c| defused(c).into_owned()))
            .unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            line,
            "'=SUM(A1:A9);'+31 6;'-1;'@cmd;\"a;b\";\"zei \"\"ja\"\"\";\"regel\nnieuw\";Wet art. 3\r\n"
        );
    }
}
