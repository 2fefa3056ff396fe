//! Git history as unique blobs, with provenance (see the git issue).
