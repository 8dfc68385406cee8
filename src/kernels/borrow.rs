//! A text lent out of a buffer whose owner must stay free to act on a
//! bad one: checked once, where safe Rust would have to check it twice.

use super::text::as_str;

/// The bytes `text` picks out of `owner`, as a `str` borrowed for as long
/// as `owner` is, if they are UTF-8 (checked once, by
/// [`as_str`](super::text::as_str)); otherwise `owner` back, to act on the failure.
///
/// Safe Rust refuses this shape today: a borrow returned from one branch
/// counts as live in the other as well (the "NLL problem case 3" that the
/// next borrow checker, Polonius, accepts), so a connection had to check a
/// lent text twice: once before lending, while it could still fail, and
/// again to make the `str` (row `decode_masked_text/rfc6455_borrowed/125B`
/// measures the difference).
#[inline(always)]
pub(crate) fn str_or_back<'a, T>(
    owner: &'a mut T,
    text: impl FnOnce(&T) -> &[u8],
) -> Result<&'a str, &'a mut T> {
    let owner: *mut T = owner;
    // SAFETY: `owner` came from a `&'a mut T`, so it is valid and unaliased
    // for 'a. The shared borrow made here lives on only in the `Ok` branch
    // (in the returned `str`), where the exclusive one is never used again.
    let shared: &'a T = unsafe { &*owner };
    match as_str(text(shared)) {
        Some(text) => Ok(text),
        // SAFETY: in this branch nothing borrowed from `shared` remains
        // (the error carries no borrow) and `shared` is not used again, so
        // the exclusive borrow can be handed back.
        None => Err(unsafe { &mut *owner }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_or_back_lends_valid_text_and_hands_the_owner_back_otherwise() {
        let mut owner = (b"h\xc3\xa9llo".to_vec(), 0u32);
        let text = str_or_back(&mut owner, |o| &o.0[..]).expect("valid");
        assert_eq!(text, "héllo");
        // The borrow lives as long as the owner's; the owner is usable after.
        owner.1 += 1;
        owner.0[1] = 0xc3;
        owner.0[2] = 0x28;
        match str_or_back(&mut owner, |o| &o.0[1..]) {
            Ok(text) => panic!("accepted {text:?}"),
            Err(back) => {
                back.0.clear();
                back.1 += 1;
            }
        }
        assert_eq!(owner, (Vec::new(), 2));
    }
}
