//! Copies of the few bytes most fields are, without a call to `memcpy`: on every field of every
//! message packed or read, the call costs more than the copy.

/// `dst.copy_from_slice(src)` for slices of equal length (anything else copies nothing): two
/// overlapping fixed-size moves cover any length up to 16, longer ones go to `memcpy`.
#[inline(always)]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    fn ends<const N: usize>(dst: &mut [u8], src: &[u8]) {
        if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
            *d = *s;
        }
        if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
            *d = *s;
        }
    }
    match src.len() {
        n if n != dst.len() => {}
        0 => {}
        1 => ends::<1>(dst, src),
        2..4 => ends::<2>(dst, src),
        4..8 => ends::<4>(dst, src),
        8..=16 => ends::<8>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_is_copied_exactly_and_nothing_around_it() {
        let src: Vec<u8> = (1..=40).collect();
        for len in 0..=40 {
            let mut dst = [0u8; 44];
            copy(&mut dst[2..2 + len], &src[..len]);
            assert_eq!(&dst[2..2 + len], &src[..len], "length {len}");
            assert!(
                dst[..2].iter().chain(&dst[2 + len..]).all(|&b| b == 0),
                "length {len}"
            );
        }
        let mut short = [0u8; 3];
        copy(&mut short, &src[..4]);
        assert_eq!(short, [0; 3], "unequal lengths copy nothing");
    }
}
