//! A borrowing reader over untrusted bytes (rustls `codec.rs` style): every read is
//! checked, length-prefixed vectors become sub-readers, and a structure is only accepted
//! when its reader is exhausted.

use crate::WireError;

/// Reads big-endian fields from a byte slice, never panicking.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        match self.buf.split_at_checked(n) {
            Some((head, tail)) => {
                self.buf = tail;
                Ok(head)
            }
            None => Err(WireError::Truncated {
                what,
                needed: n - self.buf.len(),
            }),
        }
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        let b = self.take(1, what)?;
        Ok(b.first().copied().unwrap_or_default())
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        let b = self.take(2, what)?;
        match b {
            [a, b] => Ok(u16::from_be_bytes([*a, *b])),
            _ => Err(WireError::Truncated { what, needed: 2 }),
        }
    }

    pub(crate) fn u24(&mut self, what: &'static str) -> Result<usize, WireError> {
        let b = self.take(3, what)?;
        match b {
            [a, b, c] => Ok((usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c)),
            _ => Err(WireError::Truncated { what, needed: 3 }),
        }
    }

    /// A vector with a one-byte length prefix.
    pub(crate) fn vec_u8(&mut self, what: &'static str) -> Result<Reader<'a>, WireError> {
        let n = usize::from(self.u8(what)?);
        Ok(Reader::new(self.take(n, what)?))
    }

    /// A vector with a two-byte length prefix.
    pub(crate) fn vec_u16(&mut self, what: &'static str) -> Result<Reader<'a>, WireError> {
        let n = usize::from(self.u16(what)?);
        Ok(Reader::new(self.take(n, what)?))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless every byte has been read.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes {
                what,
                count: self.buf.len(),
            })
        }
    }

    /// Reads the whole remainder as a list of u16 values (fails on an odd length).
    pub(crate) fn u16_list(mut self, what: &'static str) -> Result<Vec<u16>, WireError> {
        let mut out = Vec::with_capacity(self.buf.len() / 2);
        while !self.is_empty() {
            out.push(self.u16(what)?);
        }
        Ok(out)
    }
}
