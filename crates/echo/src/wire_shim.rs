//! Stand-in for `interloper_wire` until its parser lands: the same names and shapes, but only
//! framing plus the fixed ClientHello fields (no extension decoding, no fingerprints). Deleted
//! when the wire crate is in; `hello.rs` is the only user.

use std::fmt;

#[derive(Debug)]
pub struct WireError(String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(what: &str) -> Result<T, WireError> {
    Err(WireError(what.to_string()))
}

pub struct HelloAssembler {
    max_len: usize,
    pending: Vec<u8>,
    handshake: Vec<u8>,
}

impl HelloAssembler {
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len,
            pending: Vec::new(),
            handshake: Vec::new(),
        }
    }

    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, WireError> {
        self.pending.extend_from_slice(bytes);
        loop {
            let Some(header) = self.pending.get(..5) else {
                return Ok(None);
            };
            if header.first() != Some(&22) {
                return err("not a TLS handshake record");
            }
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            let Some(body) = self.pending.get(5..5 + len) else {
                return Ok(None);
            };
            self.handshake.extend_from_slice(body);
            self.pending.drain(..5 + len);
            if let Some(h) = self.handshake.get(..4) {
                if h[0] != 1 {
                    return err("first handshake message is not a ClientHello");
                }
                let msg_len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
                if msg_len + 4 > self.max_len {
                    return err("ClientHello too large");
                }
                if self.handshake.len() >= msg_len + 4 {
                    return Ok(Some(self.handshake[..msg_len + 4].to_vec()));
                }
            }
        }
    }
}

pub struct Extension {
    pub typ: u16,
    #[allow(dead_code)]
    pub data: Vec<u8>,
}

pub struct ClientHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    pub extensions: Vec<Extension>,
}

struct Cur<'a>(&'a [u8]);
impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return err("truncated");
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

impl ClientHello {
    pub fn parse(msg: &[u8]) -> Result<ClientHello, WireError> {
        let mut c = Cur(msg);
        if c.u8()? != 1 {
            return err("not a ClientHello");
        }
        c.take(3)?;
        let legacy_version = c.u16()?;
        let mut random = [0u8; 32];
        random.copy_from_slice(c.take(32)?);
        let n = usize::from(c.u8()?);
        let session_id = c.take(n)?.to_vec();
        let n = usize::from(c.u16()?);
        let cs = c.take(n)?;
        let cipher_suites = cs
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        let n = usize::from(c.u8()?);
        let compression_methods = c.take(n)?.to_vec();
        let mut extensions = Vec::new();
        if !c.0.is_empty() {
            let n = usize::from(c.u16()?);
            let mut e = Cur(c.take(n)?);
            while !e.0.is_empty() {
                let typ = e.u16()?;
                let n = usize::from(e.u16()?);
                extensions.push(Extension {
                    typ,
                    data: e.take(n)?.to_vec(),
                });
            }
        }
        Ok(ClientHello {
            legacy_version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }
    pub fn sni(&self) -> Option<String> {
        None
    }
    pub fn alpn(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    pub fn supported_versions(&self) -> Vec<u16> {
        Vec::new()
    }
    pub fn supported_groups(&self) -> Vec<u16> {
        Vec::new()
    }
    pub fn signature_algorithms(&self) -> Vec<u16> {
        Vec::new()
    }
    pub fn key_share_groups(&self) -> Vec<u16> {
        Vec::new()
    }
    pub fn ec_point_formats(&self) -> Vec<u8> {
        Vec::new()
    }
}

pub struct Ja3 {
    pub string: String,
    pub hash: String,
}
pub struct Ja4 {
    pub ja4: String,
    pub ja4_r: String,
    pub ja4_o: String,
    pub ja4_ro: String,
}
pub enum Transport {
    Tcp,
}
pub fn ja3(_: &ClientHello) -> Ja3 {
    Ja3 {
        string: String::new(),
        hash: String::new(),
    }
}
pub fn ja4(_: &ClientHello, _: Transport) -> Ja4 {
    Ja4 {
        ja4: String::new(),
        ja4_r: String::new(),
        ja4_o: String::new(),
        ja4_ro: String::new(),
    }
}
pub fn cipher_name(_: u16) -> Option<&'static str> {
    None
}
pub fn group_name(_: u16) -> Option<&'static str> {
    None
}
