//! Per-chunk text checks that need no model: emptiness, encoding damage, language.

use serde::Serialize;

/// Encoding damage found in one chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Damage {
    /// U+FFFD replacement characters (bytes that were not valid UTF-8 when read).
    pub replacement: usize,
    /// Mojibake pairs: UTF-8 bytes read as Latin-1 or Windows-1252 ("Ã©" for "é", "â€™" for
    /// "’").
    pub mojibake: usize,
    /// Control characters other than tab, line feed and carriage return (C0, DEL, C1).
    pub control: usize,
}

impl Damage {
    /// Whether anything was found.
    pub fn any(&self) -> bool {
        self.replacement + self.mojibake + self.control > 0
    }
}

/// Windows-1252's characters for the bytes 0x80-0x9F, which a UTF-8 continuation byte
/// becomes when read as Windows-1252.
const CP1252_HIGH: &str = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";

/// Whether `c` is what a UTF-8 continuation byte (0x80-0xBF) reads as in Latin-1 or
/// Windows-1252.
fn continuation(c: char) -> bool {
    ('\u{80}'..='\u{BF}').contains(&c) || CP1252_HIGH.contains(c)
}

/// Counts the encoding damage in `text`.
pub fn damage(text: &str) -> Damage {
    let mut d = Damage::default();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c == '\u{FFFD}' {
            d.replacement += 1;
        } else if (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || ('\u{80}'..='\u{9F}').contains(&c)
        {
            d.control += 1;
        }
        // A UTF-8 lead byte of a 2-4 byte sequence (0xC2-0xF4) read as Latin-1, followed by a
        // continuation byte read the same way.
        if let Some(p) = prev {
            if ('\u{C2}'..='\u{F4}').contains(&p) && continuation(c) {
                d.mojibake += 1;
            }
        }
        prev = Some(c);
    }
    d
}

/// The language of a chunk, when whatlang is confident.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    /// ISO 639-3 code (`eng`, `deu`, `fra`).
    pub code: &'static str,
    /// English name.
    pub name: &'static str,
}

/// Characters of a chunk read for its language: whatlang's trigram scores settle well within
/// them, and its cost grows with the length (half of `health`'s time on debian-30k at 2,000).
const LANGUAGE_CHARS: usize = 600;

/// The language of `text`, or `None` when whatlang is not reliable (short or mixed text).
pub fn language(text: &str) -> Option<Language> {
    let end = text
        .char_indices()
        .nth(LANGUAGE_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let info = whatlang::detect(&text[..end])?;
    if !info.is_reliable() {
        return None;
    }
    Some(Language {
        code: info.lang().code(),
        name: info.lang().eng_name(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_is_counted_by_kind() {
        assert!(!damage("Plain text, with tabs\tand\nnew lines. Café, naïve, 東京.").any());
        let d = damage("CafÃ© and itâ€™s \u{FFFD} here\u{7}");
        assert_eq!(d.mojibake, 2, "Ã© and â€");
        assert_eq!(d.replacement, 1);
        assert_eq!(d.control, 1);
        assert_eq!(damage("\u{0}\u{1b}[0m\u{85}").control, 3);
    }

    #[test]
    fn languages_are_named() {
        let de = "Dieses Paket enthält die Dokumentation für die Bibliothek und einige Beispiele, die zeigen, wie man sie benutzt.";
        let fr = "Ce paquet contient la documentation de la bibliothèque ainsi que des exemples qui montrent comment l'utiliser.";
        let en = "This package contains the documentation for the library and a few examples that show how to use it.";
        assert_eq!(language(de).unwrap().code, "deu");
        assert_eq!(language(fr).unwrap().code, "fra");
        assert_eq!(language(en).unwrap().code, "eng");
        assert_eq!(language(""), None);
    }
}
