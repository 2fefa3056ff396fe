//! `keysweep sweep`: a synthetic home directory swept forensically (every planted key at its
//! location, in archives and key stores too, every skip with its reason, bombs stopped by their
//! limits, nothing in the tree changed), and sweeps stopped by a
//! signal partway (the JSONL keeps what was found and ends with an interrupted summary).

mod home;
mod planted;
mod progress;
mod signals;
mod snapshot;
