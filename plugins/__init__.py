"""The built-in bulk allocation API designs. Each module is a plugin registered through the ``benchframe``
entry-point group, exactly as a third-party design would be."""
