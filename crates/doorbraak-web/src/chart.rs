//! Charts drawn on the server as SVG. Every chart comes with a table of
//! the same figures, so nobody needs to read the picture.

use maud::{Markup, html};

/// One bar: its label, its value, and the value as shown.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

/// A horizontal bar chart with its figures in a table below it.
pub fn bars(id: &str, caption: &str, headers: (&str, &str), data: &[Bar]) -> Markup {
    const WIDTH: f64 = 600.0;
    const LABEL: f64 = 210.0;
    const ROW: f64 = 30.0;
    let max = data.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let height = ROW * data.len().max(1) as f64 + 10.0;
    let room = WIDTH - LABEL - 90.0;
    html! {
        figure.chart aria-labelledby={ (id) "-titel" } {
            figcaption id={ (id) "-titel" } { (caption) }
            @if data.is_empty() {
                p.empty { "Nog geen cijfers." }
            } @else {
                svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-labelledby={ (id) "-titel" } focusable="false" {
                    @for (i, b) in data.iter().enumerate() {
                        @let y = 5.0 + i as f64 * ROW;
                        @let w = if max > 0.0 { (b.value / max * room).max(if b.value > 0.0 { 2.0 } else { 0.0 }) } else { 0.0 };
                        text.label x=(LABEL - 8.0) y=(y + 19.0) text-anchor="end" { (truncate(&b.label, 30)) }
                        rect.bar x=(LABEL) y=(y + 4.0) width=(format!("{w:.1}")) height=(ROW - 10.0) {}
                        text.value x=(LABEL + w + 6.0) y=(y + 19.0) { (b.shown) }
                    }
                }
                div.table-wrap {
                    table {
                        caption.visually-hidden { (caption) ": de cijfers" }
                        thead { tr { th scope="col" { (headers.0) } th scope="col" class="num" { (headers.1) } } }
                        tbody {
                            @for b in data { tr { th scope="row" { (b.label) } td.num { (b.shown) } } }
                        }
                    }
                }
            }
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
