//! The character classes of the text kinds, one table load per byte, for the packer's and the
//! unpacker's checks: a message's an and ans fields are checked byte by byte on every pass.

/// Letters, digits and space.
pub(super) const AN: u8 = 1;
/// Printable ASCII.
pub(super) const ANS: u8 = 2;

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut c = 0x20;
    while c < 0x7F {
        let b = c as u8;
        table[c] = ANS
            | if b.is_ascii_alphanumeric() || b == b' ' {
                AN
            } else {
                0
            };
        c += 1;
    }
    table
}

static CLASSES: [u8; 256] = classes();

/// The classes `c` belongs to (`AN | ANS`, `ANS`, or none).
#[inline(always)]
pub(super) fn of(c: u8) -> u8 {
    CLASSES[usize::from(c)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_are_the_kinds_definitions() {
        for c in 0..=255u8 {
            let an = c.is_ascii_alphanumeric() || c == b' ';
            let ans = c.is_ascii() && !c.is_ascii_control();
            assert_eq!(of(c) & AN != 0, an, "{c:#04x} an");
            assert_eq!(of(c) & ANS != 0, ans, "{c:#04x} ans");
        }
    }
}
