"""The log entry type, as delivery names it (it lives in the store, beside its reader)."""

from __future__ import annotations

from herald.store.logentry import Entry, OffsetKey, entries, format_offset, is_offset, offset_key

__all__ = ["Entry", "OffsetKey", "entries", "format_offset", "is_offset", "offset_key"]
