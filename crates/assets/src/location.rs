//! Byte offsets turned into line and column for reports.

use serde::{Deserialize, Serialize};

/// Where in a document a reference was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Byte offset from the start of the document as received (before any charset decoding).
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters of the line (UTF-8 assumed).
    pub column: u32,
}

/// Start offsets of each line, built once per document so every lookup is a binary search.
pub(crate) struct LineIndex<'a> {
    text: &'a [u8],
    starts: Vec<usize>,
    /// Last answer (line, offset, column): lookups come in document order, and minified
    /// files are one huge line, so counting columns from the line start every time would be
    /// quadratic.
    cursor: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex {
            text,
            starts,
            cursor: std::cell::Cell::new((0, 0, 0)),
        }
    }

    pub(crate) fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let (c_line, c_off, c_col) = self.cursor.get();
        let (from, base) = if c_line == line && c_off <= offset {
            (c_off, c_col)
        } else {
            (self.starts.get(line).copied().unwrap_or(0), 0)
        };
        // Count characters, not bytes: UTF-8 continuation bytes do not start a character.
        let column = base
            + self.text[from..offset]
                .iter()
                .filter(|b| (**b & 0xC0) != 0x80)
                .count();
        self.cursor.set((line, offset, column));
        Location {
            offset,
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let idx = LineIndex::new("ab\né<x\n".as_bytes());
        assert_eq!(
            idx.locate(0),
            Location {
                offset: 0,
                line: 1,
                column: 1
            }
        );
        assert_eq!(idx.locate(3).line, 2);
        // "é" is two bytes but one column.
        assert_eq!(
            idx.locate(5),
            Location {
                offset: 5,
                line: 2,
                column: 2
            }
        );
        assert_eq!(idx.locate(999).offset, 8);
        // Out-of-order lookups after the cursor moved still answer right.
        assert_eq!(idx.locate(5).column, 2);
        assert_eq!(idx.locate(1).column, 2);
        assert_eq!(idx.locate(6).column, 3);
    }
}
