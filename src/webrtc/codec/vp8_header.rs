//! What a VP8 keyframe says of itself before it is decoded.

/// The size a VP8 keyframe declares (RFC 6386 §9.1: a 3-byte frame tag whose lowest bit is 0
/// for a keyframe, the start code 9d 01 2a, then 14-bit width and height); none for an
/// inter frame or data too short to say.
pub fn keyframe_size(data: &[u8]) -> Option<(u32, u32)> {
    let [tag, _, _, 0x9d, 0x01, 0x2a, w0, w1, h0, h1, ..] = *data else { return None };
    if tag & 1 != 0 {
        return None;
    }
    let size = |lo: u8, hi: u8| u32::from(u16::from_le_bytes([lo, hi]) & 0x3fff);
    Some((size(w0, w1), size(h0, h1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyframe_says_its_size_and_an_inter_frame_does_not() {
        // 640×480 with the scaling bits set (they are not part of the size).
        let key = [0x50, 0x2a, 0x01, 0x9d, 0x01, 0x2a, 0x80, 0x42, 0xe0, 0x41, 0, 0];
        assert_eq!(keyframe_size(&key), Some((640, 480)));
        let mut inter = key;
        inter[0] |= 1;
        assert_eq!(keyframe_size(&inter), None);
        assert_eq!(keyframe_size(&key[..6]), None);
    }
}
