//! acme-cli 1.1.0: fictional Acme Corp crate (demo data).
