//! Unit tests of `FileSource` over hand-built byte blobs, plus property tests on hostile input.

use std::io::{self, Cursor, Read};

use proptest::prelude::*;
use vedette_types::LinkType;

use super::*;
use crate::testutil::*;

#[test]
fn classic_little_endian_microseconds() {
    let mut f = pcap_header(MAGIC_US, false, 1);
    pcap_record(&mut f, false, 1_700_000_000, 123_456, 60, &[0xaa; 60]);
    pcap_record(&mut f, false, 1_700_000_001, 999_999, 1514, &[0xbb; 100]);
    let mut src = source(f.clone());
    assert_eq!(src.format(), CaptureFormat::Pcap);
    let (pkts, err) = drain(&mut src);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].ts, ts(1_700_000_000, 123_456_000));
    assert_eq!(pkts[0].data, vec![0xaa; 60]);
    assert_eq!(pkts[0].orig_len, 60);
    assert_eq!(pkts[0].link_type, LinkType::ETHERNET);
    assert_eq!(pkts[1].ts, ts(1_700_000_001, 999_999_000));
    assert_eq!(pkts[1].data.len(), 100);
    assert_eq!(pkts[1].orig_len, 1514);
    let st = src.stats();
    assert_eq!(st.packets, 2);
    assert_eq!(st.bytes, 160);
    assert_eq!(st.files_opened, 1);
    assert_eq!(st.files_truncated, 0);
    assert_eq!(src.offset(), f.len() as u64);
}

#[test]
fn classic_big_endian_nanoseconds_raw() {
    let mut f = pcap_header(MAGIC_NS, true, 101);
    pcap_record(&mut f, true, 1_600_000_000, 987_654_321, 20, &[0x45; 20]);
    let (pkts, err) = drain(&mut source(f));
    assert!(err.is_none());
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].ts, ts(1_600_000_000, 987_654_321));
    assert_eq!(pkts[0].link_type, LinkType::RAW);
    assert_eq!(pkts[0].data, vec![0x45; 20]);
}

#[test]
fn classic_little_endian_nanoseconds_and_big_endian_microseconds() {
    let mut le_ns = pcap_header(MAGIC_NS, false, 113);
    pcap_record(&mut le_ns, false, 5, 7, 3, &[1, 2, 3]);
    let (pkts, _) = drain(&mut source(le_ns));
    assert_eq!(pkts[0].ts, ts(5, 7));
    assert_eq!(pkts[0].link_type, LinkType::LINUX_SLL);

    let mut be_us = pcap_header(MAGIC_US, true, 276);
    pcap_record(&mut be_us, true, 5, 7, 3, &[1, 2, 3]);
    let (pkts, _) = drain(&mut source(be_us));
    assert_eq!(pkts[0].ts, ts(5, 7_000));
    assert_eq!(pkts[0].link_type, LinkType::LINUX_SLL2);
}

#[test]
fn classic_modified_format_has_24_byte_records() {
    let mut f = pcap_header(MAGIC_MODIFIED, false, 1);
    pcap_record_header(&mut f, false, 10, 20, 4, 4);
    f.extend_from_slice(&[0; 8]); // ifindex, protocol, pkt_type, pad
    f.extend_from_slice(&[9, 8, 7, 6]);
    let (pkts, err) = drain(&mut source(f));
    assert!(err.is_none());
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].data, vec![9, 8, 7, 6]);
    assert_eq!(pkts[0].ts, ts(10, 20_000));
}

#[test]
fn link_types_pass_through_and_fcs_bits_are_masked() {
    for lt in [0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, 65_000] {
        let mut f = pcap_header(MAGIC_US, false, lt);
        pcap_record(&mut f, false, 0, 0, 1, &[0]);
        let (pkts, _) = drain(&mut source(f));
        assert_eq!(pkts[0].link_type, LinkType(lt), "link type {lt}");
    }
    // Ethernet with "FCS length present, 4 bytes" flags in the upper bits.
    let mut f = pcap_header(MAGIC_US, false, 0x1400_0001);
    pcap_record(&mut f, false, 0, 0, 1, &[0]);
    let (pkts, _) = drain(&mut source(f));
    assert_eq!(pkts[0].link_type, LinkType::ETHERNET);
}

#[test]
fn zero_length_packet_and_caplen_above_orig_len() {
    let mut f = pcap_header(MAGIC_US, false, 1);
    pcap_record(&mut f, false, 1, 0, 0, &[]);
    pcap_record(&mut f, false, 2, 0, 10, &[7; 40]);
    let (pkts, err) = drain(&mut source(f));
    assert!(err.is_none());
    assert_eq!(pkts.len(), 2);
    assert!(pkts[0].data.is_empty());
    assert_eq!(pkts[0].orig_len, 0);
    assert_eq!(pkts[1].data.len(), 40);
    assert_eq!(pkts[1].orig_len, 40, "orig_len is at least caplen");
}

#[test]
fn truncated_last_record_ends_cleanly_and_is_counted() {
    let mut f = pcap_header(MAGIC_US, false, 1);
    pcap_record(&mut f, false, 1, 0, 60, &[1; 60]);
    pcap_record(&mut f, false, 2, 0, 60, &[2; 60]);
    for cut in [1usize, 8, 16, 17, 75] {
        let bytes = f[..f.len() - cut].to_vec();
        let mut src = source(bytes);
        let (pkts, err) = drain(&mut src);
        assert!(err.is_none(), "cut {cut}: truncation is not an error");
        assert_eq!(pkts.len(), 1, "cut {cut}");
        assert_eq!(src.stats().files_truncated, 1, "cut {cut}");
    }
}

#[test]
fn huge_caplen_is_corrupt_once_then_end() {
    let mut f = pcap_header(MAGIC_US, false, 1);
    pcap_record(&mut f, false, 1, 0, 4, &[1; 4]);
    let bad_offset = f.len() as u64;
    pcap_record_header(&mut f, false, 2, 0, 0xffff_fff0, 0xffff_fff0);
    f.extend_from_slice(&[0; 100]);
    let mut src = source(f);
    let (pkts, err) = drain(&mut src);
    assert_eq!(pkts.len(), 1);
    match err {
        Some(CaptureError::Corrupt { offset, reason, .. }) => {
            assert_eq!(offset, bad_offset);
            assert!(reason.contains("exceeds"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let st = src.stats();
    assert_eq!(st.oversized_skipped, 1);
    assert_eq!(st.files_truncated, 1);
}

#[test]
fn caplen_just_above_a_custom_limit_is_corrupt() {
    let limits = CaptureLimits {
        max_packet_bytes: 100,
    };
    let mut f = pcap_header(MAGIC_US, false, 1);
    pcap_record(&mut f, false, 1, 0, 100, &[1; 100]);
    pcap_record(&mut f, false, 1, 0, 101, &[1; 101]);
    let mut src = source_with(f, limits).expect("opens");
    let (pkts, err) = drain(&mut src);
    assert_eq!(pkts.len(), 1);
    assert!(matches!(err, Some(CaptureError::Corrupt { .. })));
}

#[test]
fn garbage_after_header() {
    let mut f = pcap_header(MAGIC_US, false, 1);
    f.extend_from_slice(&[0xff; 64]);
    let (pkts, err) = drain(&mut source(f));
    assert!(pkts.is_empty());
    assert!(matches!(
        err,
        Some(CaptureError::Corrupt { offset: 24, .. })
    ));
}

#[test]
fn empty_short_and_header_only_files() {
    assert!(matches!(
        source_with(Vec::new(), CaptureLimits::default()),
        Err(CaptureError::UnknownFormat { .. })
    ));
    assert!(matches!(
        source_with(vec![0xd4, 0xc3], CaptureLimits::default()),
        Err(CaptureError::UnknownFormat { .. })
    ));
    assert!(matches!(
        source_with(b"GET / HTTP/1.1\r\n".to_vec(), CaptureLimits::default()),
        Err(CaptureError::UnknownFormat { .. })
    ));
    let header = pcap_header(MAGIC_US, false, 1);
    assert!(matches!(
        source_with(header[..20].to_vec(), CaptureLimits::default()),
        Err(CaptureError::Corrupt { .. })
    ));
    let mut src = source(header);
    let (pkts, err) = drain(&mut src);
    assert!(pkts.is_empty() && err.is_none());
    assert_eq!(src.stats().files_truncated, 0);

    let mut src = source(ng_shb(false));
    let (pkts, err) = drain(&mut src);
    assert!(pkts.is_empty() && err.is_none());
    // "\n\r\r\n" starting a text file is not pcapng.
    assert!(matches!(
        source_with(b"\n\r\r\nhello world".to_vec(), CaptureLimits::default()),
        Err(CaptureError::UnknownFormat { .. })
    ));
}

#[test]
fn pcapng_two_interfaces_with_own_link_types_and_resolutions() {
    let be = false;
    let mut f = ng_shb(be);
    f.extend(ng_idb(be, 1, 65_535, &[(2, b"eth0")]));
    // if_tsresol = 9 (nanoseconds), if_tsoffset = 100 s.
    f.extend(ng_idb(
        be,
        101,
        0,
        &[(9, &[9]), (14, &100i64.to_le_bytes())],
    ));
    // A Name Resolution Block and an Interface Statistics Block are skipped.
    f.extend(ng_block(be, 4, &[0; 8]));
    f.extend(ng_epb(be, 0, 1_700_000_000_123_456, &[1; 42], 42, &[]));
    f.extend(ng_block(be, 5, &[0; 12]));
    f.extend(ng_epb(
        be,
        1,
        1_700_000_000_987_654_321,
        &[2; 3],
        1000,
        &[(1, b"a comment")],
    ));
    let mut src = source(f);
    assert_eq!(src.format(), CaptureFormat::PcapNg);
    let (pkts, err) = drain(&mut src);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].ts, ts(1_700_000_000, 123_456_000));
    assert_eq!(pkts[0].link_type, LinkType::ETHERNET);
    assert_eq!(pkts[0].data, vec![1; 42]);
    assert_eq!(pkts[1].ts, ts(1_700_000_100, 987_654_321));
    assert_eq!(pkts[1].link_type, LinkType::RAW);
    assert_eq!(pkts[1].data, vec![2; 3]);
    assert_eq!(pkts[1].orig_len, 1000);
}

#[test]
fn pcapng_big_endian_with_power_of_two_resolution_and_negative_offset() {
    let be = true;
    let mut f = ng_shb(be);
    // 2^-10 s units; offset -10 s, written big-endian like the rest of the section.
    f.extend(ng_idb(
        be,
        228,
        0,
        &[(9, &[0x80 | 10]), (14, &(-10i64).to_be_bytes())],
    ));
    // 3.5 s = 3584 units of 1/1024 s.
    f.extend(ng_epb(be, 0, 3584 + 1_000 * 1024, &[0x45; 20], 20, &[]));
    // One unit: 1/1024 s = 976562.5 ns, truncated.
    f.extend(ng_epb(be, 0, 1, &[0x45; 20], 20, &[]));
    let (pkts, err) = drain(&mut source(f));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].ts, ts(993, 500_000_000));
    assert_eq!(pkts[0].link_type, LinkType::IPV4);
    assert_eq!(pkts[1].ts, ts(-10, 976_562));
}

#[test]
fn pcapng_picosecond_resolution() {
    let mut f = ng_shb(false);
    f.extend(ng_idb(false, 1, 0, &[(9, &[12])]));
    f.extend(ng_epb(
        false,
        0,
        2_000_000_000_000 + 123_456_789_012,
        &[0],
        1,
        &[],
    ));
    let (pkts, _) = drain(&mut source(f));
    assert_eq!(pkts[0].ts, ts(2, 123_456_789));
}

#[test]
fn pcapng_invalid_resolution_falls_back_to_microseconds() {
    let mut f = ng_shb(false);
    f.extend(ng_idb(false, 1, 0, &[(9, &[30])]));
    f.extend(ng_epb(false, 0, 1_500_000, &[0], 1, &[]));
    let (pkts, err) = drain(&mut source(f));
    assert!(err.is_none());
    assert_eq!(pkts[0].ts, ts(1, 500_000_000));
}

#[test]
fn pcapng_sections_switch_byte_order_and_reset_interfaces() {
    let mut f = ng_shb(false);
    f.extend(ng_idb(false, 1, 0, &[]));
    f.extend(ng_idb(false, 113, 0, &[]));
    f.extend(ng_epb(false, 1, 1_000_000, &[1], 1, &[]));
    f.extend(ng_shb(true));
    f.extend(ng_idb(true, 229, 0, &[]));
    f.extend(ng_epb(true, 0, 2_000_000, &[2], 1, &[]));
    let bad_offset = f.len() as u64;
    // Interface 1 was declared in the first section only.
    f.extend(ng_epb(true, 1, 3_000_000, &[3], 1, &[]));
    f.extend(ng_epb(true, 0, 4_000_000, &[4], 1, &[]));
    let (pkts, err) = drain(&mut source(f));
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].link_type, LinkType::LINUX_SLL);
    assert_eq!(pkts[0].ts, ts(1, 0));
    assert_eq!(pkts[1].link_type, LinkType::IPV6);
    assert_eq!(pkts[1].ts, ts(2, 0));
    match err {
        Some(CaptureError::Corrupt { offset, reason, .. }) => {
            assert_eq!(offset, bad_offset);
            assert!(reason.contains("interface 1"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn pcapng_simple_packet_blocks_use_interface_zero_and_its_snaplen() {
    let mut f = ng_shb(false);
    f.extend(ng_idb(false, 1, 8, &[]));
    f.extend(ng_epb(false, 0, 7_000_000, &[0; 4], 4, &[]));
    // Original 10 bytes, block holds 10 (padded to 12): the snap length cuts to 8.
    f.extend(ng_spb(false, 10, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    // Original 3 bytes: data is 3 bytes plus one byte of padding.
    f.extend(ng_spb(false, 3, &[1, 2, 3]));
    let (pkts, err) = drain(&mut source(f));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts.len(), 3);
    assert_eq!(pkts[1].data, vec![1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(pkts[1].orig_len, 10);
    assert_eq!(pkts[1].ts, ts(7, 0), "SPB takes the previous packet's time");
    assert_eq!(pkts[2].data, vec![1, 2, 3]);
    assert_eq!(pkts[2].orig_len, 3);
    assert_eq!(pkts[2].link_type, LinkType::ETHERNET);
}

#[test]
fn pcapng_simple_packet_block_without_interface_is_corrupt() {
    let mut f = ng_shb(false);
    f.extend(ng_spb(false, 3, &[1, 2, 3]));
    let (pkts, err) = drain(&mut source(f));
    assert!(pkts.is_empty());
    assert!(matches!(err, Some(CaptureError::Corrupt { .. })));
}

#[test]
fn pcapng_obsolete_packet_block() {
    let mut f = ng_shb(true);
    f.extend(ng_idb(true, 0, 0, &[(9, &[3])]));
    f.extend(ng_pb(true, 0, 12_345, &[9; 5], 9));
    let (pkts, err) = drain(&mut source(f));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].ts, ts(12, 345_000_000));
    assert_eq!(pkts[0].data, vec![9; 5]);
    assert_eq!(pkts[0].orig_len, 9);
    assert_eq!(pkts[0].link_type, LinkType::NULL);
}

#[test]
fn pcapng_truncated_last_block() {
    let mut f = ng_shb(false);
    f.extend(ng_idb(false, 1, 0, &[]));
    f.extend(ng_epb(false, 0, 1, &[1; 30], 30, &[]));
    f.extend(ng_epb(false, 0, 2, &[2; 30], 30, &[]));
    for cut in [1usize, 4, 40, 55] {
        let mut src = source(f[..f.len() - cut].to_vec());
        let (pkts, err) = drain(&mut src);
        assert!(err.is_none(), "cut {cut}");
        assert_eq!(pkts.len(), 1, "cut {cut}");
        assert_eq!(src.stats().files_truncated, 1);
    }
    // A skipped block cut short is truncation too.
    let mut g = f.clone();
    g.extend(&ng_block(false, 4, &[0; 64])[..30]);
    let mut src = source(g);
    let (pkts, err) = drain(&mut src);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 2);
    assert_eq!(src.stats().files_truncated, 1);
}

#[test]
fn pcapng_corrupt_blocks() {
    let mut base = ng_shb(false);
    base.extend(ng_idb(false, 1, 0, &[]));
    let at = base.len() as u64;

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("length not a multiple of 4", {
            let mut b = ng_epb(false, 0, 1, &[1; 4], 4, &[]);
            b[4] = 33;
            b
        }),
        ("length below minimum", {
            let mut b = ng_block(false, 6, &[]);
            b[4] = 12;
            b
        }),
        ("trailer mismatch", {
            let mut b = ng_epb(false, 0, 1, &[1; 4], 4, &[]);
            let n = b.len();
            b[n - 4] ^= 0x10;
            b
        }),
        ("caplen overruns the block", {
            let mut b = ng_epb(false, 0, 1, &[1; 4], 4, &[]);
            b[20] = 200;
            b
        }),
        ("caplen over the limit", {
            let mut b = ng_epb(false, 0, 1, &[1; 4], 4, &[]);
            b[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
            b
        }),
        ("huge skipped block", {
            let mut b = ng_block(false, 0x0bad, &[0; 4]);
            b[4..8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
            b
        }),
        ("bad byte-order magic in a later section", {
            let mut b = ng_shb(false);
            b[8] = 0;
            b
        }),
        ("zero padding", vec![0; 64]),
    ];
    for (name, block) in cases {
        let mut f = base.clone();
        f.extend(block);
        f.extend(ng_epb(false, 0, 5, &[5; 5], 5, &[]));
        let (pkts, err) = drain(&mut source(f));
        assert!(pkts.is_empty(), "{name}");
        match err {
            Some(CaptureError::Corrupt { offset, .. }) => assert_eq!(offset, at, "{name}"),
            other => panic!("{name}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn pcapng_packet_block_with_options_beyond_allowance_is_corrupt() {
    let comment = vec![b'x'; 60_000];
    let mut f = ng_shb(false);
    f.extend(ng_idb(false, 1, 0, &[]));
    // Within the allowance: fine.
    f.extend(ng_epb(false, 0, 1, &[1; 4], 4, &[(1, &comment)]));
    // Two big comments exceed MAX_PACKET_OPTIONS_BYTES.
    f.extend(ng_epb(
        false,
        0,
        2,
        &[2; 4],
        4,
        &[(1, &comment), (1, &comment)],
    ));
    let (pkts, err) = drain(&mut source(f));
    assert_eq!(pkts.len(), 1);
    assert!(matches!(err, Some(CaptureError::Corrupt { .. })));
}

/// Hands out at most `chunk` bytes per read, like a pipe.
struct Trickle {
    data: Cursor<Vec<u8>>,
    chunk: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk);
        self.data.read(&mut buf[..n])
    }
}

fn pattern(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j) as u8).collect()
}

/// More than one buffer's worth of records of varied sizes: exercises refills, compaction and
/// records straddling the buffer end, in both formats and with short reads.
#[test]
fn many_packets_across_buffer_boundaries() {
    let sizes: Vec<usize> = (0..8000).map(|i| (i * 7919) % 2000).collect();
    let total: usize = sizes.iter().sum();
    assert!(total > DEFAULT_BUFFER_BYTES + DEFAULT_BUFFER_BYTES / 2);

    let mut classic = pcap_header(MAGIC_NS, false, 1);
    let mut ng = ng_shb(true);
    ng.extend(ng_idb(true, 1, 0, &[(9, &[9])]));
    for (i, &len) in sizes.iter().enumerate() {
        let data = pattern(i, len);
        pcap_record(&mut classic, false, i as u32, 0, len as u32, &data);
        ng.extend(ng_epb(
            true,
            0,
            i as u64 * 1_000_000_000,
            &data,
            len as u32,
            &[],
        ));
    }
    for (name, bytes) in [("pcap", classic), ("pcapng", ng)] {
        for chunk in [usize::MAX, 4093] {
            let reader = Trickle {
                data: Cursor::new(bytes.clone()),
                chunk,
            };
            let mut src = FileSource::from_reader(Box::new(reader), name, CaptureLimits::default())
                .expect("opens");
            let mut n = 0;
            while let Some(p) = src.next_packet().expect("reads") {
                assert_eq!(p.data, &pattern(n, sizes[n])[..], "{name} packet {n}");
                assert_eq!(p.ts, ts(n as i64, 0), "{name} packet {n}");
                n += 1;
            }
            assert_eq!(n, sizes.len(), "{name}");
            assert_eq!(src.stats().bytes, total as u64);
            assert_eq!(src.offset(), bytes.len() as u64);
        }
    }
}

#[test]
fn packet_larger_than_the_initial_buffer_grows_it() {
    let big = 5 << 20;
    let limits = CaptureLimits {
        max_packet_bytes: 6 << 20,
    };
    let mut f = pcap_header(MAGIC_US, false, 1);
    pcap_record(&mut f, false, 1, 0, 10, &[1; 10]);
    pcap_record(&mut f, false, 2, 0, big as u32, &pattern(3, big));
    pcap_record(&mut f, false, 3, 0, 10, &[3; 10]);
    let mut src = source_with(f, limits).expect("opens");
    let (pkts, err) = drain(&mut src);
    assert!(err.is_none());
    assert_eq!(pkts.len(), 3);
    assert_eq!(pkts[1].data, pattern(3, big));
    assert_eq!(pkts[2].data, vec![3; 10]);
}

/// A reader that fails after some bytes.
struct Failing(Cursor<Vec<u8>>);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

#[test]
fn io_error_mid_file_is_reported_once() {
    let mut f = pcap_header(MAGIC_US, false, 1);
    pcap_record(&mut f, false, 1, 0, 10, &[1; 10]);
    pcap_record_header(&mut f, false, 2, 0, 10, 10);
    f.extend_from_slice(&[1; 5]);
    let mut src = FileSource::from_reader(
        Box::new(Failing(Cursor::new(f))),
        "x",
        CaptureLimits::default(),
    )
    .expect("opens");
    let (pkts, err) = drain(&mut src);
    assert_eq!(pkts.len(), 1);
    assert!(matches!(err, Some(CaptureError::Io { .. })));
}

// ---- Property tests: hostile bytes never panic and always terminate. ----

/// Reads a blob to the end; asserts termination within a bound and the error contract.
fn read_all(bytes: Vec<u8>, max_packet_bytes: u32) {
    let len = bytes.len();
    let limits = CaptureLimits { max_packet_bytes };
    let Ok(mut src) = source_with(bytes, limits) else {
        return;
    };
    let mut packets = 0usize;
    loop {
        match src.next_packet() {
            Ok(Some(p)) => {
                assert!(p.data.len() <= max_packet_bytes as usize);
                assert!(p.orig_len as usize >= p.data.len());
                packets += 1;
                // Every record takes at least 12 bytes of input.
                assert!(packets <= len / 12 + 1, "runaway reader");
            }
            Ok(None) => break,
            Err(e) => {
                assert!(matches!(
                    e,
                    CaptureError::Corrupt { .. } | CaptureError::Io { .. }
                ));
                break;
            }
        }
    }
    assert!(matches!(src.next_packet(), Ok(None)));
    assert!(src.offset() <= len as u64);
}

fn valid_prefix() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(pcap_header(MAGIC_US, false, 1)),
        Just(pcap_header(MAGIC_NS, true, 101)),
        Just(pcap_header(MAGIC_MODIFIED, false, 113)),
        Just(ng_shb(false)),
        Just(ng_shb(true)),
        Just({
            let mut v = ng_shb(false);
            v.extend(ng_idb(false, 1, 0, &[(9, &[9])]));
            v
        }),
        Just({
            let mut v = ng_shb(true);
            v.extend(ng_idb(true, 1, 64, &[(9, &[0x85])]));
            v
        }),
    ]
}

/// A small valid file of either format, to mutate.
fn valid_file() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..8),
    )
        .prop_map(|(ng, be, packets)| {
            if ng {
                let mut f = ng_shb(be);
                f.extend(ng_idb(be, 1, 0, &[]));
                for (i, p) in packets.iter().enumerate() {
                    if i % 3 == 2 {
                        f.extend(ng_spb(be, p.len() as u32, p));
                    } else {
                        f.extend(ng_epb(be, 0, i as u64, p, p.len() as u32, &[]));
                    }
                }
                f
            } else {
                let mut f = pcap_header(MAGIC_US, be, 1);
                for (i, p) in packets.iter().enumerate() {
                    pcap_record(&mut f, be, i as u32, 0, p.len() as u32, p);
                }
                f
            }
        })
}

proptest! {
    // 512 cases by default; PROPTEST_CASES raises it for a longer soak.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read_all(bytes, 262_144);
    }

    #[test]
    fn random_bytes_after_valid_header_never_panic(
        prefix in valid_prefix(),
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
        small_limit in any::<bool>(),
    ) {
        let mut bytes = prefix;
        bytes.extend(tail);
        read_all(bytes, if small_limit { 64 } else { 262_144 });
    }

    #[test]
    fn mutated_valid_files_never_panic(
        file in valid_file(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut bytes = file;
        if !bytes.is_empty() {
            for (at, v) in flips {
                let i = at.index(bytes.len());
                bytes[i] = v;
            }
            if do_cut {
                bytes.truncate(cut.index(bytes.len()));
            }
        }
        read_all(bytes, 262_144);
    }

    /// Unmutated valid files round-trip exactly.
    #[test]
    fn valid_files_read_back(
        be in any::<bool>(),
        packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..8),
    ) {
        let mut f = pcap_header(MAGIC_NS, be, 1);
        let mut ng = ng_shb(be);
        ng.extend(ng_idb(be, 1, 0, &[(9, &[9])]));
        for (i, p) in packets.iter().enumerate() {
            pcap_record(&mut f, be, i as u32, 5, p.len() as u32, p);
            ng.extend(ng_epb(be, 0, i as u64 * 1_000_000_000 + 5, p, p.len() as u32, &[]));
        }
        for bytes in [f, ng] {
            let (got, err) = drain(&mut source(bytes));
            prop_assert!(err.is_none());
            prop_assert_eq!(got.len(), packets.len());
            for (i, (g, p)) in got.iter().zip(&packets).enumerate() {
                prop_assert_eq!(&g.data, p);
                prop_assert_eq!(g.ts, ts(i as i64, 5));
            }
        }
    }
}
