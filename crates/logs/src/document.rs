//! Whole-document JSON exports (Avi's API answers `{"count": …, "results": [...]}`), read one
//! record at a time.
//!
//! The records list is walked with a serde `DeserializeSeed`: each element is deserialized
//! into a typed [`JsonRecord`] and handed to the gatherer before the next one is read, so
//! memory is the gatherer's own bounds plus one record, whatever the size of the document.
//! serde_json buffers a string the records need (a key, a known field) whole; a byte budget per
//! record under the deserializer bounds that too: a record beyond [`MAX_JSON_RECORD`] ends the
//! reading with an error rather than with the memory of the machine.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufReader, Read};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use crate::gather::Gatherer;
use crate::json::JsonRecord;

/// A record of a JSON document larger than this (bytes of its text, indentation included) is
/// refused: Avi's records are a few KiB, and serde buffers a record's strings whole.
pub const MAX_JSON_RECORD: usize = 1024 * 1024;

/// Bytes read from the file at a time under the deserializer.
const READ_CHUNK: usize = 64 * 1024;

/// Why a JSON document could not be read to its end. The records read before it were
/// gathered.
#[derive(Debug)]
#[non_exhaustive]
pub enum JsonDocumentError {
    /// A record (or, with `record` 0, a value beside the records) is larger than `limit`
    /// bytes.
    TooLarge {
        /// The record's number (1-based), 0 outside the records list.
        record: u64,
        /// [`MAX_JSON_RECORD`].
        limit: usize,
    },
    /// Not JSON, not a list of records nor an object with a `results` list, or the file could
    /// not be read.
    Json(serde_json::Error),
}

impl fmt::Display for JsonDocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonDocumentError::TooLarge { record: 0, limit } => write!(
                f,
                "a value beside the records list is larger than {} KiB",
                limit / 1024
            ),
            JsonDocumentError::TooLarge { record, limit } => write!(
                f,
                "record {record} is larger than {} KiB, not a log record",
                limit / 1024
            ),
            JsonDocumentError::Json(e) => match e.classify() {
                Category::Io => write!(f, "{e}"),
                Category::Data => write!(
                    f,
                    "not a list of records nor an object with a \"results\" list: {e}"
                ),
                Category::Syntax | Category::Eof => write!(f, "not valid JSON: {e}"),
            },
        }
    }
}

impl std::error::Error for JsonDocumentError {}

/// Where the reading is, shared by the byte budget and the visitors.
struct Progress {
    /// Bytes taken from the file so far.
    pulled: Cell<u64>,
    /// `pulled` when the current record (or top-level value) began.
    started_at: Cell<u64>,
    /// The current record's number, 0 outside the records list.
    record: Cell<u64>,
    /// The budget ran out: the deserializer's error is this.
    over_budget: Cell<bool>,
    limit: u64,
}

impl Progress {
    fn begin(&self, record: u64) {
        self.started_at.set(self.pulled.get());
        self.record.set(record);
    }
}

/// The file as the deserializer sees it: it fails once the current record has taken more
/// than its budget. Counted in chunks below the buffer, so the cut is at most one chunk late;
/// a record within the limit never trips it.
struct Budgeted<'p, R> {
    inner: R,
    progress: &'p Progress,
}

impl<R: Read> Read for Budgeted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let p = self.progress;
        if p.pulled.get() - p.started_at.get() > p.limit {
            p.over_budget.set(true);
            return Err(io::Error::other("JSON record over its size budget"));
        }
        let n = self.inner.read(buf)?;
        p.pulled.set(p.pulled.get() + n as u64);
        Ok(n)
    }
}

impl Gatherer {
    /// Read a JSON document — a list of records, or an object whose `"results"` is one (other
    /// fields are skipped) — into source `source`, one record at a time; each record counts as
    /// a line. Returns the number of records read.
    pub fn json_document(
        &mut self,
        source: usize,
        reader: impl Read,
    ) -> Result<u64, JsonDocumentError> {
        self.json_document_with_limit(source, reader, MAX_JSON_RECORD)
    }

    pub(crate) fn json_document_with_limit(
        &mut self,
        source: usize,
        reader: impl Read,
        limit: usize,
    ) -> Result<u64, JsonDocumentError> {
        let progress = Progress {
            pulled: Cell::new(0),
            started_at: Cell::new(0),
            record: Cell::new(0),
            over_budget: Cell::new(false),
            limit: limit as u64,
        };
        // The buffer is on top so serde_json's byte-at-a-time reads stay cheap.
        let file = BufReader::with_capacity(
            READ_CHUNK,
            Budgeted {
                inner: reader,
                progress: &progress,
            },
        );
        let mut de = serde_json::Deserializer::from_reader(file);
        let mut read = 0u64;
        let result = DocumentSeed {
            records: Records {
                gatherer: self,
                source,
                progress: &progress,
                read: &mut read,
            },
        }
        .deserialize(&mut de)
        .and_then(|()| {
            progress.begin(0);
            de.end()
        });
        match result {
            Ok(()) => Ok(read),
            Err(_) if progress.over_budget.get() => Err(JsonDocumentError::TooLarge {
                record: progress.record.get(),
                limit,
            }),
            Err(e) => Err(JsonDocumentError::Json(e)),
        }
    }
}

/// Feeds the elements of a records list to the gatherer.
struct Records<'g, 'p> {
    gatherer: &'g mut Gatherer,
    source: usize,
    progress: &'p Progress,
    read: &'g mut u64,
}

impl Records<'_, '_> {
    fn each<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let number = *self.read + 1;
            self.progress.begin(number);
            let Some(record) = seq.next_element::<JsonRecord>()? else {
                return Ok(());
            };
            self.gatherer.json_record(self.source, number, &record);
            *self.read = number;
        }
    }
}

/// The whole document: a list of records, or an object with a `results` list.
struct DocumentSeed<'g, 'p> {
    records: Records<'g, 'p>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records or an object with a \"results\" list")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<(), A::Error> {
        self.records.each(seq)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        loop {
            self.records.progress.begin(0);
            let Some(key) = map.next_key::<TopKey>()? else {
                break;
            };
            match key {
                TopKey::Results => {
                    map.next_value_seed(RecordsSeed {
                        records: &mut self.records,
                    })?;
                    found = true;
                }
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if found {
            Ok(())
        } else {
            Err(de::Error::custom("no \"results\" list"))
        }
    }
}

/// The value of `results`: a list of records.
struct RecordsSeed<'r, 'g, 'p> {
    records: &'r mut Records<'g, 'p>,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.records.each(seq)
    }
}

/// A key of the top-level object, read without allocating.
enum TopKey {
    Results,
    Other,
}

impl<'de> de::Deserialize<'de> for TopKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TopKey, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TopKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<TopKey, E> {
                Ok(if v == "results" {
                    TopKey::Results
                } else {
                    TopKey::Other
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;
    use crate::gather::GatherOptions;

    fn read(doc: &[u8], limit: usize) -> (Result<u64, JsonDocumentError>, Gatherer, usize) {
        let mut g = Gatherer::new(GatherOptions::default());
        let src = g.begin_source("doc.json", Format::Json);
        let r = g.json_document_with_limit(src, doc, limit);
        (r, g, src)
    }

    const AVI: &str = r#"{"uri_path":"/static/a.css","response_code":200,"server_ip":"10.0.0.1"}"#;

    #[test]
    fn lists_and_results_objects_are_read_record_by_record() {
        let listed = format!("[{AVI}, {AVI}, 7]");
        let (r, g, _) = read(listed.as_bytes(), MAX_JSON_RECORD);
        assert_eq!(r.expect("reads"), 3);
        let ev = g.finish();
        assert_eq!(
            (
                ev.sources[0].lines,
                ev.sources[0].parsed,
                ev.sources[0].unparsed
            ),
            (3, 2, 1)
        );
        assert_eq!(
            ev.sources[0].first_unparsed.as_deref(),
            Some("record 3: not a JSON object")
        );
        let exported = format!(
            r#"{{"count": 2, "next": {{"deep": [[1]]}}, "results": [{AVI},{AVI}], "x": null}}"#
        );
        let (r, _, _) = read(exported.as_bytes(), MAX_JSON_RECORD);
        assert_eq!(r.expect("reads"), 2);
    }

    #[test]
    fn what_is_not_a_records_document_is_one_line() {
        for (doc, says) in [
            (&b"{\"count\": 0}"[..], "no \"results\" list"),
            (b"{\"results\": {}}", "expected a list of records"),
            (b"\"x\"", "not a list of records"),
            (b"[1, 2", "not valid JSON"),
            (b"[] x", "not valid JSON"),
            (b"", "not valid JSON"),
        ] {
            let (r, _, _) = read(doc, MAX_JSON_RECORD);
            let text = r.expect_err("refused").to_string();
            assert!(text.contains(says), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
    }

    #[test]
    fn hostile_nesting_and_huge_strings_are_refused_in_bounded_memory() {
        // Nesting inside a known field is serde_json's recursion limit; inside an ignored
        // field, the record's budget.
        let deep = format!("[{{\"uri_path\": {}}}]", "[".repeat(100_000));
        let (r, _, _) = read(deep.as_bytes(), MAX_JSON_RECORD);
        assert!(matches!(r, Err(JsonDocumentError::Json(_))), "{r:?}");
        let deep = format!("[{{\"other\": {}}}]", "[".repeat(4 << 20));
        let (r, _, _) = read(deep.as_bytes(), MAX_JSON_RECORD);
        assert!(
            matches!(r, Err(JsonDocumentError::TooLarge { record: 1, .. })),
            "{r:?}"
        );
        let huge = format!("[{AVI}, {{\"uri_path\": \"{}\"}}]", "a".repeat(4 << 20));
        let (r, g, _) = read(huge.as_bytes(), MAX_JSON_RECORD);
        let e = r.expect_err("refused");
        assert_eq!(
            e.to_string(),
            "record 2 is larger than 1024 KiB, not a log record"
        );
        // The record before it was gathered.
        assert_eq!(g.finish().sources[0].parsed, 1);
        let key = format!("{{\"{}\": 1, \"results\": []}}", "k".repeat(4 << 20));
        let (r, _, _) = read(key.as_bytes(), MAX_JSON_RECORD);
        assert!(
            matches!(r, Err(JsonDocumentError::TooLarge { record: 0, .. })),
            "{r:?}"
        );
    }

    #[test]
    fn a_record_within_the_budget_is_never_cut() {
        let limit = 4096;
        let record = format!(
            "{{\"uri_path\": \"/static/a.css\", \"pad\": \"{}\"}}",
            "p".repeat(limit - 60)
        );
        assert!(record.len() <= limit);
        let doc = format!("[{}]", vec![record; 1000].join(",\n"));
        let (r, _, _) = read(doc.as_bytes(), limit);
        assert_eq!(r.expect("every record within the budget"), 1000);
    }
}
