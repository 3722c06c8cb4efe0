//! The head's matrix product on CubeCL devices: each invocation keeps an 8-row × 4-column block
//! of the output in registers and walks the shared dimension once, reading the left operand as
//! scalars (through its strides, so a transposed view costs no copy) and the right one as
//! 4-wide rows, with no workgroup memory and no barriers. This is the design our raw-WebGPU peak
//! kernel found fastest on a CPU-emulated adapter (benches/browser/peak.js, `register`), where
//! burn's fallback stages tiles through workgroup memory with a barrier per step.
//!
//! An output width that is not a multiple of 4 (a head's last layer: one column a class) is
//! read 2 or 1 wide by the same kernel. Operands that are not f32 matrices go to burn's matmul.

use burn::backend::ops::FloatTensorOps;
use burn::tensor::DType;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::{into_contiguous, untile};
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::HeadProduct;

/// Output rows one invocation computes (the kernel unrolls this many accumulators).
const ROWS_PER_UNIT: usize = 8;
/// Output columns one invocation computes, at most: one 4-wide vector.
const MAX_COLUMNS_PER_UNIT: usize = 4;
/// Workgroup: 16 column-vectors × 4 row blocks = 64 invocations, a 32 × 64 block of the output.
const WORKGROUP_X: u32 = 16;
const WORKGROUP_Y: u32 = 4;

impl HeadProduct for CubeBackend {
    fn head_product(lhs: CubeTensor, rhs: CubeTensor) -> CubeTensor {
        match kernel_dispatch(&lhs, &rhs) {
            Some(workgroups) => register_product(lhs, rhs, workgroups),
            None => Self::float_matmul(lhs, rhs),
        }
    }
}

/// The kernel's workgroups along x and y when it takes these operands; `None` sends them to
/// burn's matmul.
fn kernel_dispatch(lhs: &CubeTensor, rhs: &CubeTensor) -> Option<(u32, u32)> {
    let (ls, rs) = (lhs.meta.shape(), rhs.meta.shape());
    let fits = lhs.dtype == DType::F32
        && rhs.dtype == DType::F32
        && lhs.qparams.is_none()
        && rhs.qparams.is_none()
        && ls.num_dims() == 2
        && rs.num_dims() == 2
        && ls[1] == rs[0]
        && ls[0] > 0
        && ls[1] > 0
        && rs[1] > 0;
    fits.then(|| workgroups(ls[0], rs[1])).flatten()
}

/// The dispatch's workgroups along x (column vectors) and y (row blocks), when each is within
/// WebGPU's guaranteed limit of 65,535 a dimension.
fn workgroups(rows: usize, columns: usize) -> Option<(u32, u32)> {
    const MAX_WORKGROUPS: usize = 65_535;
    let x = (columns / vector_width(columns)).div_ceil(WORKGROUP_X as usize);
    let y = rows.div_ceil(ROWS_PER_UNIT).div_ceil(WORKGROUP_Y as usize);
    match x <= MAX_WORKGROUPS && y <= MAX_WORKGROUPS {
        true => Some((x as u32, y as u32)),
        false => None,
    }
}

/// The widest vector (4, 2 or 1 values) that divides the output's width.
fn vector_width(columns: usize) -> usize {
    [MAX_COLUMNS_PER_UNIT, 2]
        .into_iter()
        .find(|w| columns.is_multiple_of(*w))
        .unwrap_or(1)
}

fn register_product(lhs: CubeTensor, rhs: CubeTensor, (x, y): (u32, u32)) -> CubeTensor {
    let lhs = untile(lhs);
    let rhs = into_contiguous(rhs);
    let (rows, depth, columns) = (
        lhs.meta.shape()[0],
        lhs.meta.shape()[1],
        rhs.meta.shape()[1],
    );
    let (row_stride, depth_stride) = (lhs.meta.strides()[0], lhs.meta.strides()[1]);
    let output = empty_device_contiguous_dtype(
        lhs.client.clone(),
        lhs.device.clone(),
        [rows, columns].into(),
        DType::F32,
    );
    let width = vector_width(columns);
    let vectors = columns / width;
    let cube_count = CubeCount::Static(x, y, 1);
    // Safety: every read is in bounds (rows are clamped to the last one, columns and depth are
    // the operands' own) and every write is checked against the output's rows and columns.
    unsafe {
        register_product_kernel::launch_unchecked(
            &output.client,
            cube_count,
            CubeDim::new_2d(WORKGROUP_X, WORKGROUP_Y),
            width,
            lhs.into_buffer_arg(),
            rhs.into_buffer_arg(),
            output.clone().into_buffer_arg(),
            rows,
            depth,
            vectors,
            row_stride,
            depth_stride,
        );
    }
    output
}

#[cube(launch_unchecked)]
fn register_product_kernel<N: Size>(
    lhs: &[f32],
    rhs: &[Vector<f32, N>],
    output: &mut [Vector<f32, N>],
    rows: usize,
    depth: usize,
    vectors: usize,
    row_stride: usize,
    depth_stride: usize,
) {
    let vector = ABSOLUTE_POS_X as usize;
    // 8: ROWS_PER_UNIT, unrolled below.
    let first_row = ABSOLUTE_POS_Y as usize * 8;
    if vector >= vectors || first_row >= rows {
        terminate!();
    }
    let mut sums = Array::<Vector<f32, N>>::new(8usize);
    let mut starts = Array::<usize>::new(8usize);
    #[unroll]
    for i in 0..8usize {
        sums[i] = Vector::new(0.0f32);
        // Rows past the end read the last row again; their sums are not written.
        let mut row = first_row + i;
        if row >= rows {
            row = rows - 1;
        }
        starts[i] = row * row_stride;
    }
    for k in 0..depth {
        let b = rhs[k * vectors + vector];
        let offset = k * depth_stride;
        #[unroll]
        for i in 0..8usize {
            sums[i] = fma(Vector::new(lhs[starts[i] + offset]), b, sums[i]);
        }
    }
    #[unroll]
    for i in 0..8usize {
        if first_row + i < rows {
            output[(first_row + i) * vectors + vector] = sums[i];
        }
    }
}
