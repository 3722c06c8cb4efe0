//! The head's matrix product, `[m × k] · [k × n]`. On a GPU device (burn's CubeCL backend: WebGPU
//! in the browser, Vulkan or CUDA natively) it runs our own kernel ([`kernel`]) where burn's
//! general-purpose matmul is slow for the head's shapes: on an adapter without cooperative
//! matrices burn 0.22 falls back to a kernel that computed the head's forward product at 0.46×
//! TF.js's speed on the same adapter (README, Performance, job 8), and no setting of burn picks
//! another at run time. On the CPU device (burn flex) it is burn's matmul. The backward pass uses
//! the same product on transposed operands, so both of a head's large products per step (the
//! forward one and the weight gradient) run on it.
//!
//! It reaches the backends through burn's backend extensions: one trait, implemented per backend
//! (flex here, CubeCL in [`kernel`]), by burn's macro for the fusion backend (the kernel is queued
//! as an opaque operation), and here for autodiff with its backward pass.

#[cfg(any(feature = "gpu", feature = "cuda"))]
mod kernel;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, binary};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;

/// `lhs · rhs` for two matrices, on whichever device they are.
pub fn matmul(lhs: Tensor<2>, rhs: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as HeadProduct>::head_product(
        lhs.into_dispatch(),
        rhs.into_dispatch(),
    ))
}

#[cfg(feature = "fusion")]
/// The shape of `lhs · rhs`, for the fusion backend, which queues the product before it runs.
fn product_shape(lhs: &burn::tensor::Shape, rhs: &burn::tensor::Shape) -> burn::tensor::Shape {
    [lhs[0], rhs[1]].into()
}

#[backend_extension(
    Autodiff,
    Flex,
    Cube: cfg(any(feature = "gpu", feature = "cuda")),
    Fusion: cfg(feature = "fusion")
)]
pub trait HeadProduct: Backend {
    /// `lhs · rhs`, both two-dimensional.
    #[fusion(dtype = lhs, shape = product_shape(lhs, rhs))]
    fn head_product(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl HeadProduct for Flex {
    fn head_product(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_matmul(lhs, rhs)
    }
}

/// `d(lhs · rhs)`: `grad · rhsᵀ` for the left operand and `lhsᵀ · grad` for the right one, each
/// through the same product.
#[derive(Debug)]
struct ProductBackward;

impl<B: Backend + HeadProduct> Backward<B, 2> for ProductBackward {
    /// Both operands, kept for the backward pass (one of them is enough when only the other is
    /// tracked, but keeping both leaves no case in which a needed operand is missing).
    type State = (NodeId, NodeId);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let (lhs, rhs) = ops.state;
        let lhs: FloatTensor<B> = checkpointer.retrieve_node_output(lhs);
        let rhs: FloatTensor<B> = checkpointer.retrieve_node_output(rhs);
        binary::<B, _, _>(
            ops.parents,
            ops.node,
            grads,
            |grad| B::head_product(grad, B::float_transpose(rhs)),
            |grad| B::head_product(B::float_transpose(lhs), grad),
        );
    }
}

impl<B: Backend + HeadProduct, C: CheckpointStrategy> HeadProduct for Autodiff<B, C> {
    fn head_product(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        match ProductBackward
            .prepare::<C>([lhs.node(), rhs.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&lhs), prep.checkpoint(&rhs));
                let output = B::head_product(lhs.into_primitive(), rhs.into_primitive());
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::head_product(lhs.into_primitive(), rhs.into_primitive()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn matrix(rows: usize, cols: usize, seed: f32, device: &Device) -> Tensor<2> {
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| (i as f32 * 0.37 + seed).sin() * 2.0)
            .collect();
        Tensor::from_data(TensorData::new(values, [rows, cols]), device)
    }

    fn assert_close(got: Tensor<2>, want: Tensor<2>) {
        let got = got.into_data().try_to_vec::<f32>().unwrap_or_default();
        let want = want.into_data().try_to_vec::<f32>().unwrap_or_default();
        assert_eq!(got.len(), want.len());
        assert!(!got.is_empty());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }

    /// Values and both gradients equal burn's matmul's on the CPU device (the GPU kernel is
    /// checked the same way in the browser: tests/web).
    #[test]
    fn product_and_gradients_match_burns_matmul() {
        let device = Device::flex().autodiff();
        let lhs = matrix(5, 7, 0.1, &device).require_grad();
        let rhs = matrix(7, 12, 0.7, &device).require_grad();
        let weights = matrix(5, 12, 1.3, &device);

        let ours = matmul(lhs.clone(), rhs.clone());
        let grads = (ours.clone() * weights.clone()).sum().backward();
        let (ours_lhs, ours_rhs) = (lhs.grad(&grads), rhs.grad(&grads));

        let lhs2 = lhs.clone().detach().require_grad();
        let rhs2 = rhs.clone().detach().require_grad();
        let burns = lhs2.clone().matmul(rhs2.clone());
        let grads = (burns.clone() * weights).sum().backward();

        assert_close(ours.inner(), burns.inner());
        match (ours_lhs, lhs2.grad(&grads), ours_rhs, rhs2.grad(&grads)) {
            (Some(a), Some(b), Some(c), Some(d)) => {
                assert_close(a, b);
                assert_close(c, d);
            }
            _ => panic!("a gradient is missing"),
        }
    }
}
