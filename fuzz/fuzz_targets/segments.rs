//! SMS segmentation and the GSM-7 fold on arbitrary text, with their invariants.
#![no_main]
use civic_router::channel::segments::{
    cheapest, fold_to_gsm, segment_info, shorten_to_segments, Encoding, GSM7_PART, GSM7_SINGLE, UCS2_PART,
    UCS2_SINGLE,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let s = segment_info(text);
    assert_eq!(s.parts.iter().sum::<usize>(), s.units);
    assert_eq!(s.segments, s.parts.len());
    let (single, part) = match s.encoding {
        Encoding::Gsm7 => (GSM7_SINGLE, GSM7_PART),
        Encoding::Ucs2 => (UCS2_SINGLE, UCS2_PART),
    };
    if s.segments == 1 {
        assert!(s.units <= single);
    } else {
        assert!(s.parts.iter().all(|&p| p <= part));
    }
    assert_eq!(s.encoding == Encoding::Gsm7, s.non_gsm.is_empty());
    // the cost-saving rendering never costs more; the fold is idempotent and leaves only
    // characters without a GSM-7 equivalent
    assert!(segment_info(&cheapest(text)).segments <= s.segments);
    let f = fold_to_gsm(text);
    assert_eq!(fold_to_gsm(&f), f);
    assert!(segment_info(&f).non_gsm.iter().all(|c| s.non_gsm.contains(c)));
    if text.len() < 4000 {
        for max in [1, 3] {
            assert!(segment_info(&shorten_to_segments(text, max)).segments <= max);
        }
    }
});
