//! A wrapper that keeps tokens out of logs.

use core::fmt;

/// A value that must never be printed: an Entra token, an ACR refresh token,
/// or a request body that carries one.
///
/// `Debug` prints `Secret([redacted])` and there is no `Display`, so a secret
/// cannot reach a log, an error message or a panic by formatting. Reading it
/// takes an explicit [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value so that it is redacted from formatting.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the secret value, for the one place that must send it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret value, for handing it across an API boundary.
    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
