//! The precedent search's words and ranking: what a query's words are,
//! when a text holds them, and which matches come first.
//!
//! A word is a run of letters and digits, compared without case and
//! without diacritics ("Café" and "cafe" are the same word), as SQLite's
//! full-text index (`unicode61 remove_diacritics 2`) compares them. A
//! query word is found where some word of the text starts with it:
//! "toeslag" finds "toeslagen". On SQLite the store finds the candidates
//! newest first through that index and this module checks (where the index
//! could only narrow them down) and ranks them. PostgreSQL matches whole
//! Dutch word stems instead and ranks with its own `ts_rank`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// At most this many words of a query count.
pub const MAX_QUERY_WORDS: usize = 8;

/// Words shorter than this are left out of a query (they would match
/// nearly everything).
pub const MIN_WORD_CHARS: usize = 2;

/// A word as it is compared: lower case, diacritics removed.
pub fn fold(word: &str) -> String {
    // Most words are plain ASCII, where folding is lower-casing.
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of a text, folded.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold)
}

/// The words a query searches for: in lower case (diacritics kept, for
/// PostgreSQL's stemmer), at least [`MIN_WORD_CHARS`] long, the first
/// [`MAX_QUERY_WORDS`], each once.
pub fn query_words(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let lower = query
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase);
    for w in lower {
        if w.chars().count() >= MIN_WORD_CHARS && !out.contains(&w) {
            out.push(w);
            if out.len() == MAX_QUERY_WORDS {
                break;
            }
        }
    }
    out
}

/// True when every query word starts some word of the text.
pub fn holds_every_word(query: &[String], text: &str) -> bool {
    let text: Vec<String> = words(text).collect();
    query
        .iter()
        .map(|q| fold(q))
        .all(|q| text.iter().any(|t| t.starts_with(q.as_str())))
}

/// BM25's usual constants: how fast repeated words stop adding weight,
/// and how much a long text is discounted.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Orders matches, best first: the indexes into `texts`, most relevant
/// first, and among equals in the order given (the store gives the newest
/// first). Relevance is BM25 over the matches themselves: a word that
/// occurs more often, in a shorter text, weighs more, with diminishing
/// returns. (Every match holds every word, so each word is equally rare
/// among them and no inverse document frequency is needed.)
pub fn rank(query: &[String], texts: &[&str]) -> Vec<usize> {
    let query: Vec<String> = query.iter().map(|q| fold(q)).collect();
    let docs: Vec<Vec<String>> = texts.iter().map(|t| words(t).collect()).collect();
    let mean =
        (docs.iter().map(Vec::len).sum::<usize>() as f64 / docs.len().max(1) as f64).max(1.0);
    let score = |doc: &Vec<String>| -> f64 {
        let norm = K1 * (1.0 - B + B * doc.len() as f64 / mean);
        query
            .iter()
            .map(|q| {
                let tf = doc.iter().filter(|t| t.starts_with(q.as_str())).count() as f64;
                tf * (K1 + 1.0) / (tf + norm)
            })
            .sum()
    };
    let scores: Vec<f64> = docs.iter().map(score).collect();
    let mut order: Vec<usize> = (0..texts.len()).collect();
    // A stable sort keeps the given order among equal scores.
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<String> {
        query_words(s)
    }

    #[test]
    fn words_are_folded_and_short_ones_dropped() {
        assert_eq!(
            q("Café, de WMO-regels!"),
            vec!["café", "de", "wmo", "regels"]
        );
        assert_eq!(q("a b ç"), Vec::<String>::new());
        assert_eq!(q("wet wet Wet"), vec!["wet"]);
        assert_eq!(q("a1 b2 c3 d4 e5 f6 g7 h8 i9 j10").len(), MAX_QUERY_WORDS);
        // A decomposed accent folds like a composed one.
        assert_eq!(fold("e\u{0301}e"), fold("ée"));
    }

    #[test]
    fn every_word_must_start_a_word_of_the_text() {
        let text = "Participatiewet art. 31: de kostendelersnorm geldt niet voor Éénoudergezinnen.";
        assert!(holds_every_word(&q("participatie kostendeler"), text));
        assert!(holds_every_word(&q("eenouder"), text));
        assert!(holds_every_word(&q("Éénouder"), text));
        assert!(
            !holds_every_word(&q("participatie norm"), text),
            "norm is inside a word, not at its start"
        );
        assert!(!holds_every_word(&q("participatie toeslag"), text));
        assert!(holds_every_word(&q("31 art"), text));
    }

    #[test]
    fn more_occurrences_in_shorter_texts_rank_first_and_ties_keep_their_order() {
        let query = q("toeslag");
        let texts = [
            "Toeslag: een lange uitleg over veel andere dingen dan alleen dat ene woord hier",
            "Toeslag toeslagen",
            "Toeslag kort",
            "Toeslag kort",
        ];
        assert_eq!(rank(&query, &texts), vec![1, 2, 3, 0]);
        assert_eq!(rank(&query, &[]), Vec::<usize>::new());
    }
}
