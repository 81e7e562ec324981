//! Test helpers shared by the pieces' tests: feed a document to [`TitleScanner`] whole, in pieces
//! of given lengths, or split at every offset (checking that the split never changes the title).

use super::TitleScanner;

/// Scans `doc` fed in one piece.
pub(super) fn title(doc: &[u8]) -> Option<String> {
    title_with(None, doc)
}

/// Scans `doc` fed in one piece, with a Content-Type charset.
pub(super) fn title_with(header: Option<&str>, doc: &[u8]) -> Option<String> {
    let mut scanner = TitleScanner::new(header);
    scanner.feed(doc);
    scanner.finish()
}

/// Scans `doc` fed in pieces of the given lengths (the last piece takes the rest).
pub(super) fn title_chunked(header: Option<&str>, doc: &[u8], sizes: &[usize]) -> Option<String> {
    let mut scanner = TitleScanner::new(header);
    let mut rest = doc;
    for &size in sizes {
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        if scanner.feed(piece) {
            return scanner.finish();
        }
        rest = tail;
    }
    scanner.feed(rest);
    scanner.finish()
}

/// Asserts that every way of splitting `doc` (one byte at a time, and in two at each
/// offset) gives the same title as feeding it whole, and returns that title.
pub(super) fn split_invariant(header: Option<&str>, doc: &[u8]) -> Option<String> {
    let whole = title_with(header, doc);
    let mut scanner = TitleScanner::new(header);
    for byte in doc.chunks(1) {
        if scanner.feed(byte) {
            break;
        }
    }
    assert_eq!(
        scanner.finish(),
        whole,
        "byte at a time: {:?}",
        String::from_utf8_lossy(doc)
    );
    for cut in 0..=doc.len() {
        let split = title_chunked(header, doc, &[cut]);
        assert_eq!(
            split,
            whole,
            "split at {cut}: {:?}",
            String::from_utf8_lossy(doc)
        );
    }
    whole
}
