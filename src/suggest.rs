//! "Did you mean": the known name closest to a mistyped one, for errors that point
//! at the fix. A leaf, used by `config` (keys, choices, zones) and `db` (tables and
//! columns of the live catalog).

/// The closest of `candidates` to `word`, if one is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn a_typo_finds_its_word_and_nonsense_finds_none() {
        let keys = ["table", "timestamp", "keep"];
        assert_eq!(did_you_mean("tabel", keys), Some("table"));
        assert_eq!(did_you_mean("TIMESTAMP", keys), Some("timestamp"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
