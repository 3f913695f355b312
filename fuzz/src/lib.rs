//! The fuzz targets of the sign-in core; see `targets`.

pub mod targets;
