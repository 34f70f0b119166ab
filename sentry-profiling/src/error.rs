//! Why the profiler did not start.

use std::fmt;

use crate::sampler::SamplerError;

/// Why [`start_profiler`](crate::start_profiler) could not start the profiler.
///
/// # Examples
///
/// ```
/// let err = sentry_profiling::ProfilerError::Unsupported("only Linux x86_64 and aarch64");
/// assert!(err.to_string().contains("not supported"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ProfilerError {
    /// Profiling is not supported on this platform (the text says where it is).
    Unsupported(&'static str),
    /// Another profiler already samples this process.
    AlreadyRunning,
    /// The operating system refused (installing the signal handler, starting the thread).
    Os(std::io::Error),
}

impl fmt::Display for ProfilerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfilerError::Unsupported(why) => write!(f, "profiling is not supported here: {why}"),
            ProfilerError::AlreadyRunning => {
                f.write_str("another profiler already samples this process")
            }
            ProfilerError::Os(err) => write!(f, "the profiler could not start: {err}"),
        }
    }
}

impl std::error::Error for ProfilerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProfilerError::Os(err) => Some(err),
            _ => None,
        }
    }
}

impl From<SamplerError> for ProfilerError {
    fn from(err: SamplerError) -> Self {
        match err {
            SamplerError::Unsupported(why) => ProfilerError::Unsupported(why),
            SamplerError::AlreadyRunning => ProfilerError::AlreadyRunning,
            SamplerError::Os(err) => ProfilerError::Os(err),
        }
    }
}
