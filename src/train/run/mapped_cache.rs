//! The frozen prefix's activations in a memory-mapped file (native only), for data sets whose
//! cache outgrows memory: the operating system keeps the pages in use resident and drops the
//! others, reading them back from the file when a batch needs them.
//!
//! The file is written with ordinary writes while the cache fills (a full disk is an error
//! then, not a fault on a mapped page) and mapped when it is complete. burn's CPU device reads a
//! tensor's bytes through an allocation controller, so the mapping becomes the cache tensor
//! as it is, without a copy. The file has no name (it is deleted as it is created, where the
//! system allows), so nothing is left behind when the run ends, is stopped or crashes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::mem::MaybeUninit;
use std::path::Path;

use burn::tensor::{AllocationProperty, Bytes, DType, TensorData};
use burn_std::{AccessError, AccessPolicy, AllocationController};
use memmap2::{MmapMut, MmapOptions};

use crate::error::{Error, Result};

/// Activations written to an unnamed file in a folder, example after example.
pub(super) struct MappedRows {
    file: BufWriter<File>,
    /// Values written so far and the capacity promised when the file was created.
    written: usize,
    capacity: usize,
}

impl MappedRows {
    /// A file in `dir` for `capacity` f32 values.
    pub(super) fn create(dir: &Path, capacity: usize) -> Result<Self> {
        capacity
            .checked_mul(size_of::<f32>())
            .ok_or_else(|| Error::Data(format!("a cache of {capacity} values is too large")))?;
        let file = tempfile::tempfile_in(dir).map_err(|e| {
            Error::Data(format!(
                "cannot create the activation cache in {}: {e}; give a folder you can write to",
                dir.display()
            ))
        })?;
        Ok(Self {
            file: BufWriter::with_capacity(1 << 20, file),
            written: 0,
            capacity,
        })
    }

    /// Appends the next examples' values.
    pub(super) fn extend(&mut self, values: &[f32]) -> Result<()> {
        let written = self
            .written
            .checked_add(values.len())
            .filter(|&w| w <= self.capacity)
            .ok_or_else(|| {
                Error::State("internal: more activations than the cache holds".into())
            })?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        self.file.write_all(&bytes).map_err(write_error)?;
        self.written = written;
        Ok(())
    }

    /// The complete file as tensor data of `shape` (f32, read through the mapping).
    pub(super) fn into_data(self, shape: Vec<usize>) -> Result<TensorData> {
        let values: usize = shape.iter().product();
        if values != self.written || values == 0 {
            return Err(Error::State(format!(
                "internal: the activation file holds {} values, not {values}",
                self.written
            )));
        }
        let file = self
            .file
            .into_inner()
            .map_err(|e| write_error(e.into_error()))?;
        // Copy-on-write: the file is never written through the mapping, and a tensor operation
        // that writes in place (none is expected on a shared cache) gets private pages.
        // SAFETY: the file has no name and this process holds its only handle, so nothing else
        // can truncate or change it while it is mapped.
        let map = unsafe { MmapOptions::new().map_copy(&file) }
            .map_err(|e| Error::Data(format!("cannot map the activation cache: {e}")))?;
        let len = map.len();
        // SAFETY: the mapping's `len` bytes are the file's, all written above.
        let bytes = unsafe { Bytes::from_controller(Box::new(MappedFile { map }), len) };
        Ok(TensorData::from_bytes(bytes, shape, DType::F32))
    }
}

fn write_error(e: std::io::Error) -> Error {
    Error::Data(format!(
        "cannot write the activation cache: {e}; free disk space or give another folder"
    ))
}

/// A mapped file as the storage of a tensor.
struct MappedFile {
    map: MmapMut,
}

impl AllocationController for MappedFile {
    fn alloc_align(&self) -> usize {
        // Mappings start on a page boundary; 4 KiB is the smallest page of the supported systems.
        4096
    }

    fn property(&self) -> AllocationProperty {
        AllocationProperty::File
    }

    unsafe fn memory_mut(
        &mut self,
        _policy: AccessPolicy,
    ) -> std::result::Result<&mut [MaybeUninit<u8>], AccessError> {
        let bytes: &mut [u8] = &mut self.map;
        // SAFETY: initialised bytes viewed as possibly uninitialised ones.
        Ok(unsafe { &mut *(bytes as *mut [u8] as *mut [MaybeUninit<u8>]) })
    }

    fn memory(
        &self,
        _policy: AccessPolicy,
    ) -> std::result::Result<&[MaybeUninit<u8>], AccessError> {
        let bytes: &[u8] = &self.map;
        // SAFETY: initialised bytes viewed as possibly uninitialised ones.
        Ok(unsafe { &*(bytes as *const [u8] as *const [MaybeUninit<u8>]) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::Activations;
    use burn::tensor::{Int, Tensor};

    #[test]
    fn a_mapped_cache_reads_back_what_was_written() {
        let dir = std::env::temp_dir();
        let values: Vec<f32> = (0..6 * 8).map(|v| v as f32 * 0.5 - 3.0).collect();
        let mut rows = MappedRows::create(&dir, values.len()).unwrap();
        // Written in two chunks, as the cache fills.
        rows.extend(&values[..16]).unwrap();
        rows.extend(&values[16..]).unwrap();
        let device = burn::tensor::Device::flex();
        let data = rows.into_data(Activations::host_shape(6, &[8])).unwrap();
        let mapped = Activations::from_host_data(data, &device);
        let memory = Activations::from_host(values.clone(), 6, &[8], &device);
        let rows = Tensor::<1, Int>::from_ints([4, 0, 5], &device);
        let read = |a: &Activations| {
            a.select(rows.clone())
                .into_features()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(read(&mapped), read(&memory));
        assert_eq!(read(&mapped)[..8], values[32..40]);
    }

    #[test]
    fn more_or_fewer_values_than_promised_are_errors() {
        let dir = std::env::temp_dir();
        let mut rows = MappedRows::create(&dir, 4).unwrap();
        assert!(rows.extend(&[0.0; 5]).is_err());
        rows.extend(&[1.0; 3]).unwrap();
        assert!(rows.into_data(vec![1, 4]).is_err());
        let missing = dir.join("kindling-no-such-folder");
        let Err(error) = MappedRows::create(&missing, 4) else {
            panic!("a missing folder was accepted");
        };
        assert!(
            error.to_string().contains("kindling-no-such-folder"),
            "{error}"
        );
    }
}
