//! Keeping secrets out of the text a server or transport produced: error
//! messages, error details, trace and correlation IDs, redirect targets.
//!
//! A server that echoes a token may echo part of it, and a text cut to a
//! length cap keeps only its start, so a secret is blanked wherever any
//! [`MIN_FRAGMENT`] consecutive bytes of it appear (or the whole of it, if
//! shorter), and texts are blanked before they are cut.

use crate::prelude::*;

/// The fewest consecutive bytes of a secret treated as the secret: long
/// enough that ordinary text (a registry name, a GUID's groups) never
/// matches by chance, short enough that no useful part of a token escapes.
pub const MIN_FRAGMENT: usize = 16;

/// What replaces each blanked run of text.
pub(crate) const REDACTED: &str = "[redacted]";

/// The secrets one exchange with a server has handled: the credential, and
/// every token sent or received. Each is kept as given and, where that
/// differs, as a form body or query carries it (a client secret's `~` is
/// sent as `%7E`), since a server may echo the body.
#[derive(Default, Clone)]
pub(crate) struct Secrets {
    forms: Vec<String>,
}

impl core::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Secrets([{} redacted])", self.forms.len())
    }
}

impl Secrets {
    /// The secrets in `secrets`; empty ones are skipped.
    pub(crate) fn new(secrets: &[&str]) -> Self {
        let mut all = Self::default();
        for secret in secrets {
            all.add(secret);
        }
        all
    }

    /// Adds a secret.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if encoded != secret {
            self.forms.push(encoded);
        }
        self.forms.push(secret.to_owned());
    }

    /// Every form of every secret.
    fn forms(&self) -> impl Iterator<Item = &[u8]> {
        self.forms.iter().map(String::as_bytes)
    }

    /// `text` with every run that holds a secret, or [`MIN_FRAGMENT`] bytes
    /// of one, replaced by [`REDACTED`].
    pub(crate) fn redact(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut covered = vec![false; bytes.len()];
        let mut any = false;
        // Secrets shorter than a fragment count only whole.
        for secret in self.forms().filter(|s| s.len() < MIN_FRAGMENT) {
            for start in find_all(bytes, secret) {
                covered[start..start + secret.len()].fill(true);
                any = true;
            }
        }
        // Every fragment of the longer ones, found through a sorted list of
        // their windows: a binary search per position of `text`.
        let mut windows: Vec<&[u8]> = self
            .forms()
            .filter(|s| s.len() >= MIN_FRAGMENT)
            .flat_map(|s| s.windows(MIN_FRAGMENT))
            .collect();
        if !windows.is_empty() && bytes.len() >= MIN_FRAGMENT {
            windows.sort_unstable();
            windows.dedup();
            for (start, window) in bytes.windows(MIN_FRAGMENT).enumerate() {
                if windows.binary_search(&window).is_ok() {
                    covered[start..start + MIN_FRAGMENT].fill(true);
                    any = true;
                }
            }
        }
        if !any {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut run_start = None;
        for (i, c) in text.char_indices() {
            // A secret is ASCII, so a covered run never splits a character.
            match (covered[i], run_start) {
                (true, None) => {
                    run_start = Some(i);
                    out.push_str(REDACTED);
                }
                (true, Some(_)) => {}
                (false, _) => {
                    run_start = None;
                    out.push(c);
                }
            }
        }
        out
    }
}

/// The start of every occurrence of `needle` in `haystack`, overlapping ones
/// included.
fn find_all<'h>(haystack: &'h [u8], needle: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, window)| *window == needle)
        .map(|(start, _)| start)
}

#[cfg(test)]
mod tests {
    use super::{MIN_FRAGMENT, REDACTED, Secrets};
    use crate::prelude::*;

    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3NjcyMzI4MDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";

    #[test]
    fn whole_secrets_and_fragments_are_blanked() {
        let secrets = Secrets::new(&[TOKEN]);
        let text = format!("bad token {TOKEN} sent");
        assert_eq!(secrets.redact(&text), format!("bad token {REDACTED} sent"));
        let fragment = &TOKEN[10..10 + MIN_FRAGMENT];
        assert_eq!(secrets.redact(&format!("x{fragment}y")), format!("x{REDACTED}y"));
        // One byte short of a fragment is ordinary text.
        let short = &TOKEN[10..10 + MIN_FRAGMENT - 1];
        assert_eq!(secrets.redact(short), short);
        // Two fragments with text between them are two runs.
        let (a, b) = (&TOKEN[..20], &TOKEN[30..50]);
        assert_eq!(
            secrets.redact(&format!("{a} and {b}")),
            format!("{REDACTED} and {REDACTED}")
        );
    }

    #[test]
    fn short_secrets_count_whole_and_encoded_forms_too() {
        let secrets = Secrets::new(&["s3cr~t", "", "abc~defghijklmnopqrstu"]);
        assert_eq!(secrets.redact("was s3cr~t!"), format!("was {REDACTED}!"));
        assert_eq!(secrets.redact("s3cr"), "s3cr");
        // As a form body carries it.
        assert_eq!(
            secrets.redact("secret=abc%7Edefghijklmnopqrstu&x=1"),
            format!("secret={REDACTED}&x=1")
        );
        assert_eq!(Secrets::new(&[]).redact("anything"), "anything");
    }

    #[test]
    fn text_around_secrets_keeps_its_characters() {
        let secrets = Secrets::new(&[TOKEN]);
        let text = format!("é{}ü😀", &TOKEN[5..40]);
        assert_eq!(secrets.redact(&text), format!("é{REDACTED}ü😀"));
    }
}
