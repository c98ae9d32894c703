"""On call: the rotation engine and the roster (who is on call at each level, and when that changes)."""
