//! Stable fingerprints (FNV-1a, 64 bits) that tell inputs apart across versions and machines:
//! pretrained weight files, and the examples a checkpoint was taken on. Not for security.

/// An FNV-1a 64 hasher; feed it bytes, read the hex digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }

    /// The fingerprint of `bytes` alone.
    pub fn of(bytes: &[u8]) -> String {
        let mut f = Self::default();
        f.update(bytes);
        f.hex()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_vectors() {
        // From the FNV reference test suite.
        assert_eq!(Fingerprint::of(b""), "cbf29ce484222325");
        assert_eq!(Fingerprint::of(b"a"), "af63dc4c8601ec8c");
        assert_eq!(Fingerprint::of(b"foobar"), "85944171f73967e8");
    }
}
