//! An ISO 8583 message: an MTI and typed field values. Card data inside is zeroized on drop and
//! masked in `Debug`.

use std::fmt;

use zeroize::Zeroize;

/// A field's value in its natural form.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    /// n, z, an, ans: the characters (digits for n; digits and D for z).
    Text(String),
    /// b: raw bytes.
    Binary(Vec<u8>),
}

impl Drop for Value {
    fn drop(&mut self) {
        match self {
            Value::Text(s) => s.zeroize(),
            Value::Binary(b) => b.zeroize(),
        }
    }
}

/// Values do not know their field number, so they never print their content.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => write!(f, "Text([{} chars])", s.len()),
            Value::Binary(b) => write!(f, "Binary([{} bytes])", b.len()),
        }
    }
}

impl Value {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Binary(_) => None,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Value::Text(s) => s.as_bytes(),
            Value::Binary(b) => b,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Message {
    mti: String,
    /// Ascending by field number, one entry per field: a message has a few dozen fields at most,
    /// and packing walks them in order.
    fields: Vec<(u8, Value)>,
    /// What the packer would otherwise find in a pass over the fields, kept as they are set and
    /// removed: which numbers are present and how many value bytes there are.
    tally: Tally,
}

/// The field numbers of a message as the two bitmaps carry them, and its values' total size.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub(super) struct Tally {
    /// Fields 1..=64, field 1 in the top bit.
    pub primary: u64,
    /// Fields 65..=128, field 65 in the top bit.
    pub secondary: u64,
    /// Fields numbered 0 or above 128: no bitmap has room for them.
    pub unmapped: u16,
    pub value_bytes: usize,
}

impl Tally {
    /// A field numbered `n` with `len` value bytes joins the message.
    fn add(&mut self, n: u8, len: usize) {
        self.value_bytes += len;
        match Tally::word(n) {
            Some((true, bit)) => self.secondary |= bit,
            Some((false, bit)) => self.primary |= bit,
            None => self.unmapped += 1,
        }
    }

    /// The field numbered `n` with `len` value bytes leaves it.
    fn take(&mut self, n: u8, len: usize) {
        self.value_bytes -= len;
        match Tally::word(n) {
            Some((true, bit)) => self.secondary &= !bit,
            Some((false, bit)) => self.primary &= !bit,
            None => self.unmapped -= 1,
        }
    }

    /// Whether field `n` is in the secondary bitmap, and its bit there; `None` outside 1..=128.
    fn word(n: u8) -> Option<(bool, u64)> {
        (1..=128)
            .contains(&n)
            .then(|| (n > 64, 1u64 << ((128 - u32::from(n)) % 64)))
    }
}

impl Message {
    /// A message with this MTI (4 digits; checked when packed).
    pub fn new(mti: &str) -> Message {
        Message {
            mti: mti.to_string(),
            fields: Vec::new(),
            tally: Tally::default(),
        }
    }

    /// As `new`, with room for `fields` fields.
    pub(super) fn with_capacity(mti: &str, fields: usize) -> Message {
        Message {
            mti: mti.to_string(),
            fields: Vec::with_capacity(fields),
            tally: Tally::default(),
        }
    }

    fn slot(&self, n: u8) -> Result<usize, usize> {
        self.fields.binary_search_by_key(&n, |(k, _)| *k)
    }

    fn insert(&mut self, n: u8, value: Value) {
        let len = value.as_bytes().len();
        match self.slot(n) {
            Ok(i) => {
                let old = std::mem::replace(&mut self.fields[i].1, value);
                self.tally.value_bytes = self.tally.value_bytes - old.as_bytes().len() + len;
            }
            Err(i) => {
                self.tally.add(n, len);
                self.fields.insert(i, (n, value));
            }
        }
    }

    /// The bitmaps and value size, without a pass over the fields.
    pub(super) fn tally(&self) -> Tally {
        self.tally
    }

    pub fn mti(&self) -> &str {
        &self.mti
    }

    pub fn set_mti(&mut self, mti: &str) {
        self.mti = mti.to_string();
    }

    /// Sets an n or z field (validated when packed).
    pub fn set_digits(&mut self, n: u8, digits: &str) {
        self.insert(n, Value::Text(digits.to_string()));
    }

    /// Sets an an or ans field.
    pub fn set_text(&mut self, n: u8, text: &str) {
        self.insert(n, Value::Text(text.to_string()));
    }

    /// Sets a b field.
    pub fn set_bytes(&mut self, n: u8, bytes: Vec<u8>) {
        self.insert(n, Value::Binary(bytes));
    }

    pub fn set(&mut self, n: u8, value: Value) {
        self.insert(n, value);
    }

    pub fn remove(&mut self, n: u8) -> Option<Value> {
        let value = self.slot(n).ok().map(|i| self.fields.remove(i).1)?;
        self.tally.take(n, value.as_bytes().len());
        Some(value)
    }

    /// How many fields the message has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn has(&self, n: u8) -> bool {
        self.slot(n).is_ok()
    }

    pub fn get(&self, n: u8) -> Option<&Value> {
        self.slot(n).ok().map(|i| &self.fields[i].1)
    }

    /// The text of an n/z/an/ans field.
    pub fn text(&self, n: u8) -> Option<&str> {
        self.get(n).and_then(Value::as_text)
    }

    /// The text of a field, owned; `None` when absent or binary.
    pub fn field_text(&self, n: u8) -> Option<String> {
        self.text(n).map(str::to_string)
    }

    /// The bytes of a b field.
    pub fn bytes(&self, n: u8) -> Option<&[u8]> {
        match self.get(n) {
            Some(Value::Binary(b)) => Some(b),
            _ => None,
        }
    }

    /// Copies field `n` from `other` if it has one (responses echo request fields).
    pub fn copy_field_from(&mut self, other: &Message, n: u8) {
        if let Some(v) = other.get(n) {
            self.insert(n, v.clone());
        }
    }

    /// Field numbers present, ascending.
    pub fn field_numbers(&self) -> impl Iterator<Item = u8> + '_ {
        self.fields.iter().map(|(n, _)| *n)
    }

    pub fn fields(&self) -> impl Iterator<Item = (u8, &Value)> + '_ {
        self.fields.iter().map(|(n, v)| (*n, v))
    }
}

/// The MTI of the response to a request: the request's MTI plus 10 (0200 → 0210).
pub fn response_mti(request_mti: &str) -> Option<String> {
    if request_mti.len() != 4 || !request_mti.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u16 = request_mti.parse().ok()?;
    Some(format!("{:04}", n + 10))
}

/// Card-data fields of every dialect in use: 2 (PAN), 35/36 (tracks), 45 (track 1),
/// 52 (PIN block), 55 (ICC data).
pub fn is_sensitive_field(n: u8) -> bool {
    matches!(n, 2 | 35 | 36 | 45 | 52 | 55)
}

/// 6 + 4 masking for a PAN-like digit string.
pub fn mask_digits(s: &str) -> String {
    if s.len() < 11 || !s.is_ascii() {
        return format!("[redacted {} chars]", s.len());
    }
    format!(
        "{}{}{}",
        &s[..6],
        "*".repeat(s.len() - 10),
        &s[s.len() - 4..]
    )
}

/// Shows a field value as a person may see it: PAN masked, other card data redacted.
pub fn display_value(n: u8, v: &Value) -> String {
    match (n, v) {
        (2, Value::Text(s)) => mask_digits(s),
        (_, v) if is_sensitive_field(n) => format!("[redacted {} bytes]", v.as_bytes().len()),
        (_, Value::Text(s)) => s.clone(),
        (_, Value::Binary(b)) => hex::encode_upper(b),
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        m.entry(&"mti", &self.mti);
        for (n, v) in &self.fields {
            m.entry(n, &display_value(*n, v));
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_card_data() {
        let mut m = Message::new("0200");
        m.set_digits(2, "6222021234567890123");
        m.set_digits(35, "6222021234567890123D25122010000000000");
        m.set_bytes(52, vec![0x11; 8]);
        m.set_bytes(55, vec![0x9F, 0x26, 0x08]);
        m.set_digits(4, "000000001000");
        let s = format!("{m:?}");
        assert!(s.contains("622202*********0123"), "{s}");
        assert!(!s.contains("6222021234567890123"), "{s}");
        assert!(!s.contains("1111111111111111"), "{s}");
        assert!(s.contains("[redacted 3 bytes]"), "{s}");
        assert!(s.contains("000000001000"), "{s}");
    }

    /// The tally recomputed from the fields, as the packer used to find it.
    fn recount(m: &Message) -> Tally {
        let mut t = Tally::default();
        for (n, v) in m.fields() {
            t.add(n, v.as_bytes().len());
        }
        t
    }

    proptest::proptest! {
        /// Whatever is set, replaced and removed, in any order and with any field number, the
        /// kept tally is the one a pass over the fields gives.
        #[test]
        fn the_tally_follows_every_set_and_remove(
            ops in proptest::collection::vec(
                (proptest::prelude::any::<u8>(), proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20))),
                0..60,
            )
        ) {
            let mut m = Message::new("0200");
            for (n, value) in ops {
                // Mostly a few numbers, so values are replaced and removed often.
                let n = if n % 4 == 0 { n } else { [2, 35, 64, 65, 128][usize::from(n % 5)] };
                match value {
                    Some(bytes) => m.set_bytes(n, bytes),
                    None => {
                        m.remove(n);
                    }
                }
                proptest::prop_assert_eq!(m.tally(), recount(&m));
            }
        }
    }
}
