//! The head's matrix product (`kindling::model::product`) on the WebGPU device, where it runs our
//! own kernel, against burn's matmul on the CPU device: values and both gradients, on shapes
//! that exercise the kernel's edges (rows not a multiple of its 8-row blocks, a transposed left
//! operand read through its strides, widths read 2 and 1 wide).

use burn::tensor::{Device, Tensor, TensorData};
use kindling::device::{DevicePreference, acquire};
use kindling::model::product::matmul;
use wasm_bindgen_test::*;

fn values(len: usize, seed: f32) -> Vec<f32> {
    (0..len)
        .map(|i| (i as f32 * 0.37 + seed).sin() * 2.0)
        .collect()
}

async fn read(t: Tensor<2>) -> Vec<f32> {
    t.into_data_async()
        .await
        .unwrap()
        .try_to_vec::<f32>()
        .unwrap()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
            "{what}[{i}]: {g} on WebGPU, {w} on the CPU"
        );
    }
}

/// `a · b` (with `a` given transposed when `transposed`), its gradients against a weighted sum,
/// computed with `product` on `device`: the product, d/da, d/db.
async fn product_and_gradients(
    device: &Device,
    (rows, depth, columns): (usize, usize, usize),
    transposed: bool,
    product: fn(Tensor<2>, Tensor<2>) -> Tensor<2>,
) -> [Vec<f32>; 3] {
    let a = match transposed {
        true => Tensor::<2>::from_data(
            TensorData::new(values(rows * depth, 0.1), [depth, rows]),
            device,
        ),
        false => Tensor::<2>::from_data(
            TensorData::new(values(rows * depth, 0.1), [rows, depth]),
            device,
        ),
    }
    .require_grad();
    let b = Tensor::<2>::from_data(
        TensorData::new(values(depth * columns, 0.7), [depth, columns]),
        device,
    )
    .require_grad();
    let weights = Tensor::<2>::from_data(
        TensorData::new(values(rows * columns, 1.3), [rows, columns]),
        device,
    );
    let lhs = if transposed {
        a.clone().transpose()
    } else {
        a.clone()
    };
    let out = product(lhs, b.clone());
    let grads = (out.clone() * weights).sum().backward();
    [
        read(out.inner()).await,
        read(a.grad(&grads).unwrap()).await,
        read(b.grad(&grads).unwrap()).await,
    ]
}

#[wasm_bindgen_test]
async fn the_head_product_on_webgpu_matches_burns_matmul_on_the_cpu() {
    let gpu = acquire(DevicePreference::Webgpu, None).await.unwrap();
    assert_eq!(gpu.info.kind, "webgpu");
    let gpu = gpu.device.autodiff();
    let cpu = Device::flex().autodiff();
    for (shape, transposed) in [
        ((70, 37, 24), false),    // 70 rows: the last 8-row block is partial
        ((70, 37, 24), true),     // the left operand a transposed view
        ((64, 1280, 256), false), // the benchmark head's forward product
        ((9, 5, 10), false),      // 10 columns: not a multiple of 4, burn's matmul
    ] {
        let ours = product_and_gradients(&gpu, shape, transposed, matmul).await;
        let burns = product_and_gradients(&cpu, shape, transposed, |a, b| a.matmul(b)).await;
        for (what, (o, b)) in ["product", "d/da", "d/db"]
            .iter()
            .zip(ours.iter().zip(&burns))
        {
            assert_close(o, b, &format!("{what} {shape:?} transposed {transposed}"));
        }
    }
}
