"""Changing what a selector watches a socket for, where 0 means "not registered" (selectors
refuses an empty event mask): used by the master for its children's channels and by workers
for their clients, both of which stop reading for a while under backpressure."""

from __future__ import annotations

import selectors


def rewatch(selector: selectors.BaseSelector, fileobj: selectors._FileObject, data: object,
            old_mask: int, new_mask: int) -> int:
    """Make the selector watch `fileobj` for `new_mask` instead of `old_mask`; return the
    new mask, for the caller to keep."""
    if new_mask != old_mask:
        if old_mask == 0:
            selector.register(fileobj, new_mask, data)
        elif new_mask == 0:
            selector.unregister(fileobj)
        else:
            selector.modify(fileobj, new_mask, data)
    return new_mask
