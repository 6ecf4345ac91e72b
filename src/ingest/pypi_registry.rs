//! PyPI JSON API documents.
