//! The blobs in the index: what will be committed (see the git issue).
