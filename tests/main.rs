//! Integration tests of civic-router (one binary, as the `regex` crate keeps them).

mod pipeline;
mod routing;
