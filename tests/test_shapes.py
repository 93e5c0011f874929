"""Shape tracing on the meta device, the conv size formula, FLOPs, and block_output_shape."""
import resource

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings, strategies as st
from torch import nn
from torch.nn.modules.utils import _pair

from d2lresnet import (Residual, block_output_shape, conv_output_size, count_flops, format_trace,
                       resnet18, resnet50, trace_leaves, trace_shapes)

# The notes' printout for torch.rand(size=(1, 1, 224, 224)), as REFERENCE.md gives it.
NOTES_TRACE = """\
Sequential output shape:\t torch.Size([1, 64, 56, 56])
Sequential output shape:\t torch.Size([1, 64, 56, 56])
Sequential output shape:\t torch.Size([1, 128, 28, 28])
Sequential output shape:\t torch.Size([1, 256, 14, 14])
Sequential output shape:\t torch.Size([1, 512, 7, 7])
AdaptiveAvgPool2d output shape:\t torch.Size([1, 512, 1, 1])
Flatten output shape:\t torch.Size([1, 512])
Linear output shape:\t torch.Size([1, 10])"""


def test_trace_matches_the_notes_printout():
    got = format_trace(trace_shapes(resnet18(), (1, 1, 224, 224)))
    assert got.splitlines() == NOTES_TRACE.splitlines()


def test_huge_input_is_traced_on_the_meta_device():
    net = resnet50()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    rows = trace_shapes(net, (1, 1, 4096, 4096))
    # A real forward pass would hold GiBs (b2's output alone is 256 x 1024 x 1024 floats):
    # memory, not time, tells the meta device from a real run on any machine.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 256 * 1024
    assert rows[1].shape == (1, 256, 1024, 1024)
    assert rows[-1].shape == (1, 10)
    assert next(net.parameters()).device.type == "cpu"  # the caller's network is left alone


@pytest.mark.parametrize("builder", [resnet18, resnet50])
@pytest.mark.parametrize("size", [57, 64])
def test_leaf_shapes_follow_the_conv_formula(builder, size):
    rows = [r for r in trace_leaves(builder(), (1, 1, size, size))
            if isinstance(r.module, (nn.Conv2d, nn.MaxPool2d))]
    assert sum(isinstance(r.module, nn.MaxPool2d) for r in rows) == 1
    assert len(rows) > 20
    for r in rows:
        k, s, p = (_pair(getattr(r.module, a)) for a in ("kernel_size", "stride", "padding"))
        expected = tuple(conv_output_size(r.input_shape[2 + i], k[i], s[i], p[i])
                         for i in range(2))
        assert tuple(r.output_shape[2:]) == expected, r.path


def test_training_step_flops_match_the_reference():
    flops = count_flops(resnet18(), (1, 1, 96, 96), backward=True)
    assert flops == pytest.approx(1.90e9, rel=0.01)


@pytest.mark.parametrize("kwargs, shape", [
    (dict(input_channels=3, num_channels=3), (3, 6, 6)),
    (dict(input_channels=3, num_channels=6, use_1x1conv=True, strides=2), (6, 3, 3)),
])
def test_block_output_shape_notes_cases(kwargs, shape):
    result = block_output_shape(**kwargs, height=6, width=6)
    assert result.shape == shape and result.reason == ""


@pytest.mark.parametrize("kwargs", [
    dict(input_channels=3, num_channels=6),
    dict(input_channels=3, num_channels=3, strides=2),
])
def test_block_output_shape_explains_why_not(kwargs):
    result = block_output_shape(**kwargs)
    assert result.shape is None
    assert "use_1x1conv" in result.reason and len(result.reason.split()) > 5


@pytest.mark.parametrize("name", ["input_channels", "num_channels", "strides", "height", "width"])
@pytest.mark.parametrize("bad", [0, -2])
def test_block_output_shape_invalid_sizes_give_a_reason(name, bad):
    kwargs = dict(input_channels=3, num_channels=3, strides=1, height=6, width=6)
    result = block_output_shape(**{**kwargs, name: bad})
    assert result.shape is None and name in result.reason


@settings(max_examples=150, deadline=None)
@given(input_channels=st.integers(1, 6), num_channels=st.integers(1, 6),
       strides=st.integers(1, 3), use_1x1conv=st.booleans(),
       height=st.integers(1, 9), width=st.integers(1, 9))
# The edge cases: a stride on a 1x1 input keeps it 1x1, so the identity shortcut still adds;
# on a 1x4 input the width shrinks and it cannot.
@example(input_channels=3, num_channels=3, strides=2, use_1x1conv=False, height=1, width=1)
@example(input_channels=3, num_channels=3, strides=2, use_1x1conv=False, height=1, width=4)
def test_block_output_shape_agrees_with_the_real_block(input_channels, num_channels, strides,
                                                       use_1x1conv, height, width):
    result = block_output_shape(input_channels, num_channels, strides=strides,
                                use_1x1conv=use_1x1conv, height=height, width=width)
    X = torch.rand(2, input_channels, height, width)
    make = lambda: Residual(input_channels, num_channels, use_1x1conv=use_1x1conv,
                            strides=strides).eval()
    with torch.no_grad():
        if result.shape is not None:
            assert make()(X).shape == (2, *result.shape)
        else:
            assert result.reason
            with pytest.raises(ValueError):
                make()(X)


@pytest.mark.parametrize("bad", ["no", "False", None, 2])
def test_block_output_shape_wants_a_real_bool_for_use_1x1conv(bad):
    result = block_output_shape(3, 6, strides=2, use_1x1conv=bad)
    assert result.shape is None and "use_1x1conv must be True or False" in result.reason


@pytest.mark.parametrize("args, words", [
    ((2, 7), r"^a 7x7 kernel does not fit in 2 pixels padded by 0 on each side$"),
    ((5, 3, 0), r"^stride must be a whole number of at least 1, got 0$"),
    ((5, 3, 1, -1), r"^padding must be a whole number of at least 0, got -1$"),
    ((5.0, 3), r"^size must be a whole number"),
])
def test_conv_output_size_refuses_what_no_conv_can_do(args, words):
    with pytest.raises(ValueError, match=words):
        conv_output_size(*args)


def test_conv_output_size_at_the_edge_and_with_numpy_integers():
    assert conv_output_size(1, 3, stride=2, padding=1) == 1  # the kernel just fits
    assert conv_output_size(7, 7) == 1
    assert conv_output_size(np.int64(224), np.int32(7), np.int64(2), np.int64(3)) == 112
    # PyTorch agrees where the formula says the kernel does not fit.
    with pytest.raises(RuntimeError):
        nn.Conv2d(1, 1, 7)(torch.rand(1, 1, 2, 2))


def test_block_output_shape_takes_numpy_integers_as_residual_does():
    args = np.int64(3), np.int64(6)
    kwargs = dict(strides=np.int64(2), use_1x1conv=np.bool_(True), height=np.int64(6),
                  width=np.int32(6))
    assert block_output_shape(*args, **kwargs).shape == (6, 3, 3)
    assert Residual(*args, kwargs["use_1x1conv"], kwargs["strides"])(
        torch.rand(2, 3, 6, 6)).shape == (2, 6, 3, 3)


def test_torchs_flop_counter_counts_each_stage_as_its_convolutions():
    # Notebooks 03 and 04 quote count_flops per stage and explain it as 2 k^2 c_in c_out h w
    # summed over the stage's convolutions: b3, b4 and b5 the same, b2 one eighth more.
    net = resnet18()
    by_formula = []
    for stage, received in zip(net[1:5], trace_shapes(net, (1, 1, 224, 224))[:4]):
        convs = [leaf for leaf in trace_leaves(stage, received.shape)
                 if isinstance(leaf.module, nn.Conv2d)]
        flops = sum(2 * leaf.module.kernel_size[0] * leaf.module.kernel_size[1]
                    * leaf.module.in_channels * leaf.output_shape.numel() for leaf in convs)
        assert count_flops(stage, received.shape) == flops
        by_formula.append(flops)
    b2, b3, b4, b5 = by_formula
    assert b3 == b4 == b5 and 8 * b2 == 9 * b3
