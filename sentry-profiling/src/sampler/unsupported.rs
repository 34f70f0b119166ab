//! Platforms without the sampler: the API exists and says so.

use super::{SampleSink, SamplerConfig, SamplerError, SamplerStats};

/// The sampler where it does not run: [`Sampler::start`] always fails with
/// [`SamplerError::Unsupported`].
#[derive(Debug)]
pub(crate) struct Sampler {
    _never: std::convert::Infallible,
}

impl Sampler {
    /// Always fails: the sampler runs on Linux x86_64 and aarch64 only.
    pub(crate) fn start(
        _config: SamplerConfig,
        _sink: Box<dyn SampleSink>,
    ) -> Result<Sampler, SamplerError> {
        Err(SamplerError::Unsupported(super::SUPPORTED_PLATFORMS))
    }

    /// Never called: no sampler of this type exists.
    pub(crate) fn stop(self) -> Box<dyn SampleSink> {
        match self._never {}
    }

    /// Never called: no sampler of this type exists.
    pub(crate) fn stats(&self) -> SamplerStats {
        match self._never {}
    }
}
