//! For hand-written map visitors (config sections whose check-kind blocks
//! sit flat beside their own keys, read by hand so errors keep their line
//! and column): one own key read at most once.

use serde::Deserialize;
use serde::de::{Error, MapAccess};

/// Reads the value of the entry at hand into `slot`; a second `key` in one
/// map is serde's duplicate-field error, as a derived struct would give.
pub fn read_once<'de, A, T>(
    map: &mut A,
    key: &'static str,
    slot: &mut Option<T>,
) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    if slot.is_some() {
        return Err(A::Error::duplicate_field(key));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}
