//! The streaming walk: `{"log": {"version", "creator", "browser", "pages", "entries": [...]}}`
//! with every other key skipped, and `entries` handed over one at a time.

use crate::raw::{Lenient, Obj, Page, RawEntry, Software};
use crate::{Har, HarError, MAX_PAGES, ReadOptions, Variant, convert};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::io::{self, Read};

/// Everything gathered while walking the document.
#[derive(Default)]
struct Sink {
    max_records: usize,
    version: Option<String>,
    creator: Option<Software>,
    browser: Option<Software>,
    pages: Vec<Page>,
    pages_omitted: u64,
    entries: Vec<RawEntry>,
    entries_omitted: u64,
    seen_log: bool,
    seen_entries: bool,
    bad_version: Option<String>,
}

const VERSION_ERROR: &str = "unsupported HAR version";

fn version_ok(v: &str) -> bool {
    matches!(v.trim(), "1.1" | "1.2")
}

struct Root<'a>(&'a mut Sink);

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR document (an object with a \"log\")")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "log" {
                self.0.seen_log = true;
                map.next_value_seed(LogSeed(self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct LogSeed<'a>(&'a mut Sink);

impl<'de> DeserializeSeed<'de> for LogSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a \"log\" object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => {
                    let v = map.next_value::<crate::raw::Text<64>>()?.0;
                    // Fail before reading a gigabyte of entries of a format we do not know.
                    if !version_ok(&v) {
                        sink.bad_version = Some(v);
                        return Err(de::Error::custom(VERSION_ERROR));
                    }
                    sink.version = Some(v);
                }
                "creator" => sink.creator = Some(map.next_value::<Lenient<Software>>()?.0),
                "browser" => sink.browser = Some(map.next_value::<Lenient<Software>>()?.0),
                "pages" => map.next_value_seed(PagesSeed(sink))?,
                "entries" => {
                    sink.seen_entries = true;
                    map.next_value_seed(EntriesSeed(sink))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct PagesSeed<'a>(&'a mut Sink);

impl<'de> DeserializeSeed<'de> for PagesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PagesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of pages")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Obj(p)) = seq.next_element::<Obj<Page>>()? {
            let Some(p) = p else { continue };
            if self.0.pages.len() < MAX_PAGES {
                self.0.pages.push(p);
            } else {
                self.0.pages_omitted += 1;
            }
        }
        Ok(())
    }
}

struct EntriesSeed<'a>(&'a mut Sink);

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("log.entries as a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // One entry in memory at a time; kept ones are already reduced to what we need.
        while let Some(Obj(e)) = seq.next_element::<Obj<RawEntry>>()? {
            let Some(e) = e else { continue };
            if self.0.entries.len() < self.0.max_records {
                self.0.entries.push(e);
            } else {
                self.0.entries_omitted += 1;
            }
        }
        Ok(())
    }
}

/// Skips a UTF-8 byte order mark (Fiddler and Charles on Windows write one).
fn skip_bom<R: Read>(mut r: R) -> io::Result<io::Chain<io::Cursor<Vec<u8>>, R>> {
    let mut head = Vec::with_capacity(3);
    (&mut r).take(3).read_to_end(&mut head)?;
    if head == [0xEF, 0xBB, 0xBF] {
        head.clear();
    }
    Ok(io::Cursor::new(head).chain(r))
}

pub(crate) fn read<R: Read>(reader: R, opts: &ReadOptions) -> Result<Har, HarError> {
    let reader = io::BufReader::with_capacity(256 * 1024, skip_bom(reader)?);
    let mut sink = Sink {
        max_records: opts.max_records,
        ..Sink::default()
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let walked = de.deserialize_map(Root(&mut sink)).and_then(|()| de.end());
    if let Some(v) = sink.bad_version.take() {
        return Err(HarError::UnsupportedVersion(v));
    }
    walked.map_err(classify)?;
    if !sink.seen_log {
        return Err(HarError::NotHar("no \"log\" object at the top".into()));
    }
    if !sink.seen_entries {
        return Err(HarError::NotHar("no \"log.entries\" list".into()));
    }
    let mut notes = Vec::new();
    let version = match sink.version {
        Some(v) => v,
        None => {
            notes.push("log.version is missing: read as HAR 1.2".into());
            String::new()
        }
    };
    if sink.pages_omitted > 0 {
        notes.push(format!(
            "{} pages beyond the first {MAX_PAGES} were not kept",
            sink.pages_omitted
        ));
    }
    if sink.entries_omitted > 0 {
        notes.push(format!(
            "{} entries beyond the first {} were not analysed",
            sink.entries_omitted, opts.max_records
        ));
    }
    let variant = sink
        .creator
        .as_ref()
        .map(|c| Variant::from_creator(&c.name))
        .unwrap_or(Variant::Other);
    let (records, more_notes) = convert::records(sink.entries, variant);
    notes.extend(more_notes);
    Ok(Har {
        version,
        creator: sink.creator,
        browser: sink.browser,
        variant,
        pages: sink.pages,
        records,
        records_omitted: sink.entries_omitted,
        notes,
    })
}

fn classify(e: serde_json::Error) -> HarError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => HarError::Io(e.into()),
        Category::Eof => HarError::Truncated {
            line: e.line(),
            column: e.column(),
        },
        Category::Syntax => HarError::NotJson {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        },
        Category::Data => HarError::NotHar(e.to_string()),
    }
}

/// serde_json's message without its " at line L column C" tail (the error has its own).
fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}
