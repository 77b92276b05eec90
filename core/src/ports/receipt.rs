//! A printable receipt. The card number can only enter as a [`MaskedPan`], so a receipt cannot
//! carry a full PAN or track data through its typed fields; free-text lines are for amounts,
//! merchant and reference data, never card data.

use std::fmt;

use crate::card::MaskedPan;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    title: String,
    card: Option<MaskedPan>,
    lines: Vec<ReceiptLine>,
    footer: Vec<String>,
}

impl Receipt {
    pub fn new(title: impl Into<String>) -> Receipt {
        Receipt {
            title: title.into(),
            ..Receipt::default()
        }
    }

    pub fn with_card(mut self, card: MaskedPan) -> Receipt {
        self.card = Some(card);
        self
    }

    pub fn line(mut self, label: impl Into<String>, value: impl Into<String>) -> Receipt {
        self.lines.push(ReceiptLine {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    pub fn footer(mut self, text: impl Into<String>) -> Receipt {
        self.footer.push(text.into());
        self
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn card(&self) -> Option<&MaskedPan> {
        self.card.as_ref()
    }

    pub fn lines(&self) -> &[ReceiptLine] {
        &self.lines
    }

    pub fn footer_lines(&self) -> &[String] {
        &self.footer
    }
}

/// Plain-text rendering, one `label: value` per line, for text printers and logs.
impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.title)?;
        if let Some(card) = &self.card {
            writeln!(f, "CARD NO: {card}")?;
        }
        for l in &self.lines {
            writeln!(f, "{}: {}", l.label, l.value)?;
        }
        for text in &self.footer {
            writeln!(f, "{text}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::Pan;

    #[test]
    fn receipt_shows_only_masked_pan() {
        let pan = Pan::parse("6222021234561234").unwrap();
        let r = Receipt::new("POS SALE")
            .with_card(pan.masked())
            .line("AMOUNT", "RMB 12.34")
            .footer("CARDHOLDER SIGNATURE");
        let text = r.to_string();
        assert!(text.contains("CARD NO: 622202******1234"), "{text}");
        assert!(!text.contains("6222021234561234"));
        assert!(!format!("{r:?}").contains("6222021234561234"));
        assert_eq!(r.lines()[0].value, "RMB 12.34");
        assert_eq!(r.footer_lines(), ["CARDHOLDER SIGNATURE"]);
    }
}
