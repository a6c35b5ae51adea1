//! Reassembles the first handshake message of a TLS stream from raw stream bytes.
//!
//! A ClientHello may be split across TCP segments (any number of pushes) and across TLS
//! records (a post-quantum key share makes a hello larger than one MTU, and some clients
//! fragment deliberately). The assembler accepts both and is bounded: records are at most
//! the protocol maximum and the message at most the caller's `max_len`.

use crate::WireError;

/// TLS record content type for handshake records.
pub const CONTENT_TYPE_HANDSHAKE: u8 = 22;
/// Largest record payload accepted: 2^14 plaintext plus the 2048 bytes of expansion
/// RFC 5246 allows for ciphertext; anything larger is not TLS.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
const RECORD_HEADER_LEN: usize = 5;

/// Collects handshake records from a client→server (or server→client) byte stream until the
/// first handshake message is complete, and returns that message with its 4-byte header.
#[derive(Debug, Clone)]
pub struct HelloAssembler {
    max_len: usize,
    /// Stream bytes received but not yet forming a complete record.
    pending: Vec<u8>,
    /// Handshake-layer bytes gathered from complete records.
    message: Vec<u8>,
    consumed: usize,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Collecting,
    Done,
    Failed(WireError),
}

impl HelloAssembler {
    /// An assembler that refuses handshake messages longer than `max_len` bytes
    /// (header included).
    pub fn new(max_len: usize) -> Self {
        HelloAssembler {
            max_len,
            pending: Vec::new(),
            message: Vec::new(),
            consumed: 0,
            state: State::Collecting,
        }
    }

    /// Feeds the next stream bytes. Returns `Ok(Some(message))` once, when the first handshake
    /// message is complete; `Ok(None)` while more bytes are needed (and after completion).
    /// Errors are sticky: once the stream is known not to start with a valid handshake
    /// record, every later push returns the same error.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, WireError> {
        match &self.state {
            State::Done => return Ok(None),
            State::Failed(e) => return Err(e.clone()),
            State::Collecting => {}
        }
        match self.absorb(bytes) {
            Ok(Some(msg)) => {
                self.state = State::Done;
                // Nothing after the hello is needed; release the buffers.
                self.pending = Vec::new();
                self.message = Vec::new();
                Ok(Some(msg))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.state = State::Failed(e.clone());
                self.pending = Vec::new();
                self.message = Vec::new();
                Err(e)
            }
        }
    }

    /// Stream bytes taken up by the records that carried the message so far (record headers
    /// included). After completion this is where the next record in the stream begins.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// Whether the message has been returned.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn absorb(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, WireError> {
        let mut input = bytes;
        loop {
            // Top up the pending buffer only as far as the current record needs, so memory
            // stays within one record however large a push is.
            input = self.fill(input, RECORD_HEADER_LEN);
            if self.pending.len() < RECORD_HEADER_LEN {
                return Ok(None);
            }
            let want = RECORD_HEADER_LEN + record_len(&self.pending)?;
            input = self.fill(input, want);
            if self.pending.len() < want {
                return Ok(None);
            }
            let payload = self.pending.get(RECORD_HEADER_LEN..).unwrap_or_default();
            self.message.extend_from_slice(payload);
            self.consumed += self.pending.len();
            self.pending.clear();
            if let Some(total) = self.message_len()? {
                if self.message.len() >= total {
                    let msg = self.message.get(..total).unwrap_or_default().to_vec();
                    return Ok(Some(msg));
                }
            }
        }
    }

    /// Moves bytes from `input` into `pending` until it holds `want` bytes; returns the rest.
    fn fill<'a>(&mut self, input: &'a [u8], want: usize) -> &'a [u8] {
        let missing = want.saturating_sub(self.pending.len());
        let (now, later) = input.split_at(missing.min(input.len()));
        self.pending.extend_from_slice(now);
        later
    }

    /// Total message length (header included) once the 4-byte header is in.
    fn message_len(&self) -> Result<Option<usize>, WireError> {
        let Some(&[_, a, b, c]) = self.message.get(..4) else {
            return Ok(None);
        };
        let total = 4 + ((usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c));
        if total > self.max_len {
            return Err(WireError::MessageTooLong {
                len: total,
                max: self.max_len,
            });
        }
        Ok(Some(total))
    }
}

/// Validates a 5-byte record header and returns its payload length.
fn record_len(header: &[u8]) -> Result<usize, WireError> {
    let Some(&[typ, major, minor, hi, lo]) = header.get(..RECORD_HEADER_LEN) else {
        return Err(WireError::Truncated {
            what: "record header",
            needed: RECORD_HEADER_LEN.saturating_sub(header.len()),
        });
    };
    if typ != CONTENT_TYPE_HANDSHAKE {
        return Err(WireError::NotHandshakeRecord(typ));
    }
    if major != 3 {
        return Err(WireError::BadRecordVersion(u16::from_be_bytes([
            major, minor,
        ])));
    }
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len == 0 {
        return Err(WireError::EmptyRecord);
    }
    if len > MAX_RECORD_LEN {
        return Err(WireError::RecordTooLong(len));
    }
    Ok(len)
}
