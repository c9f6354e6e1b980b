"""An application whose import fails, as a broken deploy would."""

raise RuntimeError("probe: this application fails at import")
