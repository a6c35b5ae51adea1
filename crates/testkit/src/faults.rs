//! Fault servers for probe tests: loopback servers that stall, truncate, reset or misbehave on
//! purpose, so the probe's timing and error classification can be checked against real sockets.
//! (Owned by the probe engineer.)
