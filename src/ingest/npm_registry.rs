//! npm registry packuments.
