//! Normalisation and tokenising of Spanish citizen text, done once per message and shared by
//! every stage (rules, classifiers, gazetteer, knowledge base).
//!
//! The normalised form is **pure ASCII**, lower case, with one space between tokens. That is a
//! design decision taken together with the matcher: the lazy DFA of `regex` gives up on Unicode
//! word boundaries over non-ASCII text, while over ASCII text with ASCII boundaries it stays fast.
//! So:
//!
//! * Unicode is decomposed (NFD, which also covers text that arrives decomposed) and accents are
//!   folded: `á → a`, `ü → u`, `ç → c`.
//! * `ñ` stays distinguishable from `n`: it becomes `ny` (as in Catalan), so `año` (`anyo`) never
//!   meets `ano`, and `peña` (`penya`) never meets `pena`.
//! * letters repeated three times or more are squeezed to one (`holaaaa → hola`, `calleeee →
//!   calle`), while legitimate doubles (`ll`, `rr`, `cc`, `ee`) stay;
//! * a question mark (`?` or `¿`) becomes a token `?` of its own, once per run: it is the
//!   strongest cue that a message asks for information;
//! * other punctuation, emoji and symbols separate tokens; separators between digits (`10:30`, `3,5`,
//!   `12/05`) and a hyphen before a digit (`SE-30`, `SEV-2026-004213`) are kept inside the token;
//! * a lexicon rewrites chat shorthand and common regional spellings token by token (`xq →
//!   porque`, `q → que`, `porfa → por favor`, `pa → para`, `c/ → calle`), and Andalusian dropped
//!   intervocalic `d` is restored on participles (`atascao → atascado`).
//!
//! ```
//! use civic_router::text::Normalizer;
//!
//! let n = Normalizer::spanish();
//! let t = n.normalize("¡¡Holaaaa!! Xq la FAROLA de la C/ Feria está apagá?? 😡");
//! assert_eq!(t.as_str(), "hola porque la farola de la calle feria esta apagada ?");
//! assert_eq!(t.tokens().count(), 11);
//! assert_eq!(n.normalize("Año").as_str(), "anyo");
//! ```

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Text after normalisation: ASCII, lower case, tokens separated by one space.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct NormalizedText {
    text: String,
    /// Byte spans of tokens in `text`.
    spans: Vec<(u32, u32)>,
}

impl NormalizedText {
    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The normalised text, consuming the value.
    pub fn into_string(self) -> String {
        self.text
    }

    /// The tokens, in order.
    pub fn tokens(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.spans
            .iter()
            .map(move |&(s, e)| &self.text[s as usize..e as usize])
    }

    /// Byte spans `(start, end)` of the tokens in [`as_str`](Self::as_str).
    pub fn spans(&self) -> &[(u32, u32)] {
        &self.spans
    }

    /// Whether there is no token at all.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Length of the normalised text in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }
}

impl fmt::Debug for NormalizedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NormalizedText({:?})", self.text)
    }
}

impl fmt::Display for NormalizedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Maximum bytes of input normalised; the rest of a longer text is ignored by the pipeline
/// (a WhatsApp text is at most 4,096 characters, an Open311 description 4,000).
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// A text normaliser: the folding rules plus a lexicon of token rewrites.
///
/// Build one with [`Normalizer::spanish`] (the default lexicon), extend it with
/// [`Normalizer::with_rewrite`], and share it: it is immutable and `Send + Sync`.
#[derive(Clone)]
pub struct Normalizer {
    /// token → replacement (one or more tokens, space separated, already normalised)
    rewrites: rustc_hash::FxHashMap<String, String>,
    /// words ending in `ao` that are not participles with a dropped `d`
    ao_exceptions: Vec<&'static str>,
    restore_ado: bool,
}

impl fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Normalizer")
            .field("rewrites", &self.rewrites.len())
            .field("restore_ado", &self.restore_ado)
            .finish()
    }
}

impl Default for Normalizer {
    fn default() -> Self {
        Normalizer::spanish()
    }
}

/// The default Spanish lexicon: chat shorthand, frequent misspellings and regional forms.
const SPANISH_REWRITES: &[(&str, &str)] = &[
    // chat shorthand
    ("xq", "porque"),
    ("pq", "porque"),
    ("porq", "porque"),
    ("xk", "porque"),
    ("pk", "porque"),
    ("q", "que"),
    ("k", "que"),
    ("ke", "que"),
    ("qe", "que"),
    ("porfa", "por favor"),
    ("porfi", "por favor"),
    ("xfa", "por favor"),
    ("xfavor", "por favor"),
    ("pls", "por favor"),
    ("plis", "por favor"),
    ("tb", "tambien"),
    ("tmb", "tambien"),
    ("tbn", "tambien"),
    ("tambn", "tambien"),
    ("dnd", "donde"),
    ("xa", "para"),
    ("msj", "mensaje"),
    ("info", "informacion"),
    ("ayto", "ayuntamiento"),
    ("aki", "aqui"),
    ("aqi", "aqui"),
    ("kiero", "quiero"),
    ("kería", "queria"),
    ("keria", "queria"),
    ("hai", "hay"),
    ("ahy", "hay"),
    ("bn", "bien"),
    ("mñn", "manyana"),
    ("mñana", "manyana"),
    ("tlf", "telefono"),
    ("tfno", "telefono"),
    ("telf", "telefono"),
    ("n", "numero"),
    ("num", "numero"),
    ("avda", "avenida"),
    ("avd", "avenida"),
    ("av", "avenida"),
    ("pza", "plaza"),
    ("pl", "plaza"),
    ("bda", "barriada"),
    ("urb", "urbanizacion"),
    // regional and spoken forms
    ("pa", "para"),
    ("pal", "para el"),
    ("na", "nada"),
    ("to", "todo"),
    ("toa", "toda"),
    ("toas", "todas"),
    ("mu", "muy"),
    ("ta", "esta"),
    ("tan", "estan"),
    ("asin", "asi"),
    ("haiga", "haya"),
    ("vais", "vais"),
];

/// Words that end in `ao` but are not participles.
const AO_EXCEPTIONS: &[&str] = &[
    "bacalao", "cacao", "sarao", "callao", "bilbao", "macao", "curasao", "cao", "nao", "ciao",
    "bao", "laos",
];

impl Normalizer {
    /// The normaliser with the default Spanish lexicon.
    pub fn spanish() -> Self {
        let mut n = Normalizer::plain();
        for (from, to) in SPANISH_REWRITES {
            n = n.with_rewrite(from, to);
        }
        n.ao_exceptions = AO_EXCEPTIONS.to_vec();
        n.restore_ado = true;
        n
    }

    /// A normaliser that only folds (no lexicon, no participle restoration).
    ///
    /// ```
    /// use civic_router::text::Normalizer;
    /// assert_eq!(Normalizer::plain().normalize("Q pasa").as_str(), "q pasa");
    /// ```
    pub fn plain() -> Self {
        Normalizer {
            rewrites: rustc_hash::FxHashMap::default(),
            ao_exceptions: Vec::new(),
            restore_ado: false,
        }
    }

    /// Adds (or replaces) a token rewrite. Both sides are folded first; a `to` of several
    /// words yields several tokens.
    ///
    /// ```
    /// use civic_router::text::Normalizer;
    /// let n = Normalizer::spanish().with_rewrite("lipa", "lipasam");
    /// assert_eq!(n.normalize("llamad a Lipa").as_str(), "llamad a lipasam");
    /// ```
    pub fn with_rewrite(mut self, from: &str, to: &str) -> Self {
        let key = Normalizer::plain().normalize(from).as_str().to_string();
        let val = Normalizer::plain().normalize(to).as_str().to_string();
        if !key.is_empty() && !key.contains(' ') {
            self.rewrites.insert(key, val);
        }
        self
    }

    /// Normalises a text. Never fails: anything it cannot represent becomes a separator.
    /// Input beyond [`MAX_INPUT_BYTES`] is ignored.
    pub fn normalize(&self, input: &str) -> NormalizedText {
        let input = truncate_at_char_boundary(input, MAX_INPUT_BYTES);
        let folded = fold(input);
        self.tokenize(&folded)
    }

    /// Normalises a *plain word pattern* of a rule exactly as message text is normalised, so
    /// the two always meet.
    pub fn normalize_phrase(&self, phrase: &str) -> String {
        self.normalize(phrase).text
    }

    fn tokenize(&self, folded: &str) -> NormalizedText {
        let mut out = NormalizedText {
            text: String::with_capacity(folded.len()),
            spans: Vec::with_capacity(folded.len() / 5 + 1),
        };
        let mut words = Words {
            rest: folded.as_bytes(),
            src: folded,
        };
        while let Some(raw) = words.next() {
            // letters spelled one by one ("i b i", "d n i" in speech transcripts) are joined
            if is_lone_letter(raw) {
                let mut ahead = words.clone();
                let (mut run, mut consonant) = (1, !"aeiouy".contains(raw));
                while let Some(t) = ahead.next().filter(|t| is_lone_letter(t)) {
                    run += 1;
                    consonant |= !"aeiouy".contains(t);
                }
                if run >= 3 && consonant {
                    let mut joined = String::with_capacity(run);
                    joined.push_str(raw);
                    for _ in 1..run {
                        joined.push_str(words.next().unwrap_or_default());
                    }
                    push_token(&mut out, &joined);
                    continue;
                }
            }
            let tok = squeeze(raw);
            if let Some(rep) = self.rewrites.get(tok.as_ref()) {
                for part in rep.split(' ') {
                    push_token(&mut out, part);
                }
                continue;
            }
            if self.restore_ado
                && tok.len() >= 5
                && tok.ends_with("ao")
                && tok.bytes().all(|b| b.is_ascii_lowercase())
                && !self.ao_exceptions.contains(&tok.as_ref())
            {
                let stem = &tok[..tok.len() - 1];
                let mut s = String::with_capacity(tok.len() + 1);
                s.push_str(stem);
                s.push_str("do");
                push_token(&mut out, &s);
                continue;
            }
            push_token(&mut out, &tok);
        }
        out
    }
}

fn is_lone_letter(t: &str) -> bool {
    t.len() == 1 && t.as_bytes()[0].is_ascii_lowercase()
}

/// The words of a folded text: split at spaces, empty ones skipped. (A byte loop: the words are
/// short, and `str::split` searched each with `memchr`, which cost more than the word.)
#[derive(Clone)]
struct Words<'a> {
    src: &'a str,
    rest: &'a [u8],
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let skip = self.rest.iter().take_while(|&&b| b == b' ').count();
        self.rest = &self.rest[skip..];
        if self.rest.is_empty() {
            return None;
        }
        let len = self.rest.iter().take_while(|&&b| b != b' ').count();
        let start = self.src.len() - self.rest.len();
        self.rest = &self.rest[len..];
        // spaces are ASCII, so both ends are character boundaries
        self.src.get(start..start + len)
    }
}

fn push_token(out: &mut NormalizedText, tok: &str) {
    if tok.is_empty() {
        return;
    }
    if !out.text.is_empty() {
        out.text.push(' ');
    }
    let start = out.text.len() as u32;
    out.text.push_str(tok);
    out.spans.push((start, out.text.len() as u32));
}

fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Squeezes runs of three or more identical letters to one.
fn squeeze(tok: &str) -> std::borrow::Cow<'_, str> {
    let b = tok.as_bytes();
    let mut needs = false;
    for w in b.windows(3) {
        if w[0] == w[1] && w[1] == w[2] && w[0].is_ascii_alphabetic() {
            needs = true;
            break;
        }
    }
    if !needs {
        return std::borrow::Cow::Borrowed(tok);
    }
    let mut s = String::with_capacity(tok.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let mut j = i + 1;
        while j < b.len() && b[j] == c {
            j += 1;
        }
        let run = j - i;
        if c.is_ascii_alphabetic() && run >= 3 {
            s.push(c as char);
        } else {
            for _ in 0..run {
                s.push(c as char);
            }
        }
        i = j;
    }
    std::borrow::Cow::Owned(s)
}

/// Folds a text to lower-case ASCII words separated by single spaces (before the lexicon).
///
/// Accented final `á` of a word (`apagá`, `rompía`) is folded to `a`; the Andalusian feminine
/// participle (`apagá` for `apagada`) is restored here, where the accent is still visible.
fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    let mut pending_space = false;
    // last char pushed (ASCII), used for ñ detection and digit context
    let mut chars = Decomposed::new(input);
    loop {
        // most of a message is runs of ASCII letters and digits: copy them at once (what
        // the per-character path below does to each, without its per-character decoding)
        let run = chars.ascii_alnum_run();
        if !run.is_empty() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            let start = out.len();
            out.push_str(run);
            out[start..].make_ascii_lowercase();
            continue;
        }
        let Some(c) = chars.next() else { break };
        if c.is_ascii() {
            let b = c as u8;
            if b.is_ascii_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(b.to_ascii_lowercase() as char);
                continue;
            }
            // separators kept inside a token: between digits, and a hyphen before a digit
            let prev = out.as_bytes().last().copied();
            let next = chars.peek();
            let prev_digit = !pending_space && prev.is_some_and(|p| p.is_ascii_digit());
            let prev_alnum = !pending_space && prev.is_some_and(|p| p.is_ascii_alphanumeric());
            let next_digit = next.is_some_and(|n| n.is_ascii_digit());
            let keep = match b {
                b'.' | b',' | b':' | b'/' => prev_digit && next_digit,
                b'-' => prev_alnum && next_digit,
                _ => false,
            };
            if keep {
                out.push(b as char);
                continue;
            }
            if b == b'?' {
                push_question(&mut out, &mut pending_space);
                continue;
            }
            // "c/" → "calle"
            if b == b'/' && !pending_space && ends_with_lone(&out, "c") {
                out.push_str("alle");
            }
            pending_space = true;
            continue;
        }
        match c {
            // combining marks: the tilde over n makes ñ, the rest are dropped
            '\u{0303}' => {
                if !pending_space && out.ends_with('n') {
                    out.push('y');
                }
            }
            '\u{0301}' => {
                // acute accent: on a word-final `a` it marks a dropped "-ada" ("apagá")
                let at_word_end = chars.peek().is_none_or(|n| !n.is_alphanumeric());
                // futures ("llegará", "será") keep their accent-less form
                if at_word_end
                    && !pending_space
                    && out.ends_with('a')
                    && !out.ends_with("ra")
                    && word_len(&out) >= 5
                    && !ACUTE_A_WORDS.contains(&last_word(&out))
                {
                    out.push_str("da");
                }
            }
            '\u{0300}'..='\u{036f}' => {}
            '¿' => push_question(&mut out, &mut pending_space),
            'ß' => push_word(&mut out, &mut pending_space, "ss"),
            'æ' | 'Æ' => push_word(&mut out, &mut pending_space, "ae"),
            'œ' | 'Œ' => push_word(&mut out, &mut pending_space, "oe"),
            'ø' | 'Ø' => push_word(&mut out, &mut pending_space, "o"),
            'ł' | 'Ł' => push_word(&mut out, &mut pending_space, "l"),
            'đ' | 'Đ' => push_word(&mut out, &mut pending_space, "d"),
            _ => {
                // letters of other scripts, emoji, symbols, non-ASCII punctuation
                pending_space = true;
            }
        }
    }
    out
}

/// Words that end in a stressed `á` in standard Spanish (not a clipped "-ada" participle).
const ACUTE_A_WORDS: &[&str] = &[
    "quiza", "ojala", "alcala", "panama", "bogota", "canada", "alla", "aca", "mama", "papa",
    "sofa", "maraca", "jaja", "azahar", "bacara", "guaca",
];

fn last_word(out: &str) -> &str {
    let n = word_len(out);
    &out[out.len() - n..]
}

/// The characters of a text in canonical decomposition, decomposing only non-ASCII
/// characters (most of a Spanish message is ASCII: the full NFD iterator, with its buffering
/// and reordering, cost more than the rest of normalisation). Combining marks come out after
/// their base character, which is all `fold` needs.
struct Decomposed<'a> {
    chars: std::str::Chars<'a>,
    pending: [char; 8],
    len: usize,
    pos: usize,
}

impl<'a> Decomposed<'a> {
    fn new(s: &'a str) -> Self {
        Decomposed {
            chars: s.chars(),
            pending: ['\0'; 8],
            len: 0,
            pos: 0,
        }
    }
}

impl<'a> Decomposed<'a> {
    /// The character `next` will return, without taking it.
    fn peek(&self) -> Option<char> {
        if self.pos < self.len {
            return Some(self.pending[self.pos]);
        }
        let c = self.chars.as_str().chars().next()?;
        if c.is_ascii() {
            return Some(c);
        }
        let mut first = None;
        unicode_normalization::char::decompose_canonical(c, |d| {
            first.get_or_insert(d);
        });
        first
    }

    /// Takes the longest run of ASCII letters and digits that comes next (empty while
    /// characters of a decomposition are pending, or when the next one is anything else).
    fn ascii_alnum_run(&mut self) -> &'a str {
        if self.pos < self.len {
            return "";
        }
        let rest = self.chars.as_str();
        let n = rest
            .bytes()
            .position(|b| !b.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let (run, after) = rest.split_at(n);
        self.chars = after.chars();
        run
    }
}

impl Iterator for Decomposed<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        if self.pos < self.len {
            self.pos += 1;
            return Some(self.pending[self.pos - 1]);
        }
        let c = self.chars.next()?;
        if c.is_ascii() {
            return Some(c);
        }
        self.len = 0;
        self.pos = 0;
        let (pending, len) = (&mut self.pending, &mut self.len);
        unicode_normalization::char::decompose_canonical(c, |d| {
            if *len < pending.len() {
                pending[*len] = d;
                *len += 1;
            }
        });
        self.pos = 1;
        Some(self.pending[0])
    }
}

fn word_len(out: &str) -> usize {
    out.bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count()
}

fn ends_with_lone(out: &str, w: &str) -> bool {
    out.ends_with(w) && {
        let before = out.len() - w.len();
        before == 0 || out.as_bytes()[before - 1] == b' '
    }
}

/// A question mark (`?` or `¿`) is kept as a token of its own, once per run: whether a
/// message asks something is the strongest cue of an information request.
fn push_question(out: &mut String, pending_space: &mut bool) {
    if out.ends_with('?') {
        *pending_space = true;
        return;
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push('?');
    *pending_space = true;
}

fn push_word(out: &mut String, pending_space: &mut bool, s: &str) {
    if *pending_space && !out.is_empty() {
        out.push(' ');
    }
    *pending_space = false;
    out.push_str(s);
}

/// The error of [`fold_regex`]: a pattern that cannot be folded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FoldPatternError(pub String);

/// Folds the literal characters of a regular expression the way [`Normalizer`] folds text
/// (lower case, accents removed, `ñ → ny`), leaving escapes (`\b`, `\S`, `\p{L}`) untouched.
///
/// `ñ` inside a character class cannot become two characters and is refused.
///
/// ```
/// use civic_router::text::fold_regex;
/// assert_eq!(fold_regex(r"\bFarolas?\b|Alumbrado Público").unwrap(), r"\bfarolas?\b|alumbrado publico");
/// assert_eq!(fold_regex("año").unwrap(), "anyo");
/// assert!(fold_regex("[ñn]").is_err());
/// ```
pub fn fold_regex(pattern: &str) -> Result<String, FoldPatternError> {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.nfd().peekable();
    let mut in_class = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                    // keep \p{..}, \x{..}, \u{..} verbatim
                    if matches!(n, 'p' | 'P' | 'x' | 'u') && chars.peek() == Some(&'{') {
                        for m in chars.by_ref() {
                            out.push(m);
                            if m == '}' {
                                break;
                            }
                        }
                    }
                }
            }
            '[' => {
                in_class += 1;
                out.push(c);
            }
            ']' if in_class > 0 => {
                in_class -= 1;
                out.push(c);
            }
            '\u{0303}' if out.ends_with('n') || out.ends_with('N') => {
                if in_class > 0 {
                    return Err(FoldPatternError(
                        "`ñ` inside a character class cannot be folded (it becomes `ny`); write an alternation such as (ny|n) instead".into(),
                    ));
                }
                out.push('y');
            }
            '\u{0300}'..='\u{036f}' => {}
            c if c.is_uppercase() => out.extend(c.to_lowercase()),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        Normalizer::spanish().normalize(s).as_str().to_string()
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(n("ÁRBOL Caído en el PARQUE"), "arbol caido en el parque");
        assert_eq!(n("pingüino"), "pinguino");
        assert_eq!(n("Ça va"), "ca va");
    }

    #[test]
    fn keeps_enye_distinct() {
        assert_eq!(n("año"), "anyo");
        assert_ne!(n("año"), n("ano"));
        assert_eq!(n("PEÑA"), "penya");
        // decomposed input (n + combining tilde) gives the same
        assert_eq!(n("an\u{0303}o"), "anyo");
    }

    #[test]
    fn squeezes_repeated_letters_but_keeps_doubles() {
        assert_eq!(n("holaaaaa"), "hola");
        assert_eq!(n("calleeee llena"), "calle llena");
        assert_eq!(n("carro acción leer"), "carro accion leer");
        assert_eq!(n("1000 euros"), "1000 euros");
    }

    #[test]
    fn chat_shorthand() {
        assert_eq!(
            n("xq no viene el bus? porfa"),
            "porque no viene el bus ? por favor"
        );
        assert_eq!(n("q pasa k no recogen"), "que pasa que no recogen");
        assert_eq!(
            n("tb en la c/ San Jacinto"),
            "tambien en la calle san jacinto"
        );
    }

    #[test]
    fn andalusian_forms() {
        assert_eq!(
            n("el contenedor está atascao"),
            "el contenedor esta atascado"
        );
        assert_eq!(n("la farola está apagá"), "la farola esta apagada");
        assert_eq!(n("pa que lo sepáis"), "para que lo sepais");
        assert_eq!(n("bacalao"), "bacalao");
        assert_eq!(n("mañana llegará"), "manyana llegara");
        assert_eq!(n("ojalá en Alcalá quizá"), "ojala en alcala quiza");
    }

    #[test]
    fn punctuation_emoji_and_numbers() {
        assert_eq!(n("¡Hola! 😢😢 ...vale"), "hola vale");
        assert_eq!(n("¿¡Hola!? ¿vale?"), "? hola ? vale ?");
        assert_eq!(n("que hora es??? ya"), "que hora es ? ya");
        assert_eq!(n("a las 10:30, el 12/05"), "a las 10:30 el 12/05");
        assert_eq!(n("aviso SEV-2026-004213."), "aviso sev-2026-004213");
        assert_eq!(n("la SE-30 cortada"), "la se-30 cortada");
        assert_eq!(n("fin.Empieza"), "fin empieza");
    }

    #[test]
    fn spelled_letters_are_joined() {
        assert_eq!(n("donde se paga el i b i"), "donde se paga el ibi");
        assert_eq!(n("el d n i de mi madre"), "el dni de mi madre");
        // two letters, or vowels only, are words
        assert_eq!(n("la c y la d"), "la c y la d");
        assert_eq!(n("voy a y o e"), "voy a y o e");
    }

    #[test]
    fn speech_transcripts() {
        assert_eq!(
            n("hola buenas quería saber a que hora abre el registro de triana"),
            "hola buenas queria saber a que hora abre el registro de triana"
        );
    }

    #[test]
    fn tokens_and_spans() {
        let t = Normalizer::spanish().normalize("  Farola   rota  ");
        assert_eq!(t.tokens().collect::<Vec<_>>(), vec!["farola", "rota"]);
        assert_eq!(t.spans(), &[(0, 6), (7, 11)]);
        assert!(!t.is_empty());
        assert!(Normalizer::spanish().normalize("!!! 😀").is_empty());
    }

    #[test]
    fn output_is_ascii_for_any_input() {
        let inputs = [
            "Привет мир",
            "中文",
            "\u{202e}abc",
            "e\u{301}\u{301}\u{301}",
            "ñ\u{303}",
            "\u{0}\u{1}",
        ];
        for i in inputs {
            assert!(n(i).is_ascii(), "{i:?}");
        }
    }

    #[test]
    fn long_input_is_truncated_safely() {
        let s = "á".repeat(MAX_INPUT_BYTES);
        let t = Normalizer::spanish().normalize(&s);
        assert!(t.len() <= MAX_INPUT_BYTES);
    }
}
