"""ONNX export of a depth model's inference branch, with a parity check.

The exported graph is :class:`DepthNetwork`: encoder, neck and head of an
mmseg ``DepthEstimator`` from the normalised image to the finest depth map
in metres, resized to the input and clamped to the head's depth range
(exactly ``DepthEstimator.encode_decode``, the ``whole`` inference mode).
Image loading, resizing and normalisation stay outside the graph, as in
MMDeploy; the mean, std and channel order are stored in the model's
metadata (``metadata_props``).  Test-time augmentation (``slide_flip``) is
not part of the graph.

The export goes through ``torch.export`` (``torch.onnx.export(...,
dynamo=True)``), which writes ``scaled_dot_product_attention`` (the SAM) as
ONNX ``MatMul``/``Softmax`` nodes from opset 17 on.
"""
import importlib
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from ..utils.precision import autocast
from ..utils.timing import median, time_interleaved

DEFAULT_OPSET = 18
INPUT_NAME = 'inputs'
OUTPUT_NAME = 'depth'


def import_deploy_package(name: str):
    """Import ``onnx``/``onnxruntime``, or say which extra installs it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(f'{name} is not installed: pip install -e .[deploy] '
                          '(or -r requirements/deploy.txt)') from error


class DepthNetwork(nn.Module):
    """A ``DepthEstimator``'s inference branch as one tensor function.

    Args:
        estimator (nn.Module): An mmseg ``DepthEstimator`` in eval mode.
    """

    def __init__(self, estimator: nn.Module):
        super().__init__()
        self.estimator = estimator

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Depth of normalised images.

        Args:
            inputs (Tensor): (N, 3, H, W), float32, channels in the order
                and normalisation of the model's data preprocessor.

        Returns:
            Tensor: Depth in metres, (N, 1, H, W), clamped to the head's
            ``[min_depth, max_depth]``.
        """
        # The head reads the output size from the first meta only; one meta
        # keeps the batch size symbolic in a dynamic export.
        return self.estimator.encode_decode(
            inputs, [dict(img_shape=inputs.shape[2:])])


def preprocessing_metadata(estimator: nn.Module) -> Dict[str, str]:
    """What the exported graph expects and returns, as ONNX metadata."""
    preprocessor = estimator.data_preprocessor
    return dict(
        input=f'{INPUT_NAME}: float32 (N, 3, H, W), (image - mean) / std',
        channel_order='RGB' if preprocessor.channel_conversion else 'BGR',
        mean=json.dumps(preprocessor.mean.flatten().tolist()),
        std=json.dumps(preprocessor.std.flatten().tolist()),
        output=f'{OUTPUT_NAME}: float32 (N, 1, H, W), metres')


def sample_input(estimator: nn.Module, shape: Sequence[int],
                 batch: int = 1, seed: int = 0) -> torch.Tensor:
    """A random uint8 image batch, normalised as the preprocessor does.

    Returns:
        Tensor: (batch, 3, H, W), float32.
    """
    generator = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 256, (batch, 3, *shape), generator=generator)
    preprocessor = estimator.data_preprocessor
    return (image.float() - preprocessor.mean.cpu()) / preprocessor.std.cpu()


def export_onnx(network: DepthNetwork,
                inputs: torch.Tensor,
                output_file: str,
                dynamic: bool = False,
                opset: int = DEFAULT_OPSET) -> List[str]:
    """Export ``network`` traced on ``inputs`` to one ``.onnx`` file.

    Args:
        network: The model to export, in eval mode.
        inputs: Example input (N, 3, H, W).
        output_file: Path of the ONNX file (weights inside it, so < 2 GB).
        dynamic: Make batch, height and width dynamic axes; otherwise the
            graph is fixed to the shape of ``inputs``.
        opset: ONNX opset version (>= 17).

    Returns:
        list[str]: The graph's operator types, sorted.
    """
    if opset < 17:
        raise ValueError(f'opset must be >= 17, got {opset}')
    import_deploy_package('onnxscript')  # torch.onnx's dynamo exporter
    dynamic_shapes = None
    if dynamic:
        # torch.export specialises dimensions of size 1: trace a batch of 2.
        if inputs.shape[0] == 1:
            inputs = torch.cat([inputs, inputs])
        dim = torch.export.Dim
        dynamic_shapes = {
            'inputs': {0: dim('batch', max=1024), 2: dim.AUTO, 3: dim.AUTO}
        }
    network.eval()
    with torch.no_grad():
        program = torch.onnx.export(
            network, (inputs, ),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            dynamo=True,
            dynamic_shapes=dynamic_shapes)
    metadata = preprocessing_metadata(network.estimator)
    program.model.metadata_props.update(metadata)
    program.save(output_file, external_data=False)
    return sorted({node.op_type for node in program.model.graph.all_nodes()})


def check_onnx(output_file: str) -> None:
    """Run ``onnx.checker`` (full check, shape inference) on the file.

    Raises:
        onnx.checker.ValidationError: The model is invalid.
    """
    import_deploy_package('onnx').checker.check_model(output_file,
                                                      full_check=True)


def onnxruntime_session(output_file: str, threads: int = 0):
    """A CPU ONNX Runtime session; ``threads`` intra-op threads (0: ORT's
    default)."""
    ort = import_deploy_package('onnxruntime')
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # No second, pre-packed copy of the weights (SENet-154: 1.1 GB).
    options.add_session_config_entry('session.disable_prepacking', '1')
    return ort.InferenceSession(
        output_file, options, providers=['CPUExecutionProvider'])


@dataclass
class Parity:
    """Difference of ONNX Runtime's depth from PyTorch's (metres)."""
    max_abs: float
    max_rel: float  # max |onnx - torch| / |torch| over pixels


def compare_with_pytorch(network: DepthNetwork, session,
                         inputs: torch.Tensor) -> Parity:
    """Run both on ``inputs`` and compare their depth maps."""
    with torch.no_grad():
        expected = network(inputs).float().numpy()
    actual = session.run([OUTPUT_NAME], {INPUT_NAME: inputs.numpy()})[0]
    if actual.shape != expected.shape:
        raise AssertionError(f'ONNX output shape {actual.shape} differs '
                             f'from PyTorch {expected.shape}')
    diff = np.abs(actual.astype(np.float64) - expected)
    return Parity(
        max_abs=float(diff.max()),
        max_rel=float((diff / np.abs(expected)).max()))


def compare_latency(network: DepthNetwork, session, inputs: torch.Tensor,
                    repeat: int,
                    dtype: Optional[torch.dtype]) -> Dict[str, float]:
    """Median milliseconds per call: ONNX Runtime, PyTorch fp32 and, unless
    ``dtype`` (from :func:`~mrpan_mm.utils.precision.autocast_dtype`) is
    None, PyTorch under autocast to ``dtype`` (``torch_bfloat16``, ...).

    The runtimes are interleaved after one warm-up call each (see
    :func:`~mrpan_mm.utils.timing.time_interleaved`).
    """
    feed = {INPUT_NAME: inputs.numpy()}

    def torch_step(cast: Optional[torch.dtype]):
        def step():
            with torch.no_grad(), autocast('cpu', cast):
                network(inputs)
        return step

    steps = dict(onnxruntime=lambda: session.run([OUTPUT_NAME], feed),
                 torch_fp32=torch_step(None))
    if dtype is not None:
        steps['torch_' + str(dtype).split('.')[-1]] = torch_step(dtype)
    times = time_interleaved(list(steps.values()), repeat)
    labels = tuple(steps)
    return {label: 1000 * median(t) for label, t in zip(labels, times)}
