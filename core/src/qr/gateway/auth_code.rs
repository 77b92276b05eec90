use std::fmt;

use zeroize::Zeroizing;

/// A customer-presented payment code (`auth_code`). It is a bearer credential for about a
/// minute, so it is wiped on drop, never printed, and only its masked form is journaled.
pub struct AuthCode(Zeroizing<String>);

impl AuthCode {
    pub fn new(code: &str) -> AuthCode {
        AuthCode(Zeroizing::new(code.trim().to_owned()))
    }

    /// The code for the micropay request only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// First 6 and last 4 characters kept, like a PAN; codes of 10 characters or fewer are
    /// masked entirely, since 6+4 would reveal all of them.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() <= 10 {
            return "*".repeat(chars.len());
        }
        let head: String = chars[..6].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
    }
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthCode([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_redacts() {
        let code = AuthCode::new(" 134567890123456789 ");
        assert_eq!(code.expose(), "134567890123456789");
        assert_eq!(code.masked(), "134567********6789");
        assert_eq!(format!("{code:?}"), "AuthCode([redacted])");
        assert_eq!(AuthCode::new("1234567890").masked(), "**********");
    }
}
