//! Streaming pcap and pcapng reading: one buffer of bounded size, whatever the file's size.

use std::io::Read;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
use pcap_parser::{PcapBlockOwned, PcapError, create_reader};

use crate::{Analyzer, Flows, FlowsError, Options};

/// What reading a capture feeds, one packet record at a time: the [`Analyzer`] or the
/// [`HelloScanner`](crate::HelloScanner).
pub trait PacketSink {
    /// One packet record: its time (µs since the epoch), link type (pcap `LINKTYPE_*`), the
    /// captured bytes and the length on the wire.
    fn packet(&mut self, ts_us: u64, linktype: u32, data: &[u8], wire_len: usize);
    /// The file ended inside a record, or a block could not be parsed.
    fn mark_truncated(&mut self);
    /// Counters so far.
    fn stats(&self) -> &crate::Stats;
}

impl PacketSink for Analyzer {
    fn packet(&mut self, ts_us: u64, linktype: u32, data: &[u8], wire_len: usize) {
        Analyzer::packet(self, ts_us, linktype, data, wire_len);
    }

    fn mark_truncated(&mut self) {
        Analyzer::mark_truncated(self);
    }

    fn stats(&self) -> &crate::Stats {
        Analyzer::stats(self)
    }
}

const BUFFER: usize = 1 << 20;
/// A block larger than this is damage, not a packet.
const MAX_BUFFER: usize = 64 << 20;

/// An interface of a pcapng section: link type and time base.
struct Interface {
    linktype: u32,
    /// Timestamp units per second.
    resolution: u64,
    offset_s: i64,
}

/// Reads a whole capture (pcap or pcapng, detected from its first bytes) from `reader` and
/// analyses it. Damage after the start ends reading there (`stats.truncated_file`, a note);
/// only a file that is not a capture at all, or whose packets are all of an unsupported
/// link type, is an error.
pub fn read_capture<R: Read + Send>(reader: R, opts: &Options) -> Result<Flows, FlowsError> {
    let mut analyzer = Analyzer::new(*opts);
    read_into(reader, &mut analyzer)?;
    if !analyzer.decoded_any()
        && let Some(&lt) = analyzer.stats().unsupported_linktypes.first()
    {
        return Err(FlowsError::UnsupportedLinktype(lt));
    }
    Ok(analyzer.finish())
}

/// Feeds every packet of a capture to `analyzer` (several files may go into one analyzer).
pub fn read_into<R: Read + Send, S: PacketSink>(
    reader: R,
    analyzer: &mut S,
) -> Result<(), FlowsError> {
    let mut reader = match create_reader(BUFFER, reader) {
        Ok(r) => r,
        Err(PcapError::Eof) => return Err(FlowsError::NotACapture("the file is empty".into())),
        Err(PcapError::Incomplete(_)) => {
            return Err(FlowsError::NotACapture(
                "too short for a capture header".into(),
            ));
        }
        Err(PcapError::ReadError) => return Err(FlowsError::Read),
        Err(_) => {
            return Err(FlowsError::NotACapture(
                "the first bytes are neither a pcap nor a pcapng header".into(),
            ));
        }
    };
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut legacy: Option<(u32, bool)> = None;
    let mut capacity = BUFFER;
    let mut last_ts = 0u64;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = Some((h.network.0 as u32, h.is_nanosecond_precision()));
                    }
                    PcapBlockOwned::Legacy(frame) => {
                        let (lt, nanos) = legacy.unwrap_or((1, false));
                        let frac = u64::from(frame.ts_usec);
                        let us = u64::from(frame.ts_sec) * 1_000_000
                            + if nanos { frac / 1000 } else { frac };
                        last_ts = us;
                        let caplen = usize::try_from(frame.caplen).unwrap_or(usize::MAX);
                        let data = frame.data.get(..caplen).unwrap_or(frame.data);
                        let wire = usize::try_from(frame.origlen).unwrap_or(0);
                        analyzer.packet(us, lt, data, wire);
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype.0 as u32,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset_s: idb.ts_offset(),
                        });
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let iface = usize::try_from(epb.if_id)
                            .ok()
                            .and_then(|i| interfaces.get(i));
                        let (lt, res, off) = iface.map_or((u32::MAX, 1_000_000, 0), |i| {
                            (i.linktype, i.resolution, i.offset_s)
                        });
                        let raw = (u128::from(epb.ts_high) << 32) | u128::from(epb.ts_low);
                        let us = raw * 1_000_000 / u128::from(res);
                        let us = u64::try_from(us)
                            .unwrap_or(u64::MAX)
                            .saturating_add_signed(off.saturating_mul(1_000_000));
                        last_ts = us;
                        let wire = usize::try_from(epb.origlen).unwrap_or(0);
                        analyzer.packet(us, lt, epb.packet_data(), wire);
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let lt = interfaces.first().map_or(u32::MAX, |i| i.linktype);
                        let wire = usize::try_from(spb.origlen).unwrap_or(0);
                        analyzer.packet(last_ts, lt, spb.packet_data(), wire);
                    }
                    _ => {}
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() {
                    analyzer.mark_truncated();
                    break;
                }
                if reader.refill().is_err() {
                    return Err(FlowsError::Read);
                }
            }
            Err(PcapError::BufferTooSmall) => {
                if capacity >= MAX_BUFFER {
                    analyzer.mark_truncated();
                    break;
                }
                capacity *= 4;
                if !reader.grow(capacity) {
                    analyzer.mark_truncated();
                    break;
                }
                if reader.refill().is_err() {
                    return Err(FlowsError::Read);
                }
            }
            Err(PcapError::ReadError) => return Err(FlowsError::Read),
            Err(_) => {
                analyzer.mark_truncated();
                break;
            }
        }
    }
    Ok(())
}
