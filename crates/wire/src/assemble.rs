//! TLS record reading, the one implementation every reader of a TLS stream uses: the
//! record header checked ([`RecordHeader`]), record payloads cut into handshake messages
//! ([`HandshakeMessages`]), and the first handshake message of a stream from raw stream bytes
//! ([`HelloAssembler`]: the witness, the probe, the lab's middlebox; `flows` walks whole
//! captured streams with the first two).
//!
//! A ClientHello may be split across TCP segments (any number of pushes) and across TLS
//! records (a post-quantum key share makes a hello larger than one MTU, and some clients
//! fragment deliberately). The assembler accepts both and is bounded: records are at most
//! the protocol maximum and the message at most the caller's `max_len`.

use crate::WireError;

/// TLS record content type for ChangeCipherSpec records.
pub const CONTENT_TYPE_CHANGE_CIPHER_SPEC: u8 = 20;
/// TLS record content type for alert records.
pub const CONTENT_TYPE_ALERT: u8 = 21;
/// TLS record content type for handshake records.
pub const CONTENT_TYPE_HANDSHAKE: u8 = 22;
/// TLS record content type for application-data records.
pub const CONTENT_TYPE_APPLICATION_DATA: u8 = 23;
/// The highest content type TLS defines (heartbeat); anything above is not TLS.
const CONTENT_TYPE_LAST: u8 = 24;
/// Largest record payload accepted: 2^14 plaintext plus the 2048 bytes of expansion
/// RFC 5246 allows for ciphertext; anything larger is not TLS.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// The bytes before every record's payload: content type, version, length.
pub const RECORD_HEADER_LEN: usize = 5;
/// The bytes before every handshake message's body: type and a 24-bit length.
const MESSAGE_HEADER_LEN: usize = 4;

/// A checked TLS record header: what any reader of a TLS stream needs before the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Content type (20 ChangeCipherSpec, 21 alert, 22 handshake, 23 application data,
    /// 24 heartbeat).
    pub content_type: u8,
    /// Payload length (1 ..= [`MAX_RECORD_LEN`]).
    pub len: usize,
}

impl RecordHeader {
    /// Reads the first [`RECORD_HEADER_LEN`] bytes of `header` as a record header and refuses
    /// what is not TLS: a content type outside 20–24, a version that is not 3.x, an empty
    /// record or one longer than [`MAX_RECORD_LEN`].
    pub fn parse(header: &[u8]) -> Result<RecordHeader, WireError> {
        let Some(&[typ, major, minor, hi, lo]) = header.get(..RECORD_HEADER_LEN) else {
            return Err(WireError::Truncated {
                what: "record header",
                needed: RECORD_HEADER_LEN.saturating_sub(header.len()),
            });
        };
        if !(CONTENT_TYPE_CHANGE_CIPHER_SPEC..=CONTENT_TYPE_LAST).contains(&typ) {
            return Err(WireError::UnknownContentType(typ));
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
        Ok(RecordHeader {
            content_type: typ,
            len,
        })
    }
}

/// Cuts the payloads of consecutive handshake records into handshake messages: a message may
/// span records and a record may hold several messages. Bounded: a message whose header
/// announces more than `max_len` bytes (header included) is refused before its bytes are
/// kept.
#[derive(Debug, Clone, Default)]
pub struct HandshakeMessages {
    max_len: usize,
    /// Handshake-layer bytes not yet returned as a message.
    buffered: Vec<u8>,
}

impl HandshakeMessages {
    /// Refuses messages longer than `max_len` bytes (header included).
    pub fn new(max_len: usize) -> Self {
        HandshakeMessages {
            max_len,
            buffered: Vec::new(),
        }
    }

    /// Appends the payload of the next handshake record.
    pub fn push(&mut self, payload: &[u8]) {
        self.buffered.extend_from_slice(payload);
    }

    /// Appends the payload of the next handshake record, taking it whole when nothing is
    /// buffered (the common case: one message per record, no copy).
    pub fn push_owned(&mut self, payload: Vec<u8>) {
        if self.buffered.is_empty() {
            self.buffered = payload;
        } else {
            self.buffered.extend_from_slice(&payload);
        }
    }

    /// The next complete message (header included); `Ok(None)` while more bytes are needed.
    /// A message over the bound is [`WireError::MessageTooLong`], and what was buffered is
    /// dropped: the caller decides whether the stream goes on.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        let Some(&[_, a, b, c]) = self.buffered.get(..MESSAGE_HEADER_LEN) else {
            return Ok(None);
        };
        let total =
            MESSAGE_HEADER_LEN + ((usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c));
        if total > self.max_len {
            self.clear();
            return Err(WireError::MessageTooLong {
                len: total,
                max: self.max_len,
            });
        }
        if self.buffered.len() < total {
            return Ok(None);
        }
        Ok(Some(if total == self.buffered.len() {
            std::mem::take(&mut self.buffered)
        } else {
            self.buffered.drain(..total).collect()
        }))
    }

    /// Handshake bytes received and not yet returned (a message still incomplete).
    pub fn buffered(&self) -> &[u8] {
        &self.buffered
    }

    /// Drops what is buffered and its memory (the handshake went encrypted, or is abandoned).
    pub fn clear(&mut self) {
        self.buffered = Vec::new();
    }
}

/// Collects handshake records from a client→server (or server→client) byte stream until the
/// first handshake message is complete, and returns that message with its 4-byte header.
#[derive(Debug, Clone)]
pub struct HelloAssembler {
    /// Stream bytes received but not yet forming a complete record.
    pending: Vec<u8>,
    /// Handshake-layer bytes gathered from complete records.
    messages: HandshakeMessages,
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
            pending: Vec::new(),
            messages: HandshakeMessages::new(max_len),
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
                self.messages.clear();
                Ok(Some(msg))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.state = State::Failed(e.clone());
                self.pending = Vec::new();
                self.messages.clear();
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

    /// The message's bytes carried by the complete records so far, while it is incomplete
    /// (empty once it is returned or the stream is refused).
    pub fn gathered(&self) -> &[u8] {
        self.messages.buffered()
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
            let want = RECORD_HEADER_LEN + handshake_record_len(&self.pending)?;
            input = self.fill(input, want);
            if self.pending.len() < want {
                return Ok(None);
            }
            self.messages
                .push(self.pending.get(RECORD_HEADER_LEN..).unwrap_or_default());
            self.consumed += self.pending.len();
            self.pending.clear();
            if let Some(msg) = self.messages.next_message()? {
                return Ok(Some(msg));
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
}

/// Validates a record header that must open a handshake record and returns its payload
/// length. The content type is judged first, so any other record reads as
/// [`WireError::NotHandshakeRecord`].
fn handshake_record_len(header: &[u8]) -> Result<usize, WireError> {
    match header.first() {
        Some(&typ) if typ != CONTENT_TYPE_HANDSHAKE => Err(WireError::NotHandshakeRecord(typ)),
        _ => RecordHeader::parse(header).map(|h| h.len),
    }
}
